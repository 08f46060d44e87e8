"""Every elementwise primitive against sympy, in both modes.

Each test runs once per mode: forward (a Dual with a tangent) and reverse (a
Variable and a backward sweep) must give the same exact derivatives, read from
the one registration of each primitive.
"""

import math

import numpy as np
import pytest

import autodiff_helpers as ad
from autodiff_helpers import Dual, Variable
from primitive_reference import (
    arity,
    close,
    elementwise_names,
    exact,
    primitive_function,
    reference,
)

PRIMITIVES = elementwise_names()
MODES = ["forward", "reverse"]


def value_and_partial(mode, function, point, i):
    """(f(point), df/d(argument i)) with the other arguments plain floats."""
    if mode == "forward":
        result = function(*[Dual(p, 1.0) if j == i else p for j, p in enumerate(point)])
        assert isinstance(result, Dual)
        return result.val, result.dval
    x = Variable(point[i])
    result = function(*[x if j == i else p for j, p in enumerate(point)])
    assert isinstance(result, Variable)
    result.backward()
    assert np.shape(x.grad) == ()
    return result.value, x.grad


def all_partials(mode, function, point):
    """The gradient with every argument differentiated at once: grad . t for the
    tangents t = (0.7, -1.3) in forward mode, the gradient itself in reverse mode."""
    if mode == "forward":
        tangents = np.array((0.7, -1.3)[: len(point)])
        return function(*[Dual(p, t) for p, t in zip(point, tangents)]).dval, tangents
    variables = [Variable(p) for p in point]
    function(*variables).backward()
    return [v.grad for v in variables], None


def test_every_primitive_has_a_reference_and_a_numpy_ufunc():
    for name in PRIMITIVES:
        reference(name)  # raises with a clear message if missing
        assert ad.PRIMITIVES[name].ufunc is getattr(np, name), name
        assert ad.UFUNCS[getattr(np, name)] is ad.PRIMITIVES[name]
    assert len(PRIMITIVES) >= 30


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PRIMITIVES)
@pytest.mark.parametrize("call", ["primitive", "numpy"])
def test_first_derivative_scalar(mode, name, call):
    function = primitive_function(name, call)
    _, points = reference(name)
    for point in points:
        value = exact(name, point, order=0)
        gradient = exact(name, point)
        for i in range(arity(name)):  # one argument differentiated, the others plain floats
            result, partial = value_and_partial(mode, function, point, i)
            assert math.isclose(result, value, rel_tol=1e-13, abs_tol=1e-15), (name, point)
            close(partial, gradient[i])
        combined, tangents = all_partials(mode, function, point)
        close(combined, gradient if tangents is None else gradient @ tangents)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PRIMITIVES)
def test_first_derivative_on_arrays(mode, name):
    """One call with arrays gives the derivative at every point."""
    _, points = reference(name)
    columns = [np.array(c) for c in zip(*points)]
    expected = np.array([exact(name, p) for p in points])  # (points, arity)
    function = getattr(np, name)
    seed = np.linspace(-1.0, 2.0, len(points))
    if mode == "forward":
        for i in range(arity(name)):
            args = [Dual(c, seed) if j == i else c for j, c in enumerate(columns)]
            result = function(*args)
            assert np.shape(result.val) == (len(points),)
            close(result.dval, seed * expected[:, i])
            # a scalar seed 1.0 stands for a tangent of ones
            args = [Dual(c, 1.0) if j == i else c for j, c in enumerate(columns)]
            close(np.broadcast_to(function(*args).dval, (len(points),)), expected[:, i])
        return
    variables = [Variable(c) for c in columns]
    y = function(*variables)
    assert y.shape == (len(points),)
    y.sum().backward()
    for i, v in enumerate(variables):
        assert v.grad.shape == (len(points),)
        close(v.grad, expected[:, i])
    variables = [Variable(c) for c in columns]  # a vector-Jacobian product with a seed
    function(*variables).backward(seed)
    for i, v in enumerate(variables):
        close(v.grad, seed * expected[:, i])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", PRIMITIVES)
def test_second_derivatives(mode, name):
    """Forward over forward (nested duals) and forward over reverse (hvp) against sympy."""
    function = getattr(np, name)
    _, points = reference(name)
    for point in points:
        hess = exact(name, point, order=2)
        if mode == "reverse":
            close(ad.hessian(lambda x: function(*[x[k] for k in range(len(point))]),
                             np.array(point)), hess, rtol=1e-11, atol=1e-13)
        elif arity(name) == 1:
            second = ad.derivative(lambda x: ad.derivative(function, x), point[0])
            close(second, hess[0, 0], rtol=1e-11, atol=1e-13)
        else:
            a, b = point
            d2_aa = ad.derivative(lambda x: ad.derivative(lambda y: function(y, b), x), a)
            d2_ab = ad.derivative(lambda y: ad.derivative(lambda x: function(x, y), a), b)
            d2_ba = ad.derivative(lambda x: ad.derivative(lambda y: function(x, y), b), a)
            d2_bb = ad.derivative(lambda y: ad.derivative(lambda z: function(a, z), y), b)
            close([[d2_aa, d2_ab], [d2_ba, d2_bb]], hess, rtol=1e-11, atol=1e-13)
