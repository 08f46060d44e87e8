"""Finite differences and the complex step (ad_engine/numerical.py).

Values against exact derivatives, the measured order of the truncation error
(forward O(h), central O(h^2)), the complex step to machine precision, and the
number of function calls of ``numerical_gradient`` (N + 1 forward, 2 N central).
"""

import numpy as np
import pytest

import autodiff_helpers as ad


def bump(x):
    return x * np.exp(-(x**2))


def bump_prime(x):
    return (1 - 2 * x**2) * np.exp(-(x**2))


# -- the lecture's reference values -------------------------------------------------


def test_forward_difference_of_bump_at_zero_is_the_lectures_number():
    # exp(-1e-4) to rounding: numpy's SIMD exp need not round as the C library's
    assert float(ad.forward_difference(bump, 0.0, 0.01)) == pytest.approx(0.9999000049998332, rel=1e-15)
    # relative error 1e-4: the O(h) truncation error h f''(0)/2 is zero here, h^2 f'''/6 = 1e-4
    assert abs(ad.forward_difference(bump, 0.0, 0.01) - 1.0) == pytest.approx(1e-4, rel=1e-3)


def test_sqrt_at_one():
    assert ad.forward_difference(np.sqrt, 1.0, 1e-8) == pytest.approx(0.5, abs=1e-7)
    assert ad.central_difference(np.sqrt, 1.0, 1e-5) == pytest.approx(0.5, abs=1e-10)
    assert float(ad.complex_step(np.sqrt, 1.0)) == 0.5


def test_forward_difference_error_is_v_shaped_with_best_h_near_sqrt_eps():
    hs = np.logspace(-16, -1, 61)
    errors = np.array([abs(ad.forward_difference(np.sqrt, 1.0, h) - 0.5) for h in hs])
    best = hs[np.argmin(errors)]
    assert 1e-10 < best < 1e-6
    assert errors[0] > 1e-2 and errors[-1] > 1e-2  # both ends of the V are bad
    assert errors.min() < 1e-8


# -- scalars and arrays of points ---------------------------------------------------

POINTS = np.linspace(-2.0, 2.0, 9)


@pytest.mark.parametrize(
    "method, h, tol",
    [
        (ad.forward_difference, 1e-7, 1e-6),
        (ad.central_difference, 1e-5, 1e-9),
        (ad.complex_step, 1e-20, 1e-15),
    ],
)
def test_each_method_on_an_array_of_points_matches_scalar_calls(method, h, tol):
    on_array = method(bump, POINTS, h)
    assert isinstance(on_array, np.ndarray) and on_array.shape == POINTS.shape
    np.testing.assert_allclose(on_array, bump_prime(POINTS), rtol=0, atol=tol)
    one_by_one = np.array([method(bump, float(x), h) for x in POINTS])
    np.testing.assert_allclose(on_array, one_by_one, rtol=1e-15, atol=1e-15)


def test_default_steps_are_accurate():
    x = 0.7
    assert ad.forward_difference(np.sin, x) == pytest.approx(np.cos(x), abs=1e-7)
    assert ad.central_difference(np.sin, x) == pytest.approx(np.cos(x), abs=1e-10)
    assert ad.complex_step(np.sin, x) == pytest.approx(np.cos(x), rel=1e-15)


# -- error orders, measured -----------------------------------------------------------


def _slope(method, hs, f=np.sin, fprime=np.cos, x=1.0):
    errors = np.array([abs(method(f, x, h) - fprime(x)) for h in hs])
    slope, _ = np.polyfit(np.log(hs), np.log(errors), 1)
    return slope


def test_forward_difference_is_first_order():
    assert _slope(ad.forward_difference, np.logspace(-5, -2, 7)) == pytest.approx(1.0, abs=0.05)


def test_central_difference_is_second_order():
    assert _slope(ad.central_difference, np.logspace(-3, -1, 7)) == pytest.approx(2.0, abs=0.05)


