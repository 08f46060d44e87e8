"""Symbolic differentiation and expression size: the logistic map, operation counts (notebook 02)."""

from __future__ import annotations

import operator

from ad_engine.forward import Dual


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

    __add__ = _counting_operation("add", operator.add)
    __radd__ = _counting_operation("add", operator.add, reflected=True)
    __sub__ = _counting_operation("subtract", operator.sub)
    __rsub__ = _counting_operation("subtract", operator.sub, reflected=True)
    __mul__ = _counting_operation("multiply", operator.mul)
    __rmul__ = _counting_operation("multiply", operator.mul, reflected=True)
    __truediv__ = _counting_operation("divide", operator.truediv)
    __rtruediv__ = _counting_operation("divide", operator.truediv, reflected=True)
    __pow__ = _counting_operation("power", operator.pow)
    __rpow__ = _counting_operation("power", operator.pow, reflected=True)

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
