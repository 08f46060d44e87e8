"""The table of numpy functions the engine tests differentiate, and the checks run on each.

Each ``Case`` is a numpy function with random arguments drawn inside its domain
(seeded from the case's name, so every run sees the same points); ``first_order``
and ``second_order`` compare the library (public API only) with the plain-numpy
references of derivative_checks.py. test_systematic.py runs every case in every
mode.
"""

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

import autodiff_helpers as ad
from derivative_checks import (
    directional,
    mixed_second,
    numerical_gradient,
    random_like,
    with_argument,
)

RTOL, ATOL = 1e-6, 1e-8  # first order: the references are good to ~1e-11
RTOL2, ATOL2 = 1e-6, 1e-6  # second order: a difference of differences, good to ~1e-9


# -- domains: each draws an array of a shape, away from kinks and domain edges ----

def real(rng, shape):
    return rng.uniform(-1.5, 1.5, shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def unit(rng, shape):
    return rng.uniform(-0.8, 0.8, shape)


def above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


def nonzero(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 1.8, shape)


def off_integer(rng, shape):
    """Values at least 0.2 from every integer (floor, ceil, rint are constant there)."""
    return rng.integers(-3, 3, shape) + rng.uniform(0.2, 0.8, shape)


def separated(rng, shape, offset=0.0):
    """Distinct values on the grid 0.5 k (+-0.05): no ties for max, min, sort-like functions."""
    size = int(np.prod(shape))
    values = 0.5 * (rng.permutation(size) - size // 2) + offset + rng.uniform(-0.05, 0.05, size)
    return values.reshape(shape)


def separated_shifted(rng, shape):
    """On the grid 0.5 k + 0.25: never within 0.15 of a ``separated`` value, whatever the sizes."""
    return separated(rng, shape, offset=0.25)


def matrix(rng, shape):
    """A well-conditioned square matrix (or stack of them): random plus 3 I."""
    return rng.uniform(-1.0, 1.0, shape) + 3.0 * np.eye(shape[-1])


def spd(rng, shape):
    """A symmetric positive definite matrix, eigenvalues >= its size."""
    a = rng.uniform(-1.0, 1.0, shape)
    return a @ a.T + shape[-1] * np.eye(shape[-1])


def spd_lower(rng, shape):
    """A matrix whose lower triangle is that of a symmetric positive definite one, and
    whose upper triangle is not (cholesky reads the lower triangle only)."""
    a = rng.uniform(-1.0, 1.0, shape)
    full = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    return full + np.triu(rng.uniform(-1.0, 1.0, shape), 1)


def spd_upper(rng, shape):
    """The transpose of ``spd_lower``: positive definite in its upper triangle only."""
    return np.swapaxes(spd_lower(rng, shape), -1, -2)


def split_spectrum(rng, shape):
    """A matrix whose symmetric part has eigenvalues about 3 apart (eigh's derivative
    divides by their gaps)."""
    return rng.uniform(-0.5, 0.5, shape) + np.diag(3.0 * np.arange(shape[-1]) - 3.0)


def as_given(value):
    return float(value) if np.shape(value) == () else value


@dataclass(frozen=True)
class Case:
    name: str
    function: Callable
    make_args: Callable  # rng -> tuple of differentiable arguments
    complex_step: bool = False  # f is real-analytic and numpy evaluates it on complex input

    def args(self):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return tuple(as_given(a) for a in self.make_args(rng)), rng


def drawn(*specs):
    """make_args from (domain, shape) pairs."""
    return lambda rng: tuple(domain(rng, shape) for domain, shape in specs)


def shape_id(shape):
    return "x".join(map(str, shape)) or "scalar"


CASES = []


def add(name, function, *specs, complex_step=False, make_args=None):
    CASES.append(Case(name, function, make_args or drawn(*specs), complex_step))


# -- unary elementwise: name, function, domain, complex step valid ----------------

UNARY = [
    ("negative", np.negative, real, True), ("positive", np.positive, real, True),
    ("absolute", np.abs, nonzero, False), ("fabs", np.fabs, nonzero, False),
    ("square", np.square, real, True), ("reciprocal", np.reciprocal, nonzero, True),
    ("sqrt", np.sqrt, positive, True), ("cbrt", np.cbrt, nonzero, False),
    ("exp", np.exp, real, True), ("exp2", np.exp2, real, True), ("expm1", np.expm1, real, True),
    ("log", np.log, positive, True), ("log2", np.log2, positive, True),
    ("log10", np.log10, positive, True), ("log1p", np.log1p, unit, True),
    ("sin", np.sin, real, True), ("cos", np.cos, real, True), ("tan", np.tan, unit, True),
    ("arcsin", np.arcsin, unit, True), ("arccos", np.arccos, unit, True),
    ("arctan", np.arctan, real, True), ("sinh", np.sinh, real, True),
    ("cosh", np.cosh, real, True), ("tanh", np.tanh, real, True),
    ("arcsinh", np.arcsinh, real, True), ("arccosh", np.arccosh, above_one, True),
    ("arctanh", np.arctanh, unit, True), ("deg2rad", np.deg2rad, real, False),
    ("radians", np.radians, real, False), ("rad2deg", np.rad2deg, real, False),
    ("degrees", np.degrees, real, False), ("conj", np.conj, real, False),
    ("real", np.real, real, False), ("imag_plus_x", lambda x: np.imag(x) + x, real, False),
    ("angle_plus_x", lambda x: np.angle(x) + x, nonzero, False),
    ("sign", np.sign, nonzero, False), ("floor", np.floor, off_integer, False),
    ("ceil", np.ceil, off_integer, False),
    ("round", lambda x: np.round(x + 0.5), off_integer, False),  # steps at the integers
    # the operators a student writes
    ("op_neg", lambda x: -x, real, True), ("op_abs", abs, nonzero, False),
    ("op_pow_int", lambda x: x**3, real, True), ("op_pow_half", lambda x: x**0.5, positive, True),
    ("op_rpow", lambda x: 2.0**x, real, True), ("op_rsub", lambda x: 2.0 - x, real, True),
    ("op_rdiv", lambda x: 2.0 / x, nonzero, True),
]
UNARY_SHAPES = [(), (3,), (2, 3)]

for name, function, domain, cs in UNARY:
    for shape in UNARY_SHAPES:
        add(f"{name}-{shape_id(shape)}", function, (domain, shape), complex_step=cs)


# -- binary elementwise, with broadcasting -----------------------------------------

BINARY = [
    ("add", np.add, real, real, True), ("subtract", np.subtract, real, real, True),
    ("multiply", np.multiply, real, real, True), ("divide", np.divide, real, nonzero, True),
    ("power", np.power, positive, real, True),
    ("maximum", np.maximum, separated, separated_shifted, False),
    ("minimum", np.minimum, separated, separated_shifted, False),
    ("fmax", np.fmax, separated, separated_shifted, False),
    ("fmin", np.fmin, separated, separated_shifted, False),
    ("arctan2", np.arctan2, nonzero, nonzero, False), ("hypot", np.hypot, nonzero, nonzero, False),
    ("logaddexp", np.logaddexp, real, real, False),
    ("op_add", lambda a, b: a + b, real, real, True),
    ("op_sub", lambda a, b: a - b, real, real, True),
    ("op_mul", lambda a, b: a * b, real, real, True),
    ("op_div", lambda a, b: a / b, real, nonzero, True),
    ("op_pow", lambda a, b: a**b, positive, real, True),
]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3))]

