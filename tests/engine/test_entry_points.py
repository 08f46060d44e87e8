"""Every entry point nests: each public function that differentiates (derivative, jvp,
forward_gradient, grad, Variable.backward with a seed, hvp, hessian, value_and_derivatives,
checkpoint) is itself differentiated with respect to every argument it takes -- the
point, the tangent or seed, and a parameter inside the function it is given (a closure)
-- in forward and reverse mode, against central differences of the same computation
on plain numbers.

Each ``G(θ)`` below is a scalar computed by one entry point with θ in one argument.
"""

import numpy as np
import pytest

import autodiff_helpers as ad
from derivative_checks import central_directional

THETA = 0.37
X2 = np.array([0.4, -0.9])
D2 = np.array([0.6, 0.3])
W2 = np.array([1.3, -0.7])


def f2(x):
    """A scalar function of a 2-vector with a non-constant Hessian."""
    return np.sin(x[0]) * x[1] ** 2 + np.exp(0.3 * x[0] * x[1])


def f2_with(theta):
    """f2 with θ inside (a closure over θ)."""
    return lambda x: np.sin(theta * x[0]) * x[1] ** 2 + np.exp(0.3 * x[0] * x[1]) * theta


def backward_vjp(x, v, theta=1.0):
    """x̄ of y = θ x**3 (elementwise) for the seed v, by Variable.backward(seed=v)."""
    leaf = ad.Variable(x)
    y = theta * leaf**3
    y.backward(seed=v)
    return leaf.grad


def segment(x, y, k):
    for _ in range(3):
        x, y = x + k * np.sin(y), y - k * x * x
    return x, y


def checkpointed_loss(x, y, k):
    x, y = ad.checkpoint(segment, x, y, k)
    x, y = ad.checkpoint(segment, x, y, k)
    return np.sum(x * y)


# name -> G(θ): the entry point with θ in one of its arguments
ENTRY_POINTS = {
    # derivative(f, x)
    "derivative/x": lambda t: ad.derivative(lambda x: np.sin(x) * x**2, 0.7 + t),
    "derivative/f": lambda t: ad.derivative(lambda x: np.sin(t * x) * x, 0.7),
    # jvp(f, x, v): tuple and array forms
    "jvp/x": lambda t: sum(ad.jvp(lambda a, b: a * np.sin(b), (0.5 + t, 1.2), (0.3, -0.4))),
    "jvp/v": lambda t: sum(ad.jvp(lambda a, b: a * np.sin(b), (0.5, 1.2), (0.3 + t, -0.4 * t))),
    "jvp/f": lambda t: sum(ad.jvp(lambda a, b: a * np.sin(t * b), (0.5, 1.2), (0.3, -0.4))),
    "jvp-array/x": lambda t: ad.jvp(f2, X2 + t * D2, W2)[1],
    "jvp-array/v": lambda t: ad.jvp(f2, X2, W2 + t * D2)[1],
    # forward_gradient(f, x)
    "forward_gradient/x": lambda t: np.sum(ad.forward_gradient(f2, X2 + t * D2) * W2),
    "forward_gradient/f": lambda t: np.sum(ad.forward_gradient(f2_with(t), X2) * W2),
    # grad(f, argnums)(*args), including grad of a closure
    "grad/x": lambda t: ad.grad(lambda a, b: a**2 * np.cos(b))(0.8 + t, 0.3),
    "grad/argnums": lambda t: sum(ad.grad(lambda a, b: a**2 * np.cos(b), argnums=(0, 1))(0.8, 0.3 + t)),
    "grad/closure": lambda t: ad.grad(lambda y: t * y**3 + np.sin(t * y))(2.0),
    "grad-array/x": lambda t: np.sum(ad.grad(f2)(X2 + t * D2) * W2),
    # Variable.backward(seed=v): a vector-Jacobian product
    "backward/x": lambda t: np.sum(backward_vjp(X2 + t * D2, W2) * D2),
    "backward/seed": lambda t: np.sum(backward_vjp(X2, W2 + t * D2) * D2),
    "backward/seed-scalar": lambda t: backward_vjp(1.5, 2.0 * t),
    "backward/f": lambda t: np.sum(backward_vjp(X2, W2, t) * D2),
    # hvp(f, x, v), hessian(f, x)
    "hvp/x": lambda t: np.sum(ad.hvp(f2, X2 + t * D2, W2) * D2),
    "hvp/v": lambda t: np.sum(ad.hvp(f2, X2, W2 + t * D2) * D2),
    "hvp/f": lambda t: np.sum(ad.hvp(f2_with(t), X2, W2) * D2),
    "hessian/x": lambda t: W2 @ ad.hessian(f2, X2 + t * D2) @ D2,
    "hessian/f": lambda t: W2 @ ad.hessian(f2_with(t), X2) @ D2,
    # value_and_derivatives(f, t)
    "value_and_derivatives/t": lambda t: sum(ad.value_and_derivatives(lambda s: np.sin(s) * s, 0.6 + t)),
    "value_and_derivatives/f": lambda t: sum(ad.value_and_derivatives(lambda s: np.sin(t * s), 0.6)),
    # checkpoint(segment, *inputs): the value, and a gradient through checkpoints
    "checkpoint/inputs": lambda t: checkpointed_loss(0.3 + t, 0.5, 0.1),
    "checkpoint/constant": lambda t: checkpointed_loss(0.3, 0.5, 0.1 + t),
    "grad-through-checkpoint/x": lambda t: ad.grad(checkpointed_loss)(0.3 + t, 0.5, 0.1),
    "grad-through-checkpoint/k": lambda t: ad.grad(checkpointed_loss)(0.3, 0.5, 0.1 + t),
}


