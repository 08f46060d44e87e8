"""Shared pytest setup: tools/ on the import path, warnings policy per kind of test.

pyproject.toml turns every warning into an error (``filterwarnings = ["error"]``),
which is what the helpers' unit tests in tests/ want.  Notebook cells run by
nbval execute in a separate kernel, so warnings raised there reach pytest only
as text in the cell's output, which nbval compares; what warns inside the
pytest process during an nbval item comes from the plugin stack (jupyter_client,
pyzmq, nbval), so those items only report DeprecationWarnings instead of failing.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tools"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.filterwarnings("default::DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("default::PendingDeprecationWarning"))