for name, function, domain_a, domain_b, cs in BINARY:
    for shape_a, shape_b in BINARY_SHAPES:
        add(f"{name}-{shape_id(shape_a)}-{shape_id(shape_b)}", function,
            (domain_a, shape_a), (domain_b, shape_b), complex_step=cs)


def remainder_args(rng, shape_a, shape_b):
    """x % y away from its jumps: x = y (k + f) with f in [0.2, 0.8]."""
    divisor = positive(rng, shape_b)
    return off_integer(rng, np.broadcast_shapes(shape_a, shape_b)) * divisor, divisor


for name, function in [("remainder", np.remainder), ("op_mod", lambda a, b: a % b)]:
    for shape_a, shape_b in [((), ()), ((3,), (3,)), ((2, 3), (3,))]:
        add(f"{name}-{shape_id(shape_a)}-{shape_id(shape_b)}", function,
            make_args=lambda rng, a=shape_a, b=shape_b: remainder_args(rng, a, b))


for shape in UNARY_SHAPES:  # x % 0.7 with x = 0.7 (k + f), f in [0.2, 0.8]: away from its jumps
    add(f"op_mod_constant-{shape_id(shape)}", lambda x: x % 0.7,
        make_args=lambda rng, s=shape: (0.7 * off_integer(rng, s),))


# -- reductions, with axis and keepdims --------------------------------------------

REDUCTIONS = [
    ("sum", np.sum, real, True), ("mean", np.mean, real, True), ("prod", np.prod, nonzero, True),
    ("max", np.max, separated, False), ("min", np.min, separated, False),
    ("amax", np.amax, separated, False), ("amin", np.amin, separated, False),
    ("method_sum", lambda x, **k: x.sum(**k), real, True),
    ("method_mean", lambda x, **k: x.mean(**k), real, True),
    ("method_max", lambda x, **k: x.max(**k), separated, False),
    ("method_prod", lambda x, **k: x.prod(**k), nonzero, True),
]
REDUCTION_AXES = [((4,), {}), ((2, 3), {}), ((2, 3), {"axis": 0}), ((2, 3), {"axis": 1}),
                  ((2, 3), {"axis": -1, "keepdims": True}), ((2, 3, 2), {"axis": (0, 2)}),
                  ((2, 3), {"keepdims": True})]

