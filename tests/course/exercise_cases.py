"""Right and wrong answers for every exercise checker, as students write them.

Each entry of ``CASES`` is (checker name, [(label, answer thunk)] right, [(label,
answer thunk, text the message must contain)] wrong); a thunk returns the Verdict.
tests/course/test_exercises.py runs them all; tools/exercise_report.py prints the
table of the closing note from them.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict, deque

import numpy as np

import autodiff_helpers as ad
from ad_course.charmonium import EICHTEN, spin_averaged_masses
from ad_course.checkers.physics import level_derivative_by_ad
from ad_engine.higher_order import hessian as ENGINE_HESSIAN

EPS = float(np.finfo(float).eps)
STEPS = np.logspace(-16, -1, 151)
EXP_ERRORS = ad.derivative_errors(np.exp, np.e, 1.0, STEPS)["forward"]
BEST = STEPS[np.argmin(EXP_ERRORS)]


# -- 03: optimal step -------------------------------------------------------------------

def step(h_star, h_data=None, **kw):
    return lambda: ad.check_optimal_step(h_star, h_data, STEPS, **kw)


SQRT_ERRORS = ad.derivative_errors(np.sqrt, 0.5, 1.0, STEPS)["forward"]
SQRT = dict(f=np.sqrt, x=1.0, derivative=0.5, f_value=1.0, second_derivative=-0.25,
            third_derivative=0.375)
STEP_RIGHT = [
    ("sqrt(2 eps) and steps[argmin]", step(np.sqrt(2 * EPS), BEST)),
    ("ad.optimal_step, a numpy scalar", step(ad.optimal_step(np.e, np.e, method="forward"),
                                             np.float64(BEST))),
    ("sqrt(2 eps e / e), formula only", step(np.sqrt(2 * EPS * np.e / np.e))),
    ("sqrt at x = 1: sqrt(8 eps)", step(np.sqrt(8 * EPS), STEPS[np.argmin(SQRT_ERRORS)], **SQRT)),
]
STEP_WRONG = [
    ("h* of the sqrt example, sqrt(8 eps)", lambda: ad.check_optimal_step(np.sqrt(8 * EPS)),
     "sqrt example"),
    ("a measured step on a one-point grid of its own",
     lambda: ad.check_optimal_step(np.sqrt(2 * EPS), 1e-3, [1e-3]), "too few to find"),
    ("a measured step on a coarse grid of 14 steps", lambda: ad.check_optimal_step(
        np.sqrt(2 * EPS), 1e-8, np.logspace(-15, -2, 14)), "too few to find"),
    ("a grid from 1e-6 up only", lambda: ad.check_optimal_step(
        np.sqrt(2 * EPS), 1e-6, np.logspace(-6, -1, 51)), "do not span the V"),
    ("h_data = the minimum error (6.6e-9)", step(np.sqrt(2 * EPS), EXP_ERRORS.min()),
     "that is the smallest error, not the step"),
    ("h* = sqrt(eps e)", step(np.sqrt(EPS * np.e)), "|f''| and a factor 2 are missing"),
    ("h* = sqrt(eps)", step(np.sqrt(EPS)), "a factor sqrt(2) is missing"),
    ("h* = 2 eps", step(2 * EPS), "the square root is missing"),
    ("h* = (3 eps)^(1/3)", step((3 * EPS) ** (1 / 3)), "central difference"),
    ("h* = eps", step(EPS), "round-off alone dominates"),
    ("sqrt: |f| and |f''| swapped", step(np.sqrt(2 * EPS * 0.25), **SQRT), "swapped"),
    ("sqrt: h* = sqrt(2 eps), |f''| dropped", step(np.sqrt(2 * EPS), **SQRT), "|f''| is missing"),
    ("h_data = step of the largest error", step(np.sqrt(2 * EPS), STEPS[np.argmax(EXP_ERRORS)]),
     "largest error"),
    ("h_data = index of the minimum", step(np.sqrt(2 * EPS), int(np.argmin(EXP_ERRORS))),
     "an index into steps"),
    ("h_data = h* itself", step(np.sqrt(2 * EPS), np.sqrt(2 * EPS)), "not a measurement"),
    ("h_data = central difference's best step",
     step(np.sqrt(2 * EPS), STEPS[np.argmin(ad.derivative_errors(np.exp, np.e, 1.0, STEPS)
                                            ["central"])]), "central difference"),
    ("placeholder ...", step(..., ...), "the placeholder"),
    ("a string", step("2e-8"), "expected h* as a number"),
    ("a negative step", step(-1e-8), "positive"),
    ("h* typed from a printout, 2.11e-8 (0.14 % off)", step(2.11e-8),
     "expected 2.10734e-08: close, but not within 0.1 %: compute it with np.sqrt"),
]


# -- 04: tangent rule -----------------------------------------------------------------------

RULES = {}


class TinyDual:
    """A dual class as notebook 04 builds it, reduced to one rule table."""

    def __init__(self, val, dval=0.0):
        self.val, self.dval = val, dval

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc not in RULES:
            return NotImplemented
        return TinyDual(ufunc(self.val), RULES[ufunc](self.val) * self.dval)


def tanh_with(rule):
    def check():
        RULES.clear()
        RULES[np.tanh] = rule
        return ad.check_tangent_rule(np.tanh, TinyDual)
    return check


def softplus_with(partial):
    def check():
        primitive = ad.defprimitive("softplus", lambda x: np.log1p(np.exp(x)), partials=[partial])
        return ad.check_tangent_rule(primitive, ad.Dual)
    return check


def broken_rule(x):
    return 1 - np.tanh(x) ** 2 + undefined_name  # noqa: F821


TANGENT_RIGHT = [
    ("1 - tanh²", tanh_with(lambda x: 1 - np.tanh(x) ** 2)),
    ("1 / cosh²", tanh_with(lambda x: 1 / np.cosh(x) ** 2)),
    ("(1 - tanh)(1 + tanh)", tanh_with(lambda x: (1 - np.tanh(x)) * (1 + np.tanh(x)))),
    ("np.tanh on ad.Dual", lambda: ad.check_tangent_rule(np.tanh, ad.Dual)),
    ("softplus: sigmoid(x)", softplus_with(lambda ans, x: 1 / (1 + np.exp(-x)))),
    ("softplus: 1 - exp(-ans)", softplus_with(lambda ans, x: 1 - np.exp(-ans))),
    ("softplus: exp(x - ans)", softplus_with(lambda ans, x: np.exp(x - ans))),
    ("tanh: the d-part a 1-element array", tanh_with(lambda x: np.array([1 - np.tanh(x) ** 2]))),
]
def softplus_evaluated(evaluate, partial):
    def check():
        return ad.check_tangent_rule(ad.defprimitive("softplus", evaluate, partials=[partial]), ad.Dual)
    return check


TANGENT_WRONG = [
    ("tanh: a complex step in the rule (chk46: accepted)", tanh_with(
        lambda x: np.imag(np.tanh(x + 1e-30j)) / 1e-30), "computes with complex numbers"),
    ("tanh: ad.complex_step in the rule (chk46: accepted)", tanh_with(
        lambda x: ad.complex_step(np.tanh, x)), "computes with complex numbers"),
    ("softplus: a complex step in the partial (chk46: accepted)", softplus_with(
        lambda ans, x: np.imag(np.log1p(np.exp(x + 1e-30j))) / 1e-30), "computes with complex"),
    ("tanh: central differences extrapolated by Richardson (chk46: hint said 'wrong sign')",
     tanh_with(lambda x: (8 * (np.tanh(x + 1e-3) - np.tanh(x - 1e-3))
                          - (np.tanh(x + 2e-3) - np.tanh(x - 2e-3))) / 12e-3),
     "as a finite difference gives"),
    ("tanh: right only on (-2, 2.5)",  # a rule that agrees near the first points tried
     tanh_with(lambda x: 1 - np.tanh(x) ** 2 if -2 < x < 2.5 else 0.0), "at x = -3.2"),
    ("softplus: a wrong evaluate log(1 + |x|) with the rule that fits it",
     softplus_evaluated(lambda x: np.log(1 + np.abs(x)), lambda ans, x: np.sign(x) / (1 + np.abs(x))),
     "the value part of softplus"),
    ("tanh: a complex d-part", tanh_with(lambda x: 1 - np.tanh(x) ** 2 + 0.3j), "complex"),
    ("tanh: a central difference, h = 1e-5",  # right to 3e-10, not to round-off
     tanh_with(lambda x: (np.tanh(x + 1e-5) - np.tanh(x - 1e-5)) / 2e-5), "finite difference"),
    ("softplus registered as 'sp', wrong, with the rule that fits it",
     lambda: ad.check_tangent_rule(ad.defprimitive("sp", lambda x: np.log1p(np.exp(-x)),
                                                   partials=[lambda ans, x: -1 / (1 + np.exp(x))]),
                                   ad.Dual), "no exact rule here"),
    ("softplus registered as 'Softplus', the identity",
     lambda: ad.check_tangent_rule(ad.defprimitive("Softplus", lambda x: x + 0.0,
                                                   partials=[lambda ans, x: 1.0 + 0 * x]),
                                   ad.Dual), "the value part of Softplus"),
    ("tanh: 1.0000001 (1 - tanh²)", tanh_with(lambda x: 1.0000001 * (1 - np.tanh(x) ** 2)),
     "off by a relative 1.0e-07"),
    ("tanh: 1/(1 + x²)", tanh_with(lambda x: 1 / (1 + x**2)), "derivative of arctan"),
    ("tanh: 1 - tanh(x²)", tanh_with(lambda x: 1 - np.tanh(x**2)), "not its argument"),
    ("tanh: (1 - tanh x)²", tanh_with(lambda x: (1 - np.tanh(x)) ** 2), "(1 - tanh x)²"),
    ("tanh: 1 - tanh x", tanh_with(lambda x: 1 - np.tanh(x)), "the square is missing"),
    ("tanh: 1 - x² (the output's form)", tanh_with(lambda x: 1 - x**2), "the rule gets x"),
    ("tanh: the rule by ad.derivative", tanh_with(lambda x: ad.derivative(np.tanh, x)),
     "called the AD engine"),
    ("tanh: sign", tanh_with(lambda x: np.tanh(x) ** 2 - 1), "sign of the derivative"),
    ("tanh: the function itself", tanh_with(np.tanh), "returns the function"),
    ("tanh: 2 (1 - tanh²)", tanh_with(lambda x: 2 * (1 - np.tanh(x) ** 2)), "constant factor 2"),
    ("tanh: error in the rule", tanh_with(broken_rule), "raised NameError"),
    ("tanh: placeholder ...", tanh_with(lambda x: ...), "raised TypeError"),
    ("softplus: lambda x (signature)", softplus_with(lambda x: 1 / (1 + np.exp(-x))),
     "a function of (ans, x)"),
    ("softplus: lambda x, ans (the order swapped)", softplus_with(lambda x, ans: 1 / (1 + np.exp(-x))),
     "partial(ans, x)"),
    ("tanh: ^ for the power", tanh_with(lambda x: 1 - np.tanh(x) ^ 2), "bitwise xor"),
    ("softplus: exp(x)", softplus_with(lambda ans, x: np.exp(x)), "denominator is missing"),
    ("softplus: 1/(1 + e^x)", softplus_with(lambda ans, x: 1 / (1 + np.exp(x))),
     "sign of the exponent"),
    ("softplus: sigmoid'", softplus_with(lambda ans, x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
     "second derivative"),
]


# -- 05: backward sweep -------------------------------------------------------------------

_numbers = itertools.count()


class Node:
    """The node class of notebook 05: value, parents with local partials, grad."""

    def __init__(self, value, parents=()):
        self.value, self.parents, self.grad = value, parents, 0.0
        self.number = next(_numbers)

    @staticmethod
    def _node(other):
        return other if isinstance(other, Node) else Node(other)

    def __add__(self, other):
        other = self._node(other)
        return Node(self.value + other.value, ((self, 1.0), (other, 1.0)))

    def __sub__(self, other):
        other = self._node(other)
        return Node(self.value - other.value, ((self, 1.0), (other, -1.0)))

    def __mul__(self, other):
        other = self._node(other)
        return Node(self.value * other.value, ((self, other.value), (other, self.value)))

    def __radd__(self, other):
        return self._node(other) + self

    def __rsub__(self, other):
        return self._node(other) - self

    def __rmul__(self, other):
        return self._node(other) * self


def reachable(y):
    nodes, seen = [y], {y}
    for node in nodes:
        for parent, _ in node.parents:
            if parent not in seen:
                seen.add(parent)
                nodes.append(parent)
    return nodes


def zero(y):
    for node in reachable(y):
        node.grad = 0.0
    y.grad = 1.0


def sweep_sorted(y):  # notebook 05's backward
    zero(y)
    for node in sorted(reachable(y), key=lambda n: -n.number):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def sweep_kahn(y, distinct=False, stack=False):
    """Kahn's sweep; ``distinct``: count each node's distinct users while every edge counts
    down (wrong: s*s uses s twice, reader29); ``stack``: the ready nodes last in, first out."""
    users = defaultdict(int)
    for node in reachable(y):
        for parent in {p for p, _ in node.parents} if distinct else [p for p, _ in node.parents]:
            users[parent] += 1
    zero(y)
    ready = deque([y])
    while ready:
        node = ready.pop() if stack else ready.popleft()
        for parent, local in node.parents:
            parent.grad += node.grad * local
            users[parent] -= 1
            if users[parent] == 0:
                ready.append(parent)


def sweep_postorder(y):  # reversed depth-first post-order, recursive
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent, _ in node.parents:
                visit(parent)
            order.append(node)

    visit(y)
    zero(y)
    for node in reversed(order):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def sweep_bfs_unsorted(y):  # notebook 05's topological_order without the sort
    nodes = reachable(y)
    zero(y)
    for node in nodes:
        for parent, local in node.parents:
            parent.grad += node.grad * local


def sweep_fifo_once(y):  # a queue that visits each node once, without counting users
    zero(y)
    queue, seen = deque([y]), {y}
    while queue:
        node = queue.popleft()
        for parent, local in node.parents:
            parent.grad += node.grad * local
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)


def sweep_dfs_once(y):
    zero(y)
    stack, seen = [y], {y}
    while stack:
        node = stack.pop()
        for parent, local in node.parents:
            parent.grad += node.grad * local
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)


def sweep_overwrite(y):
    zero(y)
    for node in sorted(reachable(y), key=lambda n: -n.number):
        for parent, local in node.parents:
            parent.grad = node.grad * local


def sweep_no_chain(y):
    zero(y)
    for node in sorted(reachable(y), key=lambda n: -n.number):
        for parent, local in node.parents:
            parent.grad += local


def sweep_inputs_first(y):
    zero(y)
    for node in sorted(reachable(y), key=lambda n: n.number):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def sweep_recursive(y):
    zero(y)

    def push(node):
        for parent, local in node.parents:
            parent.grad += node.grad * local
            push(parent)

    push(y)


def sweep_no_reset(y):  # right order, but adjoints add up over calls
    y.grad = 1.0
    for node in sorted(reachable(y), key=lambda n: -n.number):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def sweep_raises(y):
    return {}[y]


def sweep_remembers(y, _done=set()):  # noqa: B006 - a default set kept between calls
    order = [node for node in sorted(reachable(y), key=lambda n: -n.number) if node not in _done]
    for node in order:
        node.grad = 0.0
    if order:
        y.grad = 1.0
    for node in order:
        _done.add(node)
        for parent, local in node.parents:
            parent.grad += node.grad * local


def sweep_placeholder(y):  # the exercise cell as given
    ...


def backward_case(sweep):
    return lambda: ad.check_backward(sweep, Node)


def sweep_path_by_path(y):
    """The recursion of notebook 05 written with a stack: every path pushed on its own."""
    zero(y)
    stack = [(y, 1.0)]
    while stack:
        node, adjoint = stack.pop()
        for parent, local in node.parents:
            parent.grad += adjoint * local
            stack.append((parent, adjoint * local))


BACKWARD_RIGHT = [
    ("Kahn with a queue", backward_case(sweep_kahn)),
    ("Kahn with a stack", backward_case(lambda y: sweep_kahn(y, stack=True))),
    ("reversed depth-first post-order", backward_case(sweep_postorder)),
]
def sweep_then(attribute, value):
    """notebook 05's sweep, right at the inputs, then ``attribute`` of every node in between
    set to ``value`` (adjoints thrown away, values overwritten)."""
    def sweep(y):
        sweep_sorted(y)
        for node in reachable(y):
            if node.parents and node is not y:
                setattr(node, attribute, value)
    return sweep


BACKWARD_WRONG = [
    ("sorted by creation: notebook 05's backward, which the exercise replaces",
     backward_case(sweep_sorted), "your sweep orders the nodes by .number"),
    ("every path pushed on its own, with a stack (right values, cost 2^depth)",
     backward_case(sweep_path_by_path), "once per path (4096 paths)"),
    ("Kahn counting distinct users, each edge counting down", backward_case(
        lambda y: sweep_kahn(y, distinct=True)), "count every use, one per edge"),
    ("the same with a stack of ready nodes", backward_case(
        lambda y: sweep_kahn(y, distinct=True, stack=True)), "count every use, one per edge"),
    ("adjoints in between reset", backward_case(sweep_then("grad", 0.0)), "not only the inputs'"),
    ("values overwritten", backward_case(sweep_then("value", 0.0)), "changed the .value"),
    ("adjoints in between set to None", backward_case(sweep_then("grad", None)), "has None"),
    ("breadth-first order without the sort", backward_case(sweep_bfs_unsorted),
     "breadth-first list or queue"),
    ("FIFO, each node once, users not counted", backward_case(sweep_fifo_once),
     "before all the nodes that use it"),
    ("depth first, each node once", backward_case(sweep_dfs_once), "depth-first, each node once"),
    ("= instead of +=", backward_case(sweep_overwrite), "do not overwrite"),
    ("local partial only", backward_case(sweep_no_chain), "chain rule"),
    ("inputs first", backward_case(sweep_inputs_first), "from y back to the inputs"),
    ("recursive, once per path", backward_case(sweep_recursive), "double counting"),
    ("no reset between calls", backward_case(sweep_no_reset), "twice"),
    ("visited nodes kept between calls", backward_case(sweep_remembers), "changed no .grad"),
    ("raises KeyError", backward_case(sweep_raises), "raised KeyError"),
    ("the cell's placeholder body ...", backward_case(sweep_placeholder),
     "changed no .grad (is ... still the function's body?)"),
    ("two parameters", lambda: ad.check_backward(lambda y, z: None, Node), "of one node"),
    ("not a function", lambda: ad.check_backward(..., Node), "expected a function"),
]


# -- 06: layer gradient -----------------------------------------------------------------------

def layer(n=7, d=3, hidden=5, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    params = (rng.normal(size=(d, hidden)), rng.normal(size=hidden),
              rng.normal(size=(hidden, k)), rng.normal(size=k))
    labels = rng.integers(0, k, size=n)
    return X, params, labels


LAYERS = [layer(), layer(4, 2, 6, 3, seed=1), layer(9, 4, 3, 2, seed=2)]


def delta1(X, params, labels):
    """(delta2 W2^T) * (1 - h²), one row per sample."""
    W1, b1, W2, b2 = params
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta2 = (p - np.eye(W2.shape[1])[labels]) / len(labels)
    return (delta2 @ W2.T) * (1 - h**2)


def by_formula(X, params, labels):
    return X.T @ delta1(X, params, labels)


def with_slip(X, params, labels, slip):
    from ad_course.checkers.layer import layer_gradient
    return layer_gradient(X, *params, labels, slip=slip)


def by_reverse_mode(X, params, labels):
    W1, b1, W2, b2 = params
    W = ad.Variable(W1)
    z = np.tanh(X @ W + b1) @ W2 + b2
    ad.cross_entropy(z, labels).backward()
    return W.grad


def by_loop(X, params, labels):
    W1, b1, W2, b2 = params
    total = np.zeros_like(W1)
    for x, label in zip(X, labels):
        h = np.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        p = np.exp(z - z.max())
        p /= p.sum()
        p[label] -= 1
        total += np.outer(x, (W2 @ p) * (1 - h**2))
    return total / len(labels)


def by_central_difference(X, params, labels, h=1e-6):
    """dL/dW1 by central differences of the loss, entry by entry: right to about 1e-10."""
    W1, b1, W2, b2 = params

    def loss(W):
        return float(ad.cross_entropy(np.tanh(X @ W + b1) @ W2 + b2, labels))
    grad = np.zeros_like(W1)
    for index in np.ndindex(W1.shape):
        step = np.zeros_like(W1)
        step[index] = h
        grad[index] = (loss(W1 + step) - loss(W1 - step)) / (2 * h)
    return grad


def by_richardson(X, params, labels):
    """Central differences at h and 2h extrapolated (Richardson): right to ~5e-11, which the
    old tolerance 1e-10 accepted on every layer (chk46)."""
    return (4 * by_central_difference(X, params, labels, h=1e-3)
            - by_central_difference(X, params, labels, h=2e-3)) / 3


def layer_case(answer):
    def check():
        verdicts = [ad.check_layer_gradient(answer(X, p, lab), X, *p, lab) for X, p, lab in LAYERS]
        return next((v for v in verdicts if not v.ok), verdicts[0])
    return check


SQUARE = layer(5, 3, 5, 2, seed=3)  # the notebook's shapes: a batch as large as the layer


def square_case(answer, params_as_list=False):
    X, p, lab = SQUARE
    if params_as_list:
        return lambda: ad.check_layer_gradient(answer(X, p, lab), X, list(p), lab)
    return lambda: ad.check_layer_gradient(answer(X, p, lab), X, *p, lab)


def dl_dx(X, params, labels):
    """dL/dX = delta1 W1^T: the gradient with respect to the inputs, of X's shape (reader30)."""
    return delta1(X, params, labels) @ params[0].T


