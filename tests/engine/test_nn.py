"""Fused nodes, losses, modules and optimizers (ad_engine/nn.py, optim.py; notebook 06)."""

import re

import numpy as np
import pytest

import autodiff_helpers as ad


def network_loss(net, x, labels, loss=ad.cross_entropy):
    """The loss as a plain function of the network's parameter arrays (for check_grad)."""
    return lambda *params: loss(net.call_with(params, x), labels)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_network_gradient_matches_central_differences(activation):
    rng = np.random.default_rng(1)
    net = ad.MLP([3, 5, 4, 3], activation=activation, rng=2)
    x = rng.normal(size=(7, 3))
    labels = rng.integers(0, 3, 7)
    params = [p.value for p in net.parameters()]
    check = ad.check_grad(network_loss(net, x, labels), *params)
    assert check.max_relative_error < 1e-6, check


def test_backward_through_the_network_gives_the_checked_gradient():
    rng = np.random.default_rng(3)
    net = ad.MLP([2, 6, 2], rng=4)
    x, labels = rng.normal(size=(9, 2)), rng.integers(0, 2, 9)
    loss = ad.cross_entropy(net(x), labels)
    loss.backward()
    params = [p.value for p in net.parameters()]
    check = ad.check_grad(network_loss(net, x, labels), *params)
    for p, central in zip(net.parameters(), check.central):
        np.testing.assert_allclose(p.grad, central, rtol=1e-6, atol=1e-9)


def test_mse_loss_gradient_and_value():
    rng = np.random.default_rng(5)
    net = ad.MLP([1, 8, 1], rng=6)
    x = np.linspace(-1, 1, 11)[:, None]
    target = np.sin(3 * x)
    params = [p.value for p in net.parameters()]
    check = ad.check_grad(network_loss(net, x, target, loss=ad.mse_loss), *params)
    assert check.max_relative_error < 1e-6, check
    prediction = rng.normal(size=(4, 2))
    assert ad.mse_loss(prediction, np.zeros((4, 2))) == pytest.approx(np.mean(prediction**2))


def direct_cross_entropy(z, labels):
    """The textbook formula, -mean log(e^{z_y} / sum_j e^{z_j}) (overflows for large z)."""
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


def test_cross_entropy_matches_the_direct_formula():
    rng = np.random.default_rng(7)
    z, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    expected = direct_cross_entropy(z, labels)
    assert ad.cross_entropy(z, labels) == pytest.approx(expected, rel=1e-14)
    assert ad.cross_entropy(ad.Variable(z), labels).value == pytest.approx(expected, rel=1e-14)
    # its gradient is (softmax - onehot) / N, and forward mode / differences agree
    variable = ad.Variable(z)
    ad.cross_entropy(variable, labels).backward()
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(variable.grad, (softmax - np.eye(4)[labels]) / 6, rtol=1e-12)
    assert ad.check_grad(lambda z: ad.cross_entropy(z, labels), z).max_relative_error < 1e-7


def test_cross_entropy_second_derivatives_in_every_nesting():
    """Its Hessian-vector products equal those of the direct formula, whose operations are
    all primitives: the vjp of the one node is itself differentiable, in both modes."""
    rng = np.random.default_rng(8)
    z, labels = rng.normal(size=(3, 4)), np.array([0, 3, 1])
    u, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    routes = {
        "grad-grad": lambda f: ad.grad(lambda y: np.sum(ad.grad(f)(y) * v))(z),
        "jvp-grad": lambda f: ad.jvp(ad.grad(f), z, v)[1],
        "grad-jvp": lambda f: ad.grad(lambda y: ad.jvp(f, y, v)[1])(z),
        "jvp-jvp": lambda f: np.stack([ad.jvp(lambda y: ad.jvp(f, y, v)[1], z, e)[1]
                                       for e in np.eye(12).reshape(12, 3, 4)]).reshape(3, 4),
    }
    for name, route in routes.items():
        expected = route(lambda y: direct_cross_entropy(y, labels))
        np.testing.assert_allclose(route(lambda y: ad.cross_entropy(y, labels)), expected,
                                   rtol=1e-12, atol=1e-14, err_msg=name)
    assert np.sum(expected * u) != 0.0  # a Hessian, not zeros


def test_cross_entropy_is_one_graph_node():
    variable = ad.Variable(np.zeros((3, 2)))
    loss = ad.cross_entropy(variable, [0, 1, 1])
    assert loss.op == "cross_entropy" and loss.parents == (variable, None)


