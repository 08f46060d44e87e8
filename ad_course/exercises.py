"""Checkers for the exercises: each compares a student's answer with the reference
and, when it is wrong, says what is wrong and which mistake most likely caused it.

A checker returns a :class:`Verdict` (``ok``, ``message``); a notebook cell that ends
with the call shows the message. Each checker recognises a few typical mistakes by
computing what they would give and comparing: a hint is given only when the answer
matches one of them, otherwise the message names the wrong number and the right one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` and a message for the student."""

    ok: bool
    message: str

    def __repr__(self):
        return ("correct: " if self.ok else "not yet: ") + self.message

    def __bool__(self):
        return self.ok


def _close(a, b, rtol=1e-9, atol=1e-12):
    return bool(np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol))


def _number(x):
    return f"{float(x):.6g}"


# -- 03: the optimal step of the forward difference -----------------------------------

def check_optimal_step(h_formula, h_measured=None, *, f_value=np.e, second_derivative=np.e,
                       eps=EPS):
    """Check h* of the forward difference, derived by hand, and optionally the step
    at which the measured error was smallest.

    Reference: the error model |f''| h / 2 + eps |f| / h is smallest at
    h* = sqrt(2 eps |f| / |f''|) (for f = exp at x = 1: f = f'' = e, h* = sqrt(2 eps)).
    A measured minimum is accepted within a factor 10 of h* (the error curve is
    noisy near its minimum).
    """
    reference = float(np.sqrt(2 * eps * abs(f_value) / abs(second_derivative)))
    try:
        h = float(h_formula)
        measured = None if h_measured is None else float(h_measured)
    except (TypeError, ValueError):
        return Verdict(False, f"h* and the measured step must be numbers, got {h_formula!r} "
                              f"and {h_measured!r}")
    mistakes = [
        (np.sqrt(eps * abs(f_value) / abs(second_derivative)),
         "a factor sqrt(2) is missing: setting d/dh (|f''| h/2 + eps |f|/h) = 0 gives "
         "h*² = 2 eps |f| / |f''|"),
        (2 * eps * abs(f_value) / abs(second_derivative),
         "the square root is missing: h*² = 2 eps |f| / |f''|, so h* = sqrt(2 eps |f| / |f''|)"),
        ((3 * eps * abs(f_value) / abs(second_derivative)) ** (1 / 3),
         "that is the central difference's h* ~ eps^(1/3); the forward difference's "
         "truncation error is |f''| h / 2, of order h"),
        (eps, "h = eps is where round-off alone dominates; balance the truncation error "
              "|f''| h / 2 against the round-off error eps |f| / h"),
    ]
    if not np.isfinite(h) or h <= 0:
        return Verdict(False, f"h* must be a positive number, got {h_formula!r}")
    if abs(h / reference - 1) > 1e-3:
        for wrong, hint in mistakes:
            if abs(h / wrong - 1) < 1e-3:
                return Verdict(False, f"your h* is {h:.3g}; expected {reference:.3g}: {hint}")
        return Verdict(False, f"your h* is {h:.3g}; expected sqrt(2 eps |f| / |f''|) = "
                              f"{reference:.3g}")
    if measured is None:
        return Verdict(True, f"h* = sqrt(2 eps |f| / |f''|) = {reference:.3g}")
    if not 0.1 < measured / reference < 10:
        return Verdict(False, f"your measured best step {measured:.3g} is more than a factor "
                              f"10 from h* = {reference:.3g}: is it the step where the error is "
                              f"smallest, steps[np.argmin(errors)]?")
    return Verdict(True, f"h* = {reference:.3g}; the measured best step {measured:.3g} is "
                         f"{measured / reference:.2g} times h*")


# -- 04: a new primitive and its rule in a dual-number class ---------------------------

