"""Reverse mode (ad_engine/reverse.py): Variable, backward, grad, check_grad.

Table 3 of Baydin et al. with the
intermediate adjoints, shared subexpressions, accumulation and zero_grad,
broadcasting and array operations against central differences, deep graphs.
"""

import gc
import math
import time
import warnings
import weakref

import numpy as np
import pytest

import autodiff_helpers as ad
from autodiff_helpers import Variable
from primitive_reference import close, register_wrong_partials


def central_gradients(f, *args, h=1e-6):
    """Central differences of scalar f with respect to every element of every argument."""
    args = [np.array(a, dtype=float) for a in args]
    grads = []
    for k, arg in enumerate(args):
        g = np.zeros_like(arg)
        for i in np.ndindex(arg.shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[k][i] += h
            minus[k][i] -= h
            g[i] = (float(f(*plus)) - float(f(*minus))) / (2 * h)
        grads.append(g)
    return grads


def reverse_gradients(f, *args):
    variables = [Variable(np.array(a, dtype=float) if np.ndim(a) else float(a)) for a in args]
    out = f(*variables)
    out.backward()
    return out, [v.grad for v in variables]


# -- operators ---------------------------------------------------------------------


def test_reflected_operators_with_every_operand_kind():
    for other in (3, 2.5, np.float64(2.5), np.int64(3), np.float32(0.5), np.array([1.5, 2.0])):
        c = np.asarray(other, dtype=float)
        for op, d_right in [
            (lambda a, b: a + b, lambda x: 1.0),
            (lambda a, b: a - b, lambda x: -1.0),
            (lambda a, b: a * b, lambda x: c),
            (lambda a, b: a / b, lambda x: -c / x**2),
            (lambda a, b: a**b, lambda x: c**x * np.log(c)),
        ]:
            x = Variable(1.3)
            y = op(other, x)
            assert isinstance(y, Variable), (op, type(other))
            y.sum().backward() if y.shape else y.backward()
            close(x.grad, np.sum(np.broadcast_to(d_right(1.3), c.shape)), rtol=1e-6)


def test_unary_operators_and_comparisons():
    x = Variable(-1.5)
    y = -x + abs(x) + (+x)
    assert y.value == 1.5
    y.backward()
    assert x.grad == -1.0 - 1.0 + 1.0
    assert x < 0 and x <= -1.5 and x == -1.5 and x != 1 and 0 > x and not (x > 0)
    assert Variable(2.0) == Variable(2.0) and len({Variable(1.0), Variable(1.0)}) == 2


def test_format_spec_formats_the_value():
    """print(f"loss {loss:.4f}") in a training loop: the value, as PyTorch formats a tensor
    (it was a TypeError); without a spec, the repr."""
    loss = np.log(Variable(2.0))
    assert f"loss {loss:.4f}" == "loss 0.6931"
    assert f"{loss}" == repr(loss) == "Variable(0.6931471805599453)"
    assert f"{Variable(np.array([1.0, 2.5])):.2f}" == "[1.00, 2.50]"


# -- the lecture's worked examples ----------------------------------------------------


def test_baydin_table_3():
    x1, x2 = Variable(2.0, name="x1"), Variable(5.0, name="x2")
    v1 = ad.log(x1)
    v2 = x1 * x2
    v3 = ad.sin(x2)
    v4 = v1 + v2
    v5 = v4 - v3
    assert v5.value == pytest.approx(11.652071455223084, rel=1e-15)
    assert round(v4.value, 3) == 10.693 and round(v5.value, 3) == 11.652
    v5.backward()
    assert x1.grad == 5.5
    # 2 - cos 5 = 1.7163378145367738 where numpy's and the C library's cos round alike;
    # to a few ulp (1e-15) on any machine
    assert x2.grad == pytest.approx(2 - math.cos(5.0), rel=1e-15)
    # the adjoint trace of the table
    assert v5.adjoint == 1.0 and v4.adjoint == 1.0 and v3.adjoint == -1.0
    assert v1.adjoint == 1.0 and v2.adjoint == 1.0
    assert x1.adjoint == 5.5
    # v0bar is the sum of two contributions: v3bar cos v0 = -0.284 and v2bar v-1 = 2
    assert round(-math.cos(5.0), 3) == -0.284
    assert x2.adjoint == pytest.approx(-math.cos(5.0) + 2.0, rel=1e-15)
    # the graph knows its operations and parents
    assert v5.op == "subtract" and list(v5.parents) == [v4, v3]
    assert v2.op == "multiply" and {id(p) for p in v2.parents} == {id(x1), id(x2)}
    assert ad.topological_order(v5)[-1] is v5


def test_simple_product_minus_input():
    x1, x2 = Variable(2.0), Variable(5.0)
    y = x1 * x2 - x1
    y.backward()
    assert (y.value, x1.grad, x2.grad) == (8.0, 4.0, 2.0)


def test_grad_function():
    f = lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2)  # noqa: E731
    assert ad.grad(f)(2.0, 5.0) == 5.5
    d_x2 = 2 - math.cos(5.0)
    assert ad.grad(f, argnums=1)(2.0, 5.0) == pytest.approx(d_x2, rel=1e-15)
    assert ad.grad(f, argnums=(0, 1))(2.0, 5.0) == pytest.approx((5.5, d_x2), rel=1e-15)
    assert ad.grad(f, argnums=[1, 0])(2.0, 5.0) == pytest.approx((d_x2, 5.5), rel=1e-15)
    g = ad.grad(lambda w, x: np.sum(np.tanh(x @ w)), argnums=0)
    w, x = np.array([0.5, -1.0]), np.array([[1.0, 2.0], [0.3, 0.1]])
    expected = x.T @ (1 - np.tanh(x @ w) ** 2)
    close(g(w, x), expected)
    assert g(w, x).shape == (2,)
    # an argument f ignores has a zero gradient of its shape
    assert ad.grad(lambda a, b: a * 2.0, argnums=(0, 1))(1.0, np.ones(3))[1].tolist() == [0, 0, 0]


