"""Issue 15, case by case: what a new user tried, each now the right answer or a clear error.

Public API only (``import autodiff_helpers as ad``). Where the issue allows the
library either to support something or to refuse it, ``right_or_refused``
accepts exactly those two outcomes: the right value, or a TypeError /
ValueError / NotImplementedError whose message names the function. A silent
wrong answer (a zero tangent, a truncated complex number, nan) fails.
"""

import math
import re

import numpy as np
import pytest

import autodiff_helpers as ad
from derivative_checks import central_directional, numerical_gradient
from numpy_cases import CASES, first_order

REFUSALS = (TypeError, ValueError, NotImplementedError)
GENERIC_NUMPY_REFUSAL = "no implementation found for"


def right_or_refused(compute, expected, names, rtol=1e-12, atol=1e-12):
    """compute() equals ``expected``, or raises a refusal whose message matches ``names``
    and is the library's own (numpy's generic "no implementation found for ..." names the
    function but not what to do instead)."""
    try:
        got = compute()
    except REFUSALS as error:
        assert re.search(names, str(error)), f"the error does not name {names!r}: {error}"
        assert GENERIC_NUMPY_REFUSAL not in str(error), f"numpy's generic error, not a clear one: {error}"
        return
    np.testing.assert_allclose(got, expected, rtol, atol)


# -- np.array([...]) and friends built from traced values --------------------------
# (builder, f of a scalar, the right derivative at x = 3 summed over the outputs,
#  the right forward tangent, what a refusal must name)

BUILDERS = [
    ("np.array", lambda x: np.array([x, x * 1.0, x + 2.5]), [1.0, 1.0, 1.0], r"np\.array|array"),
    ("np.r_", lambda x: np.r_[x, 2 * x], [1.0, 2.0], r"r_|concatenate|array"),
    ("np.c_", lambda x: np.c_[x, 2 * x], [[1.0, 2.0]], r"c_|concatenate|array"),
    ("np.append", lambda x: np.append(x, 2 * x), [1.0, 2.0], r"append|concatenate|array"),
    ("np.max of np.array", lambda x: np.max(np.array([x, 2 * x])), 2.0, r"max|array"),
]


@pytest.mark.parametrize("builder, f, tangent, names", BUILDERS, ids=[b[0] for b in BUILDERS])
def test_array_from_traced_values_forward(builder, f, tangent, names):
    right_or_refused(lambda: ad.jvp(f, (3.0,), (1.0,))[1], tangent, names)


@pytest.mark.parametrize("builder, f, tangent, names", BUILDERS, ids=[b[0] for b in BUILDERS])
def test_array_from_traced_values_reverse(builder, f, tangent, names):
    right_or_refused(lambda: ad.grad(lambda x: np.sum(f(x)))(3.0), np.sum(tangent), names)


def outcome(compute):
    """'refused' if compute() raises a refusal, else its value."""
    try:
        return compute()
    except REFUSALS:
        return "refused"


@pytest.mark.parametrize("builder, f, tangent, names", BUILDERS, ids=[b[0] for b in BUILDERS])
def test_array_from_traced_values_same_outcome_in_both_modes(builder, f, tangent, names):
    """The issue: object arrays of duals/nodes either work in both modes or are refused in both."""
    forward = outcome(lambda: ad.jvp(f, (3.0,), (1.0,))[1])
    reverse = outcome(lambda: ad.grad(lambda x: np.sum(f(x)))(3.0))
    assert (isinstance(forward, str), isinstance(reverse, str)) in ((True, True), (False, False)), \
        f"forward: {forward!r}, reverse: {reverse!r}"


def test_array_from_traced_values_first_example_of_the_issue():
    """The exact call of the issue: never the silent tangent [0, 0, 0]."""
    try:
        _, tangent = ad.jvp(lambda x: np.array([x, x * 1.0, x + 2.5]), (3.0,), (1.0,))
    except REFUSALS as error:
        assert "array" in str(error)
    else:
        np.testing.assert_array_equal(np.asarray(tangent, dtype=float), [1.0, 1.0, 1.0])


