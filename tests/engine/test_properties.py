"""Property tests: random expression graphs built from the elementwise primitives.

hypothesis draws a program: three inputs, a sequence of operations whose
operands are earlier nodes (so nodes are reused: shared subexpressions), and a
point. The same program runs on floats, on Duals (forward mode), on Variables
(reverse mode) and on sympy symbols. Forward mode, reverse mode and sympy's
exact derivative agree to 1e-10 relative to the largest gradient component (and
at least 1, so that a component that cancels to nearly zero is compared
absolutely). Central differences, the check of the sympy reference itself, agree
to 1e-6 on that scale plus their own error: with step h their truncation error
is h²f'''/6, which a steep program makes large (57.3·tanh(57.3·tanh x) has
f''' ≈ 57.3⁴ at 0), so the test estimates it from the same difference with step
2h (Richardson: D(2h) - D(h) ≈ 3·h²f'''/6) and allows that difference on top.

hypothesis runs derandomized (conftest.py): the same examples on every machine.
``make test-explore`` draws new ones; a failure it finds becomes an @example.

Every operation keeps its arguments inside the primitive's real domain
(log/sqrt of x*x + 1, arcsin of tanh(x)/2, ...). Points where an intermediate
value is large, or close to (but not at) a kink of abs/maximum/minimum, are
rejected: there central differences measure something else than the derivative
(the conventions at kinks are tested in test_errors.py).
"""

import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import autodiff_helpers as ad
from autodiff_helpers import Variable
from primitive_reference import elementwise_names, register_wrong_partials, remainder

N_INPUTS = 3
SYMBOLS = sympy.symbols("x0:3", real=True)


class SympyNamespace:
    """The numpy names the programs use, spelled in sympy."""

    sin, cos, tan, tanh, exp, log = sympy.sin, sympy.cos, sympy.tan, sympy.tanh, sympy.exp, sympy.log
    sqrt = staticmethod(sympy.sqrt)  # a function, not a class: keep it unbound
    sinh, cosh = sympy.sinh, sympy.cosh
    arcsin, arccos, arctan, arcsinh, arctanh = sympy.asin, sympy.acos, sympy.atan, sympy.asinh, sympy.atanh
    arctan2, maximum, minimum = sympy.atan2, sympy.Max, sympy.Min

    @staticmethod
    def square(a):
        return a**2

    @staticmethod
    def reciprocal(a):
        return 1 / a

    @staticmethod
    def cbrt(a):  # only applied to positive arguments
        return a ** sympy.Rational(1, 3)

    @staticmethod
    def exp2(a):
        return 2**a

    @staticmethod
    def expm1(a):
        return sympy.exp(a) - 1

    @staticmethod
    def log2(a):
        return sympy.log(a, 2)

    @staticmethod
    def log10(a):
        return sympy.log(a, 10)

    @staticmethod
    def log1p(a):
        return sympy.log(1 + a)

    @staticmethod
    def hypot(a, b):
        return sympy.sqrt(a**2 + b**2)

    @staticmethod
    def absolute(a):
        return sympy.Abs(a)

    fabs = absolute
    arccosh, fmax, fmin = sympy.acosh, sympy.Max, sympy.Min

    @staticmethod
    def deg2rad(a):
        return a * sympy.pi / 180

    @staticmethod
    def rad2deg(a):
        return a * 180 / sympy.pi

    radians, degrees = deg2rad, rad2deg

    @staticmethod
    def logaddexp(a, b):
        return sympy.log(sympy.exp(a) + sympy.exp(b))

    remainder = staticmethod(remainder)