for name, function, domain, cs in REDUCTIONS:
    for shape, kwargs in REDUCTION_AXES:
        label = "-".join(f"{k}{v}" for k, v in kwargs.items()).replace(" ", "")
        add(f"{name}-{shape_id(shape)}-{label or 'all'}",
            lambda x, f=function, k=kwargs: f(x, **k), (domain, shape), complex_step=cs)

# numpy's positional arguments: (a, axis, out, keepdims) for max and min, (a, axis, dtype,
# out, keepdims) for sum, mean and prod (a keepdims of max given by position was read as out)
add("max-positional-keepdims", lambda x: np.max(x, 0, None, True), (separated, (2, 3)))
add("min-positional-keepdims", lambda x: np.min(x, 1, None, True), (separated, (2, 3)))
add("sum-positional-keepdims", lambda x: np.sum(x, 0, None, None, True), (real, (2, 3)),
    complex_step=True)

for shape, kwargs in [((4,), {}), ((2, 3), {}), ((2, 3), {"axis": 0}), ((2, 3), {"axis": 1})]:
    label = "-".join(f"{k}{v}" for k, v in kwargs.items()) or "flat"
    add(f"cumsum-{shape_id(shape)}-{label}", lambda x, k=kwargs: np.cumsum(x, **k),
        (real, shape), complex_step=True)

NORMS = [("vector", (4,), {}), ("vector-ord1", (4,), {"ord": 1}),
         ("vector-ord2", (4,), {"ord": 2}), ("vector-ord0", (4,), {"ord": 0}),
         ("frobenius", (2, 3), {}),
         ("rows", (2, 3), {"axis": 1}), ("columns-keepdims", (2, 3), {"axis": 0, "keepdims": True})]
NORMS += [("nuclear", (3, 2), {"ord": "nuc"}), ("matrix-ord2", (2, 3), {"ord": 2}),
          ("matrix-ord-2", (3, 3), {"ord": -2}), ("matrix-ord1", (2, 3), {"ord": 1}),
          ("matrix-ord-inf", (3, 2), {"ord": -np.inf}),
          ("matrix-inf-axes-keepdims", (2, 3, 2), {"ord": np.inf, "axis": (2, 0), "keepdims": True}),
          ("nuclear-stack", (2, 3, 2), {"ord": "nuc", "axis": (1, 2)})]
# an axis given as a 1-tuple is a vector norm to numpy (JAX's testNorm): the engine took any
# tuple for a matrix norm's pair of axes, and failed to unpack it
NORMS += [("vector-ord3-axis-1tuple", (3, 2, 2), {"ord": 3, "axis": (1,)}),
          ("vector-axis-1tuple-keepdims", (2, 4), {"axis": (-2,), "keepdims": True})]
for label, shape, kwargs in NORMS:
    add(f"linalg.norm-{label}", lambda x, k=kwargs: np.linalg.norm(x, **k), (nonzero, shape))


# -- shape operations and indexing -------------------------------------------------

