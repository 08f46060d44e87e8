"""The table of primitives: numpy's elementwise functions, matmul, where, and the
linear array operations (indexing, sum, mean, reshape, transpose).

Each ``elementwise`` line gives the function, the partial derivative with
respect to each argument as a function of (ans, *args), and how a trace
prints it; forward and reverse mode both read it (see rules.py).
"""

from __future__ import annotations

import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ad_engine.rules import (
    NUMPY_FUNCTIONS,
    PRIMITIVES,
    Traced,
    deflinear,
    defprimitive,
    dtype_of,
    fit,
    full_tangent,
    implements_on_values,
    is_complex,
    over,
    plain,
    shape_of,
    unbroadcast,
    value_of,
)


def elementwise(name, evaluate, *partials, formula=None, partial_formulas=None):
    """Register numpy's elementwise ufunc ``np.<name>`` with its partial derivatives."""
    return defprimitive(name, evaluate, partials=partials, numpy=getattr(np, name),
                        formula=formula, partial_formulas=partial_formulas)


def _power(a, b):
    # a ** b as numpy computes it: for a Python float base <= 0, (-1.0) ** 0.5 is
    # nan and 0.0 ** -1 is inf, each with a RuntimeWarning (Python's own ** would
    # return a complex number or raise ZeroDivisionError).
    if type(a) in (float, int) and a <= 0 and type(b) in (float, int):
        return np.float64(a) ** b
    return a ** b


def _power_partial_base(ans, a, b):
    # d(a**b)/da = b a**(b-1); for an exponent 0 the derivative is 0, also at a = 0
    # where b a**(b-1) would be 0 * inf: there the exponent b - 1 becomes b (b times a
    # finite a**0 is 0), for an exponent in an array or a traced one too.
    if not isinstance(b, Traced) and np.ndim(b) == 0:
        if b == 0:
            return 0.0
        if b == 2:
            return 2 * a  # the common square, without computing a**1
        return b * _power(a, b - 1)
    both_zero = (value_of(a) == 0) & (value_of(b) == 0)
    return b * _power(a, b - 1 + both_zero) if np.any(both_zero) else b * _power(a, b - 1)


def _tie_half(a, b):
    # 1/2 where a == b: the documented convention at a tie of maximum/minimum,
    # so that maximum(x, x) = x has derivative 1. In the operands' precision (0.5 * a bool
    # array is float64, which made the gradient of a float32 input float64).
    a, b = value_of(a), value_of(b)
    return (a == b) * np.result_type(a, b, 1.0).type(0.5)


def _picked_over_nan(a, b, beats):
    # 1 where fmax/fmin (``beats``: np.greater/np.less) takes a: a beats b, or b is nan and a
    # is not; 1/2 at a tie, as maximum
    a, b = value_of(a), value_of(b)
    return (beats(a, b) | (np.isnan(b) & ~np.isnan(a))) + _tie_half(a, b)


def _real_domain(partial):
    # Wraps the partial of a function with a limited real domain (log, sqrt, ...)
    # so that the derivative follows numpy as the value does: at the edge of the
    # domain a partial that divides by zero (written with ``over``) is inf with a
    # RuntimeWarning, at every order, and outside the domain, where the value is
    # nan, the partial is nan too (never a finite number such as 1/x at log(-1)).
    def checked(ans, *args):
        result = partial(ans, *args)
        outside = np.isnan(value_of(ans))
        return result * np.where(outside, np.nan, 1.0) if np.logical_or.reduce(outside, axis=None) \
            else result

    return checked


# name, value, partial derivative for each argument (1 and -1 pass the tangent/adjoint on)
elementwise("add", operator.add, 1, 1, formula="{0} + {1}", partial_formulas=("1", "1"))
elementwise("subtract", operator.sub, 1, -1, formula="{0} - {1}", partial_formulas=("1", "(-1)"))
elementwise("multiply", operator.mul, lambda ans, a, b: b, lambda ans, a, b: a,
            formula="{0} × {1}", partial_formulas=("{1}", "{0}"))
