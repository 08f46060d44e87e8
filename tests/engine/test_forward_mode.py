"""Forward mode with dual numbers (ad_engine/forward.py).

Operators with every kind of operand, numpy dispatch, derivative/jvp, and the
lecture's reference outputs (every primitive against sympy: test_primitives.py).
"""

import math
import operator

import numpy as np
import pytest
import sympy

import autodiff_helpers as ad
from ad_engine.rules import BY_HAND_DUAL, NO_CALL
from autodiff_helpers import Dual, Variable
from primitive_reference import close, exact


def test_plain_module_functions_match_numpy_rules():
    x = Dual(0.4, 1.0)
    for name in ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "arctan"]:
        result = getattr(ad, name)(x)
        expected = exact(name, (0.4,))[0]
        close(result.dval, expected)
        assert result.val == getattr(np, name)(0.4)
    assert ad.sin(0.4) == np.sin(0.4)  # plain floats still work


# -- operators with every kind of operand ------------------------------------------

OPERANDS = [
    pytest.param(3, id="int"),
    pytest.param(2.5, id="float"),
    pytest.param(np.float64(2.5), id="np.float64"),
    pytest.param(np.int64(3), id="np.int64"),
    pytest.param(np.float32(0.5), id="np.float32"),
    pytest.param(np.array([1.5, 2.0, 3.0]), id="array"),
]
OPERATORS = [
    (operator.add, lambda x, c: 1.0, lambda x, c: 1.0),
    (operator.sub, lambda x, c: 1.0, lambda x, c: -1.0),
    (operator.mul, lambda x, c: c, lambda x, c: c),
    (operator.truediv, lambda x, c: 1 / c, lambda x, c: -c / x**2),
    (operator.pow, lambda x, c: c * x ** (c - 1), lambda x, c: c**x * np.log(c)),
]


@pytest.mark.parametrize("other", OPERANDS)
@pytest.mark.parametrize("op, d_left, d_right", OPERATORS, ids=lambda v: getattr(v, "__name__", ""))
def test_operators_in_both_orders(op, d_left, d_right, other):
    x0 = 1.3
    c = np.asarray(other, dtype=float)
    left = op(Dual(x0, 1.0), other)  # dual op constant
    right = op(other, Dual(x0, 1.0))  # constant op dual: the reflected method
    assert isinstance(left, Dual) and isinstance(right, Dual)
    close(left.val, op(x0, c), rtol=1e-6 if isinstance(other, np.float32) else 1e-15)
    close(right.val, op(c, x0), rtol=1e-6 if isinstance(other, np.float32) else 1e-15)
    close(np.broadcast_to(left.dval, c.shape), d_left(x0, c), rtol=1e-6)
    close(np.broadcast_to(right.dval, c.shape), d_right(x0, c), rtol=1e-6)


def test_numpy_scalar_on_the_left_gives_a_dual_not_an_array():
    for scalar in (np.float64(2.0), np.int64(2), np.float32(2.0)):
        for result in (scalar * Dual(1.5, 1.0), scalar + Dual(1.5, 1.0), scalar / Dual(2.0, 1.0),
                       scalar - Dual(1.5, 1.0), scalar ** Dual(1.5, 1.0)):
            assert type(result) is Dual
    assert (np.float64(2.0) * Dual(1.5, 1.0)).dval == 2.0


def test_power_with_a_dual_exponent():
    y = 2.0 ** Dual(3.0, 1.0)
    assert y.val == 8.0 and y.dval == pytest.approx(8 * math.log(2.0), rel=1e-15)
    z = Dual(2.0, 1.0) ** Dual(3.0, 1.0)  # d(x^y) = y x^(y-1) dx + x^y ln x dy
    assert z.val == 8.0 and z.dval == pytest.approx(12 + 8 * math.log(2.0), rel=1e-15)
    assert ad.derivative(lambda x: x**x, 2.0) == pytest.approx(4 * (1 + math.log(2.0)), rel=1e-15)
    w = Dual(-2.0, 1.0) ** 3  # negative base, integer exponent
    assert (w.val, w.dval) == (-8.0, 12.0)
    assert (Dual(0.0, 1.0) ** 0).dval == 0.0 and (Dual(0.0, 1.0) ** 1).dval == 1.0