# -- graph structure -----------------------------------------------------------------


def test_shared_subexpressions():
    x = Variable(0.7)
    a = ad.sin(x)  # used four times
    y = a * a + a / (1 + a * a)
    y.backward()
    s, c = math.sin(0.7), math.cos(0.7)
    expected = (2 * s + (1 - s * s) / (1 + s * s) ** 2) * c
    assert x.grad == pytest.approx(expected, rel=1e-14)
    assert a.adjoint == pytest.approx(2 * s + (1 - s * s) / (1 + s * s) ** 2, rel=1e-14)


def test_diamond_graph_counts_every_path_once():
    # l_{n+1} = 4 l (1 - l): each node used twice, 2^n paths, linear work
    x = Variable(0.3)
    node = x
    for _ in range(30):
        node = 4 * node * (1 - node)
    start = time.perf_counter()
    node.backward()
    assert time.perf_counter() - start < 1.0
    expected = ad.derivative(lambda t: _logistic(t, 30), 0.3)
    assert x.grad == pytest.approx(expected, rel=1e-9)


def _logistic(t, n):
    for _ in range(n):
        t = 4 * t * (1 - t)
    return t


def test_gradients_accumulate_until_zero_grad():
    x = Variable(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0
    y.backward()  # a second sweep adds into .grad, as in PyTorch
    assert x.grad == 12.0
    assert y.adjoint == 1.0 and x.adjoint == 6.0  # adjoint is from the latest sweep only
    (x * 5.0).backward()
    assert x.grad == 17.0
    x.zero_grad()
    assert x.grad is None
    (x * x * x).backward()
    assert x.grad == 27.0
    # interior nodes keep no .grad; a leaf never touched keeps None
    z = Variable(1.0)
    assert y.grad is None and z.grad is None


def test_leaf_used_by_two_outputs():
    x = Variable(np.array([1.0, 2.0]))
    (x * x).sum().backward()
    np.sum(np.exp(x)).backward()
    close(x.grad, 2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0]))


def test_deep_chain_has_no_recursion_limit():
    x = Variable(0.5)
    node = x
    for _ in range(100_000):
        node = node * 0.99999 + 1e-6
    node.backward()
    assert x.grad == pytest.approx(0.99999**100_000, rel=1e-9)
    assert len(ad.topological_order(node)) == 200_001


# -- the graph and Python's memory management ------------------------------------------
# Nodes are ordinary Python objects: reference counting frees a graph when its
# output goes, and the cyclic collector frees cycles that pass through nodes.

def test_a_dropped_graph_is_freed_by_reference_counting_alone():
    def build_and_drop():
        x = Variable(0.5)
        node = x
        for _ in range(50_000):
            node = 0.5 * node * (1 - node) + x
        middle = weakref.ref(ad.topological_order(node)[100_000])
        output = weakref.ref(node)
        node.backward()
        alive_before = middle() is not None and output() is not None
        del node
        return alive_before, middle() is None and output() is None

    with ad.collector_paused():  # only reference counting can free the nodes
        assert build_and_drop() == (True, True)