elementwise("divide", operator.truediv, lambda ans, a, b: over(1, b), lambda ans, a, b: over(-ans, b),
            formula="{0} / {1}", partial_formulas=("1/{1}", "(-{out}/{1})"))
def _power_partial_exponent(ans, a, b):
    # d(a**b)/db = a**b ln a; where a = 0 (and b > 0) a**b = 0 for every b near b, so
    # the derivative is 0 there, not 0 * ln 0 = nan: ln is taken of 1 instead.
    zero = value_of(a) == 0
    if np.any(zero):
        a = _picked(np.where(zero, 1.0, a))
    return ans * np.log(a)


elementwise("power", _power, _power_partial_base, _power_partial_exponent,
            formula="{0}^{1}", partial_formulas=("{1} × {0}^({1}-1)", "{out} × ln {0}"))
elementwise("negative", operator.neg, -1, formula="-{0}", partial_formulas=("(-1)",))
elementwise("positive", operator.pos, 1, formula="+{0}", partial_formulas=("1",))
absolute = elementwise("absolute", abs, lambda ans, x: np.sign(value_of(x)))  # abs'(0) = 0


def _absolute_jvp(tangent, ans, x):
    # |z| is not complex-differentiable: along dz it moves by Re(conj(z) dz) / |z|
    # (autograd's and JAX's convention); for real x and tangent: sign(x) dx.
    if np.iscomplexobj(value_of(x)) or np.iscomplexobj(value_of(tangent)):
        return _over_modulus(np.real(np.conj(x) * tangent), ans)
    return np.sign(value_of(x)) * tangent


def _absolute_vjp(adjoint, ans, x):
    # reverse mode (JAX's convention, see reverse.py): x̄ = ∂L/∂Re z - i ∂L/∂Im z = w̄ conj(z) / |z|
    if is_complex(x):
        return fit(_over_modulus(np.real(adjoint) * np.conj(x), ans), x)
    return fit(adjoint * np.sign(value_of(x)), x)


def _over_modulus(numerator, ans):
    # numerator / |z|, and 0 where z = 0: there |z| has no derivative, and takes 0 as for a
    # real x (sign(0) = 0), so that |z|**2, smooth at 0, gets its derivative 0 (not 0/0 = nan)
    zero = value_of(ans) == 0
    if not np.any(zero):
        return numerator / ans
    return _picked(np.where(zero, 0.0, numerator / np.where(zero, 1.0, ans)))


absolute.jvps, absolute.vjps = (_absolute_jvp,), (_absolute_vjp,)
elementwise("fabs", np.fabs, lambda ans, x: np.sign(value_of(x)))
elementwise("square", np.square, lambda ans, x: 2 * x, partial_formulas=("2 {0}",))
elementwise("reciprocal", np.reciprocal, lambda ans, x: -ans * ans, partial_formulas=("(-{out}²)",))
elementwise("sqrt", np.sqrt, _real_domain(lambda ans, x: over(0.5, ans)), partial_formulas=("1/(2 {out})",))
elementwise("cbrt", np.cbrt, _real_domain(lambda ans, x: over(1, 3 * ans * ans)))
elementwise("exp", np.exp, lambda ans, x: ans, partial_formulas=("{out}",))
elementwise("exp2", np.exp2, lambda ans, x: ans * np.log(2.0))
elementwise("expm1", np.expm1, lambda ans, x: ans + 1)
elementwise("log", np.log, _real_domain(lambda ans, x: over(1, x)), formula="ln {0}",
            partial_formulas=("1/{0}",))
