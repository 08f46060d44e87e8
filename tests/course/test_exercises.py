"""The exercise checkers (ad_course/exercises.py): each accepts the reference answer
and rejects typical wrong answers with the hint that names the mistake."""

import itertools

import numpy as np
import pytest

import autodiff_helpers as ad

EPS = float(np.finfo(float).eps)


# -- 03: optimal step -----------------------------------------------------------------

def test_optimal_step_accepts_the_formula_and_a_measured_minimum():
    steps = np.logspace(-14, -2, 49)
    errors = ad.derivative_errors(np.exp, np.e, 1.0, steps)["forward"]
    measured = steps[np.argmin(errors)]
    verdict = ad.check_optimal_step(np.sqrt(2 * EPS), measured)
    assert verdict.ok and "times h*" in verdict.message
    assert ad.check_optimal_step(ad.optimal_step(np.e, np.e, method="forward")).ok


@pytest.mark.parametrize("wrong, hint", [
    (np.sqrt(EPS), "a factor sqrt(2) is missing"),
    (2 * EPS, "the square root is missing"),
    ((3 * EPS) ** (1 / 3), "central difference"),
    (EPS, "round-off alone dominates"),
    (1e-5, "expected sqrt(2 eps |f| / |f''|) = 2.11e-08"),
])
def test_optimal_step_rejects_wrong_formulas_with_their_hint(wrong, hint):
    verdict = ad.check_optimal_step(wrong)
    assert not verdict.ok and hint in verdict.message
    assert f"your h* is {wrong:.3g}" in verdict.message


def test_optimal_step_rejects_the_step_of_the_largest_error():
    steps = np.logspace(-14, -2, 49)
    errors = ad.derivative_errors(np.exp, np.e, 1.0, steps)["forward"]
    verdict = ad.check_optimal_step(np.sqrt(2 * EPS), steps[np.argmax(errors)])
    assert not verdict.ok and "np.argmin" in verdict.message
    assert not ad.check_optimal_step(-1.0).ok
    assert "must be numbers" in ad.check_optimal_step(..., ...).message


# -- 04: a new rule in a dual-number class ----------------------------------------------

RULES = {}


class TinyDual:
    """A dual class as notebook 04 builds it, reduced to one rule table."""

    def __init__(self, val, dval=0.0):
        self.val, self.dval = val, dval

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc not in RULES:
            return NotImplemented
        return TinyDual(ufunc(self.val), RULES[ufunc](self.val) * self.dval)


def tanh_prime(x):
    return 1 - np.tanh(x) ** 2


def check_tanh(rule):
    RULES.clear()
    if rule is not None:
        RULES[np.tanh] = rule
    return ad.check_tangent_rule(np.tanh, TinyDual, tanh_prime)


def test_tangent_rule_accepts_the_reference_on_the_dual_class_and_the_library():
    assert check_tanh(tanh_prime).ok
    verdict = ad.check_tangent_rule(np.tanh, ad.Dual, tanh_prime)
    assert verdict.ok and "tanh(x + x'·d)" in verdict.message


@pytest.mark.parametrize("rule, hint", [
    (lambda x: -(1 - np.tanh(x) ** 2), "the sign of the derivative is wrong"),
    (np.tanh, "returns the function, not its derivative"),
    (lambda x: 2 * (1 - np.tanh(x) ** 2), "off by a constant factor 2"),
    (lambda x: 1 - np.tanh(x), "expected tanh'(x)·x' ="),
    (None, "Is tanh in the rule table that __array_ufunc__ reads?"),
    (lambda x: ..., "raised TypeError: unsupported operand type(s) for *: 'ellipsis'"),
])
def test_tangent_rule_rejects_typical_mistakes_with_their_hint(rule, hint):
    verdict = check_tanh(rule)
    assert not verdict.ok and hint in verdict.message