def test_unary_operators():
    x = Dual(-1.5, 2.0)
    assert (-x).val == 1.5 and (-x).dval == -2.0
    assert (+x).val == -1.5 and (+x).dval == 2.0
    assert abs(x).val == 1.5 and abs(x).dval == -2.0
    assert abs(Dual(1.5, 2.0)).dval == 2.0
    arr = Dual(np.array([-1.0, 2.0]), np.array([1.0, 1.0]))
    close(abs(arr).dval, [-1.0, 1.0])
    close((-arr).dval, [-1.0, -1.0])


def test_comparisons_look_at_the_value_only():
    x = Dual(2.0, 5.0)
    assert x > 1 and x >= 2.0 and x < 3 and x <= 2 and x == 2.0 and x != 3
    assert not (x > 2) and not (x == Dual(3.0, 5.0))
    assert x == Dual(2.0, -1.0)  # same value, other tangent
    assert 3 > x and 1.0 < x  # reflected comparisons
    assert np.float64(3.0) > x
    # so user code with branches differentiates the branch taken
    relu = lambda t: t if t > 0 else 0.0 * t  # noqa: E731
    assert ad.derivative(relu, 2.0) == 1.0 and ad.derivative(relu, -2.0) == 0.0
    mask = Dual(np.array([1.0, -1.0]), 1.0) > 0
    np.testing.assert_array_equal(mask, [True, False])
    assert bool(Dual(0.0, 1.0)) is False and bool(Dual(0.5, 0.0)) is True
    assert len({Dual(1.0, 1.0), Dual(1.0, 1.0)}) == 2  # hashed by identity


def test_repr_form():
    assert repr(Dual(0.1, 1.0)) == "0.1 + 1.0·d"
    assert repr(Dual(1.0, -2.0)) == "1.0 - 2.0·d"
    assert repr(Dual(3, 0)) == "3.0 + 0.0·d"
    assert repr(Dual(np.float64(0.5), np.float64(-0.25))) == "0.5 - 0.25·d"
    assert repr(Dual(np.array([1.0, 2.0]), 1.0)) == "[1., 2.] + 1.0·d"
    # nested: d₁ outermost, as the lectures write (a + d₂) + (1 + 0·d₂)·d₁
    nested = Dual(Dual(1.0, 1.0), Dual(1.0, -2.0))
    assert repr(nested) == "(1.0 + 1.0·d₂) + (1.0 - 2.0·d₂)·d₁"
    assert repr(nested.val) == "1.0 + 1.0·d"  # alone, a part is one dual again
    third = Dual(nested, 0.5)
    assert repr(third) == "((1.0 + 1.0·d₃) + (1.0 - 2.0·d₃)·d₂) + 0.5·d₁"


def test_format_spec_formats_both_parts():
    """print(f"{y:.3f}") with a Dual: both parts formatted (it was a TypeError)."""
    y = np.sin(Dual(1.0, 1.0))
    assert f"{y:.3f}" == "0.841 + 0.540·d"
    assert f"{Dual(1.0, -2.0):.2f}" == "1.00 - 2.00·d"
    assert f"{y}" == repr(y) == "0.8414709848078965 + 0.5403023058681398·d"
    assert f"{Dual(np.array([1.0, 2.5]), 1.0):.1f}" == "[1.0, 2.5] + 1.0·d"
    nested = Dual(Dual(1.0, 1.0), Dual(1.0, -2.0))
    assert f"{nested:.2e}" == "(1.00e+00 + 1.00e+00·d₂) + (1.00e+00 - 2.00e+00·d₂)·d₁"


# -- the lecture's reference outputs --------------------------------------------------


