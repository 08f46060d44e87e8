"""How an operation on a Dual or a Variable reaches its primitive.

Operators (``x * y``), array methods (``x.sum()``) and numpy's own functions
(``np.sin(x)``, through numpy's ``__array_ufunc__``/``__array_function__``
protocols) all end in ``bind(primitive, *args)``. ``bind`` hands the call to
the argument with the newest tag (the innermost derivative being taken);
every other argument is a constant to it. ``ArraySurface`` is the surface
that Dual and Variable share, written once.
"""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np

from ad_engine.rules import (
    LIVE,
    NUMPY_FUNCTIONS,
    PRIMITIVES,
    TAGS_PER_CALL,
    LostDerivativeError,
    Primitive,
    Traced,
    bind,
    put_into_plain_array,
    shape_of,
    value_of,
)


def as_operand(x):
    """Return ``x`` as an operand of Dual/Variable arithmetic, or None if it is not numeric."""
    if type(x) is int or isinstance(x, (Traced, float)):  # int: before the slow ABC check
        return x
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind in "biufc" else None
    if isinstance(x, (numbers.Number, np.bool_)):  # np.bool_ is not a numbers.Number
        return x
    if isinstance(x, (list, tuple)):
        try:
            array = np.asarray(x)
        except (ValueError, TypeError):  # ragged, or holding Duals/Variables (see __array__)
            return None
        return array if array.dtype.kind in "biufc" else None
    return None


def numeric_output(result, f):
    """``result``, what the user's function ``f`` returned to a derivative call, checked to be
    a number, a numeric array or a traced value. Anything else (None, a tuple of results, a
    dict) would otherwise count as a constant and get a derivative of zero: refused."""
    if isinstance(result, Traced) or as_operand(result) is not None:
        return result
    raise TypeError(
        f"{function_name(f)} returned {type(result).__name__} {_shortened(result)}, which has no "
        f"derivative: the function being differentiated must return a number or a numeric "
        f"array; for several results, stack them (np.stack([a, b])) or differentiate each "
        f"in its own call")


def one_element_shape(result, f, needs, way_out=""):
    """The shape of ``result``, what f returned to a derivative of a scalar function (grad,
    forward_gradient, hvp), checked to hold one element: a scalar, or (1,), (1, 1) ... taken
    as its element. Anything larger is refused: "{needs}, but f (name) returned shape ..."
    followed by ``way_out``."""
    shape = shape_of(result)
    if math.prod(shape) != 1:
        raise ValueError(f"{needs}, but f ({function_name(f)}) returned shape {shape}{way_out}")
    return shape


def function_name(f):
    """The name of the user's function in a message (a lambda is <lambda>)."""
    return getattr(f, "__name__", type(f).__name__)


def _shortened(x):
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def format_part(part, spec=""):
    """A float, an array or a nested dual as printed inside a Dual or Variable; with a
    format ``spec`` (f"{y:.3f}") every number in it is formatted so."""
    if isinstance(part, Traced):
        return f"({format(part, spec) if spec else repr(part)})"
    if isinstance(part, numbers.Real) and not isinstance(part, bool):
        return format(float(part), spec) if spec else repr(float(part))
    if isinstance(part, np.ndarray):
        numbers_as = {"all": lambda v: format(v, spec)} if spec else None
        return np.array2string(part, separator=", ", threshold=6, formatter=numbers_as)
    return format(part, spec) if spec else repr(part)


def _operator(name, reflected=False):
    """The method behind an operator: apply primitive ``name`` (``reflected``: the other
    operand first, for 2 * x, 1 - x, 2 ** x). NotImplemented for an operand that is
    not a number, so Python raises its usual TypeError naming both types."""
    def method(self, other):
        if not isinstance(other, Traced):  # a Dual or Variable is an operand as it is
            other = as_operand(other)
            if other is None:
                return NotImplemented
        args = (other, self) if reflected else (self, other)
        # bind's rule for two operands, one of them self: the newer tag processes the call
        top = other if isinstance(other, Traced) and other.tag > self.tag else self
        if top.tag % TAGS_PER_CALL == 0 and top.tag not in LIVE:  # ended(top.tag), inlined:
            return bind(PRIMITIVES[name], *args)  # bind takes the ended layer off
        return top.process(PRIMITIVES[name], args)

    return method