def test_cross_entropy_at_extreme_logits_is_finite():
    z = np.array([[1e3, 0.0, -1e3], [1e3, 1e3, 0.0]])
    labels = np.array([0, 2])
    # no overflow, no nan, no division by zero anywhere (exp(-2000) underflowing to 0 is fine)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        variable = ad.Variable(z)
        loss = ad.cross_entropy(variable, labels)
        loss.backward()
        forward_mode = ad.jvp(lambda z: ad.cross_entropy(z, labels), z, np.ones_like(z))
    # row 1 is certain and right (loss 0), row 2 puts 1/2 on each wrong class: 1000 + log 2
    assert loss.value == pytest.approx((1e3 + np.log(2.0)) / 2, rel=1e-15)
    assert ad.cross_entropy(z, labels) == pytest.approx(loss.value, rel=1e-15)
    np.testing.assert_allclose(variable.grad, [[0, 0, 0], [0.25, 0.25, -0.5]], atol=1e-300)
    assert np.isfinite(forward_mode[1])
    # adding 1 to every logit changes nothing
    assert forward_mode[1] == pytest.approx(0.0, abs=1e-12)


def test_cross_entropy_hessian_through_forward_over_reverse():
    # the generic path nests: H = (diag p - p p^T) / N block by block
    z = np.array([0.3, -1.0, 2.0, 0.5, 0.5, -0.2])
    labels = [2, 0]
    hessian = ad.hessian(lambda z: ad.cross_entropy(z.reshape(2, 3), labels), z)
    blocks = np.zeros((6, 6))
    for row in range(2):
        p = np.exp(z[3 * row:3 * row + 3]) / np.exp(z[3 * row:3 * row + 3]).sum()
        blocks[3 * row:3 * row + 3, 3 * row:3 * row + 3] = (np.diag(p) - np.outer(p, p)) / 2
    np.testing.assert_allclose(hessian, blocks, atol=1e-14)


def quadratic(x):
    """f(x) = sum_i a_i (x_i - c_i)^2, minimum 0 at x = c."""
    a, c = np.array([0.5, 1.0, 4.0]), np.array([1.0, -2.0, 3.0])
    d = x - c
    return (a * d * d).sum()


MINIMUM = np.array([1.0, -2.0, 3.0])