def test_lecture_outputs_for_x_equal_point_one():
    x = Dual(0.1, 1.0)
    assert repr(x * x) == "0.010000000000000002 + 0.2·d"
    cube = x**3
    assert cube.dval == 0.030000000000000006
    assert cube.val == pytest.approx(0.001, rel=1e-15)
    # cos 0.1 and -sin 0.1 to a few ulp (numpy's SIMD cos may round otherwise than
    # the C library's); the printed form of the lecture's digits
    for y in (ad.cos(x), np.cos(x)):
        assert (y.val, y.dval) == pytest.approx((math.cos(0.1), -math.sin(0.1)), rel=1e-15)
    assert repr(Dual(0.9950041652780258, -0.09983341664682815)) == (
        "0.9950041652780258 - 0.09983341664682815·d")
    assert (1 / Dual(0.5, 1.0)).dval == -4.0  # 1/(x + x'd) = 1/x - x'/x^2 d


def test_power_rule_is_n_x_to_the_n_minus_one():
    # erratum of the original: the tangent of x**n is n x**(n-1) x', not n x**n x'
    for n in (2, 3, 5, -1, -2, 0.5):
        assert (Dual(1.7, 1.0) ** n).dval == pytest.approx(n * 1.7 ** (n - 1), rel=1e-15)


def test_two_variable_seeding():
    def f(x, y):
        return 3 * x**2 * y + x

    by_x = f(Dual(1.0, 1.0), Dual(1.0, 0.0))
    by_y = f(Dual(1.0, 0.0), Dual(1.0, 1.0))
    assert (by_x.val, by_x.dval) == (4.0, 7.0)
    assert (by_y.val, by_y.dval) == (4.0, 3.0)
    assert repr(by_x) == "4.0 + 7.0·d" and repr(by_y) == "4.0 + 3.0·d"


V, H, G = 14.0, 1.8, 9.8  # the defaults of ad.shot_put_range and ad.shot_put_stationarity


def test_shot_put_newton_converges_in_three_steps():
    """Newton's errors square at each step (5.6e-2, 7.2e-6, 3.7e-12 here): the third
    iterate is the closed form to rounding (a few ulp, however the last bits of sin,
    cos and asin round), the second is not yet."""
    theta_star = math.asin(V / math.sqrt(2 * V**2 + 2 * G * H))  # closed form
    assert theta_star == pytest.approx(0.7440667050778138, abs=4e-16)
    stationarity = ad.shot_put_stationarity
    iterates = ad.newton_iterates(stationarity, lambda t: ad.derivative(stationarity, t), 0.8, 3)[1:]
    assert iterates[-1] == pytest.approx(theta_star, abs=4e-16)
    assert abs(iterates[-2] - theta_star) > 1e-13  # it takes all three steps
    # the same with the lecture's plain functions
    f = lambda t: V * ad.cos(t) ** 2 - ad.sqrt(2 * G * H + V**2 * ad.sin(t) ** 2) * ad.sin(t)  # noqa: E731
    theta = ad.newton_iterates(f, lambda t: ad.derivative(f, t), 0.8, 3)[-1]
    assert theta == pytest.approx(theta_star, abs=4e-16)


def test_shot_put_derivative_vanishes_at_optimum_and_matches_sympy():
    t = sympy.Symbol("t")
    v, h, g = sympy.Float(V), sympy.Float(H), sympy.Float(G)
    x_max = v * sympy.cos(t) / g * (v * sympy.sin(t) + sympy.sqrt(v**2 * sympy.sin(t) ** 2 + 2 * g * h))
    for theta in (0.3, 0.8, 1.2):
        exact_d = float(sympy.diff(x_max, t).evalf(30, subs={t: theta}))
        assert ad.derivative(ad.shot_put_range, theta) == pytest.approx(exact_d, rel=1e-13)
    assert abs(ad.derivative(ad.shot_put_range, 0.7440667050778138)) < 1e-13


def test_shot_put_gradient_ascent_iterates():
    printed = ["0.7581", "0.7477", "0.7450", "0.7443", "0.74413", "0.74408", "0.744071", "0.744068"]
    theta = 0.8
    for expected in printed:
        theta = theta + 0.01 * ad.derivative(ad.shot_put_range, theta)
        decimals = len(expected.split(".")[1])
        assert f"{theta:.{decimals}f}" == expected


