"""Forward mode: dual numbers x + x'd with d**2 = 0.

``f(x + x'd) = f(x) + f'(x) x' d``: evaluating f on a Dual carries the
derivative along with the value. Each primitive's jvps (rules.py) give the
tangent of its output; ``derivative`` and ``jvp`` run a user function on Duals.
"""

from __future__ import annotations

import numbers
import operator

import numpy as np

from ad_engine.dispatch import (
    ArraySurface,
    as_operand,
    bind,
    format_part,
    numeric_output,
    one_element_shape,
)
from ad_engine.rules import (
    BY_HAND_DUAL,
    Traced,
    by_hand_tag,
    call_tagged,
    ended,
    is_complex,
    live_tag,
    plain,
    returned_value,
    shape_of,
)


class Dual(ArraySurface):
    """A dual number ``val + dval·d`` with d**2 = 0: a value and its tangent.

    ``f(x + x'd) = f(x) + f'(x) x' d``, so evaluating a function on
    ``Dual(x, 1.0)`` returns f(x) and f'(x) together (forward mode).

    The components may be floats, numpy arrays (a whole grid of points at
    once), Duals (nested duals: second derivatives) or reverse-mode
    ``Variable``s (a forward sweep whose results can be back-propagated).
    numpy's own functions work on Duals (``np.sin(x)``, ``np.exp(x)``...).

    ``tag`` tells apart the perturbations of nested ``derivative`` calls; duals
    built by hand outside every call all have one tag and mix freely (built inside
    a function that ``derivative``/``jvp`` is differentiating, they get a tag just
    newer than that call's, see rules.by_hand_tag, so ``derivative(lambda w: (w * Dual(1.0, 1.0) ** 2).dval, 3.0)``
    is 2, not 0).
    """

    __slots__ = ("val", "_dval", "tag")
    __array_priority__ = 20  # ahead of ndarray and of Variable

    def __init__(self, val, dval=0.0, tag=None):
        parts = []
        for name, part in (("val", val), ("dval", dval)):
            checked = as_operand(part)  # lists and tuples become arrays
            if checked is None:
                raise TypeError(
                    f"Dual {name} must be a number, a numeric numpy array, a Dual or a "
                    f"Variable, not {type(part).__name__!r}"
                )
            parts.append(plain(checked))
        self.val, self._dval = parts
        self.tag = by_hand_tag(BY_HAND_DUAL, *parts) if tag is None else tag

    # the value inside, under the name every Traced has (read by value_of and shape_of on
    # every operation: a getter in C, no Python frame)
    primal = property(operator.attrgetter("val"))

    @property
    def dval(self):
        """The tangent, the coefficient of d. Refused on a Dual kept from inside a derivative
        call that has returned whose parts are still traced: its d-part is that call's
        tangent, which the derivatives still running would take for their own."""
        if (isinstance(self.val, Traced) or isinstance(self._dval, Traced)) and ended(self.tag):
            raise TypeError(
                f"the d-part of a Dual kept from inside a derivative call that has returned "
                f"(saved in a list while ad.derivative or ad.jvp ran, say) was read: it is "
                f"that call's tangent, and that derivative is over. What the Dual is now is "
                f"its value, .val = {self.val!r}: read .val.dval for the derivative along "
                f"the Dual that value belongs to, or return a value computed from your "
                f"function's arguments instead of the kept one")
        return self._dval

    def process(self, primitive, args):
        """Apply ``primitive`` to ``args``, perturbed along this dual's tag: the value
        from the values, the tangent as the sum of the jvps of the perturbed arguments.
        Every other argument (numbers, arrays, Variables, older duals) is a constant."""
        tag = self.tag
        values = [a.val if isinstance(a, Dual) and a.tag == tag else a for a in args]
        ans = bind(primitive, *values)  # older Duals and Variables among the values trace it
        tangent = None
        for jvp, a in zip(primitive.jvps, args):
            if isinstance(a, Dual) and a.tag == tag:
                term = jvp(a.dval, ans, *values)
                tangent = term if tangent is None else add_terms(tangent, term, ans, values, args)
        return make_dual(ans, plain(tangent), tag)

    def backward(self, seed=None):
        """Refused: a backward sweep starts from a Variable (reverse mode); this is a Dual."""
        if ended(self.tag):
            raise TypeError(
                f"backward() was called on a Dual kept from inside a derivative call that has "
                f"returned (saved in a list while ad.derivative or ad.jvp ran, say): that "
                f"derivative is over, and what the Dual is now is its value, .val = "
                f"{self.val!r}: call .val.backward() if that is a Variable")
        raise TypeError(
            f"backward() was called on a Dual ({self!r}): a result that involves a Dual is a "
            f"Dual, and reverse mode's sweep starts from a Variable. A Dual and a Variable "
            f"both made by hand nest as forward over reverse (the Dual's parts are Variables: "
            f"call .val.backward() or .dval.backward()); for a Variable's gradient inside a "
            f"Dual's function use ad.grad (or ad.jvp outside it), which order the two "
            f"derivatives themselves")

    def __repr__(self):
        return format(self)

    def __format__(self, spec):
        """f"{y:.3f}" formats both parts: ``0.841 + 0.540·d``."""
        nested = isinstance(self.val, Dual) or isinstance(self._dval, Dual)
        return self.format(level=1 if nested else 0, spec=spec)

    def format(self, level, spec=""):
        """``val + dval·d``; a nested dual names its infinitesimals d₁ (outermost), d₂, ...
        as the lectures write them, ``(a + d₂) + (1 + 0·d₂)·d₁``."""
        symbol = "d" + str(level).translate(SUBSCRIPT_DIGITS) if level else "d"
        tangent, sign = self._dval, "+"
        if isinstance(tangent, numbers.Real) and tangent < 0:
            sign, tangent = "-", -tangent

        def show(part):
            if isinstance(part, Dual):
                return f"({part.format(level + 1, spec)})"
            return format_part(part, spec)

        return f"{show(self.val)} {sign} {show(tangent)}·{symbol}"


SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def add_terms(total, term, ans, values, args):
    """``total + term``, two jvp terms of one operation. A product such as ``b·a'`` is a
    new array, which the sum may overwrite: one array fewer to allocate and to fault in,
    the larger part of forward mode's cost on big arrays. An array that shares memory
    with the operation's values, tangents or answer (a jvp that passes a tangent
    through, a view) is never written into."""
    for into, other in ((total, term), (term, total)):
        if _can_hold_sum(into, other) and not _shares_memory(into, ans, values, args):
            return np.add(into, other, out=into)
    return total + term


def _can_hold_sum(into, other):
    """into is an array with its own data, of the sum's shape and dtype (not 0-d: a sum
    of 0-d arrays is a number)."""
    return (type(into) is np.ndarray and type(other) is np.ndarray and into.ndim > 0
            and into.flags.owndata and into.flags.writeable
            and np.result_type(into, other) == into.dtype
            and np.broadcast_shapes(into.shape, other.shape) == into.shape)


def _shares_memory(array, ans, values, args):
    inputs = [ans, *values, *(a.dval for a in args if isinstance(a, Dual))]
    return any(type(x) is np.ndarray and np.may_share_memory(array, x) for x in inputs)


def make_dual(val, dval, tag):
    """Return a Dual made by an operation, whose parts are already checked (no conversion)."""
    dual = object.__new__(Dual)
    dual.val, dual._dval, dual.tag = val, dval, tag
    return dual


# -- derivatives of user functions ------------------------------------------------------

def call_perturbed(f, *duals):
    """``f(*duals)`` for duals made with a fresh tag (``live_tag()``): while f runs,
    duals built by hand inside f get a newer tag than those. What f returns must be a
    number or an array (see dispatch.numeric_output)."""
    return numeric_output(call_tagged(f, max(d.tag for d in duals), *duals), f)