@pytest.mark.parametrize("rule, hint", [
    (tanh_prime, None),
    (np.tanh, "returns the function, not its derivative"),
    (lambda x: -(1 - np.tanh(x) ** 2), "the sign of the derivative is wrong"),
    (lambda x: 1 / np.cosh(x), "expected tanh'(x)·x' ="),
])
def test_tangent_rule_without_a_reference_uses_a_central_difference(rule, hint):
    RULES.clear()
    RULES[np.tanh] = rule
    verdict = ad.check_tangent_rule(np.tanh, TinyDual)
    assert verdict.ok is (hint is None)
    assert hint is None or hint in verdict.message


def test_tangent_rule_catches_a_rule_that_ignores_the_incoming_tangent():
    class Forgetful(TinyDual):
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return TinyDual(np.tanh(self.val), 1 - np.tanh(self.val) ** 2)  # no * self.dval

    verdict = ad.check_tangent_rule(np.tanh, Forgetful, tanh_prime)
    assert not verdict.ok and "multiply the derivative by x.dval" in verdict.message


def test_tangent_rule_catches_a_wrong_value_part():
    class Shifted(TinyDual):
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return TinyDual(self.val, tanh_prime(self.val) * self.dval)

    verdict = ad.check_tangent_rule(np.tanh, Shifted, tanh_prime)
    assert not verdict.ok and "the value part of tanh(" in verdict.message


# -- 05: backward by hand ---------------------------------------------------------------

_created = itertools.count()


class Node:
    """The node class of notebook 05: value, parents with local partials, grad."""

    def __init__(self, value, parents=()):
        self.value, self.parents, self.grad = value, parents, 0.0
        self.number = next(_created)

    @staticmethod
    def lift(other):
        return other if isinstance(other, Node) else Node(other)

    def __add__(self, other):
        other = self.lift(other)
        return Node(self.value + other.value, ((self, 1.0), (other, 1.0)))

    def __sub__(self, other):
        other = self.lift(other)
        return Node(self.value - other.value, ((self, 1.0), (other, -1.0)))

    def __mul__(self, other):
        other = self.lift(other)
        return Node(self.value * other.value, ((self, other.value), (other, self.value)))


def creation_order(y):
    nodes, seen = [y], {y}
    for node in nodes:
        for parent, _ in node.parents:
            if parent not in seen:
                seen.add(parent)
                nodes.append(parent)
    return sorted(nodes, key=lambda node: node.number)


def backward(y):
    order = creation_order(y)
    for node in order:
        node.grad = 0.0
    y.grad = 1.0
    for node in reversed(order):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def overwrite(y):
    order = creation_order(y)
    for node in order:
        node.grad = 0.0
    y.grad = 1.0
    for node in reversed(order):
        for parent, local in node.parents:
            parent.grad = node.grad * local


def forgets_the_chain_rule(y):
    order = creation_order(y)
    for node in order:
        node.grad = 0.0
    y.grad = 1.0
    for node in reversed(order):
        for parent, local in node.parents:
            parent.grad += local


def inputs_first(y):
    order = creation_order(y)
    for node in order:
        node.grad = 0.0
    y.grad = 1.0
    for node in order:
        for parent, local in node.parents:
            parent.grad += node.grad * local


def recursive(y):
    for node in creation_order(y):
        node.grad = 0.0
    y.grad = 1.0

    def push(node):
        for parent, local in node.parents:
            parent.grad += node.grad * local
            push(parent)

    push(y)


def never_resets(y):
    y.grad = 1.0
    for node in reversed(creation_order(y)):
        for parent, local in node.parents:
            parent.grad += node.grad * local


def does_nothing(y):
    pass


def test_backward_accepts_the_reference():
    verdict = ad.check_backward(backward, Node)
    assert verdict.ok and "shared nodes" in verdict.message


@pytest.mark.parametrize("wrong, hint", [
    (overwrite, "add them up (parent.grad += ...), do not overwrite"),
    (forgets_the_chain_rule, "chain rule: parent.grad += node.grad * local"),
    (inputs_first, "must run from y back to the inputs"),
    (recursive, "double counting"),
    (never_resets, "set every .grad to 0 before the sweep"),
    (does_nothing, "it must be dy/dy = 1"),
])
def test_backward_rejects_typical_mistakes_with_their_hint(wrong, hint):
    verdict = ad.check_backward(wrong, Node)
    assert not verdict.ok and hint in verdict.message