elementwise("log2", np.log2, _real_domain(lambda ans, x: over(1, x * np.log(2.0))))
elementwise("log10", np.log10, _real_domain(lambda ans, x: over(1, x * np.log(10.0))))
elementwise("log1p", np.log1p, _real_domain(lambda ans, x: over(1, 1 + x)))
elementwise("sin", np.sin, lambda ans, x: np.cos(x), partial_formulas=("cos {0}",))
elementwise("cos", np.cos, lambda ans, x: -np.sin(x), partial_formulas=("(-sin {0})",))
elementwise("tan", np.tan, lambda ans, x: 1 + ans * ans, partial_formulas=("(1 + {out}²)",))
elementwise("arcsin", np.arcsin, lambda ans, x: over(1, np.sqrt(1 - x * x)))
elementwise("arccos", np.arccos, lambda ans, x: over(-1, np.sqrt(1 - x * x)))
elementwise("arctan", np.arctan, lambda ans, x: 1 / (1 + x * x), partial_formulas=("1/(1 + {0}²)",))
elementwise("sinh", np.sinh, lambda ans, x: np.cosh(x))
elementwise("cosh", np.cosh, lambda ans, x: np.sinh(x))
elementwise("tanh", np.tanh, lambda ans, x: 1 - ans * ans, partial_formulas=("(1 - {out}²)",))
elementwise("arcsinh", np.arcsinh, lambda ans, x: 1 / np.sqrt(x * x + 1))
elementwise("arctanh", np.arctanh, _real_domain(lambda ans, x: over(1, 1 - x * x)))


def _arccosh_partial(ans, x):
    # arccosh' z = 1/(sqrt(z-1) sqrt(z+1)) on numpy's branch; 1/sqrt(z*z-1) is its negative for
    # complex z with Re z < 0. For real x the two are equal (x >= 1), and the one square root
    # keeps the second derivative at the edge x = 1 numpy's -inf (the product would pass
    # 0 * inf = nan back in reverse mode).
    if is_complex(x):
        return over(1, np.sqrt(x - 1) * np.sqrt(x + 1))
    return over(1, np.sqrt(x * x - 1))


elementwise("arccosh", np.arccosh, _real_domain(_arccosh_partial))
for _name, _factor in (("deg2rad", np.pi / 180), ("radians", np.pi / 180),
                       ("rad2deg", 180 / np.pi), ("degrees", 180 / np.pi)):
    elementwise(_name, getattr(np, _name), lambda ans, x, c=_factor: c)
elementwise("logaddexp", np.logaddexp, lambda ans, a, b: np.exp(a - ans),
            lambda ans, a, b: np.exp(b - ans))
# x % y = x - floor(x / y) y: the floor is piecewise constant
elementwise("remainder", np.remainder, 1,
            _real_domain(lambda ans, a, b: -np.floor(over(value_of(a), value_of(b)))),
            formula="{0} mod {1}")
elementwise("maximum", np.maximum,
            lambda ans, a, b: (value_of(a) > value_of(b)) + _tie_half(a, b),
            lambda ans, a, b: (value_of(a) < value_of(b)) + _tie_half(a, b))
elementwise("minimum", np.minimum,
            lambda ans, a, b: (value_of(a) < value_of(b)) + _tie_half(a, b),
            lambda ans, a, b: (value_of(a) > value_of(b)) + _tie_half(a, b))
# fmax and fmin pick as maximum and minimum, except that they skip a nan: fmax(x, nan) = x
elementwise("fmax", np.fmax,
            lambda ans, a, b: _picked_over_nan(a, b, np.greater),
            lambda ans, a, b: _picked_over_nan(b, a, np.greater))
elementwise("fmin", np.fmin,
            lambda ans, a, b: _picked_over_nan(a, b, np.less),
            lambda ans, a, b: _picked_over_nan(b, a, np.less))
# at the origin, where neither is differentiable, the partials divide 0 by 0: nan, as numpy
elementwise("arctan2", np.arctan2, _real_domain(lambda ans, y, x: over(x, x * x + y * y)),
            _real_domain(lambda ans, y, x: over(-y, x * x + y * y)))
elementwise("hypot", np.hypot, _real_domain(lambda ans, a, b: over(a, ans)),
            _real_domain(lambda ans, a, b: over(b, ans)))

