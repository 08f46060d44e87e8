"""ad_course/symbolic.py: the logistic map, expression sizes, operation counts."""

import numpy as np
import pytest
import sympy as sp

import autodiff_helpers as ad

x = sp.Symbol("x")


def test_logistic_map_expressions_match_the_lecture():
    assert ad.logistic_map(x, 1) == x
    assert sp.expand(ad.logistic_map(x, 2) - 4 * x * (1 - x)) == 0
    assert sp.expand(ad.logistic_map(x, 3) - 16 * x * (1 - x) * (1 - 4 * x * (1 - x))) == 0


def test_logistic_map_on_floats_and_arrays():
    assert ad.logistic_map(0.25, 5) == 0.75  # 0.25 -> 0.75, a fixed point of r = 4
    values = ad.logistic_map(np.array([0.0, 0.5, 1.0]), 2)
    np.testing.assert_array_equal(values, [0.0, 1.0, 0.0])
    assert ad.logistic_map(0.5, 2, r=2) == 0.5


def test_logistic_map_rejects_n_below_one():
    with pytest.raises(ValueError, match="n must be at least 1"):
        ad.logistic_map(0.1, 0)


def test_operation_counts_by_hand():
    # l_2 = 4*x*(1 - x): two multiplications, one subtraction
    assert ad.operation_count(ad.logistic_map(x, 2)) == 3
    # l_3 = 16*x*(1 - x)*(1 - 4*x*(1 - x)): 3 mul + 1 sub, and 1 sub + 2 mul + 1 sub inside
    assert ad.operation_count(ad.logistic_map(x, 3)) == 8
    # d l_2/dx = 4 - 8*x: one multiplication, one subtraction
    assert ad.operation_count(sp.diff(ad.logistic_map(x, 2), x)) == 2
    assert ad.operation_count(x) == 0


def test_expression_tree_of_l_n_doubles():
    # l_{n+1} contains l_n twice: ops(l_{n+1}) = 2 ops(l_n) + 2 (one mul and one sub more)
    counts = [ad.operation_count(ad.logistic_map(x, n)) for n in range(2, 8)]
    assert all(b == 2 * a + 2 for a, b in zip(counts, counts[1:]))


def test_cse_shrinks_the_derivative():
    for n in (3, 4, 6):
        derivative = sp.diff(ad.logistic_map(x, n), x)
        assert ad.cse_operation_count(derivative) < ad.operation_count(derivative)
    # nothing to share in 4 - 8*x
    assert ad.cse_operation_count(sp.diff(ad.logistic_map(x, 2), x)) == 2


def test_cse_count_adds_the_assignments():
    expr = sp.sin(x + 1) * sp.cos(x + 1)
    # x0 = x + 1 (1 op), sin(x0)*cos(x0) (3 ops)
    assert ad.cse_operation_count(expr) == 4
    assert ad.operation_count(expr) == 5


def test_count_operations_of_the_logistic_map_is_linear():
    # each step r*l*(1 - l): two multiplications and one subtraction
    for n in (1, 2, 5, 40):
        assert ad.count_operations(lambda v: ad.logistic_map(v, n), 0.1) == 3 * (n - 1)


def test_count_forward_mode_operations_of_the_logistic_map():
    # per step, on Duals: 4*l   -> value mul + tangent mul                  = 2
    #                     1 - l -> value sub + tangent negation             = 2
    #                     a * b -> value mul + 2 tangent muls + 1 tangent add = 4
    for n in (1, 2, 5, 40):
        assert ad.count_forward_mode_operations(lambda v: ad.logistic_map(v, n), 0.1) == 8 * (n - 1)


def test_count_forward_mode_operations_of_sqrt():
    # sqrt(x), its partial 0.5 / sqrt(x), times the tangent
    assert ad.count_forward_mode_operations(np.sqrt, 2.0) == 3


def test_counting_float_keeps_values_and_counts_by_name():
    counter = ad.OperationCounter()
    a, b = counter.number(3.0), counter.number(2.0)
    result = -(a * b + 1) / b - 2**a + np.exp(a) + abs(a - 5.0) ** 2
    assert float(result) == -(3.0 * 2.0 + 1) / 2.0 - 2**3.0 + np.exp(3.0) + abs(3.0 - 5.0) ** 2
    assert isinstance(result, ad.CountingFloat)
    assert counter.counts == {
        "multiply": 1, "add": 3, "negative": 1, "divide": 1, "subtract": 2,
        "power": 2, "exp": 1, "absolute": 1,
    }
    assert counter.total == 12


def test_counting_float_defers_to_dual():
    counter = ad.OperationCounter()
    result = counter.number(2.0) * ad.Dual(3.0, 1.0)
    assert isinstance(result, ad.Dual)
    assert (result.val, result.dval) == (6.0, 2.0)


def test_counting_function_counts_calls():
    counted = ad.CountingFunction(np.sin)
    assert counted(0.0) == 0.0
    counted(1.0)
    assert counted.calls == 2
    assert repr(counted) == "CountingFunction(sin, calls=2)"
    counted.reset()
    assert counted.calls == 0


@pytest.mark.parametrize("n_inputs", [1, 3, 10])
def test_forward_difference_gradient_costs_n_plus_one_calls(n_inputs):
    counted = ad.CountingFunction(lambda v: np.sum(v**2))
    gradient = ad.numerical_gradient(counted, np.arange(1.0, n_inputs + 1), method="forward")
    assert counted.calls == n_inputs + 1
    np.testing.assert_allclose(gradient, 2 * np.arange(1.0, n_inputs + 1), rtol=1e-6)
    counted.reset()
    ad.numerical_gradient(counted, np.arange(1.0, n_inputs + 1), method="central")
    assert counted.calls == 2 * n_inputs


def test_sympy_derivative_matches_forward_mode():
    n, point = 6, sp.Rational(1, 10)
    exact = sp.diff(ad.logistic_map(x, n), x).subs(x, point)
    l, dl = point, sp.Integer(1)  # the chain rule step by step, in exact rationals
    for _ in range(n - 1):
        l, dl = 4 * l * (1 - l), 4 * (1 - 2 * l) * dl
    assert isinstance(exact, sp.Rational) and exact == dl
    forward = ad.derivative(lambda v: ad.logistic_map(v, n), 0.1)
    assert forward == pytest.approx(float(exact), rel=1e-13)


def test_tests_on_counting_floats_are_not_counted():
    counter = ad.OperationCounter()
    a = counter.number(2.0)
    assert not np.isnan(a) and np.greater(a, 1.0) and a > 1.0
    assert counter.total == 0