class NumpyNamespace:
    """numpy's functions, plus abs spelled as the builtin (the `absolute` rule via __abs__)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def absolute(a):
        return abs(a)


NP, SP = NumpyNamespace(), SympyNamespace()

# name: (arity, program step written with a namespace m). Each keeps its
# primitive inside the real domain. Together they use every elementwise primitive.
UNARY = {
    "negative": lambda m, a: -a,
    "positive": lambda m, a: +a,
    "absolute": lambda m, a: m.absolute(a),
    "square": lambda m, a: m.square(a),
    "reciprocal": lambda m, a: m.reciprocal(a * a + 1),
    "sqrt": lambda m, a: m.sqrt(a * a + 1),
    "cbrt": lambda m, a: m.cbrt(a * a + 1),
    "exp": lambda m, a: m.exp(m.sin(a)),
    "exp2": lambda m, a: m.exp2(m.cos(a)),
    "expm1": lambda m, a: m.expm1(m.tanh(a)),
    "log": lambda m, a: m.log(a * a + 1),
    "log2": lambda m, a: m.log2(a * a + 2),
    "log10": lambda m, a: m.log10(a * a + 0.5),
    "log1p": lambda m, a: m.log1p(a * a),
    "sin": lambda m, a: m.sin(a),
    "cos": lambda m, a: m.cos(a),
    "tan": lambda m, a: m.tan(m.tanh(a)),
    "arcsin": lambda m, a: m.arcsin(m.tanh(a) / 2),
    "arccos": lambda m, a: m.arccos(m.tanh(a) / 2),
    "arctan": lambda m, a: m.arctan(a),
    "sinh": lambda m, a: m.sinh(m.sin(a)),
    "cosh": lambda m, a: m.cosh(m.sin(a)),
    "tanh": lambda m, a: m.tanh(a),
    "arcsinh": lambda m, a: m.arcsinh(a),
    "arctanh": lambda m, a: m.arctanh(m.tanh(a) / 2),
    "arccosh": lambda m, a: m.arccosh(a * a + 1.5),
    "fabs": lambda m, a: m.fabs(a),
    "deg2rad": lambda m, a: m.deg2rad(a),
    "radians": lambda m, a: m.radians(a),
    "rad2deg": lambda m, a: m.rad2deg(m.tanh(a)),
    "degrees": lambda m, a: m.degrees(m.tanh(a)),
}
BINARY = {
    "add": lambda m, a, b: a + b,
    "subtract": lambda m, a, b: a - b,
    "multiply": lambda m, a, b: a * b,
    "divide": lambda m, a, b: a / (b * b + 1),
    "power": lambda m, a, b: (a * a + 1) ** m.sin(b),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "arctan2": lambda m, a, b: m.arctan2(a, b * b + 1),
    "hypot": lambda m, a, b: m.hypot(a, b * b + 1),
    "fmax": lambda m, a, b: m.fmax(a, b),
    "fmin": lambda m, a, b: m.fmin(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "remainder": lambda m, a, b: m.remainder(a, b * b + 1),
}
OPS = sorted(UNARY) + sorted(BINARY)
KINKED = {"absolute", "fabs", "maximum", "minimum", "fmax", "fmin", "remainder"}


def test_programs_cover_every_primitive():
    assert set(UNARY) | set(BINARY) >= set(elementwise_names()), (
        set(elementwise_names()) - set(UNARY) - set(BINARY))


@st.composite
def programs(draw):
    """(inputs, steps, shared): steps are (op, i, j) over earlier node indices."""
    inputs = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False),
                           min_size=N_INPUTS, max_size=N_INPUTS))
    n_steps = draw(st.integers(1, 8))
    steps = []
    for k in range(n_steps):
        n_nodes = N_INPUTS + k
        op = draw(st.sampled_from(OPS))
        i = draw(st.integers(0, n_nodes - 1))
        j = draw(st.integers(0, n_nodes - 1))
        steps.append((op, i, j))
    shared = draw(st.integers(0, N_INPUTS + n_steps - 1))
    return inputs, steps, shared


def run(program, m, inputs, check=None):
    """Evaluate a program on inputs of any kind; the output reuses the last node twice."""
    _, steps, shared = program
    nodes = list(inputs)
    for op, i, j in steps:
        if check is not None:
            check(op, nodes[i], nodes[j], i == j)
        if op in UNARY:
            nodes.append(UNARY[op](m, nodes[i]))
        else:
            nodes.append(BINARY[op](m, nodes[i], nodes[j]))
    last = nodes[-1]
    return last + last * m.sin(nodes[shared])  # `last` is used twice: a shared node


def reject_bad_points(op, a, b, same_node):
    """Called on float values before each step: keep away from large values and near-kinks."""
    for value in (a, b):
        assume(math.isfinite(value) and abs(value) < 30.0)
    # at a kink (also exactly at it: |x| sin x at 0) central differences are only O(h)
    # accurate; the conventions there are tested in test_errors.py
    if op in ("absolute", "fabs"):
        assume(abs(a) > 1e-3)
    if op in ("maximum", "minimum", "fmax", "fmin") and not same_node:
        assume(abs(a - b) > 1e-3)
    if op == "remainder":  # a % (b*b + 1) jumps where the quotient is an integer
        quotient = a / (b * b + 1)
        assume(abs(quotient - round(quotient)) > 1e-3)


def exact_gradient(program, inputs):
    expr = run(program, SP, SYMBOLS)
    # the inputs' exact binary values at 30 digits; xreplace evaluates numerically as
    # it rebuilds the expression, twice as fast as evalf(subs=...) on these graphs
    subs = {s: sympy.Float(float(x), 30) for s, x in zip(SYMBOLS, inputs)}
    return np.array([float(sympy.diff(expr, s).xreplace(subs).evalf(25)) for s in SYMBOLS])


def forward_gradient(program, inputs):
    values, tangents = [], []
    for k in range(N_INPUTS):
        unit = tuple(1.0 if i == k else 0.0 for i in range(N_INPUTS))
        value, tangent = ad.jvp(lambda *x: run(program, NP, x), tuple(inputs), unit)
        values.append(value)
        tangents.append(float(tangent))
    return values, np.array(tangents)


def reverse_gradient(program, inputs):
    variables = [Variable(x) for x in inputs]
    out = run(program, NP, variables)
    assert isinstance(out, Variable)
    out.backward()
    grads = [0.0 if v.grad is None else float(v.grad) for v in variables]
    return out, np.array(grads)


def central_gradient(program, inputs, h=1e-6):
    grads = []
    for k in range(N_INPUTS):
        plus, minus = list(inputs), list(inputs)
        step = h * max(1.0, abs(inputs[k]))
        plus[k] += step
        minus[k] -= step
        grads.append((float(run(program, NP, plus)) - float(run(program, NP, minus))) / (2 * step))
    return np.array(grads)


def uses_of_nodes(out):
    """How many times each node of the graph is an argument of another node."""
    counts = {}
    for node in ad.topological_order(out):
        for parent in node.parents:
            if parent is None:  # a constant argument
                continue
            counts[id(parent)] = counts.get(id(parent), 0) + 1
    return counts


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
# a steep program: central differences are off by 9e-3 on a gradient of 5156 (h²f'''/6)
@example(([0.0, 0.0, 0.0], [("degrees", 0, 0), ("degrees", 3, 0), ("arccos", 0, 0)], 4))
def test_forward_reverse_sympy_and_central_differences_agree(program):
    inputs = program[0]
    value = run(program, NP, inputs, check=reject_bad_points)
    assume(math.isfinite(value) and abs(value) < 1e6)

    values, forward = forward_gradient(program, inputs)
    out, reverse = reverse_gradient(program, inputs)
    exact = exact_gradient(program, inputs)
    central = central_gradient(program, inputs)
    truncation = np.abs(central_gradient(program, inputs, h=2e-6) - central)  # ≈ 3 h²|f'''|/6

    # the three evaluations do the same floating-point operations
    assert all(v == value for v in values) and out.value == value
    scale = max(1.0, float(np.max(np.abs(exact))))
    assert np.max(np.abs(forward - exact)) <= 1e-10 * scale, (forward, exact)
    assert np.max(np.abs(reverse - exact)) <= 1e-10 * scale, (reverse, exact)
    assert np.max(np.abs(forward - reverse)) <= 1e-10 * scale, (forward, reverse)
    assert np.all(np.abs(central - exact) <= 1e-6 * scale + truncation), (central, exact, truncation)
    # the graph really has a node used more than once
    assert max(uses_of_nodes(out).values()) >= 2


def test_the_checks_can_fail(monkeypatch):
    """With a wrong rule in the table, the same comparison catches it."""
    program = ([0.3, -0.7, 1.1], [("sin", 0, 0), ("multiply", 3, 1)], 3)
    inputs = program[0]
    exact = exact_gradient(program, inputs)
    register_wrong_partials(monkeypatch, "sin", lambda ans, x: np.cos(x) * 1.01)
    _, forward = forward_gradient(program, inputs)
    _, reverse = reverse_gradient(program, inputs)
    assert np.max(np.abs(forward - exact)) > 1e-3
    assert np.max(np.abs(reverse - exact)) > 1e-3
    np.testing.assert_allclose(central_gradient(program, inputs), exact, rtol=1e-8)


@pytest.mark.parametrize("op", OPS)
def test_each_step_alone(op):
    """Every step at a fixed point, a quick check independent of hypothesis' choices."""
    program = ([0.37, -1.21, 0.83], [(op, 0, 1), ("multiply", 3, 2)], 3)
    inputs = program[0]
    exact = exact_gradient(program, inputs)
    _, forward = forward_gradient(program, inputs)
    _, reverse = reverse_gradient(program, inputs)
    np.testing.assert_allclose(forward, exact, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(reverse, exact, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(central_gradient(program, inputs), exact, rtol=1e-7, atol=1e-8)
