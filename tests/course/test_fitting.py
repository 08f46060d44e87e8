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


def test_rosenbrock_minimum_from_the_classic_start():
    x, history = ad.bfgs_minimize(with_gradient(ad.rosenbrock), [-1.2, 1.0], gradient_tolerance=1e-10)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-7)
    assert history[0] == pytest.approx(24.2)
    assert all(b <= a for a, b in zip(history, history[1:]))  # every step decreases f
    assert len(history) < 60


def test_quadratic_converges_to_the_solution_of_the_linear_system():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(5, 5))
    a = a @ a.T + 5 * np.eye(5)
    b = rng.normal(size=5)
    x, history = ad.bfgs_minimize(with_gradient(lambda x: 0.5 * x @ (a @ x) - b @ x), np.zeros(5),
                                  gradient_tolerance=1e-12)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-9)
    assert len(history) <= 25  # a few times n steps (Armijo line search only, no Wolfe condition)


def test_stops_at_once_at_a_minimum():
    x, history = ad.bfgs_minimize(lambda x: (float(x @ x), 2 * x), np.zeros(3))
    assert history == [0.0] and np.all(x == 0)