# Piecewise-constant ufuncs and comparisons: evaluated on the values, the result
# is a constant (its derivative is zero wherever it exists).
implements_on_values(
    np.floor, np.ceil, np.trunc, np.rint, np.greater, np.greater_equal,
    np.less, np.less_equal, np.equal, np.not_equal, np.isfinite, np.isnan, np.isinf,
    np.signbit, np.logical_and, np.logical_or, np.logical_not, np.round, np.floor_divide,
)


# np.sign of a complex z is z / |z| (numpy 2): the phase, which turns with z, not a constant.
# Along dz it moves by i sign(z) Im(conj(sign z) dz) / |z|; its transpose in JAX's convention
# (reverse.py) is z̄ = i Im(w̄ sign z) conj(sign z) / |z|. At z = 0 (sign 0) both are 0, as
# sign'(0) of a real x.
def _complex_sign_jvp(t, ans, z):
    return _over_modulus(1j * ans * np.imag(np.conj(ans) * t), np.abs(z))


def _complex_sign_vjp(g, ans, z):
    return fit(_over_modulus(1j * np.imag(g * ans) * np.conj(ans), np.abs(z)), z)


_complex_sign = defprimitive("complex_sign", np.sign, jvps=[_complex_sign_jvp],
                             vjps=[_complex_sign_vjp])


def _sign(x):
    # a real x's sign is piecewise constant (evaluated on the values); a complex z's is not
    return _complex_sign(x) if is_complex(x) else np.sign(value_of(x))


NUMPY_FUNCTIONS[np.sign] = _sign
# numpy functions whose result is a shape, an index, a count, a boolean, or constants
# of the argument's shape (np.zeros_like, np.ones_like)
implements_on_values(
    np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero,
    np.argwhere, np.count_nonzero, np.isclose, np.allclose, np.array_equal,
    np.zeros_like, np.ones_like,
)


# -- matrix product: (A + A'd) @ (B + B'd) = A @ B + (A' @ B + A @ B')d ----------------

def swap_last_axes(x):
    """x with its last two axes swapped (the matrix transpose of a stack of matrices)."""
    return x.swapaxes(-1, -2)


# The vjps are written with operations that dispatch (@, *, indexing, .swapaxes), so
# that a traced adjoint or argument (a second derivative) is traced through them.

def _matmul_vjp_a(g, ans, a, b):
    # a and b are arrays (matmul takes no scalars) or traced arrays: both have .ndim
    if b.ndim == 1:
        gradient = g[..., None] * b if a.ndim > 1 else g * b
    elif a.ndim == 1:
        gradient = (b @ g[..., None])[..., 0]
    else:
        gradient = g @ b.swapaxes(-1, -2)
    return fit(gradient, a)


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1:
        # a[:, None] * g[..., None, :], not outer(a, g): g may carry batch axes
        gradient = a[:, None] * g[..., None, :] if b.ndim > 1 else g * a
    elif b.ndim == 1:
        gradient = (a.swapaxes(-1, -2) @ g[..., None])[..., 0]
    else:
        gradient = a.swapaxes(-1, -2) @ g
    return fit(gradient, b)


defprimitive("matmul", operator.matmul, numpy=np.matmul,
             jvps=[lambda t, ans, a, b: full_tangent(t, a) @ b,
                   lambda t, ans, a, b: a @ full_tangent(t, b)],
             vjps=[_matmul_vjp_a, _matmul_vjp_b])


# -- np.where(mask, a, b): a where the constant mask holds, b elsewhere ----------------
# Values, tangents and adjoints are picked, as numpy picks them: mask * a +
# (1 - mask) * b would turn an inf or nan in the branch not taken into nan
# (0 * inf), e.g. np.where(x > 0, np.sqrt(x), 0.0) at x = -1.

def _picked(x):
    # np.where on plain numbers returns a 0-d array: make it a float
    return plain(x[()]) if isinstance(x, np.ndarray) else x