class ArraySurface(Traced):
    """Operators, array methods and numpy dispatch shared by Dual and Variable.

    Comparisons look at the value only, so ``if x > 0:`` works in user code.
    """

    __slots__ = ()

    __add__, __radd__ = _operator("add"), _operator("add", reflected=True)
    __sub__, __rsub__ = _operator("subtract"), _operator("subtract", reflected=True)
    __mul__, __rmul__ = _operator("multiply"), _operator("multiply", reflected=True)
    __truediv__, __rtruediv__ = _operator("divide"), _operator("divide", reflected=True)
    __pow__, __rpow__ = _operator("power"), _operator("power", reflected=True)
    __matmul__, __rmatmul__ = _operator("matmul"), _operator("matmul", reflected=True)
    __mod__, __rmod__ = _operator("remainder"), _operator("remainder", reflected=True)

    def __neg__(self):
        return bind(PRIMITIVES["negative"], self)

    def __pos__(self):
        return self

    def __abs__(self):
        return bind(PRIMITIVES["absolute"], self)

    def __lt__(self, other):
        return value_of(self) < value_of(other)

    def __le__(self, other):
        return value_of(self) <= value_of(other)

    def __gt__(self, other):
        return value_of(self) > value_of(other)

    def __ge__(self, other):
        return value_of(self) >= value_of(other)

    def __eq__(self, other):
        return value_of(self) == value_of(other)

    def __ne__(self, other):
        return value_of(self) != value_of(other)

    __hash__ = object.__hash__  # hashed by identity, compared by value (as torch tensors)

    def __bool__(self):
        return bool(value_of(self))

    # No __float__ or __int__: float(x) and math.sin(x) fail with Python's TypeError.
    # With them numpy takes a node for a number and tries the conversion first in
    # every operation with a numpy scalar, which makes every such operation slower.
    def item(self):
        """x.item(): refused, a plain number would lose the derivative."""
        raise TypeError(_loses_derivative(".item()", self))

    def __floordiv__(self, other):
        """x // y: piecewise constant, numpy's value on the plain values (derivative 0)."""
        return np.floor_divide(value_of(self), value_of(other))

    def __rfloordiv__(self, other):
        return np.floor_divide(value_of(other), value_of(self))

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        return other // self, other % self

    # -- the array surface: each method is a linear primitive of numpy_rules -------------
    @property
    def shape(self):
        return shape_of(self)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __len__(self):
        return len(value_of(self))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        return bind(PRIMITIVES["getitem"], self, index)

    def __setitem__(self, index, value):
        """x[i] = v, and x[:2] *= 3, x[i] += v (Python ends them with x[...] = new)."""
        raise TypeError(
            f"x[...] = value (also x[:2] *= 3, x[i] += v) on a {type(self).__name__}: a traced "
            f"array cannot be changed in place (the operations recorded so far used its old "
            f"values); build the new array instead: np.where(mask, value, x), "
            f"np.concatenate([x[:i], value, x[i + 1:]]) or "
            f"x + value * np.eye(n)[i] - x[i] * np.eye(n)[i]; for x[:2] *= 3, "
            f"x = x * np.where(np.arange(len(x)) < 2, 3.0, 1.0)")

    def __round__(self, ndigits=None):
        """round(x): piecewise constant, so a plain number (its derivative is zero wherever
        it exists), as np.round and np.floor give on Duals and Variables."""
        return round(value_of(self), ndigits)

    def copy(self):
        """np.copy(self)."""
        return np.copy(self)

    def clip(self, min=None, max=None):  # noqa: A002  (numpy's names)
        """np.clip(self, min, max)."""
        return np.clip(self, min, max)

    def sum(self, axis=None, keepdims=False):
        """Sum of the elements over ``axis`` (all of them by default)."""
        return bind(PRIMITIVES["sum"], self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean of the elements over ``axis`` (all of them by default)."""
        return bind(PRIMITIVES["mean"], self, axis, keepdims)

    def reshape(self, *shape, order="C"):
        """The same elements in a new shape (read in row-major order, or column-major with
        order='F')."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if order != "C":
            return np.reshape(self, shape, order=order)
        return bind(PRIMITIVES["reshape"], self, shape)

    def swapaxes(self, axis1, axis2):
        """The axes ``axis1`` and ``axis2`` interchanged."""
        return np.swapaxes(self, axis1, axis2)

    def transpose(self, *axes):
        """Axes permuted (reversed by default)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return bind(PRIMITIVES["transpose"], self, axes or None)

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        """The matrix transpose of a stack of matrices: the last two axes swapped (numpy's)."""
        if self.ndim < 2:
            raise ValueError("matrix transpose with ndim < 2 is undefined")
        return self.swapaxes(-1, -2)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def max(self, axis=None, keepdims=False):
        """Largest element over ``axis`` (all of them by default)."""
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Smallest element over ``axis`` (all of them by default)."""
        return np.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        """Product of the elements over ``axis`` (all of them by default)."""
        return np.prod(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        """Cumulative sum along ``axis`` (of the flattened array by default)."""
        return np.cumsum(self, axis=axis)

    def dot(self, other):
        """np.dot(self, other)."""
        return np.dot(self, other)

    def ravel(self, order="C"):
        """The elements as a 1-D array (in column-major order with order='F')."""
        return self.reshape(-1, order=order)

    flatten = ravel

    def squeeze(self, axis=None):
        """The same elements without the axes of length 1."""
        return np.squeeze(self, axis)

    def astype(self, dtype):
        """The same values as ``dtype``: a float type only (a cast to integers or booleans
        has no derivative; one to a complex type is written x + 0j)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind == "c":
            way_out = (f"keep its dtype, {self.dtype.name}" if self.dtype.kind == "c" else
                       "write x + 0j for complex values of x's precision, which keep its derivative")
            raise TypeError(
                f"astype({dtype.name}) of a {type(self).__name__} is not supported (the engine "
                f"casts between float types only); {way_out}")
        if dtype.kind != "f":
            raise TypeError(
                f"astype({dtype.name}) of a {type(self).__name__} has no derivative; "
                f"keep float values (use np.floor, np.round ... on plain arrays)"
            )
        if self.dtype.kind == "c":
            raise TypeError(
                f"astype({dtype.name}) of a complex {type(self).__name__} drops its imaginary "
                f"part (numpy warns); write np.real(x) if that is what you mean")
        return bind(PRIMITIVES["astype"], self, dtype)

    @property
    def dtype(self):
        return np.result_type(value_of(self))

    @property
    def real(self):
        return np.real(self)

    @property
    def imag(self):
        return np.imag(self)

    def conj(self):
        return np.conjugate(self)

    def __array__(self, dtype=None, copy=None):
        """numpy calls this to put a Dual or Variable into an array (np.array([x, y]),
        np.r_, np.c_, np.asarray): an array of objects would lose the derivative in forward
        mode, so it is refused. Writing it into a plain array (M[i] = x) calls this with that
        array's dtype (as does np.asarray(x, dtype=...)): the message for out[i] = x. Only
        reached on the way to an error: no operation of the engine calls it."""
        if dtype is not None:
            raise LostDerivativeError(put_into_plain_array(
                type(self).__name__, "M[i] = x, np.asarray(x, dtype=...) or np.array([x, y], dtype=...)"))
        raise TypeError(
            f"np.array (also np.r_, np.c_, np.asarray) cannot hold a {type(self).__name__}: "
            f"the derivative would be lost. np.asarray(x) of one traced array is not needed "
            f"(x already works as an array: leave the call out); to build an array from "
            f"several values use np.stack([...]), np.concatenate, np.hstack or np.vstack"
        )

    # -- numpy's protocols ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """np.sin(x), np.add(x, y), ...: numpy hands its ufuncs to this method."""
        implementation = NUMPY_FUNCTIONS.get(ufunc) or _no_rule(self, ufunc)
        return implementation(*_ufunc_operands(self, ufunc, method, inputs, kwargs))

    def __array_function__(self, func, types, args, kwargs):
        """np.sum(x), np.where(c, x, y), np.linalg.eigh(x), ...: see NUMPY_FUNCTIONS."""
        implementation = NUMPY_FUNCTIONS.get(func) or _no_rule(self, func)
        if kwargs and isinstance(implementation, Primitive):
            # a primitive takes numpy's arguments by position: np.linalg.inv(a=x) is inv(x)
            bound = inspect.signature(func).bind(*args, **kwargs)
            args, kwargs = bound.args, bound.kwargs
        return implementation(*args, **kwargs)


# the array methods that change an array in place, and what to write instead
_IN_PLACE = {
    "sort": "x = np.sort(x)", "partition": "x = np.sort(x)",
    "fill": "y = np.full(x.shape, value) (it does not depend on x)",
    "put": "x = np.where(mask, values, x), with mask True where put would write",
    "itemset": "x = np.where(mask, value, x), with mask True at that entry",
    "resize": "x = np.reshape(x, shape) for another shape of the same size, "
              "x[:n] or np.concatenate([x, more]) for another size",
    "setfield": "a new array built with numpy functions",
    "byteswap": "a new array built with numpy functions",
    "setflags": "a new array built with numpy functions",
}


def _method_not_traced(name):
    """x.name() for an array method a Dual or a Variable lacks (x.var(), x.sort() ...):
    an error that names the numpy function to call instead. A method of its own for each
    such name, not a __getattr__, which would slow every attribute lookup of every node."""
    def method(self, *args, **kwargs):
        message = f"{type(self).__name__!r} object has no attribute {name!r}"
        if name in _IN_PLACE:
            raise AttributeError(
                f"{message}: x.{name}() changes an array in place, which a traced array cannot "
                f"(the operations recorded so far used its old values); build a new one: "
                f"{_IN_PLACE[name]}")
        call = f"np.{name}(x, ...)" if hasattr(np, name) else "a numpy function"
        raise AttributeError(
            f"{message}: a {type(self).__name__} has only some of an array's methods; for "
            f"x.{name}() write {call} instead, which is differentiated if the engine has a rule "
            f"for it (and says so if not)")
    method.__name__ = name
    return method


def _memory_not_traced(name):
    """x.flat, x.strides, x.base ...: an ndarray's memory, which a Dual or a Variable has
    not; an error that says what to write (it was Python's bare 'no attribute')."""
    def attribute(self):
        what = "x.flat iterates over an ndarray's memory" if name == "flat" else \
            f"x.{name} describes an ndarray's memory"
        instead = ("iterate over np.ravel(x), or index it, x.ravel()[i]" if name == "flat" else
                   "a traced array's numbers are in x.value (Variable) or x.val (Dual); "
                   "read it outside the function being differentiated")
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}: {what}, which a "
            f"{type(self).__name__} does not have; {instead}")
    return property(attribute)