OUTER_MODES = {
    "derivative": lambda G, t: ad.derivative(G, t),
    "jvp": lambda G, t: ad.jvp(G, (t,), (1.0,))[1],
    "grad": lambda G, t: ad.grad(G)(t),
    # second order: (G(s) s)'' / 2 = G' + G'' s / 2, reverse over reverse
    "grad-of-grad": lambda G, t: ad.grad(ad.grad(lambda s: G(s) * s))(t) / 2,
}


def second_reference(G, t):
    """(G(s) s)'' / 2 = G'(s) + G''(s) s / 2 at s = t, by central differences."""
    first = central_directional(G, t, 1.0)
    second = central_directional(lambda s: central_directional(G, s, 1.0, h=2e-3), t, 1.0, h=2e-3)
    return first + second * t / 2


CASES = [(name, mode) for name in ENTRY_POINTS for mode in OUTER_MODES]


@pytest.mark.parametrize("name, mode", CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_every_entry_point_nests(name, mode):
    G = ENTRY_POINTS[name]
    got = OUTER_MODES[mode](G, THETA)
    if mode == "grad-of-grad":
        expected, rtol = second_reference(G, THETA), 1e-6
    else:
        expected, rtol = central_directional(G, THETA, 1.0), 1e-8
    assert np.shape(got) == ()
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-9)


NOT_DIFFERENTIATING = {"topological_order"}  # a graph walk, it takes no function


def test_every_differentiating_entry_point_is_covered():
    """Each public function of the modules that differentiate a user's function has cases
    above (Variable.backward: the "backward/..." cases)."""
    modules = {"ad_engine.forward", "ad_engine.reverse", "ad_engine.higher_order",
               "ad_engine.checkpoint"}
    public = {name for name in ad.__all__ if getattr(getattr(ad, name), "__module__", "") in modules
              and not isinstance(getattr(ad, name), type)}
    covered = {name.split("/")[0].removesuffix("-array") for name in ENTRY_POINTS}
    assert public - NOT_DIFFERENTIATING <= covered, public - NOT_DIFFERENTIATING - covered
    assert "backward" in covered


def _seen(f):
    """f, and the list of the values it returned (stripped of every Dual and Variable)."""
    values = []

    def g(x):
        out = f(x)
        inner = out
        while isinstance(inner, (ad.Dual, ad.Variable)):
            inner = inner.val if isinstance(inner, ad.Dual) else inner.value
        values.append(inner)
        return out

    return g, values


def f32_function(x):
    return np.sum(np.sin(x) * x**2 + np.exp(0.3 * x)) * 1.5