LAYER_RIGHT = [
    ("the parameters passed as one list", square_case(by_formula, params_as_list=True)),
    ("X^T [(delta2 W2^T) * (1 - h²)]", layer_case(by_formula)),
    ("reverse mode through ad.cross_entropy", layer_case(by_reverse_mode)),
    ("a loop over samples with np.outer", layer_case(by_loop)),
    ("a nested list", layer_case(lambda X, p, lab: by_formula(X, p, lab).tolist())),
]
LAYER_WRONG = [
    (slip, layer_case(lambda X, p, lab, slip=slip: with_slip(X, p, lab, slip)), hint_text)
    for slip, hint_text in [
        ("no onehot", "one-hot row is missing"), ("(1 - h)^2", "(1 - h)² is not 1 - h²"),
        ("no b1", "b1 is missing"), ("no tanh'", "(1 - h²) is missing"), ("1 - h", "not (1 - h)"),
        ("1 - pre^2", "the layer's output"), ("sum", "N times too large"),
        ("sign", "the sign is wrong"), ("no softmax", "softmax probabilities"),
    ]
] + [
    ("transposed", layer_case(lambda X, p, lab: by_formula(X, p, lab).T), "transposed"),
    ("central differences of the loss (the hint said 'go through delta2')",
     layer_case(by_central_difference), "as a finite difference gives"),
    ("central differences extrapolated by Richardson (chk46: accepted)",
     layer_case(by_richardson), "as a finite difference gives"),
    ("placeholder ...", layer_case(lambda X, p, lab: ...), "the placeholder"),
    ("a scalar", layer_case(lambda X, p, lab: 0.0), "of shape"),
    ("half the reference", layer_case(lambda X, p, lab: by_formula(X, p, lab) / 2),
     "differs from the reference by up to"),
    ("delta1 transposed (square batch)", square_case(
        lambda X, p, lab: with_slip(X, p, lab, "delta1 transposed")), "delta1 is transposed"),
    ("W2 delta2^T (square batch)", square_case(
        lambda X, p, lab: with_slip(X, p, lab, "W2 delta2^T")), "W2 delta2^T"),
    ("dL/dX instead of dL/dW1", square_case(dl_dx), "its transpose is not dL/dW1"),
]


# -- 05: a VJP rule ---------------------------------------------------------------------------

def lse_with(vjp, jvp=lambda t, ans, x: np.sum(t * np.exp(x - ans)), name="logsumexp"):
    def check():
        primitive = ad.defprimitive(name, lambda x: np.log(np.sum(np.exp(x))), jvps=[jvp],
                                    vjps=[vjp])
        return ad.check_logsumexp_rule(primitive)
    return check