defprimitive("where", lambda mask, a, b: _picked(np.where(mask, a, b)),
             jvps=[None,
                   lambda t, ans, mask, a, b: _picked(np.where(mask, full_tangent(t, a), 0.0)),
                   lambda t, ans, mask, a, b: _picked(np.where(mask, 0.0, full_tangent(t, b)))],
             vjps=[None,
                   lambda g, ans, mask, a, b: fit(_picked(np.where(mask, g, 0.0)), a),
                   lambda g, ans, mask, a, b: fit(_picked(np.where(mask, 0.0, g)), b)])


# -- linear array operations: the jvp applies the operation to the tangent, the vjp
# its transpose (see deflinear) --------------------------------------------------------

def _is_basic(index):
    if type(index) is int:  # x[0], the common case, without the loop below
        return True
    parts = index if isinstance(index, tuple) else (index,)
    return all((isinstance(p, (int, np.integer, slice)) and not isinstance(p, bool)) or p is None
               or p is Ellipsis for p in parts)


def _untake(values, index, shape):
    """The transpose of x[index]: an array of zeros of ``shape`` with ``values`` put at
    ``index`` (repeated fancy indices accumulate)."""
    result = np.zeros(shape, dtype=_float_type(values))
    if _is_basic(index):
        result[index] = values  # basic indexing selects each element at most once
    else:
        np.add.at(result, index, values)
    return result


def _float_type(x):
    """The dtype of the plain value ``x``, promoted to float if it is not a float or complex
    one, as np.result_type(x, 1.0) (without its dispatch for an array or a float): a float32
    array stays float32, as np.broadcast_to keeps it (promoted to float64, the traced
    np.broadcast_to of a float32 array was float64 and what followed it too)."""
    if type(x) is np.ndarray:
        dtype = x.dtype
        return dtype if dtype.kind in "fc" else np.promote_types(dtype, float)
    return float if type(x) is float else np.result_type(x, 1.0)


def kept_shape(shape, axis):
    """The shape of a reduction over ``axis`` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    kept = list(shape)
    for a in axis if isinstance(axis, tuple) else (axis,):
        kept[a] = 1  # a negative axis counts from the end, in numpy as in a list
    return tuple(kept)


def keep_dims(y, x, axis, keepdims):
    """The result ``y`` of a reduction of ``x`` over ``axis``, reshaped as with keepdims=True
    (so that it broadcasts against x)."""
    return y if keepdims or shape_of(y) == () else y.reshape(kept_shape(shape_of(x), axis))


def _broadcast(x, shape):
    """x broadcast to ``shape``, as a new array (np.broadcast_to returns a read-only view
    after several Python-level checks: filling an empty array is faster)."""
    result = np.empty(shape, _float_type(x))
    result[...] = x
    return result


def _sum_transpose(adjoint, ans, x, axis, keepdims):
    # every summed element gets the adjoint of its sum: spread back over x's shape
    return PRIMITIVES["broadcast_to"](keep_dims(adjoint, x, axis, keepdims), shape_of(x))


def reduced_count(shape, axis):
    """How many elements of an array of ``shape`` each result of a reduction over ``axis``
    (a mean, a variance) is taken over. An axis out of range is numpy's AxisError (a repeated
    one is left to the reduction itself, which raises numpy's own error)."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in normalize_axis_tuple(axis, len(shape), allow_duplicate=True))


_SUMMED_AS_THEY_ARE = (np.dtype(float), np.dtype(complex))  # np.mean sums no others so


def _mean(x, axis, keepdims):
    """np.mean(x, axis, keepdims): for a float64 or complex128 array, its sum divided by the
    count, as np.mean computes it but without its Python layers (other dtypes, which np.mean
    sums in another precision, and empty means go to np.mean itself)."""
    if type(x) is np.ndarray and x.dtype in _SUMMED_AS_THEY_ARE:
        count = reduced_count(x.shape, axis)
        if count:
            return np.add.reduce(x, axis=axis, keepdims=keepdims) / count
    return np.mean(x, axis=axis, keepdims=keepdims)


def _mean_transpose(adjoint, ans, x, axis, keepdims):
    count = reduced_count(shape_of(x), axis)
    return _sum_transpose(over(adjoint, count), ans, x, axis, keepdims)  # divided, then spread


