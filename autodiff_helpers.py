"""Shared, tested helpers of the automatic differentiation course.

The sections follow the order of the lecture notebooks:

1. plotting style and shared utilities          (notebook 01)
2. symbolic differentiation and expression size  (notebook 02)
3. finite differences                             (notebook 03)
4. forward mode: dual numbers                     (notebook 04)
5. reverse mode: the computational graph          (notebook 05)
6. neural networks and the Ising model            (notebook 06)
7. beyond first derivatives                       (notebook 07)
"""

from __future__ import annotations

import contextlib as _contextlib
import gc as _gc
import itertools as _itertools
import numbers as _numbers
import operator as _operator
import time as _time

import numpy as np

# =============================================================================
# 1. Plotting style and shared utilities (notebook 01)
# =============================================================================

# Sizes on top of mplhep's ATLAS style, chosen to stay readable on a projected
# slide (labels 20 pt, ticks 16 pt on an 8 x 5 inch figure at 100 dpi).
COURSE_RC = {
    "figure.figsize": (8.0, 5.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 16,
    "axes.labelsize": 20,
    "axes.titlesize": 20,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 15,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
}


def use_course_style() -> None:
    """Apply the course's plotting style: mplhep's ATLAS style plus ``COURSE_RC``.

    Works offline (the fonts ship in the mplhep-data wheel).  Also quietens the
    ``matplotlib.mathtext`` logger, which under mplhep 1.3 and matplotlib 3.11
    logs "No TeX to Unicode mapping" for some labels.  Returns None.
    """
    import logging

    import matplotlib as mpl
    import mplhep

    mplhep.style.use("ATLAS")
    mpl.rcParams.update(COURSE_RC)
    logging.getLogger("matplotlib.mathtext").setLevel(logging.ERROR)


def gradient_descent(grad, start, learning_rate: float, n_steps: int) -> np.ndarray:
    """Return the path of gradient descent, theta_{n+1} = theta_n - eps * grad(theta_n).

    ``grad(theta)`` returns the gradient at ``theta`` (same shape as ``start``),
    ``eps`` is the learning rate.  The result has shape
    ``(n_steps + 1,) + np.shape(start)``: row 0 is ``start``, row n is theta_n.
    """
    theta = np.array(start, dtype=float)
    path = [theta]
    for _ in range(n_steps):
        theta = theta - learning_rate * np.asarray(grad(theta), dtype=float)
        path.append(theta)
    return np.array(path)


def gradient_ascent(grad, start, learning_rate: float, n_steps: int) -> np.ndarray:
    """Return the path of gradient ascent, x_{n+1} = x_n + eps * grad(x_n).

    Same conventions as :func:`gradient_descent` (row 0 is ``start``).
    """
    return gradient_descent(grad, start, -learning_rate, n_steps)


def newton_iterates(f, fprime, x0: float, n_steps: int) -> np.ndarray:
    """Return Newton's iterates x_0, ..., x_{n_steps} for a root of ``f``.

    x_{n+1} = x_n - f(x_n) / f'(x_n), with ``fprime`` giving f'.  Raises
    ZeroDivisionError naming the iterate where f'(x_n) = 0.
    """
    xs = [float(x0)]
    for n in range(n_steps):
        x = xs[-1]
        slope = float(fprime(x))
        if slope == 0.0:
            raise ZeroDivisionError(f"Newton step {n}: f'(x) = 0 at x = {x!r}")
        xs.append(x - float(f(x)) / slope)
    return np.array(xs)


@_contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector inside a ``with`` block and restore
    its previous state afterwards (reference counting still frees objects)."""
    was_enabled = _gc.isenabled()
    _gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _gc.enable()


def best_time(function, number=1, repeat=3) -> float:
    """Return the time of one call of ``function()`` in seconds: the best of
    ``repeat`` runs of ``number`` calls each, with the garbage collector paused
    during the runs (as ``timeit`` does). The minimum is the run least
    disturbed by the rest of the machine."""
    times = []
    with collector_paused():
        for _ in range(repeat):
            start = _time.perf_counter()
            for _ in range(number):
                function()
            times.append((_time.perf_counter() - start) / number)
    return min(times)


def format_comparison(values: dict, reference: str, digits: int = 12) -> str:
    """Return a table of named numbers with their differences to one of them.

    One line per entry of ``values`` (name -> number): the name, the value to
    ``digits`` significant digits and the difference value - values[reference]
    to two significant digits.  A difference of at most 8 units in the last
    place of the reference, zero included, is printed as "round-off": whether
    it is 0 or a few units depends on the machine (the CPU's vector code, the
    maths library), not on the method.
    """
    exact = float(values[reference])
    width = max(len(name) for name in values)
    lines = [f"{'method':<{width}}  {'value':<{digits + 6}}  difference to {reference}"]
    for name, value in values.items():
        difference = float(value) - exact
        shown = "(reference)" if name == reference else (
            "round-off" if abs(difference) <= 8 * np.spacing(abs(exact)) else f"{difference:+.1e}")
        lines.append(f"{name:<{width}}  {float(value):<{digits + 6}.{digits}g}  {shown}")
    return "\n".join(lines)


def source_code(function, docstring: bool = True) -> str:
    """Return the source code of ``function`` (as ``inspect.getsource``), without its
    docstring if ``docstring`` is False.  The docstring's lines are found with the
    parser, so this does not depend on how a Python version stores ``__doc__``."""
    import ast
    import inspect
    import textwrap

    source = inspect.getsource(function)
    if docstring:
        return source
    tree = ast.parse(textwrap.dedent(source))
    body = tree.body[0].body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return source
    lines = source.splitlines(keepends=True)
    return "".join(lines[:body[0].lineno - 1] + lines[body[0].end_lineno:])


def plot_loss_surface(
    loss,
    xlim: tuple,
    ylim: tuple,
    paths: dict | None = None,
    ax=None,
    levels=15,
    resolution: int = 200,
    labels: tuple = (r"$\theta_1$", r"$\theta_2$"),
):
    """Draw contour lines of ``loss(x, y)`` over a rectangle, with optional 2-D paths.

    ``loss`` must accept numpy arrays (it is called on a meshgrid).  ``paths``
    maps a legend label to an array of points of shape (n, 2), e.g. from
    :func:`gradient_descent`; each is drawn as a line with markers, its start
    as a circle and its end as a star.  ``levels`` is passed to ``contour``.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure().add_subplot()
    x = np.linspace(*xlim, resolution)
    y = np.linspace(*ylim, resolution)
    grid_x, grid_y = np.meshgrid(x, y)
    contours = ax.contour(grid_x, grid_y, loss(grid_x, grid_y), levels=levels, cmap="viridis")
    ax.clabel(contours, fontsize=13, fmt="%.2g")
    for label, path in (paths or {}).items():
        path = np.asarray(path, dtype=float)
        (line,) = ax.plot(path[:, 0], path[:, 1], "o-", markersize=4, label=label)
        ax.plot(*path[0], "o", color=line.get_color(), markersize=10)
        ax.plot(*path[-1], "*", color=line.get_color(), markersize=16)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if paths:
        ax.legend(loc="upper left")
    return ax

# -- end of section 1 --

# =============================================================================
# 2. Symbolic differentiation and expression size (notebook 02)
# =============================================================================

def logistic_map(x, n: int, r=4):
    """Return l_n of the logistic map l_{k+1} = r l_k (1 - l_k) with l_1 = x.

    Written with ``*`` and ``-`` only, so ``x`` may be a float, a numpy array,
    a sympy symbol (the expression of l_n), a ``Dual`` (l_n and its derivative)
    or a ``Variable`` (a graph of 3 (n - 1) operations).  ``n >= 1``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1 (l_1 = x), got {n}")
    value = x
    for _ in range(n - 1):
        value = r * value * (1 - value)
    return value


def operation_count(expr) -> int:
    """Return the number of arithmetic operations in a sympy expression tree.

    This is ``sympy.count_ops``: a product or sum of k terms counts k - 1
    operations, a power, a function call or a subtraction one each, so
    ``4*x*(1 - x)`` counts 3.  A subexpression that occurs twice is counted
    twice (the tree, not the shared graph, is what gets printed).
    """
    import sympy

    return int(sympy.count_ops(expr))


def cse_operation_count(expr) -> int:
    """Return the operation count of ``expr`` after common-subexpression elimination.

    ``sympy.cse`` rewrites ``expr`` as assignments ``x0 = ..., x1 = ...`` and a
    reduced expression that uses them; the result is the sum of
    :func:`operation_count` over the right-hand sides and the reduced
    expression (each shared subexpression is now computed once).
    """
    import sympy

    replacements, (reduced,) = sympy.cse(expr)
    return sum(operation_count(rhs) for _, rhs in replacements) + operation_count(reduced)


class OperationCounter:
    """Counts the floating-point operations performed on the numbers it hands out.

    ``counter.number(2.0)`` is a :class:`CountingFloat`; every arithmetic
    operation (``+ - * / **``, unary minus, ``abs``) and every numpy ufunc
    applied to it adds 1 to ``counter.counts[name]`` and returns another
    CountingFloat of the same counter.  ``counter.total`` is the sum.
    """

    def __init__(self):
        import collections

        self.counts = collections.Counter()

    @property
    def total(self) -> int:
        """The number of operations counted so far."""
        return sum(self.counts.values())

    def number(self, value) -> CountingFloat:
        """Return ``value`` as a float whose operations this counter counts."""
        return CountingFloat(value, self)

    def __repr__(self):
        return f"OperationCounter(total={self.total}, counts={dict(self.counts)})"


def _counting_operation(name, operation, reflected=False):
    def method(self, other):
        if not isinstance(other, (int, float)):
            return NotImplemented  # e.g. a Dual: its reflected method takes over
        self.counter.counts[name] += 1
        a, b = (float(other), float(self)) if reflected else (float(self), float(other))
        return CountingFloat(operation(a, b), self.counter)

    method.__name__ = f"__{'r' if reflected else ''}{operation.__name__.strip('_')}__"
    return method


class CountingFloat(float):
    """A float that reports each arithmetic operation on it to an ``OperationCounter``.

    Make one with ``OperationCounter().number(x)``.  Results of operations are
    CountingFloats of the same counter, so a whole computation is counted.
    Comparisons and conversions are not counted.
    """

    __slots__ = ("counter",)

    def __new__(cls, value, counter):
        number = super().__new__(cls, value)
        number.counter = counter
        return number

    __add__ = _counting_operation("add", _operator.add)
    __radd__ = _counting_operation("add", _operator.add, reflected=True)
    __sub__ = _counting_operation("subtract", _operator.sub)
    __rsub__ = _counting_operation("subtract", _operator.sub, reflected=True)
    __mul__ = _counting_operation("multiply", _operator.mul)
    __rmul__ = _counting_operation("multiply", _operator.mul, reflected=True)
    __truediv__ = _counting_operation("divide", _operator.truediv)
    __rtruediv__ = _counting_operation("divide", _operator.truediv, reflected=True)
    __pow__ = _counting_operation("power", _operator.pow)
    __rpow__ = _counting_operation("power", _operator.pow, reflected=True)

    def __neg__(self):
        self.counter.counts["negative"] += 1
        return CountingFloat(-float(self), self.counter)

    def __pos__(self):
        return self

    def __abs__(self):
        self.counter.counts["absolute"] += 1
        return CountingFloat(abs(float(self)), self.counter)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs or not all(isinstance(a, (int, float)) for a in inputs):
            return NotImplemented
        result = ufunc(*[float(a) for a in inputs])
        if not isinstance(result, float):
            return result  # a test such as np.isnan or np.greater: no arithmetic
        self.counter.counts[ufunc.__name__] += 1
        return CountingFloat(result, self.counter)

    def __repr__(self):
        return f"CountingFloat({float(self)!r})"


def count_operations(f, *args) -> int:
    """Return the number of floating-point operations ``f(*args)`` performs on its arguments.

    Each float argument is replaced by a :class:`CountingFloat` of one fresh
    :class:`OperationCounter`; operations on constants alone (``4 * 1.0``) are
    not seen, so write ``f`` in terms of its arguments.
    """
    counter = OperationCounter()
    f(*(counter.number(a) for a in args))
    return counter.total


def count_forward_mode_operations(f, x) -> int:
    """Return the number of floating-point operations of one forward-mode derivative f'(x).

    Evaluates ``f(Dual(x, 1.0))`` with both parts counted: the operations on
    the values (f itself) plus those on the tangents (the chain rule).
    """
    return count_operations(lambda value, tangent: f(Dual(value, tangent)), x, 1.0)


class CountingFunction:
    """Wrap a function and count how often it is called.

    ``counted = CountingFunction(f)``; ``counted(x)`` returns ``f(x)`` and adds 1
    to ``counted.calls``; ``counted.reset()`` sets the count back to 0.  Used
    to show that a finite-difference gradient of an R^N -> R function costs
    N + 1 calls (forward) or 2 N calls (central).
    """

    def __init__(self, function):
        self.function = function
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)

    def reset(self) -> None:
        """Set ``calls`` back to 0."""
        self.calls = 0

    def __repr__(self):
        name = getattr(self.function, "__name__", repr(self.function))
        return f"CountingFunction({name}, calls={self.calls})"


# -- the error of finite differences (notebook 03) ----------------------------

def derivative_errors(f, exact: float, x: float, steps) -> dict:
    """Return the absolute errors |approximation - exact| of f'(x) for each step h.

    A dict with keys ``"forward"``, ``"central"``, ``"complex step"``, each an
    array over ``steps``, computed with :func:`forward_difference`,
    :func:`central_difference` and :func:`complex_step` (``f`` must accept
    complex numbers for the last one, as numpy's functions do).
    """
    steps = np.asarray(steps, dtype=float)
    methods = {
        "forward": forward_difference,
        "central": central_difference,
        "complex step": complex_step,
    }
    return {
        name: np.abs(method(f, x, steps) - exact)  # each method takes an array of steps
        for name, method in methods.items()
    }


# order p of the truncation error C h**p, and C as a multiple of |f^(p+1)(x)|
_DIFFERENCE_TRUNCATION = {"forward": (1, 1 / 2), "central": (2, 1 / 6)}


def difference_error_model(steps, f_value: float, higher_derivative: float, method="forward",
                           eps=float(np.finfo(float).eps)):
    """Return (truncation, round-off): the two error terms of a finite difference.

    forward: truncation |f''| h / 2, central: truncation |f'''| h**2 / 6 (Taylor
    remainder); ``higher_derivative`` is f'' or f''' accordingly.  Round-off,
    both methods: eps |f| / h (f(x + h) and f(x) are each rounded to about
    eps |f| / 2, and their difference is divided by h).  Arrays over ``steps``.
    """
    order, factor = _DIFFERENCE_TRUNCATION[method]
    steps = np.asarray(steps, dtype=float)
    truncation = factor * abs(higher_derivative) * steps**order
    roundoff = eps * abs(f_value) / steps
    return truncation, roundoff


def optimal_step(f_value: float, higher_derivative: float, method="forward",
                 eps=float(np.finfo(float).eps)) -> float:
    """Return the step h that minimises truncation + round-off of :func:`difference_error_model`.

    Setting d/dh (C h**p + eps |f| / h) = 0 gives h* = (eps |f| / (p C))**(1/(p+1)):
    forward h* = sqrt(2 eps |f| / |f''|), central h* = (3 eps |f| / |f'''|)**(1/3).
    """
    order, factor = _DIFFERENCE_TRUNCATION[method]
    constant = factor * abs(higher_derivative)
    return float((eps * abs(f_value) / (order * constant)) ** (1 / (order + 1)))


# colour-blind-safe colours (Okabe-Ito) that stay visible on a projected white slide
MEASUREMENT_COLORS = ("#d55e00", "#0072b2", "#009e73", "black", "#cc79a7", "#e69f00")


def plot_measurements(x, measured: dict, theory: dict | None = None, *, xlabel: str, ylabel: str,
                      logx: bool = False, connect: bool = False, floor: float | None = None,
                      colors=None, ylim=None, ax=None,
                      figsize=(8.0, 4.5)):
    """Plot measured series as markers and model curves as black lines, on a log y axis.

    Without ``ax`` a new figure of ``figsize`` inches is made (8 x 4.5: the
    figure and a few lines of code fit on one 1280 x 720 slide).
    ``measured`` maps a legend label to values over ``x``: markers (circle,
    square, diamond, ...), filled and joined by lines if ``connect``, open
    otherwise (so that coinciding series stay visible).  ``theory`` maps a
    label to values over ``x``: black dashed, dotted, dash-dotted lines.
    ``floor``: values below it (an error of exactly 0, which a log axis cannot
    show) are drawn at ``floor`` and the label says so.  ``colors``: one per
    measured series (default ``MEASUREMENT_COLORS``).  ``logx`` makes the x
    axis logarithmic too.  Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=figsize).add_subplot()
    colors = MEASUREMENT_COLORS if colors is None else colors
    x = np.asarray(x, dtype=float)
    for (label, values), color, marker in zip(measured.items(), colors, "osD^v<>"):
        values = np.asarray(values, dtype=float)
        if floor is not None and np.any(values < floor):
            values = np.maximum(values, floor)
            label = f"{label} (0 drawn at {floor:.0e})"
        style = {"markerfacecolor": "none", "markersize": 6, "linestyle": "none"}
        if connect:
            style = {"linestyle": "-"}
        ax.plot(x, values, marker=marker, color=color, label=label, **style)
    for (label, values), linestyle in zip((theory or {}).items(), ("--", ":", "-.")):
        ax.plot(x, values, linestyle=linestyle, color="black", label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    entries = len(measured) + len(theory or {})
    ax.legend(loc="upper left", ncol=2 if entries > 4 else 1)  # two columns only for short labels
    return ax

# -- end of section 2 --

# =============================================================================
# 3. Finite differences (notebook 03)
# =============================================================================

def forward_difference(f, x, h=1e-8):
    """Return the forward difference (f(x + h) - f(x)) / h.

    ``x`` may be a float or a numpy array of points (``f`` is then applied
    elementwise, as numpy functions are). Error: O(h) truncation plus
    O(eps / h) round-off.
    """
    return (f(x + h) - f(x)) / h


def central_difference(f, x, h=1e-5):
    """Return the central difference (f(x + h) - f(x - h)) / (2 h).

    Works on floats and on numpy arrays of points. Error: O(h**2) truncation
    plus O(eps / h) round-off, so the best step is about eps**(1/3).
    """
    return (f(x + h) - f(x - h)) / (2 * h)


def complex_step(f, x, h=1e-20):
    """Return the complex-step derivative Im f(x + i h) / h.

    There is no subtraction, hence no cancellation: for a real-analytic ``f``
    written with operations that accept complex numbers (numpy's do) the
    result is exact to machine precision for any tiny ``h``.
    """
    return np.imag(f(x + 1j * h)) / h


def numerical_gradient(f, x, h=None, method="central"):
    """Return the gradient of a scalar function of a 1-D array by finite differences.

    Component i is ``(f(x + h e_i) - f(x)) / h`` for ``method="forward"``
    (N + 1 calls of ``f``) or ``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for
    ``method="central"`` (2 N calls). ``h`` defaults to the step that balances
    truncation and round-off: sqrt(eps) for forward, eps**(1/3) for central,
    scaled by max(1, |x_i|).
    """
    if method not in ("forward", "central"):
        raise ValueError(f"method must be 'forward' or 'central', got {method!r}")
    x = np.array(x, dtype=float)
    if h is None:
        h = np.finfo(float).eps ** (0.5 if method == "forward" else 1 / 3)
    steps = h * np.maximum(1.0, np.abs(x))
    gradient = np.empty_like(x)
    f0 = f(x) if method == "forward" else None
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = steps[i]
        if method == "forward":
            gradient[i] = (f(x + step) - f0) / steps[i]
        else:
            gradient[i] = (f(x + step) - f(x - step)) / (2 * steps[i])
    return gradient

# -- end of section 3 --

# =============================================================================
# 4. Forward mode: dual numbers (notebook 04)
# =============================================================================

# -----------------------------------------------------------------------------
# 4.1 The table of derivative rules, shared by forward and reverse mode
# -----------------------------------------------------------------------------
# Every elementwise primitive is listed once: how to evaluate it, and its
# partial derivative with respect to each argument, written as a function of
# (ans, *args) where ``ans`` is the primitive's output. Forward mode multiplies
# the partials by the tangents (jvp); reverse mode multiplies the adjoint by
# them (vjp). The partials are written with operators and numpy functions only,
# so they work on floats, arrays, Duals and Variables alike: that is what lets
# the two modes nest.

ONE = "one"  # the partial is 1: pass the tangent / adjoint through unchanged
MINUS_ONE = "minus one"  # the partial is -1


def _power_partial_base(ans, a, b):
    # d(a**b)/da = b a**(b-1); for a constant exponent 0 the derivative is 0,
    # also at a = 0 where b a**(b-1) would be 0 * inf.
    if not isinstance(b, (Dual, Variable)) and np.ndim(b) == 0:
        if b == 0:
            return 0.0
        if b == 2:
            return 2 * a  # the common square, without computing a**1
    return b * _power(a, b - 1)


def _tie_half(a, b):
    # 1/2 where a == b: the documented convention at a tie of maximum/minimum,
    # so that maximum(x, x) = x has derivative 1.
    return 0.5 * (_value_of(a) == _value_of(b))


def _power(a, b):
    # a ** b as numpy computes it: for a Python float base <= 0, (-1.0) ** 0.5 is
    # nan and 0.0 ** -1 is inf, each with a RuntimeWarning (Python's own ** would
    # return a complex number or raise ZeroDivisionError).
    if type(a) in (float, int) and a <= 0 and type(b) in (float, int):
        return np.float64(a) ** b
    return a ** b


def _real_domain(partial):
    # Wraps the partial of a function with a limited real domain (log, sqrt, ...)
    # so that the derivative follows numpy as the value does: at the edge of the
    # domain a partial that divides by zero is inf with a RuntimeWarning (not
    # Python's ZeroDivisionError), and outside the domain, where the value is
    # nan, the partial is nan too (never a finite number such as 1/x at log(-1)).
    def checked(ans, *args):
        try:
            result = partial(ans, *args)
        except ZeroDivisionError:
            result = partial(*[np.float64(a) if type(a) in (float, int) else a for a in (ans, *args)])
        outside = np.isnan(_value_of(ans))
        return result * np.where(outside, np.nan, 1.0) if np.any(outside) else result

    return checked


RULES = {
    # name:        (evaluate,            partials with respect to each argument)
    "add":         (_operator.add,       (ONE, ONE)),
    "subtract":    (_operator.sub,       (ONE, MINUS_ONE)),
    "multiply":    (_operator.mul,       (lambda ans, a, b: b, lambda ans, a, b: a)),
    "divide":      (_operator.truediv,   (lambda ans, a, b: 1 / b, lambda ans, a, b: -ans / b)),
    "power":       (_power,              (_power_partial_base, lambda ans, a, b: ans * np.log(a))),
    "negative":    (_operator.neg,       (MINUS_ONE,)),
    "positive":    (_operator.pos,       (ONE,)),
    "absolute":    (abs,                 (lambda ans, x: np.sign(_value_of(x)),)),  # abs'(0) = 0
    "square":      (np.square,           (lambda ans, x: 2 * x,)),
    "reciprocal":  (np.reciprocal,       (lambda ans, x: -ans * ans,)),
    "sqrt":        (np.sqrt,             (_real_domain(lambda ans, x: 0.5 / ans),)),
    "cbrt":        (np.cbrt,             (_real_domain(lambda ans, x: 1 / (3 * ans * ans)),)),
    "exp":         (np.exp,              (lambda ans, x: ans,)),
    "exp2":        (np.exp2,             (lambda ans, x: ans * np.log(2.0),)),
    "expm1":       (np.expm1,            (lambda ans, x: ans + 1,)),
    "log":         (np.log,              (_real_domain(lambda ans, x: 1 / x),)),
    "log2":        (np.log2,             (_real_domain(lambda ans, x: 1 / (x * np.log(2.0))),)),
    "log10":       (np.log10,            (_real_domain(lambda ans, x: 1 / (x * np.log(10.0))),)),
    "log1p":       (np.log1p,            (_real_domain(lambda ans, x: 1 / (1 + x)),)),
    "sin":         (np.sin,              (lambda ans, x: np.cos(x),)),
    "cos":         (np.cos,              (lambda ans, x: -np.sin(x),)),
    "tan":         (np.tan,              (lambda ans, x: 1 + ans * ans,)),
    "arcsin":      (np.arcsin,           (lambda ans, x: 1 / np.sqrt(1 - x * x),)),
    "arccos":      (np.arccos,           (lambda ans, x: -1 / np.sqrt(1 - x * x),)),
    "arctan":      (np.arctan,           (lambda ans, x: 1 / (1 + x * x),)),
    "sinh":        (np.sinh,             (lambda ans, x: np.cosh(x),)),
    "cosh":        (np.cosh,             (lambda ans, x: np.sinh(x),)),
    "tanh":        (np.tanh,             (lambda ans, x: 1 - ans * ans,)),
    "arcsinh":     (np.arcsinh,          (lambda ans, x: 1 / np.sqrt(x * x + 1),)),
    "arctanh":     (np.arctanh,          (_real_domain(lambda ans, x: 1 / (1 - x * x)),)),
    "maximum":     (np.maximum,          (lambda ans, a, b: (_value_of(a) > _value_of(b)) + _tie_half(a, b),
                                          lambda ans, a, b: (_value_of(a) < _value_of(b)) + _tie_half(a, b))),
    "minimum":     (np.minimum,          (lambda ans, a, b: (_value_of(a) < _value_of(b)) + _tie_half(a, b),
                                          lambda ans, a, b: (_value_of(a) > _value_of(b)) + _tie_half(a, b))),
    "arctan2":     (np.arctan2,          (lambda ans, y, x: x / (x * x + y * y),
                                          lambda ans, y, x: -y / (x * x + y * y))),
    "hypot":       (np.hypot,            (lambda ans, a, b: a / ans, lambda ans, a, b: b / ans)),
}

# numpy ufuncs that map onto the table (np.divide is np.true_divide)
_UFUNC_RULES = {
    np.add: "add", np.subtract: "subtract", np.multiply: "multiply",
    np.true_divide: "divide", np.power: "power", np.negative: "negative",
    np.positive: "positive", np.absolute: "absolute", np.square: "square",
    np.reciprocal: "reciprocal", np.sqrt: "sqrt", np.cbrt: "cbrt", np.exp: "exp",
    np.exp2: "exp2", np.expm1: "expm1", np.log: "log", np.log2: "log2",
    np.log10: "log10", np.log1p: "log1p", np.sin: "sin", np.cos: "cos", np.tan: "tan",
    np.arcsin: "arcsin", np.arccos: "arccos", np.arctan: "arctan", np.sinh: "sinh",
    np.cosh: "cosh", np.tanh: "tanh", np.arcsinh: "arcsinh", np.arctanh: "arctanh",
    np.maximum: "maximum", np.minimum: "minimum", np.arctan2: "arctan2", np.hypot: "hypot",
}

# Piecewise-constant ufuncs and comparisons: evaluated on the values, the result
# is a constant (its derivative is zero wherever it exists).
_CONSTANT_UFUNCS = frozenset((
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.greater, np.greater_equal,
    np.less, np.less_equal, np.equal, np.not_equal, np.isfinite, np.isnan, np.isinf,
    np.signbit, np.logical_and, np.logical_or, np.logical_not,
))


def _value_of(x):
    """Strip every layer of Dual and Variable: the plain float or array inside."""
    while isinstance(x, (Dual, Variable)):
        x = x.val if isinstance(x, Dual) else x.value
    return x


def _plain(x):
    """numpy scalars (np.float64 ...) become Python scalars; everything else is kept."""
    return x.item() if isinstance(x, np.generic) else x


def _check_operand(x):
    """Return ``x`` as an operand of Dual/Variable arithmetic, or None if it is not numeric."""
    if type(x) is int or isinstance(x, (Dual, Variable, float)):  # int: before the slow ABC check
        return x
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind in "biufc" else None
    if isinstance(x, (_numbers.Number, np.bool_)):  # np.bool_ is not a numbers.Number
        return x
    if isinstance(x, (list, tuple)):
        try:
            array = np.asarray(x)
        except ValueError:
            return None
        return array if array.dtype.kind in "biufc" else None
    return None


# -----------------------------------------------------------------------------
# 4.2 Dual numbers
# -----------------------------------------------------------------------------

_tags = _itertools.count(1)
# The tag of the innermost derivative/jvp call running now (-0.5: none). A dual
# built by hand gets this + 0.5: tag 0 outside every call, and inside f during
# derivative(f, x) a tag newer than that call's perturbation, as it must be.
_scope = [-0.5]


def _call_in_scope(tag, f, *args):
    _scope.append(tag)
    try:
        return f(*args)
    finally:
        _scope.pop()


class _Operators:
    """The operators that Dual and Variable share. Each names a rule of RULES and
    hands it to the class's ``_binary``, which returns NotImplemented for an
    operand it cannot use (so Python raises TypeError naming both types);
    ``reflected`` puts the other operand first (2 * x, 1 - x, 2 ** x).
    Comparisons look at the value only, so ``if x > 0:`` works in user code."""

    __slots__ = ()

    def __add__(self, other):
        return self._binary(other, "add")

    def __radd__(self, other):
        return self._binary(other, "add", reflected=True)

    def __sub__(self, other):
        return self._binary(other, "subtract")

    def __rsub__(self, other):
        return self._binary(other, "subtract", reflected=True)

    def __mul__(self, other):
        return self._binary(other, "multiply")

    def __rmul__(self, other):
        return self._binary(other, "multiply", reflected=True)

    def __truediv__(self, other):
        return self._binary(other, "divide")

    def __rtruediv__(self, other):
        return self._binary(other, "divide", reflected=True)

    def __pow__(self, other):
        return self._binary(other, "power")

    def __rpow__(self, other):
        return self._binary(other, "power", reflected=True)

    def __pos__(self):
        return self

    def __lt__(self, other):
        return _value_of(self) < _value_of(other)

    def __le__(self, other):
        return _value_of(self) <= _value_of(other)

    def __gt__(self, other):
        return _value_of(self) > _value_of(other)

    def __ge__(self, other):
        return _value_of(self) >= _value_of(other)

    def __eq__(self, other):
        return _value_of(self) == _value_of(other)

    def __ne__(self, other):
        return _value_of(self) != _value_of(other)

    __hash__ = object.__hash__  # hashed by identity, compared by value (as torch tensors)

    def __bool__(self):
        return bool(_value_of(self))


class Dual(_Operators):
    """A dual number ``val + dval·d`` with d**2 = 0: a value and its tangent.

    ``f(x + x'd) = f(x) + f'(x) x' d``, so evaluating a function on
    ``Dual(x, 1.0)`` returns f(x) and f'(x) together (forward mode).

    The components may be floats, numpy arrays (a whole grid of points at
    once), Duals (nested duals: second derivatives) or reverse-mode
    ``Variable``s (a forward sweep whose results can be back-propagated).
    numpy's own functions work on Duals (``np.sin(x)``, ``np.exp(x)``...).

    ``tag`` tells apart the perturbations of nested ``derivative`` calls; duals
    built by hand all have tag 0 and mix freely (built inside a function that
    ``derivative``/``jvp`` is differentiating, they get a tag just newer than
    that call's, so ``derivative(lambda w: (w * Dual(1.0, 1.0) ** 2).dval, 3.0)``
    is 2, not 0).
    """

    __slots__ = ("val", "dval", "tag")
    __array_priority__ = 20  # ahead of ndarray and of Variable

    def __init__(self, val, dval=0.0, tag=None):
        parts = []
        for name, part in (("val", val), ("dval", dval)):
            checked = _check_operand(part)  # lists and tuples become arrays
            if checked is None:
                raise TypeError(
                    f"Dual {name} must be a number, a numeric numpy array, a Dual or a "
                    f"Variable, not {type(part).__name__!r}"
                )
            parts.append(_plain(checked))
        self.val, self.dval = parts
        self.tag = _scope[-1] + 0.5 if tag is None else tag

    # -- the generic rule: one function applies any table entry ---------------
    @staticmethod
    def _apply(name, *args):
        """Apply the primitive ``name`` of RULES to arguments of which at least one is a Dual.

        Duals with the newest tag carry the perturbation; every other argument
        (plain numbers, arrays, Variables, Duals of older tags) is a constant.
        """
        evaluate, partials = RULES[name]
        tag = max(a.tag for a in args if isinstance(a, Dual))
        values, tangents = [], []
        for a in args:
            if isinstance(a, Dual) and a.tag == tag:
                values.append(a.val)
                tangents.append(a.dval)
            else:
                values.append(a)
                tangents.append(None)
        ans = _plain(evaluate(*values))
        dval = None
        fresh = False  # does dval own its memory (so that += may reuse it)?
        for partial, tangent in zip(partials, tangents):
            if tangent is None:
                continue
            if partial is ONE:
                term, term_fresh = tangent, False
            elif partial is MINUS_ONE:
                term, term_fresh = -tangent, True
            elif type(tangent) is float and tangent == 1.0:
                term, term_fresh = partial(ans, *values), False  # the usual seed: skip "* 1"
            else:
                term, term_fresh = partial(ans, *values) * tangent, True
            if dval is None:
                dval, fresh = term, term_fresh
            elif fresh and _same_float_array(dval, term):
                dval += term  # large arrays: one temporary less
            elif term_fresh and _same_float_array(term, dval):
                term += dval
                dval = term
            else:
                dval, fresh = dval + term, True
        return _dual(ans, _plain(dval), tag)

    def _binary(self, other, name, reflected=False):
        other = _check_operand(other)
        if other is None:
            return NotImplemented
        return Dual._apply(name, other, self) if reflected else Dual._apply(name, self, other)

    def __matmul__(self, other):
        other = _check_operand(other)
        return NotImplemented if other is None else _dual_matmul(self, other)

    def __rmatmul__(self, other):
        other = _check_operand(other)
        return NotImplemented if other is None else _dual_matmul(other, self)

    def __neg__(self):
        return Dual._apply("negative", self)

    def __abs__(self):
        return Dual._apply("absolute", self)

    # -- arrays of duals -------------------------------------------------------
    @property
    def shape(self):
        return np.shape(_value_of(self))

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return len(_value_of(self))

    def _linear(self, function):
        # a linear map acts on value and tangent alike
        return _dual(_plain(function(self.val)), _plain(function(_broadcast_tangent(self))), self.tag)

    def __getitem__(self, index):
        return self._linear(lambda part: part[index])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` of value and tangent."""
        return self._linear(lambda part: _call_method(part, "sum", axis=axis, keepdims=keepdims))

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` of value and tangent."""
        return self._linear(lambda part: _call_method(part, "mean", axis=axis, keepdims=keepdims))

    def reshape(self, *shape):
        """Reshape value and tangent."""
        return self._linear(lambda part: _call_method(part, "reshape", *shape))

    def transpose(self, *axes):
        """Transpose value and tangent."""
        return self._linear(lambda part: _call_method(part, "transpose", *axes))

    @property
    def T(self):
        return self.transpose()

    # -- numpy dispatch --------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _dispatch_ufunc(Dual, ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _dispatch_function(func, args, kwargs)

    # -- printing ------------------------------------------------------------
    def __repr__(self):
        tangent = self.dval
        sign = "+"
        if isinstance(tangent, _numbers.Real) and tangent < 0:
            sign, tangent = "-", -tangent
        return f"{_format_part(self.val)} {sign} {_format_part(tangent)}·d"


def _same_float_array(target, other):
    """True if ``target += other`` is safe: a float array that ``other`` broadcasts into."""
    return (
        type(target) is np.ndarray
        and target.dtype == np.float64
        and (isinstance(other, float) or (type(other) is np.ndarray and other.shape == target.shape))
    )


def _dual(val, dval, tag):
    """A Dual made by an operation: its parts are already checked."""
    dual = object.__new__(Dual)
    dual.val, dual.dval, dual.tag = val, dval, tag
    return dual


def _format_part(part):
    if isinstance(part, Dual):
        return f"({part!r})"
    if isinstance(part, _numbers.Real) and not isinstance(part, bool):
        return repr(float(part))
    if isinstance(part, np.ndarray):
        return np.array2string(part, separator=", ", threshold=6)
    return repr(part)


def _broadcast_tangent(dual):
    """The tangent with the value's shape (a scalar seed 1.0 may stand for all ones)."""
    shape = np.shape(_value_of(dual.val))
    if shape and np.shape(_value_of(dual.dval)) != shape:
        return dual.dval * np.ones(shape)
    return dual.dval


def _call_method(part, name, *args, **kwargs):
    """Call an array method on a float, an array, a Dual or a Variable."""
    if isinstance(part, (Dual, Variable, np.ndarray)):
        return getattr(part, name)(*args, **kwargs)
    return getattr(np.asarray(part), name)(*args, **kwargs)


def _dual_matmul(a, b):
    """(A + A'd) @ (B + B'd) = A @ B + (A' @ B + A @ B')d: the product rule for matrices."""
    tag = max(x.tag for x in (a, b) if isinstance(x, Dual))
    a_active = isinstance(a, Dual) and a.tag == tag
    b_active = isinstance(b, Dual) and b.tag == tag
    a_val = a.val if a_active else a
    b_val = b.val if b_active else b
    dval = None
    if a_active:
        dval = _broadcast_tangent(a) @ b_val
    if b_active:
        term = a_val @ _broadcast_tangent(b)
        dval = term if dval is None else dval + term
    return _dual(_plain(a_val @ b_val), _plain(dval), tag)


def _dispatch_ufunc(cls, ufunc, method, inputs, kwargs):
    """Route a numpy ufunc call on Duals or Variables to the table of rules."""
    if method != "__call__" or kwargs:
        raise TypeError(
            f"np.{ufunc.__name__}.{method} with arguments {sorted(kwargs)} is not supported "
            f"on {cls.__name__}; call np.{ufunc.__name__}(x) without out=, where= or dtype="
        )
    operands = []
    for x in inputs:
        if cls is Variable and isinstance(x, Dual):
            return NotImplemented  # a Dual holding Variables: Dual's rule goes first
        checked = _check_operand(x)
        if checked is None:
            names = ", ".join(type(x).__name__ for x in inputs)
            raise TypeError(f"unsupported operand type(s) for np.{ufunc.__name__}: {names}")
        operands.append(checked)
    if ufunc is np.matmul:
        return _dual_matmul(*operands) if cls is Dual else _variable_matmul(*operands)
    if ufunc in _CONSTANT_UFUNCS:
        return ufunc(*[_value_of(x) for x in operands])
    name = _UFUNC_RULES.get(ufunc)
    if name is None:
        supported = ", ".join(sorted(f"np.{u.__name__}" for u in _UFUNC_RULES))
        raise TypeError(
            f"np.{ufunc.__name__} has no derivative rule for {cls.__name__}; "
            f"differentiable ufuncs are: {supported}"
        )
    return cls._apply(name, *operands)


def _dispatch_function(func, args, kwargs):
    """numpy functions (np.sum, np.mean, np.dot, ...) on Duals and Variables."""
    handler = _ARRAY_FUNCTIONS.get(func)
    if handler is None:
        return NotImplemented  # numpy then raises TypeError naming the function and the type
    return handler(*args, **kwargs)


def _method_function(name):
    def handler(x, *args, **kwargs):
        return _call_method(x, name, *args, **kwargs)

    return handler


def _dot(a, b):
    if np.ndim(_value_of(a)) == 0 or np.ndim(_value_of(b)) == 0:
        return a * b
    return a @ b


def _where(condition, a, b):
    """np.where(c, a, b): a where the constant mask c holds, b elsewhere.

    Values and tangents are picked, as numpy picks them: c * a + (1 - c) * b
    alone would turn an inf or nan in the branch not taken into nan (0 * inf),
    e.g. np.where(x > 0, np.sqrt(x), 0.0) at x = -1.
    """
    mask = np.asarray(_value_of(condition), dtype=bool)
    duals = [x for x in (a, b) if isinstance(x, Dual)]
    if duals:
        tag = max(x.tag for x in duals)
        active = [isinstance(x, Dual) and x.tag == tag for x in (a, b)]
        vals = [x.val if on else x for x, on in zip((a, b), active)]
        tangents = [_broadcast_tangent(x) if on else 0.0 for x, on in zip((a, b), active)]
        return _dual(_picked(np.where(mask, *vals)), _picked(np.where(mask, *tangents)), tag)
    # Variables: one node; its vjp sends the adjoint to a where c holds, to b elsewhere
    values = [x.value if isinstance(x, Variable) else x for x in (a, b)]
    ans = _picked(np.where(mask, *values))
    if not isinstance(a, Variable) and not isinstance(b, Variable):
        return ans
    return Variable._node(ans, "where", (mask, *values), *_variables_only((None, a, b)))


def _picked(x):
    # np.where on plain numbers returns a 0-d array: make it a float
    return _plain(x[()]) if isinstance(x, np.ndarray) else x


_ARRAY_FUNCTIONS = {
    np.sum: _method_function("sum"),
    np.mean: _method_function("mean"),
    np.reshape: _method_function("reshape"),
    np.transpose: _method_function("transpose"),
    np.dot: _dot,
    np.where: _where,
    np.shape: lambda x: np.shape(_value_of(x)),
    np.ndim: lambda x: np.ndim(_value_of(x)),
    np.size: lambda x, axis=None: np.size(_value_of(x), axis),
}


# -- the same rules as plain functions, as written in the lecture ------------

def sin(x):
    """sin(x) for floats, arrays, Duals and Variables: sin(x + x'd) = sin x + cos(x) x' d."""
    return np.sin(x)


def cos(x):
    """cos(x): cos(x + x'd) = cos x - sin(x) x' d."""
    return np.cos(x)


def tan(x):
    """tan(x): tan(x + x'd) = tan x + (1 + tan(x)**2) x' d."""
    return np.tan(x)


def exp(x):
    """exp(x): exp(x + x'd) = e^x + e^x x' d."""
    return np.exp(x)


def log(x):
    """Natural logarithm: log(x + x'd) = log x + x'/x d."""
    return np.log(x)


def sqrt(x):
    """sqrt(x + x'd) = sqrt x + x' / (2 sqrt x) d."""
    return np.sqrt(x)


def tanh(x):
    """tanh(x + x'd) = tanh x + (1 - tanh(x)**2) x' d."""
    return np.tanh(x)


def arctan(x):
    """arctan(x + x'd) = arctan x + x' / (1 + x**2) d."""
    return np.arctan(x)


# -----------------------------------------------------------------------------
# 4.3 Forward-mode derivatives of user functions
# -----------------------------------------------------------------------------

def _tangent_part(result, tag, like):
    """The coefficient of the perturbation ``tag`` in ``result`` (zero if f did not use it)."""
    if isinstance(result, Dual) and result.tag == tag:
        return result.dval
    if isinstance(result, Dual) and result.tag > tag:  # a dual built by hand inside f
        return _dual(_tangent_part(result.val, tag, like), _tangent_part(result.dval, tag, like),
                     result.tag)
    shape = np.shape(_value_of(like))
    return np.zeros(shape) if shape else 0.0


def derivative(f, x):
    """Return f'(x) by forward mode: the d-part of f(Dual(x, 1)).

    ``x`` may be a float or an array of points (then ``f`` must act elementwise
    and f' is returned at every point in one sweep). Nested calls are safe:
    ``derivative(lambda x: derivative(f, x), x0)`` is f''(x0).
    """
    tag = next(_tags)
    # one scalar seed stands for a tangent of ones at every point: no array of
    # ones to multiply by (numpy broadcasting does the rest)
    result = _call_in_scope(tag, f, Dual(x, 1.0, tag))
    tangent = _tangent_part(result, tag, x)
    shape = np.shape(_value_of(result))
    if shape and np.shape(_value_of(tangent)) != shape:
        tangent = tangent * np.ones(shape)  # e.g. f(x) = x + c: the tangent is still the seed
    return tangent


def jvp(f, x, v):
    """Return (f(x), J v): the value and the directional derivative of f along v.

    Either ``x`` and ``v`` are numpy arrays of one shape and ``f`` takes one
    array (it may index ``x[0]``, ``x[1]``...), or they are tuples and ``f`` takes
    ``len(x)`` arguments. One forward sweep, whatever the number of inputs.
    """
    tag = next(_tags)
    if isinstance(x, tuple):
        if not isinstance(v, tuple) or len(v) != len(x):
            raise ValueError(f"x has {len(x)} arguments, so v must be a tuple of {len(x)} tangents")
        result = _call_in_scope(tag, f, *[Dual(xi, vi, tag) for xi, vi in zip(x, v)])
    else:
        if not isinstance(x, (Dual, Variable)):  # a Dual when jvp calls are nested
            x = np.asarray(x, dtype=float)
        v = np.asarray(v, dtype=float)
        if np.shape(_value_of(x)) != v.shape:
            raise ValueError(
                f"x has shape {np.shape(_value_of(x))} but v has shape {v.shape}; they must match"
            )
        result = _call_in_scope(tag, f, Dual(x, v, tag))
    return _primal_part(result, tag), _tangent_part(result, tag, result)


def _primal_part(result, tag):
    """``result`` without the perturbation ``tag`` (the value part of jvp)."""
    if isinstance(result, Dual) and result.tag == tag:
        return result.val
    if isinstance(result, Dual) and result.tag > tag:
        return _dual(_primal_part(result.val, tag), _primal_part(result.dval, tag), result.tag)
    return result


def forward_gradient(f, x):
    """Return the gradient of a scalar function of a 1-D array by forward mode.

    Pass i evaluates f on duals with tangent e_i (the i-th unit vector) and
    keeps the d-part, df/dx_i: n passes of ``f`` for n inputs (compare one
    backward sweep in reverse mode).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    return np.array([float(jvp(f, x, unit)[1]) for unit in np.eye(x.size)])


# -----------------------------------------------------------------------------
# 4.x Application: the best angle of a shot put (notebook 04)
# -----------------------------------------------------------------------------
# Defaults: release speed v = 14 m/s, release height h = 1.8 m, g = 9.8 m/s^2.

def shot_put_range(theta, v=14.0, h=1.8, g=9.8):
    """Return the horizontal range of a shot released at angle ``theta`` (radians),
    x_max = v cos(theta) / g * (v sin(theta) + sqrt(v^2 sin^2(theta) + 2 g h)).

    Written with numpy functions, so ``theta`` may be a float, an array of angles,
    a ``Dual`` or a ``Variable``.
    """
    sine = np.sin(theta)
    return v * np.cos(theta) / g * (v * sine + np.sqrt(v**2 * sine**2 + 2 * g * h))


def shot_put_stationarity(theta, v=14.0, h=1.8, g=9.8):
    """Return v cos^2(theta) - sqrt(2 g h + v^2 sin^2(theta)) sin(theta).

    Zero exactly where d x_max / d theta = 0: with W = sqrt(v^2 sin^2 theta + 2 g h),
    the derivative is this function times v (v sin theta + W) / (g W) > 0, so
    Newton's method on it finds the best angle. Accepts floats, arrays, Duals
    and Variables.
    """
    sine = np.sin(theta)
    return v * np.cos(theta) ** 2 - np.sqrt(2 * g * h + v**2 * sine**2) * sine


def shot_put_best_angle(v=14.0, h=1.8, g=9.8):
    """Return the angle of the longest throw from the closed form
    sin(theta*) = v / sqrt(2 v^2 + 2 g h) (radians, a float)."""
    return float(np.arcsin(v / np.sqrt(2 * v**2 + 2 * g * h)))

# -- end of section 4 --

# =============================================================================
# 5. Reverse mode: the computational graph (notebook 05)
# =============================================================================

_node_ids = _itertools.count()


# -- why interior nodes are hidden from Python's cyclic garbage collector ------
# CPython frees an object as soon as nothing refers to it (reference counting).
# Only reference cycles need its second mechanism, the cyclic collector, which
# every so often walks *all* container objects that are "tracked" and have
# survived earlier walks. A graph under construction is exactly what that
# collector handles worst: 10^6 nodes, all alive, all survivors; each full walk
# visits the whole graph, and the walks, plus the cache misses of visiting
# nodes scattered in memory, made building a 10^6-node graph 4x slower per node
# than a 10^4-node one (benchmarks/RESULTS.md). A node made by an operation can
# never be part of a cycle: it refers to its parents, which are older, and to
# numbers and arrays. So it needs no cycle detection at all, and we take it off
# the collector's list with the C API's PyObject_GC_UnTrack, which is what
# CPython itself does for tuples and dicts that hold only numbers and strings.
# Reference counting still frees the graph the moment the last reference to its
# output goes (tests/test_reverse_mode.py checks this with the collector off).
# Leaves (Variables you create) stay tracked: they may sit in your own cycles.
def _gc_untrack_function():
    try:
        import ctypes

        untrack = ctypes.pythonapi.PyObject_GC_UnTrack  # CPython's C API
    except (ImportError, AttributeError):  # another Python: nodes stay tracked
        return lambda obj: None
    untrack.argtypes = (ctypes.py_object,)
    untrack.restype = None
    return untrack


_gc_untrack = _gc_untrack_function()


def unbroadcast(gradient, shape):
    """Sum ``gradient`` over the axes that numpy broadcasting added or stretched,
    so that it gets the operand's ``shape`` back (a float for shape ())."""
    if np.shape(gradient) == shape:
        return _plain(gradient)  # np.float64 -> float: grads print as 0.28..., not np.float64(...)
    gradient = np.asarray(gradient)
    while gradient.ndim > len(shape):
        gradient = gradient.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and gradient.shape[axis] != 1:
            gradient = gradient.sum(axis=axis, keepdims=True)
    return float(gradient) if shape == () else gradient


class Variable(_Operators):
    """A node of the computational graph (reverse mode): a value, and after
    ``backward()`` the gradient of the output with respect to it.

    ``value`` is a float or a numpy array; numpy broadcasting applies in the
    forward pass and gradients are summed back to each operand's shape.
    Every operation records its inputs; ``y.backward()`` then visits the
    nodes once each in reverse topological order (no recursion), so the cost
    is linear in the size of the graph. A graph lives as long as something
    refers to its output (or to a node in it) and is freed as soon as nothing
    does; nodes made by operations are not tracked by Python's cyclic garbage
    collector (see the note above), so building a large graph stays linear.

    Attributes after ``y.backward()``:
      ``adjoint`` -- dy/d(this node) from the latest backward sweep (every node);
      ``grad``    -- on leaves (Variables you created), the adjoints of all
                     sweeps so far, *accumulated* as in PyTorch: call
                     ``zero_grad()`` before the next backward. ``None`` until then.
    """

    # _p0, _p1, _p2: the parent node of argument 0, 1, 2 (None for a constant argument)
    __slots__ = ("value", "grad", "adjoint", "name", "_op", "_args", "_p0", "_p1", "_p2", "_shape", "_id",
                 "_visit", "__weakref__")
    __array_priority__ = 10

    def __init__(self, value, name=None):
        if isinstance(value, (Variable, Dual)):
            raise TypeError(
                f"Variable value must be a float or a numeric numpy array, not {type(value).__name__!r}"
            )
        checked = _check_operand(value)
        if checked is None or isinstance(checked, complex):
            raise TypeError(
                f"Variable value must be a float or a numeric numpy array, not {type(value).__name__!r}"
            )
        if np.ndim(checked) == 0:
            value = float(np.real_if_close(checked)) if not isinstance(checked, float) else checked
        else:
            value = np.array(checked, dtype=float)
        self.value = value
        self.grad = None
        self.adjoint = None
        self.name = name
        self._op = None  # a leaf: no operation made it
        self._args = ()
        self._p0 = self._p1 = self._p2 = None
        self._visit = 0
        self._shape = () if type(value) is float else value.shape
        self._id = next(_node_ids)

    @staticmethod
    def _node(value, op, args, p0=None, p1=None, p2=None):
        """A new interior node (no argument checks: used by the operations).

        ``args`` are the values of all arguments; ``p0``, ``p1``, ``p2`` are the
        Variables among them (argument 0, 1, 2), None where an argument is a constant.
        """
        node = Variable.__new__(Variable)
        if type(value) is not float and isinstance(value, np.generic):
            value = value.item()
        node.value = value
        node.grad = None
        node.adjoint = None
        node.name = None
        node._op = op
        node._args = args
        node._p0 = p0
        node._p1 = p1
        node._p2 = p2
        node._shape = () if type(value) is float else np.shape(value)
        node._visit = 0
        node._id = next(_node_ids)
        _gc_untrack(node)  # see the note above Variable
        return node

    @property
    def _parents(self):
        """((argument index, parent Variable), ...) for the Variable arguments of this node."""
        return tuple((i, p) for i, p in enumerate((self._p0, self._p1, self._p2)) if p is not None)

    # -- applying a rule of the table ------------------------------------------
    @staticmethod
    def _apply(name, *args):
        """Evaluate primitive ``name`` of RULES and record it in the graph."""
        if len(args) == 1:  # unary primitives (np.tanh(x), -x): x is the Variable
            x = args[0]
            value = x.value
            return Variable._node(RULES[name][0](value), name, (value,), x)
        if len(args) == 2:  # the common case, spelled out: it is most of the forward cost
            a, b = args
            if isinstance(a, Variable):
                a_value = a.value
                if isinstance(b, Variable):
                    b_value = b.value
                else:
                    b_value, b = b, None
            else:
                a_value, b_value, a = a, b.value, None
            return Variable._node(RULES[name][0](a_value, b_value), name, (a_value, b_value), a, b)
        raise AssertionError(f"rule {name!r} called with {len(args)} arguments")  # RULES: 1 or 2

    def _binary(self, other, name, reflected=False):
        if type(other) is not float and not isinstance(other, Variable):
            if isinstance(other, Dual):
                return NotImplemented
            other = _check_operand(other)
            if other is None:
                return NotImplemented
        return Variable._apply(name, other, self) if reflected else Variable._apply(name, self, other)

    def __matmul__(self, other):
        if isinstance(other, Dual):
            return NotImplemented
        other = _check_operand(other)
        return NotImplemented if other is None else _variable_matmul(self, other)

    def __rmatmul__(self, other):
        if isinstance(other, Dual):
            return NotImplemented
        other = _check_operand(other)
        return NotImplemented if other is None else _variable_matmul(other, self)

    def __neg__(self):
        return Variable._apply("negative", self)

    def __abs__(self):
        return Variable._apply("absolute", self)

    # -- array methods (linear maps: see _STRUCTURAL below) -------------------
    @property
    def shape(self):
        return self._shape

    @property
    def ndim(self):
        return len(self._shape)

    @property
    def size(self):
        return int(np.prod(self._shape))

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def _structural(self, name, **params):
        forward, _ = _STRUCTURAL[name]
        ans = forward(self.value, **params)
        return Variable._node(ans, name, (self.value, params), self)

    def __getitem__(self, index):
        return self._structural("getitem", index=index)

    def sum(self, axis=None, keepdims=False):
        """Sum of the elements over ``axis`` (all of them by default)."""
        return self._structural("sum", axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean of the elements over ``axis`` (all of them by default)."""
        return self._structural("mean", axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        """The same elements in a new shape."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return self._structural("reshape", shape=shape)

    def transpose(self, *axes):
        """Axes permuted (reversed by default)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return self._structural("transpose", axes=axes or None)

    @property
    def T(self):
        return self.transpose()

    # -- numpy dispatch ------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _dispatch_ufunc(Variable, ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _dispatch_function(func, args, kwargs)

    # -- the backward sweep ------------------------------------------------------
    def backward(self, seed=None):
        """Back-propagate from this node: fill ``.adjoint`` of every node of its graph
        and add the result into ``.grad`` of every leaf.

        A scalar output needs no seed (dy/dy = 1). For a non-scalar output, pass
        ``seed``, an array of the output's shape: the adjoint of the output, i.e.
        the vector of a vector-Jacobian product.
        """
        if seed is None:
            if self._shape != ():
                raise ValueError(
                    f"backward() without a seed needs a scalar output, but this output has shape "
                    f"{self._shape}; pass seed=np.ones({self._shape}) (or any array of shape "
                    f"{self._shape}) to get a vector-Jacobian product"
                )
            seed = 1.0
        else:
            seed = _value_of(seed)
            if np.shape(seed) != self._shape:
                raise ValueError(
                    f"seed has shape {np.shape(seed)} but the output has shape {self._shape}; "
                    f"they must match"
                )
            seed = float(seed) if self._shape == () else np.array(seed, dtype=float)
        order = topological_order(self)
        self.adjoint = seed
        granted = set()  # ids of adjoint arrays already handed to a leaf as its .grad
        for node in reversed(order):
            adjoint = node.adjoint
            if adjoint is None:
                continue
            op = node._op
            if op is None:  # a leaf: accumulate, as PyTorch does
                if node.grad is not None:
                    node.grad = node.grad + adjoint
                elif isinstance(adjoint, np.ndarray):
                    # .grad must be a writeable array of its own; an adjoint may be a
                    # read-only broadcast view, a view of another array, or shared by
                    # several leaves (x + y passes one adjoint to both): copy only then
                    owned = adjoint.flags.writeable and adjoint.base is None
                    node.grad = adjoint if owned and id(adjoint) not in granted else np.array(adjoint)
                    granted.add(id(adjoint))
                else:
                    node.grad = adjoint
                continue
            if op in _CUSTOM_VJP:  # matmul and fused primitives with their own vjp
                contributions = _CUSTOM_VJP[op](node, adjoint)
            elif op in _STRUCTURAL:
                _, transpose = _STRUCTURAL[op]
                value, params = node._args
                contributions = ((node._p0, transpose(adjoint, value, **params)),)
            else:
                contributions = _elementwise_vjp(node, adjoint)
            for parent, gradient in contributions:
                previous = parent.adjoint
                parent.adjoint = gradient if previous is None else previous + gradient
        return None

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"Variable({_format_part(self.value)}{name})"


def topological_order(output):
    """Every node that ``output`` depends on, parents before children (iteratively).

    Nodes are numbered when they are created and an operation is always created
    after its inputs, so sorting the reachable nodes by that number is a valid
    topological order. Also resets each node's ``adjoint`` to None.
    """
    visit = next(_sweeps)  # marks the nodes found in this sweep (cheaper than a set of ids)
    nodes = [output]
    stack = [output]
    output.adjoint = None
    output._visit = visit

    def found(parent):  # the first time a sweep reaches a node
        parent._visit = visit
        parent.adjoint = None
        nodes.append(parent)
        stack.append(parent)

    while stack:
        node = stack.pop()
        # the three parent slots spelled out: a loop over them cost 40 % more here
        if node._p0 is not None and node._p0._visit != visit:
            found(node._p0)
        if node._p1 is not None and node._p1._visit != visit:
            found(node._p1)
        if node._p2 is not None and node._p2._visit != visit:
            found(node._p2)
    nodes.sort(key=_node_id)
    return nodes


_sweeps = _itertools.count(1)


def _variables_only(args):
    """(p0, p1, p2) for ``Variable._node``: each argument if it is a Variable, else None."""
    return [a if isinstance(a, Variable) else None for a in args]


def _node_id(node):
    return node._id


def _elementwise_vjp(node, adjoint):
    """Contributions adjoint * partial_i for each Variable argument i (one rule of RULES).

    Elementwise rules take one or two arguments, so only ``_p0`` and ``_p1`` can be
    set (spelled out: a loop over the parent slots made the backward sweep 1.6x slower).
    """
    partials = RULES[node._op][1]
    contributions = []
    if node._p0 is not None:
        contributions.append((node._p0, _times_partial(node, adjoint, partials[0], node._p0)))
    if node._p1 is not None:
        contributions.append((node._p1, _times_partial(node, adjoint, partials[1], node._p1)))
    return contributions


def _times_partial(node, adjoint, partial, parent):
    """adjoint * (one partial derivative of the node), summed back to the parent's shape."""
    if partial is ONE:
        gradient = adjoint
    elif partial is MINUS_ONE:
        gradient = -adjoint
    else:
        gradient = adjoint * partial(node.value, *node._args)
    if type(gradient) is not float and not (
        type(gradient) is np.ndarray and gradient.shape == parent._shape
    ):
        gradient = unbroadcast(gradient, parent._shape)
    return gradient


# Structural (linear) operations: forward map, and its transpose for the adjoint.
def _getitem_transpose(adjoint, value, index):
    gradient = np.zeros(np.shape(value))
    parts = index if isinstance(index, tuple) else (index,)
    if all((isinstance(p, (int, np.integer, slice)) and not isinstance(p, bool)) or p is None
           or p is Ellipsis for p in parts):
        gradient[index] += adjoint  # basic indexing selects each element at most once
    else:
        np.add.at(gradient, index, adjoint)  # fancy indexing: repeated indices accumulate
    return gradient


def _sum_transpose(adjoint, value, axis, keepdims):
    if axis is not None and not keepdims:
        adjoint = np.expand_dims(adjoint, axis)
    return np.broadcast_to(adjoint, np.shape(value))


def _mean_transpose(adjoint, value, axis, keepdims):
    count = np.size(value) / np.size(np.sum(value, axis=axis))
    return _sum_transpose(adjoint, value, axis, keepdims) / count


def _transpose_transpose(adjoint, value, axes):
    return np.transpose(adjoint, None if axes is None else np.argsort(axes))


_STRUCTURAL = {
    # name:       (forward(value, **params),                        adjoint(adjoint, value, **params))
    "getitem":   (lambda value, index: value[index],                 _getitem_transpose),
    "sum":       (lambda value, axis, keepdims: _plain(np.sum(value, axis=axis, keepdims=keepdims)),
                  _sum_transpose),
    "mean":      (lambda value, axis, keepdims: _plain(np.mean(value, axis=axis, keepdims=keepdims)),
                  _mean_transpose),
    "reshape":   (lambda value, shape: np.reshape(value, shape),
                  lambda adjoint, value, shape: np.reshape(adjoint, np.shape(value))),
    "transpose": (lambda value, axes: np.transpose(value, axes),     _transpose_transpose),
}


def _variable_matmul(a, b):
    a_value = a.value if isinstance(a, Variable) else np.asarray(a, dtype=float)
    b_value = b.value if isinstance(b, Variable) else np.asarray(b, dtype=float)
    return Variable._node(_plain(a_value @ b_value), "matmul", (a_value, b_value), *_variables_only((a, b)))


def _matmul_vjp(node, adjoint):
    """Adjoints of C = A @ B: dA = G @ B^T, dB = A^T @ G (with 1-D and batched cases)."""
    a, b = node._args
    g = np.asarray(adjoint)
    contributions = []
    for i, parent in node._parents:
        if i == 0:
            if b.ndim == 1:
                gradient = np.multiply.outer(g, b) if a.ndim > 1 else g * b
            elif a.ndim == 1:
                gradient = (b @ g[..., None])[..., 0]
            else:
                gradient = g @ np.swapaxes(b, -1, -2)
        else:
            if a.ndim == 1:
                # a[:, None] * g[..., None, :], not outer(a, g): g may carry batch axes
                gradient = a[:, None] * g[..., None, :] if b.ndim > 1 else g * a
            elif b.ndim == 1:
                gradient = (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
            else:
                gradient = np.swapaxes(a, -1, -2) @ g
        contributions.append((parent, unbroadcast(_plain(gradient), parent._shape)))
    return contributions


# Operations that are not elementwise rules of RULES nor linear maps of one
# argument, each with its vector-Jacobian product. Variable.backward() looks an
# operation's name up here first:
# _CUSTOM_VJP[name](node, adjoint) -> [(parent Variable, its gradient), ...].
# Section 6 adds fused primitives (cross_entropy, affine).
def _where_vjp(node, adjoint):
    mask = node._args[0]
    contributions = []
    if node._p1 is not None:  # a: where the mask holds
        contributions.append((node._p1, unbroadcast(_picked(np.where(mask, adjoint, 0.0)),
                                                     node._p1._shape)))
    if node._p2 is not None:  # b: elsewhere
        contributions.append((node._p2, unbroadcast(_picked(np.where(mask, 0.0, adjoint)),
                                                     node._p2._shape)))
    return contributions


_CUSTOM_VJP = {"matmul": _matmul_vjp, "where": _where_vjp}


def grad(f, argnums=0):
    """Return a function that computes the gradient of scalar ``f`` by reverse mode (JAX style).

    ``grad(f)(x, y)`` is df/dx; with ``argnums=(0, 1)`` it is the tuple (df/dx, df/dy).
    Arguments are floats or numpy arrays; gradients have their shapes.
    """
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)

    def gradient(*args):
        inputs = list(args)
        for i in positions:
            if i >= len(args):
                raise ValueError(f"argnums={argnums} but f was called with {len(args)} arguments")
            inputs[i] = Variable(args[i])
        output = f(*inputs)
        if not isinstance(output, Variable):
            raise TypeError(
                f"f must return a Variable that depends on its arguments, it returned "
                f"{type(output).__name__!r}"
            )
        output.backward()
        grads = tuple(
            inputs[i].grad if inputs[i].grad is not None else np.zeros_like(inputs[i].value)
            for i in positions
        )
        return grads[0] if single else grads

    return gradient


class GradCheck:
    """Result of ``check_grad``: the three gradients and their largest relative error."""

    def __init__(self, reverse, forward, central):
        self.reverse, self.forward, self.central = reverse, forward, central
        self.reverse_vs_forward = _relative_error(reverse, forward)
        self.reverse_vs_central = _relative_error(reverse, central)
        self.max_relative_error = max(self.reverse_vs_forward, self.reverse_vs_central)

    def __repr__(self):
        return (
            f"GradCheck(reverse vs forward: {self.reverse_vs_forward:.1e}, "
            f"reverse vs central differences: {self.reverse_vs_central:.1e})"
        )


def _relative_error(a, b):
    """max |a - b| / max |b| over all components (tiny gradients are compared absolutely)."""
    a = np.concatenate([np.ravel(x) for x in a])
    b = np.concatenate([np.ravel(x) for x in b])
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-300))


def check_grad(f, *args, h=1e-6):
    """Compare the gradient of scalar ``f(*args)`` from reverse mode, forward mode and
    central differences; return a ``GradCheck`` with the largest relative errors.

    Reverse mode: one backward sweep. Forward mode: one pass per input
    component with a unit tangent. Central differences with step
    h * max(1, |x_i|).
    """
    args = [np.array(a, dtype=float) if np.ndim(a) else float(a) for a in args]
    reverse = grad(f, argnums=tuple(range(len(args))))(*args)
    reverse = [np.asarray(g, dtype=float) for g in reverse]
    zeros = [0.0 * np.asarray(a) for a in args]
    forward, central = [], []
    for k, arg in enumerate(args):
        shape = np.shape(arg)
        fwd = np.zeros(shape)
        for i in np.ndindex(shape):
            unit = np.zeros(shape)
            unit[i] = 1.0
            unit = _plain(unit[()]) if shape == () else unit
            fwd[i] = jvp(f, tuple(args), tuple(zeros[:k] + [unit] + zeros[k + 1:]))[1]
        forward.append(fwd)

        def along_k(a, k=k):  # f as a function of argument k alone
            a = _plain(a[()]) if a.ndim == 0 else a
            return _value_of(f(*args[:k], a, *args[k + 1:]))

        central.append(numerical_gradient(along_k, arg, h=h, method="central"))
    return GradCheck(reverse, forward, central)


# -----------------------------------------------------------------------------
# 5.x Looking at a graph: the evaluation trace (Baydin et al., Table 3) and a drawing
# -----------------------------------------------------------------------------
# Nodes are numbered as in Baydin et al.: the n leaves v_{1-n}, ..., v_0 in the
# order they were created, then the operations v_1, v_2, ... in evaluation order.

_SUBSCRIPTS = str.maketrans("-0123456789", "\u208b\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089")
_BAR = "\u0304"  # combining macron: "v" + _BAR is v-bar, the adjoint

# How an operation is written in the primal trace ({0}, {1}: its arguments).
_PRIMAL_FORMS = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} × {1}", "divide": "{0} / {1}",
    "power": "{0}^{1}", "negative": "-{0}", "positive": "+{0}", "log": "ln {0}",
}
# The partial derivative d(out)/d(argument i) written with the argument labels
# ({0}, {1}) and the output's label ({out}); other operations show d out/d in.
_PARTIAL_FORMS = {
    "add": ("1", "1"), "subtract": ("1", "(-1)"), "multiply": ("{1}", "{0}"),
    "divide": ("1/{1}", "(-{out}/{1})"), "power": ("{1} × {0}^({1}-1)", "{out} × ln {0}"),
    "negative": ("(-1)",), "positive": ("1",), "log": ("1/{0}",), "sin": ("cos {0}",),
    "cos": ("(-sin {0})",), "tan": ("(1 + {out}²)",), "exp": ("{out}",),
    "sqrt": ("1/(2 {out})",), "tanh": ("(1 - {out}²)",), "square": ("2 {0}",),
    "reciprocal": ("(-{out}²)",), "arctan": ("1/(1 + {0}²)",),
}


def _format_number(x, decimals=3):
    """x rounded to ``decimals`` places without trailing zeros: 2.0 -> '2', 0.6931 -> '0.693'."""
    text = f"{float(x):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _operand(x):
    """A constant as an operand in a formula: negative numbers in parentheses."""
    if np.ndim(x) != 0:
        return repr(x)
    text = _format_number(x)
    return f"({text})" if text.startswith("-") else text


def local_gradients(node):
    """Return the local partial derivatives of a scalar node: a list of
    ``(parent, d node / d parent)``, one entry per Variable argument (an argument
    used twice, as in ``x * x``, appears twice). Leaves return [].

    The partials come from the same table of rules (``RULES``) that the
    backward sweep uses: they are the contributions of an adjoint equal to 1.
    """
    if node._op is None:
        return []
    if node._op not in RULES or node._shape != ():
        raise ValueError(
            f"local_gradients needs a scalar elementwise operation, got op {node._op!r} with "
            f"shape {node._shape}"
        )
    return [(parent, float(_value_of(g))) for parent, g in _elementwise_vjp(node, 1.0)]


def _numbered_graph(y):
    """Run a backward sweep from scalar ``y`` (leaves' ``.grad`` left as they were)
    and number its nodes; return (order, index) with index[id(node)] = k of v_k."""
    if not isinstance(y, Variable):
        raise TypeError(f"expected a Variable, got {type(y).__name__!r}")
    order = topological_order(y)
    for node in order:
        if node._shape != () or (node._op is not None and node._op not in RULES):
            raise ValueError(
                f"traces and drawings are for small scalar graphs; node {node!r} has op "
                f"{node._op!r} and shape {node._shape}"
            )
    leaves = [node for node in order if node._op is None]
    saved = [(leaf, leaf.grad) for leaf in leaves]
    y.backward()
    for leaf, previous in saved:  # the sweep is for display: do not accumulate .grad
        leaf.grad = previous
    index, next_op = {}, 1
    for k, leaf in enumerate(leaves):
        index[id(leaf)] = k + 1 - len(leaves)
    for node in order:
        if node._op is not None:
            index[id(node)] = next_op
            next_op += 1
    return order, index


def _arguments(node, label):
    """The arguments of ``node`` as (label of a parent node or formatted constant) strings."""
    parents = dict(node._parents)
    return [label(parents[i]) if i in parents else _operand(a) for i, a in enumerate(node._args)]


def _primal_formula(node, args):
    form = _PRIMAL_FORMS.get(node._op)
    if form is not None:
        return form.format(*args)
    return f"{node._op} {args[0]}" if len(args) == 1 else f"{node._op}({', '.join(args)})"


class TraceRow(tuple):
    """One line of a trace: ``target = formula = numbers = value`` (``numbers`` may be '')."""

    __slots__ = ()

    def __new__(cls, target, formula, numbers, value):
        return super().__new__(cls, (target, formula, numbers, float(value)))

    target = property(lambda self: self[0])
    formula = property(lambda self: self[1])
    numbers = property(lambda self: self[2])
    value = property(lambda self: self[3])


class Trace:
    """The evaluation trace of a small scalar graph, as in Table 3 of Baydin et al. (2018).

    ``primal``  -- rows of the forward primal trace: inputs v_{1-n}..v_0, then every
                   operation v_k = op(...) = value in evaluation order, then y = v_m;
    ``adjoint`` -- rows of the reverse adjoint trace: the seed, then for each node in
                   reverse order one row per parent, vbar_parent = vbar_node × partial
                   (``vbar_j = vbar_j + ...`` when v_j already had a contribution),
                   then the gradient with respect to each input;
    ``gradient`` -- dict input name (or label) -> dy/dx.
    ``str()`` is a text table, ``_repr_html_`` an HTML one (shown by Jupyter).
    """

    def __init__(self, primal, adjoint, gradient, decimals):
        self.primal, self.adjoint, self.gradient, self.decimals = primal, adjoint, gradient, decimals

    def _lines(self, rows):
        import unicodedata

        def width(text):  # display width: combining characters take no room
            return sum(1 for c in text if not unicodedata.combining(c))

        def pad(text, n):
            return text + " " * (n - width(text))

        cells = [(r.target, r.formula, r.numbers, _format_number(r.value, self.decimals)) for r in rows]
        widths = [max(width(c[j]) for c in cells) for j in range(3)]
        lines = []
        for target, formula, numbers, value in cells:
            parts = [pad(target, widths[0]), "=", pad(formula, widths[1])]
            if any(c[2] for c in cells):
                parts += ["=" if numbers else " ", pad(numbers, widths[2])]
            lines.append(" ".join(parts + ["=", value]).rstrip())
        return lines

    def __str__(self):
        return "\n".join(
            ["Forward primal trace"] + self._lines(self.primal)
            + ["", "Reverse adjoint trace"] + self._lines(self.adjoint)
        )

    __repr__ = __str__

    def _repr_html_(self):
        import html

        def cell(text, align="left"):  # explicit: notebook CSS right-aligns table cells
            return f'<td style="text-align:{align}">{text}</td>'

        def body(title, rows):
            out = [f'<tr><th colspan="4" style="text-align:left">{title}</th></tr>']
            for r in rows:
                numbers = f"= {html.escape(r.numbers)}" if r.numbers else ""
                out.append(
                    "<tr>" + cell(html.escape(r.target), "right") + cell(f"= {html.escape(r.formula)}")
                    + cell(numbers) + cell(f"= {_format_number(r.value, self.decimals)}") + "</tr>"
                )
            return "".join(out)

        return (
            '<table style="font-family:monospace">'
            + body("Forward primal trace", self.primal)
            + body("Reverse adjoint trace", self.adjoint)
            + "</table>"
        )


def trace_table(y, output_name="y", decimals=3):
    """Return the ``Trace`` (primal and adjoint trace) of the scalar graph ending at ``y``.

    Runs one backward sweep from ``y`` to fill every node's ``.adjoint`` (the
    leaves' ``.grad`` are left as they were) and lists each step the way
    Table 3 of Baydin et al. does: leaves are v_{1-n}..v_0 in creation order
    (named by their ``.name``), operations v_1, v_2, ... in evaluation order.
    In the adjoint trace a node used by two operations gets two rows, the
    second one ``vbar_j = vbar_j + vbar_i × d v_i / d v_j``. Values are printed
    with ``decimals`` places; the rows keep full floats.
    """
    order, index = _numbered_graph(y)

    def label(node, bar=False):
        return "v" + (_BAR if bar else "") + str(index[id(node)]).translate(_SUBSCRIPTS)

    primal, adjoint = [], []
    for node in order:
        if node._op is None:
            primal.append(TraceRow(label(node), node.name or "", "", node.value))
            continue
        args = _arguments(node, label)
        numbers = [_operand(a) for a in node._args]
        primal.append(TraceRow(label(node), _primal_formula(node, args),
                               _primal_formula(node, numbers), node.value))
    primal.append(TraceRow(output_name, label(y), "", y.value))

    bar = output_name + _BAR if len(output_name) == 1 else f"{output_name}bar"
    adjoint.append(TraceRow(label(y, bar=True), bar, "", y.adjoint))
    running = {id(y): y.adjoint}
    for node in reversed(order):
        if node._op is None:
            continue
        args = _arguments(node, label)
        forms = _PARTIAL_FORMS.get(node._op)
        for (i, parent), (_, partial) in zip(node._parents, local_gradients(node)):
            if forms is not None:
                symbol = forms[i].format(*args, out=label(node))
            else:
                symbol = f"∂{label(node)}/∂{label(parent)}"
            term = f"{label(node, bar=True)} × {symbol}"
            numbers = f"{_format_number(node.adjoint)} × {_operand(partial)}"
            contribution = node.adjoint * partial
            if id(parent) in running:
                running[id(parent)] += contribution
                term = f"{label(parent, bar=True)} + {term}"
                numbers = f"{_format_number(running[id(parent)] - contribution)} + {numbers}"
            else:
                running[id(parent)] = contribution
            adjoint.append(TraceRow(label(parent, bar=True), term, numbers, running[id(parent)]))
    gradient = {}
    for node in order:
        if node._op is None:
            name = node.name or label(node)
            gradient[name] = running.get(id(node), 0.0)
            adjoint.append(TraceRow(f"∂{output_name}/∂{name}", label(node, bar=True), "",
                                    gradient[name]))
    return Trace(primal, adjoint, gradient, decimals)


def draw_graph(y, ax=None, decimals=3, edge_labels=True):
    """Draw the computational graph of the scalar expression ``y`` with matplotlib.

    Runs a backward sweep from ``y`` (as ``trace_table`` does: ``.grad`` of the
    leaves is left unchanged). Each node is a box with its label v_k and its
    operation or name, its value and its adjoint vbar_k; each edge is an arrow
    from a parent to the operation that uses it, labelled with the local
    partial derivative when ``edge_labels``. Layout: column = depth (the
    longest path from a leaf), inputs on the left, ``y`` on the right.

    Returns the Axes; node boxes are ``ax.texts`` with gid "node", arrows are
    ``ax.patches`` with gid "edge", edge labels are texts with gid "edge label".
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    order, index = _numbered_graph(y)
    depth = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for _, p in node._parents), default=-1)
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    position = {}
    for column, nodes in sorted(columns.items()):
        if column > 0:  # order a column by the mean height of each node's parents
            nodes.sort(key=lambda n: -np.mean([position[id(p)][1] for _, p in n._parents]))
        for row, node in enumerate(nodes):
            position[id(node)] = (2.0 * column, (len(nodes) - 1) / 2 - row)
    n_rows = max(len(n) for n in columns.values())
    if ax is None:
        width = min(3.0 + 2.6 * len(columns), 12.0)
        height = min(1.5 + 1.5 * n_rows, 7.0)
        ax = plt.figure(figsize=(width, height)).add_subplot()
    # at 13 pt a column (box and arrow) needs about 1.9 inches and a row about 1 inch
    # (the limits below add a column's and 0.8 row's margin): shrink the text to fit
    box = ax.get_position()
    inches = ax.figure.get_size_inches()
    scale = min(1.0, box.width * inches[0] / (1.9 * len(columns)),
                box.height * inches[1] / (1.0 * (n_rows + 0.6)))

    boxes = {}
    for node in order:
        k = index[id(node)]
        what = (node.name or "input") if node._op is None else node._op
        lines = [f"$v_{{{k}}}$: {what}", f"value {_format_number(node.value, decimals)}"]
        if node.adjoint is not None:
            lines.append(rf"$\bar{{v}}_{{{k}}}$ = {_format_number(node.adjoint, decimals)}")
        colour = "#dbe9f6" if node._op is None else ("#fde0c5" if node is y else "#eeeeee")
        boxes[id(node)] = ax.text(
            *position[id(node)], "\n".join(lines), ha="center", va="center", fontsize=13 * scale,
            gid="node", zorder=3,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "0.3"},
        )
    for node in order:
        if node._op is None:
            continue
        seen = {}
        for (_, parent), (_, partial) in zip(node._parents, local_gradients(node)):
            repeat = seen[id(parent)] = seen.get(id(parent), -1) + 1
            start, end = position[id(parent)], position[id(node)]
            bend = 0.0 if repeat == 0 else 0.35 * (-1) ** repeat
            ax.add_patch(FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=18 * max(scale, 0.6), color="0.35", lw=1.5,
                connectionstyle=f"arc3,rad={bend}", patchA=boxes[id(parent)].get_bbox_patch(),
                # above the boxes: an arrow is clipped to box outlines placed when they draw
                patchB=boxes[id(node)].get_bbox_patch(), gid="edge", zorder=4,
            ))
            if edge_labels:
                # midpoint of the arc3 curve: the chord's midpoint moved by bend/2 times
                # the chord turned by -90 degrees
                dx, dy = end[0] - start[0], end[1] - start[1]
                middle = (0.5 * (start[0] + end[0]) + 0.5 * bend * dy,
                          0.5 * (start[1] + end[1]) - 0.5 * bend * dx)
                ax.text(*middle, _format_number(partial, decimals), fontsize=11 * scale, color="tab:blue",
                        ha="center", va="center", gid="edge label", zorder=5,
                        bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"})
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return ax

# -- end of section 5 --

# =============================================================================
# 6. Neural networks and the Ising model (notebook 06)
# =============================================================================

# -----------------------------------------------------------------------------
# 6.1 Fused primitives: one graph node with a hand-written vjp
# -----------------------------------------------------------------------------
# When a whole function has a short closed-form vector-Jacobian product, it can
# be one node of the graph instead of a chain of small ones (fewer nodes, fewer
# temporaries): it registers its vjp in _CUSTOM_VJP (section 5).


def _cross_entropy_vjp(node, adjoint):
    # d/dz_nk of -(1/N) sum_n log softmax(z_n)[y_n] is (softmax(z_n)_k - [k == y_n]) / N
    probabilities, labels = node._args
    gradient = probabilities.copy()
    gradient[np.arange(len(labels)), labels] -= 1.0
    gradient *= adjoint / len(labels)
    return ((node._p0, gradient),)  # node._p0: the logits


_CUSTOM_VJP["cross_entropy"] = _cross_entropy_vjp


def affine(x, weight, bias):
    """Return x @ weight + bias, recorded as one graph node when x is a (batch, n_in)
    array or Variable (as PyTorch's ``linear``); its vjp is
    dx = g @ W^T, dW = x^T @ g, db = sum of g over the batch.

    With Duals (forward mode through a network) or other shapes it is simply
    ``x @ weight + bias``.
    """
    parts = (x, weight, bias)
    if any(isinstance(a, Dual) for a in parts):
        return x @ weight + bias
    values = [a.value if isinstance(a, Variable) else np.asarray(a, dtype=float) for a in parts]
    if values[0].ndim != 2 or values[1].ndim != 2 or values[2].ndim != 1:
        return x @ weight + bias
    out = values[0] @ values[1]
    out += values[2]
    if not any(isinstance(a, Variable) for a in parts):
        return out
    return Variable._node(out, "affine", tuple(values), *_variables_only(parts))


def _affine_vjp(node, adjoint):
    x, weight, _ = node._args
    contributions = []  # only for the arguments that are Variables (x is often data)
    if node._p0 is not None:
        contributions.append((node._p0, adjoint @ weight.T))
    if node._p1 is not None:
        contributions.append((node._p1, x.T @ adjoint))
    if node._p2 is not None:
        contributions.append((node._p2, adjoint.sum(axis=0)))
    return contributions


_CUSTOM_VJP["affine"] = _affine_vjp


# -----------------------------------------------------------------------------
# 6.2 Activations and losses
# -----------------------------------------------------------------------------

def relu(x):
    """Rectified linear unit max(x, 0), elementwise (derivative 1/2 at x = 0, see RULES)."""
    return np.maximum(x, 0.0)


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), written as (1 + tanh(x/2)) / 2: no overflow."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


ACTIVATIONS = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid}


def _check_labels(labels, logits_shape):
    """Class labels as an int array of shape (N,), checked against logits of shape (N, C)."""
    if len(logits_shape) != 2:
        raise ValueError(
            f"cross_entropy expects logits of shape (batch, classes), got shape {logits_shape}"
        )
    n_rows, n_classes = logits_shape
    labels = np.asarray(_value_of(labels))
    if labels.shape != (n_rows,):
        raise ValueError(
            f"labels have shape {labels.shape} but logits have shape {logits_shape}: expected "
            f"labels of shape ({n_rows},), one class index per row"
        )
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind not in "bf" or not np.all(labels == np.round(labels)):
            raise ValueError(
                f"labels must be integer class indices 0..{n_classes - 1}, got {labels.dtype} "
                f"values such as {labels.ravel()[:3]}"
            )
        labels = labels.astype(np.intp)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for logits of shape {logits_shape}, got "
            f"values from {labels.min()} to {labels.max()}"
        )
    return labels


def cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer class labels:

        L = -(1/N) sum_n log softmax(z_n)[y_n],
        log softmax(z)_k = (z_k - max z) - log sum_j exp(z_j - max z).

    ``logits`` has shape (N, C), ``labels`` shape (N,) with values 0..C-1.
    Subtracting the row maximum keeps every exponential <= 1, so logits of 1e3
    neither overflow nor give nan. On a Variable the loss is ONE graph node
    whose vjp is (softmax(z) - onehot(y)) / N (see _CUSTOM_VJP); on anything
    else (arrays, Duals) the same formula is built from differentiable
    primitives. Returns a float (or a scalar Variable / Dual).
    """
    shape = np.shape(_value_of(logits))
    labels = _check_labels(labels, shape)
    rows = np.arange(shape[0])
    if type(logits) is Variable:
        shifted = logits.value - logits.value.max(axis=1, keepdims=True)
        exponentials = np.exp(shifted)
        totals = exponentials.sum(axis=1, keepdims=True)
        loss = float((np.log(totals[:, 0]) - shifted[rows, labels]).sum()) / shape[0]
        probabilities = exponentials / totals
        return Variable._node(loss, "cross_entropy", (probabilities, labels), logits)
    shift = np.max(_value_of(logits), axis=1, keepdims=True)  # a constant: L does not depend on it
    shifted = logits - shift
    loss = np.mean(np.log(np.sum(np.exp(shifted), axis=1)) - shifted[rows, labels])
    return _plain(loss)


def mse_loss(prediction, target):
    """Mean squared error (1/n) sum_i (prediction_i - target_i)**2 over all elements."""
    shape, target_shape = np.shape(_value_of(prediction)), np.shape(_value_of(target))
    if shape != target_shape:
        raise ValueError(
            f"mse_loss needs prediction and target of one shape, got {shape} and {target_shape}"
        )
    difference = prediction - target
    return _plain(np.mean(difference * difference))


# -----------------------------------------------------------------------------
# 6.3 Modules: Linear layers and multilayer perceptrons (shaped like torch.nn)
# -----------------------------------------------------------------------------

def _collect_parameters(value, found, seen):
    if isinstance(value, Variable):
        if id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    elif isinstance(value, Module):
        for item in vars(value).values():
            _collect_parameters(item, found, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_parameters(item, found, seen)


def _substitute_parameters(value, replacement):
    if isinstance(value, Variable):
        return replacement[id(value)]
    if isinstance(value, Module):
        copy = object.__new__(type(value))
        copy.__dict__.update(
            {key: _substitute_parameters(item, replacement) for key, item in vars(value).items()}
        )
        return copy
    if isinstance(value, (list, tuple)):
        return type(value)(_substitute_parameters(item, replacement) for item in value)
    return value


class Module:
    """A piece of a network, shaped like PyTorch's ``torch.nn.Module``.

    A subclass stores its trainable parameters as ``Variable`` attributes (or
    sub-modules, or lists of them) and defines ``forward(x)``; ``net(x)`` calls
    it. ``parameters()`` finds every parameter, in attribute order.
    """

    def parameters(self):
        """The list of trainable parameters (leaf Variables), each once."""
        found = []
        _collect_parameters(self, found, set())
        return found

    def zero_grad(self):
        """Set ``.grad`` of every parameter to None."""
        for parameter in self.parameters():
            parameter.zero_grad()

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x):
        return self.forward(x)

    def call_with(self, parameters, x):
        """``self(x)`` with the parameters replaced by ``parameters`` (arrays, Duals or
        Variables, in the order of ``parameters()``): the network as a plain function
        of its parameters, e.g. for ``check_grad``."""
        own = self.parameters()
        parameters = list(parameters)
        if len(parameters) != len(own):
            raise ValueError(
                f"{type(self).__name__} has {len(own)} parameters, got {len(parameters)}"
            )
        for mine, given in zip(own, parameters):
            if np.shape(_value_of(given)) != mine.shape:
                raise ValueError(
                    f"parameter of shape {mine.shape} replaced by one of shape "
                    f"{np.shape(_value_of(given))}"
                )
        replacement = {id(mine): given for mine, given in zip(own, parameters)}
        return _substitute_parameters(self, replacement).forward(x)


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class Linear(Module):
    """An affine layer y = x @ W + b with W of shape (n_in, n_out) and b of shape (n_out,).

    ``x`` has shape (batch, n_in) (or (n_in,)). Initialised like PyTorch:
    W and b uniform in [-1/sqrt(n_in), 1/sqrt(n_in)], from ``rng`` (a seed or a
    numpy Generator).
    """

    def __init__(self, n_in, n_out, rng=0):
        self.n_in = _positive_int(n_in, "n_in")
        self.n_out = _positive_int(n_out, "n_out")
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(self.n_in)
        self.weight = Variable(rng.uniform(-bound, bound, (self.n_in, self.n_out)), name="weight")
        self.bias = Variable(rng.uniform(-bound, bound, self.n_out), name="bias")

    def forward(self, x):
        shape = np.shape(_value_of(x))
        if not shape or shape[-1] != self.n_in:
            raise ValueError(
                f"Linear({self.n_in}, {self.n_out}) expects input of shape (batch, {self.n_in}), "
                f"got shape {shape}"
            )
        return affine(x, self.weight, self.bias)

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


class MLP(Module):
    """A multilayer perceptron: Linear layers of the given ``sizes`` with
    ``activation`` (a name in ACTIVATIONS or a function) between them and none
    after the last one, so the output is the logits (or a regression value).

    ``MLP([2, 16, 16, 2])`` maps (batch, 2) inputs to (batch, 2) outputs.
    """

    def __init__(self, sizes, activation="tanh", rng=0):
        sizes = [_positive_int(size, "every layer size") for size in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got sizes={sizes}")
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(
                    f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}"
                )
            activation = ACTIVATIONS[activation]
        self.sizes = sizes
        self.activation = activation
        rng = np.random.default_rng(rng)
        self.layers = [Linear(n_in, n_out, rng=rng) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)

    def __repr__(self):
        name = getattr(self.activation, "__name__", self.activation)
        return f"MLP({self.sizes}, activation={name})"


# -----------------------------------------------------------------------------
# 6.4 Optimizers
# -----------------------------------------------------------------------------

class Optimizer:
    """Holds a list of parameters (leaf Variables); ``zero_grad()`` clears their
    gradients, ``step()`` moves them using ``.grad`` (parameters without a
    gradient are left alone)."""

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got an empty list of parameters")
        for p in self.params:
            if not isinstance(p, Variable) or p._op is not None:
                raise TypeError(f"parameters must be leaf Variables, got {p!r}")
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, got lr={lr!r}")
        self.lr = lr

    def zero_grad(self):
        """Set ``.grad`` of every parameter to None."""
        for p in self.params:
            p.zero_grad()

    def step(self):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: theta <- theta - lr * g, or with momentum mu
    (PyTorch's form) v <- mu v + g, theta <- theta - lr v."""

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.velocities = [0.0] * len(self.params)

    def step(self):
        """One update of every parameter that has a gradient."""
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.momentum:
                g = self.velocities[i] = self.momentum * self.velocities[i] + g
            p.value -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): running means of g and g**2 with bias correction,
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g**2,
        theta <- theta - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas, self.eps = tuple(betas), eps
        self.moments = [(0.0, 0.0)] * len(self.params)
        self.t = 0

    def step(self):
        """One update of every parameter that has a gradient."""
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        eps = self.eps * np.sqrt(1.0 - b2**self.t)  # the same update as eps added to sqrt(v_hat)
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            m, v = self.moments[i]
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * g * g
            self.moments[i] = (m, v)
            p.value -= step_size * m / (np.sqrt(v) + eps)


# -----------------------------------------------------------------------------
# 6.5 The 2-D Ising model: checkerboard Metropolis over many chains at once
# -----------------------------------------------------------------------------
# H = -J sum_<ij> s_i s_j on an L x L periodic lattice (J = 1, k_B = 1). The
# sites with i + j even have only odd neighbours and vice versa, so each half
# can be updated at once. With L even, the lattice splits into four
# sublattices A = s[0::2, 0::2], B = s[0::2, 1::2], C = s[1::2, 0::2],
# D = s[1::2, 1::2]; A and D have only B and C as neighbours.

ONSAGER_TC = 2.0 / np.log(1.0 + np.sqrt(2.0))  # exact critical temperature, 2.269185...


def ising_energy(spins):
    """Energy per spin e = -(1/L^2) sum_i s_i (s_right + s_down) of each configuration
    in ``spins`` (shape (..., L, L), periodic boundaries)."""
    s = np.asarray(spins, dtype=float)
    bonds = s * (np.roll(s, -1, axis=-1) + np.roll(s, -1, axis=-2))
    return -bonds.mean(axis=(-2, -1))


def ising_magnetization(spins):
    """Magnetization per spin m = (1/L^2) sum_i s_i of each configuration (shape (..., L, L))."""
    return np.asarray(spins, dtype=float).mean(axis=(-2, -1))


def _metropolis_update(s, neighbours, two_beta, rng):
    # flip each spin with probability min(1, exp(-dE/T)), dE = 2 s h (h = sum of neighbours)
    local = s * neighbours
    accept = rng.random(s.shape, dtype=np.float32) < np.exp(two_beta * -local.astype(np.float32))
    np.negative(s, out=s, where=accept)


def _checkerboard_sweeps(parts, two_beta, n_sweeps, rng):
    a, b, c, d = parts
    roll = np.roll
    for _ in range(n_sweeps):
        _metropolis_update(a, b + roll(b, 1, -1) + c + roll(c, 1, -2), two_beta, rng)
        _metropolis_update(d, c + roll(c, -1, -1) + b + roll(b, -1, -2), two_beta, rng)
        _metropolis_update(b, a + roll(a, -1, -1) + d + roll(d, 1, -2), two_beta, rng)
        _metropolis_update(c, d + roll(d, 1, -1) + a + roll(a, -1, -2), two_beta, rng)


_SUBLATTICES = ((0, 0), (0, 1), (1, 0), (1, 1))  # A, B, C, D: offsets (row, column)


def _split(spins):
    return [np.ascontiguousarray(spins[..., i::2, j::2]) for i, j in _SUBLATTICES]


def _join(parts):
    a = parts[0]
    spins = np.empty(a.shape[:-2] + (2 * a.shape[-2], 2 * a.shape[-1]), dtype=np.int8)
    for part, (i, j) in zip(parts, _SUBLATTICES):
        spins[..., i::2, j::2] = part
    return spins


def _two_beta(temperatures, batch_shape):
    temperatures = np.asarray(temperatures, dtype=float)
    if np.any(~(temperatures > 0)):
        raise ValueError(f"temperatures must be positive, got {temperatures}")
    try:
        two_beta = np.broadcast_to(2.0 / temperatures, batch_shape)
    except ValueError:
        raise ValueError(
            f"temperatures of shape {temperatures.shape} do not broadcast to the batch shape "
            f"{batch_shape} of the configurations"
        ) from None
    return two_beta.astype(np.float32)[..., None, None]


def ising_metropolis(spins, temperatures, n_sweeps, rng=0):
    """Return the configurations after ``n_sweeps`` checkerboard Metropolis sweeps.

    ``spins``: integer array of +-1 of shape (..., L, L), L even, periodic
    boundaries, one independent chain per configuration; ``temperatures``
    broadcast to the batch shape ``spins.shape[:-2]``. One sweep proposes a
    flip of every spin once (half the lattice at a time) and accepts it with
    probability min(1, exp(-2 s_i h_i / T)). ``rng`` is a seed or a Generator.
    """
    spins = np.asarray(spins)
    if spins.ndim < 2 or spins.shape[-1] != spins.shape[-2] or spins.shape[-1] % 2:
        raise ValueError(f"spins must have shape (..., L, L) with L even, got shape {spins.shape}")
    if not np.all(np.abs(spins) == 1):
        raise ValueError("spins must all be +1 or -1")
    two_beta = _two_beta(temperatures, spins.shape[:-2])
    parts = _split(spins.astype(np.int8))
    _checkerboard_sweeps(parts, two_beta, n_sweeps, np.random.default_rng(rng))
    return _join(parts)


def ising_configurations(L, temperatures, n_chains, n_sweeps, n_samples=1, sample_every=10,
                         start="ordered", rng=0):
    """Equilibrium configurations of the 2-D Ising model at each temperature.

    Runs ``n_chains`` independent chains per temperature (all at once), first
    ``n_sweeps`` sweeps to equilibrate, then keeps ``n_samples`` snapshots
    ``sample_every`` sweeps apart. ``start="ordered"`` begins each chain with
    all spins +1 or all -1 (random sign), ``"random"`` with independent +-1.
    Returns int8 spins of shape (len(temperatures), n_samples * n_chains, L, L),
    snapshots in time order (the first n_chains are the first snapshot).
    """
    L = _positive_int(L, "L")
    if L % 2:
        raise ValueError(f"the checkerboard update needs an even L, got L={L}")
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=float))
    shape = (len(temperatures), n_chains)
    rng = np.random.default_rng(rng)
    if start == "ordered":
        spins = np.broadcast_to(rng.choice(np.array([-1, 1], np.int8), size=shape)[..., None, None],
                                shape + (L, L))
    elif start == "random":
        spins = rng.choice(np.array([-1, 1], np.int8), size=shape + (L, L))
    else:
        raise ValueError(f"start must be 'ordered' or 'random', got {start!r}")
    two_beta = _two_beta(temperatures[:, None], shape)
    parts = _split(spins)
    _checkerboard_sweeps(parts, two_beta, n_sweeps, rng)
    snapshots = []
    for k in range(n_samples):
        if k:
            _checkerboard_sweeps(parts, two_beta, sample_every, rng)
        snapshots.append(_join(parts))
    return np.concatenate(snapshots, axis=1)

# -- end of section 6 --

# =============================================================================
# 7. Beyond first derivatives (notebook 07)
# =============================================================================

def hvp(f, x, v):
    """Return the Hessian-vector product H(x) v of a scalar function of a 1-D array.

    One forward sweep with duals whose parts are Variables gives the
    directional derivative grad f(x)·v as a node of a graph; one backward sweep
    of that node gives its gradient, H v. The cost is a small constant times
    the cost of f, whatever the dimension. (The forward sweep runs first and
    the reverse sweep differentiates its tangent; JAX's cookbook calls this
    composition reverse-over-forward.)
    """
    x = np.asarray(x, dtype=float)
    v = np.asarray(v, dtype=float)
    if x.ndim != 1 or x.shape != v.shape:
        raise ValueError(f"x and v must be 1-D arrays of one shape, got {x.shape} and {v.shape}")
    point = Variable(x.copy())
    tag = next(_tags)
    result = _call_in_scope(tag, f, Dual(point, v, tag))
    directional = _tangent_part(result, tag, 0.0)
    if not isinstance(directional, Variable):
        return np.zeros_like(x)  # grad f · v does not depend on x: f is at most linear along v
    if directional.shape != ():
        raise ValueError(f"f must return a scalar, it returned shape {directional.shape}")
    directional.backward()
    return np.zeros_like(x) if point.grad is None else np.array(point.grad, dtype=float)


def hessian(f, x):
    """Return the Hessian matrix of a scalar function of a 1-D array: column i is
    ``hvp(f, x, e_i)``, so n Hessian-vector products for n inputs."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array, got shape {x.shape}")
    return np.column_stack([hvp(f, x, unit) for unit in np.eye(x.size)]) if x.size else np.zeros((0, 0))


# -----------------------------------------------------------------------------
# 7.2 Newton's method in n dimensions with the AD Hessian
# -----------------------------------------------------------------------------

def rosenbrock(x):
    """Return the (extended) Rosenbrock function of a 1-D array of length n >= 2,

        f(x) = sum_{i=1}^{n-1} [ 100 (x_{i+1} - x_i**2)**2 + (1 - x_i)**2 ],

    a curved narrow valley with its global minimum f = 0 at x = (1, ..., 1).
    Written with slices and ``.sum(axis=0)``, so it works on arrays, Duals and
    Variables, and on many points at once: x of shape (n, ...) gives shape (...)
    (e.g. ``rosenbrock(np.array([a, b]))`` on a grid a, b).
    """
    head, tail = x[:-1], x[1:]
    return (100.0 * (tail - head * head) ** 2 + (1.0 - head) ** 2).sum(axis=0)


def newton_minimize(f, x0, n_steps=100, tol=1e-12):
    """Return the path of Newton's method for a minimum of scalar ``f`` of a 1-D array:

        x_{k+1} = x_k - H(x_k)^{-1} grad f(x_k),

    with the gradient from reverse mode (``grad``) and the Hessian from
    ``hessian`` (n Hessian-vector products). Pure Newton steps, no line search.
    Stops after ``n_steps`` steps or once a step is shorter than
    ``tol * (1 + |x_k|)``. Row k of the result (shape (k + 1, n)) is x_k.
    """
    gradient = grad(f)
    x = np.array(x0, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x0 must be a 1-D array, got shape {x.shape}")
    path = [x]
    for _ in range(n_steps):
        step = np.linalg.solve(hessian(f, x), np.asarray(gradient(x), dtype=float))
        x = x - step
        path.append(x)
        if np.linalg.norm(step) <= tol * (1.0 + np.linalg.norm(x)):
            break
    return np.array(path)


def iterations_to_converge(path, target, tol):
    """Return the first k with |x_k - target| <= tol along ``path`` (rows x_0, x_1, ...),
    or None if the path never gets that close."""
    distance = np.linalg.norm(np.asarray(path, dtype=float) - np.asarray(target, dtype=float), axis=1)
    close = np.flatnonzero(distance <= tol)
    return int(close[0]) if close.size else None


# -----------------------------------------------------------------------------
# 7.3 Derivatives with respect to a network's input: a physics-informed loss
# -----------------------------------------------------------------------------

def value_and_derivatives(f, t):
    """Return (f(t), f'(t), f''(t)) from one forward sweep with nested duals.

    ``t`` is a float or an array of points (``f`` acts elementwise on it); the
    sweep runs on the nested dual (t + 1·d1) + (1 + 0·d1)·d2, whose
    coefficient of d1·d2 is f''. If ``f`` holds Variables (a network's weights),
    the three results are Variables: a loss built from them can be
    back-propagated to the weights.
    """
    inner, outer = next(_tags), next(_tags)  # the outer perturbation is the newer one
    shape = np.shape(t)
    one = np.ones(shape) if shape else 1.0
    result = _call_in_scope(outer, f, Dual(Dual(t, one, inner), Dual(one, 0.0 * one, inner), outer))
    value_part = _primal_part(result, outer)  # f(t + d1) = f + f' d1
    slope_part = _tangent_part(result, outer, t)  # f'(t + d1) = f' + f'' d1
    return (_primal_part(value_part, inner), _tangent_part(value_part, inner, t),
            _tangent_part(slope_part, inner, t))


def oscillator_loss(u, t, omega=1.0, gamma=0.0, u0=1.0, v0=0.0):
    """Return the physics-informed loss of a trial solution ``u(t)`` of the oscillator

        u'' + 2 gamma u' + omega**2 u = 0,   u(t_0) = u0,   u'(t_0) = v0,

    as mean over ``t`` of residual**2 + (u(t_0) - u0)**2 + (u'(t_0) - v0)**2,
    where t_0 = t[0] (the first collocation point is the initial time).
    u, u' and u'' come from :func:`value_and_derivatives`; if ``u`` holds
    Variables the loss is a Variable whose ``backward()`` gives the gradient
    with respect to them. Returns (loss, residual).
    """
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"t must be a 1-D array of collocation points, got shape {t.shape}")
    value, first, second = value_and_derivatives(u, t)
    residual = second + 2.0 * gamma * first + omega**2 * value
    loss = (residual * residual).mean() + (value[0] - u0) ** 2 + (first[0] - v0) ** 2
    return loss, residual

# -- end of section 7 --


# -- exercises: checkers that say what is wrong (ad_course/exercises.py) ------------
from ad_course.exercises import (  # noqa: E402, F401  (re-exported for the notebooks)
    Verdict,
    check_backward,
    check_layer_gradient,
    check_optimal_step,
    check_tangent_rule,
)
