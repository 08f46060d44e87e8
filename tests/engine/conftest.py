"""Fixtures of the engine's tests."""

import pytest


@pytest.fixture(autouse=True)
def primitives_left_as_found():
    """Put back the engine's primitive tables after a test that registers primitives."""
    from ad_engine import rules

    saved = dict(rules.PRIMITIVES), dict(rules.NUMPY_FUNCTIONS)
    yield
    for table, before in zip((rules.PRIMITIVES, rules.NUMPY_FUNCTIONS), saved):
        table.clear()
        table.update(before)