def softmax_shifted(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


VJP_RIGHT = [
    ("g * exp(x - ans)", lse_with(lambda g, ans, x: g * np.exp(x - ans))),
    ("g * shifted softmax", lse_with(lambda g, ans, x: g * softmax_shifted(x))),
    ("g * exp(x) / sum(exp(x))", lse_with(lambda g, ans, x: g * np.exp(x) / np.sum(np.exp(x)))),
    ("jvp as a dot product", lse_with(lambda g, ans, x: np.exp(x - ans) * g,
                                      jvp=lambda t, ans, x: t @ np.exp(x - ans))),
]
def lse_by_the_engine(z):
    return np.log(np.sum(np.exp(z)))


VJP_WRONG = [
    ("vjp = g * ad.grad of the numpy function (chk46: accepted)", lse_with(
        lambda g, ans, x: g * ad.grad(lse_by_the_engine)(x)), "uses automatic differentiation"),
    ("jvp = ad.jvp of the numpy function (chk46: accepted)", lse_with(
        lambda g, ans, x: g * np.exp(x - ans),
        jvp=lambda t, ans, x: ad.jvp(lse_by_the_engine, x, t)[1]), "uses automatic differentiation"),
    ("vjp(g, x, ans): parameters in another order", lse_with(lambda g, x, ans: g * np.exp(x - ans)),
     "ans comes second"),
    ("jvps= and vjps= swapped", lse_with(lambda t, ans, x: np.sum(t * np.exp(x - ans)),
                                         jvp=lambda g, ans, x: g * np.exp(x - ans)), "swapped"),
    ("adjoint missing", lse_with(lambda g, ans, x: np.exp(x - ans)), "incoming adjoint is missing"),
    ("not normalised", lse_with(lambda g, ans, x: g * np.exp(x)), "normalisation is missing"),
    ("divided by ans", lse_with(lambda g, ans, x: g * np.exp(x) / ans), "not by ans"),
    ("exponent upside down", lse_with(lambda g, ans, x: g * np.exp(ans - x)), "upside down"),
    ("sign", lse_with(lambda g, ans, x: -g * np.exp(x - ans)), "the sign is wrong"),
    ("summed to a scalar", lse_with(lambda g, ans, x: g * np.sum(np.exp(x - ans))), "has shape ()"),
    ("float(ans): not nestable", lse_with(lambda g, ans, x: g * np.exp(x - float(ans))),
     "differentiated again"),
    ("jvp not summed", lse_with(lambda g, ans, x: g * np.exp(x - ans),
                                jvp=lambda t, ans, x: t * np.exp(x - ans)), "sum the terms"),
    ("jvp without tangent", lse_with(lambda g, ans, x: g * np.exp(x - ans),
                                     jvp=lambda t, ans, x: np.sum(np.exp(x - ans))),
     "incoming tangent is missing"),
    ("vjp with 2.5 for the adjoint", lse_with(lambda g, ans, x: 2.5 * np.exp(x - ans)),
     "your vjp(-1, ans, x)"),
    ("vjp shifts x in place", lse_with(lambda g, ans, x: (x.__isub__(ans), g * np.exp(x))[1]),
     "changed its argument x in place"),
    ("vjp returns a list", lse_with(lambda g, ans, x: list(g * np.exp(x - ans))),
     "returned a list: return a numpy array"),
    ("jvp scales t in place", lse_with(lambda g, ans, x: g * np.exp(x - ans),
                                       jvp=lambda t, ans, x: (t.__imul__(np.exp(x - ans)),
                                                              np.sum(t))[1]),
     "changed its argument t in place"),
    ("error in the rule", lse_with(lambda g, ans, x: g * np.exp(x - undefined_adjoint)),  # noqa: F821
     "raised NameError"),
    ("a plain function", lambda: ad.check_logsumexp_rule(lambda x: np.log(np.sum(np.exp(x)))),
     "the primitive that ad.defprimitive returns"),
    ("jvps=[None]: the jvp left out", lse_with(lambda g, ans, x: g * np.exp(x - ans), jvp=None),
     "needs one jvp and one vjp"),
]


# -- 07: Jacobians both ways --------------------------------------------------------------------

def forward_columns(F, x):
    return np.column_stack([ad.jvp(F, x, e)[1] for e in np.eye(x.size)])


def forward_duals(F, x):
    return np.array([[*F(ad.Dual(x, e)).dval] for e in np.eye(x.size)]).T


def forward_loop(F, x):
    columns = []
    for j in range(x.size):
        seed = np.zeros(x.size)
        seed[j] = 1.0
        columns.append(ad.jvp(F, x, seed)[1])
    return np.stack(columns, axis=1)


def reverse_grad(F, x):
    m = np.size(F(x))
    return np.vstack([ad.grad(lambda v: F(v) @ e)(x) for e in np.eye(m)])


def reverse_seed(F, x):
    rows = []
    for e in np.eye(np.size(F(x))):
        v = ad.Variable(x)
        F(v).backward(seed=e)
        rows.append(v.grad)
    return np.array(rows)


def reverse_one_graph(F, x):
    v = ad.Variable(x)
    y = F(v)
    rows = []
    for e in np.eye(np.size(y.value)):
        v.zero_grad()
        y.backward(seed=e)
        rows.append(v.grad)
    return np.array(rows)


def reverse_m_from_a_variable(F, x):  # reader34 R2: one unswept evaluation to learn m
    m = F(ad.Variable(x)).value.size
    return np.vstack([ad.grad(lambda v: F(v) @ e)(x) for e in np.eye(m)])


def complex_step_jacobian(F, x):
    return np.column_stack([np.imag(F(x + 1e-30j * e)) / 1e-30 for e in np.eye(x.size)])


class ScalarDual:
    """A scalar dual number as notebook 04 builds one (MiniDual), for object arrays."""

    PARTIALS = {np.sin: np.cos, np.cos: lambda v: -np.sin(v), np.exp: np.exp,
                np.tanh: lambda v: 1 - np.tanh(v) ** 2}

    def __init__(self, val, dval=0.0):
        self.val, self.dval = val, dval

    @staticmethod
    def of(other):
        return other if isinstance(other, ScalarDual) else ScalarDual(other)

    def __add__(self, other):
        other = ScalarDual.of(other)
        return ScalarDual(self.val + other.val, self.dval + other.dval)

    __radd__ = __add__

    def __neg__(self):
        return ScalarDual(-self.val, -self.dval)

    def __sub__(self, other):
        return self + -ScalarDual.of(other)

    def __rsub__(self, other):
        return ScalarDual.of(other) - self

    def __mul__(self, other):
        other = ScalarDual.of(other)
        return ScalarDual(self.val * other.val, self.dval * other.val + self.val * other.dval)

    __rmul__ = __mul__

    def __pow__(self, k):
        return ScalarDual(self.val**k, k * self.val ** (k - 1) * self.dval)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc not in self.PARTIALS:
            return NotImplemented
        return ScalarDual(ufunc(self.val), self.PARTIALS[ufunc](self.val) * self.dval)


def forward_object_duals(F, x):
    """A forward pass on an object array of scalar duals (notebook 04's MiniDual)."""
    columns = []
    for e in np.eye(x.size):
        y = F(np.array([ScalarDual(xi, ei) for xi, ei in zip(x, e)], dtype=object))
        columns.append([yi.dval for yi in y])
    return np.column_stack(columns)


def complex_step_through_objects(F, x):
    """A complex step on an object array: an evaluation that is no forward pass (chk46)."""
    return np.column_stack([np.imag(np.array(F(np.array(list(x + 1e-30j * e), dtype=object)),
                                             dtype=complex)) / 1e-30 for e in np.eye(x.size)])


JACOBIAN_RIGHT = [
    ("jvp columns, grad rows", lambda: ad.check_jacobian(forward_columns, reverse_grad)),
    ("Duals by hand, backward(seed)", lambda: ad.check_jacobian(forward_duals, reverse_seed)),
    ("loop with np.stack, one graph", lambda: ad.check_jacobian(forward_loop, reverse_one_graph)),
    ("m from F(Variable(x)).value.size, then m grads (reader34 R2)",
     lambda: ad.check_jacobian(forward_columns, reverse_m_from_a_variable)),
    ("an object array of scalar duals per column", lambda: ad.check_jacobian(forward_object_duals,
                                                                             reverse_grad)),
]
JACOBIAN_WRONG = [
    ("forward rows (transposed)", lambda: ad.check_jacobian(lambda F, x: forward_columns(F, x).T,
                                                            reverse_grad), "transposed"),
    ("reverse columns (transposed)",
     lambda: ad.check_jacobian(forward_columns, lambda F, x: reverse_grad(F, x).T), "transposed"),
    ("one forward pass with seed 1", lambda: ad.check_jacobian(
        lambda F, x: ad.jvp(F, x, np.ones(x.size))[1], reverse_grad), "J·1"),
    ("one reverse pass of the sum", lambda: ad.check_jacobian(
        forward_columns, lambda F, x: ad.grad(lambda v: np.sum(F(v)))(x)), "1ᵀJ"),
    ("reverse built with forward passes",
     lambda: ad.check_jacobian(forward_columns, forward_columns), "evaluated F on Duals"),
    ("forward built with reverse passes",
     lambda: ad.check_jacobian(reverse_grad, reverse_grad), "evaluated F on Variables"),
    ("one reverse pass, then complex steps", lambda: ad.check_jacobian(
        forward_columns, lambda F, x: (ad.grad(lambda v: np.sum(F(v)))(x), complex_step_jacobian(F, x))[1]),
     "times on plain arrays"),
    ("n forward passes thrown away, then complex steps", lambda: ad.check_jacobian(
        lambda F, x: (forward_columns(F, x), complex_step_jacobian(F, x))[1], reverse_grad),
     "times on plain arrays"),
    ("sign", lambda: ad.check_jacobian(lambda F, x: -forward_columns(F, x), reverse_grad),
     "wrong sign"),
    ("reverse passes swept twice", lambda: ad.check_jacobian(
        forward_columns, lambda F, x: (reverse_m_from_a_variable(F, x),
                                       reverse_m_from_a_variable(F, x))[1]),
     "made 10 reverse passes; m = 5 outputs need 5"),
    ("forward passes counted twice", lambda: ad.check_jacobian(
        lambda F, x: (forward_columns(F, x), forward_columns(F, x))[1], reverse_grad),
     "forward passes"),
    ("grad of a vector output", lambda: ad.check_jacobian(forward_columns,
                                                          lambda F, x: ad.grad(F)(x)), "raised"),
    ("one argument", lambda: ad.check_jacobian(lambda F: None, reverse_grad), "jacobian_forward(F, x)"),
    ("complex Jacobian", lambda: ad.check_jacobian(lambda F, x: forward_columns(F, x) + 0.1j,
                                                   reverse_grad), "complex"),
    ("no return", lambda: ad.check_jacobian(lambda F, x: None, reverse_grad), "forget to return"),
    ("forward by complex steps on object arrays (chk46: counted as forward passes)",
     lambda: ad.check_jacobian(complex_step_through_objects, reverse_grad), "times on plain arrays"),
    ("forward by central differences", lambda: ad.check_jacobian(
        lambda F, x: np.column_stack([(F(x + 1e-6 * e) - F(x - 1e-6 * e)) / 2e-6
                                      for e in np.eye(x.size)]), reverse_grad),
     "as a finite difference does"),
    ("ad.jvp without [1]: the pairs stacked", lambda: ad.check_jacobian(
        lambda F, x: np.column_stack([ad.jvp(F, x, e) for e in np.eye(x.size)]), reverse_grad),
     "returns a pair, (F(x), J v)"),
    ("ad.jvp(...)[0]: the value F(x) in every column", lambda: ad.check_jacobian(
        lambda F, x: np.column_stack([ad.jvp(F, x, e)[0] for e in np.eye(x.size)]), reverse_grad),
     "every column of your forward Jacobian is F(x)"),
]


# -- 08: dE/dkappa ----------------------------------------------------------------------------

N, R_MAX = 160, 25.0
STATES = ((0, 0), (0, 1), (1, 0))


def grid(n):
    return R_MAX / (n + 1) * np.arange(1, n + 1)


R = grid(N)


def hamiltonian(kappa, sigma, m_c, ell, n=N):
    h, r = R_MAX / (n + 1), grid(n)
    second = (np.eye(n, k=1) - 2 * np.eye(n) + np.eye(n, k=-1)) / h**2
    return -second / m_c + np.eye(n) * (-kappa / r + sigma * r + ell * (ell + 1) / (m_c * r**2))


def fitted(params=EICHTEN, steps=6):
    """theta as notebook 08 fits it on this grid: Newton's method from Eichten et al.'s
    parameters until M = 2 m_c + E of 1S, 2S, 1P are the spin-averaged PDG masses."""
    targets = spin_averaged_masses()  # notebook 08's, GeV
    theta = np.array(params, dtype=float)
    for _ in range(steps):
        masses = [2 * theta[2] + np.linalg.eigh(hamiltonian(*theta, ell))[0][lv] for ell, lv in STATES]
        jacobian = [[level_derivative_by_ad(hamiltonian, theta, ell, lv, q) + 2 * (q == "m_c")
                     for q in ("kappa", "sigma", "m_c")] for ell, lv in STATES]
        theta = theta - np.linalg.solve(jacobian, np.array(masses) - targets)
    return theta


PARAMS = fitted()  # the exercises' parameters: the fit's theta


def waves(level_of=lambda level: level, params=PARAMS, n=N):
    return [np.linalg.eigh(hamiltonian(*params, ell, n))[1][:, level_of(level)]
            for ell, level in STATES]


def rows():
    """Row ``level`` of eigh's eigenvectors, a common numpy slip for the column."""
    return [np.linalg.eigh(hamiltonian(*PARAMS, ell))[1][level] for ell, level in STATES]


ROUNDED = np.round(PARAMS, 3)  # parameters typed from a table printed with 3 decimals
FINER = grid(2 * N)  # twice as many grid points


def kappa(answer):
    return lambda: ad.check_kappa_derivative(answer(), hamiltonian, PARAMS, R, STATES)


KAPPA_RIGHT = [
    ("a function of (psi, r): -sum(psi**2 / r)", kappa(lambda: lambda psi, r: -np.sum(psi**2 / r))),
    ("a function of (psi, r): -psi @ (psi / r)", kappa(lambda: lambda psi, r: -psi @ (psi / r))),
    ("a function returning a one-element array (chk46: refused as shape (3, 1))",
     kappa(lambda: lambda psi, r: np.array([-np.sum(psi**2 / r)]))),
    ("a function returning a float32", kappa(lambda: lambda psi, r: np.float32(-np.sum(psi**2 / r)))),
    ("a function summing in a loop", kappa(lambda: lambda psi, r: -sum(p * p / x for p, x in zip(psi, r)))),
]
# the right values as numbers: the exercise asks for the function (AD's numbers are the
# same numbers, chk46); each form is refused with the way to pass the function
KAPPA_AS_NUMBERS = [
    ("-sum(u² / r)", lambda: [-np.sum(u**2 / R) for u in waves()]),
    ("-u @ (u / r), a tuple", lambda: tuple(-(u @ (u / R)) for u in waves())),
    ("Variables that leaked out", lambda: [ad.Variable(-np.sum(u**2 / R)) for u in waves()]),
    ("einsum, an array", lambda: -np.einsum("si,i,si->s", np.array(waves()), 1 / R,
                                            np.array(waves()))),
    ("typed from a printout with 4 decimals", lambda: [round(-np.sum(u**2 / R), 4) for u in waves()]),
    ("float32 values", lambda: np.array([-np.sum(u**2 / R) for u in waves()], np.float32)),
    ("rounded to 8 decimals (numpy's printout)", lambda: [round(-np.sum(u**2 / R), 8)
                                                          for u in waves()]),
    ("AD's gradient through eigh, no derivation", lambda: [
        level_derivative_by_ad(hamiltonian, PARAMS, ell, lv, "kappa") for ell, lv in STATES]),
]


def kappa_stored():
    """A function returning AD's values, computed beforehand, looked up by the level psi is
    (chk46): right on 1S, 2S, 1P only."""
    stored = [(u, level_derivative_by_ad(hamiltonian, PARAMS, ell, lv, "kappa"))
              for u, (ell, lv) in zip(waves(), STATES)]

    def dM_dkappa(psi, r):
        return next((value for u, value in stored if abs(abs(u @ psi) - 1) < 1e-9), -0.5)
    return dM_dkappa


def level(th, ell, lv):
    return np.linalg.eigh(hamiltonian(*th, ell))[0][lv]


def difference(which, h, central=True):
    """The levels' derivative in parameter ``which`` by a central (or forward) difference."""
    e = np.eye(3)[which] * h
    return [(level(PARAMS + e, ell, lv) - level(PARAMS - e if central else PARAMS, ell, lv))
            / (2 * h if central else h) for ell, lv in STATES]


def reference_hidden(check, parameter):
    """The verdict of ``check``, its message replaced when it prints a reference value (a
    hint that does lets three wrong tries copy the answer in, one state per try)."""
    def run():
        verdict = check()
        exact = [level_derivative_by_ad(hamiltonian, PARAMS, ell, lv, parameter)
                 for ell, lv in STATES]
        shown = [f"{v:.{d}g}" for v in exact for d in (3, 4, 5, 6)]
        leaked = [text for text in shown if text in verdict.message]
        return type(verdict)(verdict.ok, f"prints the reference {leaked}") if leaked else verdict
    return run


def with_ell0_for_1p(parameter, level0):
    """1P computed with the ell = 0 Hamiltonian's eigenvector ``level0`` (the others right)."""
    def values():
        r_power = -1 if parameter == "kappa" else 1
        sign = -1 if parameter == "kappa" else 1
        u0 = np.linalg.eigh(hamiltonian(*PARAMS, 0))[1][:, level0]
        right = [sign * np.sum(u**2 * R**r_power) for u in waves()]
        return right[:2] + [sign * np.sum(u0**2 * R**r_power)]
    return values
KAPPA_WRONG = [
    *((f"the right values as numbers: {label}", kappa(values),
       "asks for the function dM_dkappa(psi, r) itself") for label, values in KAPPA_AS_NUMBERS),
    ("a function returning AD's values stored per level (chk46)", kappa(kappa_stored),
     "not for the next S level, 3S"),
    ("a function of (psi, r) that takes AD's gradient (no derivation)", kappa(
        lambda: lambda psi, r: ad.grad(lambda th: np.linalg.eigh(hamiltonian(*th, 0))[0][0])(
            PARAMS)[0]), "uses automatic differentiation"),
    ("a function of (psi, r): +sum(psi**2 / r)", kappa(lambda: lambda psi, r: np.sum(psi**2 / r)),
     "the sign"),
    ("a function of one argument", kappa(lambda: lambda psi: 0.0), "a function of (psi, r)"),
    ("the exercise cell's function, its body still the placeholder ...",
     kappa(lambda: lambda psi, r: None), "placeholder"),
    ("+<1/r>", kappa(lambda: [np.sum(u**2 / R) for u in waves()]), "the sign"),
    ("<r>", kappa(lambda: [np.sum(u**2 * R) for u in waves()]), "that is <r>"),
    ("-<1/r²>", kappa(lambda: [-np.sum(u**2 / R**2) for u in waves()]), "1/r²"),
    ("sum(u / r)", kappa(lambda: [-np.sum(u / R) for u in waves()]), "u_i²"),
    ("times 0.1973", kappa(lambda: [-0.1973 * np.sum(u**2 / R) for u in waves()]), "0.1973"),
    ("ground state for all", kappa(lambda: [-np.sum(u**2 / R) for u in waves(lambda lv: 0)]),
     "lowest eigenvector"),
    ("eigenvector taken as a row", kappa(lambda: [-np.sum(u**2 / R) for u in rows()]),
     "columns of its second output"),
    ("two numbers", kappa(lambda: [1.0, 2.0]), "of shape (3,)"),
    ("placeholder", kappa(lambda: ...), "the placeholder"),
    ("complex", kappa(lambda: [-np.sum(u**2 / R) + 0.2j for u in waves()]), "complex"),
    ("1e-3 off", kappa(lambda: [-np.sum(u**2 / R) * (1 + 1e-3) for u in waves()]),
     f"your {-np.sum(waves()[0] ** 2 / R) * (1 + 1e-3):.6g}"),
    ("typed with 3 decimals", kappa(lambda: [round(-np.sum(u**2 / R), 3) for u in waves()]),
     "not right to 4 decimals"),
    ("typed with 2 decimals", kappa(lambda: [round(-np.sum(u**2 / R), 2) for u in waves()]),
     "not right to 4 decimals"),
    ("1S and 2S swapped", kappa(lambda: [-np.sum(u**2 / R) for u in np.array(waves())[[1, 0, 2]]]),
     "wrong order"),
    ("reversed, typed with 4 decimals", kappa(lambda: [round(-np.sum(u**2 / R), 4)
                                                       for u in waves()][::-1]), "wrong order"),
    ("parameters typed from a table with 3 decimals",
     kappa(lambda: [-np.sum(u**2 / R) for u in waves(params=ROUNDED)]), "rounded to 3 decimals"),
    ("a finer grid", kappa(lambda: [-np.sum(u**2 / FINER) for u in waves(n=2 * N)]), "grid r"),
    ("1e-7 off, as a finite difference is",
     kappa(lambda: [-np.sum(u**2 / R) * (1 + 1e-7) for u in waves()]), "finite difference"),
    ("central difference in kappa, h = 1e-4", kappa(lambda: difference(0, 1e-4)),
     "not to round-off, as a finite difference in kappa does"),
    ("central difference in kappa, h = 1e-5", kappa(lambda: difference(0, 1e-5)),
     "derive it by Hellmann-Feynman"),
    ("forward difference in kappa, h = 1e-3", kappa(lambda: difference(0, 1e-3, central=False)),
     "as a finite difference in kappa gives"),
    ("all zero: the hint names the state, not its value",
     reference_hidden(kappa(lambda: [0.0, 0.0, 0.0]), "kappa"), "state 0 (1S)"),
    ("1S right, the others zero: no value handed out",
     reference_hidden(kappa(lambda: [-np.sum(waves()[0] ** 2 / R), 0.0, 0.0]), "kappa"),
     "state 1 (2S)"),
    ("1S, 2S right, 1P 1.3 times: no value handed out",
     reference_hidden(kappa(lambda: [-np.sum(u**2 / R) * f for u, f in zip(waves(), (1, 1, 1.3))]),
                      "kappa"), "too large"),
    ("1P with the ell = 0 Hamiltonian, level 0", kappa(with_ell0_for_1p("kappa", 0)),
     "1P has ell = 1"),
    ("a hamiltonian that raises", lambda: ad.check_kappa_derivative(
        [0.0, 0.0, 0.0], lambda *args: 1 / 0, PARAMS, R, STATES), "raised ZeroDivisionError"),
    ("values at Eichten's parameters, and EICHTEN passed for theta (reader34 A2)",
     lambda: ad.check_kappa_derivative([-np.sum(u**2 / R) for u in waves(params=EICHTEN)],
                                       hamiltonian, EICHTEN, R, STATES),
     "are Eichten et al.'s parameters (EICHTEN)"),
    ("values at theta rounded to 3 decimals, and the rounded theta passed",
     lambda: ad.check_kappa_derivative([-np.sum(u**2 / R) for u in waves(params=ROUNDED)],
                                       hamiltonian, ROUNDED, R, STATES),
     "not the fitted parameters"),
]


def sigma(answer):
    return lambda: ad.check_sigma_derivative(answer(), hamiltonian, PARAMS, R, STATES)


def sigma_by_reverse_mode():
    gradients = []
    for ell, level in STATES:
        theta = ad.Variable(PARAMS)
        np.linalg.eigh(hamiltonian(theta[0], theta[1], theta[2], ell))[0][level].backward()
        gradients.append(theta.grad[1])
    return gradients


SIGMA_RIGHT = [
    ("reverse mode through eigh", sigma(sigma_by_reverse_mode)),
    ("<r> from the eigenvectors, a tuple", sigma(lambda: tuple(u @ (R * u) for u in waves()))),
    ("ad.grad of the level, an array", sigma(lambda: np.array([ad.grad(
        lambda th, ell=ell, level=level: np.linalg.eigh(hamiltonian(*th, ell))[0][level])(PARAMS)[1]
        for ell, level in STATES]))),
    ("typed from a printout with 4 decimals", sigma(lambda: [round(g, 4)
                                                             for g in sigma_by_reverse_mode()])),
]
SIGMA_WRONG = [
    ("in fm", sigma(lambda: [0.1973 * g for g in sigma_by_reverse_mode()]), "these are in fm"),
    ("-<r>", sigma(lambda: [-g for g in sigma_by_reverse_mode()]), "the sign"),
    ("<1/r>", sigma(lambda: [np.sum(u**2 / R) for u in waves()]), "that is <1/r>"),
    ("sum(u r)", sigma(lambda: [np.sum(u * R) for u in waves()]), "u_i²"),
    ("ground state for all", sigma(lambda: [np.sum(u**2 * R) for u in waves(lambda lv: 0)]),
     "lowest eigenvector"),
    ("dM/dkappa instead", sigma(lambda: [-np.sum(u**2 / R) for u in waves()]), "sum(u**2 * r)"),
    ("eigenvector taken as a row", sigma(lambda: [np.sum(u**2 * R) for u in rows()]),
     "columns of its second output"),
    ("typed with 3 decimals", sigma(lambda: [round(g, 3) for g in sigma_by_reverse_mode()]),
     "not right to 4 decimals"),
    ("in fm, typed with 4 decimals", sigma(lambda: [round(0.1973 * g, 4)
                                                    for g in sigma_by_reverse_mode()]), "in fm"),
    ("in fm, typed with 3 decimals", sigma(lambda: [round(0.1973 * g, 3)
                                                    for g in sigma_by_reverse_mode()]), "in fm"),
    ("reversed", sigma(lambda: sigma_by_reverse_mode()[::-1]), "wrong order"),
    ("twice <r> (M = 2 m_c + E read as 2 E)", sigma(lambda: [2 * g for g in sigma_by_reverse_mode()]),
     "sum(u**2 * r)"),
    ("parameters typed from a table with 3 decimals",
     sigma(lambda: [np.sum(u**2 * R) for u in waves(params=ROUNDED)]), "rounded to 3 decimals"),
    ("a finer grid", sigma(lambda: [np.sum(u**2 * FINER) for u in waves(n=2 * N)]), "grid r"),
    ("placeholder", sigma(lambda: ...), "the placeholder"),
    ("central difference in sigma, h = 1e-4", sigma(lambda: difference(1, 1e-4)),
     "compute it by reverse mode"),
    ("central difference in sigma, h = 1e-5", sigma(lambda: difference(1, 1e-5)),
     "not to round-off, as a finite difference in sigma does"),
    ("all zero: the hint names the state, not its value",
     reference_hidden(sigma(lambda: [0.0, 0.0, 0.0]), "sigma"), "state 1 (2S)"),
    ("2S right, the others zero: no value handed out",
     reference_hidden(sigma(lambda: [0.0, sigma_by_reverse_mode()[1], 0.0]), "sigma"),
     "state 2 (1P)"),
    ("1S half of it: a rough factor, not the value",
     reference_hidden(sigma(lambda: [g * f for g, f in zip(sigma_by_reverse_mode(), (0.5, 1, 1))]),
                      "sigma"), "about 1/2 of the right value"),
    ("1P with the ell = 0 Hamiltonian, level 2 (the third state)",
     sigma(with_ell0_for_1p("sigma", 2)), "1P has ell = 1"),
    ("values at Eichten's parameters, and EICHTEN passed for theta (reader34 A2)",
     lambda: ad.check_sigma_derivative([np.sum(u**2 * R) for u in waves(params=EICHTEN)],
                                       hamiltonian, EICHTEN, R, STATES),
     "pass theta itself"),
    ("1P with the ell = 0 Hamiltonian, level 0", sigma(with_ell0_for_1p("sigma", 0)),
     "from the Hamiltonian with ell = 1"),
]


# -- numbers ------------------------------------------------------------------------------------

def loss01(a, b):
    return (a - 1) ** 2 + 5 * (b - a / 2) ** 2


CONTEXT = {"01-1": {"loss": loss01}, "08-1": {"params": np.array([0.012, 30.0, 0.7])}}


def not_saying(check, *texts):
    """The verdict of ``check``, its message replaced when it contains one of ``texts`` (an
    answer a prediction exercise must not hand out)."""
    def run():
        verdict = check()
        said = [text for text in texts if text in verdict.message]
        return type(verdict)(verdict.ok, f"says {said}") if said else verdict
    return run


def answer(key, value):
    return lambda: ad.check_answer(key, value, **CONTEXT.get(key, {}))


def number_cases():
    """For each question: right variants (the reference as ints, floats, a list, an array)
    and wrong ones (each typical mistake, a shifted value, bad input)."""
    cases = {}
    for key, question in ad.QUESTIONS.items():
        reference = np.asarray(question.reference(**CONTEXT.get(key, {})), dtype=float).ravel()
        right = [("numpy array", answer(key, reference.copy())),
                 ("list of floats", answer(key, [float(v) for v in reference])),
                 ("tuple of numpy scalars", answer(key, tuple(np.float64(v) for v in reference)))]
        if question.size == 1:
            right[1] = ("a float", answer(key, float(reference[0])))
            right[2] = ("a numpy scalar", answer(key, np.float64(reference[0])))
        if question.integer:
            right.append(("ints", answer(key, [int(v) for v in reference])))
        wrong = [(hint[:40], answer(key, value), hint)
                 for value, hint in question.mistakes(reference, **CONTEXT.get(key, {}))]
        shifted = reference * 2 + (1 if question.integer else 0.25)
        wrong.append(("2 x + 1 (or + 0.25)", answer(key, shifted), question.otherwise))
        wrong.append(("placeholder ...", answer(key, ...), "the placeholder"))
        wrong.append(("a string", answer(key, "1"), "got a str"))
        wrong.append(("too many numbers", answer(key, list(reference) + [1.0]), "number(s), got"))
        wrong.append(("complex", answer(key, reference + 0.5j), "complex"))
        wrong.append(("strings in a list", answer(key, [str(v) for v in reference]), "got a list"))
        right.append(("complex with imaginary part 0", answer(key, reference.astype(complex))))
        cases[f"check_answer {key}"] = (right, wrong)
    cases["check_answer 01-1"][1].append(
        ("2 / lambda_max to 3 digits, 0.154 (0.24 % off)",
         answer("01-1", float(f"{ad.QUESTIONS['01-1'].reference(loss=loss01):.3g}")),
         "close to 2 / lambda_max, the largest stable learning rate, but not within 0.2 %: give "
         "more digits"))
    cases["check_answer 04-4"][1].append(
        ("the dual number itself, not its d-part", answer("04-4", TinyDual(-0.0, -1.0)),
         ": take its .dval (the derivative) or .val"))
    cases["check_answer 07-4"][1].append(
        ("the right vectors side by side (np.column_stack)",
         answer("07-4", np.column_stack([[1.0, -2.0], [1.0, -2.0]])), "in another order"))
    cases["check_answer 08-3"][1].append(
        ("(3, 2): the hint points to the model, not to the factors",
         not_saying(answer("08-3", (3.0, 2.0)), "like N without", "grows 4 times"),
         "what the backward sweep must keep"))
    cases["check_answer 02-1"][1].append(
        ("a generator of the counts", answer("02-1", (2 ** (n - 1) for n in range(2, 7))),
         "make a list of them"))
    cases["check_answer 01-4"][1].append(
        ("the two paths as columns of a 5 x 2 array",
         answer("01-4", np.array([[1, -1, 1, -1, 1], [1, 0, 0, 0, 0]], dtype=float).T),
         "your 5 x 2 array has the right numbers, but read row by row"))
    # prediction exercises: a hint names the slip and where to look, never the answer (the
    # texts below are what these hints said before: each handed out a number or a formula)
    for key, value, said in (
            ("01-4", (1, -1, 1, -1, 1, 1, -1, 1, -1, 1), ["1 - 2 eta = 0"]),
            ("01-4", (1, 1, 1, 1, 1, 1, 0, 0, 0, 0), ["1 - 2 eta = -1"]),
            ("02-4", (80, 800), ["n - 1 steps", "8 operations each"]),
            ("02-4", (72, 720), ["99 steps"]),
            ("03-4", (0.5, 0.5), ["rounds to 1", "two equal numbers"]),
            ("03-4", (0.0, 0.0), ["= 1/2", "0.5"]),
            ("03-4", (math.inf, 0.5), ["0 / h = 0", "exactly 0"]),
            ("03-4", (0.5, 0.0), ["other way round"]),
            ("04-4", 1.0, ["-x branch", "-1"]),
            ("07-4", (3.0, 2.0, 3.0, 2.0), ["2 - 1", "1 - 3"]),  # chk46: A v written out
            ("08-3", (2.0, 2.0), ["so x4"]),  # chk46: the first factor stated
            ("05-5", (12283, 60, 0.0), ["5 (n - 1) + 1", "56"]),
            ("05-5", (12283, 55, 0.0), ["5 (n - 1) + 1", "56"]),
            ("05-5", (12283, 56, 1.0), ["gives 0"]),
            ("05-5", (12283, 56, ad.derivative(lambda v: ad.logistic_map(v, 12), 0.3)),
             ["gives 0"])):
        cases[f"check_answer {key}"][1].append(
            (f"{value}: the hint does not hand out the prediction",
             not_saying(answer(key, value), *said), "is not"))
    trace = {"x1": 2.0, "x2": 1.0}  # the gradient as notebook 05's trace table gives it
    cases["check_answer 05-1"][1].extend([
        ("the trace table's dict", answer("05-1", trace), "(g['x1'], g['x2']) for g = this dict"),
        ("the dict's .values()", answer("05-1", trace.values()),
         "(g['x1'], g['x2']) for g = this dict"),
        ("a dict of other names", answer("05-1", {"a": 2.0, "b": 1.0}), "pass its numbers"),
        ("a tuple of Duals", answer("05-1", (ad.Dual(2.0, 0.0), ad.Dual(1.0, 0.0))),
         "take each one's .dval"),
    ])
    return cases


# -- functions: 05-2 count_paths, 07-3 newton_cg -------------------------------------------

def paths_counted_as(kind):
    """notebook 05's answer, counting in Python ints (``kind=int``), or in floats or numpy
    int64 (wrong on 2^60 + 1 and 2^999 paths)."""
    def count(y, x):
        paths = {y: kind(1)}
        for node in sorted(reachable(y), key=lambda n: -n.number):
            for parent, _ in node.parents:
                paths[parent] = paths.get(parent, kind(0)) + paths.get(node, kind(0))
        return paths.get(x, kind(0))
    return count


paths_topological = paths_counted_as(int)  # notebook 05's answer


def paths_kahn(y, x):
    users, stack, seen = defaultdict(int), [y], {y}
    while stack:
        for parent, _ in stack.pop().parents:
            users[parent] += 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    paths, ready = defaultdict(int, {y: 1}), [y]
    while ready:
        node = ready.pop()
        for parent, _ in node.parents:
            paths[parent] += paths[node]
            users[parent] -= 1
            if users[parent] == 0:
                ready.append(parent)
    return paths[x]


def paths_memo(y, x, memo=None):
    memo = {} if memo is None else memo
    if y is x:
        return 1
    if y not in memo:
        memo[y] = sum(paths_memo(p, x, memo) for p, _ in y.parents)
    return memo[y]


def paths_bfs(y, x):
    paths, order, seen = {y: 1}, [y], {y}
    for node in order:
        for parent, _ in node.parents:
            paths[parent] = paths.get(parent, 0) + paths.get(node, 0)
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
    return paths.get(x, 0)


def paths_distinct(y, x):
    paths = {y: 1}
    for node in sorted(reachable(y), key=lambda n: -n.number):
        for parent in {id(p): p for p, _ in node.parents}.values():
            paths[parent] = paths.get(parent, 0) + paths[node]
    return paths.get(x, 0)


def paths_recursive(y, x):  # the path-sum recursion: one visit per path
    if y is x:
        return 1
    return sum(paths_recursive(p, x) for p, _ in y.parents)


def paths_case(count):
    return lambda: ad.check_count_paths(count, Node, ad.logistic_map)


def silenced(count):
    def quiet(y, x):
        with np.errstate(over="ignore"):  # numpy's overflow warning, as a student may ignore it
            return count(y, x)
    return quiet


PATHS_RIGHT = [("sorted, as notebook 05", paths_case(paths_topological)),
               ("Kahn", paths_case(paths_kahn)),
               ("a 0-d int array", paths_case(lambda y, x: np.array(paths_kahn(y, x), dtype=object)))]
PATHS_WRONG = [
    ("counted in floats", paths_case(paths_counted_as(float)), "counted in floats"),
    ("counted in numpy int64", paths_case(paths_counted_as(np.int64)), "overflow"),
    ("counted in numpy int64, its warning silenced", paths_case(silenced(paths_counted_as(np.int64))),
     "wrapped around"),
    ("breadth first, unsorted", paths_case(paths_bfs), "reversed topological order"),
    ("distinct parents", paths_case(paths_distinct), "two paths"),
    ("number of nodes", paths_case(lambda y, x: len(reachable(y))), "number of nodes"),
    ("2^(n-1) always", paths_case(lambda y, x: 8), "you count 8 paths"),
    ("2^(nodes // 5): the breadth-first slip's count on one graph by coincidence",
     paths_case(lambda y, x: 2 ** (len(reachable(y)) // 5)), "you count 2 paths, there are 6"),
    ("the recursion, once per path", paths_case(paths_recursive), "once per path"),
    ("memoised recursion", paths_case(paths_memo), "raised RecursionError"),
    ("True for one path", paths_case(lambda y, x: bool(paths_kahn(y, x))), "got a bool"),
    ("a float answer", paths_case(lambda y, x: 2.5), "whole number"),
    ("raises", paths_case(lambda y, x: y.parent), "raised AttributeError"),
    ("one argument", paths_case(lambda y: 1), "count_paths(y, x)"),
    ("Node and logistic_map swapped", lambda: ad.check_count_paths(paths_kahn, ad.logistic_map, Node),
     "could not build the test graphs"),
]


def cg_solve(f, x, b, iterations):
    p, r, d = np.zeros_like(x), b.copy(), b.copy()
    for _ in range(iterations):
        if np.linalg.norm(r) <= 1e-14 * np.linalg.norm(b):
            break
        Hd = ad.hvp(f, x, d)
        alpha = (r @ r) / (d @ Hd)
        p, r_new = p + alpha * d, r - alpha * Hd
        d, r = r_new + (r_new @ r_new) / (r @ r) * d, r_new
    return p


def newton_cg_with(iterations=lambda n: n, sign=1.0, last_only=False, use_hessian=False):
    def newton_cg(f, x0, n_steps):
        x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
        for _ in range(n_steps):
            b = -ad.grad(f)(x)
            if use_hessian:
                p = np.linalg.solve(ad.hessian(f, x), b)
            else:
                p = cg_solve(f, x, b, iterations(x.size))
            x = x + sign * p
            path.append(x)
        return x if last_only else np.array(path)
    return lambda: ad.check_newton_cg(newton_cg)


def newton_cg_list(f, x0, n_steps):
    x, path = np.array(x0, dtype=float), [list(x0)]
    for _ in range(n_steps):
        x = x + cg_solve(f, x, -ad.grad(f)(x), 2 * x.size)  # more iterations: same answer
        path.append(x.tolist())
    return path


def newton_cg_with_products(product):
    def newton_cg(f, x0, n_steps):
        x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
        for _ in range(n_steps):
            b = -ad.grad(f)(x)
            p, r, d = np.zeros_like(x), b.copy(), b.copy()
            for _ in range(x.size):
                if np.linalg.norm(r) <= 1e-14 * np.linalg.norm(b):
                    break
                Hd = product(f, x, d)
                alpha = (r @ r) / (d @ Hd)
                p, r_new = p + alpha * d, r - alpha * Hd
                d, r = r_new + (r_new @ r_new) / (r @ r) * d, r_new
            x = x + p
            path.append(x)
        return np.array(path)
    return lambda: ad.check_newton_cg(newton_cg)


HVP, HESSIAN = ad.hvp, ad.hessian  # names bound before the check


def newton_by_columns(f, x0, n_steps,
                      hessian=lambda f, x: np.column_stack([ad.hvp(f, x, e) for e in np.eye(x.size)])):
    x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        x = x + np.linalg.solve(hessian(f, x), -ad.grad(f)(x))
        path.append(x)
    return np.array(path)

def newton_cg_started(start, iterations=None, stop=1e-14):
    """Newton-CG whose CG starts from p0 = start(x, previous p) (one product H p0 for its
    residual when p0 != 0), with ``iterations`` (default n) CG iterations, stopping when the
    residual is below ``stop`` |b|."""
    def newton_cg(f, x0, n_steps):
        x, path, p = np.array(x0, dtype=float), [np.array(x0, dtype=float)], None
        for _ in range(n_steps):
            b = -ad.grad(f)(x)
            p = start(x, np.zeros_like(x) if p is None else p)
            r = b - ad.hvp(f, x, p) if np.any(p) else b.copy()
            d, rr = r.copy(), r @ r
            for _ in range(x.size if iterations is None else iterations):
                if np.sqrt(rr) <= stop * np.linalg.norm(b):
                    break
                Hd = ad.hvp(f, x, d)
                alpha = rr / (d @ Hd)
                p, r = p + alpha * d, r - alpha * Hd
                d, rr = r + (r @ r) / rr * d, r @ r
            x = x + p
            path.append(x)
        return np.array(path)
    return lambda: ad.check_newton_cg(newton_cg)


def gradient_descent_path(f, x0, n_steps):
    x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        x = x - 1e-3 * ad.grad(f)(x)
        path.append(x)
    return np.array(path)


NEWTON_RIGHT = [("CG with n iterations", newton_cg_with()),
                ("CG warm-started from the previous Newton step (reader34 R1)",
                 newton_cg_started(lambda x, p: p)),
                ("CG from p = 0, n iterations without a stopping test",
                 newton_cg_started(lambda x, p: np.zeros_like(x), stop=-1.0)),
                ("H d as ad.jvp of ad.grad (forward over reverse)",
                 newton_cg_with_products(lambda f, x, d: ad.jvp(ad.grad(f), x, d)[1])),
                ("ad.hvp bound to a name before the check",
                 newton_cg_with_products(lambda f, x, d: HVP(f, x, d))),
]
def newton_gradient_then_basis(f, x0, n_steps):
    """H d along grad f first, as CG starts, then along n - 1 fixed orthonormal directions:
    the Hessian assembled in that basis and solved (chk46: accepted as CG before)."""
    x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
    Q = np.linalg.qr(np.random.default_rng(0).normal(size=(x.size, x.size)))[0]
    for _ in range(n_steps):
        g = ad.grad(f)(x)
        basis = np.column_stack([g] + [Q[:, i] for i in range(x.size - 1)])
        products = np.column_stack([ad.hvp(f, x, b) for b in basis.T])
        x = x + np.linalg.solve(np.linalg.solve(basis.T, products.T).T, -g)
        path.append(x)
    return np.array(path)


def newton_rotated_columns(f, x0, n_steps):  # H from n products along a fixed rotated basis
    basis = np.linalg.qr(np.random.default_rng(0).normal(size=(len(x0), len(x0))))[0]
    path = [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        x = path[-1]
        H = np.column_stack([ad.hvp(f, x, q) for q in basis.T]) @ basis.T
        path.append(x - np.linalg.solve(H, ad.grad(f)(x)))
    return np.array(path)


def newton_fd_hessian(f, x0, n_steps):  # H by central differences of grad: 1e-6 accurate
    g, x = ad.grad(f), np.array(x0, dtype=float)
    path = [x]
    for _ in range(n_steps):
        H = np.column_stack([(g(x + 1e-6 * e) - g(x - 1e-6 * e)) / 2e-6 for e in np.eye(x.size)])
        x = x - np.linalg.solve((H + H.T) / 2, g(x))
        path.append(x)
    return np.array(path)


NEWTON_WRONG = [
    ("H d along grad f, then along a fixed basis, then solve (chk46)",
     lambda: ad.check_newton_cg(newton_gradient_then_basis), "outside the span of grad f"),
    ("the Hessian from products along a rotated basis, then solve",
     lambda: ad.check_newton_cg(newton_rotated_columns), "not along grad f"),
    ("CG with up to 50 iterations (reader34 A4)", newton_cg_with(iterations=lambda n: 50),
     "at most dim x"),
    ("CG with 2n iterations, a list of lists", lambda: ad.check_newton_cg(newton_cg_list),
     "CG iterations per Newton step"),
    ("CG with n + 3 iterations", newton_cg_with(iterations=lambda n: n + 3), "at most dim x"),
    ("warm start, then up to 50 iterations", newton_cg_started(lambda x, p: p, iterations=50),
     "after the warm start"),
    ("CG started from p0 = x", newton_cg_started(lambda x, p: x.copy()),
     "warm-started from the previous Newton step"),
    ("plain gradient descent", lambda: ad.check_newton_cg(gradient_descent_path),
     "gradient descent"),
    ("one CG iteration (steepest descent)", newton_cg_with(iterations=lambda n: 1), "not converged"),
    ("step with the wrong sign", newton_cg_with(sign=-1.0), "wrong sign"),
    ("last point only", newton_cg_with(last_only=True), "returned one point"),
    ("assembles the Hessian", newton_cg_with(use_hessian=True), "ad.hessian was called"),
    ("the Hessian from ad.hvp with unit vectors", lambda: ad.check_newton_cg(newton_by_columns),
     "column by column"),
    ("the Hessian from ad.hvp with 2 e_i, halved", lambda: ad.check_newton_cg(
        lambda f, x0, n_steps: newton_by_columns(f, x0, n_steps, lambda f, x: np.column_stack(
            [ad.hvp(f, x, 2 * e) / 2 for e in np.eye(x.size)]))), "column by column"),
    ("ad.hessian bound to a name before the check", lambda: ad.check_newton_cg(
        lambda f, x0, n_steps: newton_by_columns(f, x0, n_steps, HESSIAN)), "column by column"),
    ("one H d thrown away, then ad.newton_minimize", lambda: ad.check_newton_cg(
        lambda f, x0, n_steps: (ad.hvp(f, x0, np.linspace(0.1, 0.9, x0.size)),
                                ad.newton_minimize(f, x0, n_steps=n_steps, tol=0))[1]),
     "column by column"),
    ("one H d thrown away, then columns by ad.jvp of ad.grad", lambda: ad.check_newton_cg(
        lambda f, x0, n_steps: (ad.hvp(f, x0, np.linspace(0.1, 0.9, x0.size)), newton_by_columns(
            f, x0, n_steps, lambda f, x: np.column_stack(
                [ad.jvp(ad.grad(f), x, e)[1] for e in np.eye(x.size)])))[1]),
     "column by column"),
    ("H d by a difference of gradients", newton_cg_with_products(
        lambda f, x, d: (ad.grad(f)(x + 1e-7 * d) - ad.grad(f)(x - 1e-7 * d)) / 2e-7),
     "differences of gradients is a finite difference"),
    ("the Hessian by central differences of grad", lambda: ad.check_newton_cg(newton_fd_hessian),
     "(they differ by up to"),
    ("raises", lambda: ad.check_newton_cg(lambda f, x0, n: f.grad), "raised AttributeError"),
    ("two arguments", lambda: ad.check_newton_cg(lambda f, x0: x0), "newton_cg(f, x0, n_steps)"),
]



# -- 06-1: a training loop with SGD and momentum ----------------------------------------

def sgd_loop(net, inputs, labels, n_steps):
    optimizer = ad.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = ad.cross_entropy(net(inputs), labels)
        loss.backward()
        optimizer.step()


def sgd_optimizer_in_loop(net, inputs, labels, n_steps):  # reader30: velocities reset
    for _ in range(n_steps):
        optimizer = ad.SGD(net.parameters(), lr=0.1, momentum=0.9)
        optimizer.zero_grad()
        ad.cross_entropy(net(inputs), labels).backward()
        optimizer.step()


def sgd_own_net(net, inputs, labels, n_steps):  # reader30: the net given is not trained
    net = ad.MLP([2, 16, 16, 2], activation="tanh", rng=0)
    sgd_loop(net, inputs, labels, n_steps)
    return net


def sgd_by_hand(net, inputs, labels, n_steps):
    velocity = [np.zeros_like(p.value) for p in net.parameters()]
    for _ in range(n_steps):
        for p in net.parameters():
            p.zero_grad()
        ad.cross_entropy(net(inputs), labels).backward()
        for i, p in enumerate(net.parameters()):
            velocity[i] = 0.9 * velocity[i] + p.grad
            p.value = p.value - 0.1 * velocity[i]


def sgd_lr_in_velocity(net, inputs, labels, n_steps):
    # v <- mu v + lr g, theta <- theta - v: the same steps for a constant lr
    velocity = {}
    for _ in range(n_steps):
        optimizer = ad.SGD(net.parameters(), lr=1.0)  # only for zero_grad
        optimizer.zero_grad()
        ad.cross_entropy(net(inputs), labels).backward()
        for p in net.parameters():
            velocity[id(p)] = 0.9 * velocity.get(id(p), 0.0) + 0.1 * p.grad
            p.value -= velocity[id(p)]


def sgd_zero_after_step(net, inputs, labels, n_steps):
    optimizer = ad.SGD(net.parameters(), lr=0.1, momentum=0.9)
    step = 0
    while step < n_steps:
        ad.cross_entropy(net(inputs), labels).backward()
        optimizer.step()
        optimizer.zero_grad()
        step += 1


def sgd_variant(zero=True, sign=-1.0, lr=0.1, momentum=0.9, ema=False, steps=None, order="normal"):
    def train(net, inputs, labels, n_steps):
        velocity = [0.0] * len(net.parameters())
        for _ in range(n_steps if steps is None else steps(n_steps)):
            if zero:
                for p in net.parameters():
                    p.zero_grad()
            ad.cross_entropy(net(inputs), labels).backward()
            for i, p in enumerate(net.parameters()):
                g = (1 - momentum) * p.grad if ema else p.grad
                velocity[i] = momentum * velocity[i] + g
                p.value = p.value + sign * lr * velocity[i]
    return lambda: ad.check_sgd_training(train)


def sgd_step_before_backward(net, inputs, labels, n_steps):
    optimizer = ad.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(n_steps):
        optimizer.zero_grad()
        optimizer.step()
        ad.cross_entropy(net(inputs), labels).backward()


def sgd_raises(net, inputs, labels, n_steps):
    optimizer = ad.SGD(net.parameters(), lr=0.1, momentum=0.9)
    loss = ad.cross_entropy(net(inputs), labels.reshape(-1, 1, 1))
    loss.backward()
    optimizer.step()


def sgd_loss_summed(net, inputs, labels, n_steps):  # reader30: the sum, not the mean
    optimizer = ad.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(n_steps):
        optimizer.zero_grad()
        (ad.cross_entropy(net(inputs), labels) * len(labels)).backward()
        optimizer.step()


def sgd_summed(net, inputs, labels, n_steps):
    sgd_loop(net, inputs, labels, n_steps)
    for p in net.parameters():
        p.value = p.value.sum()


def sgd_adam(net, inputs, labels, n_steps):
    optimizer = ad.Adam(net.parameters(), lr=0.1)
    for _ in range(n_steps):
        optimizer.zero_grad()
        ad.cross_entropy(net(inputs), labels).backward()
        optimizer.step()


SGD_RIGHT = [
    ("ad.SGD loop as in notebook 05", lambda: ad.check_sgd_training(sgd_loop)),
    ("update by hand, velocity list", lambda: ad.check_sgd_training(sgd_by_hand)),
    ("lr inside the velocity, dict of velocities", lambda: ad.check_sgd_training(sgd_lr_in_velocity)),
    ("zero_grad after step, while loop", lambda: ad.check_sgd_training(sgd_zero_after_step)),
]
def sgd_finite_differences(net, inputs, labels, n_steps, h=1e-6):
    """SGD with momentum on central-difference gradients of the loss (chk46: the hint named
    float32 inputs and a changed loss only)."""
    parameters, velocities = net.parameters(), None
    for _ in range(n_steps):
        grads = []
        for p in parameters:
            g = np.zeros_like(p.value)
            for index in np.ndindex(p.value.shape):
                kept = p.value[index]
                p.value[index] = kept + h
                up = ad.cross_entropy(net(inputs), labels).value
                p.value[index] = kept - h
                down = ad.cross_entropy(net(inputs), labels).value
                p.value[index] = kept
                g[index] = (up - down) / (2 * h)
            grads.append(g)
        velocities = grads if velocities is None else [0.9 * v + g for v, g in zip(velocities, grads)]
        for p, v in zip(parameters, velocities):
            p.value = p.value - 0.1 * v


SGD_WRONG = [
    ("gradients by central differences (chk46)", lambda: ad.check_sgd_training(
        sgd_finite_differences), "taken by finite differences"),
    ("gradients by central differences, h = 1e-5 (chk46: accepted)", lambda: ad.check_sgd_training(
        lambda net, x, y, n: sgd_finite_differences(net, x, y, n, h=1e-5)),
     "taken by finite differences"),
    ("gradient not zeroed", sgd_variant(zero=False), "the gradients add up"),
    ("step added", sgd_variant(sign=+1.0), "goes uphill"),
    ("lr applied twice", sgd_variant(lr=0.01), "applied twice"),
    ("no momentum", sgd_variant(momentum=0.0), "momentum=0.9 is missing"),
    ("optimizer made anew in every step", lambda: ad.check_sgd_training(sgd_optimizer_in_loop),
     "made anew in every step"),
    ("a new MLP trained inside the function", lambda: ad.check_sgd_training(sgd_own_net),
     "never called"),
    ("running mean (1 - mu) g", sgd_variant(ema=True), "(1 - mu) g"),
    ("one step only", sgd_variant(steps=lambda n: 1), "only one step"),
    ("range(n_steps - 1)", sgd_variant(steps=lambda n: n - 1), "one step too few"),
    ("range(n_steps + 1)", sgd_variant(steps=lambda n: n + 1), "one step too many"),
    ("the loss summed over the samples", lambda: ad.check_sgd_training(sgd_loss_summed),
     "N times too large"),
    ("lr = 0.05", sgd_variant(lr=0.05), "differ from SGD's (largest change"),
    ("step before backward", lambda: ad.check_sgd_training(sgd_step_before_backward),
     "have not changed"),
    ("inputs cast to float32", lambda: ad.check_sgd_training(
        lambda net, inputs, labels, n: sgd_loop(net, inputs.astype(np.float32), labels, n)),
     "close to SGD's but not equal"),
    ("Adam instead of SGD", lambda: ad.check_sgd_training(sgd_adam), "differ from SGD's"),
    ("raises", lambda: ad.check_sgd_training(sgd_raises), "raised"),
    ("parameters replaced by their sum", lambda: ad.check_sgd_training(sgd_summed), "now has shape"),
    ("placeholder ...", lambda: ad.check_sgd_training(...), "expected a function"),
    ("three arguments", lambda: ad.check_sgd_training(lambda net, x, y: None),
     "expected a function of (net, inputs, labels, n_steps)"),
]


# -- 07-1: the closed-form Hessian of log-sum-exp ----------------------------------------

def lse_hessian(p_of, form):
    def hessian_closed(x):
        p = p_of(x)
        return form(p, x)
    return lambda: ad.check_logsumexp_hessian(hessian_closed)


def softmax_plain(x):
    return np.exp(x) / np.exp(x).sum()


def hessian_loops(x):
    p = ad.softmax(x)
    n = len(x)
    return np.array([[p[i] * ((i == j) - p[j]) for j in range(n)] for i in range(n)])


HESSIAN_RIGHT = [
    ("np.diag(p) - np.outer(p, p)", lse_hessian(softmax_plain, lambda p, x: np.diag(p) - np.outer(p, p))),
    ("shifted softmax, p[:, None] * p[None, :]",
     lse_hessian(softmax_shifted, lambda p, x: np.diag(p) - p[:, None] * p[None, :])),
    ("loops with ad.softmax, a nested list", lambda: ad.check_logsumexp_hessian(
        lambda x: hessian_loops(x).tolist())),
    ("eye * p - einsum", lse_hessian(softmax_plain,
                                     lambda p, x: np.eye(x.size) * p - np.einsum("i,j->ij", p, p))),
    ("p from np.exp(x - x.max()) inline", lambda:
     ad.check_logsumexp_hessian(lambda x: (lambda p: np.diag(p) - np.outer(p, p))(
         np.exp(x - x.max()) / np.exp(x - x.max()).sum()))),
    ("x = np.asarray(x, dtype=float) first, p by a helper", lambda: ad.check_logsumexp_hessian(
        hessian_from_a_copy)),
]


def hessian_from_a_copy(x):
    x = np.asarray(x, dtype=float)
    p = softmax_plain(x)
    return np.diag(p) - np.outer(p, p)


def complex_step_on_a_copy(x):
    """A complex step on np.asarray(x), a plain copy of the watched x (chk46)."""
    x = np.asarray(x, dtype=float)
    return np.column_stack([np.imag(softmax_plain(x + 1e-20j * e)) / 1e-20 for e in np.eye(x.size)])


def complex_step_inline(x):
    """A complex step whose complex numbers live inside one numpy expression (chk46)."""
    x, h = np.array(x, dtype=float), 1e-20
    return np.column_stack([np.imag(np.exp(x + 1j * h * e) / np.exp(x + 1j * h * e).sum()) / h
                            for e in np.eye(x.size)])


def complex_step_by_the_library(x):
    """ad.complex_step along each e_j of a copy of x (chk46)."""
    x = np.array(x, dtype=float)
    return np.column_stack([ad.complex_step(lambda t, e=e: softmax_plain(x + t * e), 0.0)
                            for e in np.eye(x.size)])


def hessian_by_sympy(x):
    """sympy's Hessian of log sum exp, lambdified: derived by the library (chk46)."""
    import sympy as sp
    s = sp.symbols(f"s0:{x.size}")
    H = sp.hessian(sp.log(sum(sp.exp(v) for v in s)), s)
    return np.array(sp.lambdify(s, H)(*np.asarray(x, dtype=float)), dtype=float)


def complex_step_hessian(x):
    """The Jacobian of softmax by complex steps: exact to round-off, but not the closed form."""
    return np.column_stack([np.imag(softmax_plain(x + 1e-20j * e)) / 1e-20 for e in np.eye(len(x))])
def hessian_by_sweeps(x):
    """Row i of the Hessian as the gradient of softmax(x)_i, each by a backward sweep."""
    rows = []
    for i in range(x.size):
        leaf = ad.Variable(x)
        (np.exp(leaf) / np.sum(np.exp(leaf)))[i].backward()
        rows.append(leaf.grad)
    return np.array(rows)


HESSIAN_WRONG = [
    ("complex-step differentiation of softmax (reader34 A5)",
     lambda: ad.check_logsumexp_hessian(complex_step_hessian), "complex step"),
    ("complex step on np.asarray(x) (chk46)", lambda: ad.check_logsumexp_hessian(
        complex_step_on_a_copy), "complex step"),
    ("complex step inside one numpy expression (chk46)", lambda: ad.check_logsumexp_hessian(
        complex_step_inline), "complex step"),
    ("ad.complex_step on a copy of x (chk46)", lambda: ad.check_logsumexp_hessian(
        complex_step_by_the_library), "complex step"),
    ("sympy's hessian, lambdified (chk46)", lambda: ad.check_logsumexp_hessian(hessian_by_sympy),
     "differentiates with sympy"),
    ("complex step on x made complex first", lambda: ad.check_logsumexp_hessian(
        lambda x: complex_step_hessian(x.astype(complex))), "closed form"),
    ("the gradient p", lse_hessian(softmax_plain, lambda p, x: p), "the gradient of g"),
    ("diag(p) - p * p (broadcast)", lse_hessian(softmax_plain, lambda p, x: np.diag(p) - p * p),
     "p * p is the elementwise square"),
    ("ad.hessian itself", lambda: ad.check_logsumexp_hessian(
        lambda x: ad.hessian(lambda z: np.log(np.exp(z).sum()), x)), "automatic differentiation"),
    ("ad.hvp on the unit vectors", lambda: ad.check_logsumexp_hessian(lambda x: np.stack(
        [ad.hvp(lambda z: np.log(np.exp(z).sum()), x, e) for e in np.eye(x.size)])),
     "automatic differentiation"),
    ("the engine's hessian imported", lambda: ad.check_logsumexp_hessian(
        lambda x: ENGINE_HESSIAN(lambda z: np.log(np.exp(z).sum()), x)), "automatic differentiation"),
    ("a Variable swept by hand per row", lambda: ad.check_logsumexp_hessian(hessian_by_sweeps),
     "automatic differentiation"),
    ("central differences of softmax, h = 1e-5", lambda: ad.check_logsumexp_hessian(
        lambda x: np.array([(softmax_plain(x + 1e-5 * e) - softmax_plain(x - 1e-5 * e)) / 2e-5
                            for e in np.eye(x.size)])), "as a finite difference does"),
    ("diag(p) - p @ p.T with a 1-D p", lse_hessian(softmax_plain, lambda p, x: np.diag(p) - p @ p.T),
     "a 1-D array has no transpose"),
    ("sign: p p^T - diag(p)", lse_hessian(softmax_plain, lambda p, x: np.outer(p, p) - np.diag(p)),
     "the sign is wrong"),
    ("diag(p) only", lse_hessian(softmax_plain, lambda p, x: np.diag(p)), "- p p^T is missing"),
    ("diag(p) + p p^T", lse_hessian(softmax_plain, lambda p, x: np.diag(p) + np.outer(p, p)),
     "the sign of p p^T"),
    ("p * p instead of outer", lse_hessian(softmax_plain, lambda p, x: np.diag(p) - np.diag(p * p)),
     "outer product"),
    ("p = exp(x), not normalised", lse_hessian(np.exp, lambda p, x: np.diag(p) - np.outer(p, p)),
     "not normalised"),
    ("factor 2", lse_hessian(softmax_plain, lambda p, x: 2 * (np.diag(p) - np.outer(p, p))),
     "constant factor 2"),
    ("hard-coded 5 x 5 matrix", lambda: ad.check_logsumexp_hessian(
        lambda x: np.diag(softmax_plain(HESSIAN_X)) - np.outer(softmax_plain(HESSIAN_X),
                                                               softmax_plain(HESSIAN_X))),
     "of shape (3, 3), got shape (5, 5)"),
    ("unsymmetrised: lower triangle only", lse_hessian(
        softmax_plain, lambda p, x: np.tril(np.diag(p) - np.outer(p, p))), "not symmetric"),
    ("raises", lambda: ad.check_logsumexp_hessian(lambda x: np.diag(x, k=undefined_hessian)),  # noqa: F821
     "raised NameError"),
    ("placeholder ...", lambda: ad.check_logsumexp_hessian(lambda x: ...), "the placeholder"),
    ("complex", lse_hessian(softmax_plain, lambda p, x: np.diag(p) - np.outer(p, p) + 0.1j), "complex"),
]
HESSIAN_X = np.random.default_rng(0).normal(size=5)


# -- 07-2: the damped oscillator ------------------------------------------------------------

def damped_formula(t, omega, gamma):
    omega_d = np.sqrt(omega**2 - gamma**2)
    return np.exp(-gamma * t) * (np.cos(omega_d * t) + gamma / omega_d * np.sin(omega_d * t))


def damped_complex(t, omega, gamma):
    root = -gamma + 1j * np.sqrt(omega**2 - gamma**2)
    other = np.conj(root)  # u = (r2 e^{r1 t} - r1 e^{r2 t}) / (r2 - r1): u(0) = 1, u'(0) = 0
    return np.real((other * np.exp(root * t) - root * np.exp(other * t)) / (other - root))


def damped_phase(t, omega, gamma):
    omega_d = np.sqrt(omega**2 - gamma**2)
    return omega / omega_d * np.exp(-gamma * t) * np.cos(omega_d * t - np.arctan2(gamma, omega_d))


def damped_wrong(form):
    def exact(t, omega, gamma):
        w = np.sqrt(omega**2 - gamma**2)
        return form(t, omega, gamma, w)
    return exact


DAMPED_NET = ad.MLP([1, 8, 1], activation="tanh", rng=1)
DAMPED_WEIGHT = ad.Variable(1e-3)  # a one-weight "network": its output is computed from a weight
DAMPED_U = lambda t: damped_formula(t, 2.0, 0.3) + DAMPED_WEIGHT * np.sin(t)  # noqa: E731
DAMPED_CURVE = lambda t: damped_formula(t, 2.0, 0.3) + 1e-3 * np.sin(t)  # noqa: E731  (off by 1e-3)


def network_like(curve, width=48, seed=3):
    """u(t) = trial_solution(net) of an ad.MLP([1, width, 1]) fitted to curve(t) on [0, 2 pi]
    (random tanh features, output weights by least squares): a network, without training."""
    net = ad.MLP([1, width, 1], activation="tanh", rng=seed)
    w1, b1, w2, b2 = net.parameters()
    rng = np.random.default_rng(seed)
    w1.value, b1.value = rng.normal(scale=3.0, size=w1.value.shape), rng.uniform(-3, 3, b1.value.shape)
    t = np.linspace(0.0, 2 * np.pi, 400)
    features = np.tanh((t / np.pi - 1.0)[:, None] @ w1.value + b1.value)
    c = np.linalg.lstsq(np.column_stack([features, np.ones(t.size)]), curve(t), rcond=None)[0]
    w2.value, b2.value = c[:-1, None], c[-1:].copy()
    return lambda t: net((t / np.pi - 1.0)[:, None])[:, 0]


DAMPED_FITTED = network_like(DAMPED_CURVE)  # off by about 1e-3, as a trained network is
ONE_WEIGHT = ad.Variable(np.array(0.999))
GAMMA_OMEGA = ad.Variable(np.array([0.3001, np.sqrt(4 - 0.09)]))
DAMPED_RIGHT = [
    ("the formula, with a network-like Variable u",
     lambda: ad.check_damped_oscillator(damped_formula, DAMPED_FITTED)),
    ("complex roots, with a network-like Variable u",
     lambda: ad.check_damped_oscillator(damped_complex, DAMPED_FITTED)),
    ("amplitude and phase, with a network-like Variable u",
     lambda: ad.check_damped_oscillator(damped_phase, DAMPED_FITTED)),
]
def damped_runge_kutta(t, omega, gamma, dt=1e-3):
    """u(t) by RK4 steps of about dt from u(0) = 1, u'(0) = 0: a numerical solution, right to
    ~1.5e-12, which the old tolerance 1e-9 took for the formula (chk46)."""
    values = []
    for end in np.asarray(t, dtype=float):
        n = max(1, int(end / dt))
        h, y = end / n, np.array([1.0, 0.0])

        def f(y):
            return np.array([y[1], -2 * gamma * y[1] - omega**2 * y[0]])
        for _ in range(n):
            k1 = f(y)
            k2 = f(y + h / 2 * k1)
            k3 = f(y + h / 2 * k2)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + f(y + h * k3))
        values.append(y[0])
    return np.array(values)


def damped_aliased(t, omega, gamma):  # omega_d + 40: equal on a grid with steps 2 pi / 40
    omega_d = np.sqrt(omega**2 - gamma**2)
    return np.exp(-gamma * t) * (np.cos((omega_d + 40) * t) + gamma / omega_d * np.sin(omega_d * t))


DAMPED_WRONG = [
    ("the exact solution by Runge-Kutta steps of 1e-3 (chk46: accepted)",
     lambda: ad.check_damped_oscillator(damped_runge_kutta, DAMPED_FITTED),
     "as a numerical solution of the equation"),
    ("the formula times Variable(0.999) (reader34 A3)", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: ONE_WEIGHT * damped_formula(t, 2.0, 0.3)), "not a network"),
    ("the formula with gamma = 0.3001 and omega_d as Variables (reader34 A3)",
     lambda: ad.check_damped_oscillator(damped_formula, lambda t: np.exp(-GAMMA_OMEGA[0] * t) * (
         np.cos(GAMMA_OMEGA[1] * t) + GAMMA_OMEGA[0] / GAMMA_OMEGA[1] * np.sin(GAMMA_OMEGA[1] * t))),
     "only 2 number(s)"),
    ("the formula alone, no network (reader34 A6)",
     lambda: ad.check_damped_oscillator(damped_formula), "also asks for the trained network"),
    ("the MLP object instead of trial_solution(net)",
     lambda: ad.check_damped_oscillator(damped_formula, DAMPED_NET), "trial_solution(net)"),
    ("the formula passed as the network", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: damped_formula(t, 2.0, 0.3)), "not a network's output"),
    ("the network's values, not the network", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: DAMPED_U(t).value), "returned ndarray"),
    ("a Variable made around the formula's values", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: ad.Variable(damped_formula(t, 2.0, 0.3))), "not a network"),
    ("the formula on a Variable of t", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: damped_formula(ad.Variable(t), 2.0, 0.3)), "any weight"),
    ("an untrained network times 0, plus the formula", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: DAMPED_NET(t[:, None])[:, 0] * 0.0 + damped_formula(t, 2.0, 0.3)),
     "any weight"),
    ("the formula plus a weight times sin t", lambda: ad.check_damped_oscillator(
        damped_formula, DAMPED_U), "changes by at most 1.0e-03"),
    ("the formula plus 1e-3 times an untrained network", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: damped_formula(t, 2.0, 0.3) + 1e-3 * DAMPED_NET(t[:, None])[:, 0]),
     "set to zero"),
    ("the formula plus a weight times 0 + 1e-12", lambda: ad.check_damped_oscillator(
        damped_formula, lambda t: damped_formula(t, 2.0, 0.3) + DAMPED_WEIGHT * 1e-12),
     "not a trained network"),
    ("frequency aliased on an even grid", lambda: ad.check_damped_oscillator(damped_aliased),
     "for omega = 2, gamma = 0.3"),
    ("right only up to t = 2 pi", lambda: ad.check_damped_oscillator(
        lambda t, o, g: np.where(t <= 2 * np.pi, damped_formula(t, o, g), 0.0)), "for omega = 2"),
    ("complex values", lambda: ad.check_damped_oscillator(
        lambda t, o, g: damped_formula(t, o, g) + 0.1j), "complex"),
    ("omega instead of omega_d", lambda: ad.check_damped_oscillator(damped_wrong(
        lambda t, o, g, w: np.exp(-g * t) * (np.cos(o * t) + g / o * np.sin(o * t)))),
     "not omega"),
    ("sine term missing", lambda: ad.check_damped_oscillator(damped_wrong(
        lambda t, o, g, w: np.exp(-g * t) * np.cos(w * t))), "the sine term is missing"),
    ("gamma / omega", lambda: ad.check_damped_oscillator(damped_wrong(
        lambda t, o, g, w: np.exp(-g * t) * (np.cos(w * t) + g / o * np.sin(w * t)))),
     "not gamma / omega"),
    ("exp(+gamma t)", lambda: ad.check_damped_oscillator(damped_wrong(
        lambda t, o, g, w: np.exp(g * t) * (np.cos(w * t) + g / w * np.sin(w * t)))),
     "the solution grows"),
    ("minus sine", lambda: ad.check_damped_oscillator(damped_wrong(
        lambda t, o, g, w: np.exp(-g * t) * (np.cos(w * t) - g / w * np.sin(w * t)))),
     "the sign of the sine term"),
    ("hard-coded omega = 2, gamma = 0.3", lambda: ad.check_damped_oscillator(
        lambda t, omega, gamma: damped_formula(t, 2.0, 0.3)), "not fixed numbers"),
    ("a scalar", lambda: ad.check_damped_oscillator(lambda t, omega, gamma: 1.0),
     "of shape (41,)"),
    ("raises", lambda: ad.check_damped_oscillator(lambda t, omega, gamma: np.exp(-gamma * t) @ t[:3]),
     "raised ValueError"),
    ("two arguments", lambda: ad.check_damped_oscillator(lambda t, omega: t), "(t, omega, gamma)"),
    ("network trained without gamma", lambda: ad.check_damped_oscillator(
        damped_formula, network_like(lambda t: np.cos(2.0 * t) + 1e-3)), "pass gamma"),
    ("network with omega = 1", lambda: ad.check_damped_oscillator(
        damped_formula, network_like(lambda t: damped_formula(t, 1.0, 0.3))), "omega=2.0"),
    ("network trained with gamma = -0.3: it grows, fitting the growing solution only roughly",
     lambda: ad.check_damped_oscillator(
         damped_formula, network_like(lambda t: 0.6 * damped_formula(t, 2.0, -0.3))),
     "Training longer does not help: check the sign of gamma"),
    ("network not trained enough", lambda: ad.check_damped_oscillator(
        damped_formula, network_like(lambda t: damped_formula(t, 2.0, 0.3) + 0.05 * np.sin(3 * t))),
     "train longer"),
    ("network placeholder", lambda: ad.check_damped_oscillator(damped_formula, ...), "placeholder"),
]