def tangent_part(result, tag, like):
    """The coefficient of the perturbation ``tag`` in ``result`` (zero, with the shape of
    ``like``, if f did not use it)."""
    result = returned_value(result, tag)
    if isinstance(result, Dual) and result.tag == tag:
        return result.dval
    if isinstance(result, Dual) and result.tag > tag:  # a dual built by hand inside f
        return make_dual(tangent_part(result.val, tag, like), tangent_part(result.dval, tag, like),
                     result.tag)
    shape = shape_of(like)
    return np.zeros(shape) if shape else 0.0


def primal_part(result, tag):
    """``result`` without the perturbation ``tag`` (the value part of jvp)."""
    result = returned_value(result, tag)
    if isinstance(result, Dual) and result.tag == tag:
        return result.val
    if isinstance(result, Dual) and result.tag > tag:
        return make_dual(primal_part(result.val, tag), primal_part(result.dval, tag), result.tag)
    return result


def derivative(f, x):
    """Return f'(x) by forward mode: the d-part of f(Dual(x, 1)).

    ``x`` may be a float or an array of points (then ``f`` must act elementwise
    and f' is returned at every point in one sweep). Nested calls are safe:
    ``derivative(lambda x: derivative(f, x), x0)`` is f''(x0).
    """
    if not isinstance(x, Traced):  # traced when derivative is itself differentiated
        x = numeric_point(x)  # an integer point is a float one, as for jvp and grad
    with live_tag() as tag:
        # one scalar seed stands for a tangent of ones at every point: no array of
        # ones to multiply by (numpy broadcasting does the rest)
        result = call_perturbed(f, Dual(x, 1.0, tag))
        return output_tangent(result, tag, x)


def output_tangent(result, tag, like):
    """The tangent of ``result`` along the perturbation ``tag`` (zeros of ``like``'s shape
    if f did not use it), with the shape of the value (f(x) = x + c with c an array:
    the tangent is still the scalar seed)."""
    tangent = tangent_part(result, tag, like)
    shape = shape_of(result)
    if shape and shape_of(tangent) != shape:
        tangent = tangent * np.ones(shape)
    return in_precision_of(tangent, primal_part(result, tag))


def in_precision_of(derivative, value):
    """``derivative`` in the dtype of ``value`` (a real value's complex derivative in its
    complex counterpart), as grad returns a gradient in its input's dtype: at a float32
    point a rule that computes its partials in float64 (max, eigh, cholesky, the log of a
    float base in 2.0**x), a float64 seed or the ones a scalar tangent is spread over made
    the tangent float64, and a float64 constant joined to a float32 tangent left it float32."""
    if isinstance(derivative, Traced) or not isinstance(value, (np.ndarray, np.generic)) \
            or value.dtype.kind not in "fc":
        return derivative
    dtype = value.dtype
    if is_complex(derivative) and dtype.kind == "f":
        dtype = np.result_type(dtype, np.complex64)
    if np.result_type(derivative) == dtype:
        return derivative
    derivative = np.asarray(derivative).astype(dtype)
    return derivative if derivative.ndim else plain(derivative[()])


def jvp(f, x, v):
    """Return (f(x), J v): the value and the directional derivative of f along v.

    Either ``x`` and ``v`` are numpy arrays of one shape and ``f`` takes one
    array (it may index ``x[0]``, ``x[1]``...), or they are tuples and ``f`` takes
    ``len(x)`` arguments. One forward sweep, whatever the number of inputs.

    A complex v at a real x is a step x + t v into the complex plane: J v of f extended to
    complex points, which is J Re v + i J Im v only for a holomorphic f; through abs, real,
    imag, angle or astype to a real dtype it is not (``jvp(np.abs, -2.0, 1j)`` is 0): take
    the two real directions apart, ``jvp(f, x, Re v)`` and ``jvp(f, x, Im v)``.
    """
    if isinstance(x, tuple):
        if not isinstance(v, tuple) or len(v) != len(x):
            raise ValueError(f"x has {len(x)} arguments, so v must be a tuple of {len(x)} tangents")
        for i, (xi, vi) in enumerate(zip(x, v)):
            _check_tangent(xi, vi, f"x[{i}]", f"v[{i}]")
        # integer points are float ones, as for a single x (an int8 x**3 had its derivative
        # 3 x**2 computed in int8: 48 at x = 100)
        points = tuple(xi if isinstance(xi, Traced) else numeric_point(xi) for xi in x)
        tangents = tuple(vi if isinstance(vi, Traced) else numeric_point(vi) for vi in v)
    else:
        if not isinstance(x, Traced):  # traced when jvp is itself differentiated
            x = numeric_point(x)
        if not isinstance(v, Traced):
            v = numeric_point(v)
        if shape_of(x) != shape_of(v):
            raise ValueError(
                f"x has shape {shape_of(x)} but v has shape {shape_of(v)}; "
                f"they must match"
            )
        points, tangents = (x,), (v,)
    with live_tag() as tag:
        result = call_perturbed(f, *[Dual(xi, vi, tag) for xi, vi in zip(points, tangents)])
        return primal_part(result, tag), output_tangent(result, tag, result)