def check_tangent_rule(f, make_dual, derivative=None, points=(-1.5, 0.3, 2.0), tangent=2.5):
    """Check that ``f(make_dual(x, t))`` is ``f(x) + f'(x) t d`` at a few points.

    ``f``: the function the student taught the dual class (a numpy ufunc such as
    ``np.tanh``, or a primitive registered with the engine); ``make_dual(val, dval)``
    builds a dual number (the class itself); ``derivative``: the exact f' (a
    function of x), the reference; without it, a central difference of f with
    h = 1e-5 (error ~1e-10) is the reference, compared to a relative 1e-7. The
    incoming tangent is ``tangent`` (not 1), so a rule that forgets to multiply by
    it is caught.
    """
    xs = np.asarray(points, dtype=float)
    name = getattr(f, "__name__", None) or getattr(f, "name", None) or repr(f)
    got_val, got_dval = [], []
    for x in xs:
        try:
            result = f(make_dual(float(x), tangent))
        except Exception as error:  # the student's class may raise anything
            hint = (f" Is {name} in the rule table that __array_ufunc__ reads?"
                    if "NotImplemented" in str(error) else "")
            return Verdict(False, f"{name}(dual) raised {type(error).__name__}: {error}.{hint}")
        if not (hasattr(result, "val") and hasattr(result, "dval")):
            return Verdict(False, f"{name}(dual) returned a {type(result).__name__}, not a dual "
                                  f"number: build the result from the value and the tangent")
        got_val.append(float(result.val))
        got_dval.append(float(result.dval))
    got_val, got_dval = np.array(got_val), np.array(got_dval)
    value = np.array([float(f(x)) for x in xs])
    if derivative is None:
        step = 1e-5
        slope = np.array([(float(f(x + step)) - float(f(x - step))) / (2 * step) for x in xs])
        rtol = 1e-7
    else:
        slope = np.array([float(derivative(x)) for x in xs])
        rtol = 1e-9
    expected = slope * tangent
    if not _close(got_val, value):
        i = int(np.argmax(np.abs(got_val - value)))
        return Verdict(False, f"the value part of {name}({xs[i]:g} + {tangent:g}·d) is "
                              f"{_number(got_val[i])}; expected {name}({xs[i]:g}) = "
                              f"{_number(value[i])}")
    if _close(got_dval, expected, rtol=rtol):
        return Verdict(True, f"{name}(x + x'·d) = {name}(x) + {name}'(x) x'·d at x = "
                             f"{', '.join(f'{x:g}' for x in xs)}")
    mistakes = [
        (-expected, "the sign of the derivative is wrong"),
        (slope, f"the d-part does not grow with the incoming tangent x' = {tangent:g}: "
                f"multiply the derivative by x.dval (chain rule)"),
        (value * tangent, f"the d-part is {name}(x)·x': the rule returns the function, "
                          f"not its derivative"),
        (value, f"the d-part is {name}(x): the rule returns the function, not its derivative, "
                f"and it is not multiplied by x.dval"),
    ]
    for wrong, hint in mistakes:
        if _close(got_dval, wrong, rtol=rtol):
            return Verdict(False, f"at x = {xs[1]:g} with x' = {tangent:g} your d-part is "
                                  f"{_number(got_dval[1])}; expected {_number(expected[1])}: "
                                  f"{hint}")
    i = int(np.argmax(np.abs(got_dval - expected)))
    ratio = got_dval / np.where(expected == 0, np.nan, expected)
    hint = ""
    if np.all(np.isfinite(ratio)) and np.ptp(ratio) < rtol * abs(ratio[0]):
        hint = (f": off by a constant factor {ratio[0]:.6g} everywhere, a factor of the "
                f"rule is wrong")
    return Verdict(False, f"at x = {xs[i]:g} with x' = {tangent:g} your d-part is "
                          f"{_number(got_dval[i])}; expected {name}'(x)·x' = "
                          f"{_number(expected[i])}{hint}")


# -- 05: the backward sweep written by hand --------------------------------------------
# The student's node class: Node(value) makes a leaf; + - * work between nodes and
# numbers; every node has .value, .parents = ((parent, local partial), ...) and .grad.
# backward(y) fills .grad of every node that y depends on with dy/d(node).

