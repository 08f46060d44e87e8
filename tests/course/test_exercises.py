"""The exercise checkers (ad_course/checkers/): every right variant in
tests/course/exercise_cases.py is accepted, every wrong one rejected with the hint
that names its mistake, and no message is a raw traceback."""

import pytest
from exercise_cases import CASES

RIGHT = [(name, label, thunk) for name, (right, _) in CASES.items() for label, thunk in right]
WRONG = [(name, label, thunk, hint) for name, (_, wrong) in CASES.items()
         for label, thunk, hint in wrong]


def test_every_checker_has_three_right_and_four_wrong_variants():
    for name, (right, wrong) in CASES.items():
        assert len(right) >= 3 and len(wrong) >= 4, name


@pytest.mark.parametrize("name, label, thunk", RIGHT, ids=[f"{n}: {lab}" for n, lab, _ in RIGHT])
def test_right_answers_are_accepted(name, label, thunk):
    verdict = thunk()
    assert verdict.ok, verdict.message


@pytest.mark.parametrize("name, label, thunk, hint", WRONG,
                         ids=[f"{n}: {lab}" for n, lab, _, _ in WRONG])
def test_wrong_answers_are_rejected_with_their_hint(name, label, thunk, hint):
    verdict = thunk()
    assert not verdict.ok, f"{label} passed: {verdict.message}"
    assert hint in verdict.message, verdict.message
    assert "Traceback" not in verdict.message and repr(verdict).startswith("not yet: ")


def test_an_error_in_student_code_names_its_type_message_and_line():
    from exercise_cases import BACKWARD_WRONG, TANGENT_WRONG
    raising = dict((label, thunk) for label, thunk, _ in BACKWARD_WRONG + TANGENT_WRONG)
    message = raising["raises KeyError"]().message
    assert "raised KeyError" in message and "at line" in message and "return {}[y]" in message
    message = raising["tanh: error in the rule"]().message
    assert "NameError" in message and "undefined_name" in message and "at line" in message


def test_a_slip_is_named_only_when_it_explains_the_answer_on_the_other_graphs_too():
    from exercise_cases import PATHS_WRONG
    cases = dict((label, thunk) for label, thunk, _ in PATHS_WRONG)
    coincidence = cases["2^(nodes // 5): the breadth-first slip's count on one graph by coincidence"]
    assert coincidence().message.endswith("you count 2 paths, there are 6")
    assert "reversed topological order" in cases["breadth first, unsorted"]().message
