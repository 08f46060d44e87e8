"""Hessian-vector products and Hessians (ad_engine/higher_order.py).

hvp (a Dual whose components are Variables: one forward and one backward
sweep) and hessian against sympy to 1e-12, against the nested-dual
(forward-over-forward) H v on random points, and symmetry.
"""

import numpy as np
import pytest
import sympy

import autodiff_helpers as ad
from autodiff_helpers import Dual, Variable

S = sympy.symbols("s0:4", real=True)
QUADRATIC_A = np.array([[4.0, 1.0, -0.5], [1.0, 3.0, 0.25], [-0.5, 0.25, 2.0]])
QUADRATIC_B = np.array([0.5, -1.0, 2.0])

# (name, numpy function of x, sympy expression in S, dimension)
FUNCTIONS = [
    ("sin(x) exp(y) + x^3 y", lambda x: np.sin(x[0]) * np.exp(x[1]) + x[0] ** 3 * x[1],
     sympy.sin(S[0]) * sympy.exp(S[1]) + S[0] ** 3 * S[1], 2),
    ("rosenbrock", lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
     (1 - S[0]) ** 2 + 100 * (S[1] - S[0] ** 2) ** 2, 2),
    ("rosenbrock 4-D", lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
     sum(100 * (S[i + 1] - S[i] ** 2) ** 2 + (1 - S[i]) ** 2 for i in range(3)), 4),
    ("quadratic form", lambda x: 0.5 * x @ QUADRATIC_A @ x + QUADRATIC_B @ x,
     sum(sympy.Rational(1, 2) * sympy.Float(QUADRATIC_A[i, j]) * S[i] * S[j]
         for i in range(3) for j in range(3)) + sum(sympy.Float(QUADRATIC_B[i]) * S[i] for i in range(3)), 3),
    ("log-sum-exp", lambda x: np.log(np.sum(np.exp(x))),
     sympy.log(sum(sympy.exp(S[i]) for i in range(3))), 3),
    ("tanh network", lambda x: np.tanh(x[0] * x[1] + np.sin(x[2])) * np.sqrt(x[0] ** 2 + 1),
     sympy.tanh(S[0] * S[1] + sympy.sin(S[2])) * sympy.sqrt(S[0] ** 2 + 1), 3),
]
IDS = [f[0] for f in FUNCTIONS]


def sympy_hessian(expr, n, point):
    syms = S[:n]
    subs = {s: sympy.Float(repr(float(p)), 40) for s, p in zip(syms, point)}
    return np.array([[float(sympy.diff(expr, a, b).evalf(30, subs=subs)) for b in syms] for a in syms])


def nested_dual_hvp(f, x, v):
    """Forward-over-forward: (H v)_i = directional derivative along v of df/dx_i."""
    n = len(x)
    return np.array([
        ad.jvp(lambda y: ad.jvp(f, y, np.eye(n)[i])[1], x, v)[1] for i in range(n)
    ], dtype=float)


def random_points(n, count, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, size=n) for _ in range(count)]


@pytest.mark.parametrize("name, f, expr, n", FUNCTIONS, ids=IDS)
def test_hessian_and_hvp_against_sympy(name, f, expr, n):
    for x in random_points(n, 3, seed=1) + [np.ones(n)]:
        exact = sympy_hessian(expr, n, x)
        scale = max(1.0, np.max(np.abs(exact)))
        hess = ad.hessian(f, x)
        assert hess.shape == (n, n)
        np.testing.assert_allclose(hess, exact, rtol=1e-12, atol=1e-12 * scale)
        v = np.linspace(-1.0, 1.0, n) + 0.1
        np.testing.assert_allclose(ad.hvp(f, x, v), exact @ v, rtol=1e-12, atol=1e-12 * scale)


def test_lecture_function_hessian_explicitly():
    f = FUNCTIONS[0][1]
    x, y = 0.7, -0.4
    exact = np.array([
        [-np.sin(x) * np.exp(y) + 6 * x * y, np.cos(x) * np.exp(y) + 3 * x**2],
        [np.cos(x) * np.exp(y) + 3 * x**2, np.sin(x) * np.exp(y)],
    ])
    np.testing.assert_allclose(ad.hessian(f, np.array([x, y])), exact, rtol=1e-14)


def test_rosenbrock_hessian_at_the_minimum():
    np.testing.assert_allclose(ad.hessian(FUNCTIONS[1][1], np.array([1.0, 1.0])),
                               [[802.0, -400.0], [-400.0, 200.0]], rtol=0, atol=1e-12)


