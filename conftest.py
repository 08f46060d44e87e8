"""Shared pytest setup for tests/ and notebooks/: the warnings policy per kind of
test, the order in which a pytest-xdist run starts its files, and hypothesis's
profiles.  It sits at the repository root so that it also applies when pytest is
given notebooks alone (tools/ and the root are on the import path by
pyproject.toml's ``pythonpath``).

pyproject.toml turns every warning into an error (``filterwarnings = ["error"]``),
which is what the helpers' unit tests in tests/ want.  Notebook cells run by
nbval execute in a separate kernel, so warnings raised there reach pytest only
as text in the cell's output, which nbval compares; what warns inside the
pytest process during an nbval item comes from the plugin stack (jupyter_client,
pyzmq, nbval), so those items only report DeprecationWarnings instead of failing.

``make test`` runs on every CPU core with pytest-xdist's ``--dist loadfile``
(pyproject.toml's addopts, so any ``pytest -n N`` does the same): one file is
one unit of work, run in order by one worker, so a notebook's cells share one
kernel top to bottom and a test module's fixtures (the slide decks, the
JupyterLab server) are built once.

Property tests (hypothesis) are derandomized: the examples follow from the
test's code, so ``make test`` gives the same verdict on every machine and in
every checkout.  ``make test-explore`` draws new random examples on purpose
(``--hypothesis-profile explore``); an example it finds that fails becomes an
``@example`` of its test.
"""

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile("default")

# Files that drive a browser or run whole notebooks, minutes in all, longest
# first.  In a pytest-xdist run they start first (with --no-loadscope-reorder
# the files are handed out in this order), so that the many short files fill
# the gaps at the end instead of one worker finishing a long file alone.
LONG_RUNNING = ["tests/test_slides_browser.py", "tests/test_rerun.py", "tests/test_tracks.py"]


def start_order(item) -> int:
    module = item.nodeid.split("::")[0]
    return LONG_RUNNING.index(module) if module in LONG_RUNNING else len(LONG_RUNNING)


def pytest_collection_modifyitems(config, items):
    items.sort(key=start_order)  # stable: each file's tests keep their order
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.filterwarnings("default::DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("default::PendingDeprecationWarning"))


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright driver of this pytest process (or xdist worker), for every test
    that drives Chromium: the sync API keeps an event loop running while a driver is
    open, so a second ``sync_playwright()`` in the same process refuses to start."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip(f"browser tests skipped: {chromium} not found "
                    "(apt-get install -y chromium fonts-wqy-microhei poppler-utils)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(autouse=True)
def primitives_left_as_found():
    """Some tests register primitives as a student would (``ad.defprimitive`` in an
    exercise); the engine's tables are put back afterwards, so the tests that list every
    registered primitive see the engine's own, whatever ran before them."""
    from ad_engine import rules

    saved = dict(rules.PRIMITIVES), dict(rules.NUMPY_FUNCTIONS)
    yield
    for table, before in zip((rules.PRIMITIVES, rules.NUMPY_FUNCTIONS), saved):
        table.clear()
        table.update(before)