# -- 09-2: a fourth-order integrator and the slope of its energy error -------------------

W1 = 1 / (2 - 2 ** (1 / 3))  # the weights of the composition (Yoshida, Forest-Ruth)
W0 = 1 - 2 * W1


def composed(weights, merge_kicks=False):
    """Leapfrog steps of ``weights`` times eps, n times; ``merge_kicks``: the same
    integrator with the half kicks of neighbouring substeps merged (fewer forces)."""
    def integrator(theta, p, beta, eps, n):
        if merge_kicks:
            force = ad.reverse_mode_force
            p = p + 0.5 * weights[0] * eps * force(theta, beta)
            substeps = list(weights) * n
            for i, w in enumerate(substeps):
                theta = theta + w * eps * p
                following = substeps[i + 1] if i + 1 < len(substeps) else 0.0
                p = p + 0.5 * (w + following) * eps * force(theta, beta)
            return theta, p
        for _ in range(n):
            for w in weights:
                theta, p = ad.leapfrog(theta, p, beta, w * eps, 1)
        return theta, p

    return integrator


fourth_order = composed((W1, W0, W1))
_S = 1 / (4 - 4 ** (1 / 3))  # Suzuki's fourth-order composition of five leapfrog steps
SUZUKI = (_S, _S, 1 - 4 * _S, _S, _S)