# -- nested derivatives that close over the outer variable -------------------------
# f(x) = x * d/dy (x y) = x**2, so f'(x) = 2x: 2 at x = 1, 6 at x = 3.

@pytest.mark.parametrize("x, expected", [(1.0, 2.0), (3.0, 6.0)])
def test_nested_grad_closing_over_outer_variable(x, expected):
    assert ad.grad(lambda x: x * ad.grad(lambda y: x * y)(2.0))(x) == expected


@pytest.mark.parametrize("x, expected", [(1.0, 2.0), (3.0, 6.0)])
def test_grad_over_derivative_closing_over_outer_variable(x, expected):
    assert ad.grad(lambda x: x * ad.derivative(lambda y: x * y, 2.0))(x) == expected


@pytest.mark.parametrize("x, expected", [(1.0, 2.0), (3.0, 6.0)])
def test_derivative_over_grad_closing_over_outer_variable(x, expected):
    assert ad.derivative(lambda x: x * ad.grad(lambda y: x * y)(2.0), x) == expected


@pytest.mark.parametrize("x, expected", [(1.0, 2.0), (3.0, 6.0)])
def test_derivative_over_derivative_closing_over_outer_variable(x, expected):
    """Forward mode already tags its perturbations: the reference behaviour."""
    assert ad.derivative(lambda x: x * ad.derivative(lambda y: x * y, 2.0), x) == expected


# -- np.dot on N-D arrays ------------------------------------------------------------

DOT_SHAPES = [((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4))]


@pytest.mark.parametrize("shape_a, shape_b", DOT_SHAPES)
def test_nd_dot_value_and_forward_mode(shape_a, shape_b):
    rng = np.random.default_rng(15)
    a, b, da, db = (rng.standard_normal(s) for s in (shape_a, shape_b, shape_a, shape_b))
    value, tangent = ad.jvp(np.dot, (a, b), (da, db))
    np.testing.assert_allclose(value, np.dot(a, b), 1e-12, 1e-12)
    np.testing.assert_allclose(tangent, np.dot(da, b) + np.dot(a, db), 1e-12, 1e-12)