def _graphs(Node):
    """Small graphs with shared nodes: (name, leaves, output, exact gradients)."""
    x, w = Node(3.0), Node(-2.0)
    shared_leaf = x * w + x  # x feeds two operations
    u = Node(0.5)
    square = u * u
    shared_inner = square * square + square  # u*u feeds two operations
    a, b = Node(2.0), Node(5.0)
    difference = a * b - a  # the outline's simple check: (4, 2)
    return [
        ("y = x*w + x at (3, -2)", (x, w), shared_leaf, (-1.0, 3.0)),
        ("y = s*s + s, s = u*u, at u = 0.5", (u,), shared_inner, (1.5,)),
        ("y = a*b - a at (2, 5)", (a, b), difference, (4.0, 2.0)),
    ]


def _order(y):
    """Every node y depends on, each after its parents (an iterative depth-first search)."""
    order, done, stack = [], set(), [(y, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in done:
            done.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node.parents)
    return order


def _fresh_sweep(step):
    """A backward sweep in reverse topological order whose update is ``step``."""
    def sweep(y):
        order = _order(y)
        for node in order:
            node.grad = 0.0
        y.grad = 1.0
        for node in reversed(order):
            for parent, local in node.parents:
                step(node, parent, local)
    return sweep


def _set(node, parent, local):
    parent.grad = node.grad * local


def _add_local(node, parent, local):
    parent.grad += local


def _inputs_first(y):
    order = _order(y)
    for node in order:
        node.grad = 0.0
    y.grad = 1.0
    for node in order:
        for parent, local in node.parents:
            parent.grad += node.grad * local


def _recursive(y):
    order = _order(y)
    for node in order:
        node.grad = 0.0
    y.grad = 1.0

    def push(node):
        for parent, local in node.parents:
            parent.grad += node.grad * local
            push(parent)

    push(y)


_BACKWARD_MISTAKES = [
    (_fresh_sweep(_set), "a node used by several operations gets one contribution from each: "
                         "add them up (parent.grad += ...), do not overwrite"),
    (_fresh_sweep(_add_local), "multiply each local partial by the adjoint of the node that "
                               "uses the parent (chain rule: parent.grad += node.grad * local)"),
    (_inputs_first, "the sweep must run from y back to the inputs (reversed topological "
                    "order): a node passes its adjoint on only after all its users added theirs"),
    (_recursive, "a node passed its adjoint on before it was complete, once per path: double "
                 "counting. Visit every node once, in reverse topological order"),
]


def _grads(backward, Node, graph_index):
    """Run ``backward`` on a fresh copy of one test graph; return (graph, grads of leaves)."""
    graph = _graphs(Node)[graph_index]
    name, leaves, y, exact = graph
    backward(y)
    return graph, tuple(leaf.grad for leaf in leaves)


def check_backward(backward, Node):
    """Check a hand-written ``backward(y)`` on graphs with shared nodes, and that a second
    call gives the same gradients (no adding up over calls)."""
    for index in range(len(_graphs(Node))):
        try:
            (name, leaves, y, exact), got = _grads(backward, Node, index)
        except Exception as error:  # the student's function may raise anything
            return Verdict(False, f"backward(y) raised {type(error).__name__}: {error}")
        if any(g is None for g in got) or y.grad is None:
            return Verdict(False, f"on {name}, backward(y) left .grad unset: give every node "
                                  f"grad 0, set y.grad = 1, then push adjoints to the parents")
        if not np.isclose(float(y.grad), 1.0):
            return Verdict(False, f"after backward(y), y.grad is {_number(y.grad)}; it must be "
                                  f"dy/dy = 1: the sweep starts from y.grad = 1")
        if _close(np.array(got, dtype=float), np.array(exact)):
            continue
        described = ", ".join(f"{_number(g)}" for g in got)
        expected = ", ".join(f"{_number(g)}" for g in exact)
        message = f"on {name} your gradient is ({described}); expected ({expected})"
        for wrong, hint in _BACKWARD_MISTAKES:
            _, wrong_got = _grads(wrong, Node, index)
            if _close(np.array(got, dtype=float), np.array(wrong_got, dtype=float)):
                return Verdict(False, f"{message}: {hint}")
        if all(float(g) == 0.0 for g in got):
            return Verdict(False, f"{message}: every input's grad is 0, nothing reached the "
                                  f"inputs: push node.grad * local to each parent")
        return Verdict(False, message)
    name, leaves, y, exact = _graphs(Node)[0]
    backward(y)
    first = tuple(float(leaf.grad) for leaf in leaves)
    backward(y)
    second = tuple(float(leaf.grad) for leaf in leaves)
    if not _close(np.array(second), np.array(first)):
        return Verdict(False, f"calling backward(y) twice on {name} gave {first}, then {second}: "
                              f"set every .grad to 0 before the sweep, or the adjoints add up")
    return Verdict(True, "backward(y) gives the exact gradients on every test graph, shared "
                         "nodes included, and the same again on a second call")


# -- 06: back-propagation through one tanh layer by hand ------------------------------

def _layer_pieces(X, W1, b1, W2, b2, labels):
    """Forward pass of tanh(X W1 + b1) W2 + b2 with a mean cross-entropy loss: (h, delta2)."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(W2.shape[1])[labels]
    return h, (p - onehot) / len(labels)


def check_layer_gradient(grad_W1, X, W1, b1, W2, b2, labels):
    """Check dL/dW1 of L = mean cross-entropy(softmax(tanh(X W1 + b1) W2 + b2), labels).

    Reference: delta2 = (p - onehot) / N, delta1 = (delta2 W2^T) * (1 - h^2),
    dL/dW1 = X^T delta1 (shape of W1).
    """
    X, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (X, W1, b1, W2, b2))
    h, delta2 = _layer_pieces(X, W1, b1, W2, b2, labels)
    reference = X.T @ ((delta2 @ W2.T) * (1 - h**2))
    try:
        got = np.asarray(grad_W1, dtype=float)
    except (TypeError, ValueError):
        return Verdict(False, f"your answer must be an array of numbers of W1's shape "
                              f"{W1.shape}, got {grad_W1!r}")
    if got.shape != reference.shape:
        if got.shape == reference.T.shape:
            return Verdict(False, f"your gradient has shape {got.shape}, W1 has {W1.shape}: "
                                  f"transposed. dL/dW1 = X^T delta1, (inputs, hidden)")
        return Verdict(False, f"your gradient has shape {got.shape}; it must have W1's shape "
                              f"{W1.shape}: dL/dW1 = X^T delta1")
    if _close(got, reference, rtol=1e-10, atol=1e-14):
        return Verdict(True, f"dL/dW1 = X^T [(delta2 W2^T) * (1 - h^2)], shape {W1.shape}")
    mistakes = [
        (X.T @ (delta2 @ W2.T),
         "the factor (1 - h^2) is missing: the derivative of tanh, elementwise"),
        (X.T @ ((delta2 @ W2.T) * (1 - h)),
         "the derivative of tanh is 1 - tanh², i.e. (1 - h**2), not (1 - h)"),
        (reference * len(labels),
         f"N = {len(labels)} times too large: the loss is a mean over the N samples, "
         f"delta2 = (p - onehot) / N"),
        (-reference, "the sign is wrong: delta2 = p - onehot (softmax minus target), over N"),
        (X.T @ ((delta2 @ W2.T) * (1 - (X @ W1 + b1) ** 2)),
         "(1 - h^2) needs h = tanh(X W1 + b1), the layer's output, not its input X W1 + b1"),
    ]
    for wrong, hint in mistakes:
        if _close(got, wrong, rtol=1e-10, atol=1e-14):
            return Verdict(False, f"your dL/dW1 differs from the reference: {hint}")
    worst = float(np.max(np.abs(got - reference)))
    return Verdict(False, f"your dL/dW1 differs from the reference by up to {worst:.3g} "
                          f"(largest entry {float(np.max(np.abs(reference))):.3g})")
