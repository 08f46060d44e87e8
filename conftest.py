"""Shared pytest setup for tests/ and notebooks/: the warnings policy per kind of
test, and which tests share a pytest-xdist worker.  It sits at the repository
root so that it also applies when pytest is given notebooks alone (tools/ and
the root are on the import path by pyproject.toml's ``pythonpath``).

pyproject.toml turns every warning into an error (``filterwarnings = ["error"]``),
which is what the helpers' unit tests in tests/ want.  Notebook cells run by
nbval execute in a separate kernel, so warnings raised there reach pytest only
as text in the cell's output, which nbval compares; what warns inside the
pytest process during an nbval item comes from the plugin stack (jupyter_client,
pyzmq, nbval), so those items only report DeprecationWarnings instead of failing.

``make test`` runs on every CPU core with pytest-xdist (``-n auto --dist
loadscope``); ``work_unit`` below says which tests must share a worker.  The
tests run in any order (pytest-randomly, pytest-random-order), except that a
notebook's cells always run together and top to bottom (``notebooks_in_order``).
"""

import pytest


def module_of(nodeid: str) -> str:
    """The file part of a test id ("tests/test_x.py", "notebooks/05_x.ipynb")."""
    return nodeid.split("::")[0]


def work_unit(nodeid: str) -> str:
    """The unit of tests that pytest-xdist gives to one worker, to run in order.

    A notebook's cells (nbval) share one kernel, so a notebook is one unit; so is
    a test module, whose module- and session-scoped fixtures (the slide decks,
    the JupyterLab server) are then built once.  Each re-run check in
    tests/test_rerun.py runs a whole notebook four times in its own kernel: the
    longest tests, one unit each so that they spread over the workers.
    """
    module = module_of(nodeid)
    return nodeid if module == "tests/test_rerun.py" else module


# pytest-xdist modes that would hand one notebook's cells to several workers
# (plain ``pytest -n 4`` means ``--dist load``); they get the units of work_unit
SPLITTING_MODES = ("load", "loadscope", "loadgroup", "worksteal")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's loadscope scheduler with the units of ``work_unit``, for every mode
    that distributes tests (``-n N`` alone included); ``--dist each``/``loadfile``
    never split a notebook and keep their own."""
    if config.getoption("dist") not in SPLITTING_MODES:
        return None
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # keep the order of pytest_collection_modifyitems

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return CourseScheduling(config, log)


# Tests that drive a browser or run whole notebooks, minutes in all, longest
# first.  In a pytest-xdist run they start first, so that the many short tests
# fill the gaps at the end instead of one worker waiting for a long unit.
LONG_RUNNING = ["tests/test_slides_browser.py", "tests/test_rerun.py", "tests/test_tracks.py"]


def start_order(item) -> int:
    module = module_of(item.nodeid)
    return LONG_RUNNING.index(module) if module in LONG_RUNNING else len(LONG_RUNNING)


def notebooks_in_order(items: list) -> list:
    """The items with each notebook's cells together and top to bottom, where its
    first cell was; every other test keeps its place in the order given.

    nbval runs a notebook's cells in one kernel, each on the state the cells
    above it left: shuffled by a plugin (pytest-randomly, pytest-random-order)
    they would fail for no fault of the notebook.
    """
    cells: dict = {}
    for item in items:
        if item.path.suffix == ".ipynb":
            cells.setdefault(item.path, []).append(item)
    ordered = []
    for item in items:
        if item.path.suffix != ".ipynb":
            ordered.append(item)
        elif item.path in cells:
            ordered += sorted(cells.pop(item.path), key=lambda cell: cell.cell_num)
    return ordered


@pytest.hookimpl(trylast=True)  # after plugins that reorder the tests
def pytest_collection_modifyitems(config, items):
    if hasattr(config, "workerinput"):  # inside a pytest-xdist worker
        items.sort(key=start_order)
    items[:] = notebooks_in_order(items)
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.filterwarnings("default::DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("default::PendingDeprecationWarning"))
