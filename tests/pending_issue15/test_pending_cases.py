"""The cases of tests/engine/numpy_cases.py marked pending there, in the modes they are
pending in (the same checks as tests/engine/test_systematic.py)."""

import pytest

from numpy_cases import CASES, MODES, check_case, is_pending

PENDING = [(case, mode) for case in CASES for mode in MODES if is_pending(case, mode)]


@pytest.mark.parametrize("case, mode", PENDING, ids=[f"{c.name}-{m}" for c, m in PENDING])
def test_pending_case(case, mode):
    check_case(case, mode)