F32_ENTRY_POINTS = {
    "jvp": lambda g, x: ad.jvp(g, x, np.ones_like(x)),
    "grad": lambda g, x: ad.grad(g)(x),
    "grad_grad": lambda g, x: ad.grad(lambda y: np.sum(ad.grad(g)(y)))(x),
    "jvp_grad": lambda g, x: ad.jvp(ad.grad(g), x, np.ones_like(x)),
    "hvp": lambda g, x: ad.hvp(g, x, np.ones_like(x)),
    "Variable": lambda g, x: g(ad.Variable(x)),
    "Dual": lambda g, x: g(ad.Dual(x, np.ones_like(x))),
}


@pytest.mark.parametrize("entry", F32_ENTRY_POINTS)
@pytest.mark.parametrize("point", [np.array([0.7, -1.3, 2.1], np.float32), np.float32(0.7)],
                         ids=["array", "scalar"])
def test_a_float32_point_is_computed_in_float32_as_numpy(entry, point):
    """Tracing never changes a value: f of float32 input is numpy's float32 result, bit for
    bit, in every entry point (a Variable made its value float64, and a float32 scalar
    result became a Python float, so the rest ran in float64)."""
    if entry == "hvp" and np.ndim(point) == 0:
        point = point.reshape(1)
    g, values = _seen(f32_function)
    result = F32_ENTRY_POINTS[entry](g, point)
    expected = f32_function(point)
    assert np.result_type(values[-1]) == np.float32, entry
    np.testing.assert_array_equal(values[-1], expected)
    assert np.all(np.isfinite(result if entry not in ("jvp", "jvp_grad") else result[1]))


def rounded_to_float32(x):
    return np.sum(x.astype(np.float32) * np.float32(3.0))


@pytest.mark.parametrize("entry", F32_ENTRY_POINTS)
def test_astype_rounds_as_numpy(entry):
    """x.astype(np.float32) of a float64 x is numpy's rounding in every entry point (it was
    x itself: the traced value kept float64's digits and all that followed it)."""
    point = np.array([0.1, 1 / 3, 2.7])
    g, values = _seen(rounded_to_float32)
    result = F32_ENTRY_POINTS[entry](g, point)
    assert np.result_type(values[-1]) == np.float32, entry
    np.testing.assert_array_equal(values[-1], rounded_to_float32(point))
    if entry == "grad":
        np.testing.assert_array_equal(result, [3.0, 3.0, 3.0])


def test_astype_of_a_complex_value_is_refused():
    with pytest.raises(TypeError, match=r"astype\(float64\) of a complex Variable drops its "
                                        r"imaginary part.*np\.real\(x\)"):
        ad.grad(lambda z: np.sum(np.abs(z.astype(float))))(np.array([1.0 + 1.0j]))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.complex64])
def test_a_gradient_has_the_dtype_of_its_point(dtype):
    """As numpy computes it (autograd's test_dtypes): the backward sweep of a float32 loss
    started from a float64 1.0 and sum's adjoint was broadcast to float64, so the gradient
    of a float32 point through a sum was float64."""
    x = (np.arange(1.0, 7.0).reshape(2, 3) / 4).astype(dtype)
    gradient = ad.grad(lambda y: np.real(np.sum(y**2)))(x)
    assert gradient.dtype == dtype
    np.testing.assert_allclose(gradient, 2 * x, rtol=1e-3)
    leaf = ad.Variable(x)
    (leaf * 2.0).backward(seed=np.ones(x.shape, dtype))
    assert leaf.grad.dtype == dtype


def test_jvp_at_a_python_number_keeps_it_weak():
    """ad.jvp(f, 0.1, 1.0) with f(s) = s * a float32 array: numpy's 0.1 * x is float32 (a
    Python number is a weak scalar); the point was made a 0-d float64 array, so the value
    was float64."""
    x = np.array([0.3, 1.7, -2.2], np.float32)
    value, tangent = ad.jvp(lambda s: s * x, 0.1, 1.0)
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, 0.1 * x)
    np.testing.assert_array_equal(tangent, x)
