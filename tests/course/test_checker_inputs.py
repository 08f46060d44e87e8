"""The exercise checkers on answers in the forms students pass them (numpy scalars,
1-element arrays, float32, complex, Variables that leaked out) and on arguments that
do not fit: a verdict with a message every time, never an exception from inside the
checker (found by probing the checkers from outside)."""

import numpy as np
import pytest
from exercise_cases import CONTEXT, LAYERS, by_formula

import autodiff_helpers as ad

EPS = float(np.finfo(float).eps)
H_STAR = np.sqrt(2 * EPS)


@pytest.mark.parametrize("call, hint", [
    (lambda: ad.check_answer("01-1", 0.15, loss=None), "raised TypeError"),
    (lambda: ad.check_answer("01-1", 0.15, loss=lambda theta: theta), "raised TypeError"),
    (lambda: ad.check_answer("08-1", 3, params=None), "raised TypeError"),
    (lambda: ad.check_layer_gradient(LAYERS[0][0], by_formula(*LAYERS[0]), *LAYERS[0][1],
                                     LAYERS[0][2]), "do not fit together"),
    (lambda: ad.check_layer_gradient(by_formula(*LAYERS[0]), LAYERS[0][0], *LAYERS[0][1],
                                     LAYERS[0][2] + 0.5), "whole numbers"),
])
def test_arguments_that_do_not_fit_give_a_verdict(call, hint):
    verdict = call()
    assert not verdict.ok and hint in verdict.message, verdict.message


def test_layer_gradient_takes_variables_and_float_labels():
    X, params, labels = LAYERS[0]
    answer = by_formula(X, params, labels)
    assert ad.check_layer_gradient(answer, X, *(ad.Variable(p) for p in params), labels).ok
    assert ad.check_layer_gradient(ad.Variable(answer), X, *params, labels.astype(float)).ok


@pytest.mark.parametrize("h_star, h_data", [
    (np.array([H_STAR]), None), ([H_STAR], None), (complex(H_STAR), None),
    (np.float32(H_STAR), np.float32(1e-8)), (H_STAR, np.array([1e-8])),
])
def test_optimal_step_takes_a_number_in_any_form(h_star, h_data):
    verdict = ad.check_optimal_step(h_star, h_data)
    assert verdict.ok, verdict.message


def test_a_complex_h_star_with_an_imaginary_part_is_refused():
    verdict = ad.check_optimal_step(H_STAR + 1e-9j)
    assert not verdict.ok and "complex" in verdict.message, verdict.message


def test_float32_fractions_are_refused_where_the_check_compares_more_digits():
    verdict = ad.check_answer("04-3", np.float32(np.pi / 4))
    assert not verdict.ok and "float32" in verdict.message, verdict.message
    assert ad.check_answer("01-2", np.float32(5)).ok  # a whole number is exact in float32
    bound = ad.QUESTIONS["01-1"].reference(**CONTEXT["01-1"])  # checked to 2e-3: float32 will do
    assert ad.check_answer("01-1", np.float32(bound), **CONTEXT["01-1"]).ok


def test_leaked_variables_count_as_their_value_and_duals_name_their_parts():
    assert ad.check_answer("05-1", [ad.Variable(2.0), ad.Variable(1.0)]).ok
    verdict = ad.check_answer("04-2", ad.Dual(0.3, 1.3))
    assert not verdict.ok and ".dval" in verdict.message, verdict.message


def test_backward_accepts_gradients_held_in_one_element_arrays():
    from exercise_cases import Node, reachable, sweep_kahn

    def sweep(y):
        sweep_kahn(y)
        for node in reachable(y):
            node.grad = np.array([node.grad])

    assert ad.check_backward(sweep, Node).ok


def test_a_message_prints_two_different_numbers_differently():
    from ad_course.checkers.verdict import apart

    assert apart(-2.0 * (1 + 1e-9), -2.0) == ("-2.000000002", "-2")
    assert apart(0.1589181, 0.15891812) == ("0.1589181", "0.15891812")
    assert apart(1.5, 2.5) == ("1.5", "2.5")  # six digits where they suffice
    assert apart(1.0, 1.0 + 2**-52) == ("1", "1.0000000000000002")