@pytest.mark.parametrize(
    "make_optimizer, n_steps",
    [
        (lambda p: ad.SGD(p, lr=0.1), 300),
        (lambda p: ad.SGD(p, lr=0.02, momentum=0.9), 400),
        (lambda p: ad.Adam(p, lr=0.05), 3000),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_optimizers_reach_the_minimum_of_a_quadratic(make_optimizer, n_steps):
    x = ad.Variable(np.zeros(3))
    optimizer = make_optimizer([x])
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = quadratic(x)
        loss.backward()
        optimizer.step()
    np.testing.assert_allclose(x.value, MINIMUM, atol=1e-6)


def test_first_steps_follow_the_formulas():
    x = ad.Variable(np.array([1.0, -3.0]))
    x.grad = np.array([2.0, -0.5])
    ad.SGD([x], lr=0.1).step()  # x - lr g
    np.testing.assert_allclose(x.value, [0.8, -2.95], rtol=1e-15)
    momentum = ad.SGD([x], lr=0.1, momentum=0.5)
    momentum.step()  # v = g
    momentum.step()  # v = 0.5 g + g
    np.testing.assert_allclose(x.value, [0.8 - 0.2 - 0.3, -2.95 + 0.05 + 0.075], rtol=1e-14)
    y = ad.Variable(np.array([1.0, -3.0]))
    y.grad = np.array([2.0, -0.5])
    ad.Adam([y], lr=0.01).step()  # bias-corrected: the first step is lr * sign(g)
    np.testing.assert_allclose(y.value, [0.99, -2.99], rtol=1e-9)


def test_adam_counts_the_steps_of_each_parameter():
    """Adam's t counted the optimizer's steps: a parameter first updated at step 3 got the
    bias correction of t = 3 (its first move 0.0744 instead of lr = 0.1). As in PyTorch, t
    is each parameter's own count, not advanced while its .grad is None: c's steps are
    those of an Adam of c alone."""
    a, c, alone = (ad.Variable(np.array([1.0])) for _ in range(3))
    both, single = ad.Adam([a, c], lr=0.1), ad.Adam([alone], lr=0.1)
    for step in range(5):
        both.zero_grad()
        single.zero_grad()
        if step < 2:
            np.sum(a**2).backward()  # c has no gradient yet
        else:
            np.sum(a**2 + c**4).backward()
            np.sum(alone**4).backward()
            single.step()
        both.step()
        if step == 2:
            np.testing.assert_allclose(c.value, [0.9], rtol=1e-9)  # a first update moves by lr
        assert c.value.tolist() == alone.value.tolist()
    assert both.steps == [5, 3]


def test_a_parameter_listed_twice_is_refused():
    """SGD([w, w]) moved w twice per step (0.6 instead of 0.8), without a word."""
    w = ad.Variable(np.array([1.0]))
    for make in (ad.SGD, ad.Adam):
        with pytest.raises(ValueError, match=r"parameters 0 and 2 are the same Variable.*list each"):
            make([w, ad.Variable(2.0), w], lr=0.1)
    net = ad.MLP([2, 3, 2], rng=0)
    ad.SGD(net.parameters() + [ad.Variable(1.0)], lr=0.1)  # equal values, other Variables: fine


def test_optimizers_keep_a_float32_parameter_float32():
    """Adam's step size was an np.float64 (not a weak scalar in numpy 2), and the .grad of a
    float32 parameter through cross_entropy is float64: after one step of Adam, or of SGD
    on a float32 network, the parameters were float64. As in PyTorch, they keep their dtype."""
    for make in (lambda p: ad.SGD(p, lr=0.1), lambda p: ad.SGD(p, lr=0.1, momentum=0.5),
                 lambda p: ad.Adam(p, lr=0.01)):
        w = ad.Variable(np.array([1.0, -2.0], np.float32))
        z = ad.Variable(np.array([1.0 + 1.0j], np.complex64))
        optimizer = make([w, z])
        for _ in range(2):
            optimizer.zero_grad()
            (np.sum(w**2) + np.sum(np.abs(z) ** 2)).backward()
            optimizer.step()
        assert w.value.dtype == np.float32 and z.value.dtype == np.complex64
        net = ad.MLP([2, 3, 2], rng=0)
        for p in net.parameters():
            p.value = p.value.astype(np.float32)
        optimizer = make(net.parameters())
        ad.cross_entropy(net(np.ones((4, 2), np.float32)), [0, 1, 1, 0]).backward()
        optimizer.step()
        assert [str(p.value.dtype) for p in net.parameters()] == ["float32"] * 4


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_backward_through_cross_entropy_and_relu_gives_a_gradient_of_the_parameter_dtype(dtype):
    """Their partials were float64 (cross_entropy's onehot, maximum's 1/2 at a tie), so after
    backward() the .grad of a float32 parameter was float64, where ad.grad returns float32
    and numpy computes the derivative in float32."""
    z = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    labels = np.array([0, 2])
    logits = ad.Variable(z.astype(dtype))
    ad.cross_entropy(logits, labels).backward()
    assert logits.grad.dtype == dtype
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, (softmax - np.eye(3)[labels]) / 2, rtol=3e-3,
                               atol=1e-3)
    x = ad.Variable(np.array([1.5, -2.0, 0.0], dtype))
    np.sum(ad.relu(x) * np.array([2.0, 3.0, 4.0], dtype)).backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 2.0])  # 1/2 at the tie x = 0
    assert ad.jvp(ad.relu, x.value, np.ones(3, dtype))[1].dtype == dtype
    for f in (lambda v: np.maximum(v, 0.0), lambda v: np.minimum(v, v),
              lambda v: np.fmax(v, 0.0), lambda v: np.clip(v, -1.0, 1.0)):  # the same tie rule
        assert ad.grad(lambda v: np.sum(f(v)))(x.value).dtype == dtype
    net = ad.MLP([2, 3, 2], activation="relu", rng=0)
    for p in net.parameters():
        p.value = p.value.astype(dtype)
    ad.cross_entropy(net(np.ones((4, 2), dtype)), [0, 1, 1, 0]).backward()
    assert [p.grad.dtype for p in net.parameters()] == [np.dtype(dtype)] * 4
    np.testing.assert_allclose(net.parameters()[0].grad, ad.grad(
        lambda *params: ad.cross_entropy(net.call_with(params, np.ones((4, 2), dtype)),
                                         [0, 1, 1, 0]), argnums=(0, 1, 2, 3))(
        *[p.value for p in net.parameters()])[0], rtol=1e-6)


def test_zero_grad_clears_and_gradients_accumulate_without_it():
    net = ad.MLP([2, 3, 2], rng=0)
    x, labels = np.ones((4, 2)), np.array([0, 1, 1, 0])
    ad.cross_entropy(net(x), labels).backward()
    first = [p.grad.copy() for p in net.parameters()]
    ad.cross_entropy(net(x), labels).backward()  # no zero_grad: PyTorch-style accumulation
    for p, g in zip(net.parameters(), first):
        np.testing.assert_allclose(p.grad, 2 * g)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    ad.cross_entropy(net(x), labels).backward()
    optimizer = ad.SGD(net.parameters(), lr=0.1)
    optimizer.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    before = [p.value.copy() for p in net.parameters()]
    optimizer.step()  # nothing to do without gradients
    for p, b in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.value, b)