for _name in dir(np.ndarray):
    if not _name.startswith("_") and not hasattr(ArraySurface, _name):
        setattr(ArraySurface, _name, _method_not_traced(_name)
                if callable(getattr(np.ndarray, _name)) else _memory_not_traced(_name))


def _loses_derivative(what, x):
    return (
        f"{what} of a {type(x).__name__} would lose its derivative (so would the math "
        f"module: use np.sin, np.exp ... instead); where no derivative is wanted, take "
        f"the plain number as x.value (a Variable) or x.val (a Dual)"
    )


def _ufunc_operands(x, ufunc, method, inputs, kwargs):
    """The inputs of a plain ufunc call as operands; TypeError for anything else."""
    if method != "__call__" or kwargs:
        raise _unsupported_call(x, ufunc, method, kwargs)
    operands = []
    for a in inputs:
        operand = a if isinstance(a, Traced) else as_operand(a)
        if operand is None:
            names = ", ".join(type(a).__name__ for a in inputs)
            raise TypeError(f"unsupported operand type(s) for np.{ufunc.__name__}: {names}")
        operands.append(operand)
    return operands


def _unsupported_call(x, ufunc, method, kwargs):
    """The TypeError for a ufunc called other than as ufunc(*inputs) on a traced input."""
    name = f"np.{ufunc.__name__}"
    if method != "__call__":  # np.add.at, np.multiply.outer, np.add.accumulate ...
        return TypeError(
            f"{name}.{method} is not supported on {type(x).__name__}: only {name}(...) itself "
            f"is differentiated. Write the same with whole-array operations: np.add.at(a, i, x) "
            f"is a + M @ x with the 0/1 matrix M[i[k], k] = 1; np.multiply.outer(u, v) is "
            f"u[:, None] * v; np.add.reduce(x, axis) is np.sum(x, axis)")
    in_place = (" (a += x, a -= x ... with a a numpy array writes into a: write a = a + x)"
                if "out" in kwargs else "")
    return TypeError(
        f"{name} with arguments {sorted(kwargs)} is not supported on {type(x).__name__}; "
        f"call {name}(x) without out=, where= or dtype={in_place}")


def _no_rule(x, function):
    """Raise the TypeError for a numpy function or ufunc that is not in
    rules.NUMPY_FUNCTIONS (the engine has no rule for it), naming it."""
    module = getattr(function, "__module__", None) or "numpy"
    name = module.replace("numpy.linalg", "np.linalg").replace("numpy", "np")
    raise TypeError(
        f"{name}.{function.__name__} has no derivative rule for {type(x).__name__}, so it "
        f"cannot be differentiated; write it with the supported numpy functions (listed "
        f"in ad_engine.rules.NUMPY_FUNCTIONS), or register it with ad.defprimitive"
    )
