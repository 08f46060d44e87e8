"""Every test of the engine leaves no derivative call open: each entry point ends the tags it
made live (rules.live_tag), also when the function it differentiates raises."""

import pytest

from ad_engine.rules import LIVE


@pytest.fixture(autouse=True)
def no_derivative_call_left_open():
    yield
    assert LIVE == [], f"derivative calls left open after the test: tags {LIVE}"