def test_the_lecture_training_loop_runs_verbatim_and_learns_xor():
    inputs = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    net = ad.MLP([2, 8, 2], activation="tanh", rng=0)
    criterion = ad.cross_entropy
    optimizer = ad.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(300):
        # the lecture's line, verbatim
        optimizer.zero_grad(); outputs = net(inputs); loss = criterion(outputs, labels); loss.backward(); optimizer.step()  # noqa: E501,E702
        losses.append(loss.value)
    assert losses[-1] < 0.01 < losses[0]
    np.testing.assert_array_equal(net(inputs).value.argmax(axis=1), labels)


def test_parameters_shapes_order_and_seeding():
    net = ad.MLP([2, 16, 16, 2], rng=0)
    assert [p.shape for p in net.parameters()] == [(2, 16), (16,), (16, 16), (16,), (16, 2), (2,)]
    again = ad.MLP([2, 16, 16, 2], rng=0)
    for p, q in zip(net.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.value, q.value)
    assert not np.array_equal(ad.MLP([2, 16, 16, 2], rng=1).parameters()[0].value,
                              net.parameters()[0].value)
    bound = 1 / np.sqrt(16)
    assert np.all(np.abs(net.layers[1].weight.value) <= bound)


class Shared(ad.Module):
    """A module that uses one Linear layer twice (a shared parameter)."""

    def __init__(self):
        self.layer = ad.Linear(2, 2, rng=0)
        self.again = self.layer

    def forward(self, x):
        return self.again(ad.tanh(self.layer(x)))


def test_a_shared_parameter_is_listed_once_and_gets_both_contributions():
    net = Shared()
    assert len(net.parameters()) == 2
    x, labels = np.array([[0.5, -1.0], [2.0, 0.1]]), np.array([1, 0])
    params = [p.value for p in net.parameters()]
    assert ad.check_grad(network_loss(net, x, labels), *params).max_relative_error < 1e-6


def test_wrong_input_width_names_the_shapes():
    net = ad.MLP([3, 4, 2])
    message = "expects input of shape (batch, 3), got shape (5, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        net(np.zeros((5, 4)))


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, 1, 3], "labels must lie in 0..2 for logits of shape (3, 3), got values from 0 to 3"),
        ([0, -1, 2], "got values from -1 to 2"),
        ([0.0, 0.5, 1.0], "labels must be integer class indices 0..2"),
        ([0, 1], "labels have shape (2,) but logits have shape (3, 3)"),
        ([[0, 1, 2]], "labels have shape (1, 3) but logits have shape (3, 3)"),
    ],
)
def test_bad_labels_raise_value_error(labels, message):
    for logits in (np.zeros((3, 3)), ad.Variable(np.zeros((3, 3)))):
        with pytest.raises(ValueError, match=re.escape(message)):
            ad.cross_entropy(logits, labels)


def test_float_labels_with_integer_values_are_accepted():
    assert ad.cross_entropy(np.zeros((2, 2)), np.array([0.0, 1.0])) == pytest.approx(np.log(2))


def test_other_bad_inputs_raise_value_error():
    message = "logits of shape (batch, classes), got shape (3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        ad.cross_entropy(np.zeros(3), [0])
    with pytest.raises(ValueError, match=re.escape("one shape, got (4, 1) and (4,)")):
        ad.mse_loss(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="has 4 parameters, got 3"):
        ad.MLP([2, 3, 1]).call_with([np.zeros((2, 3))] * 3, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="positive integer"):
        ad.Linear(0, 3)
    with pytest.raises(ValueError, match="unknown activation"):
        ad.MLP([2, 2], activation="swish")
    with pytest.raises(ValueError, match="learning rate must be positive"):
        ad.SGD(ad.MLP([2, 2]).parameters(), lr=0.0)
    with pytest.raises(TypeError, match="leaf Variables"):
        ad.Adam([ad.Variable(1.0) * 2], lr=0.1)


def test_affine_is_one_node_with_the_gradient_of_x_at_w_plus_b():
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    node = ad.affine(ad.Variable(x), ad.Variable(w), ad.Variable(b))
    assert node.op == "affine" and len(ad.topological_order(node)) == 4
    np.testing.assert_allclose(node.value, x @ w + b, rtol=1e-15)
    check = ad.check_grad(lambda x, w, b: np.tanh(ad.affine(x, w, b)).sum(), x, w, b)
    assert check.max_relative_error < 1e-8


