"""Shared pytest setup: the warnings policy per kind of test (tools/ and the
repository root are on the import path by pyproject.toml's ``pythonpath``).

pyproject.toml turns every warning into an error (``filterwarnings = ["error"]``),
which is what the helpers' unit tests in tests/ want.  Notebook cells run by
nbval execute in a separate kernel, so warnings raised there reach pytest only
as text in the cell's output, which nbval compares; what warns inside the
pytest process during an nbval item comes from the plugin stack (jupyter_client,
pyzmq, nbval), so those items only report DeprecationWarnings instead of failing.
"""

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.filterwarnings("default::DeprecationWarning"))
            item.add_marker(pytest.mark.filterwarnings("default::PendingDeprecationWarning"))
