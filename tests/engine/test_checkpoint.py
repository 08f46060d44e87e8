"""checkpoint: the same gradient as the full graph, a smaller graph, recomputation in
the backward sweep."""

import numpy as np
import pytest

import autodiff_helpers as ad


def segment(x, y, k, steps=5):
    """A few steps of a nonlinear map on a state (x, y): a stand-in for an integrator."""
    for _ in range(steps):
        x, y = x + k * np.sin(y), y - k * x * x
    return x, y


def run(x, y, k, segments, checkpointed):
    for _ in range(segments):
        x, y = ad.checkpoint(segment, x, y, k) if checkpointed else segment(x, y, k)
    return np.sum(x * y)


@pytest.mark.parametrize("y0", [0.4, np.array([0.2, -0.5, 0.9])])
def test_same_gradient_as_without_checkpoints(y0):
    def loss(checkpointed):
        return lambda x, y, k: run(x, y, k, 6, checkpointed)

    full = ad.grad(loss(False), argnums=(0, 1, 2))(0.3, y0, 0.1)
    saved = ad.grad(loss(True), argnums=(0, 1, 2))(0.3, y0, 0.1)
    for a, b in zip(full, saved):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
        assert np.shape(a) == np.shape(b)
    reference = ad.numerical_gradient(lambda p: loss(False)(p[0], y0, p[1]), np.array([0.3, 0.1]))
    np.testing.assert_allclose([full[0], full[2]], reference, rtol=1e-6)


def test_graph_keeps_only_segment_inputs_and_recomputes_in_backward():
    calls = []

    def counted(x, y, k):
        calls.append(type(x).__name__)
        return segment(x, y, k, steps=20)

    def build(checkpointed):
        x, y, k = ad.Variable(0.3), ad.Variable(0.4), ad.Variable(0.05)
        state = (x, y)
        for _ in range(4):
            state = ad.checkpoint(counted, *state, k) if checkpointed else counted(*state, k)
        return np.sum(state[0] * state[1]), (x, y, k)

    full, _ = build(False)
    saved, leaves = build(True)
    assert len(ad.topological_order(saved)) < len(ad.topological_order(full)) / 5
    calls.clear()
    saved.backward()
    assert calls == ["Variable"] * 4  # each segment recomputed once, on fresh leaves
    first = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.zero_grad()
    saved.backward()  # a second sweep gives the same gradient
    assert [leaf.grad for leaf in leaves] == first


def test_single_output_and_constant_arguments():
    def scale(x, factor):
        return factor * np.exp(x)

    x = ad.Variable(np.array([0.1, 0.2]))
    y = ad.checkpoint(scale, x, 3.0)
    assert isinstance(y, ad.Variable) and y.shape == (2,)
    np.sum(y).backward()
    np.testing.assert_allclose(x.grad, 3.0 * np.exp([0.1, 0.2]), rtol=1e-15)


def test_without_variables_it_is_the_segment_itself():
    assert ad.checkpoint(segment, 0.3, 0.4, 0.1) == segment(0.3, 0.4, 0.1)
    forward = ad.derivative(lambda k: ad.checkpoint(segment, 0.3, 0.4, k)[0], 0.1)
    reference = ad.central_difference(lambda k: segment(0.3, 0.4, k)[0], 0.1)
    assert forward == pytest.approx(reference, rel=1e-8)


def test_integer_arguments_stay_constants():
    def steps_of(x, k, count):
        for _ in range(count):  # count must stay an int: range() refuses a Variable
            x = x + k * np.sin(x)
        return x

    x = ad.Variable(0.3)
    y = ad.checkpoint(steps_of, x, 0.2, 4)
    y.backward()
    reference = ad.derivative(lambda z: steps_of(z, 0.2, 4), 0.3)
    assert x.grad == pytest.approx(reference, rel=1e-14)


@pytest.mark.parametrize("z", [np.array([0.8 + 0.5j, 0.1 - 0.3j]), 0.8 + 0.5j, np.array([0.7, 0.2])],
                         ids=["complex-array", "complex-number", "real-array"])
def test_complex_values_keep_their_imaginary_part(z):
    """A segment with complex values: the same value and gradient (JAX's convention, as the
    rest of reverse mode) as without the checkpoint."""
    def segment(u):
        return u * u * (1 + 2j)

    def loss(segment_of):
        return lambda u: np.sum(np.abs(segment_of(u)) ** 2 + np.imag(segment_of(u)))

    checkpointed = loss(lambda u: ad.checkpoint(segment, u))
    np.testing.assert_array_equal(ad.checkpoint(segment, ad.Variable(z)).value, segment(z))
    np.testing.assert_allclose(ad.grad(checkpointed)(z), ad.grad(loss(segment))(z), rtol=1e-14)


def test_a_segment_that_closes_over_an_outer_derivatives_value():
    # d/da sum(grad_x sum(a x**2)) = sum(2 x), with a reaching the segment by a closure
    x0 = np.array([0.3, 0.5])

    def inner(a):
        return np.sum(ad.grad(lambda x: np.sum(ad.checkpoint(lambda u: a * u**2, x)))(x0))
    assert abs(ad.derivative(inner, 1.5) - 1.6) < 1e-15
    assert abs(ad.grad(inner)(1.5) - 1.6) < 1e-15