def test_truncation_constants():
    # forward: error ~ |f''| h / 2; central: error ~ |f'''| h^2 / 6 (f = sin at 1)
    h = 1e-4
    forward_error = ad.forward_difference(np.sin, 1.0, h) - np.cos(1.0)
    assert forward_error == pytest.approx(-np.sin(1.0) * h / 2, rel=1e-3)
    h = 1e-2
    central_error = ad.central_difference(np.sin, 1.0, h) - np.cos(1.0)
    assert central_error == pytest.approx(-np.cos(1.0) * h**2 / 6, rel=1e-3)


@pytest.mark.parametrize("h", [1e-10, 1e-20, 1e-100, 1e-300])
def test_complex_step_is_exact_to_machine_precision_for_any_tiny_h(h):
    for f, fprime, x in [
        (bump, bump_prime, 0.3),
        (np.sqrt, lambda x: 0.5 / np.sqrt(x), 2.0),
        (lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3),
         None, 1.5),
    ]:
        value = ad.complex_step(f, x, h)
        if fprime is None:  # Squire & Trapp's test function: derivative by sympy
            import sympy

            s = sympy.Symbol("s")
            expr = sympy.exp(s) / sympy.sqrt(sympy.sin(s) ** 3 + sympy.cos(s) ** 3)
            exact = float(sympy.diff(expr, s).subs(s, sympy.Rational(3, 2)).evalf(30))
        else:
            exact = fprime(x)
        assert value == pytest.approx(exact, rel=4e-16, abs=0)


def test_complex_step_has_no_round_off_where_central_difference_has():
    # both have a truncation error ~ h^2 |f'''| / 6; only the central difference
    # has round-off ~ eps / h, so for small h only the complex step stays exact
    for h in np.logspace(-12, -8, 5):
        assert ad.complex_step(np.sin, 1.0, h) == pytest.approx(np.cos(1.0), rel=4e-16, abs=0)
        assert abs(ad.central_difference(np.sin, 1.0, h) - np.cos(1.0)) > 1e-12


# -- numerical_gradient: cost and accuracy ---------------------------------------------


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_numerical_gradient_counts_evaluations(n):
    x = np.linspace(-1.0, 1.2, n)
    forward = ad.CountingFunction(lambda v: float(np.sum(np.sin(v))))
    ad.numerical_gradient(forward, x, method="forward")
    assert forward.calls == n + 1
    central = ad.CountingFunction(lambda v: float(np.sum(np.sin(v))))
    ad.numerical_gradient(central, x, method="central")
    assert central.calls == 2 * n


def test_numerical_gradient_accuracy_and_shape():
    x = np.array([-1.2, 1.0, 0.5, 2.0])
    exact = rosenbrock_grad(x)
    central = ad.numerical_gradient(rosenbrock, x)
    forward = ad.numerical_gradient(rosenbrock, x, method="forward")
    assert central.shape == forward.shape == x.shape
    np.testing.assert_allclose(central, exact, rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(forward, exact, rtol=1e-5, atol=1e-4)
    assert np.max(np.abs(central - exact)) < np.max(np.abs(forward - exact))


def test_numerical_gradient_does_not_modify_its_input_and_takes_lists():
    x = np.array([0.3, -0.7])
    before = x.copy()
    g = ad.numerical_gradient(lambda v: v[0] ** 2 * v[1], x, h=1e-6)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, [2 * 0.3 * -0.7, 0.3**2], rtol=1e-8)
    g_list = ad.numerical_gradient(lambda v: v[0] ** 2 * v[1], [0.3, -0.7], h=1e-6)
    np.testing.assert_array_equal(g, g_list)


def test_numerical_gradient_rejects_unknown_method():
    with pytest.raises(ValueError, match="'forward' or 'central'"):
        ad.numerical_gradient(np.sum, np.ones(2), method="backward")