SHAPE_OPS = [
    ("reshape", lambda x: np.reshape(x, (3, 2)), (2, 3)),
    ("method_reshape", lambda x: x.reshape(6), (2, 3)),
    ("transpose", np.transpose, (2, 3)),
    ("transpose_axes", lambda x: np.transpose(x, (1, 0, 2)), (2, 3, 2)),
    ("method_transpose_axes", lambda x: x.transpose(2, 0, 1), (2, 3, 2)),
    ("transpose_axes_keyword", lambda x: np.transpose(x, axes=(2, 0, 1)), (2, 3, 2)),
    ("method_transpose_tuple", lambda x: x.transpose((2, 0, 1)), (2, 3, 2)),
    ("T", lambda x: x.T, (2, 3)),
    ("ravel", lambda x: x.ravel(), (2, 3)),
    ("flatten", lambda x: x.flatten(), (2, 3)),
    # column-major order: the same elements in another order
    ("ravel-F", lambda x: np.ravel(x, order="F"), (2, 3)),
    ("method_flatten-F", lambda x: x.flatten("F"), (2, 3, 2)),
    ("reshape-F", lambda x: np.reshape(x, (3, -1), order="F"), (2, 3, 2)),
    ("method_reshape-F", lambda x: x.reshape((2, 3), order="F"), (3, 2)),
    ("squeeze", lambda x: x.squeeze(), (1, 3, 1)),
    ("astype", lambda x: x.astype(float), (2, 3)),
    ("method_copy", lambda x: x.copy(), (2, 3)), ("np_copy", np.copy, (2, 3)),
    ("method_clip", lambda x: x.clip(-2.0, 0.25), (2, 3)),
    ("ones_like_times_x", lambda x: np.ones_like(x) * x, (2, 3)),
    ("np_ravel", np.ravel, (2, 3)), ("np_squeeze", lambda x: np.squeeze(x, 0), (1, 3, 1)),
    ("expand_dims", lambda x: np.expand_dims(x, 1), (2, 3)),
    ("swapaxes", lambda x: np.swapaxes(x, 0, 2), (2, 3, 2)),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 2, 3)), (2, 1)),
    ("method_cumsum", lambda x: x.cumsum(axis=1), (2, 3)),
    ("method_min", lambda x: x.min(axis=0), (2, 3)),
    # (a plain array's own a.dot(x) makes x an array: refused, see test_errors.py)
    ("method_dot", lambda x: x.dot(np.arange(1.0, 4.0)), (2, 3)),
    ("tril", np.tril, (3, 3)), ("tril_k", lambda x: np.tril(x, -1), (3, 3)),
    ("triu", np.triu, (3, 3)), ("triu_k", lambda x: np.triu(x, 1), (3, 4)),
    ("trace", np.trace, (3, 3)), ("trace_offset", lambda x: np.trace(x, 1), (3, 4)),
    # non-adjacent axes: numpy sums the diagonal, its axis last (the engine summed another axis)
    ("trace_axes_1_3", lambda x: np.trace(x, 1, axis1=1, axis2=3), (2, 3, 2, 3)),
    ("trace_axes_-1_1", lambda x: np.trace(x, axis1=-1, axis2=1), (2, 3, 2, 4)),
    ("repeat", lambda x: np.repeat(x, 2), (2, 3)),
    ("repeat_axis", lambda x: np.repeat(x, 2, axis=1), (2, 3)),
    ("tile", lambda x: np.tile(x, (2, 1)), (2, 3)),
    ("tile_int", lambda x: np.tile(x, 3), (3,)),
    ("getitem_int", lambda x: x[1], (2, 3)),
    ("getitem_slice", lambda x: x[:, 1:], (2, 3)),
    ("getitem_reverse", lambda x: x[::-1], (4,)),
    ("getitem_fancy", lambda x: x[[0, 2, 2]], (3,)),
    ("getitem_mask", lambda x: x[np.array([True, False, True])], (3,)),
    ("where", lambda x: np.where(x > 0, x, 2 * x), (2, 3)),
]
for name, function, shape in SHAPE_OPS:
    add(name, function, (separated if name == "method_min" else nonzero, shape),
        complex_step=name not in ("where", "astype", "method_min", "method_clip"))

JOINS = [
    ("concatenate-axis0", lambda a, b: np.concatenate([a, b]), (2, 3), (1, 3)),
    ("concatenate-axis1", lambda a, b: np.concatenate((a, b), axis=1), (2, 3), (2, 2)),
    ("concatenate-constant", lambda a, b: np.concatenate([a, np.ones(2), b]), (3,), (2,)),
    ("stack", lambda a, b: np.stack([a, b]), (2, 3), (2, 3)),
    ("stack-axis-1", lambda a, b: np.stack([a, b], axis=-1), (2, 3), (2, 3)),
    ("vstack", lambda a, b: np.vstack([a, b]), (3,), (3,)),
    ("hstack", lambda a, b: np.hstack([a, b]), (3,), (2,)),
    ("hstack-2d", lambda a, b: np.hstack([a, b]), (2, 3), (2, 1)),
    ("append", np.append, (2,), (3,)),
]
for name, function, shape_a, shape_b in JOINS:
    add(name, function, (real, shape_a), (real, shape_b), complex_step=True)


# -- products and linear algebra ---------------------------------------------------

