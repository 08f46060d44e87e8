"""Complex numbers in both modes, against central differences in the real and the
imaginary direction.

Reverse mode follows JAX's convention (ad_engine/reverse.py): for a real loss L of
z = x + iy, grad L = ∂L/∂x - i ∂L/∂y; for a holomorphic f, grad(f)(z) = f'(z); a
real input of a complex computation gets a real gradient.
"""

import warnings

import numpy as np
import pytest

import autodiff_helpers as ad
from derivative_checks import STENCIL, STEP

Z = 1.66 + 0.127j
RNG = np.random.default_rng(2026)
W = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)
ZS = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)


def central_directional(f, z, v, h=STEP):
    """d/dt f(z + t v) at t = 0 by the five-point stencil (f may return complex values)."""
    return sum(weight * f(z + offset * h * v) for offset, weight in STENCIL) / (12 * h)


def convention(L, z):
    """∂L/∂x - i ∂L/∂y of a real L at z (a complex number or array), by central differences."""
    z = np.asarray(z, dtype=complex)
    parts = []
    for k in range(z.size):
        e = np.zeros(z.size, dtype=complex)
        e[k] = 1.0
        e = e.reshape(z.shape)
        d_real = central_directional(L, z, e)
        d_imag = central_directional(L, z, 1j * e)
        parts.append(d_real - 1j * d_imag)
    return np.reshape(parts, z.shape)


REAL_LOSSES = [
    ("abs", np.abs), ("real", np.real), ("imag", np.imag), ("angle", np.angle),
    ("angle-degrees", lambda z: np.angle(z, deg=True)),
    ("abs-squared", lambda z: np.abs(z) ** 2), ("conj-times-z", lambda z: np.real(np.conj(z) * z)),
    ("conj-weighted", lambda z: np.real(np.conj(z) * (0.3 + 2j))),
    ("real-of-holomorphic", lambda z: np.real(np.sin(z) * z)),
    ("imag-of-holomorphic", lambda z: np.imag(np.exp(z) / z)),
    ("abs-of-holomorphic", lambda z: abs(z**3 - 1j)),
    # np.sign(z) is z / |z| for a complex z: it turns with z (it was taken as a constant)
    ("real-of-sign", lambda z: np.real(np.sign(z) * (0.3 - 2j))),
    ("imag-of-sign-squared", lambda z: np.imag(np.sign(z * z + 3j))),
]