def _cumsum_transpose(adjoint, ans, x, axis):
    # sum over j >= i of adjoint_j: a cumulative sum from the other end
    if axis is None:
        return np.reshape(np.cumsum(adjoint[::-1])[::-1], np.shape(x))
    backwards = (slice(None),) * (axis % np.ndim(x)) + (slice(None, None, -1),)
    return np.cumsum(adjoint[backwards], axis=axis)[backwards]


def _transpose_transpose(adjoint, ans, x, axes):
    if axes is None:
        return np.transpose(adjoint)
    return np.transpose(adjoint, tuple(np.argsort([a % np.ndim(x) for a in axes])))


def _getitem(x, index):
    """x[index] as numpy indexes: a 0-d array kept as a Python number (a Variable's value)
    is indexed as the array it stands for (x[None], x[()], x[...])."""
    if isinstance(x, (float, complex)):
        return plain(np.asarray(x)[index])
    return x[index]


deflinear("getitem", _getitem,
          lambda adjoint, ans, x, index: PRIMITIVES["untake"](adjoint, index, shape_of(x)))
deflinear("untake", _untake, lambda adjoint, ans, values, index, shape: _getitem(adjoint, index))
# np.add.reduce is what np.sum calls, without np.sum's Python layer
deflinear("sum", lambda x, axis, keepdims: np.add.reduce(x, axis=axis, keepdims=keepdims),
          _sum_transpose)
deflinear("mean", _mean,
          _mean_transpose)
deflinear("broadcast_to", _broadcast,
          lambda adjoint, ans, x, shape: unbroadcast(adjoint, shape_of(x)))
deflinear("cumsum", lambda x, axis: np.cumsum(x, axis=axis), _cumsum_transpose)


def _astype(x, dtype):
    """x.astype(dtype), a float dtype, rounded as numpy rounds it (a number becomes that
    type's scalar; float64 a Python float, as plain values are). A complex x is an adjoint
    of a real one: its real part (the imaginary part belongs to no derivative, reverse.py)."""
    if is_complex(x):
        x = np.real(x)
    if type(x) is np.ndarray:
        return x.astype(dtype)
    return plain(dtype.type(x))


# x.astype(np.float32) rounds, x.astype(float) of a float32 x widens (both were x itself, so
# the traced value kept x's precision): a linear map whose transpose casts the adjoint back
deflinear("astype", _astype, lambda adjoint, ans, x, dtype: PRIMITIVES["astype"](adjoint, dtype_of(x)))
deflinear("reshape", lambda x, shape: np.reshape(x, shape),
          lambda adjoint, ans, x, shape: np.reshape(adjoint, shape_of(x)))
deflinear("transpose", lambda x, axes: np.transpose(x, axes), _transpose_transpose)
def _roll(x, shift, axis):
    """np.roll(x, shift, axis). One integer shift along one axis is the array's two pieces
    swapped, joined by np.concatenate: numpy's np.roll is written in Python for any shifts
    and axes, and on a 16 x 16 lattice it costs several times the copy it makes."""
    if type(x) is not np.ndarray or type(shift) is not int or type(axis) is not int \
            or not -x.ndim <= axis < x.ndim or x.shape[axis] == 0:
        return np.roll(x, shift, axis)
    cut = x.shape[axis] - shift % x.shape[axis]
    before = (slice(None),) * (axis % x.ndim)
    return np.concatenate((x[(*before, slice(cut, None))], x[(*before, slice(None, cut))]), axis)


# a cyclic shift: its transpose shifts back (the lattice's periodic neighbours)
deflinear("roll", _roll, lambda adjoint, ans, x, shift, axis: _roll(adjoint, -shift, axis)
          if type(shift) is int else np.roll(adjoint, np.negative(shift), axis))
