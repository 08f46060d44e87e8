"""numpy's functions (not ufuncs) on Duals and Variables, written with primitives: each
is registered with ``@implements(np.<function>)`` (rules.py) in the one table
``NUMPY_FUNCTIONS``, which numpy reaches through ``__array_function__`` (dispatch.py).

Each is either one primitive (np.max -> "max", np.linalg.inv -> "inv") or written
with primitives: np.concatenate places each piece with the primitive "untake",
np.repeat, np.tile, np.trace, np.flip, np.diagonal and np.diff index the
flattened array, np.var is the mean squared deviation, np.linalg.norm is
sqrt(sum(x * x)). So every one works in both modes and nests, with no rule of
its own to get wrong. A function missing from the table raises numpy's
TypeError naming it.
"""

from __future__ import annotations

import collections
import math
import string

import numpy as np

from ad_engine.linalg_rules import MAX_EINSUM_OPERANDS, parse_einsum
from ad_engine.numpy_rules import reduced_count
from ad_engine.rules import (
    PRIMITIVES,
    Traced,
    dtype_of,
    implements,
    is_complex,
    over,
    shape_of,
    value_of,
)


def _shape_after(function, shape, *args):
    """The shape numpy's ``function`` gives an array of ``shape`` (computed on a view
    that holds no data)."""
    return function(np.broadcast_to(np.empty((), bool), shape), *args).shape


def _refuse_arguments(name, **arguments):
    given = [key for key, value in arguments.items() if value is not None]
    if given:
        raise NotImplementedError(f"np.{name} with {', '.join(given)}= is not supported on "
                                  f"Duals and Variables")


# -- reductions --------------------------------------------------------------------------