@pytest.mark.parametrize("shape_a, shape_b", DOT_SHAPES)
def test_nd_dot_value_and_reverse_mode(shape_a, shape_b):
    rng = np.random.default_rng(15)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    product = np.dot(ad.Variable(a), b)
    assert product.shape == np.dot(a, b).shape
    np.testing.assert_allclose(product.value, np.dot(a, b), 1e-12, 1e-12)
    weight = rng.standard_normal(np.dot(a, b).shape)
    grad_a, grad_b = ad.grad(lambda a, b: np.sum(np.dot(a, b) * weight), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(grad_a, numerical_gradient(lambda a: np.sum(np.dot(a, b) * weight), a),
                               1e-9, 1e-10)
    np.testing.assert_allclose(grad_b, numerical_gradient(lambda b: np.sum(np.dot(a, b) * weight), b),
                               1e-9, 1e-10)


# -- d/dy 0**y = 0 for y > 0 -----------------------------------------------------------

@pytest.mark.parametrize("y", [0.5, 2.0, 3.0])
def test_zero_to_the_y_reverse(y):
    assert ad.grad(lambda y: 0.0**y)(y) == 0.0
    assert ad.grad(lambda y: np.power(0.0, y))(y) == 0.0


@pytest.mark.parametrize("y", [0.5, 2.0, 3.0])
def test_zero_to_the_y_forward(y):
    assert ad.derivative(lambda y: 0.0**y, y) == 0.0
    np.testing.assert_array_equal(
        ad.jvp(lambda y: np.power(0.0, y), np.array([y, y + 1.0]), np.ones(2))[1], [0.0, 0.0])


def test_power_of_a_traced_zero_base_is_still_right():
    """The base's partial y x**(y-1) at x = 0 (not part of the bug; a guard for the fix)."""
    assert ad.grad(lambda x: x**2.0)(0.0) == 0.0
    assert ad.derivative(lambda x: x**3.0, 0.0) == 0.0


# -- jvp broadcasts its tangent like the value ---------------------------------------

@pytest.mark.parametrize("f, shape", [(lambda x: x + np.ones(4), (4,)),
                                      (lambda x: np.ones((2, 3)) - x, (2, 3)),
                                      (lambda x: np.zeros(3) + 0.0 * np.ones(3) + x, (3,))],
                         ids=["add", "rsub", "chain"])
@pytest.mark.parametrize("form", ["tuple", "array"])
def test_jvp_tangent_has_the_shape_of_the_value(f, shape, form):
    primals, tangents = ((2.0,), (1.0,)) if form == "tuple" else (2.0, 1.0)
    value, tangent = ad.jvp(f, primals, tangents)
    assert np.shape(value) == shape
    assert np.shape(tangent) == shape
    np.testing.assert_allclose(np.abs(tangent), np.ones(shape))


# -- complex numbers: supported correctly or refused, never truncated ----------------

Z = 1.66 + 0.127j


def test_variable_keeps_or_refuses_complex_values():
    try:
        x = ad.Variable(np.array([1 + 2j]))
    except TypeError as error:
        assert "complex" in str(error)
    else:
        np.testing.assert_array_equal(x.value, [1 + 2j])


def test_dual_keeps_or_refuses_complex_values():
    try:
        x = ad.Dual(np.array([1 + 2j]), 1.0)
    except TypeError as error:
        assert "complex" in str(error)
    else:
        np.testing.assert_array_equal(x.val, [1 + 2j])


def test_forward_abs_of_complex_along_i():
    """d|z| along i is Re(conj(z) i) / |z| = Im(z) / |z| = 0.0763 at z = 1.66 + 0.127i."""
    right_or_refused(lambda: ad.jvp(np.abs, (Z,), (1j,))[1], Z.imag / abs(Z), "complex")


@pytest.mark.parametrize("direction", [1.0, 1j])
@pytest.mark.parametrize("f, f_prime", [(np.sin, np.cos), (np.exp, np.exp),
                                        (lambda z: z * z, lambda z: 2 * z),
                                        (lambda z: 1 / z, lambda z: -1 / z**2)],
                         ids=["sin", "exp", "square", "reciprocal"])
def test_forward_holomorphic_complex(f, f_prime, direction):
    """A holomorphic f moves by f'(z) dz, in any direction dz."""
    right_or_refused(lambda: ad.jvp(f, (Z,), (direction,))[1], f_prime(Z) * direction, "complex")


@pytest.mark.parametrize("f, along_one, along_i", [(np.real, 1.0, 0.0), (np.imag, 0.0, 1.0),
                                                   (np.conj, 1.0, -1j)],
                         ids=["real", "imag", "conj"])
def test_forward_real_imag_conj(f, along_one, along_i):
    right_or_refused(lambda: ad.jvp(f, (Z,), (1.0,))[1], along_one, "complex")
    right_or_refused(lambda: ad.jvp(f, (Z,), (1j,))[1], along_i, "complex")


def test_derivative_of_holomorphic_function_at_complex_point():
    right_or_refused(lambda: ad.derivative(np.sin, Z), np.cos(Z), "complex")


def test_reverse_mode_on_complex_is_not_truncated():
    """|z|**2 = x**2 + y**2: the gradient is 2z or 2 conj(z) (the conventions of autograd
    and JAX differ by a conjugate), never the real part 2 Re(z) alone."""
    try:
        gradient = ad.grad(lambda z: np.abs(z) ** 2)(Z)
    except TypeError as error:
        assert "complex" in str(error)
        return
    assert np.iscomplexobj(gradient)
    np.testing.assert_allclose(abs(gradient), 2 * abs(Z), 1e-12)
    np.testing.assert_allclose(abs(gradient.real), 2 * Z.real, 1e-12)
    np.testing.assert_allclose(abs(gradient.imag), 2 * Z.imag, 1e-12)


# -- reverse over reverse ------------------------------------------------------------

def test_grad_of_grad_of_sin():
    np.testing.assert_allclose(ad.grad(ad.grad(np.sin))(1.0), -math.sin(1.0), 1e-15, 0)


def test_third_derivative_by_reverse_over_reverse_over_reverse():
    np.testing.assert_allclose(ad.grad(ad.grad(ad.grad(np.sin)))(1.0), -math.cos(1.0), 1e-15, 0)


def test_grad_of_grad_of_a_cubic():
    assert ad.grad(ad.grad(lambda x: x**3 - 2 * x))(2.0) == 12.0


def test_grad_of_grad_component_on_arrays():
    """The gradient of df/dx_1 = 3 x0**2 x1**2 for f = x0**2 x1**3: (6 x0 x1**2, 6 x0**2 x1)."""
    f = lambda x: x[0] ** 2 * x[1] ** 3  # noqa: E731
    mixed = ad.grad(lambda x: ad.grad(f)(x)[1])(np.array([1.0, 2.0]))
    np.testing.assert_allclose(mixed, [24.0, 12.0], 1e-14)


# -- the numpy surface the issue lists as missing: both modes vs differences --------
# one representative of numpy_cases.CASES per item (test_systematic.py runs them all)

MISSING = {
    "np.linalg.norm": "linalg.norm-vector", "np.linalg.solve": "solve-vector",
    "np.linalg.inv": "inv", "np.linalg.det": "det", "np.linalg.slogdet": "slogdet-logabs",
    "np.linalg.eigh": "eigh-values", "np.linalg.svd": "svd-values",
    "np.linalg.cholesky": "cholesky", "np.linalg.pinv": "pinv",
    "np.einsum": "einsum-matmul", "np.tensordot": "tensordot-1", "N-D np.dot": "dot-3d-3d",
    "np.concatenate": "concatenate-axis1", "np.stack": "stack", "np.vstack": "vstack",
    "np.hstack": "hstack", "np.prod": "prod-2x3-all", "np.cumsum": "cumsum-2x3-axis0",
    "np.max(axis)": "max-2x3-axis1", "np.min(axis)": "min-2x3-axis0",
    "np.amax(axis)": "amax-2x3-axis-1-keepdimsTrue", "np.tril": "tril", "np.triu": "triu",
    "np.trace": "trace", "np.repeat": "repeat_axis", "np.tile": "tile",
    "np.transpose(x, axes)": "transpose_axes",
    "np.transpose(x, axes=...)": "transpose_axes_keyword", "np.remainder": "remainder-2x3-3",
    "%": "op_mod-3-3", "np.logaddexp": "logaddexp-2x3-3", "np.arccosh": "arccosh-3",
    "np.fabs": "fabs-3", "np.fmax": "fmax-2x1-1x3", "np.fmin": "fmin-3-3",
    "np.deg2rad": "deg2rad-3", ".ravel()": "ravel", ".flatten()": "flatten",
    ".squeeze()": "squeeze", ".astype()": "astype",
}
CASE_BY_NAME = {case.name: case for case in CASES}


def test_every_missing_item_has_a_case():
    assert set(MISSING.values()) <= set(CASE_BY_NAME), set(MISSING.values()) - set(CASE_BY_NAME)


MISSING_NOW = [(item, mode) for item in MISSING for mode in ("rev", "fwd")]


@pytest.mark.parametrize("item, mode", MISSING_NOW, ids=[f"{i}-{m}" for i, m in MISSING_NOW])
def test_missing_function_in_both_modes(item, mode):
    first_order(CASE_BY_NAME[MISSING[item]], mode)


@pytest.mark.parametrize("make", [lambda x: ad.Variable(x), lambda x: ad.Dual(x, np.ones_like(x))],
                         ids=["Variable", "Dual"])
def test_dtype_attribute(make):
    assert make(np.ones(3)).dtype == np.float64


def test_dtype_inside_differentiated_code():
    """A student allocates a work array with x.dtype: both modes must still differentiate."""
    def f(x):
        return np.sum(x * np.arange(1.0, 3.0, dtype=x.dtype)) ** 2

    x = np.array([1.0, 2.0])  # f = (x0 + 2 x1)**2 = 25, grad = 10 (1, 2)
    np.testing.assert_allclose(ad.grad(f)(x), [10.0, 20.0], 1e-14)
    np.testing.assert_allclose(ad.jvp(f, x, np.array([1.0, 0.0]))[1], 10.0, 1e-14)


# -- gradient of an output of shape (1,) or (1, 1), and of a constant output ----------

@pytest.mark.parametrize("f, x, expected", [
    (lambda x: np.sum(x**2, keepdims=True), np.array([1.0, 2.0]), [2.0, 4.0]),
    (lambda x: (x**2).reshape(1), 3.0, 6.0),
    (lambda x: np.sum(x**2, keepdims=True), np.array([[1.0, 2.0], [3.0, 4.0]]), [[2, 4], [6, 8]]),
    (lambda x: (x**3).reshape(1, 1), 2.0, 12.0),
], ids=["keepdims-(1,)", "reshape-(1,)", "keepdims-(1,1)", "reshape-(1,1)"])
def test_gradient_of_output_with_one_element(f, x, expected):
    gradient = ad.grad(f)(x)
    assert np.shape(gradient) == np.shape(x)
    np.testing.assert_allclose(gradient, expected, 1e-14)


@pytest.mark.parametrize("f, x", [(lambda x: 3.0, 2.0), (lambda x: np.ones(1).sum(), np.ones(3)),
                                  (lambda x: np.float64(1.5), np.ones((2, 2))),
                                  (lambda x: np.sign(x).sum(), np.array([0.5, -1.0]))],
                         ids=["float", "array-sum", "numpy-scalar", "piecewise-constant"])
def test_gradient_of_constant_output_is_zero(f, x):
    """autograd and JAX return zeros of the input's shape (autograd also warns)."""
    gradient = ad.grad(f)(x)
    assert np.shape(gradient) == np.shape(x)
    np.testing.assert_array_equal(gradient, np.zeros(np.shape(x)))


def test_second_derivative_of_a_linear_function_is_zero():
    """The inner gradient is a constant: the outer grad must see zeros, not raise."""
    assert ad.grad(ad.grad(lambda x: 3.0 * x))(2.0) == 0.0
    assert ad.derivative(ad.grad(lambda x: 3.0 * x), 2.0) == 0.0


def test_central_reference_is_accurate():
    """The stencil the tests trust: exact for a quartic, 1e-12 for sin."""
    assert central_directional(lambda x: x**4, 1.3, 1.0) == pytest.approx(4 * 1.3**3, rel=1e-12)
    assert central_directional(np.sin, 0.7, 1.0) == pytest.approx(math.cos(0.7), rel=1e-11)


# -- what stays refused, with an error that says what to do ----------------------------

@pytest.mark.parametrize("make", [lambda x: ad.Variable(x), lambda x: ad.Dual(x, np.ones_like(x))],
                         ids=["Variable", "Dual"])
def test_svd_extra_singular_vectors_are_refused_when_used(make):
    """np.linalg.svd(x) of a tall x with full_matrices=True: the columns of U beyond the thin
    SVD are any orthonormal completion, without a derivative; s and Vh still work."""
    u, s, vh = np.linalg.svd(make(np.arange(6.0).reshape(3, 2) + np.eye(3, 2)))
    assert np.shape(vh) == (2, 2) and np.shape(s) == (2,)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        u @ np.ones(3)


@pytest.mark.parametrize("f, names", [
    (lambda x: x.astype(int), r"astype\(int64\)"),
    (lambda x: np.prod(x * 0.0), r"np\.prod.*entry equal to 0"),
], ids=["astype-int", "prod-at-zero"])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_unsupported_uses_raise_a_clear_error(f, names, mode):
    compute = (lambda: ad.grad(lambda x: np.sum(f(x)))(3.0)) if mode == "rev" else (
        lambda: ad.jvp(f, (3.0,), (1.0,)))
    with pytest.raises(REFUSALS, match=names):
        compute()


@pytest.mark.parametrize("function, name", [(np.sort, "np.sort"), (np.linalg.qr, "np.linalg.qr")])
@pytest.mark.parametrize("make", [ad.Variable, lambda x: ad.Dual(x, np.ones_like(x))],
                         ids=["Variable", "Dual"])
def test_unsupported_numpy_function_is_refused_with_the_way_out(function, name, make):
    with pytest.raises(TypeError, match=rf"{name} has no derivative rule .* ad.defprimitive"):
        function(make(np.array([[2.0, 1.0], [0.5, 3.0]])))
