"""Every mode over every mode gives the Hessian that sympy gives, to 1e-10.

Five functions of several variables, each written once against a namespace
``m`` (numpy for the library, sympy for the reference). The Hessian is built
column by column (H e_j) or entry by entry (e_i^T H e_j) by each route:

- ``grad(grad(f))``  reverse over reverse: ``ad.grad(lambda y: ad.grad(f)(y)[i])``
- ``jvp(grad(f))``   forward over reverse: ``ad.jvp(ad.grad(f), x, e_j)[1]``
- ``grad(jvp(f))``   reverse over forward: ``ad.grad(lambda y: ad.jvp(f, y, e_j)[1])``
- ``jvp(jvp(f))``    forward over forward: ``ad.jvp(lambda y: ad.jvp(f, y, e_i)[1], x, e_j)[1]``
- ``hvp``, ``hessian``  the library's own routes

(the API has no separate name for these compositions: they are written as a
student would compose the public functions).
"""

import numpy as np
import pytest
import sympy

import autodiff_helpers as ad
from ad_engine.rules import LIVE


def coupled(x, m):
    return x[0] ** 2 * x[1] + m.sin(x[0] * x[2]) + m.exp(x[1] * x[2]) / (1 + x[0] ** 2)


def rosenbrock(x, m):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def radial(x, m):
    r2 = x[0] ** 2 + x[1] ** 2 + x[2] ** 2
    return m.log(1 + x[0] ** 2 + x[1] ** 2) * m.cos(x[2]) + m.sqrt(r2 + 1)


def mixed_powers(x, m):
    return x[0] ** x[1] + m.tanh(x[0] - x[2]) * x[3] + 1 / (x[1] ** 2 + x[3] ** 2 + 1)


def angular(x, m):
    return m.arctan(x[1] / x[0]) * x[2] + x[0] * x[1] * x[2] * x[3] + m.exp(-x[3] ** 2) * m.sin(x[1])


class SympyNamespace:
    """sympy under numpy's names, so each function is written once."""
    sin, cos, exp, log, sqrt, tanh = sympy.sin, sympy.cos, sympy.exp, sympy.log, sympy.sqrt, sympy.tanh
    arctan = sympy.atan


FUNCTIONS = {  # name: (function, points inside its domain)
    "coupled": (coupled, [[0.3, -0.7, 1.1], [1.2, 0.4, -0.5]]),
    "rosenbrock": (rosenbrock, [[-1.2, 1.0, 0.8, 1.5], [0.5, 0.25, -0.3, 0.1]]),
    "radial": (radial, [[0.6, -1.3, 0.9], [2.0, 0.1, -2.2]]),
    "mixed_powers": (mixed_powers, [[1.3, 0.7, -0.4, 0.9], [0.6, 2.1, 0.3, -1.2]]),
    "angular": (angular, [[1.4, 0.5, -0.8, 0.3], [0.7, -1.1, 1.6, -0.6]]),
}
CASES = [(name, point) for name, (_, points) in FUNCTIONS.items() for point in points]
IDS = [f"{name}-{k}" for name in FUNCTIONS for k in range(len(FUNCTIONS[name][1]))]


def sympy_hessian(name, point):
    function, _ = FUNCTIONS[name]
    symbols = sympy.symbols(f"x0:{len(point)}", real=True)
    hessian = sympy.hessian(function(symbols, SympyNamespace), symbols)
    return np.array(hessian.subs(dict(zip(symbols, point))).evalf(30), dtype=float)


def numpy_function(name):
    function, _ = FUNCTIONS[name]
    return lambda x: function(x, np)


def hessian_by_columns(column, n):
    return np.column_stack([column(e) for e in np.eye(n)])


ROUTES = {
    "grad(grad(f))": lambda f, x: np.array(
        [ad.grad(lambda y: ad.grad(f)(y)[i])(x) for i in range(x.size)]),
    "jvp(grad(f))": lambda f, x: hessian_by_columns(lambda e: ad.jvp(ad.grad(f), x, e)[1], x.size),
    "grad(jvp(f))": lambda f, x: hessian_by_columns(
        lambda e: ad.grad(lambda y: ad.jvp(f, y, e)[1])(x), x.size),
    "jvp(jvp(f))": lambda f, x: np.array(
        [[ad.jvp(lambda y: ad.jvp(f, y, ei)[1], x, ej)[1] for ej in np.eye(x.size)]
         for ei in np.eye(x.size)]),
    "hvp": lambda f, x: hessian_by_columns(lambda e: ad.hvp(f, x, e), x.size),
    "hessian": lambda f, x: ad.hessian(f, x),
}


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("name, point", CASES, ids=IDS)
def test_route_matches_sympy_hessian(name, point, route):
    x = np.array(point)
    got = np.asarray(ROUTES[route](numpy_function(name), x), dtype=float)
    expected = sympy_hessian(name, point)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, point", CASES, ids=IDS)