# -- nesting -----------------------------------------------------------------------------


def test_nested_derivative_calls_do_not_confuse_perturbations():
    # Siskind & Pearlmutter's example: the inner derivative is 1 whatever x is
    assert ad.derivative(lambda x: x * ad.derivative(lambda y: x + y, 1.0), 1.0) == 1.0
    assert ad.derivative(lambda x: ad.derivative(lambda y: x * y, 2.0), 3.0) == 1.0
    assert ad.derivative(lambda x: x * ad.derivative(lambda y: x * y, 2.0), 3.0) == 6.0


def test_nested_duals_give_second_derivatives_against_sympy():
    s = sympy.Symbol("s")
    cases = [
        (lambda x: x * np.exp(-(x**2)), s * sympy.exp(-(s**2))),
        (lambda x: np.sin(x) ** 3 / (1 + x**2), sympy.sin(s) ** 3 / (1 + s**2)),
        (lambda x: np.log(1 + x**2) * np.tanh(x), sympy.log(1 + s**2) * sympy.tanh(s)),
        (lambda x: x**x, s**s),
    ]
    for f, expr in cases:
        for x0 in (0.4, 1.3):
            second = float(sympy.diff(expr, s, 2).evalf(30, subs={s: x0}))
            third = float(sympy.diff(expr, s, 3).evalf(30, subs={s: x0}))
            d2 = ad.derivative(lambda x: ad.derivative(f, x), x0)
            d3 = ad.derivative(lambda x: ad.derivative(lambda y: ad.derivative(f, y), x), x0)
            assert d2 == pytest.approx(second, rel=1e-12)
            assert d3 == pytest.approx(third, rel=1e-11)
            # by hand: x = (x0 + 1 d1) + (1 + 0 d1) d2
            nested = f(Dual(Dual(x0, 1.0), Dual(1.0, 0.0)))
            assert nested.dval.dval == pytest.approx(second, rel=1e-12)


def test_derivative_of_a_function_that_ignores_its_input():
    assert ad.derivative(lambda x: 3.0, 1.0) == 0.0
    np.testing.assert_array_equal(ad.derivative(lambda x: 3.0, np.ones(3)), np.zeros(3))


# -- numpy's own functions through dispatch --------------------------------------------

NUMPY_CASES = [
    (np.sin, np.cos),
    (np.cos, lambda x: -np.sin(x)),
    (np.exp, np.exp),
    (np.log, lambda x: 1 / x),
    (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    (np.arctan, lambda x: 1 / (1 + x**2)),
    (lambda x: np.power(x, 3), lambda x: 3 * x**2),
    (lambda x: np.power(2.0, x), lambda x: 2.0**x * np.log(2.0)),
    (lambda x: np.maximum(x, 1.0), lambda x: (x > 1.0) * 1.0),
    (lambda x: np.minimum(x, 1.0), lambda x: (x < 1.0) * 1.0),
    (lambda x: np.where(x > 1.0, x**2, -x), lambda x: np.where(x > 1.0, 2 * x, -1.0)),
    (lambda x: np.square(x) + np.divide(1.0, x), lambda x: 2 * x - 1 / x**2),
]


@pytest.mark.parametrize("f, fprime", NUMPY_CASES)
def test_numpy_functions_on_a_grid_in_one_call(f, fprime):
    grid = np.linspace(0.3, 2.7, 9)  # avoids the kink at 1.0
    result = f(Dual(grid, np.ones_like(grid)))
    assert isinstance(result, Dual)
    close(result.val, f(grid))
    close(result.dval, fprime(grid))
    close(ad.derivative(f, grid), fprime(grid))
    for x0 in grid[::4]:  # scalar points agree with the grid
        close(ad.derivative(f, float(x0)), fprime(x0))


def test_numpy_reductions_and_dot():
    x = Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, -1.0]))
    s = np.sum(x)
    assert (s.val, s.dval) == (6.0, 0.0)
    m = np.mean(x * x)
    assert m.val == pytest.approx(14 / 3) and m.dval == pytest.approx((2 - 6) / 3)
    d = np.dot(x, x)
    assert (d.val, d.dval) == (14.0, 2 * (1.0 - 3.0))
    w = np.array([0.5, -1.0, 2.0])
    assert np.dot(w, x).dval == 0.5 - 2.0 and np.dot(x, w).dval == 0.5 - 2.0
    assert (x @ w).dval == 0.5 - 2.0 and (w @ x).dval == 0.5 - 2.0
    assert np.shape(x) == (3,) and np.ndim(x) == 1 and np.size(x) == 3 and len(x) == 3
    matrix = Dual(np.arange(6.0).reshape(2, 3), np.ones((2, 3)))
    close(np.sum(matrix, axis=0).dval, [2.0, 2.0, 2.0])
    close(matrix.sum(axis=1, keepdims=True).dval, [[3.0], [3.0]])
    close(matrix.T.dval, np.ones((3, 2)))
    close(np.reshape(matrix, (3, 2)).val, np.arange(6.0).reshape(3, 2))
    close(matrix[1].val, [3.0, 4.0, 5.0])
    assert [float(e.val) for e in x] == [1.0, 2.0, 3.0]