def test_a_checkpoint_node_swept_with_a_traced_seed():
    # d/ds sum(J^T (s w)) = sum(J^T w) for y = sin(u) u, J = diag(cos(u) u + sin(u))
    x0, w = np.array([0.3, 0.5]), np.array([1.0, 2.0])

    def seeded(s):
        v = ad.Variable(x0)
        ad.checkpoint(lambda u: np.sin(u) * u, v).backward(seed=s * w)
        return np.sum(v.grad)
    exact = np.sum((np.cos(x0) * x0 + np.sin(x0)) * w)
    assert abs(ad.derivative(seeded, 0.7) - exact) < 1e-15
    assert abs(ad.grad(seeded)(0.7) - exact) < 1e-15


def test_each_output_keeps_numpys_dtype():
    """The outputs were packed into one array of one dtype and came back in it: a float32
    segment returned float64, a real output next to a complex one came back complex128."""
    x32 = np.array([0.1, 0.2], dtype=np.float32)
    assert ad.checkpoint(np.sin, ad.Variable(x32)).value.dtype == np.float32
    a, z = np.array([0.1, 0.2]), np.array([0.3 + 0.1j, 0.2j], dtype=np.complex64)

    def mixed(a, z):
        return a * 2.0, a * 1j, np.sin(x32) * np.float32(3.0), z * np.float32(2.0)

    got, expected = ad.checkpoint(mixed, ad.Variable(a), ad.Variable(z)), mixed(a, z)
    for g, e in zip(got, expected):
        assert g.value.dtype == e.dtype
        np.testing.assert_array_equal(g.value, e)

    def loss(segment_of):
        def f(a, z):
            u, v, _, w = segment_of(a, z)
            return np.sum(u**2) + np.sum(np.abs(v) ** 2) + np.sum(np.abs(w) ** 2)
        return f

    saved = ad.grad(loss(lambda a, z: ad.checkpoint(mixed, a, z)), argnums=(0, 1))(a, z)
    full = ad.grad(loss(mixed), argnums=(0, 1))(a, z)
    for s, f in zip(saved, full):
        assert s.dtype == f.dtype
        np.testing.assert_allclose(s, f, rtol=1e-6)


def test_a_segment_that_is_not_pure_is_refused_in_the_backward_sweep():
    """A segment drawing random numbers or advancing a clock gave, silently, the gradient of
    the recomputation, another computation than the one its output came from (x.grad
    [0.98] = cos 0.2 for y = x cos 0.1). The recomputed outputs are compared with the stored
    ones."""
    rng = np.random.default_rng(0)

    def langevin_step(x):
        return x + 0.1 * np.sin(x) * (1 + rng.standard_normal(x.shape))

    clock = [0.0]

    def step(x):
        clock[0] += 0.1
        return x * np.cos(clock[0]), clock[0]

    for segment_, name in [(langevin_step, "langevin_step"), (step, "step")]:
        x = ad.Variable(np.array([0.5, 1.0]))
        y = ad.checkpoint(segment_, x)
        y = y if isinstance(y, ad.Variable) else y[0]
        with pytest.raises(ValueError, match=rf"checkpoint\({name}\): .* must be a pure function "
                                             r"of its inputs .*pass random numbers as an input"):
            np.sum(y**2).backward()
        assert x.grad is None
    noise = rng.standard_normal(2)  # the way out: the draws as an input
    x = ad.Variable(np.array([0.5, 1.0]))
    np.sum(ad.checkpoint(lambda x, n: x + 0.1 * np.sin(x) * (1 + n), x, noise) ** 2).backward()
    expected = ad.grad(lambda t: np.sum((t + 0.1 * np.sin(t) * (1 + noise)) ** 2))(np.array([0.5, 1.0]))
    assert x.grad.tolist() == expected.tolist()


def test_a_pure_segment_whose_traced_value_rounds_differently_is_accepted():
    """np.dot of traced vectors is evaluated as a matmul, which may round differently from
    numpy's dot in the last bit: the recomputation on Variables then differs from the forward
    run on plain values, and the segment is run once more as in the forward sweep to tell
    round-off from impurity."""
    rng = np.random.default_rng(1)
    seg = lambda t: np.dot(t, t[::-1])  # noqa: E731
    points = [rng.normal(size=1000) for _ in range(5)]
    assert any(ad.jvp(seg, a, a)[0] != seg(a) for a in points)  # the case this test is about
    for a in points:
        x = ad.Variable(a)
        ad.checkpoint(seg, x).backward()
        np.testing.assert_allclose(x.grad, 2 * a[::-1], rtol=1e-15)


@pytest.mark.parametrize("segment, message", [
    (lambda y: [y, y**2], r"returned a list; return a tuple"),
    (lambda y: None, r"returned 'NoneType', which is not a number"),
    (lambda y: (y, "label"), r"returned 'str' \(output 1\)"),
    (lambda y: {"y": y}, r"returned 'dict'"),
], ids=["list", "None", "str-in-tuple", "dict"])
def test_a_segment_that_returns_no_numbers_is_refused(segment, message):
    """A list of arrays passed the forward run and failed in the backward sweep with
    np.array's message about Variables; None returned a node holding an object array; a
    string in a tuple raised numpy's isnan error."""
    with pytest.raises(TypeError, match=message):
        ad.grad(lambda x: np.sum(ad.checkpoint(segment, x)[0]))(np.array([0.3, -1.2]))