def test_backward_reports_the_numbers_and_an_exception():
    verdict = ad.check_backward(recursive, Node)
    assert "on y = s*s + s, s = u*u, at u = 0.5 your gradient is (" in verdict.message
    assert "expected (1.5)" in verdict.message

    def broken(y):
        raise KeyError("parents")

    assert "raised KeyError" in ad.check_backward(broken, Node).message


# -- 06: one layer by hand ----------------------------------------------------------------

@pytest.fixture
def layer():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5, 3))
    params = [rng.uniform(-0.5, 0.5, shape) for shape in [(3, 4), (4,), (4, 2)]] + [np.zeros(2)]
    return X, params, np.array([0, 1, 1, 0, 1])


def by_hand(X, W1, b1, W2, b2, labels, tanh_factor=lambda h, a: 1 - h**2, mean=True):
    a = X @ W1 + b1
    h = np.tanh(a)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta2 = (p - np.eye(2)[labels]) / (len(labels) if mean else 1)
    return X.T @ ((delta2 @ W2.T) * tanh_factor(h, a))


def test_layer_gradient_accepts_the_reference_which_agrees_with_reverse_mode(layer):
    X, (W1, b1, W2, b2), labels = layer
    W1v = ad.Variable(W1)
    ad.cross_entropy(np.tanh(X @ W1v + b1) @ W2 + b2, labels).backward()
    assert np.allclose(by_hand(X, W1, b1, W2, b2, labels), W1v.grad, rtol=1e-12, atol=1e-15)
    assert ad.check_layer_gradient(W1v.grad, X, W1, b1, W2, b2, labels).ok


@pytest.mark.parametrize("mistake, hint", [
    (dict(tanh_factor=lambda h, a: 1.0), "the factor (1 - h^2) is missing"),
    (dict(tanh_factor=lambda h, a: 1 - h), "not (1 - h)"),
    (dict(mean=False), "N = 5 times too large"),
    (dict(tanh_factor=lambda h, a: 1 - a**2), "not its input X W1 + b1"),
])
def test_layer_gradient_rejects_typical_mistakes_with_their_hint(layer, mistake, hint):
    X, (W1, b1, W2, b2), labels = layer
    wrong = by_hand(X, W1, b1, W2, b2, labels, **mistake)
    verdict = ad.check_layer_gradient(wrong, X, W1, b1, W2, b2, labels)
    assert not verdict.ok and hint in verdict.message


def test_layer_gradient_rejects_a_transposed_or_misshapen_answer(layer):
    X, (W1, b1, W2, b2), labels = layer
    right = by_hand(X, W1, b1, W2, b2, labels)
    assert "transposed" in ad.check_layer_gradient(right.T, X, W1, b1, W2, b2, labels).message
    assert "W1's shape (3, 4)" in ad.check_layer_gradient(right[:2], X, W1, b1, W2, b2,
                                                           labels).message
    assert "array of numbers" in ad.check_layer_gradient(..., X, W1, b1, W2, b2, labels).message
    verdict = ad.check_layer_gradient(right + 1e-3, X, W1, b1, W2, b2, labels)
    assert not verdict.ok and "differs from the reference by up to 0.001" in verdict.message


def test_tangent_rule_checks_a_primitive_registered_with_the_engine():
    def softplus(partial):
        return ad.defprimitive("softplus_exercise", lambda x: np.log1p(np.exp(x)), partials=[partial])

    try:
        right = softplus(lambda ans, x: 1 / (1 + np.exp(-x)))  # s'(x) = sigmoid(x)
        assert ad.check_tangent_rule(right, ad.Dual).ok
        wrong = softplus(lambda ans, x: ans)  # the function instead of its derivative
        verdict = ad.check_tangent_rule(wrong, ad.Dual)
        assert not verdict.ok and "returns the function, not its derivative" in verdict.message
    finally:
        ad.PRIMITIVES.pop("softplus_exercise", None)
