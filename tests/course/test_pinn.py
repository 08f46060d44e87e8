"""Beyond hvp/hessian (ad_course/rosenbrock.py, oscillator.py, ad_engine/higher_order.py): Newton's method with the AD Hessian,
derivatives with respect to a network's input from nested duals, and the
physics-informed oscillator loss (notebook 07)."""

import numpy as np
import pytest

import autodiff_helpers as ad
from autodiff_helpers import Dual, Variable

# -- Rosenbrock and Newton's method ---------------------------------------------

def rosenbrock_hessian_2d(x, y):
    return np.array([[1200 * x**2 - 400 * y + 2, -400 * x], [-400 * x, 200.0]])


def test_rosenbrock_values_and_minimum():
    assert ad.rosenbrock(np.ones(7)) == 0.0
    assert ad.rosenbrock(np.array([-1.2, 1.0])) == pytest.approx(24.2, rel=1e-15)
    np.testing.assert_array_equal(ad.grad(ad.rosenbrock)(np.ones(5)), np.zeros(5))


def test_rosenbrock_on_a_grid_of_points_stacked_along_axis_0():
    a, b = np.meshgrid(np.linspace(-1.5, 1.5, 7), np.linspace(-1.0, 3.0, 5))
    np.testing.assert_allclose(ad.rosenbrock(np.array([a, b])),
                               100 * (b - a**2) ** 2 + (1 - a) ** 2, rtol=1e-15)


def test_rosenbrock_hessian_matches_closed_form():
    point = np.array([-1.2, 1.0])
    np.testing.assert_allclose(ad.hessian(ad.rosenbrock, point), rosenbrock_hessian_2d(*point),
                               rtol=1e-14)


def test_newton_is_exact_in_one_step_on_a_quadratic():
    matrix = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    b = np.array([1.0, -2.0, 0.5])

    def quadratic(x):
        return 0.5 * (x * (matrix @ x)).sum() - (b * x).sum()

    path = ad.newton_minimize(quadratic, np.zeros(3))
    np.testing.assert_allclose(path[1], np.linalg.solve(matrix, b), rtol=1e-13)
    assert len(path) == 3  # the second step is (numerically) zero: stop


