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

import itertools as _itertools
import numbers as _numbers
import operator as _operator

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
    return gradient_descent(
        lambda x: -np.asarray(grad(x), dtype=float), start, learning_rate, n_steps
    )


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


def format_comparison(values: dict, reference: str) -> str:
    """Return a table of named numbers at full precision with their differences.

    One line per entry of ``values`` (name -> number): the name, ``repr`` of
    the float (the shortest string that reads back to the same float) and the
    difference value - values[reference] in ``%.3e``.
    """
    exact = float(values[reference])
    width = max(len(name) for name in values)
    lines = [f"{'method':<{width}}  {'value':<22}  difference to {reference}"]
    for name, value in values.items():
        value = float(value)
        lines.append(f"{name:<{width}}  {value!r:<22}  {value - exact:+.3e}")
    return "\n".join(lines)


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
    ax.clabel(contours, fontsize=10, fmt="%.2g")
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
        self.counter.counts[ufunc.__name__] += 1
        result = ufunc(*[float(a) for a in inputs])
        return CountingFloat(result, self.counter) if isinstance(result, float) else result

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
    counter = OperationCounter()
    f(Dual(counter.number(x), counter.number(1.0)))
    return counter.total


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
        name: np.array([abs(float(method(f, x, h)) - exact) for h in steps])
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
    return b * a ** (b - 1)


def _tie_half(a, b):
    # 1/2 where a == b: the documented convention at a tie of maximum/minimum,
    # so that maximum(x, x) = x has derivative 1.
    return 0.5 * (_value_of(a) == _value_of(b))