def test_sympy_reference_matches_central_differences(name, point):
    """The reference is itself checked: a difference of the function's values."""
    f, x, h = numpy_function(name), np.array(point), 1e-4
    n = x.size
    steps = np.eye(n) * h
    numeric = np.array([[(f(x + steps[i] + steps[j]) - f(x + steps[i] - steps[j])
                          - f(x - steps[i] + steps[j]) + f(x - steps[i] - steps[j])) / (4 * h * h)
                         for j in range(n)] for i in range(n)])
    np.testing.assert_allclose(sympy_hessian(name, point), numeric, rtol=1e-5, atol=1e-5)


# -- a derivative inside a derivative that closes over the outer variable ----------------
# f(x) = x * d/dy (x y) = x**2, so f'(x) = 2x: 2 at x = 1, 6 at x = 3, in every nesting.

CLOSURES = {
    "grad-over-grad": lambda x: ad.grad(lambda x: x * ad.grad(lambda y: x * y)(2.0))(x),
    "grad-over-derivative": lambda x: ad.grad(lambda x: x * ad.derivative(lambda y: x * y, 2.0))(x),
    "derivative-over-grad": lambda x: ad.derivative(lambda x: x * ad.grad(lambda y: x * y)(2.0), x),
    "derivative-over-derivative":
        lambda x: ad.derivative(lambda x: x * ad.derivative(lambda y: x * y, 2.0), x),
}


@pytest.mark.parametrize("nesting", CLOSURES)
@pytest.mark.parametrize("x, expected", [(1.0, 2.0), (3.0, 6.0)])
def test_inner_derivative_closing_over_the_outer_variable(nesting, x, expected):
    assert CLOSURES[nesting](x) == expected


# -- reverse over reverse -------------------------------------------------------------------

def test_grad_of_grad_of_sin():
    np.testing.assert_allclose(ad.grad(ad.grad(np.sin))(1.0), -np.sin(1.0), 1e-15, 0)


def test_third_derivative_by_reverse_over_reverse_over_reverse():
    np.testing.assert_allclose(ad.grad(ad.grad(ad.grad(np.sin)))(1.0), -np.cos(1.0), 1e-15, 0)


def test_grad_of_grad_of_a_cubic():
    assert ad.grad(ad.grad(lambda x: x**3 - 2 * x))(2.0) == 12.0


def test_grad_of_grad_component_on_arrays():
    """The gradient of df/dx_1 = 3 x0**2 x1**2 for f = x0**2 x1**3: (6 x0 x1**2, 6 x0**2 x1)."""
    f = lambda x: x[0] ** 2 * x[1] ** 3  # noqa: E731
    mixed = ad.grad(lambda x: ad.grad(f)(x)[1])(np.array([1.0, 2.0]))
    np.testing.assert_allclose(mixed, [24.0, 12.0], 1e-14)


def test_second_derivative_of_a_linear_function_is_zero():
    """The inner gradient is a constant: the outer derivative sees zeros, it does not raise."""
    assert ad.grad(ad.grad(lambda x: 3.0 * x))(2.0) == 0.0
    assert ad.derivative(ad.grad(lambda x: 3.0 * x), 2.0) == 0.0


# -- Duals and Variables made by hand around a hand-built traced value ----------------------
# f(x) = d/dy (x y**2) at y = x is 2 x**2, so f'(1.5) = 6; written with hand-built Duals and
# Variables only (no derivative call gives them their order).

def test_hand_built_variable_around_a_hand_built_variable():
    x = ad.Variable(1.5)
    y = ad.Variable(x)  # the inner graph: x is a constant of it, traced in its own graph
    (x * y**2).backward()
    inner = y.grad  # 2 x y = 2 x**2, a node of x's graph
    inner.backward()
    assert (inner.value, x.grad) == (4.5, 6.0)