# Re z and Im z are real-linear; their transposes in JAX's convention (reverse.py): the
# cotangent w̄ of Re z is ∂L/∂x, so z̄ = w̄; of Im z it is ∂L/∂y, so z̄ = -i w̄ (0 for a real z).
# The adjoint of a real value (Re z, Im z, |z|) may carry an imaginary part that belongs to
# no derivative (a real x times a complex constant sends x the complex w̄ c): only its real
# part is used where it reaches a complex z again (here and in |z|'s vjp), and real leaves
# keep the real part (reverse.py).
deflinear("real", np.real,
          lambda adjoint, ans, x: np.real(adjoint) if is_complex(x) else adjoint)
deflinear("imag", np.imag,
          lambda adjoint, ans, x: -1j * np.real(adjoint) if is_complex(x) else 0.0 * adjoint)
defprimitive("conjugate", np.conjugate, numpy=np.conjugate,
             jvps=[lambda t, ans, x: np.conjugate(t)],
             vjps=[lambda g, ans, x: fit(np.conjugate(g), x)])


# -- reductions that are not linear ----------------------------------------------------

def _extremum(name, reduce):
    """max or min over ``axis``: the derivative goes to the entries equal to the extremum
    (shared equally at a tie, as for maximum(x, x))."""
    def share(x, axis):
        value = value_of(x)
        hits = value == reduce(value, axis=axis, keepdims=True)
        # in x's precision: a bool array over its count is float64, which made the tangent
        # (jvp, derivative, forward_gradient) and the .grad of a float32 x float64
        real = np.finfo(np.result_type(value, 1.0)).dtype
        return (hits / np.sum(hits, axis=axis, keepdims=True)).astype(real, copy=False)

    defprimitive(
        name, lambda x, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims),
        jvps=[lambda t, ans, x, axis, keepdims: np.sum(full_tangent(t, x) * share(x, axis),
                                                       axis=axis, keepdims=keepdims), None, None],
        vjps=[lambda g, ans, x, axis, keepdims: keep_dims(g, x, axis, keepdims) * share(x, axis),
              None, None])


_extremum("max", np.max)
_extremum("min", np.min)


def _prod_partial(ans, x, axis, keepdims):
    """d prod / d x_i = prod / x_i (refused at a zero entry, where it would be 0/0)."""
    if np.any(value_of(x) == 0):
        raise ValueError("np.prod: the derivative at an entry equal to 0 is not supported "
                         "(prod / x divides by zero); multiply the factors with * instead")
    return keep_dims(ans, x, axis, keepdims) / x


defprimitive(
    "prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    jvps=[lambda t, ans, x, axis, keepdims: np.sum(
        _prod_partial(ans, x, axis, keepdims) * t, axis=axis, keepdims=keepdims), None, None],
    vjps=[lambda g, ans, x, axis, keepdims: keep_dims(g, x, axis, keepdims)
          * _prod_partial(ans, x, axis, keepdims), None, None])


# -- the same rules as plain functions, as written in the lecture ----------------------

def _lecture_function(ufunc, rule):
    def function(x):
        return ufunc(x)

    function.__name__ = function.__qualname__ = ufunc.__name__
    function.__doc__ = f"{ufunc.__name__}(x) for floats, arrays, Duals and Variables: {rule}."
    return function


sin = _lecture_function(np.sin, "sin(x + x'd) = sin x + cos(x) x' d")
cos = _lecture_function(np.cos, "cos(x + x'd) = cos x - sin(x) x' d")
tan = _lecture_function(np.tan, "tan(x + x'd) = tan x + (1 + tan(x)**2) x' d")
exp = _lecture_function(np.exp, "exp(x + x'd) = e^x + e^x x' d")
log = _lecture_function(np.log, "log(x + x'd) = log x + x'/x d (natural logarithm)")
sqrt = _lecture_function(np.sqrt, "sqrt(x + x'd) = sqrt x + x' / (2 sqrt x) d")
tanh = _lecture_function(np.tanh, "tanh(x + x'd) = tanh x + (1 - tanh(x)**2) x' d")
arctan = _lecture_function(np.arctan, "arctan(x + x'd) = arctan x + x' / (1 + x**2) d")