def _reduction(name, dtype_argument=True):
    """np.<name> with numpy's signature: (a, axis, dtype, out, keepdims, ...) for sum, mean
    and prod, (a, axis, out, keepdims, ...) for max and min (``dtype_argument=False``: a
    keepdims given by position was read as out)."""
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        if dtype is not None or out is not None or initial is not None or where is not None:
            _refuse_arguments(name, dtype=dtype, out=out, initial=initial, where=where)
        return PRIMITIVES[name](a, tuple(axis) if isinstance(axis, list) else axis, keepdims)

    def reduce_without_dtype(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        return reduce(a, axis, None, out, keepdims, initial, where)

    function = reduce if dtype_argument else reduce_without_dtype
    function.__name__ = name
    return function


implements(np.sum)(_reduction("sum"))
implements(np.mean)(_reduction("mean"))
implements(np.max, np.amax)(_reduction("max", dtype_argument=False))
implements(np.min, np.amin)(_reduction("min", dtype_argument=False))
implements(np.prod)(_reduction("prod"))


@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    _refuse_arguments("cumsum", dtype=dtype, out=out)
    return PRIMITIVES["cumsum"](a, axis)


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (numpy's name)
    """Vector norms (ord None, 2, 1, inf, -inf, 0, p) and the matrix norms."""
    if isinstance(axis, tuple) and len(axis) == 1:  # numpy's vector norm along that axis
        axis = axis[0]
    if axis is None and ord is not None and np.ndim(value_of(x)) not in (1, 2):
        raise ValueError("Improper number of dimensions to norm.")  # numpy's check
    matrix = (axis is None and np.ndim(value_of(x)) == 2) or isinstance(axis, tuple)
    if isinstance(ord, str) and not matrix:  # 'fro', 'nuc' ('inf' is no number to numpy)
        raise ValueError(f"Invalid norm order '{ord}' for vectors")  # numpy's check
    if ord is None or ord in ("fro", "f") or (ord == 2 and not matrix):
        return np.sqrt(np.sum(_squared_modulus(x), axis=axis, keepdims=keepdims))
    if matrix:
        return _matrix_norm(x, ord, axis, keepdims)
    if ord == np.inf:
        return np.max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 1:
        return np.sum(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzero entries: piecewise constant, derivative 0
        return np.linalg.norm(value_of(x), 0, axis, keepdims)
    return np.sum(abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):  # noqa: A002  (numpy's name)
    """The matrix norms of np.linalg.norm, as numpy computes them: 'nuc' (the sum of the
    singular values), 2 and -2 (the largest and smallest), 1 and -1 (column sums of |x|),
    inf and -inf (row sums)."""
    rows, columns = (a % np.ndim(value_of(x)) for a in (axis or (-2, -1)))
    if ord in ("nuc", 2, -2):
        singular = PRIMITIVES["svd_s"](np.moveaxis(x, (rows, columns), (-2, -1)), False)
        reduce = {"nuc": np.sum, 2: np.max, -2: np.min}[ord]
        result = reduce(singular, axis=-1)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (rows, columns) if ord in (1, -1) else (columns, rows)
        reduce = np.max if ord in (1, np.inf) else np.min
        result = reduce(np.sum(abs(x), axis=summed), axis=other - (other > summed))
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices")
    if keepdims:
        shape = list(shape_of(x))
        shape[rows] = shape[columns] = 1
        result = np.reshape(result, tuple(shape))
    return result


# -- shapes --------------------------------------------------------------------------------

@implements(np.transpose)
def transpose(a, axes=None):
    return PRIMITIVES["transpose"](a, None if axes is None else tuple(axes))


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    axes = list(range(np.ndim(value_of(a))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


@implements(np.ravel)
def ravel(a, order="C"):
    """The elements as a 1-D array, read in row-major ('C') or column-major ('F') order."""
    return reshape(a, (-1,), order)


@implements(np.copy)
def copy(a, order="K", subok=False):
    """A new node with a's value (np.copy(x), x.copy()): the derivative passes unchanged."""
    return PRIMITIVES["positive"](a)


@implements(np.squeeze)
def squeeze(a, axis=None):
    return np.reshape(a, _shape_after(np.squeeze, shape_of(a), axis))


@implements(np.expand_dims)
def expand_dims(a, axis):
    return np.reshape(a, _shape_after(np.expand_dims, shape_of(a), axis))


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    return PRIMITIVES["broadcast_to"](array, tuple(np.atleast_1d(shape)))


def _take_flat(a, index):
    """a.ravel()[index] for an integer array ``index``: a gather, whose transpose adds the
    adjoint back where each element came from."""
    return ravel(a)[index]


def _positions(a):
    shape = shape_of(a)
    return np.arange(int(np.prod(shape))).reshape(shape)


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    return _take_flat(a, np.repeat(_positions(a), repeats, axis))


@implements(np.tile)
def tile(A, reps):  # noqa: N803  (numpy's name)
    return _take_flat(A, np.tile(_positions(A), reps))


def _triangle(select):
    def triangle(m, k=0):
        mask = select(np.ones(shape_of(m)[-2:], dtype=bool), k)
        return np.where(mask, m, 0.0)

    return triangle


implements(np.tril)(_triangle(np.tril))
implements(np.triu)(_triangle(np.triu))


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """numpy's own definition: the diagonal (its axis last) summed. Indexing with two index
    arrays put the diagonal's axis first when axis1 and axis2 are not adjacent, and the sum
    ran over another axis."""
    _refuse_arguments("trace", dtype=dtype, out=out)
    return np.sum(diagonal(a, offset, axis1, axis2), axis=-1)


# -- joining arrays ----------------------------------------------------------------------

@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    """Each piece added into its place in zeros of the result's shape (the primitive
    "untake", whose transpose takes each piece's adjoint back out)."""
    _refuse_arguments("concatenate", out=out, dtype=dtype)
    arrays = list(arrays)
    if casting is not None:  # the check numpy makes: each piece cast to the result's type
        values = [np.asarray(value_of(a)) for a in arrays]
        result_type = np.result_type(*values)
        for value in values:
            if not np.can_cast(value.dtype, result_type, casting):
                raise TypeError(f"Cannot cast array data from {value.dtype!r} to "
                                f"{result_type!r} according to the rule {casting!r}")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    shapes = [shape_of(a) for a in arrays]
    if any(len(s) == 0 for s in shapes):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis %= len(shapes[0])
    shape = np.concatenate([np.broadcast_to(np.empty((), bool), s) for s in shapes], axis).shape
    result, start = None, 0
    for a, piece_shape in zip(arrays, shapes):
        index = (slice(None),) * axis + (slice(start, start + piece_shape[axis]),)
        piece = PRIMITIVES["untake"](a, index, shape)
        result = piece if result is None else result + piece
        start += piece_shape[axis]
    return result


@implements(np.stack)
def stack(arrays, axis=0, out=None, dtype=None, casting=None):
    arrays = list(arrays)
    return concatenate([expand_dims(a, axis) for a in arrays], axis, out, dtype, casting)


def _at_least(a, ndim):
    shape = shape_of(a)
    if len(shape) >= ndim:
        return a
    return np.reshape(a, (1,) * (ndim - len(shape)) + shape)  # as np.atleast_1d, _2d


@implements(np.vstack)
def vstack(tup, dtype=None, casting=None):
    return concatenate([_at_least(a, 2) for a in tup], 0, None, dtype, casting)


@implements(np.hstack)
def hstack(tup, dtype=None, casting=None):
    arrays = [_at_least(a, 1) for a in tup]
    return concatenate(arrays, 0 if len(shape_of(arrays[0])) == 1 else 1, None, dtype, casting)


@implements(np.append)
def append(arr, values, axis=None):
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis)


# -- products --------------------------------------------------------------------------------

@implements(np.einsum)
def einsum(*operands, out=None, optimize=False, **kwargs):
    """np.einsum with subscripts ('ij,jk->ik', '...ij,jk', implicit output) or numpy's other
    form, operands and their axes as lists (a, [0, 1], b, [1, 2], [0, 2]): both are written
    as one string of letters, '...' expanded, for the primitive "einsum"."""
    _refuse_arguments("einsum", out=out, **{k: v for k, v in kwargs.items()})
    subscripts, arrays = _explicit_subscripts(operands)
    if len(arrays) > MAX_EINSUM_OPERANDS:
        raise NotImplementedError(f"np.einsum of more than {MAX_EINSUM_OPERANDS} operands")
    parse_einsum(subscripts, len(arrays))
    return PRIMITIVES["einsum"](subscripts, *arrays)


def _explicit_subscripts(operands):
    """(subscripts, arrays) for einsum's two calling forms, with every axis a letter and
    the output written after '->'."""
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0].replace(" ", ""), list(operands[1:])
    else:  # a, axes_a, b, axes_b, ..., [axes_out]
        arrays = list(operands[0::2][:len(operands) // 2])
        names = [_letters(axes) for axes in operands[1::2]]
        subscripts = ",".join(names) + ("->" + _letters(operands[-1]) if len(operands) % 2 else "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    named = [term.replace("...", "") for term in terms]
    if not arrow:  # numpy's implicit output: '...', then the letters used once, sorted
        letters = "".join(named)
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    if "..." in subscripts + output and len(terms) == len(arrays):
        fresh = [c for c in string.ascii_letters if c not in subscripts]
        spans = [np.ndim(value_of(a)) - len(n) if "..." in t else 0
                 for t, n, a in zip(terms, named, arrays)]
        broadcast = "".join(fresh[:max(spans)])
        terms = [t.replace("...", broadcast[len(broadcast) - k:] if k else "")
                 for t, k in zip(terms, spans)]
        output = output.replace("...", broadcast)
    return ",".join(terms) + "->" + output, arrays


def _letters(axes):
    """Einsum's list of axes ([0, 1, Ellipsis]) as letters ('ab...')."""
    return "".join("..." if axis is Ellipsis else string.ascii_letters[axis] for axis in axes)


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    rank_a, rank_b = np.ndim(value_of(a)), np.ndim(value_of(b))
    if isinstance(axes, int):
        axes_a, axes_b = list(range(rank_a - axes, rank_a)), list(range(axes))
    else:
        axes_a, axes_b = (np.atleast_1d(ax).tolist() for ax in axes)
    axes_a = [ax % rank_a for ax in axes_a]
    axes_b = [ax % rank_b for ax in axes_b]
    letters_a = string.ascii_letters[:rank_a]
    letters_b = list(string.ascii_letters[rank_a:rank_a + rank_b])
    for ax_a, ax_b in zip(axes_a, axes_b):
        letters_b[ax_b] = letters_a[ax_a]
    output = [c for i, c in enumerate(letters_a) if i not in axes_a]
    output += [c for i, c in enumerate(letters_b) if i not in axes_b]
    return einsum(f"{letters_a},{''.join(letters_b)}->{''.join(output)}", a, b)


@implements(np.dot)
def dot(a, b, out=None):
    """np.dot: a product for a scalar, a @ b up to 2-D b, else a sum over the last axis of
    a and the second-to-last of b (which is not what @ does for N-D arrays)."""
    _refuse_arguments("dot", out=out)
    rank_a, rank_b = np.ndim(value_of(a)), np.ndim(value_of(b))
    if rank_a == 0 or rank_b == 0:
        # np.dot makes arrays of its arguments: a Python number is a float64 (complex128) one,
        # not the weak scalar it is in a * b (np.dot(2.5, a float32 x) is float64); the
        # narrower operand is widened exactly (times 1) first
        dtype = np.result_type(dtype_of(a), dtype_of(b))
        a, b = (t if dtype_of(t) == dtype else t * np.ones((), dtype) for t in (a, b))
        return a * b
    if rank_b <= 2 or rank_a == 1:
        return a @ b
    return tensordot(a, b, axes=([-1], [-2]))


# -- linear algebra --------------------------------------------------------------------------

SlogdetResult = collections.namedtuple("SlogdetResult", "sign logabsdet")


@implements(np.linalg.slogdet)
def slogdet(a):
    return SlogdetResult(np.linalg.slogdet(value_of(a))[0], PRIMITIVES["logabsdet"](a))


class NotDifferentiable:
    """Stands for a result the engine cannot differentiate: any use of it raises
    NotImplementedError with ``message`` (so unpacking U, s, Vh = np.linalg.svd(x)
    still works when U is not used)."""

    def __init__(self, message):
        self.message = message

    def refuse(self, *args, **kwargs):
        raise NotImplementedError(self.message)

    __array__ = __array_ufunc__ = __array_function__ = __getitem__ = __iter__ = refuse
    __len__ = __float__ = __bool__ = refuse
    for _name in ("add", "sub", "mul", "truediv", "matmul", "pow"):
        locals()[f"__{_name}__"] = locals()[f"__r{_name}__"] = refuse
    __neg__ = __abs__ = refuse

    def __getattr__(self, name):
        raise NotImplementedError(self.message)

    def __repr__(self):
        return f"<not differentiable: {self.message}>"


@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """The SVD from the primitives svd_u, svd_s, svd_vh, each numpy's own factor of ``a``.
    With full_matrices=True and a non-square matrix, the columns of U (or rows of Vh) beyond
    the thin SVD are any orthonormal completion: they have no derivative. Nor have the
    singular vectors at repeated singular values (refused, with the pairs named); the
    singular values' first derivative is given there, as eigh's eigenvalues' (their sum over
    the repeated ones is right, each alone has a kink)."""
    if hermitian:
        raise NotImplementedError("np.linalg.svd(x, hermitian=True) is not supported on Duals "
                                  "and Variables; use np.linalg.eigh for a symmetric matrix")
    rows, columns = shape_of(a)[-2:]
    s = PRIMITIVES["svd_s"](a, compute_uv)
    if not compute_uv:
        return s
    u, vh = PRIMITIVES["svd_u"](a), PRIMITIVES["svd_vh"](a)
    if full_matrices and rows != columns:
        message = ("np.linalg.svd(x) of a non-square x: the extra singular vectors of "
                   "full_matrices=True have no derivative; use full_matrices=False")
        if rows > columns:
            u = NotDifferentiable(message)
        else:
            vh = NotDifferentiable(message)
    return SVDResult(u, s, vh)


SVDResult = type(np.linalg.svd(np.eye(1)))  # numpy's named tuple (U, S, Vh)


# -- gathers: which element goes where is decided on an array of positions -------------

@implements(np.flip)
def flip(m, axis=None):
    return _take_flat(m, np.flip(_positions(m), axis))


@implements(np.roll)
def roll(a, shift, axis=None):
    return PRIMITIVES["roll"](a, shift, axis)


@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    return _take_flat(a, np.diagonal(_positions(a), offset, axis1, axis2))


@implements(np.diag)
def diag(v, k=0):
    """The k-th diagonal of a matrix (np.diag of a 1-D array builds a matrix: refused)."""
    if np.ndim(value_of(v)) != 2:
        raise NotImplementedError("np.diag of a 1-D Dual or Variable is not supported: "
                                  "write np.eye(n) * v for the diagonal matrix")
    return diagonal(v, k)


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """a[1:] - a[:-1] along ``axis``, n times."""
    _refuse_arguments("diff", prepend=prepend, append=append)
    for _ in range(n):
        positions = np.moveaxis(_positions(a), axis, -1)
        a = _take_flat(a, np.moveaxis(positions[..., 1:], -1, axis)) - _take_flat(
            a, np.moveaxis(positions[..., :-1], -1, axis))
    return a


# -- statistics and products written with the primitives -------------------------------

@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """The mean squared deviation from the mean, divided by N - ddof instead of N (by 0 where
    ddof >= N: inf or nan, as numpy). numpy 2's keywords: ``correction`` is ddof by another
    name; ``mean`` is a mean already computed (numpy's keepdims=True shape), used in place
    of np.mean(a, axis, keepdims=True), and differentiated if it is traced."""
    deviation, count, ddof = _deviation(a, axis, dtype, out, ddof, where, mean, correction, "var")
    return _variance(deviation, axis, keepdims, count, ddof)


def _deviation(a, axis, dtype, out, ddof, where, mean, correction, name):
    """(a - mean, the number of elements per mean, ddof) for np.var and np.std, with numpy's
    checks of the arguments: an axis out of range is numpy's AxisError (a 0-d array has no
    axis 0; the count read shape[0] and raised IndexError)."""
    _refuse_arguments(name, dtype=dtype, out=out, where=where)
    if correction is not None:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")  # numpy's
        ddof = correction
    count = reduced_count(shape_of(a), axis)  # elements per mean
    if mean is None:
        mean = np.mean(a, axis=axis, keepdims=True)
    return a - mean, count, ddof


def _variance(deviation, axis, keepdims, count, ddof):
    """The mean of |deviation|^2 over ``axis``, divided by count - ddof as numpy divides."""
    return over(np.sum(_squared_modulus(deviation), axis=axis, keepdims=keepdims),
                max(count - ddof, 0))


def _squared_modulus(x):
    """|x|**2: x * x for real x, Re² + Im² for complex x, as numpy's var takes it (smooth at
    x = 0, where |x| is not)."""
    if is_complex(x):
        re, im = np.real(x), np.imag(x)
        return re * re + im * im
    return x * x


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None,
        correction=None):
    """sqrt(var) (with numpy 2's ``mean`` and ``correction``, see var). Over one element (a
    0-d array, an axis of length 1) it is |a - mean| / sqrt(1 - ddof), whose derivative is
    that of |x|, 0 at x = 0 (as the central difference): where the deviation is 0, as it
    always is about a's own mean, given or not, sqrt's partial 1/(2 sqrt 0) made it nan."""
    deviation, count, ddof = _deviation(a, axis, dtype, out, ddof, where, mean, correction, "std")
    variance = _variance(deviation, axis, keepdims, count, ddof)
    zero = value_of(variance) == 0
    if count != 1 or not np.any(zero):
        return np.sqrt(variance)
    modulus = over(np.sum(abs(deviation), axis=axis, keepdims=keepdims), math.sqrt(1 - ddof))
    # |a - mean| where it is 0, so numpy's value sqrt(0) = 0; a deviation whose square
    # underflowed to a variance of 0 keeps numpy's value, sqrt(var) = 0, too
    exact = value_of(modulus) == 0
    if np.all(exact):
        return modulus
    return np.where(exact, modulus, np.sqrt(np.where(exact, 1.0, variance)))


@implements(np.outer)
def outer(a, b, out=None):
    _refuse_arguments("outer", out=out)
    return ravel(a).reshape(-1, 1) * ravel(b).reshape(1, -1)


@implements(np.inner)
def inner(a, b):
    """The sum over the last axes of a and b (a product if either is a scalar)."""
    if np.ndim(value_of(a)) == 0 or np.ndim(value_of(b)) == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


@implements(np.vdot)
def vdot(a, b):
    """sum(conj(a) * b) over the flattened arrays."""
    return np.sum(np.conjugate(ravel(a)) * ravel(b))


# -- one primitive each, called with numpy's arguments -----------------------------------

@implements(np.reshape)
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """The elements in a new shape, read and placed in row-major order ('C'), or in
    column-major order ('F'): the C-order reshape of the reversed axes, reversed back."""
    _refuse_arguments("reshape", newshape=newshape, copy=copy)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if order == "F":
        return transpose(PRIMITIVES["reshape"](transpose(a), shape[::-1]))
    if order != "C":  # 'A' and 'K' follow the memory layout of an array, which a traced value has not
        raise NotImplementedError(f"np.reshape and np.ravel with order={order!r} are not supported "
                                  f"on Duals and Variables; write order='C' or order='F'")
    return PRIMITIVES["reshape"](a, shape)


@implements(np.where)
def where(condition, *x_and_y):
    """x where the (constant) condition holds, y elsewhere. numpy's one-argument form,
    np.where(condition), is np.nonzero(condition): indices, which have no derivative, and a
    traced condition there is more likely a call missing x and y: refused, naming both."""
    if len(x_and_y) == 2:
        return PRIMITIVES["where"](np.asarray(value_of(condition), dtype=bool), *x_and_y)
    if x_and_y:
        raise ValueError("either both or neither of x and y should be given")  # numpy's
    kind = type(condition).__name__
    raise TypeError(
        f"np.where(condition) with one argument, here a {kind}, returns the indices where it "
        f"is nonzero, which have no derivative; for those indices write np.nonzero(x) (it "
        f"reads the values), and for a choice that keeps the derivative the three-argument "
        f"form np.where(condition, x, y)")


@implements(np.real)
def real(val):
    return PRIMITIVES["real"](val)


@implements(np.imag)
def imag(val):
    return PRIMITIVES["imag"](val)


# -- splitting, turning, stacking columns: gathers and joins -----------------------------

def _gathered(function):
    """A numpy function that only moves elements (np.flipud, np.rot90 ...): decided on an
    array of positions, then a gather of the flattened array."""
    def gather(m, *args, **kwargs):
        return _take_flat(m, function(_positions(m), *args, **kwargs))

    gather.__name__ = function.__name__
    return gather


def _pieces(function):
    """A numpy function that cuts an array into a list of pieces (np.split, np.hsplit ...):
    each piece a gather of the positions numpy's function puts in it."""
    def cut(ary, *args, **kwargs):
        return [_take_flat(ary, piece) for piece in function(_positions(ary), *args, **kwargs)]

    cut.__name__ = function.__name__
    return cut


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    return transpose(a, _moved_axes(np.ndim(value_of(a)), source, destination))


def _moved_axes(ndim, source, destination):
    """The permutation np.moveaxis applies (numpy's own rule, on a list of axes)."""
    source = [s % ndim for s in np.atleast_1d(source)]
    destination = [d % ndim for d in np.atleast_1d(destination)]
    order = [n for n in range(ndim) if n not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return order


@implements(np.column_stack)
def column_stack(tup):
    """1-D arrays become columns; 2-D arrays are joined as they are."""
    return concatenate([np.reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a for a in tup], 1)


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient: along each axis, central differences inside and one-sided ones at the
    ends, a linear map of f. Its matrix D (column j: np.gradient of the unit vector e_j, with
    the same spacing) is applied with einsum, so the result is traced in every mode; the
    spacings are constants."""
    if any(isinstance(v, Traced) for v in varargs):
        raise NotImplementedError("np.gradient with a traced spacing is not supported on Duals "
                                  "and Variables; the spacing (or coordinates) must be constant")
    ndim = np.ndim(value_of(f))
    axes = tuple(range(ndim)) if axis is None else tuple(np.atleast_1d(axis) % ndim)
    spacings = list(varargs) if len(varargs) > 1 else [varargs[0] if varargs else 1.0] * len(axes)
    if len(spacings) != len(axes):
        raise TypeError("invalid number of arguments")
    results = []
    for ax, spacing in zip(axes, spacings):
        size = shape_of(f)[ax]
        matrix = np.gradient(np.eye(size, dtype=dtype_of(f)), spacing, axis=0,
                             edge_order=edge_order)  # float32 f: in float32, as numpy
        letters = string.ascii_letters[:ndim]
        results.append(np.einsum(f"{letters},{'z' + letters[ax]}->"
                                 f"{letters.replace(letters[ax], 'z')}", f, matrix))
    return results[0] if len(results) == 1 else tuple(results)


@implements(np.angle)
def angle(z, deg=False):
    """The argument of z, as numpy: arctan2(Im z, Re z) (in degrees with deg=True)."""
    result = np.arctan2(np.imag(z), np.real(z))
    return result * (180 / np.pi) if deg else result


# -- sorting, picking, clipping, polynomials: gathers and primitives --------------------

@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """The elements in increasing order: a gather by numpy's stable argsort of the values
    (at a tie the derivative follows one of the equal elements, the first in ``a``)."""
    _refuse_arguments("sort", order=order)
    if axis is None:
        a, axis = ravel(a), -1
    ranks = np.argsort(value_of(a), axis=axis, kind="stable")
    return _take_flat(a, np.take_along_axis(_positions(a), ranks, axis=axis))


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    _refuse_arguments("take", out=out)
    return _take_flat(a, np.take(_positions(a), indices, axis=axis, mode=mode))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    return _take_flat(arr, np.take_along_axis(_positions(arr), indices, axis=axis))


@implements(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The mean of the one or two middle elements of the sorted values along ``axis``
    (numpy's own rule); nan wherever a nan is among them, as numpy gives. Over several axes
    (a tuple) numpy's way: those axes moved last and merged into one. Over an empty axis the
    mean of an empty slice, as numpy: nan, with numpy's RuntimeWarning."""
    _refuse_arguments("median", out=out)
    values = value_of(a)
    if isinstance(axis, list):
        axis = tuple(axis)
    nan = np.isnan(values)
    reduced = np.sum(nan, axis=axis, keepdims=True)  # numpy's checks of axis (range, duplicates)
    if isinstance(axis, tuple):
        axes = [ax % np.ndim(values) for ax in axis]
        rest = [d for d in range(np.ndim(values)) if d not in axes]
        a = reshape(transpose(a, rest + axes), tuple(shape_of(a)[d] for d in rest) + (-1,))
        along = -1
    elif axis is None:
        a, along = ravel(a), -1
    else:
        along = axis
    ordered = sort(a, axis=along)
    size = shape_of(ordered)[along]
    if size == 0:  # numpy's median of nothing: the mean of an empty slice, nan with its warning
        result = np.mean(ordered, axis=along)
    else:
        result = np.mean(take(ordered, [(size - 1) // 2, size // 2], axis=along), axis=along)
    if keepdims:
        result = reshape(result, reduced.shape)
    # a nan among the values, not a nan sum: +inf and -inf in one group sum to nan
    has_nan = np.any(nan, axis=axis, keepdims=keepdims)
    return np.where(has_nan, np.nan, result) if np.any(has_nan) else result


@implements(np.clip)
def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):  # noqa: A002
    """min(max(a, lower), upper), as numpy computes it; either bound may be None (or traced),
    given by position or as numpy 2's min= and max= keywords."""
    _refuse_arguments("clip", out=out, **kwargs)
    lower, upper = (min if a_min is None else a_min), (max if a_max is None else a_max)
    if lower is not None:
        a = np.maximum(a, lower)
    if upper is not None:
        a = np.minimum(a, upper)
    return a


@implements(np.polyval)
def polyval(p, x):
    """Horner's rule, y = y * x + p[k] from the highest power down, as numpy evaluates it."""
    if not isinstance(p, Traced):  # numpy's asarray(p): its entries are float64 numbers, not
        p = np.asarray(p)           # Python floats, so a float32 x gives float64, as in numpy
    y = np.zeros(shape_of(x), dtype_of(x))  # numpy's zeros_like(x): a float32 x stays float32
    for k in range(shape_of(p)[0]):
        y = y * x + p[k]
    return y


implements(np.split)(_pieces(np.split))
implements(np.array_split)(_pieces(np.array_split))
implements(np.hsplit)(_pieces(np.hsplit))
implements(np.vsplit)(_pieces(np.vsplit))
implements(np.dsplit)(_pieces(np.dsplit))
implements(np.flipud)(_gathered(np.flipud))
implements(np.fliplr)(_gathered(np.fliplr))
implements(np.rot90)(_gathered(np.rot90))