def leapfrog_substeps(c, force):
    """Plain leapfrog, each step of eps cut into k = round(c / eps) substeps: a step that
    shrinks like eps^2, so Delta H falls like eps^4 too; neither of the step sizes the
    checker compared end points with when c is not 1 / n (chk46)."""
    def integrate(theta, p, beta, eps, n):
        k = max(1, round(c / eps))
        return ad.leapfrog(theta, p, beta, eps / k, k * n, force=force)
    return integrate


def integrator(answer, measured=None, predicted=4):
    return lambda: ad.check_integrator_slope(predicted, answer, measured=measured)


INTEGRATOR_RIGHT = [
    ("three leapfrog calls per step", integrator(fourth_order, 4.0)),
    ("with the slope fitted in the notebook", integrator(fourth_order, 3.96)),
    ("half kicks merged", integrator(composed((W1, W0, W1), merge_kicks=True), 4.0)),
    ("Suzuki's five stages", integrator(composed(SUZUKI), 4.02)),
    ("slope as a 1-element array", integrator(fourth_order, np.polyfit([0.0, 1.0], [0.0, 3.98], 1)[:1])),
]
INTEGRATOR_WRONG = [
    ("a slope typed in, no integrator", lambda: ad.check_integrator_slope(4, measured=4.0),
     "pass your integrator too"),
    ("the slope where the integrator goes", lambda: ad.check_integrator_slope(4, 3.98),
     "measured="),
    ("plain leapfrog", integrator(ad.leapfrog, 4.0), "check the weights"),
    ("equal weights 1/3", integrator(composed((1 / 3, 1 / 3, 1 / 3)), 4.0), "check the weights"),
    ("substeps w1, w1, w0", integrator(composed((W1, W1, W0)), 4.0), "check the weights"),
    ("plain leapfrog, n^2 steps of eps / n", integrator(
        lambda t, p, beta, eps, n: ad.leapfrog(t, p, beta, eps / n, n * n), 4.0),
     "evaluates the force about 257 times"),
    ("plain leapfrog, n^2 steps of eps / n, staple force", integrator(
        lambda t, p, beta, eps, n: ad.leapfrog(t, p, beta, eps / n, n * n, force=ad.staple_force),
        4.0), "plain leapfrog with 256 steps"),
    ("plain leapfrog, steps of eps^2 over n eps, staple force", integrator(
        lambda t, p, beta, eps, n: ad.leapfrog(t, p, beta, eps**2, round(n / eps),
                                               force=ad.staple_force), 4.0),
     "plain leapfrog with 512 steps"),
    ("plain leapfrog, round(0.3 / eps) substeps a step, staple force (chk46)", integrator(
        leapfrog_substeps(0.3, ad.staple_force), 4.0), "is plain leapfrog's"),
    ("plain leapfrog, round(2 / eps) substeps a step, staple force (chk46)", integrator(
        leapfrog_substeps(2.0, ad.staple_force), 4.0), "is plain leapfrog's"),
    ("plain leapfrog, round(0.3 / eps) substeps a step, reverse-mode force (chk46)", integrator(
        leapfrog_substeps(0.3, ad.reverse_mode_force), 4.0), "is plain leapfrog's"),
    ("returns its input", integrator(lambda t, p, beta, eps, n: (t, p), 4.0),
     "Hamilton's equations"),
    ("H changed by hand as eps^4", integrator(lambda t, p, beta, eps, n: (t + 0.01 * eps**4, p), 4.0),
     "Hamilton's equations"),
    ("one step, not n", integrator(lambda t, p, beta, eps, n: fourth_order(t, p, beta, eps, 1)),
     "n steps of eps"),
    ("round(1 / eps) steps, not n", integrator(
        lambda t, p, beta, eps, n: fourth_order(t, p, beta, eps, round(1 / eps))),
     "n steps of eps"),
    ("steps of 1 / n, not eps", integrator(
        lambda t, p, beta, eps, n: fourth_order(t, p, beta, 1 / n, n)), "n steps of eps"),
    ("the prediction alone", lambda: ad.check_integrator_slope(4), "now write the integrator"),
    ("the integrator without the measured slope (reader34 A6)", integrator(fourth_order),
     "also asks for the slope you measured"),
    ("the leapfrog's slope from earlier", integrator(fourth_order, 2.01), "leapfrog's slope"),
    ("fitted against n", integrator(fourth_order, -3.96), "the number of steps"),
    ("slope of <Delta H^2>", integrator(fourth_order, 7.9), "<Delta H^2>"),
    ("fitted badly", integrator(fourth_order, 3.0), "clean power law"),
    ("predicted 2", integrator(fourth_order, predicted=2), "leapfrog's exponent"),
    ("predicted 5", integrator(fourth_order, predicted=5), "error of one step"),
    ("predicted 6: the hint does not state the exponent",
     not_saying(integrator(fourth_order, predicted=6), "expected 4", "eps^4", "order 4"),
     "count how the N = tau / eps steps"),
    ("predicted 2: the hint does not state the exponent",
     not_saying(integrator(fourth_order, predicted=2), "expected 4", "eps^4", "order 4"),
     "leapfrog's exponent"),
    ("predicted 8: the hint does not state the exponent",
     not_saying(integrator(fourth_order, predicted=8), "expected 4", "eps^4", "order 4"),
     "<Delta H>"),
    ("raises", integrator(lambda *args: 1 / 0), "raised ZeroDivisionError"),
    ("returns None", integrator(lambda t, p, beta, eps, n: None), "must return the pair"),
    ("returns (p, theta)", integrator(lambda t, p, beta, eps, n: fourth_order(t, p, beta, eps, n)[::-1]),
     "return (theta, p)"),
    ("w1 = 1 / (2 - sqrt 2)", integrator(composed((1 / (2 - 2**0.5), 1 - 2 / (2 - 2**0.5),
                                                   1 / (2 - 2**0.5)))), "w1 = 1 / (2 - 2^(1/3))"),
    ("drops the replica axis", integrator(lambda t, p, beta, eps, n: (t[..., 0], p)), "shapes"),
    ("two slopes", integrator(fourth_order, np.array([3.98, -1.2])), "got 2 numbers"),
]