@pytest.mark.parametrize("name, L", REAL_LOSSES, ids=[r[0] for r in REAL_LOSSES])
def test_gradient_of_a_real_loss_of_a_complex_number(name, L):
    gradient = ad.grad(L)(Z)
    assert isinstance(gradient, complex)
    np.testing.assert_allclose(gradient, convention(L, Z), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name, L", REAL_LOSSES, ids=[r[0] for r in REAL_LOSSES])
def test_gradient_of_a_real_loss_of_a_complex_array(name, L):
    def total(z):
        return np.sum(L(z * W) * np.array([1.0, -0.5, 2.0]))

    gradient = ad.grad(total)(ZS)
    assert gradient.dtype == complex and gradient.shape == ZS.shape
    np.testing.assert_allclose(gradient, convention(total, ZS), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name, L", REAL_LOSSES, ids=[r[0] for r in REAL_LOSSES])
def test_forward_and_reverse_agree_in_every_direction(name, L):
    """The jvp along v is Re(grad L · v): the real pairing of the convention."""
    gradient = ad.grad(L)(Z)
    for v in (1.0, 1j, 0.6 - 0.8j):
        _, tangent = ad.jvp(L, (Z,), (v,))
        np.testing.assert_allclose(tangent, (gradient * v).real, rtol=1e-12, atol=1e-14)


HOLOMORPHIC = [
    ("sin", np.sin, np.cos), ("exp", np.exp, np.exp), ("log", np.log, lambda z: 1 / z),
    ("sqrt", np.sqrt, lambda z: 0.5 / np.sqrt(z)), ("square", lambda z: z * z, lambda z: 2 * z),
    ("reciprocal", lambda z: 1 / z, lambda z: -1 / z**2), ("cube", lambda z: z**3, lambda z: 3 * z**2),
    ("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    ("polynomial", lambda z: 2j * z**2 - z + 0.5, lambda z: 4j * z - 1),
]


@pytest.mark.parametrize("name, f, f_prime", HOLOMORPHIC, ids=[h[0] for h in HOLOMORPHIC])
def test_gradient_of_a_holomorphic_function_is_its_derivative(name, f, f_prime):
    """grad(f)(z) = f'(z), the same in the real and the imaginary direction."""
    gradient = ad.grad(f)(Z)
    np.testing.assert_allclose(gradient, f_prime(Z), rtol=1e-13)
    np.testing.assert_allclose(gradient, central_directional(f, Z, 1.0), rtol=1e-9)
    np.testing.assert_allclose(gradient, central_directional(f, Z, 1j) / 1j, rtol=1e-9)
    np.testing.assert_allclose(ad.derivative(f, Z), f_prime(Z), rtol=1e-13)
    np.testing.assert_allclose(ad.jvp(f, (Z,), (1j,))[1], 1j * f_prime(Z), rtol=1e-13)


LEFT_HALF_PLANE = [-2.0 + 0.5j, -0.3 - 1.7j, -1.1 + 0.01j, -4.0 - 0.2j]


@pytest.mark.parametrize("z", LEFT_HALF_PLANE)
def test_arccosh_follows_numpys_branch_left_of_the_imaginary_axis(z):
    """d/dz arccosh z = 1/(sqrt(z-1) sqrt(z+1)) on numpy's branch; the rule 1/sqrt(z*z-1) had
    the opposite sign wherever Re z < 0, in every mode and at second order."""
    first = 1 / (np.sqrt(z - 1) * np.sqrt(z + 1))
    second = -z * first**3  # (z*z - 1)^(-1) = first**2
    np.testing.assert_allclose(central_directional(np.arccosh, z, 1.0), first, rtol=1e-8)
    np.testing.assert_allclose(ad.grad(np.arccosh)(z), first, rtol=1e-13)
    np.testing.assert_allclose(ad.derivative(np.arccosh, z), first, rtol=1e-13)
    np.testing.assert_allclose(ad.jvp(np.arccosh, (z,), (1j,))[1], 1j * first, rtol=1e-13)
    for nested in (ad.grad(ad.grad(np.arccosh))(z), ad.derivative(ad.grad(np.arccosh), z),
                   ad.grad(lambda y: ad.derivative(np.arccosh, y))(z),
                   ad.derivative(lambda y: ad.derivative(np.arccosh, y), z)):
        np.testing.assert_allclose(nested, second, rtol=1e-12)
    loss = lambda y: np.abs(np.arccosh(y)) ** 2  # noqa: E731
    np.testing.assert_allclose(ad.grad(loss)(z), convention(loss, z), rtol=1e-8)


def test_second_derivative_of_a_holomorphic_function_in_every_nesting():
    expected = -np.sin(Z)
    np.testing.assert_allclose(ad.grad(ad.grad(np.sin))(Z), expected, rtol=1e-13)
    np.testing.assert_allclose(ad.derivative(ad.grad(np.sin), Z), expected, rtol=1e-13)
    np.testing.assert_allclose(ad.grad(lambda z: ad.derivative(np.sin, z))(Z), expected, rtol=1e-13)


def transmission(params):
    """|t|² of a wave through two delta barriers of strengths g1, g2 a distance 1 apart, at
    wave number k: a real function of real parameters computed with complex amplitudes."""
    g1, g2, k = params[0], params[1], params[2]
    r1, t1 = -1j * g1 / (2 * k + 1j * g1), 2 * k / (2 * k + 1j * g1)
    r2, t2 = -1j * g2 / (2 * k + 1j * g2), 2 * k / (2 * k + 1j * g2)
    phase = np.exp(2j * k)
    t = t1 * t2 / (1 - r1 * r2 * phase)
    return np.abs(t) ** 2


def test_real_parameters_of_a_complex_computation_get_real_gradients():
    p = np.array([0.8, 1.3, 1.1])
    gradient = ad.grad(transmission)(p)
    assert gradient.dtype == float
    np.testing.assert_allclose(gradient, ad.numerical_gradient(transmission, p), rtol=1e-7)
    assert 0.0 < transmission(p) < 1.0


def test_hessian_through_a_complex_computation():
    p = np.array([0.8, 1.3, 1.1])
    reference = np.column_stack([ad.numerical_gradient(lambda q, i=i: ad.grad(transmission)(q)[i], p)
                                 for i in range(3)])
    hessian = ad.hessian(transmission, p)
    assert hessian.dtype == float
    np.testing.assert_allclose(hessian, reference, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.jvp(ad.grad(transmission), p, np.eye(3)[0])[1], reference[:, 0],
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", [np.linalg.norm, np.var, np.std, lambda z: np.linalg.norm(z, 1)],
                         ids=["norm", "var", "std", "norm-ord1"])
def test_real_reductions_of_complex_arrays_are_numpys(f):
    """The norm and the variance take |z|**2: the traced value is numpy's, and the gradient
    follows the convention."""
    values = []
    gradient = ad.grad(lambda z: values.append(f(z)) or values[-1])(ZS)
    np.testing.assert_allclose(values[0].value, f(ZS), rtol=1e-14)
    np.testing.assert_allclose(gradient, convention(f, ZS), rtol=1e-9, atol=1e-10)


ZS_WITH_ZERO = np.array([0j, 1.3 - 0.4j, -0.7 + 2.1j])


@pytest.mark.parametrize("f", [
    np.linalg.norm, np.var, np.std, lambda z: np.sum(np.abs(z) ** 2 * [1.0, 2.0, -0.5]),
    lambda z: np.sum(abs(z) * abs(z)), lambda z: np.linalg.norm(z * np.array([[1.0], [2.0]]))],
    ids=["norm", "var", "std", "abs-squared", "abs-times-abs", "norm-2d"])
def test_smooth_real_functions_of_a_complex_array_with_a_zero_entry(f):
    """|z|**2 is smooth at z = 0 (gradient 2z = 0), though |z| is not: the derivative of |z|
    there is 0, as np.sign(0) for a real x, not conj(z)/|z| = 0/0 = nan; the norm and the
    variance of an array with an entry 0 have finite gradients. In both modes, and the value
    numpy's bit for bit."""
    values = []
    gradient = ad.grad(lambda z: values.append(f(z)) or values[-1])(ZS_WITH_ZERO)
    np.testing.assert_array_equal(values[0].value, f(ZS_WITH_ZERO))
    expected = convention(f, ZS_WITH_ZERO)
    np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-10)
    for v in (np.array([1.0, 0.5, -2.0]) + 0j, np.array([0.3j, -1.0, 1j])):
        np.testing.assert_allclose(ad.jvp(f, ZS_WITH_ZERO, v)[1], np.real(np.sum(expected * v)),
                                   rtol=1e-9, atol=1e-10)


def test_complex_matrix_products_and_solve():
    a = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)

    def loss(a):
        return np.sum(np.abs(np.linalg.solve(a, b) @ a.T + np.linalg.inv(a) @ b) ** 2)

    np.testing.assert_allclose(ad.grad(loss)(a), convention(loss, a), rtol=1e-8, atol=1e-9)


def test_forward_abs_along_i():
    """|z| moves by Re(conj(z) dz) / |z| along dz = i: Im(z) / |z| = 0.0763 at z = 1.66 + 0.127i."""
    value, tangent = ad.jvp(np.abs, (Z,), (1j,))
    assert value == abs(Z)
    np.testing.assert_allclose(tangent, Z.imag / abs(Z), rtol=1e-15)


@pytest.mark.parametrize("f, along_one, along_i", [(np.real, 1.0, 0.0), (np.imag, 0.0, 1.0),
                                                   (np.conj, 1.0, -1j)],
                         ids=["real", "imag", "conj"])
def test_forward_real_imag_conj(f, along_one, along_i):
    assert ad.jvp(f, (Z,), (1.0,))[1] == along_one
    assert ad.jvp(f, (Z,), (1j,))[1] == along_i


def test_reverse_mode_on_complex_is_not_truncated():
    """|z|**2 = x**2 + y**2: the gradient is 2 conj(z) (2 Re z - 2i Im z), not 2 Re z."""
    np.testing.assert_allclose(ad.grad(lambda z: np.abs(z) ** 2)(Z), 2 * np.conj(Z), rtol=1e-15)


def test_variables_and_duals_keep_complex_values():
    np.testing.assert_array_equal(ad.Variable(np.array([1 + 2j])).value, [1 + 2j])
    assert ad.Variable(1 + 2j).value == 1 + 2j
    np.testing.assert_array_equal(ad.Dual(np.array([1 + 2j]), 1.0).val, [1 + 2j])


def test_a_complex_seed_is_kept():
    z = ad.Variable(np.array([1.0 + 1j, 2.0]))
    (z * z).backward(seed=np.array([1j, 1.0]))
    np.testing.assert_array_equal(z.grad, [2j * (1.0 + 1j), 4.0])


@pytest.mark.parametrize("f, name", [
    (lambda a: np.linalg.eigh(a)[0], "np.linalg.eigh"),
    (lambda a: np.linalg.svd(a, compute_uv=False), "np.linalg.svd"),
    (lambda a: np.linalg.cholesky(a), "np.linalg.cholesky"),
    (lambda a: np.linalg.slogdet(a)[1], "np.linalg.slogdet"),
], ids=["eigh", "svd", "cholesky", "slogdet"])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_linear_algebra_of_complex_matrices_is_refused_with_the_way_out(f, name, mode):
    a = np.array([[2.0, 0.5j], [-0.5j, 1.0]])
    with pytest.raises(NotImplementedError, match=rf"{name} of a complex matrix has no derivative "
                                                  r"rule here, in either mode"):
        if mode == "rev":
            ad.grad(lambda m: np.real(np.sum(f(m))))(a)
        else:
            ad.jvp(f, a, np.ones((2, 2)))


@pytest.mark.parametrize("name, f", [("holomorphic", lambda z: np.sum(z**3 * W)),
                                     ("real-loss", lambda z: np.sum(np.abs(z**2 + W * z) ** 2))])
def test_every_gradient_entry_point_keeps_a_complex_point(name, f):
    """forward_gradient, numerical_gradient, check_grad, hvp and hessian at a complex point:
    the point's imaginary part is never dropped (numpy's ComplexWarning is an error here), and
    each gives reverse mode's gradient (or its jvp, for the second order) in its convention."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        gradient = ad.grad(f)(ZS)
        np.testing.assert_allclose(gradient, convention(lambda z: np.real(f(z)), ZS), rtol=1e-8)
        np.testing.assert_allclose(ad.forward_gradient(f, ZS), gradient, rtol=1e-13)
        np.testing.assert_allclose(ad.numerical_gradient(f, ZS), gradient, rtol=1e-8)
        assert ad.check_grad(f, ZS).max_relative_error < 1e-8
        columns = np.column_stack([ad.jvp(ad.grad(f), ZS, e)[1] for e in np.eye(3)])
        np.testing.assert_allclose(ad.hessian(f, ZS), columns, rtol=1e-12)
        np.testing.assert_allclose(ad.hvp(f, ZS, np.eye(3)[1]), columns[:, 1], rtol=1e-12)


def test_forward_gradient_at_a_real_point_of_a_complex_f_is_grads():
    """At a real x, grad of a complex-valued f is the gradient of Re f (a real input gets a
    real gradient); forward_gradient returned the complex derivative there."""
    f = lambda x: np.sum(np.exp(1j * x) * x)  # noqa: E731
    x = np.array([0.3, 1.1])
    np.testing.assert_allclose(ad.forward_gradient(f, x), ad.grad(f)(x), rtol=1e-14)
    assert not np.iscomplexobj(ad.forward_gradient(f, x))


NOT_HOLOMORPHIC = {
    "abs": lambda t: np.sum(np.abs(t) ** 3),
    "real": lambda t: np.sum(np.real(t) ** 3) * t[0],
    "imag": lambda t: np.sum(np.imag(1j * t) ** 3),
    "angle": lambda t: np.sum(np.angle(t) * t**2),
    "log-abs": lambda t: np.sum(np.log(np.abs(t))) * t[0],
    "astype": lambda t: np.sum(np.sin(t.astype(np.float32)) * t**2),
}


@pytest.mark.parametrize("name", list(NOT_HOLOMORPHIC))
def test_hvp_at_a_real_point_along_a_complex_v_is_h_re_v_plus_i_h_im_v(name):
    """At a real x, ad.hvp along a complex v is H Re v + i H Im v (H the real Hessian) for
    every f; jvp(grad(f), x, v) is not, through abs, real, imag, angle or astype (it steps
    into the complex plane), which the README claimed it was (tester36 §6)."""
    f = NOT_HOLOMORPHIC[name]
    x, v = np.array([-2.0, 0.7, 1.3]), np.array([1j, 1 + 2j, -0.5 + 0.3j])
    hessian = ad.hessian(f, x)
    assert not np.iscomplexobj(hessian)
    expected = hessian @ v.real + 1j * (hessian @ v.imag)
    float32 = name == "astype"  # float32 tangents round each direction on its own
    np.testing.assert_allclose(ad.hvp(f, x, v), expected, rtol=1e-6 if float32 else 1e-12)
    differences = (ad.grad(f)(x + 1e-4 * v.real) - ad.grad(f)(x - 1e-4 * v.real)) / 2e-4
    np.testing.assert_allclose(hessian @ v.real, differences, rtol=1e-3 if float32 else 1e-6)
    assert not np.allclose(ad.jvp(ad.grad(f), x, v)[1], expected)  # the README says so now


def test_second_derivatives_of_the_complex_sign():
    """The rule of np.sign for a complex z is written with traced operations: hvp matches
    a central difference of the gradient, and at z = 0 the derivative is 0 (sign'(0) of a
    real x) in both modes."""
    def L(z):
        return np.sum(np.real(np.sign(z) * W) * np.abs(z) ** 2)

    v = 0.4 - 0.9j * np.arange(1, 4)
    hv = ad.hvp(L, ZS, v)
    reference = central_directional(ad.grad(L), ZS, v)
    np.testing.assert_allclose(hv, reference, rtol=1e-7, atol=1e-9)
    assert ad.derivative(np.sign, 0j) == 0
    assert ad.grad(lambda z: np.imag(np.sign(z)))(0j) == 0
    assert ad.derivative(np.sign, np.complex64(1 + 1j)).dtype == np.complex64
