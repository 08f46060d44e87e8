"""Every supported numpy function, in both modes and at second order, against finite differences.

In the spirit of autograd's tests/test_systematic.py: a table of numpy
functions, each with random arguments drawn inside its domain (seeded from the
case's name), over several shapes, broadcasting and axis arguments. For each
case and each argument the library's derivative is compared with a plain-numpy
reference (derivative_checks.py: five-point central differences, or the
complex step where the function is real-analytic and numpy accepts complex):

- ``rev``      ad.grad of sum(f(x) * w), w a fixed random weight
- ``fwd``      ad.jvp of f along a random tangent (value and tangent)
- ``rev_rev``  ad.grad of <ad.grad(F)(x), u>            -> v^T H u
- ``fwd_rev``  ad.jvp(ad.grad(F), x, u)                  -> v^T H u
- ``rev_fwd``  ad.grad of ad.jvp(F, x, v)[1]             -> u^T H v
- ``fwd_fwd``  ad.jvp of ad.jvp(F, x, v)[1] along u      -> u^T H v

with F(x) = sum(w * f(x) + w2 * f(x)**2 / 2) for the second-order modes (the
square makes the backward sweep of f carry a traced cotangent, which a linear F
would not; the second random weight w2 makes a wrong order of f's outputs show),
compared with a central difference of the first derivative's reference.
A primitive added without a correct rule fails here: its case raises or
disagrees with the differences. And in every mode the value f(x) computed under
tracing is numpy's own (``test_tracing_never_changes_a_value``): a derivative of
another function than the user's would be a wrong derivative.
"""

import numpy as np
import pytest

import autodiff_helpers as ad
from derivative_checks import (
    central_directional,
    directional,
    mixed_second,
    random_like,
    with_argument,
)
from numpy_cases import (
    CASES,
    MODES,
    check_case,
    second_order_objective,
    second_order_weights,
    traced_values,
)

SUPPORTED = [(case, mode) for case in CASES for mode in MODES]


@pytest.mark.parametrize("case, mode", SUPPORTED, ids=[f"{c.name}-{m}" for c, m in SUPPORTED])
def test_derivative_matches_differences(case, mode):
    check_case(case, mode)


# cases whose traced value is computed by another sequence of float operations than numpy's
# own function: equal to round-off, not bit for bit
ANOTHER_PATH = {
    "linalg.norm-vector-ord2": "sqrt(sum(x * x)), numpy scales by the largest entry",
    "dot-2d-3d": "einsum, numpy: BLAS", "dot-3d-3d": "einsum, numpy: BLAS",
    "tensordot-1": "einsum, numpy: BLAS", "tensordot-2": "einsum, numpy: BLAS",
    "tensordot-pairs": "einsum, numpy: BLAS", "inner-2d": "einsum, numpy: BLAS",
    "inner-1d": "multiply and sum, numpy: BLAS dot (another kernel sums in another order)",
    # numpy's norm with no ord or axis is sqrt(dot(x, x)) of the flattened x, a BLAS dot too:
    # the Katmai kernel (OPENBLAS_CORETYPE=Prescott, Core2, Penryn, Opteron) sums in another order
    "linalg.norm-vector": "sqrt(sum(x * x)), numpy: sqrt of a BLAS dot (another kernel sums in "
                          "another order)",
    "linalg.norm-frobenius": "sqrt(sum(x * x)), numpy: sqrt of a BLAS dot of the flattened "
                             "matrix (another kernel sums in another order)",
    "vdot": "multiply and sum, numpy: BLAS dot (another kernel sums in another order)",
    "gradient-spacing-edge2": "a matrix applied with einsum, numpy: differences of slices",
    "gradient-coordinates": "a matrix applied with einsum, numpy: differences of slices",
    "eigvalsh": "eigh's eigenvalues, numpy: LAPACK's eigenvalues-only routine",
}


@pytest.mark.parametrize("case, mode", SUPPORTED, ids=[f"{c.name}-{m}" for c, m in SUPPORTED])
def test_tracing_never_changes_a_value(case, mode):
    """f(x) computed inside grad, jvp or any nesting of them is numpy's f(x): bit for bit,
    or to round-off where the traced value is computed another way (ANOTHER_PATH)."""
    args, _ = case.args()
    expected = case.function(*args)
    for i, value in enumerate(traced_values(case, mode)):
        assert_numpy_value(case, value, expected, f"argument {i}")