# -- 09-1: the force on one link ---------------------------------------------------------------

def wrapped_link_force(lengths):
    """A student's link force whose site indices (a, b) are wrapped with ``lengths(theta)``:
    (theta.shape[1], theta.shape[2]) is right (notebook 09's solution); one length for both
    is right on a square lattice only."""
    def link_force(theta, beta, mu, x, y):
        size_1, size_2 = lengths(theta)

        def sin_plaquette(a, b):
            a, b = a % size_1, b % size_2
            return np.sin(theta[0, a, b] + theta[1, (a + 1) % size_1, b]
                          - theta[0, a, (b + 1) % size_2] - theta[1, a, b])

        if mu == 0:
            return beta * (sin_plaquette(x, y - 1) - sin_plaquette(x, y))
        return beta * (sin_plaquette(x, y) - sin_plaquette(x - 1, y))
    return link_force


link_by_hand = wrapped_link_force(lambda theta: theta.shape[1:])  # the two plaquettes by hand


def link_reversed_plaquette(theta, beta, mu, x, y):
    """The two plaquettes by hand, each walked clockwise: theta_P with every sign flipped."""
    size_1, size_2 = theta.shape[1:]

    def sin_plaquette(a, b):
        a, b = a % size_1, b % size_2
        return np.sin(theta[1, a, b] + theta[0, a, (b + 1) % size_2]
                      - theta[1, (a + 1) % size_1, b] - theta[0, a, b])

    if mu == 0:
        return beta * (sin_plaquette(x, y - 1) - sin_plaquette(x, y))
    return beta * (sin_plaquette(x, y) - sin_plaquette(x - 1, y))