@pytest.mark.parametrize("n", [2, 6])
def test_newton_finds_the_rosenbrock_minimum(n):
    start = np.tile([-1.2, 1.0], n // 2)
    path = ad.newton_minimize(ad.rosenbrock, start, n_steps=100)
    np.testing.assert_allclose(path[-1], np.ones(n), atol=1e-10)
    np.testing.assert_array_equal(path[0], start)
    if n == 2:  # the classic result: about half a dozen pure Newton steps
        assert ad.iterations_to_converge(path, np.ones(2), 1e-8) <= 7


def test_newton_needs_a_1d_start():
    with pytest.raises(ValueError, match="1-D"):
        ad.newton_minimize(ad.rosenbrock, np.ones((2, 2)))


def test_iterations_to_converge():
    path = np.array([[3.0, 0.0], [1.0, 0.0], [0.1, 0.0], [0.001, 0.0]])
    assert ad.iterations_to_converge(path, [0.0, 0.0], 0.5) == 2
    assert ad.iterations_to_converge(path, [0.0, 0.0], 10.0) == 0
    assert ad.iterations_to_converge(path, [0.0, 0.0], 1e-6) is None


def test_gradient_descent_is_much_slower_than_newton_on_rosenbrock():
    path = ad.gradient_descent(ad.grad(ad.rosenbrock), [-1.2, 1.0], 1.5e-3, 3000)
    assert ad.iterations_to_converge(path, np.ones(2), 1e-2) is None
    assert ad.rosenbrock(path[-1]) < ad.rosenbrock(path[0])


# -- value_and_derivatives: nested duals -------------------------------------------

def test_value_and_derivatives_on_a_grid():
    t = np.linspace(-2.0, 3.0, 11)
    value, first, second = ad.value_and_derivatives(np.sin, t)
    np.testing.assert_allclose(value, np.sin(t), rtol=0, atol=1e-15)
    np.testing.assert_allclose(first, np.cos(t), rtol=0, atol=1e-15)
    np.testing.assert_allclose(second, -np.sin(t), rtol=0, atol=1e-15)


def test_value_and_derivatives_of_a_polynomial_are_exact():
    assert ad.value_and_derivatives(lambda t: t**3 - 2 * t, 2.0) == (4.0, 10.0, 12.0)
    assert ad.value_and_derivatives(lambda t: 5.0, 2.0) == (5.0, 0.0, 0.0)
    value, first, second = ad.value_and_derivatives(lambda t: 3 * t, np.arange(3.0))
    np.testing.assert_array_equal(second, np.zeros(3))


def test_value_and_derivatives_with_an_inner_derivative_call():
    # f(t) = d/ds sin(s t) at s = 1 = t cos t: the perturbations must not mix
    def f(t):
        return ad.derivative(lambda s: np.sin(s * t), 1.0)

    t = np.linspace(0.0, 2.0, 5)
    value, first, second = ad.value_and_derivatives(f, t)
    np.testing.assert_allclose(value, t * np.cos(t), atol=1e-15)
    np.testing.assert_allclose(first, np.cos(t) - t * np.sin(t), atol=1e-15)
    np.testing.assert_allclose(second, -2 * np.sin(t) - t * np.cos(t), atol=1e-15)


def test_value_and_derivatives_with_a_dual_built_by_hand_inside():
    # inside f, Dual(1, 1) is a perturbation of its own: (t (1 + d)**2).dval = 2 t
    def f(t):
        return (t * Dual(1.0, 1.0) ** 2).dval

    value, first, second = ad.value_and_derivatives(f, np.array([0.5, 2.0]))
    np.testing.assert_array_equal(value, [1.0, 4.0])
    np.testing.assert_array_equal(first, [2.0, 2.0])
    np.testing.assert_array_equal(second, [0.0, 0.0])


def test_second_derivative_back_propagates_to_a_parameter():
    t = np.linspace(0.0, 2.0, 7)
    w = Variable(1.3)
    value, first, second = ad.value_and_derivatives(lambda t: np.sin(w * t), t)
    assert isinstance(second, Variable)
    np.testing.assert_allclose(second.value, -1.3**2 * np.sin(1.3 * t), atol=1e-15)
    second.sum().backward()
    expected = np.sum(-2 * 1.3 * np.sin(1.3 * t) - 1.3**2 * t * np.cos(1.3 * t))
    assert w.grad == pytest.approx(expected, rel=1e-13)


# -- a small tanh network on nested duals of Variables ---------------------------

def tiny_network(seed=0, width=5):
    rng = np.random.default_rng(seed)
    shapes = [(1, width), (width,), (width, width), (width,), (width, 1), (1,)]
    return [Variable(rng.normal(size=shape)) for shape in shapes]


def network(params, t):
    """u(t) = W3 tanh(W2 tanh(W1 t + b1) + b2) + b3 on a column of points."""
    w1, b1, w2, b2, w3, b3 = params
    hidden = np.tanh(t[:, None] @ w1 + b1)
    hidden = np.tanh(hidden @ w2 + b2)
    return (hidden @ w3 + b3)[:, 0]


def test_duals_and_variables_mix_in_every_operation_of_the_network():
    w = Variable(np.array([[2.0, -1.0]]))
    x = Dual(np.array([[0.5]]), np.array([[1.0]]))
    product = x @ w
    assert isinstance(product, Dual) and isinstance(product.val, Variable)
    np.testing.assert_array_equal(product.dval.value, [[2.0, -1.0]])
    total = Dual(1.0, 1.0) + Variable(2.0)
    assert isinstance(total.val, Variable) and total.val.value == 3.0
    squashed = np.tanh(Dual(Variable(0.3), 1.0))
    assert squashed.dval.value == pytest.approx(1 - np.tanh(0.3) ** 2, rel=1e-15)


def test_network_input_derivatives_match_finite_differences():
    params = tiny_network()
    values = [p.value for p in params]
    t = np.linspace(0.0, 1.0, 6)
    value, first, second = ad.value_and_derivatives(lambda s: network(params, s), t)
    h = 1e-4

    def plain(s):
        return network(values, s)

    np.testing.assert_allclose(value.value, plain(t), rtol=1e-15)
    np.testing.assert_allclose(first.value, (plain(t + h) - plain(t - h)) / (2 * h), atol=1e-7)
    np.testing.assert_allclose(second.value, (plain(t + h) - 2 * plain(t) + plain(t - h)) / h**2,
                               atol=1e-5)


def test_oscillator_loss_gradient_matches_central_differences():
    params = tiny_network(seed=1, width=4)
    t = np.linspace(0.0, 2.0, 9)
    loss, _ = ad.oscillator_loss(lambda s: network(params, s), t, omega=1.5, gamma=0.2)
    loss.backward()

    def loss_at(values):
        frozen = [Variable(v) for v in values]
        return ad.oscillator_loss(lambda s: network(frozen, s), t, omega=1.5, gamma=0.2)[0].value

    values = [p.value.copy() for p in params]
    for k in (0, 2, 5):  # W1, W2 and b3
        numerical = np.zeros_like(values[k])
        for index in np.ndindex(values[k].shape):
            step = 1e-6
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[k][index] += step
            minus[k][index] -= step
            numerical[index] = (loss_at(plus) - loss_at(minus)) / (2 * step)
        np.testing.assert_allclose(params[k].grad, numerical, rtol=1e-6, atol=1e-8)


# -- the physics-informed oscillator loss --------------------------------------------

def test_oscillator_loss_vanishes_on_exact_solutions():
    t = np.linspace(0.0, 2 * np.pi, 50)
    loss, residual = ad.oscillator_loss(np.cos, t)
    assert abs(loss) < 1e-28 and np.max(np.abs(residual)) < 1e-15
    omega, gamma = 2.0, 0.3
    damped = np.sqrt(omega**2 - gamma**2)

    def u(s):
        return np.exp(-gamma * s) * (np.cos(damped * s) + gamma / damped * np.sin(damped * s))

    loss, residual = ad.oscillator_loss(u, t, omega=omega, gamma=gamma)
    assert abs(loss) < 1e-26 and np.max(np.abs(residual)) < 1e-13


def test_oscillator_loss_counts_the_initial_conditions():
    t = np.linspace(0.0, 3.0, 20)
    loss, residual = ad.oscillator_loss(lambda s: 2 * np.cos(s) + 0.5 * np.sin(s), t)
    np.testing.assert_allclose(residual, 0.0, atol=1e-15)
    assert loss == pytest.approx(1.0**2 + 0.5**2, rel=1e-14)


def test_oscillator_loss_needs_1d_points():
    with pytest.raises(ValueError, match="collocation"):
        ad.oscillator_loss(np.cos, np.zeros((3, 2)))