def test_hand_built_dual_around_a_hand_built_dual():
    x = ad.Dual(1.5, 1.0)
    y = ad.Dual(x, 1.0)  # the inner perturbation, newer than x's
    inner = (x * y**2).dval  # 2 x y at y = x: 2 x**2, carrying x's tangent
    assert (inner.val, inner.dval) == (4.5, 6.0)


def test_hand_built_variables_around_two_hand_built_variables_are_one_graph():
    """The gradient of f(a, b) = a b**2 with respect to both inputs, each a Variable built
    around an outer hand-built Variable, and that gradient differentiated again: both inner
    Variables belong to one graph, as two built around plain numbers do (each had a graph of
    its own, so a.grad was None, a silent zero, and the outer derivatives were wrong)."""
    x, y = ad.Variable(1.5), ad.Variable(0.7)
    a, b = ad.Variable(x), ad.Variable(y)
    (a * b**2).backward()
    assert a.grad is not None and (a.grad.value, b.grad.value) == (0.7**2, 2 * 1.5 * 0.7)
    (a.grad + b.grad).backward()  # d/dx (y**2 + 2 x y) = 2 y, d/dy = 2 y + 2 x
    np.testing.assert_allclose([x.grad, y.grad], [1.4, 1.4 + 3.0], rtol=1e-15)


def test_hand_built_duals_around_two_hand_built_duals_share_a_perturbation():
    x, y = ad.Dual(1.5, 1.0), ad.Dual(0.7, 0.0)  # outer perturbation along x
    a, b = ad.Dual(x, 1.0), ad.Dual(y, 0.0)  # inner perturbation along a
    inner = (a * b**2).dval  # d/da (a b**2) = b**2 = 0.49, constant along x
    assert (inner.val, inner.dval) == (0.7**2, 0.0)
    inner = (a * b**2 * x).dval  # b**2 x: its x-derivative is b**2
    np.testing.assert_allclose([inner.val, inner.dval], [0.49 * 1.5, 0.49], rtol=1e-15)


def test_reverse_over_reverse_by_hand_of_a_two_argument_vjp():
    """autograd's check of a VJP of f(a, b) = a / b, differentiated with respect to its point
    and its cotangent by hand-built Variables (reverse over reverse), against central
    differences of the same VJP computed in floats."""
    def vjp(a, b, u):
        A, B = ad.Variable(a), ad.Variable(b)
        (A / B).backward(seed=u)
        return A.grad, B.grad  # u / b, -u a / b**2

    def scalar(a, b, u):  # one scalar of the VJP's output
        ga, gb = vjp(a, b, u)
        return 0.3 * ga - 1.1 * gb

    point = [0.8, -1.7, 0.45]
    leaves = [ad.Variable(t) for t in point]
    scalar(*leaves).backward()
    h, want = 1e-5, []
    for i in range(3):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        want.append((scalar(*up) - scalar(*down)) / (2 * h))
    np.testing.assert_allclose([leaf.grad for leaf in leaves], want, rtol=1e-8)


