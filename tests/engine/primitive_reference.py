"""sympy references for every elementwise primitive of ``ad.PRIMITIVES`` (shared by the tests).

``REFERENCE[name] = (sympy_function, points)``: the primitive written with sympy
(one argument per argument of the rule) and sample points inside its real
domain, away from kinks. The tests iterate over ``elementwise_names()``, so a new table entry
without a reference here fails loudly instead of going untested.
"""

import functools

import numpy as np
import sympy

X, Y = sympy.symbols("x y", real=True)

UNARY_POINTS = [(-1.7,), (-0.4,), (0.3,), (1.1,), (2.3,)]
POSITIVE_POINTS = [(0.2,), (0.9,), (1.6,), (3.7,)]
UNIT_POINTS = [(-0.85,), (-0.3,), (0.15,), (0.7,)]
BINARY_POINTS = [(0.7, 2.3), (-1.4, 0.6), (2.5, -0.9), (-0.3, -1.8)]


def _cbrt(x):
    return sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3)


class PiecewiseFloor(sympy.Function):
    """floor with derivative 0 (sympy leaves d floor/dx unevaluated): the derivative of
    x % y = x - y floor(x / y) away from its jumps."""

    @classmethod
    def eval(cls, arg):
        if arg.is_Number:
            return sympy.floor(arg)

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _eval_evalf(self, prec):
        return sympy.floor(self.args[0].evalf(prec))


def remainder(a, b):
    return a - b * PiecewiseFloor(a / b)


REFERENCE = {
    "add": (lambda a, b: a + b, BINARY_POINTS),
    "subtract": (lambda a, b: a - b, BINARY_POINTS),
    "multiply": (lambda a, b: a * b, BINARY_POINTS),
    "divide": (lambda a, b: a / b, BINARY_POINTS),
    "power": (lambda a, b: a**b, [(0.7, 2.3), (1.9, -1.2), (2.5, 0.5), (0.3, 3.0)]),
    "negative": (lambda x: -x, UNARY_POINTS),
    "positive": (lambda x: x, UNARY_POINTS),
    "absolute": (sympy.Abs, UNARY_POINTS),
    "square": (lambda x: x**2, UNARY_POINTS),
    "reciprocal": (lambda x: 1 / x, UNARY_POINTS),
    "sqrt": (sympy.sqrt, POSITIVE_POINTS),
    "cbrt": (_cbrt, UNARY_POINTS),
    "exp": (sympy.exp, UNARY_POINTS),
    "exp2": (lambda x: 2**x, UNARY_POINTS),
    "expm1": (lambda x: sympy.exp(x) - 1, UNARY_POINTS),
    "log": (sympy.log, POSITIVE_POINTS),
    "log2": (lambda x: sympy.log(x, 2), POSITIVE_POINTS),
    "log10": (lambda x: sympy.log(x, 10), POSITIVE_POINTS),
    "log1p": (lambda x: sympy.log(1 + x), UNIT_POINTS + POSITIVE_POINTS),
    "sin": (sympy.sin, UNARY_POINTS),
    "cos": (sympy.cos, UNARY_POINTS),
    "tan": (sympy.tan, UNARY_POINTS[1:-1] + [(1.3,)]),
    "arcsin": (sympy.asin, UNIT_POINTS),
    "arccos": (sympy.acos, UNIT_POINTS),
    "arctan": (sympy.atan, UNARY_POINTS),
    "sinh": (sympy.sinh, UNARY_POINTS),
    "cosh": (sympy.cosh, UNARY_POINTS),
    "tanh": (sympy.tanh, UNARY_POINTS),
    "arcsinh": (sympy.asinh, UNARY_POINTS),
    "arctanh": (sympy.atanh, UNIT_POINTS),
    "maximum": (sympy.Max, BINARY_POINTS + [(2.3, 0.7)]),
    "minimum": (sympy.Min, BINARY_POINTS + [(2.3, 0.7)]),
    "arctan2": (sympy.atan2, BINARY_POINTS),
    "hypot": (lambda a, b: sympy.sqrt(a**2 + b**2), BINARY_POINTS),
    "arccosh": (sympy.acosh, [(1.2,), (1.9,), (3.7,)]),
    "fabs": (sympy.Abs, UNARY_POINTS),
    "deg2rad": (lambda x: x * sympy.pi / 180, UNARY_POINTS),
    "radians": (lambda x: x * sympy.pi / 180, UNARY_POINTS),
    "rad2deg": (lambda x: x * 180 / sympy.pi, UNARY_POINTS),
    "degrees": (lambda x: x * 180 / sympy.pi, UNARY_POINTS),
    "fmax": (sympy.Max, BINARY_POINTS + [(2.3, 0.7)]),
    "fmin": (sympy.Min, BINARY_POINTS + [(2.3, 0.7)]),
    "logaddexp": (lambda a, b: sympy.log(sympy.exp(a) + sympy.exp(b)), BINARY_POINTS),
    "remainder": (remainder, [(0.7, 2.3), (2.5, 0.9), (-1.4, 0.6), (3.3, -1.6)]),
}


def reference(name):
    """(sympy function, points) for a primitive; fails with a clear message if missing."""
    if name not in REFERENCE:
        raise AssertionError(
            f"PRIMITIVES has an elementwise primitive {name!r} without a sympy reference: add it "
            f"to tests/engine/primitive_reference.py"
        )
    return REFERENCE[name]


def elementwise_names():
    """The registered primitives defined by partial derivatives (np.sin, multiply, ...)."""
    import autodiff_helpers as ad

    return sorted(name for name, p in ad.PRIMITIVES.items() if p.partials is not None)


def arity(name):
    import autodiff_helpers as ad

    return len(ad.PRIMITIVES[name].partials)


def symbols(n):
    return (X, Y)[:n]


def primitive_function(name, call):
    """The registered primitive called directly (``call="primitive"``) or numpy's ufunc
    (``call="numpy"``, which dispatches to it): the tests check both ways in."""
    import autodiff_helpers as ad

    return ad.PRIMITIVES[name] if call == "primitive" else getattr(np, name)


def close(actual, expected, rtol=1e-12, atol=1e-14):
    """assert_allclose at the primitive tests' tolerances, for floats, arrays and lists."""
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=rtol, atol=atol)


@functools.lru_cache(maxsize=None)
def exact(name, point, order=1):
    """Value (order 0), gradient (1) or Hessian (2) of the primitive at ``point`` (a tuple) by sympy.

    Cached: treat the returned arrays as read-only."""
    fn, _ = reference(name)
    syms = symbols(len(point))
    expr = fn(*syms)
    subs = {s: sympy.Float(repr(float(p)), 40) for s, p in zip(syms, point)}
    if order == 0:
        return float(expr.evalf(30, subs=subs))
    if order == 1:
        return np.array([float(sympy.diff(expr, s).evalf(30, subs=subs)) for s in syms])
    return np.array(
        [[float(sympy.diff(expr, s, t).evalf(30, subs=subs)) for t in syms] for s in syms]
    )


def register_wrong_partials(monkeypatch, name, *partials):
    """Register primitive ``name`` again with other ``partials`` for one test (monkeypatch
    puts the original back in both tables afterwards)."""
    import autodiff_helpers as ad
    from ad_engine.rules import NUMPY_FUNCTIONS

    original = ad.PRIMITIVES[name]
    monkeypatch.setitem(ad.PRIMITIVES, name, original)
    monkeypatch.setitem(NUMPY_FUNCTIONS, original.numpy, original)
    ad.defprimitive(name, original.evaluate, partials=partials, numpy=original.numpy)