def as_float32(args):
    return tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                 else a for a in args)


FLOAT32 = [(case, mode) for case, mode in SUPPORTED
           if any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in case.args()[0])]
# the einsum path sums in another order than numpy's BLAS: in float32 that shows in the last bit
ANOTHER_PATH_FLOAT32 = {"vdot": "einsum, numpy: BLAS"}


@pytest.mark.parametrize("case, mode", FLOAT32, ids=[f"{c.name}-{m}" for c, m in FLOAT32])
def test_tracing_keeps_a_float32_value(case, mode):
    """At float32 arguments f(x) under tracing is numpy's float32 f(x) too, of numpy's dtype:
    np.broadcast_to, concatenate, stack, append, gradient and polyval made float64 arrays
    (and all that followed them float64), x.astype(float) was x itself, still float32, and
    np.dot(2.5, x) multiplied by a weak Python number (numpy: float64)."""
    args = as_float32(case.args()[0])
    expected = case.function(*args)
    for i, value in enumerate(traced_values(case, mode, args)):
        message = f"argument {i}"
        assert np.result_type(value) == np.result_type(expected), f"{message}: dtype"
        assert np.shape(value) == np.shape(expected), f"{message}: shape"
        if case.name in ANOTHER_PATH or case.name in ANOTHER_PATH_FLOAT32:
            np.testing.assert_allclose(value, expected, 1e-6, 1e-7, err_msg=message)
        else:
            np.testing.assert_array_equal(value, expected, err_msg=message)


FLOAT32_CASES = sorted({case.name: case for case, _ in FLOAT32}.values(), key=lambda c: c.name)


@pytest.mark.parametrize("case", FLOAT32_CASES, ids=[c.name for c in FLOAT32_CASES])
def test_gradient_at_a_float32_point_is_float32(case):
    """ad.grad returns the gradient of a float32 argument as float32, as autograd and JAX do
    (max, min, clip, floor, log2, the linalg rules ... computed their partials in float64, and
    the gradient was float64)."""
    args = as_float32(case.args()[0])
    for i, x in enumerate(args):
        if isinstance(x, np.ndarray) and x.dtype == np.float32:
            f = with_argument(case.function, args, i)
            gradient = ad.grad(lambda y, f=f: np.real(np.sum(f(y))))(x)
            assert np.result_type(gradient) == np.float32, f"argument {i}"



@pytest.mark.parametrize("case", FLOAT32_CASES, ids=[c.name for c in FLOAT32_CASES])
def test_tangent_at_a_float32_point_has_the_values_dtype(case):
    """ad.jvp returns the tangent of a float32 value as float32, as grad returns a float32
    argument's gradient, and forward_gradient and hvp return x's dtype (max, min, eigh,
    cholesky, svd, pinv, 2.0**x computed their partials in float64 and the tangent was
    float64; forward_gradient of a float64 output of a float32 x was float64)."""
    args = as_float32(case.args()[0])
    for i, x in enumerate(args):
        if isinstance(x, np.ndarray) and x.dtype == np.float32:
            f = with_argument(case.function, args, i)
            value, tangent = ad.jvp(f, x, np.ones(x.shape, np.float32))
            assert np.result_type(tangent) == np.result_type(value), f"argument {i}"
            if x.ndim == 1:
                def F(y, f=f):
                    return np.real(np.sum(f(y)))

                assert ad.forward_gradient(F, x).dtype == np.float32, f"argument {i}"
                assert ad.hvp(F, x, np.ones(x.shape)).dtype == np.float32, f"argument {i}"

def assert_numpy_value(case, value, expected, message):
    assert np.shape(value) == np.shape(expected), f"{message}: shape"
    if case.name in ANOTHER_PATH:
        np.testing.assert_allclose(value, expected, 1e-14, 1e-15, err_msg=message)
    else:
        np.testing.assert_array_equal(value, expected, err_msg=message)


def test_another_path_names_cases():
    assert set(ANOTHER_PATH) <= {case.name for case in CASES}