PRODUCTS = [
    ("dot-1d-1d", np.dot, (3,), (3,)), ("dot-2d-1d", np.dot, (2, 3), (3,)),
    ("dot-1d-2d", np.dot, (3,), (3, 4)), ("dot-2d-2d", np.dot, (2, 3), (3, 4)),
    ("dot-scalar", np.dot, (), (3,)), ("dot-2d-3d", np.dot, (2, 3), (2, 3, 4)),
    ("dot-3d-3d", np.dot, (2, 2, 3), (2, 3, 4)),
    ("matmul-2d-2d", lambda a, b: a @ b, (2, 3), (3, 4)),
    ("matmul-batch", lambda a, b: a @ b, (2, 2, 3), (3, 4)),
    ("matmul-1d-2d", lambda a, b: a @ b, (3,), (3, 4)),
    ("matmul-2d-1d", np.matmul, (2, 3), (3,)),
    ("einsum-matmul", lambda a, b: np.einsum("ij,jk->ik", a, b), (2, 3), (3, 4)),
    ("einsum-inner", lambda a, b: np.einsum("i,i->", a, b), (3,), (3,)),
    ("einsum-outer", lambda a, b: np.einsum("i,j->ij", a, b), (3,), (2,)),
    ("einsum-batch", lambda a, b: np.einsum("bij,bjk->bik", a, b), (2, 2, 3), (2, 3, 2)),
    ("einsum-rows", lambda a, b: np.einsum("ij,ij->i", a, b), (2, 3), (2, 3)),
    ("einsum-ellipsis", lambda a, b: np.einsum("...ij,jk->...ik", a, b), (2, 2, 3), (3, 2)),
    ("einsum-ellipsis-implicit", lambda a, b: np.einsum("...j,j", a, b), (2, 3), (3,)),
    ("einsum-ellipsis-broadcast", lambda a, b: np.einsum("...i,...i->...", a, b), (2, 3), (3,)),
    ("einsum-axes-lists", lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), (2, 3), (3, 4)),
    ("einsum-axes-lists-ellipsis", lambda a, b: np.einsum(a, [..., 1], b, [1]), (2, 3), (3,)),
    ("tensordot-1", lambda a, b: np.tensordot(a, b, axes=1), (2, 3), (3, 4)),
    ("tensordot-2", lambda a, b: np.tensordot(a, b, axes=2), (2, 3), (2, 3)),
    ("tensordot-pairs", lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 1])), (2, 3, 4), (3, 2)),
]
for name, function, shape_a, shape_b in PRODUCTS:
    add(name, function, (real, shape_a), (real, shape_b), complex_step=True)

# vdot conjugates its first argument: not complex-analytic, no complex step
add("outer", np.outer, (real, (3,)), (real, (2, 1)), complex_step=True)
add("inner-1d", np.inner, (real, (3,)), (real, (3,)), complex_step=True)
add("inner-2d", np.inner, (real, (2, 3)), (real, (4, 3)), complex_step=True)
add("vdot", np.vdot, (real, (2, 3)), (real, (2, 3)), complex_step=False)

# gathers (an array of positions says which element goes where) and statistics; np.var
# takes |x - mean|^2 of complex input, so the complex step does not apply to it
GATHERS_AND_STATISTICS = [
    ("flip", lambda x: np.flip(x, 0), (3, 2), True),
    ("flip-all", np.flip, (2, 3), True),
    ("roll", lambda x: np.roll(x, 1, axis=1), (2, 3), True),
    ("roll-flat", lambda x: np.roll(x, -2), (2, 3), True),
    # one integer shift along one axis is evaluated as two slices joined: a shift longer
    # than the axis, a negative axis, and several axes at once (numpy's own np.roll)
    ("roll-long-negative-axis", lambda x: np.roll(x, -7, axis=-2), (3, 4, 2), True),
    ("roll-two-axes", lambda x: np.roll(x, (1, -1), axis=(0, 1)), (2, 3), True),
    ("diagonal", lambda x: np.diagonal(x, 1), (3, 4), True),
    ("diag", np.diag, (3, 3), True),
    ("diff", np.diff, (2, 4), True),
    ("diff-n2-axis0", lambda x: np.diff(x, n=2, axis=0), (4, 2), True),
    ("var", np.var, (2, 3), False),
    ("var-axis-ddof", lambda x: np.var(x, axis=1, ddof=1, keepdims=True), (2, 3), False),
    ("std-axis", lambda x: np.std(x, axis=0), (3, 2), False),
    # numpy 2's keywords: correction (ddof by another name), a mean given (traced here)
    ("std-correction", lambda x: np.std(x, correction=1), (2, 3), False),
    ("var-axis-correction", lambda x: np.var(x, axis=0, correction=1), (3, 2), False),
    ("var-mean-given", lambda x: np.var(x, axis=1, mean=np.mean(x, axis=1, keepdims=True)),
     (2, 3), False),
    ("std-mean-constant", lambda x: np.std(x, axis=0, mean=np.array([[0.3, -0.2]])), (3, 2), False),
]
for name, function, shape, complex_step in GATHERS_AND_STATISTICS:
    add(name, function, (real, shape), complex_step=complex_step)