def test_unmodified_numpy_code_differentiates():
    def softplus_sum(x):  # written for arrays, knows nothing about duals
        return np.sum(np.log1p(np.exp(x)) * np.cos(x) ** 2) / np.size(x)

    x0 = np.array([0.1, -0.5, 1.5])
    v = np.array([1.0, 2.0, -1.0])
    value, tangent = ad.jvp(softplus_sum, x0, v)
    sigmoid = np.exp(x0) / (1 + np.exp(x0))
    g_prime = sigmoid * np.cos(x0) ** 2 - np.log1p(np.exp(x0)) * 2 * np.cos(x0) * np.sin(x0)
    expected = np.sum(g_prime * v) / 3
    assert value == pytest.approx(softplus_sum(x0), rel=1e-15)
    assert tangent == pytest.approx(expected, rel=1e-13)


# -- derivative and jvp ----------------------------------------------------------------


def test_derivative_on_scalar_and_array():
    assert ad.derivative(lambda x: x**2, 3.0) == 6.0
    assert ad.derivative(lambda x: x**2, 3) == 6.0  # int input
    grid = np.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(ad.derivative(lambda x: x**3, grid), 3 * grid**2, rtol=1e-15)
    # the f of the lecture on 10^4 points, f and f' in one sweep
    x = np.linspace(-3, 3, 10_001)
    close(ad.derivative(lambda t: t * np.exp(-(t**2)), x), (1 - 2 * x**2) * np.exp(-(x**2)))


def test_jvp_tuple_and_array_forms():
    def f(x, y):
        return 3 * x**2 * y + x

    assert ad.jvp(f, (1.0, 1.0), (1.0, 0.0)) == (4.0, 7.0)
    assert ad.jvp(f, (1.0, 1.0), (0.0, 1.0)) == (4.0, 3.0)
    assert ad.jvp(f, (1.0, 1.0), (2.0, -1.0))[1] == 2 * 7.0 - 3.0

    def g(v):
        return 3 * v[0] ** 2 * v[1] + v[0]

    value, tangent = ad.jvp(g, np.array([1.0, 1.0]), np.array([0.0, 1.0]))
    assert (value, tangent) == (4.0, 3.0)

    def vector_valued(v):  # R^2 -> R^2: J v in one sweep
        return np.sin(v) * v[::-1]

    x0, v = np.array([0.3, 1.1]), np.array([1.0, -2.0])
    value, jv = ad.jvp(vector_valued, x0, v)
    jacobian = np.array([[np.cos(0.3) * 1.1, np.sin(0.3)], [np.sin(1.1), np.cos(1.1) * 0.3]])
    close(value, np.sin(x0) * x0[::-1])
    close(jv, jacobian @ v)