def test_affine_with_constant_input_and_fallbacks():
    rng = np.random.default_rng(8)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    weight = ad.Variable(w)
    ad.affine(x, weight, b).sum().backward()  # only the weight is a Variable
    np.testing.assert_allclose(weight.grad, x.sum(axis=0)[:, None] * np.ones((3, 4)), rtol=1e-14)
    vector = ad.affine(ad.Variable(x[0]), ad.Variable(w), b)  # 1-D input: plain x @ W + b
    assert vector.op == "add"
    np.testing.assert_allclose(vector.value, x[0] @ w + b, rtol=1e-15)
    dual = ad.affine(ad.Dual(x, 1.0), w, b)  # forward mode passes through
    np.testing.assert_allclose(dual.dval, np.ones((5, 3)) @ w, rtol=1e-15)


def test_affine_with_a_shared_bias_or_other_dtypes_is_numpys_x_at_w_plus_b():
    """A bias of shape (1,) took the fused path, whose db = g.sum(axis=0) has shape (n_out,):
    b.grad was [22, 22, 22] instead of [66], and SGD then gave b three entries. A float64
    bias added in place to a float32 x @ W gave float32 (numpy: float64), and a complex one
    raised a bare UFuncTypeError (numpy: the complex sum)."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    W, b = ad.Variable(np.ones((2, 3))), ad.Variable(np.array([0.5]))
    np.sum(ad.affine(x, W, b) ** 2).backward()
    assert b.grad.tolist() == [66.0]
    assert ad.grad(lambda c: np.sum(ad.affine(x, W.value, c) ** 2))(np.array([0.5])).tolist() == [66.0]
    ad.SGD([b], lr=0.01).step()
    assert b.value.shape == (1,)
    x32, w32 = np.array([[1.0, 2.0]], np.float32), np.array([[0.1], [0.2]], np.float32)
    for bias in (np.array([1e-9]), np.array([0.5j])):
        out = ad.affine(x32, ad.Variable(w32), ad.Variable(bias)).value
        assert out.dtype == (x32 @ w32 + bias).dtype and out.tolist() == (x32 @ w32 + bias).tolist()
    w0, b0 = np.array([[0.3, -0.2, 0.1], [0.5, 0.4, -0.7]]), np.array([0.5j, 0.1, 1 - 1j])
    fused = lambda b: np.sum(np.abs(ad.affine(x, w0, b)) ** 2)  # noqa: E731
    np.testing.assert_allclose(ad.grad(fused)(b0), ad.grad(lambda b: np.sum(np.abs(x @ w0 + b) ** 2))(b0),
                               rtol=1e-15)


@pytest.mark.parametrize(
    "make_optimizer",
    [lambda p: ad.SGD(p, lr=0.1), lambda p: ad.SGD(p, lr=0.05, momentum=0.5),
     lambda p: ad.Adam(p, lr=0.05)],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_optimizers_descend_on_complex_parameters(make_optimizer):
    """p.grad of a complex parameter is dL/dx - i dL/dy (JAX's convention): a step along
    it would climb in y. The optimizers step along its conjugate."""
    target = np.array([1 + 1j, -0.5 + 2j])
    z = ad.Variable(np.array([0.0 + 0.0j, 2.0 - 1.0j]))
    optimizer = make_optimizer([z])
    for _ in range(2000):
        optimizer.zero_grad()
        np.sum(np.abs(z - target) ** 2).backward()
        optimizer.step()
    np.testing.assert_allclose(z.value, target, atol=1e-8)


def test_a_graph_recorded_before_a_step_keeps_its_point():
    """A step gives the parameter a new array: a loss recorded before it still has the
    gradient at the point where it was recorded (with the array changed in place, the
    stored tanh and the stored w belonged to two points)."""
    f = lambda w: np.sum(np.tanh(3.0 * w) * w)  # noqa: E731
    start = np.array([0.5, -1.0])
    for make in (lambda p: ad.SGD(p, lr=0.1, momentum=0.5), lambda p: ad.Adam(p, lr=0.1)):
        w = ad.Variable(start.copy())
        optimizer = make([w])
        first, second = f(w), f(w)
        first.backward()
        optimizer.step()
        optimizer.zero_grad()
        second.backward()
        np.testing.assert_allclose(w.grad, ad.grad(f)(start), rtol=1e-14)