def test_a_leaf_inside_a_user_cycle_is_still_collected():
    class Holder:
        pass

    holder = Holder()
    holder.x = Variable(np.ones(3), name="x")
    holder.x.name = holder  # a cycle through the leaf: holder -> x -> holder
    (holder.x * 2.0).sum().backward()
    leaf = weakref.ref(holder.x)
    del holder
    gc.collect()
    assert leaf() is None


def test_a_cycle_through_an_interior_node_is_collected():
    x = Variable(0.3)
    y = np.sin(x) * x + 1.0
    y.name = {"node": y}  # a user's object that refers back to the node it is stored on
    y.backward()
    node, leaf = weakref.ref(y), weakref.ref(x)
    del x, y
    assert node() is not None  # the cycle keeps it alive: reference counting cannot free it
    gc.collect()
    assert node() is None and leaf() is None


def test_nodes_are_tracked_by_the_collector_like_any_object():
    x = Variable(0.3)
    y = np.sin(x) * x + 1.0
    assert all(gc.is_tracked(node) for node in ad.topological_order(y))
    # so gc.get_referrers finds the nodes that use x (through their parents tuples)
    referrers = gc.get_referrers(x)
    assert any(isinstance(r, tuple) and any(p is x for p in r) for r in referrers)


# -- arrays and broadcasting --------------------------------------------------------

rng = np.random.default_rng(20240601)
MATRIX = rng.normal(size=(3, 4))
ROW = rng.normal(size=(4,))
ROW2D = rng.normal(size=(1, 4))
COLUMN = rng.normal(size=(3, 1))
SCALAR = 0.8


BROADCAST_CASES = [
    ("matrix + row", lambda a, b: np.sum(np.sin(a + b)), (MATRIX, ROW)),
    ("matrix + row (1, 4)", lambda a, b: np.sum(np.sin(a + b)), (MATRIX, ROW2D)),
    ("row + matrix", lambda a, b: np.sum((a + b) ** 2), (ROW, MATRIX)),
    ("column * row", lambda a, b: np.sum(np.tanh(a * b)), (COLUMN, ROW)),
    ("column * row (1, 4)", lambda a, b: np.sum(np.tanh(a * b)), (COLUMN, ROW2D)),
    ("scalar * array", lambda a, b: np.sum(np.cos(a * b)), (SCALAR, MATRIX)),
    ("array / scalar", lambda a, b: np.sum(np.exp(a / b)), (MATRIX, SCALAR)),
    ("column - matrix", lambda a, b: np.sum((a - b) ** 3), (COLUMN, MATRIX)),
    ("maximum broadcast", lambda a, b: np.sum(np.maximum(a, b) ** 2), (MATRIX, ROW)),
    ("power broadcast", lambda a, b: np.sum(np.exp(a) ** b), (COLUMN, ROW)),
]


@pytest.mark.parametrize("label, f, args", BROADCAST_CASES, ids=[c[0] for c in BROADCAST_CASES])
def test_broadcasting_gradients_have_operand_shapes(label, f, args):
    out, grads = reverse_gradients(f, *args)
    assert out.value == pytest.approx(float(f(*args)), rel=1e-14)
    for g, a, numeric in zip(grads, args, central_gradients(f, *args)):
        assert np.shape(g) == np.shape(a), label
        close(g, numeric, rtol=1e-7, atol=1e-8)


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((5, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,))]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES)
def test_matmul_in_all_shape_combinations(shape_a, shape_b):
    a = rng.normal(size=shape_a)
    b = rng.normal(size=shape_b)

    def f(x, y):
        return np.sum(np.sin(x @ y))

    out, grads = reverse_gradients(f, a, b)
    assert out.value == pytest.approx(float(f(a, b)), rel=1e-14)
    for g, arg, numeric in zip(grads, (a, b), central_gradients(f, a, b)):
        assert np.shape(g) == arg.shape
        close(g, numeric, rtol=1e-7, atol=1e-8)
    # one operand a constant array, on either side
    x = Variable(a)
    f(x, b).backward()
    close(x.grad, grads[0])
    y = Variable(b)
    f(a, y).backward()
    close(y.grad, grads[1])


