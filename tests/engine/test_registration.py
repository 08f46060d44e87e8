"""Registering a new primitive is one call, and both modes (and their nesting) use it.

Each test registers its primitive under a fresh name and removes it afterwards
(monkeypatch), so the shared tables are left as they were.
"""

import math

import numpy as np
import pytest

import ad_engine
import autodiff_helpers as ad
from ad_engine.rules import NUMPY_FUNCTIONS
from autodiff_helpers import Dual, Variable


@pytest.fixture
def register(monkeypatch):
    """ad.defprimitive for one test: the tables are restored afterwards."""
    def define(name, *args, **kwargs):
        monkeypatch.setitem(ad.PRIMITIVES, name, None)  # remembered, then overwritten
        return ad.defprimitive(name, *args, **kwargs)

    return define


def softplus_value(x):
    return np.log1p(np.exp(x))


def test_an_elementwise_primitive_from_its_partial_works_in_both_modes(register):
    # softplus(x) = log(1 + e^x), d/dx = 1 / (1 + e^-x), written with numpy ops
    softplus = register("softplus", softplus_value,
                        partials=[lambda ans, x: 1.0 / (1.0 + np.exp(-x))])
    x0 = 0.7
    expected = 1.0 / (1.0 + math.exp(-x0))
    assert softplus(x0) == pytest.approx(math.log1p(math.exp(x0)), rel=1e-15)  # plain floats
    assert softplus(Dual(x0, 1.0)).dval == pytest.approx(expected, rel=1e-15)
    x = Variable(x0)
    softplus(x).backward()
    assert x.grad == pytest.approx(expected, rel=1e-15)
    assert ad.grad(lambda x: softplus(x) * x)(x0) == pytest.approx(
        softplus_value(x0) + x0 * expected, rel=1e-14)
    # the partial is written with numpy ops, so the modes nest: second derivative
    second = expected * (1.0 - expected)
    assert ad.derivative(lambda x: ad.derivative(softplus, x), x0) == pytest.approx(second, rel=1e-13)
    assert ad.hessian(lambda v: softplus(v[0]), np.array([x0]))[0, 0] == pytest.approx(second,
                                                                                      rel=1e-13)


def test_broadcasting_is_summed_back_for_a_new_primitive(register):
    scale = register("scale", lambda x, c: x * c,
                     partials=[lambda ans, x, c: c, lambda ans, x, c: x])
    x, c = Variable(np.array([1.0, 2.0, 3.0])), Variable(2.0)
    scale(x, c).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    assert c.grad == 6.0  # summed over the broadcast axis, back to a float


def test_partials_one_and_minus_one_are_resolved_at_registration(register):
    difference = register("difference", lambda a, b: a - b, partials=[1, -1])
    assert difference.partials == (1, -1)
    assert difference.jvps[0](3.0, None, 0.0, 0.0) == 3.0
    assert difference.jvps[1](3.0, None, 0.0, 0.0) == -3.0
    a, b = Variable(np.ones(2)), Variable(1.0)
    difference(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])
    assert b.grad == -2.0
    assert difference(Dual(2.0, 1.0), Dual(5.0, 10.0)).dval == -9.0


def test_an_argument_registered_without_derivative_is_named_when_differentiated(register):
    """partials=[1, None]: differentiating in argument 1 raised Python's "'NoneType' object is
    not callable" from inside the engine; the message names the primitive and the argument.
    Argument 0 still differentiates."""
    shift = register("shift_by", lambda x, c: x + c, partials=[1, None])
    message = r"argument 1 of the primitive 'shift_by' has no derivative"
    with pytest.raises(TypeError, match=message):
        ad.grad(lambda c: shift(2.0, c))(3.0)
    with pytest.raises(TypeError, match=message):
        ad.derivative(lambda c: shift(2.0, c), 3.0)
    with pytest.raises(TypeError, match=message):
        ad.grad(lambda x: ad.derivative(lambda c: shift(x, c), 3.0))(2.0)
    assert ad.grad(lambda x: shift(x**2, 3.0))(2.0) == 4.0
    assert ad.derivative(lambda x: shift(x**2, 3.0), 2.0) == 4.0