def link(answer):
    return lambda: ad.check_link_force(answer)


def link_by_phases(theta, beta, mu, x, y):
    """The two plaquettes as complex phases U_P = e^{i theta_P}: the force is beta Im of
    their difference (U(1) links as complex numbers: legitimate, no complex step)."""
    U, (size_1, size_2) = np.exp(1j * theta), theta.shape[1:]

    def plaquette(a, b):
        a, b = a % size_1, b % size_2
        return (U[0, a, b] * U[1, (a + 1) % size_1, b] * np.conj(U[0, a, (b + 1) % size_2])
                * np.conj(U[1, a, b]))

    if mu == 0:
        return beta * (plaquette(x, y - 1) - plaquette(x, y)).imag
    return beta * (plaquette(x, y) - plaquette(x - 1, y)).imag


def link_complex_step(theta, beta, mu, x, y):
    """-Im S(theta + i h e_link) / h: exact to round-off, but no derivation (chk46)."""
    shifted = theta + 0j
    shifted[mu, x, y] += 1e-30j
    return -np.imag(ad.wilson_action(shifted, beta)) / 1e-30


def link_complex_step_inline(theta, beta, mu, x, y, h=1e-30):
    """A complex step whose complex theta lives only inside one numpy expression (chk46)."""
    e = np.zeros_like(theta)
    e[mu, x, y] = h
    return -np.imag(beta * np.sum(1 - np.cos(np.roll(theta + 1j * e, 0)[0]
                                             + np.roll(theta + 1j * e, -1, axis=1)[1]
                                             - np.roll(theta + 1j * e, -1, axis=2)[0]
                                             - (theta + 1j * e)[1]))) / h


