"""bfgs_minimize: known minima, gradients from reverse mode."""

import numpy as np
import pytest

import autodiff_helpers as ad


def with_gradient(f):
    def value_and_gradient(x):
        point = ad.Variable(x)
        value = f(point)
        value.backward()
        return value.value, point.grad
    return value_and_gradient


def stopped_at_the_tolerance(value_and_gradient, x, history, gradient_tolerance):
    """bfgs_minimize ended by its gradient test (not by the iteration cap or a step
    that no longer moves x)."""
    return np.max(np.abs(value_and_gradient(x)[1])) <= gradient_tolerance * max(1.0, abs(history[-1]))


def test_rosenbrock_minimum_from_the_classic_start():
    """42 iterations on every simulated machine; the cap of 100 tells a working
    quasi-Newton update from one that degrades to gradient steps (steepest descent
    needs thousands of steps in Rosenbrock's curved valley)."""
    f = with_gradient(ad.rosenbrock)
    x, history = ad.bfgs_minimize(f, [-1.2, 1.0], gradient_tolerance=1e-10, max_iterations=100)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-7)
    assert stopped_at_the_tolerance(f, x, history, 1e-10)
    assert history[0] == pytest.approx(24.2)
    assert all(b <= a for a, b in zip(history, history[1:]))  # every step decreases f


def test_quadratic_converges_to_the_solution_of_the_linear_system():
    """No iteration count is tested. BFGS ends in n steps on an n-dimensional
    quadratic only with an exact line search; with this one (step 1, halved until
    Armijo's condition holds) the count has no such bound. On a convex quadratic
    sᵀy = sᵀAs > 0 keeps H positive definite, f decreases at every step and the
    iteration reaches the gradient tolerance, as long as the decrease Armijo's test
    compares is larger than the rounding of f: about ‖g‖²/λmax against ε|f|, so
    ‖g‖ above ~1e-7 here. The tolerance 1e-6 is above that; at 1e-12 (below it) the
    iteration stalls near ‖g‖ = 2e-10 and its count (20 to 31 on this problem with
    different BLAS kernels) counted steps lost in rounding. The error of x then
    follows from the gradient: ‖x - x*‖ ≤ ‖A(x - x*)‖/λmin = ‖g‖/λmin, λmin ≥ 5."""
    rng = np.random.default_rng(4)
    a = rng.normal(size=(5, 5))
    a = a @ a.T + 5 * np.eye(5)
    b = rng.normal(size=5)
    f = with_gradient(lambda x: 0.5 * x @ (a @ x) - b @ x)
    x, history = ad.bfgs_minimize(f, np.zeros(5), gradient_tolerance=1e-6)
    assert stopped_at_the_tolerance(f, x, history, 1e-6)
    assert np.linalg.norm(x - np.linalg.solve(a, b)) <= np.linalg.norm(a @ x - b) / 5
    assert all(later <= earlier for earlier, later in zip(history, history[1:]))


def test_stops_at_once_at_a_minimum():
    x, history = ad.bfgs_minimize(lambda x: (float(x @ x), 2 * x), np.zeros(3))
    assert history == [0.0] and np.all(x == 0)


def test_parameters_of_any_shape_keep_it():
    """A matrix of parameters (or a number) is minimised as one vector and passed to
    value_and_gradient, and returned, in its own shape: a 2-D x0 failed in numpy's matmul
    ('mismatch in its core dimension'), a float x0 too."""
    target = np.array([[1.0, -2.0], [0.5, 3.0]])
    seen = []

    def f(w):
        seen.append(np.shape(w))
        return float(np.sum((w - target) ** 2)), ad.grad(lambda v: np.sum((v - target) ** 2))(w)

    x, _ = ad.bfgs_minimize(f, np.zeros((2, 2)))
    assert x.shape == (2, 2) and set(seen) == {(2, 2)}
    np.testing.assert_allclose(x, target, atol=1e-6)
    x, _ = ad.bfgs_minimize(lambda t: ((t - 1.5) ** 2, 2 * (t - 1.5)), 0.0)
    assert np.shape(x) == () and abs(x - 1.5) < 1e-6
    with pytest.raises(ValueError, match=r"gradient of shape \(4,\) for parameters of shape \(2, 2\)"):
        ad.bfgs_minimize(lambda w: (float(np.sum(w**2)), np.ravel(2 * w)), np.ones((2, 2)))