@pytest.mark.parametrize("by_hand", [ad.Variable, lambda t: ad.Dual(t, 1.0)], ids=["Variable", "Dual"])
def test_hvp_with_a_hand_built_traced_point_or_direction(by_hand):
    """hvp's own graph is newer than the caller's hand-built Variables and Duals: the
    Hessian-vector product is differentiable with respect to x and to v."""
    def outer_derivative(h, t):
        if isinstance(h, ad.Dual):
            return h.dval
        h.backward()
        return t.grad

    t = by_hand(0.7)  # H v = (6 t t, 0) for f = t sum(x**3) at x = (t, 1), v = e0
    h = ad.hvp(lambda x: np.sum(x**3) * t, np.stack([t, 1.0 + 0 * t]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(outer_derivative(h[0], t), 12 * 0.7, rtol=1e-14)
    s = by_hand(0.3)  # H v = 6 x * v = (6 * 0.7 s, 6 s): d(sum)/ds = 10.2
    h = ad.hvp(lambda x: np.sum(x**3), np.array([0.7, 1.0]), np.stack([s, s]))
    np.testing.assert_allclose(outer_derivative(np.sum(h), s), 10.2, rtol=1e-14)


@pytest.mark.parametrize("index", [None, (), Ellipsis, (None, None)], ids=repr)
def test_indexing_a_0d_array_in_every_nesting(index):
    """x[None], x[()], x[...] of a 0-d array, whose value the engine keeps as a number:
    indexed as numpy indexes the array, first and second derivatives of sum(x[index]**3)."""
    f = lambda x: np.sum(x[index] ** 3)  # noqa: E731
    x = np.array(0.7)
    assert ad.grad(f)(x) == pytest.approx(3 * 0.49) and ad.derivative(f, x) == pytest.approx(1.47)
    for second in (ad.grad(ad.grad(f))(x), ad.derivative(ad.grad(f), x),
                   ad.grad(lambda y: ad.derivative(f, y))(x)):
        assert second == pytest.approx(6 * 0.7)


# -- values that outlive the derivative call that traced them --------------------------
# A value kept from inside an inner call (in a list, say: the PINN pattern u + u_x from one
# call) and a Variable built by hand inside f are, to the outer call, the numbers they hold;
# every entry point gives the derivative of those numbers (found by other projects' tests:
# forward mode returned 0, or a Dual of a finished perturbation).

def _kept_from_inner(inner):
    """f(w) = u(x) + u'(x) at x = 0.5 for u(x) = sin(w x), u kept from inside ``inner``."""
    def f(w):
        kept = []

        def u(x):
            y = np.sin(w * x)
            kept.append(y)
            return y
        slope = inner(u)
        return slope + kept[0]
    return f


INNER_CALLS = {
    "grad": lambda u: ad.grad(u)(0.5),
    "derivative": lambda u: ad.derivative(u, 0.5),
    "jvp": lambda u: ad.jvp(u, 0.5, 1.0)[1],
}
def _hand_dual(f, w):
    return f(ad.Dual(w, 1.0)).dval


def _hand_variable(f, w):
    v = ad.Variable(w)
    f(v).backward()
    return v.grad


OUTER_CALLS = {  # the entry points, and a Dual or a Variable built by hand (no entry point)
    "grad": lambda f, w: ad.grad(f)(w),
    "derivative": ad.derivative,
    "jvp": lambda f, w: ad.jvp(f, w, 1.0)[1],
    "forward_gradient": lambda f, w: ad.forward_gradient(lambda v: f(v[0]), np.array([w]))[0],
    "value_and_derivatives": lambda f, w: ad.value_and_derivatives(f, w)[1],
    "Dual by hand": _hand_dual,
    "Variable by hand": _hand_variable,
}


@pytest.mark.parametrize("outer", list(OUTER_CALLS))
@pytest.mark.parametrize("inner", list(INNER_CALLS))
def test_a_value_kept_from_an_inner_call(inner, outer):
    w, x = 1.2, 0.5
    exact = x * np.cos(w * x) + np.cos(w * x) - w * x * np.sin(w * x)  # d/dw (u + u_x)
    result = OUTER_CALLS[outer](_kept_from_inner(INNER_CALLS[inner]), w)
    assert not isinstance(result, (ad.Dual, ad.Variable)), result
    assert abs(result - exact) < 1e-13


def test_jvp_of_a_value_kept_from_an_inner_grad_has_a_plain_value():
    value, tangent = ad.jvp(_kept_from_inner(INNER_CALLS["grad"]), 1.2, 1.0)
    assert type(value) is float and abs(value - (np.sin(0.6) + 1.2 * np.cos(0.6))) < 1e-15


def test_a_dual_kept_from_an_inner_derivative_is_its_value():
    def square(x):  # x times the inner call's x: x**2
        kept = []
        ad.derivative(lambda y: kept.append(y) or y, x)
        return x * kept[0]
    assert ad.derivative(square, 3.0) == 6.0
    assert ad.grad(square)(3.0) == 6.0


@pytest.mark.parametrize("route", ["derivative", "grad", "hvp", "hessian"])
def test_a_variable_built_by_hand_inside_f(route):
    # as a number, Variable(2.0) is 2: d/dx x * 2 = 2, and the Hessian of sum(2 x**3) is 12 diag(x)
    x = np.array([1.0, 2.0])
    cubic = lambda y: np.sum(y**3 * ad.Variable(2.0))  # noqa: E731
    if route == "derivative":
        assert ad.derivative(lambda y: y * ad.Variable(2.0), 3.0) == 2.0
    elif route == "grad":
        assert ad.grad(lambda y: y * ad.Variable(2.0))(3.0) == 2.0
    elif route == "hvp":
        assert np.array_equal(ad.hvp(cubic, x, np.ones(2)), 12 * x)
    else:
        assert np.array_equal(ad.hessian(cubic, x), np.diag(12 * x))


def test_backward_inside_the_function_grad_differentiates_is_refused():
    def f(x):
        y = x**2
        y.backward()  # would add a second sweep into the gradient grad returns (12, not 6)
        return y
    with pytest.raises(TypeError, match="backward.. was called inside a function that ad.grad"):
        ad.grad(f)(3.0)
    with pytest.raises(TypeError, match="backward.. was called inside"):
        ad.derivative(ad.grad(f), 3.0)


def test_backward_inside_f_on_a_graph_of_its_own_is_allowed():
    # a Variable built by hand inside f is a graph of its own: its sweep is f's business
    def f(x):
        w = ad.Variable(2.0)
        (w * x).backward()
        return w.grad  # = x, traced: its derivative is 1
    assert ad.grad(f)(3.0) == 1.0
    assert ad.derivative(f, 3.0) == 1.0


def test_a_dual_built_by_hand_inside_grad_is_still_refused():
    with pytest.raises(TypeError, match="Dual made inside f by hand"):
        ad.grad(lambda x: x * ad.Dual(1.0, 1.0))(3.0)


# -- a value of a call that has returned -------------------------------------------------------
# An outer Dual or Variable made by hand has no entry point to take the ended layer off f's
# result: every operation on a value of a call that has returned does it instead (rules.bind),
# and a backward sweep from such a value is refused (found by JAX's escaped-tracer tests).

@pytest.mark.parametrize("inner", list(INNER_CALLS))
def test_a_value_kept_from_an_inner_call_is_a_constant_to_a_later_call(inner):
    kept = []
    INNER_CALLS[inner](lambda y: kept.append(y * y) or y * y)  # kept[0] is 0.25, its call over
    for outer in OUTER_CALLS.values():
        assert outer(lambda w: w * kept[0], 2.0) == 0.25
        assert outer(lambda w: kept[0] * np.sin(w), 2.0) == 0.25 * np.cos(2.0)


def test_backward_from_a_node_of_a_grad_that_has_returned_is_refused():
    v = ad.Variable(4.0)
    kept = []
    ad.grad(lambda y: kept.append(y**3) or y**3)(v)
    with pytest.raises(TypeError, match="derivative call that has returned.*node.value.backward"):
        kept[0].backward()
    kept[0].value.backward()  # the way out the message names: v**3, by hand
    assert v.grad == 48.0


@pytest.mark.parametrize("inner", ["derivative", "jvp"])
def test_the_d_part_of_a_dual_kept_from_a_call_that_has_returned_is_refused(inner):
    """f returns the kept Dual itself, untouched by any operation, to an outer Dual built by
    hand: no entry point and no operation takes the ended layer off, and its d-part was
    the inner call's tangent (2 x = 4 + 2d), read as f' (which is 4)."""
    def f(x):
        kept = []
        call = ad.derivative if inner == "derivative" else (lambda g, y: ad.jvp(g, y, 1.0))
        call(lambda t: kept.append(t * t) or t * t, x)
        return kept[0]
    result = f(ad.Dual(2.0, 1.0))
    with pytest.raises(TypeError, match=r"kept from inside a derivative call that has returned.*"
                                        r"\.val\.dval"):
        result.dval
    assert result.val.dval == 4.0  # the way out the message names
    assert (result * 1.0).dval == 4.0  # any operation takes the ended layer off
    assert repr(result) == "(4.0 + 4.0·d₂) + (4.0 + 2.0·d₂)·d₁"  # printing never raises
    kept = []
    ad.derivative(lambda t: kept.append(t * t) or t * t, 3.0)
    assert kept[0].dval == 6.0  # plain parts: nothing outer to confuse it with
    v = ad.Variable(2.0)  # the same with an outer Variable built by hand
    result = f(v)
    with pytest.raises(TypeError, match=r"Dual kept from inside a derivative call.*\.val\.backward"):
        result.backward()
    result.val.backward()
    assert v.grad == 4.0


def test_every_derivative_call_ends_even_when_f_raises():
    def broken(x):
        raise ZeroDivisionError("f failed")
    for call in (lambda: ad.derivative(broken, 1.0), lambda: ad.grad(broken)(1.0),
                 lambda: ad.jvp(broken, (1.0,), (1.0,)), lambda: ad.hvp(broken, np.ones(2), np.ones(2)),
                 lambda: ad.value_and_derivatives(broken, 1.0)):
        with pytest.raises(ZeroDivisionError):
            call()
        assert LIVE == []
    ad.hessian(lambda y: np.sum(y**3), np.ones(2))
    assert LIVE == []