REDUCTIONS = [
    ("sum", lambda x: np.sum(np.sin(x))),
    ("sum axis 0", lambda x: np.sum(np.sin(x.sum(axis=0)) ** 2)),
    ("sum axis 1 keepdims", lambda x: np.sum(np.sin(x.sum(axis=1, keepdims=True) * x))),
    ("sum axis -1", lambda x: np.sum(np.exp(np.sum(x, axis=-1)))),
    ("sum axes (0, 2)", lambda x: np.sum(np.cos(x.sum(axis=(0, 2))))),
    ("mean", lambda x: np.mean(x * x) ** 2),
    ("mean axis 0", lambda x: np.sum(np.cos(x.mean(axis=0)))),
    ("mean axis 1 keepdims", lambda x: np.sum((x - np.mean(x, axis=1, keepdims=True)) ** 2)),
    ("mean axes (1, 2) keepdims", lambda x: np.sum((x - x.mean(axis=(1, 2), keepdims=True)) ** 3)),
    ("reshape", lambda x: np.sum(np.sin(x.reshape(-1)) * np.arange(24.0))),
    ("reshape tuple", lambda x: np.sum(x.reshape((6, 4))[2] ** 2)),
    ("np.reshape", lambda x: np.sum(np.reshape(x, (4, 6)) @ np.ones(6) ** 2)),
    (".T", lambda x: np.sum(x.T * np.arange(24.0).reshape(4, 3, 2))),
    ("transpose axes", lambda x: np.sum(x.transpose(1, 0, 2)[0] ** 3)),
    ("index", lambda x: x[1, 2, 3] * x[0, 0, 0]),
    ("slice", lambda x: np.sum(np.sin(x[:, 1:, ::2]))),
    ("negative index", lambda x: np.sum(x[-1] ** 2)),
    ("fancy repeated", lambda x: np.sum(x[[0, 0, 1, 0]] ** 2)),
    ("fancy 2-D repeated", lambda x: np.sum(np.sin(x[[0, 1, 1], [2, 2, 2]]))),
    ("boolean mask", lambda x: np.sum(x[x.value > 0] ** 3)),
    ("iteration", lambda x: sum(np.sum(row * row) for row in x)),
]