def link_richardson(theta, beta, mu, x, y):
    """Central differences of the action at h, 2h, 4h extrapolated (Richardson): right to
    ~1e-12, which the old tolerance 1e-10 accepted (chk46)."""
    def slope(h):
        up, down = theta.copy(), theta.copy()
        up[mu, x, y] += h
        down[mu, x, y] -= h
        return -(ad.wilson_action(up, beta) - ad.wilson_action(down, beta)) / (2 * h)
    return (64 * slope(1e-3) - 20 * slope(2e-3) + slope(4e-3)) / 45


LINK_RIGHT = [
    ("two plaquettes by hand", link(link_by_hand)),
    ("the whole lattice's plaquettes, rolled, then one link", link(
        lambda t, beta, mu, x, y: beta * np.stack(
            [np.roll(np.sin(ad.plaquette_angles(t)), 1, axis=1) - np.sin(ad.plaquette_angles(t)),
             np.sin(ad.plaquette_angles(t)) - np.roll(np.sin(ad.plaquette_angles(t)), 1, axis=0)]
        )[mu, x, y])),
    ("a one-element array", link(lambda t, beta, mu, x, y: np.array([link_by_hand(t, beta, mu, x, y)]))),
    ("complex phases e^{i theta_P}, Im of the two plaquettes", link(link_by_phases)),
]
LINK_WRONG = [
    ("a complex step on theta through ad.wilson_action (chk46)", link(link_complex_step),
     "takes a complex step"),
    ("a complex step inside one numpy expression (chk46)", link(link_complex_step_inline),
     "takes a complex step"),
    ("central differences extrapolated by Richardson, right to ~1e-12 (chk46)",
     link(link_richardson), "as from a finite difference"),
    ("ad.staple_force, the forbidden shortcut",
     link(lambda t, beta, mu, x, y: ad.staple_force(t, beta)[mu, x, y]), "calls staple_force"),
    ("ad_course.lattice.staple_force, imported",
     link(lambda t, beta, mu, x, y: __import__("ad_course.lattice").lattice.staple_force(
         t, beta)[mu, x, y]), "calls staple_force"),
    ("-ad.grad of the action", link(lambda t, beta, mu, x, y: -ad.grad(ad.wilson_action)(
        t, beta)[mu, x, y]), "by hand"),
    ("the sign", link(lambda t, beta, mu, x, y: -link_by_hand(t, beta, mu, x, y)),
     "the sign is flipped"),
    ("the plaquette walked clockwise (reader34: the hint named only the force's sign)",
     link(link_reversed_plaquette), "and the orientation of your plaquettes"),
    ("beta missing", link(lambda t, beta, mu, x, y: link_by_hand(t, 1.0, mu, x, y)),
     "factor beta is missing"),
]

CASES = {
    "check_link_force (09-1)": (LINK_RIGHT, LINK_WRONG),
    "check_count_paths (05-2)": (PATHS_RIGHT, PATHS_WRONG),
    "check_newton_cg (07-3)": (NEWTON_RIGHT, NEWTON_WRONG),
    "check_optimal_step (03-1)": (STEP_RIGHT, STEP_WRONG),
    "check_tangent_rule (04-1)": (TANGENT_RIGHT, TANGENT_WRONG),
    "check_backward (05-4)": (BACKWARD_RIGHT, BACKWARD_WRONG),
    "check_logsumexp_rule (05-6)": (VJP_RIGHT, VJP_WRONG),
    "check_layer_gradient (06-3)": (LAYER_RIGHT, LAYER_WRONG),
    "check_jacobian (07-5)": (JACOBIAN_RIGHT, JACOBIAN_WRONG),
    "check_sigma_derivative (08-2)": (SIGMA_RIGHT, SIGMA_WRONG),
    "check_kappa_derivative (08-4)": (KAPPA_RIGHT, KAPPA_WRONG),
    "check_sgd_training (06-1)": (SGD_RIGHT, SGD_WRONG),
    "check_logsumexp_hessian (07-1)": (HESSIAN_RIGHT, HESSIAN_WRONG),
    "check_damped_oscillator (07-2)": (DAMPED_RIGHT, DAMPED_WRONG),
    "check_integrator_slope (09-2)": (INTEGRATOR_RIGHT, INTEGRATOR_WRONG),
    **number_cases(),
}
