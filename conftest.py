"""Pytest setup for tests/ and notebooks/: warnings, the files' start order, hypothesis."""

from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import settings

untimed = settings(database=None, print_blob=True, deadline=None)  # a deadline is a timed assertion
settings.register_profile("default", untimed, derandomize=True)  # the same verdict on every machine
settings.register_profile("explore", untimed, derandomize=False)  # make test-explore: new examples
settings.load_profile("default")

# Files of minutes, longest first: xdist hands them out first (--no-loadscope-reorder)
LONG_RUNNING = ["tests/test_slides_browser.py", "tests/test_rerun.py", "tests/test_tracks.py"]


def pytest_collection_modifyitems(config, items):
    order = {module: number for number, module in enumerate(LONG_RUNNING)}
    items.sort(key=lambda item: order.get(item.nodeid.split("::")[0], len(order)))  # stable sort
    for item in items:  # an nbval item's warnings come from the plugin stack, not the cells
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.filterwarnings("default::DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("default::PendingDeprecationWarning"))


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """Debian's Chromium with a fresh profile and a 1280x720 window: the browser tests' one
    browser (a second sync_playwright() in a process refuses to start)."""
    import pdfs

    if not Path(pdfs.CHROMIUM).exists():
        pytest.skip(f"browser tests skipped: {pdfs.CHROMIUM} not found "
                    "(apt-get install -y chromium fonts-wqy-microhei poppler-utils)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver, driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium")), executable_path=pdfs.CHROMIUM,
            args=pdfs.BROWSER_ARGS, viewport={"width": 1280, "height": 720}) as context:
        yield context


@pytest.fixture(autouse=True)
def primitives_left_as_found():
    """Put back the engine's primitive tables after a test that registers primitives."""
    from ad_engine import rules

    with patch.dict(rules.PRIMITIVES), patch.dict(rules.NUMPY_FUNCTIONS):  # contents restored
        yield