def test_quadratic_form_hessian_is_the_matrix_everywhere():
    f = FUNCTIONS[3][1]
    for x in random_points(3, 3, seed=2):
        np.testing.assert_allclose(ad.hessian(f, x), QUADRATIC_A, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("name, f, expr, n", FUNCTIONS, ids=IDS)
def test_forward_over_reverse_hvp_equals_nested_dual_hvp(name, f, expr, n):
    """Issue 7's required check: the two ways of composing the modes agree."""
    rng = np.random.default_rng(7)
    for x in random_points(n, 5, seed=3):
        v = rng.normal(size=n)
        by_reverse = ad.hvp(f, x, v)
        by_forward = nested_dual_hvp(f, x, v)
        scale = max(1.0, np.max(np.abs(by_forward)))
        np.testing.assert_allclose(by_reverse, by_forward, rtol=1e-12, atol=1e-13 * scale)


@pytest.mark.parametrize("name, f, expr, n", FUNCTIONS, ids=IDS)
def test_hessian_is_symmetric(name, f, expr, n):
    for x in random_points(n, 3, seed=4):
        hess = ad.hessian(f, x)
        scale = max(1.0, np.max(np.abs(hess)))
        np.testing.assert_allclose(hess, hess.T, rtol=0, atol=1e-13 * scale)


def test_hvp_is_linear_in_v():
    f = FUNCTIONS[5][1]
    x = np.array([0.3, -0.8, 1.1])
    u, w = np.array([1.0, 2.0, -1.0]), np.array([0.5, 0.0, 3.0])
    np.testing.assert_allclose(ad.hvp(f, x, 2 * u - 3 * w), 2 * ad.hvp(f, x, u) - 3 * ad.hvp(f, x, w),
                               rtol=1e-12, atol=1e-12)


def test_hvp_at_a_real_point_along_a_complex_v_is_h_times_v():
    """H v is linear in v: H Re v + i H Im v, as ad.jvp(ad.grad(f), x, v) and H @ v give; the
    backward sweep to the real leaf x kept only the real part, and hvp returned H Re v."""
    f = FUNCTIONS[5][1]
    x = np.array([0.3, -0.8, 1.1])
    v = np.array([1j, 2.0 - 0.5j, -1.0 + 3j])
    expected = ad.hessian(f, x) @ v
    np.testing.assert_allclose(ad.hvp(f, x, v), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ad.hvp(f, x, v), ad.jvp(ad.grad(f), x, v)[1], rtol=1e-12, atol=1e-12)
    cube = ad.hvp(lambda y: np.sum(y**3), np.array([2.0]), np.array([1j]))
    np.testing.assert_allclose(cube, [12j])


def test_hvp_of_linear_and_constant_functions_is_zero():
    x, v = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    np.testing.assert_array_equal(ad.hvp(lambda x: 3 * x[0] - x[1], x, v), [0.0, 0.0])
    np.testing.assert_array_equal(ad.hvp(lambda x: 5.0, x, v), [0.0, 0.0])
    np.testing.assert_array_equal(ad.hessian(lambda x: x[0] + x[1], x), np.zeros((2, 2)))


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_hvp_and_hessian_of_a_one_element_output_are_those_of_its_element(shape):
    """As ad.grad takes a one-element output (reverse.sweep_from), so do hvp and hessian:
    they refused it (shape (1,)), and gave zeros where it was linear."""
    x, v = np.array([0.5, -1.5]), np.array([2.0, 1.0])
    f = lambda y: np.sin(y[0]) * y[1] ** 3  # noqa: E731
    as_array = lambda y: np.reshape(f(y), shape)  # noqa: E731
    np.testing.assert_allclose(ad.hvp(as_array, x, v), ad.hvp(f, x, v), rtol=1e-15)
    np.testing.assert_allclose(ad.hessian(as_array, x), ad.hessian(f, x), rtol=1e-15)
    np.testing.assert_array_equal(ad.hvp(lambda y: np.reshape(3 * y[0] - y[1], shape), x, v),
                                  [0.0, 0.0])
    # one element by broadcasting against a constant: the directional derivative has shape ()
    plus = lambda y: np.zeros(shape) + f(y)  # noqa: E731
    np.testing.assert_allclose(ad.hvp(plus, x, v), ad.hvp(f, x, v), rtol=1e-15)
    np.testing.assert_allclose(ad.hessian(plus, x), ad.hessian(f, x), rtol=1e-15)


def test_hvp_does_not_change_its_inputs():
    x, v = np.array([0.5, 1.5]), np.array([1.0, 0.0])
    ad.hvp(FUNCTIONS[0][1], x, v)
    np.testing.assert_array_equal(x, [0.5, 1.5])
    np.testing.assert_array_equal(v, [1.0, 0.0])


def test_hand_built_dual_of_variables():
    # the mechanism behind hvp, written out: tangent of a Dual of Variables is a graph node
    x = Variable(np.array([0.7, -0.4]))
    v = np.array([1.0, 0.0])
    y = FUNCTIONS[0][1](Dual(x, v))
    assert isinstance(y.dval, Variable)
    y.dval.backward()
    exact = sympy_hessian(FUNCTIONS[0][2], 2, [0.7, -0.4])
    np.testing.assert_allclose(x.grad, exact @ v, rtol=1e-13)
    assert y.val.value == pytest.approx(FUNCTIONS[0][1](np.array([0.7, -0.4])), rel=1e-15)


def test_third_derivative_by_three_nested_duals():
    f = lambda t: t**4 * np.sin(t)  # noqa: E731
    t0 = 0.9
    d3 = ad.derivative(lambda a: ad.derivative(lambda b: ad.derivative(f, b), a), t0)
    s = sympy.Symbol("s")
    exact = float(sympy.diff(s**4 * sympy.sin(s), s, 3).evalf(30, subs={s: t0}))
    assert d3 == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
@pytest.mark.parametrize("f", [lambda x: np.sum(np.abs(x) ** 3), lambda x: np.max(np.abs(x)),
                               lambda x: np.sum(x[:1] * 2.0).real],
                         ids=["cube", "max-linear", "linear"])
def test_hvp_and_hessian_keep_a_narrow_point_dtype(f, dtype):
    """hvp and hessian return x's dtype, as grad: hessian's unit vectors were float64 and
    hvp's zeros of a function linear along v were np.zeros (float64), so a float32 x got a
    float64 Hessian."""
    x = np.array([0.5, -1.5, 2.0], dtype=dtype)
    assert ad.hvp(f, x, np.ones(3)).dtype == dtype
    assert ad.hessian(f, x).dtype == dtype
    assert ad.hessian(f, x[:0]).dtype == dtype
