"""Registering a primitive: its value, its derivative for both modes, its trace formula.

A primitive is one operation the engine knows how to differentiate (np.sin,
multiply, matmul, a sum over an axis, a fused network layer...). For each
argument it has a pair of linear maps, built once here:

    jvp(tangent, ans, *args)  -> the output's tangent caused by this argument's tangent
    vjp(adjoint, ans, *args)  -> this argument's share of the adjoint (its shape)

``ans`` is the primitive's output and ``args`` its inputs. Forward mode (Dual)
adds up the jvps of the perturbed arguments; reverse mode (Variable) sends the
vjps back to the parents. For an elementwise primitive both are made from one
partial derivative per argument, d ans / d arg_i = partial_i(ans, *args):

    jvp: partial_i * tangent        vjp: adjoint * partial_i, summed over broadcast axes

Partials are written with operators and numpy functions, so they work on
floats, arrays, Duals and Variables alike: that is what lets the modes nest.

    defprimitive("sin", np.sin, partials=[lambda ans, x: np.cos(x)], numpy=np.sin)

registers np.sin for both modes. Every registration fills the tables here, and
nothing else does: ``PRIMITIVES`` maps names to primitives, and
``NUMPY_FUNCTIONS`` maps each numpy function or ufunc the engine handles to what
it does on Duals and Variables: a primitive (``defprimitive(..., numpy=np.sin)``),
a function written with primitives (``@implements(np.roll)``), or an evaluation
on the plain values for a result without a derivative (``implements_on_values``).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Mapping

import numpy as np

PRIMITIVES = {}  # name -> Primitive
NUMPY_FUNCTIONS = {}  # numpy function or ufunc -> its implementation for Duals and Variables


class Traced:
    """Base class of the values the engine follows: Dual (forward mode) and Variable
    (reverse mode). ``primal`` is the value inside; ``tag`` orders nested
    derivatives (the newest perturbation has the largest tag)."""

    __slots__ = ()
    tag = -1


# -- tags: one order for both modes, so that any mode nests in any other ---------------
# Each derivative call (derivative, jvp, grad, hvp ...) gets a tag newer (larger) than
# every tag before it, and ``bind`` hands an operation to its argument of the newest
# tag. Tags are integers TAGS_PER_CALL apart, so that a Dual or Variable built by hand
# in the function being differentiated sits just above the innermost call running:
# newer than that call's perturbation (it was made inside it), older than any call
# that starts later.

NO_CALL = 0  # the scope outside every derivative call
TAGS_PER_CALL = 3  # derivative calls get the tags 3, 6, 9, ...
BY_HAND_VARIABLE = 1  # a Variable built by hand: the innermost call's tag + 1
BY_HAND_DUAL = 2  # a Dual built by hand: + 2, above a hand-built Variable (a Dual of
#                   Variables records its forward sweep, as hvp does)

_calls = itertools.count(1)
_scope = [NO_CALL]  # the tags of the derivative calls whose function runs now, innermost last
LIVE = []  # the tags of the derivative calls that have not returned (see live_tag)
_LIVE_LOCK = threading.Lock()
_live_thread = [None]  # the thread whose derivative calls LIVE holds (see live_tag)


def new_tag():
    """A tag newer than every tag so far."""
    return next(_calls) * TAGS_PER_CALL


class live_tag:
    """``with live_tag() as tag:`` the tag of one derivative call (derivative, jvp, grad,
    hvp ...): the perturbation of a derivative (forward mode) or the graph of a gradient
    (reverse mode), newer than every tag so far, live until the block ends.

    A Dual or Variable of a call that has returned (kept in a list by the function it
    differentiated, say) is, to every later operation, the value inside it: that
    derivative is over, and ``bind`` takes its layer off (see ``ended``).

    LIVE and the scope are one per process, so the engine is not thread-safe: a call started
    in a thread while another thread's call runs is refused here, at its start (never per
    operation); a call from another thread mixed with them gave wrong derivatives."""

    __slots__ = ("tag",)

    def __enter__(self):
        with _LIVE_LOCK:
            thread = threading.get_ident()
            if LIVE and _live_thread[0] != thread:
                raise RuntimeError(
                    "a derivative call (grad, jvp, derivative, hvp, hessian, checkpoint's "
                    "backward ...) was started in one thread while another thread's derivative "
                    "call is running: the engine is not thread-safe (it keeps one list of the "
                    "running derivative calls per process, and calls of two threads mixed in it "
                    "give wrong derivatives). Run derivative calls in one thread at a time, or "
                    "in processes (concurrent.futures.ProcessPoolExecutor, multiprocessing) for "
                    "a scan over parameters")
            _live_thread[0] = thread
            self.tag = new_tag()
            LIVE.append(self.tag)
        return self.tag

    def __exit__(self, *exception):
        LIVE.pop()  # with blocks nest: the newest tag is the last


def ended(tag):
    """Whether ``tag`` is the tag of a derivative call that has returned (Duals and
    Variables built by hand have tags between the calls' and never end)."""
    return tag % TAGS_PER_CALL == 0 and tag not in LIVE


def by_hand_tag(offset, *parts):
    """The tag of a Dual (offset BY_HAND_DUAL) or Variable (BY_HAND_VARIABLE) built by
    hand now around ``parts``: just above the innermost derivative call running (NO_CALL
    outside). One made around a traced part of that tag or a newer one (``Variable(x)``
    for a hand-built Variable ``x``, a Dual of hand-built Duals) is the inner derivative of
    the two, so it gets a tag newer than every tag so far: with the same tag, its graph or
    perturbation would be mixed up with the one it holds, and the derivative be wrong.
    All those built around the same newest tag in one scope share that newer tag."""
    tag = _scope[-1] + offset
    for part in parts:
        if isinstance(part, Traced) and part.tag >= tag:
            return _nested_by_hand_tag(offset, parts)
    return tag


def _nested_by_hand_tag(offset, parts):
    """by_hand_tag around a traced part of the innermost call's hand-built tag or a newer
    one: every node built by hand now around the same newest tag shares one newer tag, as
    those built around plain values do (with a tag each, Variable(x) and Variable(y) for
    hand-built x and y were two graphs, and a function of both had a gradient for one of
    them only)."""
    scope = _scope[-1]
    newest = max(part.tag for part in parts if isinstance(part, Traced))
    key = (offset, newest, scope)
    nested = _nested_by_hand.get(key)
    if nested is None:
        for old in [k for k in _nested_by_hand if k[2] not in _scope]:  # calls that returned
            del _nested_by_hand[old]
        nested = _nested_by_hand[key] = new_tag() + offset
    return nested


_nested_by_hand = {}  # (offset, newest tag inside, scope) -> the tag of nodes built by hand


def in_running_call(tag):
    """Whether ``tag`` is the tag of a derivative call that is running now."""
    return tag in _scope


def returned_value(x, tag):
    """What the result ``x`` of f is to the derivative call ``tag`` once f has returned: the
    layers newer than the call whose derivative is over are taken off. A Variable recorded
    inside f (built by hand, or by a grad inside f) is, as a number, its value; a Dual of a
    derivative call inside f that has returned (kept in a list, say) carried a perturbation
    that ended with that call. A Dual built by hand inside f stays: it is a perturbation of
    its own, which derivative returns (see by_hand_tag)."""
    while isinstance(x, Traced) and x.tag > tag and x.tag % TAGS_PER_CALL != BY_HAND_DUAL:
        x = x.primal
    return x


def call_tagged(f, tag, *args, **kwargs):
    """``f(*args, **kwargs)`` while the derivative call of ``tag`` runs (see ``by_hand_tag``).

    Every entry point (derivative, jvp, grad, hvp, ...) calls the user's function here,
    so a conversion of a traced value to a plain number inside it (``math.sin(x)``,
    ``float(x)``) is answered here with the library's message (see ``conversion_error``):
    nodes have no ``__float__``, which would make numpy try a conversion in every
    operation with a numpy scalar (the MLP step of benchmarks/ got much slower)."""
    _scope.append(tag)
    try:
        return f(*args, **kwargs)
    except (TypeError, ValueError) as error:
        better = conversion_error(error)
        if better is None:
            raise
        raise better from error
    finally:
        _scope.pop()


def bind(primitive, *args):
    """Apply ``primitive`` to ``args``: the Dual or Variable with the newest tag processes
    the call (``process``); with plain arguments only, the primitive is just evaluated."""
    top = None
    for a in args:
        if isinstance(a, Traced) and (top is None or a.tag > top.tag):
            top = a
    if top is None:
        ans = primitive.evaluate(*args)
        if isinstance(ans, np.generic) and type(ans) not in NARROW_SCALARS:  # as plain(ans)
            return ans.item()
        return ans
    if top.tag % TAGS_PER_CALL == 0 and top.tag not in LIVE:  # ended(top.tag), inlined
        return bind(primitive, *without_layer(top.tag, args))
    return top.process(primitive, args)


def without_layer(tag, args):
    """``args`` with the Duals and Variables of ``tag``, a call that has returned, replaced
    by the values inside them."""
    return [a.primal if isinstance(a, Traced) and a.tag == tag else a for a in args]


def _refusing(primitive, i):
    """The jvp and vjp of an argument registered with None: raise not_differentiable."""
    def refuse(*_):
        raise not_differentiable(primitive, i)

    refuse.registered_none = True
    return refuse


def registered_none(rule):
    """Whether a primitive's jvp or vjp stands for None in its registration (not differentiable)."""
    return getattr(rule, "registered_none", False)


def not_differentiable(primitive, i):
    """The error for a Dual or Variable reaching argument ``i`` of ``primitive``, registered
    with None there (partials, jvps or vjps: not differentiable)."""
    return TypeError(
        f"argument {i} of the primitive {primitive.name!r} has no derivative (None in its "
        f"registration with ad.defprimitive), but the function is differentiated with respect "
        f"to it: pass a plain value there (the value of the Dual or Variable, if it is a "
        f"constant), or give ad.defprimitive a partial (or a jvp and a vjp) for argument {i}")


class LostDerivativeError(TypeError):
    """A traced value was converted to a plain number inside a differentiated function."""


_CONVERSIONS = (("float() argument", "float(x)"), ("int() argument", "int(x)"),
                ("complex() ", "complex(x)"),
                ("must be real number", "a function of the math module such as math.sin(x)"))


def put_into_plain_array(kind, how):
    """The message for a Dual or Variable written into a plain numpy array (``how``: out[i] = x,
    M[i] = x ...), where it would become plain numbers."""
    return (f"a {kind} was put into a plain numpy array ({how}): the array holds plain "
            f"numbers, and the derivative would be lost; collect the values (or rows) in a list "
            f"and build the array from it with np.stack([...]) (or np.concatenate) instead, "
            f"e.g. M = np.stack([x, M[1], M[2]]) for M[0] = x, or write M = np.where(mask, x, M) "
            f"with mask True where x goes.")


def conversion_error(error):
    """The library's TypeError for Python's message about converting a Dual or a Variable
    to a number (``must be real number, not Variable``, ``float() argument must be ...``,
    numpy's ``setting an array element with a sequence`` for out[i] = x), or None for any
    other error."""
    text = str(error)
    if isinstance(error, ValueError):  # numpy's, for out[i] = x: float(x) failed (its cause)
        cause = str(error.__cause__)
        if "setting an array element" not in text or not ("Variable" in cause or "Dual" in cause):
            return None
        kind = "Variable" if "Variable" in cause else "Dual"
        return LostDerivativeError(put_into_plain_array(kind, "out[i] = x") + f" (numpy said: {text})")
    if isinstance(error, LostDerivativeError) or not ("Variable" in text or "Dual" in text):
        return None
    for phrase, call in _CONVERSIONS:
        if phrase in text:
            kind = "Variable" if "Variable" in text else "Dual"
            return LostDerivativeError(
                f"{call} was called on a {kind}, the traced value of the function being "
                f"differentiated, and a plain number would lose its derivative. Write numpy "
                f"instead: np.sin, np.exp, np.sqrt ... for the math module's functions, and "
                f"keep x as it is instead of float(x) or int(x); where no derivative is "
                f"wanted, take the plain number as x.value (a Variable) or x.val (a Dual). "
                f"(Python said: {text})")
    return None


class Primitive:
    """One differentiable operation: ``evaluate(*args)`` (a numpy scalar it returns becomes a
    Python number in ``bind``, see ``plain``), and per argument i its
    ``jvps[i]`` and ``vjps[i]`` (registered as None for an argument that is not
    differentiable, such as an index or an axis: stored as a rule that refuses, naming
    the primitive and the argument). ``partials`` is the tuple of partial
    derivatives of an elementwise primitive (None otherwise). ``numpy`` is the
    numpy function or ufunc it stands for (None if none). ``formula`` and
    ``partial_formulas`` say how a trace prints it ({0}, {1}: the arguments;
    {out}: the output)."""

    __slots__ = ("name", "evaluate", "jvps", "vjps", "partials", "numpy", "formula",
                 "partial_formulas")

    def __init__(self, name, evaluate, jvps, vjps, partials=None, numpy=None, formula=None,
                 partial_formulas=None):
        # None (not differentiable) becomes a rule that refuses, naming the primitive and the
        # argument: checked once here, not in every operation or in the sweep
        self.name, self.evaluate = name, evaluate
        self.jvps = tuple(_refusing(self, i) if f is None else f for i, f in enumerate(jvps))
        self.vjps = tuple(_refusing(self, i) if f is None else f for i, f in enumerate(vjps))
        self.partials, self.numpy = partials, numpy
        self.formula, self.partial_formulas = formula, partial_formulas

    @property
    def ufunc(self):
        """The numpy ufunc this primitive stands for (None if it stands for no ufunc)."""
        return self.numpy if isinstance(self.numpy, np.ufunc) else None

    # primitive(*args) applies it to plain values, Duals or Variables: bind(primitive, *args)
    __call__ = bind

    def __repr__(self):
        return f"<primitive {self.name}>"


def defprimitive(name, evaluate, *, partials=None, jvps=None, vjps=None, numpy=None, ufunc=None,
                 formula=None, partial_formulas=None):
    """Register the primitive ``name`` for forward and reverse mode; return it.

    Either ``partials`` (elementwise primitives): one partial derivative per
    argument, a function ``(ans, *args) -> d ans / d arg``, or the number 1 or
    -1, or None (not differentiable); or ``jvps`` and ``vjps``: one function
    per argument as described in the module docstring (None where an argument
    is not differentiable). ``numpy``: the numpy function or ufunc this
    primitive stands for, taking the same arguments (then ``np.sin(x)`` or
    ``np.linalg.inv(x)`` works on Duals and Variables); ``ufunc`` is another
    name for it. Registering a name again replaces the old primitive.
    """
    if ufunc is not None:
        if numpy is not None and numpy is not ufunc:
            raise ValueError(f"{name}: give numpy= or ufunc=, not both")
        numpy = ufunc
    if partials is not None:
        if jvps is not None or vjps is not None:
            raise ValueError(f"{name}: give partials, or jvps and vjps, not both")
        partials = tuple(partials)
        for p in partials:
            if not (p is None or callable(p) or p in (1, -1)):
                raise ValueError(f"{name}: a partial is a function, 1, -1 or None, not {p!r}")
        jvps = [_jvp_from_partial(p) for p in partials]
        vjps = [_vjp_from_partial(p, i, len(partials)) for i, p in enumerate(partials)]
    elif jvps is None or vjps is None or len(jvps) != len(vjps):
        raise ValueError(f"{name}: give partials, or one jvp and one vjp per argument")
    primitive = Primitive(name, evaluate, jvps, vjps, partials, numpy, formula, partial_formulas)
    register(primitive)
    return primitive


def register(primitive):
    """Put ``primitive`` into the tables: ``PRIMITIVES``, and ``NUMPY_FUNCTIONS`` if it
    stands for a numpy function."""
    PRIMITIVES[primitive.name] = primitive
    if primitive.numpy is not None:
        NUMPY_FUNCTIONS[primitive.numpy] = primitive
    return primitive


def implements(*functions):
    """Decorator: the decorated function, written with primitives, is what each numpy
    function in ``functions`` does on Duals and Variables (it takes numpy's arguments):

        @implements(np.roll)
        def roll(a, shift, axis=None): ...
    """
    def register_function(implementation):
        for function in functions:
            NUMPY_FUNCTIONS[function] = implementation
        return implementation

    return register_function


def implements_on_values(*functions):
    """Register numpy functions whose result carries no derivative (a sign, a comparison,
    a shape, an index): on Duals and Variables they are evaluated on the plain values."""
    for function in functions:
        NUMPY_FUNCTIONS[function] = _on_values(function)


def _on_values(function):
    def on_values(*args, **kwargs):
        return function(*[value_of(a) for a in args],
                        **{key: value_of(v) for key, v in kwargs.items()})

    on_values.__name__ = f"{function.__name__}_on_values"
    return on_values


class _Ufuncs(Mapping):
    """The ufuncs in ``NUMPY_FUNCTIONS`` that are primitives: ufunc -> Primitive (a
    read-only view of that table)."""

    def _items(self):
        return ((f, p) for f, p in NUMPY_FUNCTIONS.items()
                if isinstance(f, np.ufunc) and isinstance(p, Primitive))

    def __getitem__(self, ufunc):
        primitive = NUMPY_FUNCTIONS[ufunc] if isinstance(ufunc, np.ufunc) else None
        if not isinstance(primitive, Primitive):
            raise KeyError(ufunc)
        return primitive

    def __iter__(self):
        return (f for f, _ in self._items())

    def __len__(self):
        return sum(1 for _ in self._items())


UFUNCS = _Ufuncs()


def deflinear(name, evaluate, transpose, **kwargs):
    """Register a primitive that is linear in its first argument, ``evaluate(x, *params)``
    (sum, reshape, indexing...): its jvp is ``evaluate`` applied to the tangent, and its
    vjp is ``transpose(adjoint, ans, x, *params)``, the transposed map, called by the
    backward sweep as it is. The other arguments are constants."""
    def jvp(tangent, ans, x, *params):
        return primitive(full_tangent(tangent, x), *params)  # the tangent may be traced too

    primitive = defprimitive(name, evaluate, jvps=[jvp], vjps=[transpose], **kwargs)
    return primitive


# -- the derivative of an elementwise primitive from its partials ---------------------
# The sentinels 1 and -1 are resolved here, once, not tested on every call.

def _jvp_from_partial(partial):
    if partial is None:
        return None
    if _is_number(partial, 1):
        return lambda tangent, ans, *args: tangent
    if _is_number(partial, -1):
        return lambda tangent, ans, *args: -tangent
    return lambda tangent, ans, *args: partial(ans, *args) * tangent


def _vjp_from_partial(partial, i, arity):
    if partial is None:
        return None
    if _is_number(partial, 1):
        return lambda adjoint, ans, *args: fit(adjoint, args[i])
    if _is_number(partial, -1):
        return lambda adjoint, ans, *args: fit(-adjoint, args[i])
    if arity == 1:  # sin, exp, tanh ...: no tuple of arguments to pack and unpack per call
        return lambda adjoint, ans, x: fit(adjoint * partial(ans, x), x)
    return lambda adjoint, ans, *args: fit(adjoint * partial(ans, *args), args[i])


def _is_number(partial, number):
    return not callable(partial) and partial == number


# -- shapes --------------------------------------------------------------------------

def value_of(x):
    """Strip every layer of Dual and Variable: the plain float or array inside."""
    while isinstance(x, Traced):
        x = x.primal
    return x


def shape_of(x):
    """The shape of the value inside ``x``: np.shape(value_of(x)), without np.shape's
    dispatch (several Python calls) for the engine's usual values, arrays and floats."""
    if isinstance(x, Traced):
        x = value_of(x)
    if type(x) is np.ndarray:
        return x.shape
    if type(x) is float:
        return ()
    return np.shape(x)


# numpy scalars of less precision than a Python float: kept as they are (a float32 result
# as a Python float would make every later operation float64, and change numpy's value)
NARROW_SCALARS = (np.float32, np.float16, np.complex64)


def dtype_of(x):
    """The dtype of x's numbers (a Dual's or Variable's innermost value's)."""
    return x.dtype if isinstance(x, Traced) else np.result_type(x)


def plain(x):
    """numpy scalars (np.float64 ...) become Python scalars, except the narrow ones
    (NARROW_SCALARS); everything else is kept."""
    return x.item() if isinstance(x, np.generic) and type(x) not in NARROW_SCALARS else x


def unbroadcast(gradient, shape):
    """Sum ``gradient`` over the axes that numpy broadcasting added or stretched,
    so that it gets the operand's ``shape`` back (a float for shape ()). The
    gradient may be traced (a second derivative): np.sum and np.reshape dispatch."""
    current = shape_of(gradient)
    if current == shape:
        return plain(gradient)  # np.float64 -> float: grads print as 0.28..., not np.float64(...)
    axes = broadcast_axes(current, shape)
    if isinstance(gradient, Traced):
        gradient = np.reshape(np.sum(gradient, axis=axes), shape)
    else:  # what np.sum and np.reshape do on plain values, without their Python layers
        gradient = np.add.reduce(gradient, axis=axes)
        if gradient.shape != shape:  # stretched axes: put back their length 1
            gradient = gradient.reshape(shape)
    return plain(gradient[()]) if shape == () and isinstance(gradient, np.ndarray) else gradient


@functools.lru_cache(maxsize=1024)  # a few pairs of shapes per program: worked out once each
def broadcast_axes(current, shape):
    """The axes of an array of shape ``current`` that numpy broadcasting added (the leading
    ones) or stretched (length 1 in ``shape``) to it from an operand of ``shape``."""
    extra = len(current) - len(shape)
    stretched = [extra + axis for axis, size in enumerate(shape)
                 if size == 1 and current[extra + axis] != 1]
    return tuple(range(extra)) + tuple(stretched)


def fit(gradient, arg):
    """``gradient`` unbroadcast to the shape of the argument ``arg`` it belongs to."""
    if type(gradient) is float:  # a float gradient can only belong to a scalar argument
        return gradient
    if type(gradient) is np.ndarray and type(arg) is np.ndarray and gradient.shape == arg.shape:
        return gradient  # nothing was broadcast (checked without a call)
    return unbroadcast(gradient, shape_of(arg))


def over(a, b):
    """a / b as numpy divides, for the divisions inside derivative rules: by a Python number 0
    (or a Dual or Variable holding one, in a derivative of a derivative) the result is inf or
    nan with numpy's RuntimeWarning, as for an array, never Python's ZeroDivisionError."""
    try:
        return a / b
    except ZeroDivisionError:
        if not isinstance(a, Traced) and not isinstance(b, Traced):
            return np.float64(a) / b  # numpy's quotient and warning (0/0: nan, "invalid value")
        return a * np.reciprocal(b * 1.0)  # b * 1.0: a float 0, whose reciprocal is ±inf


def is_complex(x):
    """Whether the value inside ``x`` (any layers of Dual and Variable) is complex."""
    if type(x) is np.ndarray:
        return x.dtype.kind == "c"
    x = value_of(x)
    return isinstance(x, complex) or (isinstance(x, (np.ndarray, np.generic))
                                      and x.dtype.kind == "c")


def full_tangent(tangent, like):
    """The tangent with the shape of ``like`` (a scalar seed 1.0 may stand for all ones)."""
    shape = shape_of(like)
    if shape and shape_of(tangent) != shape:
        return tangent * np.ones(shape)
    return tangent