def _check_tangent(x, v, x_name, v_name):
    """A tangent has the shape of its point (a number stands for that number everywhere)."""
    shape, tangent_shape = shape_of(x), shape_of(v)
    if tangent_shape != shape and tangent_shape != ():
        raise ValueError(
            f"{x_name} has shape {shape} but its tangent {v_name} has shape {tangent_shape}; "
            f"a tangent has the shape of its point: pass an array of shape {shape}")


def numeric_point(x):
    """x as numeric_array makes it, but a Python number stays one: numpy treats it as a weak
    scalar (0.1 * a float32 array is float32), a 0-d float64 array it is not."""
    if type(x) is float or type(x) is complex:
        return x
    return float(x) if type(x) is int else numeric_array(x)


def numeric_array(x):
    """x as a float array (a complex array stays complex: never truncated)."""
    x = np.asarray(x)
    return x if x.dtype.kind in "fc" else x.astype(float)


def forward_gradient(f, x):
    """Return the gradient of a scalar function of a 1-D array by forward mode.

    Pass i evaluates f on duals with tangent e_i (the i-th unit vector) and
    keeps the d-part, df/dx_i: n passes of ``f`` for n inputs (compare one
    backward sweep in reverse mode). A complex f gives Re f's gradient, as grad.
    """
    x = x if isinstance(x, Traced) else numeric_array(x)  # traced: when differentiated
    if np.ndim(x) != 1:
        raise ValueError(f"x must be a 1-D array, got shape {np.shape(x)}")
    if is_complex(x):
        return complex_forward_gradient(f, x)
    parts = [np.real(scalar_tangent(f, x, unit)) for unit in unit_vectors(x)]
    # in x's dtype, as grad returns it (a float64 output of a float32 x made it float64)
    return in_precision_of(np.stack(parts), x) if parts else np.zeros(0, x.dtype)


def complex_forward_gradient(f, x):
    """forward_gradient at a complex x, in reverse mode's convention (reverse.py):
    Re df(e_i) - i Re df(i e_i), two passes per input."""
    parts = [np.real(scalar_tangent(f, x, unit + 0j)) - 1j * np.real(scalar_tangent(f, x, 1j * unit))
             for unit in unit_vectors(x)]
    return in_precision_of(np.stack(parts), x) if parts else np.zeros(0, dtype=x.dtype)


def unit_vectors(x):
    """The seeds e_1 ... e_n of forward_gradient, in x's real precision (np.eye's float64 made
    the gradient of a float32 x float64, where grad returns float32)."""
    return np.eye(np.size(x), dtype=np.finfo(x.dtype).dtype)


def scalar_tangent(f, x, v):
    """The directional derivative of f along v, for forward_gradient: f returns a scalar or
    one element, which is taken as its element (as grad takes it: a gradient of x's shape,
    not (n, 1)); a vector f is refused, as by grad."""
    value, tangent = jvp(f, x, v)
    shape = one_element_shape(
        value, f, "forward_gradient needs a scalar output (or one element), as grad does",
        ". For the Jacobian of a vector f, take its directional derivative along each unit "
        "vector: ad.jvp(f, x, e_i)[1] is column i")
    return np.reshape(tangent, ()) if shape else tangent