# cutting, turning and stacking columns; np.gradient (a linear map of f)
MOVES = [
    ("split", lambda x: np.split(x, 2)[1], (4, 3)),
    ("split-indices-axis1", lambda x: np.split(x, [1, 3], axis=1)[1], (2, 4)),
    ("array_split", lambda x: np.array_split(x, 3)[0], (5,)),
    ("hsplit", lambda x: np.hsplit(x, 2)[1], (2, 4)),
    ("vsplit", lambda x: np.vsplit(x, [1])[1], (3, 2)),
    ("dsplit", lambda x: np.dsplit(x, 2)[0], (2, 1, 4)),
    ("flipud", np.flipud, (3, 2)), ("fliplr", np.fliplr, (2, 3)),
    ("rot90", np.rot90, (2, 3)), ("rot90-k3-axes", lambda x: np.rot90(x, 3, axes=(2, 0)), (2, 3, 2)),
    ("moveaxis", lambda x: np.moveaxis(x, 0, -1), (2, 3, 2)),
    ("gradient-1d", np.gradient, (5,)),
    ("gradient-spacing-edge2", lambda x: np.gradient(x, 0.5, edge_order=2), (5,)),
    ("gradient-coordinates", lambda x: np.gradient(x, np.array([0.0, 0.5, 1.5, 2.0])), (4,)),
    ("gradient-2d-axis1", lambda x: np.gradient(x, axis=1), (3, 4)),
    ("gradient-2d-both", lambda x: np.stack(np.gradient(x, 2.0)), (3, 4)),
]
for name, function, shape in MOVES:
    add(name, function, (real, shape), complex_step=True)
add("column_stack", lambda a, b: np.column_stack([a, b]), (real, (3,)), (real, (3, 2)),
    complex_step=True)
add("concatenate-casting", lambda a, b: np.concatenate([a, b], casting="safe"), (real, (2,)),
    (real, (3,)), complex_step=True)

# sorting and picking (gathers), clipping (maximum and minimum), Horner's rule
add("sort", np.sort, (real, (2, 4)))
add("sort-axis0", lambda x: np.sort(x, axis=0), (real, (3, 2)))
add("sort-flat", lambda x: np.sort(x, axis=None), (real, (2, 3)))
add("median-odd", np.median, (real, (5,)))
add("median-even-axis-keepdims", lambda x: np.median(x, axis=1, keepdims=True), (real, (2, 4)))
add("median-axis-tuple", lambda x: np.median(x, axis=(0, 2)), (real, (2, 3, 2)))
add("median-axis-tuple-keepdims", lambda x: np.median(x, axis=(2, 0), keepdims=True),
    (real, (3, 2, 3)))
add("take", lambda x: np.take(x, [0, 2, 2]), (real, (2, 3)), complex_step=True)
add("take-axis-wrap", lambda x: np.take(x, [1, -1, 4], axis=1, mode="wrap"), (real, (2, 3)),
    complex_step=True)
add("take_along_axis", lambda x: np.take_along_axis(x, np.array([[2, 0], [1, 1]]), axis=1),
    (real, (2, 3)), complex_step=True)
add("clip", lambda x: np.clip(x, -0.9, 0.9), (real, (6,)))
add("clip-upper-keyword", lambda x: np.clip(x, max=0.25), (real, (5,)))
add("clip-traced-bounds", lambda x, lo, hi: np.clip(x, lo, hi), (real, (5,)),
    (lambda rng, shape: rng.uniform(-2.5, -1.8, shape), (5,)),
    (lambda rng, shape: rng.uniform(0.2, 0.6, shape), ()))
add("polyval", np.polyval, (real, (4,)), (real, (3,)), complex_step=True)
# a float32 point widened to float64 (x.astype(float) was x itself, still float32): exact, so
# the differences of the float64 function are as good as ever; its gradient is float32's
add("astype-widen", lambda x: np.sin(x.astype(np.float64)) * 3.0,
    make_args=lambda rng: (real(rng, (2, 3)).astype(np.float32),))

add("einsum-trace", lambda a: np.einsum("ii->", a), (real, (3, 3)), complex_step=True)
add("einsum-transpose", lambda a: np.einsum("ij->ji", a), (real, (2, 3)), complex_step=True)


def symmetric(a):
    """The symmetric part: eigh and cholesky read one triangle only, so the tests
    differentiate through an explicit symmetrisation."""
    return 0.5 * (a + a.T)