@pytest.mark.parametrize("call", [
    lambda f, x: ad.derivative(f, x),
    lambda f, x: ad.jvp(f, (x,), (np.ones(x.shape, x.dtype),))[1],
    lambda f, x: ad.jvp(f, x, np.ones(x.shape))[1],
    lambda f, x: ad.grad(lambda y: np.sum(f(y)))(x),
], ids=["derivative", "jvp-tuple", "jvp-array", "grad"])
def test_an_integer_point_is_a_float_point_in_every_entry_point(call):
    """derivative and jvp's tuple form took an integer array as it was: the partial
    3 x**2 of x**3 was computed in int8 (48 at x = 100, where 30000 is right), and x**-1 of
    an integer array raised numpy's 'Integers to negative integer powers'. jvp's array form
    and grad made the point a float one; now every entry point does."""
    x = np.array([100, 2], dtype=np.int8)
    np.testing.assert_array_equal(call(lambda y: y**3, x), [30000.0, 12.0])
    np.testing.assert_array_equal(call(lambda y: y**-1.0 + y**-1, x), [-2e-4, -0.5])

def test_jvp_of_a_constant_function_is_zero():
    value, tangent = ad.jvp(lambda v: np.ones(2), np.zeros(2), np.ones(2))
    np.testing.assert_array_equal(tangent, [0.0, 0.0])


def test_jvp_calls_nest_like_derivative_calls():
    # the mixed partial d2f/dx0 dx1 by an array-form jvp inside another
    def f(v):
        return np.sin(v[0]) * v[1] ** 3

    x0 = np.array([0.4, 1.3])
    mixed = ad.jvp(lambda y: ad.jvp(f, y, np.array([1.0, 0.0]))[1], x0, np.array([0.0, 1.0]))[1]
    assert mixed == pytest.approx(np.cos(0.4) * 3 * 1.3**2, rel=1e-15)


def test_duals_built_by_hand_inside_a_differentiated_function():
    # f(w) = d/dt (w t^2) at t = 1 = 2 w, written with a hand-built dual inside f:
    # the hand-built perturbation is newer than derivative's, not confused with it
    def f(w):
        return (w * Dual(1.0, 1.0) ** 2).dval

    assert ad.derivative(f, 3.0) == 2.0
    assert ad.jvp(f, (3.0,), (1.0,)) == (6.0, 2.0)
    assert ad.check_grad(f, 3.0).max_relative_error < 1e-9
    np.testing.assert_allclose(
        ad.hvp(lambda x: (x[0] ** 2 * Dual(x[1], 1.0) ** 3).dval, np.array([1.0, 2.0]),
               np.array([1.0, 0.0])),
        [24.0, 24.0], rtol=1e-15)  # f = 3 x0^2 x1^2
    # a hand-built dual returned unconsumed keeps its own perturbation
    result = ad.derivative(lambda w: w * Dual(1.0, 1.0), 3.0)
    assert (result.val, result.dval) == (1.0, 1.0)
    value, tangent = ad.jvp(lambda w: w * Dual(1.0, 1.0), (3.0,), (1.0,))
    assert (value.val, value.dval, tangent.val, tangent.dval) == (3.0, 3.0, 1.0, 1.0)
    # outside every call, hand-built duals share one tag, above hand-built Variables
    assert Dual(1.0, 1.0).tag == Dual(2.0).tag == NO_CALL + BY_HAND_DUAL > Variable(1.0).tag


@pytest.mark.parametrize("f, x", [(np.std, np.array(2.0)), (np.std, 2.0),
                                  (lambda x: np.std(x, axis=1), np.ones((2, 1))),
                                  (lambda x: np.std(x, axis=0, keepdims=True), np.ones((1, 3)))],
                         ids=["0-d", "float", "axis-of-length-1", "keepdims"])