def test_a_primitive_given_by_a_jvp_and_a_vjp_per_argument(register):
    # outer(a, b)_ij = a_i b_j: not elementwise, so it gives its linear maps itself
    outer = register(
        "outer", np.multiply.outer,
        jvps=[lambda t, ans, a, b: np.multiply.outer(t, b), lambda t, ans, a, b: np.multiply.outer(a, t)],
        vjps=[lambda g, ans, a, b: g @ b, lambda g, ans, a, b: a @ g],
    )
    a0, b0 = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    weights = np.arange(6.0).reshape(2, 3)
    a, b = Variable(a0), Variable(b0)
    (outer(a, b) * weights).sum().backward()
    np.testing.assert_allclose(a.grad, weights @ b0)
    np.testing.assert_allclose(b.grad, a0 @ weights)
    tangent = np.array([0.5, -1.0])
    result = outer(Dual(a0, tangent), b0)
    np.testing.assert_allclose(result.dval, np.multiply.outer(tangent, b0))
    check = ad.check_grad(lambda a, b: (outer(a, b) * weights).sum(), a0, b0)
    assert check.max_relative_error < 1e-8


def test_a_primitive_registered_with_a_ufunc_is_what_numpy_calls(register, monkeypatch):
    original = ad.UFUNCS[np.sin]
    monkeypatch.setitem(NUMPY_FUNCTIONS, np.sin, original)
    register("sin", np.sin, partials=[lambda ans, x: 2.0 * np.cos(x)], ufunc=np.sin)
    assert ad.UFUNCS[np.sin] is ad.PRIMITIVES["sin"] is not original
    assert np.sin(Dual(0.0, 1.0)).dval == 2.0  # numpy reaches the new registration


def test_a_numpy_function_is_registered_by_its_primitive_or_by_implements(register, monkeypatch):
    # np.sinc is no ufunc and not in the table: np.sinc(Dual) is refused, naming it
    assert np.sinc not in NUMPY_FUNCTIONS
    with pytest.raises(TypeError, match="np.sinc has no derivative rule for Dual"):
        np.sinc(Dual(0.5, 1.0))
    monkeypatch.setitem(NUMPY_FUNCTIONS, np.sinc, None)  # removed again after the test
    x0 = 0.3
    expected = (np.cos(np.pi * x0) * np.pi * x0 - np.sin(np.pi * x0)) / (np.pi * x0**2)

    # a primitive standing for it (it takes numpy's arguments)
    primitive = register("sinc", np.sinc, numpy=np.sinc,
                         partials=[lambda ans, x: (np.cos(np.pi * x) - ans) / x])
    assert NUMPY_FUNCTIONS[np.sinc] is primitive and primitive.ufunc is None
    assert np.sinc(Dual(x0, 1.0)).dval == pytest.approx(expected, rel=1e-14)
    assert ad.grad(np.sinc)(x0) == pytest.approx(expected, rel=1e-14)

    # or a function written with primitives
    @ad_engine.implements(np.sinc)
    def sinc(x):
        return np.sin(np.pi * x) / (np.pi * x)

    assert NUMPY_FUNCTIONS[np.sinc] is sinc
    assert np.sinc(Dual(x0, 1.0)).dval == pytest.approx(expected, rel=1e-14)
    assert ad.grad(np.sinc)(x0) == pytest.approx(expected, rel=1e-14)


def test_registration_errors_say_what_is_expected():
    with pytest.raises(ValueError, match="a partial is a function, 1, -1 or None"):
        ad.defprimitive("bad", np.sin, partials=[2])
    with pytest.raises(ValueError, match="not both"):
        ad.defprimitive("bad", np.sin, partials=[1], jvps=[None], vjps=[None])
    with pytest.raises(ValueError, match="one jvp and one vjp per argument"):
        ad.defprimitive("bad", np.sin, jvps=[None])
    with pytest.raises(ValueError, match="numpy= or ufunc=, not both"):
        ad.defprimitive("bad", np.sin, partials=[1], numpy=np.cos, ufunc=np.sin)
    assert "bad" not in ad.PRIMITIVES