LINALG = [
    ("solve-vector", lambda a, b: np.linalg.solve(a, b), ((matrix, (3, 3)), (real, (3,))), True),
    ("solve-matrix", lambda a, b: np.linalg.solve(a, b), ((matrix, (3, 3)), (real, (3, 2))), True),
    ("solve-batch-vector", lambda a, b: np.linalg.solve(a, b), ((matrix, (2, 3, 3)), (real, (3,))),
     True),
    ("solve-batch-matrices", lambda a, b: np.linalg.solve(a, b),
     ((matrix, (2, 3, 3)), (real, (2, 3, 2))), True),
    ("solve-batch-broadcast", lambda a, b: np.linalg.solve(a, b),
     ((matrix, (3, 3)), (real, (2, 3, 1))), True),
    ("inv", np.linalg.inv, ((matrix, (3, 3)),), True),
    ("det", np.linalg.det, ((matrix, (3, 3)),), True),
    # numpy's keyword names (inv, det and solve are primitives: they reached bind as keywords)
    ("inv-keyword", lambda a: np.linalg.inv(a=a), ((matrix, (3, 3)),), True),
    ("det-keyword", lambda a: np.linalg.det(a=a), ((matrix, (3, 3)),), True),
    ("solve-keywords", lambda a, b: np.linalg.solve(b=b, a=a), ((matrix, (3, 3)), (real, (3,))), True),
    ("slogdet-logabs", lambda a: np.linalg.slogdet(a)[1], ((matrix, (3, 3)),), False),
    ("eigh-values", lambda a: np.linalg.eigh(symmetric(a))[0], ((split_spectrum, (3, 3)),),
     False),
    ("eigh-vectors-squared", lambda a: np.linalg.eigh(symmetric(a))[1] ** 2,
     ((split_spectrum, (3, 3)),), False),
    # eigh reads one triangle (the lower by default): a matrix that is not symmetric
    ("eigh-lower-values", lambda a: np.linalg.eigh(a)[0], ((split_spectrum, (3, 3)),), False),
    ("eigh-upper-vectors-squared", lambda a: np.linalg.eigh(a, UPLO="U")[1] ** 2,
     ((split_spectrum, (3, 3)),), False),
    ("svd-values", lambda a: np.linalg.svd(a, compute_uv=False), ((real, (3, 2)),), False),
    ("svd-tuple-values", lambda a: np.linalg.svd(a)[1], ((real, (2, 3)),), False),
    # the singular vectors up to their signs (squared), of a tall and a wide matrix
    ("svd-tall-u-squared", lambda a: np.linalg.svd(a, full_matrices=False)[0] ** 2,
     ((real, (3, 2)),), False),
    ("svd-tall-vh-squared", lambda a: np.linalg.svd(a)[2] ** 2, ((real, (3, 2)),), False),
    ("svd-wide-u-squared", lambda a: np.linalg.svd(a)[0] ** 2, ((real, (2, 3)),), False),
    ("svd-wide-vh-squared", lambda a: np.linalg.svd(a, full_matrices=False)[2] ** 2,
     ((real, (2, 3)),), False),
    # the singular vectors themselves, with numpy's choice of signs
    ("svd-tall-u", lambda a: np.linalg.svd(a, full_matrices=False)[0], ((real, (5, 3)),), False),
    ("svd-tall-vh", lambda a: np.linalg.svd(a)[2], ((real, (3, 2)),), False),
    ("svd-wide-u", lambda a: np.linalg.svd(a)[0], ((real, (2, 3)),), False),
    ("svd-wide-vh", lambda a: np.linalg.svd(a, full_matrices=False)[2], ((real, (2, 4)),), False),
    ("eigvalsh", lambda a: np.linalg.eigvalsh(symmetric(a)), ((split_spectrum, (3, 3)),), False),
    ("matrix_power-2", lambda a: np.linalg.matrix_power(a, 2), ((matrix, (3, 3)),), True),
    ("matrix_power-3", lambda a: np.linalg.matrix_power(a, 3), ((matrix, (3, 3)),), True),
    ("matrix_power-5", lambda a: np.linalg.matrix_power(a, 5), ((matrix, (3, 3)),), True),
    ("matrix_power-negative-batch", lambda a: np.linalg.matrix_power(a, -2), ((matrix, (2, 3, 3)),),
     True),
    ("cholesky", lambda a: np.linalg.cholesky(symmetric(a)), ((spd, (3, 3)),), False),
    # cholesky reads one triangle, as eigh: a matrix that is not symmetric, and a stack
    ("cholesky-lower", np.linalg.cholesky, ((spd_lower, (3, 3)),), False),
    ("cholesky-upper", lambda a: np.linalg.cholesky(a, upper=True), ((spd_upper, (3, 3)),), False),
    ("cholesky-lower-stack", np.linalg.cholesky, ((spd_lower, (2, 3, 3)),), False),
    ("pinv", np.linalg.pinv, ((real, (3, 2)),), False),
    ("pinv-rcond-wide", lambda a: np.linalg.pinv(a, 1e-10), ((real, (2, 4)),), False),
    ("pinv-rtol-stack", lambda a: np.linalg.pinv(a, rtol=None), ((matrix, (2, 3, 3)),), False),
    # hermitian=True reads the lower triangle only (numpy goes through eigh): not symmetric
    ("pinv-hermitian", lambda a: np.linalg.pinv(a, hermitian=True), ((spd_lower, (3, 3)),), False),
    ("pinv-hermitian-stack", lambda a: np.linalg.pinv(a, hermitian=True), ((spd_lower, (2, 3, 3)),),
     False),
]
for name, function, specs, cs in LINALG:
    add(name, function, *specs, complex_step=cs)


# -- the checks ---------------------------------------------------------------------

MODES = ["rev", "fwd", "rev_rev", "fwd_rev", "rev_fwd", "fwd_fwd"]
SECOND_ORDER_MODES = MODES[2:]