RULES = {
    # name:        (evaluate,            partials with respect to each argument)
    "add":         (_operator.add,       (ONE, ONE)),
    "subtract":    (_operator.sub,       (ONE, MINUS_ONE)),
    "multiply":    (_operator.mul,       (lambda ans, a, b: b, lambda ans, a, b: a)),
    "divide":      (_operator.truediv,   (lambda ans, a, b: 1 / b, lambda ans, a, b: -ans / b)),
    "power":       (_operator.pow,       (_power_partial_base, lambda ans, a, b: ans * np.log(a))),
    "negative":    (_operator.neg,       (MINUS_ONE,)),
    "positive":    (_operator.pos,       (ONE,)),
    "absolute":    (abs,                 (lambda ans, x: np.sign(_value_of(x)),)),  # abs'(0) = 0
    "square":      (np.square,           (lambda ans, x: 2 * x,)),
    "reciprocal":  (np.reciprocal,       (lambda ans, x: -ans * ans,)),
    "sqrt":        (np.sqrt,             (lambda ans, x: 0.5 / ans,)),
    "cbrt":        (np.cbrt,             (lambda ans, x: 1 / (3 * ans * ans),)),
    "exp":         (np.exp,              (lambda ans, x: ans,)),
    "exp2":        (np.exp2,             (lambda ans, x: ans * np.log(2.0),)),
    "expm1":       (np.expm1,            (lambda ans, x: ans + 1,)),
    "log":         (np.log,              (lambda ans, x: 1 / x,)),
    "log2":        (np.log2,             (lambda ans, x: 1 / (x * np.log(2.0)),)),
    "log10":       (np.log10,            (lambda ans, x: 1 / (x * np.log(10.0)),)),
    "log1p":       (np.log1p,            (lambda ans, x: 1 / (1 + x),)),
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
    "arctanh":     (np.arctanh,          (lambda ans, x: 1 / (1 - x * x),)),
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
_CONSTANT_UFUNCS = (
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.greater, np.greater_equal,
    np.less, np.less_equal, np.equal, np.not_equal, np.isfinite, np.isnan, np.isinf,
    np.signbit, np.logical_and, np.logical_or, np.logical_not,
)


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
    if isinstance(x, (Dual, Variable)):
        return x
    if isinstance(x, _numbers.Number):
        return x
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind in "biufc" else None
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


class Dual:
    """A dual number ``val + dval·d`` with d**2 = 0: a value and its tangent.

    ``f(x + x'd) = f(x) + f'(x) x' d``, so evaluating a function on
    ``Dual(x, 1.0)`` returns f(x) and f'(x) together (forward mode).

    The components may be floats, numpy arrays (a whole grid of points at
    once), Duals (nested duals: second derivatives) or reverse-mode
    ``Variable``s (a forward sweep whose results can be back-propagated).
    numpy's own functions work on Duals (``np.sin(x)``, ``np.exp(x)``...).

    ``tag`` tells apart the perturbations of nested ``derivative`` calls; duals
    built by hand all have tag 0 and mix freely.
    """

    __slots__ = ("val", "dval", "tag")
    __array_priority__ = 20  # ahead of ndarray and of Variable

    def __init__(self, val, dval=0.0, tag=0):
        for name, part in (("val", val), ("dval", dval)):
            if _check_operand(part) is None:
                raise TypeError(
                    f"Dual {name} must be a number, a numeric numpy array, a Dual or a "
                    f"Variable, not {type(part).__name__!r}"
                )
        self.val = _plain(np.asarray(val) if isinstance(val, (list, tuple)) else val)
        self.dval = _plain(np.asarray(dval) if isinstance(dval, (list, tuple)) else dval)
        self.tag = tag

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

    # -- arithmetic operators ------------------------------------------------
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

    def __matmul__(self, other):
        other = _check_operand(other)
        return NotImplemented if other is None else _dual_matmul(self, other)

    def __rmatmul__(self, other):
        other = _check_operand(other)
        return NotImplemented if other is None else _dual_matmul(other, self)

    def __neg__(self):
        return Dual._apply("negative", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return Dual._apply("absolute", self)

    # -- comparisons look at the value only ------------------------------------
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

    __hash__ = object.__hash__

    def __bool__(self):
        return bool(_value_of(self))

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
    if cls is Variable and any(isinstance(x, Dual) for x in inputs):
        return NotImplemented  # a Dual holding Variables: Dual's rule goes first
    operands = [_check_operand(x) for x in inputs]
    if any(x is None for x in operands):
        names = ", ".join(type(x).__name__ for x in inputs)
        raise TypeError(f"unsupported operand type(s) for np.{ufunc.__name__}: {names}")
    if ufunc in _CONSTANT_UFUNCS:
        return ufunc(*[_value_of(x) for x in operands])
    if ufunc is np.matmul:
        return _dual_matmul(*operands) if cls is Dual else _variable_matmul(*operands)
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
    """np.where(c, a, b) = c * a + (1 - c) * b with c a constant mask."""
    mask = np.asarray(_value_of(condition), dtype=bool)
    return mask * a + (~mask) * b


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
    shape = np.shape(_value_of(like))
    return np.zeros(shape) if shape else 0.0


def derivative(f, x):
    """Return f'(x) by forward mode: the d-part of f(Dual(x, 1)).

    ``x`` may be a float or an array of points (then ``f`` must act elementwise
    and f' is returned at every point in one sweep). Nested calls are safe:
    ``derivative(lambda x: derivative(f, x), x0)`` is f''(x0).
    """
    tag = next(_tags)
    shape = np.shape(_value_of(x))
    seed = np.ones(shape) if shape else 1.0
    return _tangent_part(f(Dual(x, seed, tag)), tag, x)


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
        result = f(*[Dual(xi, vi, tag) for xi, vi in zip(x, v)])
    else:
        x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
        if x.shape != v.shape:
            raise ValueError(f"x has shape {x.shape} but v has shape {v.shape}; they must match")
        result = f(Dual(x, v, tag))
    if isinstance(result, Dual) and result.tag == tag:
        return result.val, result.dval
    return result, 0.0 * np.asarray(_value_of(result), dtype=float)

# -- end of section 4 --

# =============================================================================
# 5. Reverse mode: the computational graph (notebook 05)
# =============================================================================

_node_ids = _itertools.count()


def unbroadcast(gradient, shape):
    """Sum ``gradient`` over the axes that numpy broadcasting added or stretched,
    so that it gets the operand's ``shape`` back (a float for shape ())."""
    if np.shape(gradient) == shape:
        return gradient
    gradient = np.asarray(gradient)
    while gradient.ndim > len(shape):
        gradient = gradient.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and gradient.shape[axis] != 1:
            gradient = gradient.sum(axis=axis, keepdims=True)
    return float(gradient) if shape == () else gradient


class Variable:
    """A node of the computational graph (reverse mode): a value, and after
    ``backward()`` the gradient of the output with respect to it.

    ``value`` is a float or a numpy array; numpy broadcasting applies in the
    forward pass and gradients are summed back to each operand's shape.
    Every operation records its inputs; ``y.backward()`` then visits the
    nodes once each in reverse topological order (no recursion), so the cost
    is linear in the size of the graph.

    Attributes after ``y.backward()``:
      ``adjoint`` -- dy/d(this node) from the latest backward sweep (every node);
      ``grad``    -- on leaves (Variables you created), the adjoints of all
                     sweeps so far, *accumulated* as in PyTorch: call
                     ``zero_grad()`` before the next backward. ``None`` until then.
    """

    __slots__ = ("value", "grad", "adjoint", "name", "_op", "_args", "_parents", "_shape", "_id",
                 "__weakref__")
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
        self._parents = ()
        self._shape = () if type(value) is float else value.shape
        self._id = next(_node_ids)

    @staticmethod
    def _node(value, op, args, parents):
        """A new interior node (no argument checks: used by the operations)."""
        node = Variable.__new__(Variable)
        if type(value) is not float and isinstance(value, np.generic):
            value = value.item()
        node.value = value
        node.grad = None
        node.adjoint = None
        node.name = None
        node._op = op
        node._args = args
        node._parents = parents
        node._shape = () if type(value) is float else np.shape(value)
        node._id = next(_node_ids)
        return node

    # -- applying a rule of the table ------------------------------------------
    @staticmethod
    def _apply(name, *args):
        """Evaluate primitive ``name`` of RULES and record it in the graph."""
        if len(args) == 2:  # the common case, spelled out: it is most of the forward cost
            a, b = args
            if isinstance(a, Variable):
                a_value = a.value
                if isinstance(b, Variable):
                    b_value, parents = b.value, ((0, a), (1, b))
                else:
                    b_value, parents = b, ((0, a),)
            else:
                a_value, b_value, parents = a, b.value, ((1, b),)
            return Variable._node(RULES[name][0](a_value, b_value), name, (a_value, b_value), parents)
        values = tuple(a.value if isinstance(a, Variable) else a for a in args)
        ans = RULES[name][0](*values)
        parents = tuple((i, a) for i, a in enumerate(args) if isinstance(a, Variable))
        return Variable._node(ans, name, values, parents)

    def _binary(self, other, name, reflected=False):
        if type(other) is not float and not isinstance(other, Variable):
            if isinstance(other, Dual):
                return NotImplemented
            other = _check_operand(other)
            if other is None:
                return NotImplemented
        return Variable._apply(name, other, self) if reflected else Variable._apply(name, self, other)

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

    def __pos__(self):
        return self

    def __abs__(self):
        return Variable._apply("absolute", self)

    # -- comparisons look at the value only ------------------------------------
    def __lt__(self, other):
        return self.value < _value_of(other)

    def __le__(self, other):
        return self.value <= _value_of(other)

    def __gt__(self, other):
        return self.value > _value_of(other)

    def __ge__(self, other):
        return self.value >= _value_of(other)

    def __eq__(self, other):
        return self.value == _value_of(other)

    def __ne__(self, other):
        return self.value != _value_of(other)

    __hash__ = object.__hash__  # nodes are hashed by identity, compared by value

    def __bool__(self):
        return bool(self.value)

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
        return Variable._node(ans, name, (self.value, params), ((0, self),))

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
        for node in reversed(order):
            adjoint = node.adjoint
            if adjoint is None:
                continue
            op = node._op
            if op is None:  # a leaf: accumulate, as PyTorch does
                node.grad = adjoint if node.grad is None else node.grad + adjoint
                continue
            if op in _CUSTOM_VJP:  # fused primitives with their own vjp (section 6)
                contributions = _CUSTOM_VJP[op](node, adjoint)
            elif op in _STRUCTURAL:
                _, transpose = _STRUCTURAL[op]
                value, params = node._args
                contributions = ((node._parents[0][1], transpose(adjoint, value, **params)),)
            elif op == "matmul":
                contributions = _matmul_vjp(node, adjoint)
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
    seen = {id(output)}
    nodes = [output]
    stack = [output]
    output.adjoint = None
    while stack:
        for _, parent in stack.pop()._parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                parent.adjoint = None
                nodes.append(parent)
                stack.append(parent)
    nodes.sort(key=_node_id)
    return nodes


def _node_id(node):
    return node._id


def _elementwise_vjp(node, adjoint):
    """Contributions adjoint * partial_i for each Variable argument i (one rule of RULES)."""
    partials = RULES[node._op][1]
    args = node._args
    contributions = []
    for i, parent in node._parents:
        partial = partials[i]
        if partial is ONE:
            gradient = adjoint
        elif partial is MINUS_ONE:
            gradient = -adjoint
        else:
            gradient = adjoint * partial(node.value, *args)
        if parent._shape != () or type(gradient) is not float:
            gradient = unbroadcast(gradient, parent._shape)
        contributions.append((parent, gradient))
    return contributions


# Structural (linear) operations: forward map, and its transpose for the adjoint.
def _getitem_transpose(adjoint, value, index):
    gradient = np.zeros(np.shape(value))
    np.add.at(gradient, index, adjoint)  # add.at: repeated indices accumulate
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
    parents = tuple((i, x) for i, x in enumerate((a, b)) if isinstance(x, Variable))
    return Variable._node(_plain(a_value @ b_value), "matmul", (a_value, b_value), parents)


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
                gradient = np.multiply.outer(a, g) if b.ndim > 1 else g * a
            elif b.ndim == 1:
                gradient = (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
            else:
                gradient = np.swapaxes(a, -1, -2) @ g
        contributions.append((parent, unbroadcast(_plain(gradient), parent._shape)))
    return contributions


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
    forward, central = [], []
    for k, arg in enumerate(args):
        shape = np.shape(arg)
        fwd, cen = np.zeros(shape), np.zeros(shape)
        for i in np.ndindex(shape):
            unit = np.zeros(shape)
            unit[i] = 1.0
            unit = _plain(unit[()]) if shape == () else unit
            tangents = tuple(unit if j == k else 0.0 * np.asarray(a) for j, a in enumerate(args))
            fwd[i] = jvp(f, tuple(args), tangents)[1]
            step = h * max(1.0, abs(float(np.asarray(arg)[i])))
            plus = [a if j != k else arg + step * unit for j, a in enumerate(args)]
            minus = [a if j != k else arg - step * unit for j, a in enumerate(args)]
            cen[i] = (_value_of(f(*plus)) - _value_of(f(*minus))) / (2 * step)
        forward.append(fwd)
        central.append(cen)
    return GradCheck(reverse, forward, central)

# -- end of section 5 --

# =============================================================================
# 6. Neural networks and the Ising model (notebook 06)
# =============================================================================

# -----------------------------------------------------------------------------
# 6.1 Fused primitives: one graph node with a hand-written vjp
# -----------------------------------------------------------------------------
# When a whole function has a short closed-form vector-Jacobian product, it can
# be one node of the graph instead of a chain of small ones (fewer nodes, fewer
# temporaries). Variable.backward() looks an operation's name up here first:
# _CUSTOM_VJP[name](node, adjoint) -> [(parent Variable, its gradient), ...].

_CUSTOM_VJP = {}

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
    result = f(Dual(point, v, tag))
    directional = result.dval if isinstance(result, Dual) and result.tag == tag else 0.0
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

# -- end of section 7 --