@pytest.mark.parametrize("label, f", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_array_operations_against_central_differences(label, f):
    x0 = rng.normal(size=(2, 3, 4))
    out, (g,) = reverse_gradients(f, x0)
    assert out.shape == ()
    assert g.shape == x0.shape
    assert out.value == pytest.approx(float(_on_values(f, x0)), rel=1e-14)
    (numeric,) = central_gradients(lambda x: _on_values(f, x), x0)
    close(g, numeric, rtol=1e-7, atol=1e-8)


class _Plain(np.ndarray):
    """An array with a .value attribute, so the 'boolean mask' case runs on plain numpy too."""

    @property
    def value(self):
        return np.asarray(self)


def _on_values(f, x):
    return f(np.asarray(x).view(_Plain))


def test_fancy_indexing_with_repeated_indices_accumulates():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    y = x[[0, 0, 2, 0]]
    y.backward(np.array([1.0, 10.0, 100.0, 1000.0]))
    close(x.grad, [1011.0, 0.0, 100.0])


def test_non_scalar_backward_with_seed_is_a_vector_jacobian_product():
    x = Variable(np.array([0.5, 1.5]))
    y = np.sin(x) * x[::-1]  # R^2 -> R^2
    seed = np.array([2.0, -1.0])
    y.backward(seed)
    jacobian = np.array([[np.cos(0.5) * 1.5, np.sin(0.5)], [np.sin(1.5), np.cos(1.5) * 0.5]])
    close(x.grad, seed @ jacobian)
    z = Variable(1.0)
    (z * 3.0).backward(2.0)  # a scalar seed for a scalar output
    assert z.grad == 6.0


def test_numpy_functions_on_variables():
    x0 = np.array([0.3, 1.2, 2.0])
    funcs = [
        (lambda x: np.sum(np.where(x > 1.0, x**2, -x)), np.where(x0 > 1.0, 2 * x0, -1.0)),
        (lambda x: np.dot(x, x), 2 * x0),
        (lambda x: np.mean(np.exp(x)), np.exp(x0) / 3),
        (lambda x: np.sum(np.power(x, 3)), 3 * x0**2),
        (lambda x: np.sum(np.maximum(x, 1.0)), (x0 > 1.0) * 1.0),
        (lambda x: np.sum(np.transpose(np.reshape(x, (3, 1))) ** 2), 2 * x0),
    ]
    for f, expected in funcs:
        x = Variable(x0)
        f(x).backward()
        close(x.grad, expected)
    assert np.shape(Variable(x0)) == (3,) and np.ndim(Variable(x0)) == 1
    assert np.size(Variable(x0)) == 3 and Variable(x0).size == 3 and len(Variable(x0)) == 3


def test_unbroadcast():
    assert ad.unbroadcast(np.ones((3, 4)), (4,)).tolist() == [3.0] * 4
    assert ad.unbroadcast(np.ones((3, 4)), (3, 1)).tolist() == [[4.0]] * 3
    assert ad.unbroadcast(np.ones((3, 4)), (1, 4)).tolist() == [[3.0] * 4]
    assert ad.unbroadcast(np.ones((2, 3, 4)), ()) == 24.0
    assert ad.unbroadcast(np.ones((2, 3, 4)), (3, 1)).tolist() == [[8.0]] * 3
    g = np.arange(4.0)
    assert ad.unbroadcast(g, (4,)) is g


# -- check_grad: it passes good functions and catches a wrong rule --------------------


def test_check_grad_small_for_correct_functions():
    cases = [
        (lambda x, y: np.log(x) + x * y - np.sin(y), 2.0, 5.0),
        (lambda w, x: np.sum(np.tanh(x @ w) ** 2), rng.normal(size=3), rng.normal(size=(4, 3))),
        (lambda x: np.sum(np.sqrt(x * x + 1) / (1 + np.exp(-x))), rng.normal(size=(2, 3))),
    ]
    for f, *args in cases:
        result = ad.check_grad(f, *args)
        assert result.max_relative_error < 1e-8, result
        assert result.reverse_vs_forward < 1e-14, result
        assert "GradCheck" in repr(result)


def test_check_grad_fails_when_the_differences_are_nan():
    """The step h * max(1, |x|) = 1e-6 crosses 0 at x = 1e-7, so sqrt's central difference
    is nan; max_relative_error was Python's max(0.0, nan) = 0.0 and passed every tolerance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ad.check_grad(lambda x: np.sum(np.sqrt(x)), np.array([1e-7, 1.0]))
    assert np.isnan(result.reverse_vs_central) and result.reverse_vs_forward == 0.0
    assert np.isnan(result.max_relative_error)
    assert not result.max_relative_error < 1e-7


@pytest.mark.parametrize(
    "name, wrong_partial, f",
    [
        ("sin", lambda ans, x: -np.cos(x), lambda x: np.sum(np.sin(x) * x)),
        ("tanh", lambda ans, x: 1 + ans * ans, lambda x: np.tanh(x[0]) * x[1]),
        ("log", lambda ans, x: 1 / (x * x), lambda x: np.sum(np.log(x * x + 1))),
    ],
)
def test_check_grad_detects_a_wrong_rule(monkeypatch, name, wrong_partial, f):
    x = np.array([0.3, 1.4])
    assert ad.check_grad(f, x).max_relative_error < 1e-8
    register_wrong_partials(monkeypatch, name, wrong_partial)
    result = ad.check_grad(f, x)
    assert result.max_relative_error > 0.1, result
    # both AD modes read the same table, so they agree with each other: only the
    # central differences expose the wrong rule
    assert result.reverse_vs_central > 0.1


def test_leaf_gradients_are_writeable_arrays_of_their_own():
    # sum's adjoint is a read-only broadcast view and add passes one adjoint to both
    # operands; .grad must still be a separate array the user may change in place
    a, b = Variable(np.ones((2, 3))), Variable(np.ones((2, 3)))
    np.sum(a + b).backward()
    assert a.grad is not b.grad
    a.grad *= 0.5  # e.g. gradient clipping in place
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 0.5))
    np.testing.assert_array_equal(b.grad, np.ones((2, 3)))
    seed = np.ones(3)
    c = Variable(np.zeros(3))
    (c + 0.0).backward(seed)
    c.grad[0] = 7.0
    assert seed[0] == 1.0  # the seed is not aliased either


def _vjp(x, v):
    """x̄ of y = 3 x**2 for the cotangent v: 6 x v."""
    leaf = Variable(x)
    y = leaf * leaf * 3.0
    y.backward(seed=v)
    return leaf.grad


def test_a_traced_seed_keeps_its_derivative():
    """backward(seed=v) with v traced by an outer jvp or grad: d(6 x v)/dv = 6 x."""
    assert ad.jvp(lambda v: _vjp(1.5, v), (2.0,), (1.0,)) == (18.0, 9.0)
    assert ad.grad(lambda v: _vjp(1.5, v))(2.0) == 9.0
    assert ad.derivative(lambda v: _vjp(1.5, v), 2.0) == 9.0
    v = np.array([1.0, -2.0])
    _, tangent = ad.jvp(lambda v: _vjp(np.array([0.5, 1.0]), v), v, np.array([1.0, 1.0]))
    np.testing.assert_array_equal(tangent, [3.0, 6.0])


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4))])
def test_nd_dot_value_and_gradients(shape_a, shape_b):
    """np.dot of N-D arrays sums over the last axis of a and the second-to-last of b."""
    rng = np.random.default_rng(15)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    product = np.dot(Variable(a), b)
    assert product.shape == np.dot(a, b).shape
    np.testing.assert_allclose(product.value, np.dot(a, b), 1e-14, 1e-14)
    weight = rng.standard_normal(np.dot(a, b).shape)

    def loss(a, b):
        return np.sum(np.dot(a, b) * weight)

    grad_a, grad_b = ad.grad(loss, argnums=(0, 1))(a, b)
    for gradient, x, partial in [(grad_a, a, lambda m: loss(m, b)), (grad_b, b, lambda m: loss(a, m))]:
        reference = ad.numerical_gradient(lambda flat: partial(flat.reshape(x.shape)), x.ravel())
        np.testing.assert_allclose(gradient, reference.reshape(x.shape), 1e-8, 1e-10)


@pytest.mark.parametrize("make", [Variable, lambda x: ad.Dual(x, np.ones_like(x))],
                         ids=["Variable", "Dual"])
def test_dtype_attribute(make):
    assert make(np.ones(3)).dtype == np.float64


def test_dtype_inside_differentiated_code():
    """A work array allocated with x.dtype: both modes still differentiate."""
    def f(x):
        return np.sum(x * np.arange(1.0, 3.0, dtype=x.dtype)) ** 2

    x = np.array([1.0, 2.0])  # f = (x0 + 2 x1)**2 = 25, grad = 10 (1, 2)
    np.testing.assert_allclose(ad.grad(f)(x), [10.0, 20.0], 1e-14)
    np.testing.assert_allclose(ad.jvp(f, x, np.array([1.0, 0.0]))[1], 10.0, 1e-14)


@pytest.mark.parametrize("f, x, expected", [
    (lambda x: np.sum(x**2, keepdims=True), np.array([1.0, 2.0]), [2.0, 4.0]),
    (lambda x: (x**2).reshape(1), 3.0, 6.0),
    (lambda x: np.sum(x**2, keepdims=True), np.array([[1.0, 2.0], [3.0, 4.0]]), [[2, 4], [6, 8]]),
    (lambda x: (x**3).reshape(1, 1), 2.0, 12.0),
], ids=["keepdims-(1,)", "reshape-(1,)", "keepdims-(1,1)", "reshape-(1,1)"])
def test_gradient_of_output_with_one_element(f, x, expected):
    gradient = ad.grad(f)(x)
    assert np.shape(gradient) == np.shape(x)
    np.testing.assert_allclose(gradient, expected, 1e-14)


@pytest.mark.parametrize("f, x", [(lambda x: 3.0, 2.0), (lambda x: np.ones(1).sum(), np.ones(3)),
                                  (lambda x: np.float64(1.5), np.ones((2, 2))),
                                  (lambda x: np.sign(x).sum(), np.array([0.5, -1.0]))],
                         ids=["float", "array-sum", "numpy-scalar", "piecewise-constant"])
def test_gradient_of_constant_output_is_zero(f, x):
    """Zeros of the input's shape, as autograd and JAX return."""
    gradient = ad.grad(f)(x)
    assert np.shape(gradient) == np.shape(x)
    np.testing.assert_array_equal(gradient, np.zeros(np.shape(x)))


@pytest.mark.parametrize("f", [np.max, np.min, lambda x: np.linalg.norm(x, np.inf),
                               lambda x: np.sum(np.max(x.reshape(2, 2), axis=0))],
                         ids=["max", "min", "norm-inf", "max-axis"])
def test_backward_through_max_keeps_a_float32_leafs_grad_float32(f):
    """max and min share the adjoint among the entries equal to the extremum: the share,
    a bool array over its count, was float64, so a float32 leaf's .grad after backward()
    was float64 (grad cast it back; an optimizer step on .grad did not see float32)."""
    x = ad.Variable(np.array([0.5, -2.0, 2.0, 1.0], dtype=np.float32))
    f(x).backward()
    assert x.grad.dtype == np.float32