def first_order(case, mode):
    args, rng = case.args()
    out = np.asarray(case.function(*args))
    weight = random_like(rng, out)
    for i, x in enumerate(args):
        f = with_argument(case.function, args, i)
        if mode == "rev":
            def F(y, f=f):
                return np.sum(f(y) * weight)

            gradient = ad.grad(F)(x)
            assert np.shape(gradient) == np.shape(x), f"gradient shape, argument {i}"
            expected = numerical_gradient(F, x, case.complex_step)
            np.testing.assert_allclose(gradient, expected, RTOL, ATOL,
                                       err_msg=f"{case.name}: reverse mode, argument {i}")
        else:
            tangent = random_like(rng, x)
            value, derivative = ad.jvp(f, x, tangent)
            np.testing.assert_allclose(value, out, 1e-12, 1e-12,
                                       err_msg=f"{case.name}: jvp value, argument {i}")
            assert np.shape(derivative) == out.shape, f"tangent shape, argument {i}"
            expected = directional(f, x, tangent, case.complex_step)
            np.testing.assert_allclose(derivative, expected, RTOL, ATOL,
                                       err_msg=f"{case.name}: forward mode, argument {i}")


def second_order_weights(case, args, rng):
    """The two random weights (w, w2) of ``second_order_objective``, of f's output shape."""
    out = np.asarray(case.function(*args))
    return random_like(rng, out), random_like(rng, out)


def second_order_objective(case, args, i, weights):
    """F(x_i) = sum(w f + w2 f**2 / 2): the square makes f's backward sweep carry a traced
    cotangent, and the second weight w2 makes F's Hessian (J^T diag(w2) J for a linear f)
    see a wrong order of f's outputs, which sum(f**2) would not."""
    f = with_argument(case.function, args, i)
    weight, weight2 = weights

    def F(y):
        out = f(y)
        return np.sum(weight * out + 0.5 * weight2 * out * out)

    return F


def second_order(case, mode):
    """u^T H v of F = sum(w f + w2 f**2 / 2) by nesting the two modes of ``mode``."""
    args, rng = case.args()
    weights = second_order_weights(case, args, rng)
    for i, x in enumerate(args):
        F = second_order_objective(case, args, i, weights)

        u, v = random_like(rng, x), random_like(rng, x)
        if mode == "rev_rev":  # reverse over reverse: grad of a projection of grad
            hu = ad.grad(lambda y: np.sum(ad.grad(F)(y) * u))(x)
            got = np.sum(hu * v)
        elif mode == "fwd_rev":  # forward over reverse: jvp of grad
            got = np.sum(ad.jvp(ad.grad(F), x, u)[1] * v)
        elif mode == "rev_fwd":  # reverse over forward: grad of jvp
            got = np.sum(ad.grad(lambda y: ad.jvp(F, y, v)[1])(x) * u)
        else:  # forward over forward
            got = ad.jvp(lambda y: ad.jvp(F, y, v)[1], x, u)[1]
        expected = mixed_second(F, x, u, v, case.complex_step)
        np.testing.assert_allclose(got, expected, RTOL2, ATOL2,
                                   err_msg=f"{case.name}: {mode}, argument {i}")


def check_case(case, mode):
    """The check of ``case`` in ``mode`` (one of MODES)."""
    if mode in ("rev", "fwd"):
        first_order(case, mode)
    else:
        second_order(case, mode)


def plain_value(x):
    """The plain value inside every layer of Dual and Variable."""
    while isinstance(x, (ad.Dual, ad.Variable)):
        x = x.val if isinstance(x, ad.Dual) else x.value
    return x


def traced_values(case, mode, args=None):
    """For each argument i: f(args) as computed inside the derivative of ``mode`` with
    respect to argument i (the innermost call's output, stripped to its plain value), at
    the case's own arguments or at ``args``."""
    drawn_args, rng = case.args()
    args = drawn_args if args is None else args
    values = []
    for i, x in enumerate(args):
        f = with_argument(case.function, args, i)
        seen = []

        def F(y, f=f, seen=seen):
            out = f(y)
            seen.append(out)
            return np.sum(out)

        u = random_like(rng, x)
        if mode == "rev":
            ad.grad(F)(x)
        elif mode == "fwd":
            ad.jvp(F, x, u)
        elif mode == "rev_rev":
            ad.grad(lambda y: np.sum(ad.grad(F)(y) * u))(x)
        elif mode == "fwd_rev":
            ad.jvp(ad.grad(F), x, u)
        elif mode == "rev_fwd":
            ad.grad(lambda y: ad.jvp(F, y, u)[1])(x)
        else:
            ad.jvp(lambda y: ad.jvp(F, y, u)[1], x, u)
        values.append(plain_value(seen[-1]))
    return values