def test_std_over_one_element_is_constant_zero_in_both_modes(f, x):
    """The deviation from the mean of one element is 0 whatever x: derivative 0, not nan."""
    value, tangent = ad.jvp(f, x, np.ones_like(x))
    np.testing.assert_array_equal(value, np.zeros(np.shape(f(np.asarray(x)))))
    np.testing.assert_array_equal(tangent, np.zeros(np.shape(value)))
    np.testing.assert_array_equal(ad.grad(lambda x: np.sum(f(x)))(x), np.zeros(np.shape(x)))


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4))])
def test_nd_dot_value_and_tangent(shape_a, shape_b):
    rng = np.random.default_rng(15)
    a, b, da, db = (rng.standard_normal(s) for s in (shape_a, shape_b, shape_a, shape_b))
    value, tangent = ad.jvp(np.dot, (a, b), (da, db))
    np.testing.assert_allclose(value, np.dot(a, b), 1e-14, 1e-14)
    np.testing.assert_allclose(tangent, np.dot(da, b) + np.dot(a, db), 1e-12, 1e-12)


@pytest.mark.parametrize("f, shape", [(lambda x: x + np.ones(4), (4,)),
                                      (lambda x: np.ones((2, 3)) - x, (2, 3)),
                                      (lambda x: np.zeros(3) + 0.0 * np.ones(3) + x, (3,))],
                         ids=["add", "rsub", "chain"])
@pytest.mark.parametrize("form", ["tuple", "array"])
def test_jvp_tangent_has_the_shape_of_the_value(f, shape, form):
    """A scalar point whose value broadcasts to an array: the tangent broadcasts with it."""
    primals, tangents = ((2.0,), (1.0,)) if form == "tuple" else (2.0, 1.0)
    value, tangent = ad.jvp(f, primals, tangents)
    assert np.shape(value) == shape
    np.testing.assert_array_equal(np.abs(tangent), np.ones(shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_forward_gradient_has_the_dtype_of_grad(dtype):
    """Its seeds came from np.eye, float64, so a float32 x got a float64 gradient (grad
    returns float32, as numpy computes it)."""
    x = np.array([0.5, -1.5]).astype(dtype)
    f = lambda v: np.sum(np.abs(v) ** 2 * np.array([1.0, 3.0], np.float32))  # noqa: E731
    forward, reverse = ad.forward_gradient(f, x), ad.grad(f)(x)
    assert forward.dtype == reverse.dtype == dtype
    np.testing.assert_allclose(forward, reverse, rtol=1e-6)


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
@pytest.mark.parametrize("x", [np.array([0.3, -1.2, 2.0]), np.array([0.3 + 0.5j, -1.2, 2.0j])],
                         ids=["real", "complex"])
def test_forward_gradient_of_a_one_element_output_has_the_shape_of_x(shape, x):
    """As grad: a one-element output is its element, so the gradient has x's shape (it was
    (n, 1) for an output of shape (1,), (n, 1, 1) for (1, 1))."""
    f = lambda y: np.reshape(np.sum(np.abs(y) ** 2 * np.sin(np.abs(y))), shape)  # noqa: E731
    gradient = ad.forward_gradient(f, x)
    assert gradient.shape == x.shape
    np.testing.assert_allclose(gradient, ad.grad(f)(x), rtol=1e-13)
    assert ad.forward_gradient(lambda y: np.ones(shape), x).shape == x.shape


@pytest.mark.parametrize("f", [lambda y: y**2, lambda y: np.ones(2)], ids=["x**2", "constant"])
def test_forward_gradient_of_a_vector_output_is_refused_as_by_grad(f):
    """It returned the transposed Jacobian, shape (n, m), where grad refuses; refused alike,
    with the way to the Jacobian."""
    x = np.array([0.3, -1.2, 2.0])
    with pytest.raises(ValueError, match=r"grad needs a scalar output \(or one element\)"):
        ad.grad(f)(x)
    with pytest.raises(ValueError, match=r"^forward_gradient needs a scalar output \(or one "
                                         r"element\), as grad does, but f \(<lambda>\) returned "
                                         r"shape \(\d,\).*ad\.jvp\(f, x, e_i\)\[1\] is column i"):
        ad.forward_gradient(f, x)