def test_case_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [c for c in CASES if c.complex_step], ids=lambda c: c.name)
def test_complex_step_reference_is_valid(case):
    """Where the table claims the complex step applies, it agrees with central differences
    (so a wrong flag cannot hide a wrong rule behind a wrong reference)."""
    args, rng = case.args()
    for i, x in enumerate(args):
        f = with_argument(case.function, args, i)
        tangent = random_like(rng, x)
        np.testing.assert_allclose(directional(f, x, tangent, True),
                                   directional(f, x, tangent, False), 1e-8, 1e-9)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_reference_is_smooth_at_the_drawn_points(case):
    """The stencil with steps h and h/2 agrees: no kink, jump or domain edge within reach of
    the differences (else a failure would blame the library for the reference's error)."""
    args, rng = case.args()
    for i, x in enumerate(args):
        f = with_argument(case.function, args, i)
        tangent = random_like(rng, x)
        np.testing.assert_allclose(central_directional(f, x, tangent),
                                   central_directional(f, x, tangent, h=5e-4), 1e-8, 1e-9)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_second_order_reference_is_stable(case):
    """The second-order reference u^T H v with steps h and h/2 agrees to well within RTOL2."""
    args, rng = case.args()
    weights = second_order_weights(case, args, rng)
    for i, x in enumerate(args):
        F = second_order_objective(case, args, i, weights)
        u, v = random_like(rng, x), random_like(rng, x)
        np.testing.assert_allclose(mixed_second(F, x, u, v, case.complex_step),
                                   mixed_second(F, x, u, v, case.complex_step, h=5e-4), 1e-7, 1e-7)


# primitives that the table reaches only through others, that belong to nn.py (tested
# in test_nn.py), or that only a complex input reaches (the table is real; test_complex.py)
NOT_CALLED_DIRECTLY = {"affine", "cross_entropy", "complex_sign"}


def test_every_primitive_has_a_case():
    """Each registered primitive appears in the reverse-mode graph of some case: a new
    primitive without a case (so without a check of its rule) fails here."""
    import autodiff_helpers as ad

    seen = set()
    for case in CASES:
        args, _ = case.args()
        variables = [ad.Variable(x) for x in args]
        out = case.function(*variables)
        for part in out if isinstance(out, tuple) else (out,):
            if isinstance(part, ad.Variable):
                seen |= {node.op for node in ad.topological_order(part)}
    missing = set(ad.PRIMITIVES) - seen - NOT_CALLED_DIRECTLY - {None}
    assert not missing, f"primitives without a case in numpy_cases.py: {sorted(missing)}"


def test_central_reference_is_accurate():
    """The stencil the tests trust: exact for a quartic, 1e-12 for sin."""
    assert central_directional(lambda x: x**4, 1.3, 1.0) == pytest.approx(4 * 1.3**3, rel=1e-12)
    assert central_directional(np.sin, 0.7, 1.0) == pytest.approx(np.cos(0.7), rel=1e-11)


MULTI_ARGUMENT = [case for case in CASES if len(case.args()[0]) > 1]


@pytest.mark.parametrize("case", MULTI_ARGUMENT, ids=lambda case: case.name)
def test_every_argument_perturbed_at_once(case):
    """One jvp along all the arguments: the tangent is the sum of each argument's
    directional derivative, and neither the arguments nor their tangents change (the
    tangent's terms are summed in place into arrays the operation made, never into a
    tangent passed in or a view of one)."""
    args, rng = case.args()
    tangents = tuple(random_like(rng, x) for x in args)
    kept = [np.copy(a) for a in args + tangents]
    value, tangent = ad.jvp(case.function, args, tangents)
    for before, after in zip(kept, args + tangents):
        np.testing.assert_array_equal(after, before, err_msg="an argument or a tangent changed")
    shifted = lambda t: case.function(*(x + t * v for x, v in zip(args, tangents)))  # noqa: E731
    expected = central_directional(shifted, 0.0, 1.0)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-8)
    assert_numpy_value(case, value, case.function(*args), "the value")


def test_polyval_with_a_list_of_coefficients_at_a_float32_point_is_numpys_float64():
    """numpy reads the list as a float64 array, whose entries are not weak scalars: a float32
    x gives float64. The engine added Python floats (weak) and kept float32."""
    x = np.array([0.1, 0.7, 1.3], dtype=np.float32)
    expected = np.polyval([1.0, 2.0, 0.3], x)
    for value in (ad.jvp(lambda t: np.polyval([1.0, 2.0, 0.3], t), x, np.ones(3, np.float32))[0],
                  np.polyval([1.0, 2.0, 0.3], ad.Variable(x)).value):
        assert value.dtype == expected.dtype
        np.testing.assert_array_equal(value, expected)
