"""Bad input to the AD engine: every case asserts the error type and a phrase of its message.

Also the documented conventions where a derivative is not classical: outside a
function's real domain (nan, as numpy), at the edge of it (inf, as numpy) and at
kinks (abs'(0) = 0; maximum/minimum at a tie give 1/2 to each argument).
"""

import functools
import math
import operator
import re
import threading
import warnings

import numpy as np
import pytest

import autodiff_helpers as ad
from autodiff_helpers import Dual, Variable

BAD_OPERANDS = [
    pytest.param("a", id="str"),
    pytest.param(["a", "b"], id="list-of-str"),
    pytest.param(None, id="None"),
    pytest.param({"x": 1.0}, id="dict"),
    pytest.param(object(), id="object"),
]
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]


def _make(kind):
    return Dual(1.5, 1.0) if kind == "Dual" else Variable(1.5)


@pytest.mark.parametrize("kind", ["Dual", "Variable"])
@pytest.mark.parametrize("bad", BAD_OPERANDS)
@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
def test_unsupported_operand_names_both_types(kind, bad, op):
    bad_type = type(bad).__name__
    for order in (lambda x: op(x, bad), lambda x: op(bad, x)):
        with pytest.raises(TypeError) as error:
            order(_make(kind))
        message = str(error.value)
        assert kind in message
        # Python words str/list * x itself, as for floats: "can't multiply sequence by
        # non-int of type 'Dual'" (and 'can only concatenate str (not "Dual") to str')
        assert bad_type in message or "multiply sequence" in message


def test_unsupported_operand_message_is_pythons():
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+: 'Dual' and 'str'"):
        Dual(1.0, 1.0) + "a"
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for -: 'NoneType' and 'Variable'"):
        None - Variable(1.0)
    with pytest.raises(TypeError, match=r"for @: 'Variable' and 'str'"):
        Variable(np.ones(2)) @ "ab"
    with pytest.raises(TypeError, match=r"for @: 'str' and 'Dual'"):
        "ab" @ Dual(np.ones(2), 1.0)


@pytest.mark.parametrize("kind", ["Dual", "Variable"])
def test_numpy_ufunc_with_a_string_operand(kind):
    with pytest.raises(TypeError, match=f"unsupported operand type\\(s\\) for np.add: {kind}, str"):
        np.add(_make(kind), "a")


@pytest.mark.parametrize(
    "make, phrase",
    [
        (lambda: Variable("a"), "Variable value must be a float or a numeric numpy array, not 'str'"),
        (lambda: Variable(None), "not 'NoneType'"),
        (lambda: Variable(["a", "b"]), "not 'list'"),
        (lambda: Dual("a", 1), "Dual val must be a number"),
        (lambda: Dual(1.0, "a"), "Dual dval must be a number"),
        (lambda: Dual(None), "not 'NoneType'"),
        (lambda: Dual(np.array(["a"]), 1.0), "not 'ndarray'"),
    ],
)
def test_constructors_reject_non_numbers(make, phrase):
    with pytest.raises(TypeError, match=re.escape(phrase)):
        make()


# -- backward and seeds -------------------------------------------------------------


def test_backward_on_non_scalar_needs_a_seed_of_the_output_shape():
    y = Variable(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"needs a scalar output.*shape \(2, 3\).*seed=np.ones\(\(2, 3\)\)"):
        y.backward()


def test_backward_with_a_seed_of_the_wrong_shape():
    y = Variable(np.ones(3)) * 2.0
    with pytest.raises(ValueError, match=r"seed has shape \(2,\) but the output has shape \(3,\)"):
        y.backward(np.ones(2))
    with pytest.raises(ValueError, match=r"seed has shape \(3,\) but the output has shape \(\)"):
        Variable(1.0).backward(np.ones(3))


def test_backward_with_a_seed_of_the_graph_being_swept_is_refused():
    """A seed of the swept graph made x.grad a Variable of that graph whose derivative was
    wrong (d(3x^5)/dx came out 144, not 240): only the path through the seed was recorded."""
    x = Variable(2.0)
    y = x**3
    with pytest.raises(TypeError, match=r"backward\(seed=s\): s is a Variable of the graph being "
                                        r"swept.*seed=s.value.*outer ad.grad"):
        y.backward(seed=y)
    v = Variable(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="graph being swept"):
        (v**2).backward(seed=v * 1.0)
    a, b = Variable(3.0), Variable(2.0)  # built by hand in one scope: one graph
    with pytest.raises(TypeError, match="graph being swept"):
        (b**3).backward(seed=a)
    y.backward(seed=y.value)  # the way out: a plain seed
    assert x.grad == 3 * 2.0**5


def test_backward_with_a_seed_of_an_outer_derivative_is_differentiable():
    """The supported case: the seed is a Variable of an outer ad.grad or a Dual of ad.jvp."""
    def swept(t):
        x = Variable(2.0)
        (x**3).backward(seed=t**3)
        return x.grad  # 3 x^2 t^3 at x = 2: 12 t^3

    assert ad.grad(swept)(2.0) == 144.0
    assert ad.jvp(swept, (2.0,), (1.0,))[1] == 144.0


def test_grad_of_a_function_returning_a_non_variable():
    """A constant scalar has gradient zero (as in autograd and JAX); a constant array is
    not a scalar output."""
    assert ad.grad(lambda x: 3.0)(1.0) == 0.0
    with pytest.raises(ValueError, match=r"needs a scalar output.*shape \(2,\)"):
        ad.grad(lambda x: np.ones(2))(1.0)


def test_grad_of_a_vector_valued_function():
    with pytest.raises(ValueError, match="needs a scalar output"):
        ad.grad(lambda x: x * 2.0)(np.ones(3))


def test_grad_argnums_out_of_range():
    with pytest.raises(ValueError, match=r"argnums=\(0, 2\) but f was called with 2 arguments"):
        ad.grad(lambda x, y: x * y, argnums=(0, 2))(1.0, 2.0)
    # a negative position out of range was Python's 'tuple index out of range'
    with pytest.raises(ValueError, match=r"argnums=-3 but f was called with 2 arguments"):
        ad.grad(lambda x, y: x * y, argnums=-3)(1.0, 2.0)


def test_grad_argnums_may_be_a_numpy_integer():
    """np.int64(1) (from np.arange, an argmax) is one position, as numpy takes it for axis=:
    it was 'numpy.int64' object is not iterable."""
    gradient = ad.grad(lambda x, y: x * y**2, argnums=np.int64(1))(3.0, 2.0)
    assert gradient == 12.0 and not isinstance(gradient, tuple)


# -- numpy functions without a rule -----------------------------------------------------


@pytest.mark.parametrize("kind", ["Dual", "Variable"])
@pytest.mark.parametrize("ufunc", [np.fmod, np.copysign, np.nextafter])
def test_ufunc_without_a_rule_names_it(kind, ufunc):
    with pytest.raises(TypeError, match=f"np.{ufunc.__name__} has no derivative rule for {kind}"):
        ufunc(_make(kind), 2.0)


@pytest.mark.parametrize("kind", ["Dual", "Variable"])
def test_ufunc_with_out_argument(kind):
    with pytest.raises(TypeError, match=r"np.sin with arguments \[.out.\] is not supported"):
        np.sin(_make(kind), out=np.empty(()))


@pytest.mark.parametrize("kind", ["Dual", "Variable"])
def test_ufunc_methods_other_than_call(kind):
    with pytest.raises(TypeError, match="np.add.reduce"):
        np.add.reduce(_make(kind))


def test_numpy_function_without_a_handler():
    with pytest.raises(TypeError, match="cumprod"):
        np.cumprod(Variable(np.ones(2)))


def test_constant_ufuncs_give_plain_values():
    assert np.floor(Dual(1.7, 1.0)) == 1.0 and not isinstance(np.floor(Dual(1.7, 1.0)), Dual)
    assert np.sign(Variable(-2.0)) == -1.0
    assert ad.derivative(lambda x: np.floor(x) * x, 1.7) == 1.0


@pytest.mark.parametrize("kind", ["Dual", "Variable"])
def test_conversion_to_a_plain_number_is_refused(kind):
    with pytest.raises(TypeError) as error:
        _make(kind).item()
    message = str(error.value)
    assert f"of a {kind} would lose its derivative" in message
    assert "x.value" in message and "np.sin" in message
    for convert in (float, int, math.exp):  # Python's own TypeError (see ArraySurface)
        with pytest.raises(TypeError, match=kind):
            convert(_make(kind))


ENTRY_POINTS = [
    ("grad", lambda f: ad.grad(f)(1.5), "Variable"),
    ("derivative", lambda f: ad.derivative(f, 1.5), "Dual"),
    ("jvp", lambda f: ad.jvp(f, (1.5,), (1.0,)), "Dual"),
    ("grad-of-grad", lambda f: ad.grad(ad.grad(f))(1.5), "Variable"),
    ("hessian", lambda f: ad.hessian(lambda x: f(x[0]), np.ones(1)), "Dual"),
]


@pytest.mark.parametrize("convert, call", [(math.sin, r"math\.sin\(x\)"), (math.exp, r"math\.sin\(x\)"),
                                           (float, r"float\(x\)"), (int, r"int\(x\)")],
                         ids=["math.sin", "math.exp", "float", "int"])
@pytest.mark.parametrize("entry, differentiate, kind", ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_conversion_inside_a_differentiated_function_names_the_way_out(entry, differentiate,
                                                                       kind, convert, call):
    """Inside grad, jvp, derivative ...: what happened and what to write instead."""
    with pytest.raises(TypeError, match=rf"{call} was called on a {kind}") as error:
        differentiate(lambda x: convert(x) * x)
    message = str(error.value)
    assert "would lose its derivative" in message
    assert "np.sin" in message and "x.value" in message


def _filled(x):
    out = np.zeros(2)
    out[0] = 2 * x  # a traced value into a plain array
    return np.sum(out)


@pytest.mark.parametrize("entry, differentiate, kind", ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_a_traced_value_put_into_a_plain_array_names_the_way_out(entry, differentiate, kind):
    """out[i] = x (the loop students write): numpy's 'setting an array element with a
    sequence' becomes what happened and what to write instead."""
    with pytest.raises(TypeError, match=rf"a {kind} was put into a plain numpy array.*np\.stack"):
        differentiate(_filled)


def test_other_value_errors_inside_a_differentiated_function_pass_unchanged():
    with pytest.raises(ValueError, match=r"^setting an array element with a sequence\. The"):
        ad.grad(lambda x: np.sum(np.array([[1.0], [1.0, 2.0]], dtype=float)) * x)(1.0)


def test_other_type_errors_inside_a_differentiated_function_pass_unchanged():
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for \+: 'Variable' and 'str'$"):
        ad.grad(lambda x: x + "a")(1.0)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_indices_and_counts_are_plain_values_and_the_derivative_follows_them(mode):
    x0 = np.array([0.3, 0.6, 0.2])

    def f(x):  # the largest entry squared, times how many entries exceed 0.25
        i = np.argmax(x)
        order = np.argsort(x)
        assert isinstance(i, np.integer) and order.tolist() == [2, 0, 1]
        return x[i] ** 2 * np.count_nonzero(x > 0.25) + np.sum(x[np.nonzero(x < 0.25)])

    expected = np.array([0.0, 2 * 0.6 * 2, 1.0])
    if mode == "reverse":
        got = ad.grad(f)(x0)
    else:
        got = np.array([ad.jvp(f, x0, e)[1] for e in np.eye(3)])
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert np.argmin(Variable(x0)) == 2 and np.allclose(Dual(x0, 1.0), x0)


# -- outside and at the edge of the domain: follow numpy ------------------------------

DOMAIN_CASES = [
    (np.log, -1.0), (np.sqrt, -1.0), (np.log2, -2.0), (np.log10, -3.0), (np.log1p, -2.0),
    (np.arcsin, 1.5), (np.arccos, -1.5), (np.arctanh, 2.0), (lambda x: x**0.5, -4.0),
    (lambda x: np.power(x, 1.5), -4.0), (lambda x: x**2.5, -1.0),
]


@pytest.mark.parametrize("f, x0", DOMAIN_CASES)
def test_outside_the_domain_value_and_derivative_are_nan_with_a_warning(f, x0):
    with pytest.warns(RuntimeWarning, match="invalid value"):
        expected = f(np.float64(x0))
    assert np.isnan(expected)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        forward = f(Dual(x0, 1.0))
    assert np.isnan(forward.val) and np.isnan(forward.dval)  # not a finite wrong number
    with pytest.warns(RuntimeWarning, match="invalid value"):
        x = Variable(x0)
        y = f(x)
        y.backward()
    assert np.isnan(y.value) and np.isnan(x.grad)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        grid = f(Dual(np.array([x0, 0.5]), 1.0))
    assert np.isnan(grid.val[0]) and np.isnan(grid.dval[0])
    assert np.isfinite(grid.val[1]) and np.isfinite(grid.dval[1])


@pytest.mark.parametrize(
    "f, x0, value",
    [(np.sqrt, 0.0, 0.0), (np.cbrt, 0.0, 0.0), (lambda x: x**0.5, 0.0, 0.0),
     (np.arcsin, 1.0, np.pi / 2), (np.arctanh, 1.0, np.inf), (np.log, 0.0, -np.inf)],
)
def test_at_the_edge_of_the_domain_the_derivative_is_inf_as_numpy(f, x0, value):
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        forward = f(Dual(x0, 1.0))
    assert forward.val == value and forward.dval == np.inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        x = Variable(x0)
        f(x).backward()
    assert x.grad == np.inf


@pytest.mark.parametrize("f", [lambda x: np.hypot(x, 0.0), lambda x: np.arctan2(x, 0.0),
                               lambda x: np.hypot(0.0, x), lambda x: np.arctan2(0.0, x)],
                         ids=["hypot(x, 0)", "arctan2(x, 0)", "hypot(0, x)", "arctan2(0, x)"])
def test_at_the_origin_hypot_and_arctan2_follow_numpy_not_python_floats(f):
    """Their partials divide 0 by 0 at the origin (no derivative there): nan with numpy's
    warning, as for an array; the value is numpy's. Python's ZeroDivisionError would come
    from inside the rule, not from anything the user wrote."""
    with pytest.warns(RuntimeWarning, match="invalid value"):
        forward = f(Dual(0.0, 1.0))
    assert forward.val == f(np.float64(0.0)) and np.isnan(forward.dval)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        x = Variable(0.0)
        f(x).backward()
    assert np.isnan(x.grad)


SECOND_DERIVATIVES_AT_THE_EDGE = [  # the limit at the edge, as numpy's arithmetic gives it
    (np.sqrt, 0.0, -np.inf), (np.log, 0.0, -np.inf), (np.log2, 0.0, -np.inf),
    (np.log1p, -1.0, -np.inf), (np.cbrt, 0.0, np.nan),  # -2/9 x^(-5/3): ±inf from either side
    (np.arcsin, 1.0, np.inf), (np.arccos, 1.0, -np.inf), (np.arctanh, 1.0, np.inf),
    (np.arccosh, 1.0, -np.inf),
]
NESTINGS = {
    "fwd_fwd": lambda f, x: ad.derivative(lambda y: ad.derivative(f, y), x),
    "rev_rev": lambda f, x: ad.grad(ad.grad(f))(x),
    "fwd_rev": lambda f, x: ad.derivative(ad.grad(f), x),
    "rev_fwd": lambda f, x: ad.grad(lambda y: ad.derivative(f, y))(x),
}


@pytest.mark.parametrize("nesting", NESTINGS)
@pytest.mark.parametrize("f, x0, expected", SECOND_DERIVATIVES_AT_THE_EDGE,
                         ids=[case[0].__name__ for case in SECOND_DERIVATIVES_AT_THE_EDGE])
def test_at_the_edge_of_the_domain_second_derivatives_follow_numpy(f, x0, expected, nesting):
    """The first derivative's rule divides by a Dual or Variable holding 0.0 there: numpy's inf
    or nan with its warning, as at first order, not Python's ZeroDivisionError from inside
    the rule."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        second = NESTINGS[nesting](f, x0)
    np.testing.assert_array_equal(second, expected)


@pytest.mark.parametrize("ddof", [4, 5])
def test_var_and_std_with_ddof_at_least_the_count_are_numpy_values(ddof):
    """numpy divides by max(N - ddof, 0): inf or nan, never a negative variance."""
    x0 = np.array([0.7, -1.3, 2.1, 0.4])
    for function in (np.var, np.std):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = function(x0, ddof=ddof)
            value, _ = ad.jvp(lambda x: function(x, ddof=ddof), x0, np.ones(4))
            traced = function(Variable(x0), ddof=ddof).value
        np.testing.assert_array_equal([value, traced], [expected, expected])


def test_gradient_of_an_array_divided_by_a_number_0_is_numpys():
    """An array over a Python 0 is numpy's inf or nan, and so are the partials of the division
    (1/b, -ans/b), not Python's ZeroDivisionError: np.std over an axis with ddof = N."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gradient = ad.grad(lambda x: np.sum(np.std(x, axis=0, ddof=2)))(np.eye(2, 3))
        tangent = ad.jvp(lambda b: np.array([1.0, 0.0]) / b, 0.0, 1.0)[1]
    assert gradient.shape == (2, 3) and np.all(np.isnan(gradient))
    np.testing.assert_array_equal(tangent, [-np.inf, np.nan])


def test_mean_of_an_empty_array_is_numpys_nan_in_both_modes():
    """The mean's transpose divides the adjoint by the count, 0 here: numpy's nan, and the
    gradient of an empty array is empty (no ZeroDivisionError from inside the rule)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, tangent = ad.jvp(np.mean, np.zeros(0), np.zeros(0))
        gradient = ad.grad(np.mean)(np.zeros(0))
    assert np.isnan(value) and np.isnan(tangent)
    assert gradient.shape == (0,)


def test_division_by_zero_follows_python_floats_for_scalars_and_numpy_for_arrays():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Dual(1.0, 1.0) / 0.0
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        result = Dual(np.array([1.0, 2.0]), 1.0) / np.array([0.0, 1.0])
    assert result.val[0] == np.inf and result.val[1] == 2.0


def test_where_picks_values_so_the_branch_not_taken_does_not_leak_nan():
    x0 = np.array([-1.0, 4.0])
    with pytest.warns(RuntimeWarning, match="invalid value"):
        forward = np.where(Dual(x0, 1.0) > 0, np.sqrt(Dual(x0, 1.0)), 0.0)
    np.testing.assert_array_equal(forward.val, [0.0, 2.0])  # numpy's value, not 0 * nan
    np.testing.assert_array_equal(forward.dval, [0.0, 0.25])
    with pytest.warns(RuntimeWarning, match="invalid value"):
        x = Variable(x0)
        y = np.where(x > 0, np.sqrt(x), 0.0)
    np.testing.assert_array_equal(y.value, [0.0, 2.0])


# -- kinks: one documented convention in both modes -------------------------------------


def _both_modes(f, x0):
    forward = ad.derivative(f, x0)
    x = Variable(x0)
    f(x).backward()
    return forward, x.grad


@pytest.mark.parametrize(
    "f, x0, expected",
    [
        (abs, 0.0, 0.0),  # abs'(0) = 0
        (np.abs, 0.0, 0.0),
        (lambda x: abs(x) * 3.0 + x, 0.0, 1.0),
        (lambda x: np.maximum(x, x), 1.3, 1.0),  # 1/2 + 1/2: max(x, x) = x
        (lambda x: np.minimum(x, x), 1.3, 1.0),
        (lambda x: np.maximum(x, 1.0), 1.0, 0.5),  # a tie with a constant: 1/2
        (lambda x: np.minimum(x, 1.0), 1.0, 0.5),
        (lambda x: np.maximum(2.0 * x, x), 0.0, 1.5),  # 1/2 * 2 + 1/2 * 1
        (lambda x: np.maximum(x, 0.0), -1.0, 0.0),  # away from the tie: the usual values
        (lambda x: np.maximum(x, 0.0), 1.0, 1.0),
    ],
)
def test_kink_conventions_in_both_modes(f, x0, expected):
    forward, reverse = _both_modes(f, x0)
    assert forward == expected and reverse == expected


def test_kinks_on_arrays():
    x0 = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ad.derivative(np.abs, x0), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(ad.derivative(lambda x: np.maximum(x, 0.0), x0), [0.0, 0.5, 1.0])
    x = Variable(x0)
    np.sum(np.maximum(x, 0.0)).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 1.0])


# -- shape errors of jvp, hvp, hessian -----------------------------------------------


def test_jvp_shape_errors():
    with pytest.raises(ValueError, match=r"x\[1\] has shape \(2,\) but its tangent v\[1\] has shape "
                                         r"\(3,\); a tangent has the shape of its point"):
        ad.jvp(lambda a, b: a * b, (1.0, np.ones(2)), (1.0, np.ones(3)))
    with pytest.raises(ValueError, match=r"x has shape \(2,\) but v has shape \(3,\); they must match"):
        ad.jvp(lambda v: v[0], np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="x has 2 arguments, so v must be a tuple of 2 tangents"):
        ad.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="must be a tuple of 2 tangents"):
        ad.jvp(lambda a, b: a * b, (1.0, 2.0), np.ones(2))


def test_hvp_and_hessian_shape_errors():
    f = lambda x: np.sum(x**3)  # noqa: E731
    with pytest.raises(ValueError, match=r"1-D arrays of one shape, got \(2,\) and \(3,\)"):
        ad.hvp(f, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"1-D arrays of one shape, got \(2, 2\)"):
        ad.hvp(f, np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"x must be a 1-D array, got shape \(2, 2\)"):
        ad.hessian(f, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"needs a scalar function.*returned shape \(2,\)"):
        ad.hvp(lambda x: x**3, np.ones(2), np.ones(2))


@pytest.mark.parametrize("f", [lambda x: 2.0 * x, lambda x: np.array([[1.0, 2.0], [3.0, 4.0]]) @ x,
                               lambda x: np.ones(3), lambda x: x**3],
                         ids=["2x", "A@x", "constant", "x**3"])
def test_hvp_and_hessian_of_a_vector_function_are_refused(f):
    """A vector f whose directional derivative does not depend on x (linear, constant) got
    H v = zeros (the shortcut for a scalar f linear along v came before the check of the
    shape); a nonlinear one was refused without a way out. Refused alike, naming the ways."""
    x, v = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    message = (r"ad\.hvp \(and ad\.hessian\) needs a scalar function.*returned shape \(\d,\).*"
               r"ad\.hvp\(lambda y: f\(y\)\[i\], x, v\).*ad\.hvp\(lambda y: w @ f\(y\), x, v\).*"
               r"ad\.jvp\(lambda y: ad\.jvp\(f, y, v\)\[1\], x, u\)\[1\]")
    with pytest.raises(ValueError, match=message):
        ad.hvp(f, x, v)
    with pytest.raises(ValueError, match=message):
        ad.hessian(f, x)


def test_numerical_gradient_of_a_traced_point_is_refused_by_name():
    """It named np.iscomplexobj, which the user never called."""
    with pytest.raises(TypeError, match=r"ad\.numerical_gradient takes a point of plain numbers, "
                                        r"but x is a Dual.*differentiate f itself with ad\.grad"):
        ad.jvp(lambda x: ad.numerical_gradient(np.sum, x), np.ones(2), np.ones(2))


def test_numerical_gradient_method_error():
    with pytest.raises(ValueError, match="method must be 'forward' or 'central', got 'centre'"):
        ad.numerical_gradient(np.sum, np.ones(2), method="centre")


# -- values that cannot carry a derivative: refused, with the way out ---------------------

BUILDERS = [("np.array", lambda x: np.array([x, x * 1.0, x + 2.5])),
            ("np.asarray", lambda x: np.asarray(x * np.ones(3))),
            ("ndarray.dot", lambda x: np.arange(3.0).dot(x * np.ones(3))),
            ("np.r_", lambda x: np.r_[x, 2 * x]), ("np.c_", lambda x: np.c_[x, 2 * x]),
            ("np.max-of-np.array", lambda x: np.max(np.array([x, 2 * x])))]


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("builder, f", BUILDERS, ids=[b[0] for b in BUILDERS])
def test_an_array_built_from_traced_values_is_refused(builder, f, mode):
    """An array of objects would hold Duals whose tangent numpy drops: refused in both modes,
    naming np.stack and np.concatenate (np.append, np.stack ... work: test_systematic.py)."""
    kind = "Variable" if mode == "rev" else "Dual"
    with pytest.raises(TypeError, match=rf"np\.array \(also np\.r_, np\.c_, np\.asarray\) cannot hold "
                                        rf"a {kind}: the derivative would be lost\. .*several values "
                                        r"use np\.stack\(\[\.\.\.\]\), np\.concatenate"):
        if mode == "rev":
            ad.grad(lambda x: np.sum(f(x)))(3.0)
        else:
            ad.jvp(f, (3.0,), (1.0,))


@pytest.mark.parametrize("make", [lambda x: Variable(x), lambda x: Dual(x, np.ones_like(x))],
                         ids=["Variable", "Dual"])
def test_svd_extra_singular_vectors_are_refused_when_used(make):
    """np.linalg.svd(x) of a tall x with full_matrices=True: the columns of U beyond the thin
    SVD are any orthonormal completion, without a derivative; s and Vh still work."""
    u, s, vh = np.linalg.svd(make(np.arange(6.0).reshape(3, 2) + np.eye(3, 2)))
    assert np.shape(vh) == (2, 2) and np.shape(s) == (2,)
    with pytest.raises(NotImplementedError, match="full_matrices=True have no derivative; use "
                                                  "full_matrices=False"):
        u @ np.ones(3)


@pytest.mark.parametrize("f, error, message", [
    (lambda x: x.astype(int), TypeError, r"astype\(int64\) of a \w+ has no derivative; keep float"),
    (lambda x: np.prod(x * 0.0), ValueError, r"np\.prod: the derivative at an entry equal to 0 is "
                                             r"not supported .* multiply the factors with \*"),
    (lambda x: np.linalg.norm(np.stack([x, x]).reshape(1, 2), "fro2"), ValueError,
     r"Invalid norm order 'fro2' for matrices"),
    (lambda x: np.gradient(np.stack([x, x, x]), ad.Variable(1.0)), NotImplementedError,
     r"np\.gradient with a traced spacing is not supported"),
], ids=["astype-int", "prod-at-zero", "bad-matrix-norm", "gradient-traced-spacing"])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_unsupported_uses_raise_a_clear_error(f, error, message, mode):
    with pytest.raises(error, match=message):
        if mode == "rev":
            ad.grad(lambda x: np.sum(f(x)))(3.0)
        else:
            ad.jvp(f, (3.0,), (1.0,))


@pytest.mark.parametrize("function, name", [(np.cumprod, "np.cumprod"), (np.linalg.qr, "np.linalg.qr"),
                                            (np.linalg.eig, "np.linalg.eig")])
@pytest.mark.parametrize("make", [Variable, lambda x: Dual(x, np.ones_like(x))],
                         ids=["Variable", "Dual"])
def test_unsupported_numpy_function_is_refused_with_the_way_out(function, name, make):
    with pytest.raises(TypeError, match=rf"{name} has no derivative rule for (Variable|Dual), so it "
                                        r"cannot be differentiated; write it with the supported "
                                        r"numpy functions .* or register it with ad\.defprimitive"):
        function(make(np.array([[2.0, 1.0], [0.5, 3.0]])))


@pytest.mark.parametrize("y", [0.5, 2.0, 3.0])
def test_zero_to_the_y_has_derivative_zero(y):
    """0**y = 0 for every y > 0: d/dy is 0 (not 0 * log 0 = nan), in both modes."""
    assert ad.grad(lambda y: 0.0**y)(y) == 0.0
    assert ad.grad(lambda y: np.power(0.0, y))(y) == 0.0
    assert ad.derivative(lambda y: 0.0**y, y) == 0.0
    np.testing.assert_array_equal(
        ad.jvp(lambda y: np.power(0.0, y), np.array([y, y + 1.0]), np.ones(2))[1], [0.0, 0.0])


def test_power_of_a_traced_zero_base():
    """The base's partial y x**(y-1) at x = 0."""
    assert ad.grad(lambda x: x**2.0)(0.0) == 0.0
    assert ad.derivative(lambda x: x**3.0, 0.0) == 0.0


def test_power_with_an_exponent_0_has_derivative_0_at_a_zero_base():
    """x**0 is 1 for every x (numpy's 0**0 = 1): derivative 0 at x = 0 too, where the partial
    b x**(b-1) would be 0 * inf = nan, for an exponent 0 in an array and a traced one."""
    exponents = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(ad.derivative(lambda x: x**exponents, 0.0), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(ad.grad(lambda x: np.sum(x**exponents * [3.0, 5.0, 7.0]))(0.0),
                                  5.0)
    np.testing.assert_array_equal(ad.jvp(lambda x: x**exponents, np.zeros(3), np.ones(3))[1],
                                  [0.0, 1.0, 0.0])
    assert ad.grad(lambda x, y: x**y)(0.0, 0.0) == 0.0
    assert ad.derivative(lambda x: np.power(x, ad.Dual(0.0, 1.0)).val, 0.0) == 0.0
    assert ad.grad(lambda x: ad.derivative(lambda y: x**y, 0.0))(2.0) == 0.5  # d/dx ln x


@pytest.mark.parametrize("kind", [Dual, Variable])
def test_assigning_into_a_traced_array_names_the_way_out(kind):
    x = kind(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"cannot be changed in place.*np\.where"):
        x[0] = 3.0


@pytest.mark.parametrize("kind", [Dual, Variable])
def test_augmented_assignment_into_a_traced_array_is_refused_with_what_to_write(kind):
    """x[:2] *= 3 ends in x[:2] = ..., a write into x: refused, and the message names the
    augmented form and what to write instead (it named x[...] = value only)."""
    x = kind(np.array([1.0, 2.0, 4.0]))
    with pytest.raises(TypeError, match=r"also x\[:2\] \*= 3.*cannot be changed in place.*"
                                        r"x \* np\.where\(np\.arange\(len\(x\)\) < 2, 3\.0, 1\.0\)"):
        x[:2] *= 3.0
    written = lambda x: np.sum((x * np.where(np.arange(len(x)) < 2, 3.0, 1.0)) ** 2)  # noqa: E731
    assert ad.grad(written)(np.array([1.0, 2.0, 4.0])).tolist() == [18.0, 36.0, 8.0]


@pytest.mark.parametrize("kind", [Dual, Variable])
def test_augmented_assignment_on_a_traced_value_binds_a_new_one(kind):
    """y += 1 on a Dual or Variable makes a new one, as for a Python float (the README says
    so): an array that y was another name for keeps its values, and total = 0.0;
    total += term accumulates."""
    x = kind(np.array([1.0, 2.0]))
    y = x
    y += 1.0
    assert y is not x and x.primal.tolist() == [1.0, 2.0] and y.primal.tolist() == [2.0, 3.0]

    def accumulated(t):
        total = 0.0
        for k in range(3):
            total += t[k] ** 2
        return total

    assert ad.grad(accumulated)(np.array([1.0, 2.0, 3.0])).tolist() == [2.0, 4.0, 6.0]


def test_builtin_round_of_a_traced_value_is_a_constant():
    """round(x) is piecewise constant, as np.round and np.floor: derivative 0 where it exists."""
    assert ad.derivative(lambda x: x * round(x), 1.2) == 1.0
    assert ad.grad(lambda x: x * round(x, 1))(1.26) == pytest.approx(1.3)


def test_backward_of_a_dual_names_the_way_out():
    """A Dual made by hand times a Variable made by hand is a Dual of Variables (forward over
    reverse, as hvp builds it): backward() on it says so instead of an AttributeError."""
    x, y = Dual(2.0, 1.0), Variable(1.0)
    with pytest.raises(TypeError, match=r"called on a Dual.*\.dval\.backward\(\).*ad\.grad"):
        (x * y).backward()
    (x * y).dval.backward()
    assert y.grad == 1.0


ENTRY_POINTS = {
    "derivative": lambda f: ad.derivative(f, 2.0),
    "jvp": lambda f: ad.jvp(f, (2.0,), (1.0,)),
    "grad": lambda f: ad.grad(f)(2.0),
    "value_and_derivatives": lambda f: ad.value_and_derivatives(f, 2.0),
    "hvp": lambda f: ad.hvp(lambda x: f(x[0]), np.array([2.0]), np.array([1.0])),
    "hessian": lambda f: ad.hessian(lambda x: f(x[0]), np.array([2.0])),
    "forward_gradient": lambda f: ad.forward_gradient(lambda x: f(x[0]), np.array([2.0])),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("returned", [lambda x: (x**2, x**3), lambda x: {"square": x**2},
                                      lambda x: None], ids=["tuple", "dict", "None"])
def test_a_result_that_is_not_a_number_or_an_array_is_refused(entry, returned):
    """Not counted as a constant with derivative zero (hvp of a 1-tuple gave [0.], a dict's
    derivative 0.0, value_and_derivatives of a tuple 0.0 and 0.0): refused, naming f."""
    def returns_the_wrong_thing(x):
        return returned(x)

    with pytest.raises(TypeError, match=r"returned (tuple|dict|NoneType) .* must return a "
                                         r"number or a numeric array"):
        ENTRY_POINTS[entry](returns_the_wrong_thing)
    with pytest.raises(TypeError, match=r"^returns_the_wrong_thing returned"):
        ad.grad(returns_the_wrong_thing)(2.0)


@pytest.mark.parametrize("f", [lambda x: np.fmax(x, np.nan), lambda x: np.fmax(np.nan, x),
                               lambda x: np.fmin(x, np.nan), lambda x: np.fmin(np.nan, x)],
                         ids=["fmax(x, nan)", "fmax(nan, x)", "fmin(x, nan)", "fmin(nan, x)"])
def test_fmax_and_fmin_skip_a_nan_in_the_derivative_as_in_the_value(f):
    """fmax(x, nan) = x, so its derivative is 1 (it was 0: maximum's partials, x > nan being
    False), in both modes, elementwise on arrays too."""
    g = lambda x: f(x) * x  # noqa: E731  (x**2 where the nan is skipped)
    assert ad.derivative(g, -1.3) == ad.grad(g)(-1.3) == pytest.approx(-2.6)
    x = np.array([-1.3, 0.4])
    np.testing.assert_allclose(ad.grad(lambda x: np.sum(g(x)))(x), 2 * x)


@pytest.mark.parametrize("kind", [Dual, Variable])
@pytest.mark.parametrize("method, function", [("var", "np.var"), ("std", "np.std"),
                                              ("argmax", "np.argmax"), ("trace", "np.trace"),
                                              ("cumprod", "np.cumprod")])
def test_an_array_method_a_traced_value_lacks_names_the_numpy_function(kind, method, function):
    """x.var() on a Dual or Variable: the library's AttributeError names np.var(x), which
    works (or says that it has no derivative rule), instead of Python's bare message."""
    with pytest.raises(AttributeError, match=rf"\.{method}\(\).*{re.escape(function)}\(x"):
        getattr(kind(np.array([1.0, 2.0])), method)()


@pytest.mark.parametrize("kind", [Dual, Variable])
def test_an_in_place_array_method_names_the_way_out(kind):
    with pytest.raises(AttributeError, match=r"\.sort\(\).*in place.*np\.sort\(x"):
        kind(np.array([2.0, 1.0])).sort()


@pytest.mark.parametrize("kind", [Dual, Variable])
@pytest.mark.parametrize("name, way_out", [("flat", r"np\.ravel\(x\)"), ("strides", r"x\.value"),
                                           ("base", r"x\.value"), ("flags", r"x\.value")])
def test_an_array_attribute_a_traced_value_lacks_says_why(kind, name, way_out):
    """x.flat, x.strides ... (an ndarray's memory) were Python's bare 'no attribute'."""
    with pytest.raises(AttributeError, match=rf"'{name}': .*memory.*{way_out}"):
        getattr(kind(np.array([1.0, 2.0])), name)


def test_matrix_transpose_and_sizes_of_a_traced_array_are_numpys():
    """x.mT (numpy 2's matrix transpose) was Python's bare 'no attribute' on a Dual or a
    Variable; x.itemsize and x.nbytes too."""
    a = np.arange(12.0).reshape(2, 3, 2)
    w = np.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_array_equal(ad.grad(lambda x: np.sum(x.mT * w))(a), w.mT)
    np.testing.assert_array_equal(ad.jvp(lambda x: x.mT, a, a)[1], a.mT)
    with pytest.raises(ValueError, match="ndim < 2"):
        Variable(np.ones(3)).mT  # noqa: B018
    x = Variable(np.ones((2, 3), np.float32))
    assert (x.itemsize, x.nbytes) == (4, 24)


def test_a_name_that_is_no_array_method_keeps_pythons_message():
    with pytest.raises(AttributeError, match=r"^'Dual' object has no attribute 'no_such_thing'$"):
        Dual(1.0, 1.0).no_such_thing  # noqa: B018
    assert not hasattr(Variable(1.0), "__array_interface__")


def test_floor_division_is_piecewise_constant_in_both_modes():
    """x // y and divmod: numpy's values, derivative 0 (the remainder keeps its own)."""
    assert ad.derivative(lambda x: x // 0.7 + x, 1.5) == 1.0
    assert ad.grad(lambda x: (3.0 // x) * x)(1.3) == 2.0
    assert ad.grad(lambda x: divmod(x, 0.7)[1])(1.5) == 1.0
    value, _ = ad.jvp(lambda x: x // np.array([0.7, -0.4]), np.array([1.5, 1.5]), np.ones(2))
    np.testing.assert_array_equal(value, np.array([1.5, 1.5]) // np.array([0.7, -0.4]))


def test_eigh_and_svd_results_have_numpys_field_names():
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert ad.grad(lambda x: np.linalg.eigh(x).eigenvalues[1])(a)[0, 0] == pytest.approx(
        np.linalg.eigh(a).eigenvectors[0, 1] ** 2)
    np.testing.assert_allclose(ad.jvp(lambda x: np.linalg.svd(x).S, a, np.eye(2))[0],
                               np.linalg.svd(a).S)


@pytest.mark.parametrize("ord_", [2, 1, "fro", np.inf])
@pytest.mark.parametrize("shape", [(2, 2, 2), ()], ids=["3-d", "0-d"])
def test_norm_with_an_order_of_an_array_neither_vector_nor_matrix_is_refused_as_numpy(shape, ord_):
    """numpy's norm with ord= and no axis takes a vector or a matrix only: the traced call
    raises numpy's error too, instead of returning the norm of the flattened array."""
    x0 = np.full(shape, 0.5)
    with pytest.raises(ValueError, match="Improper number of dimensions to norm"):
        np.linalg.norm(x0, ord_)
    for kind in (Dual, Variable):
        with pytest.raises(ValueError, match="Improper number of dimensions to norm"):
            np.linalg.norm(kind(x0), ord_)


@pytest.mark.parametrize("call", [lambda x: np.linalg.norm(x, "nuc"), lambda x: np.linalg.norm(x, "inf"),
                                  lambda x: np.linalg.norm(x, "fro"),
                                  lambda x: np.linalg.norm(np.reshape(x, (1, 3)), "fro", axis=1)],
                         ids=["nuc", "inf-string", "fro", "fro-axis"])
def test_norm_of_a_vector_with_a_matrix_order_is_refused_as_numpy(call):
    """A string order is a matrix norm's: numpy refuses it for a vector. 'nuc' and 'inf' were
    raised to a power (TypeError), and 'fro' returned the 2-norm and its gradient."""
    x0 = np.array([0.5, -1.0, 2.0])
    with pytest.raises(ValueError, match="Invalid norm order") as numpys:
        call(x0)
    for kind in (Dual, Variable):
        with pytest.raises(ValueError, match=re.escape(str(numpys.value))):
            call(kind(x0))


@pytest.mark.parametrize("name, call, example", [
    ("sort", lambda x: x.sort(), "x = np.sort(x)"), ("fill", lambda x: x.fill(0.0), "np.full"),
    ("put", lambda x: x.put([0], [1.0]), "np.where(mask, values, x)"),
    ("resize", lambda x: x.resize(3), "np.reshape(x, shape)")])
def test_an_in_place_method_names_what_to_write_instead(name, call, example):
    """Each in-place method's message gives an example that fits it (all said x = np.sort(x))."""
    for kind in (Dual, Variable):
        with pytest.raises(AttributeError, match=rf"x\.{name}\(\) changes an array in place") as error:
            call(kind(np.array([1.0, 2.0])))
        assert example in str(error.value)
        assert name == "sort" or "np.sort" not in str(error.value)


def test_astype_complex_says_how_to_write_it():
    """A cast to a complex type has a derivative: the message spoke of np.floor and np.round,
    written for integer casts."""
    for kind in (Dual, Variable):
        with pytest.raises(TypeError, match=r"astype\(complex128\).*not supported.*x \+ 0j") as error:
            kind(np.array([1.0, 2.0])).astype(complex)
        assert "floor" not in str(error.value)
        with pytest.raises(TypeError, match=r"astype\(complex64\).*keep its dtype, complex128"):
            kind(np.array([1.0 + 1j])).astype(np.complex64)
        z = kind(np.array([1.0 + 1j]))
        assert z.astype(complex) is z


def test_an_empty_batch_and_an_in_place_sum_into_an_array_get_the_librarys_message():
    """cross_entropy of zero rows raised Python's ZeroDivisionError; acc += x with acc a
    numpy array was told to call np.add without out=, which the student never wrote."""
    with pytest.raises(ValueError, match="empty batch"):
        ad.grad(lambda z: ad.cross_entropy(z, np.zeros(0, int)))(np.zeros((0, 3)))
    x = ad.Variable(np.ones(3))
    acc = np.zeros(3)
    with pytest.raises(TypeError, match=r"write a = a \+ x"):
        acc += x


def test_grad_passes_keyword_arguments_to_f_undifferentiated():
    """grad(f)(x, b=3.0) raised "gradient() got an unexpected keyword argument 'b'"; JAX
    passes keyword arguments through."""
    f = lambda x, b=1.0: b * x**2  # noqa: E731
    assert ad.grad(f)(2.0, b=3.0) == 12.0
    assert ad.grad(f)(2.0) == 4.0


def _scaled_square(x, b=1.0):
    return b * np.sum(x**2)


# entry point -> (the call with f fixed by functools.partial, its value with b = 3 at x = [1, 2])
TAKING_F_AND_POINT = {
    "derivative": (lambda f: ad.derivative(f, 2.0), 12.0),
    "jvp": (lambda f: ad.jvp(f, np.array([1.0, 2.0]), np.array([1.0, 0.0]))[1], 6.0),
    "forward_gradient": (lambda f: ad.forward_gradient(f, np.array([1.0, 2.0])), [6.0, 12.0]),
    "hvp": (lambda f: ad.hvp(f, np.array([1.0, 2.0]), np.array([1.0, 0.0])), [6.0, 0.0]),
    "hessian": (lambda f: ad.hessian(f, np.array([1.0, 2.0])), [[6.0, 0.0], [0.0, 6.0]]),
    "value_and_derivatives": (lambda f: ad.value_and_derivatives(f, 2.0), (12.0, 12.0, 6.0)),
}


@pytest.mark.parametrize("name", TAKING_F_AND_POINT)
def test_entry_points_taking_f_and_the_point_take_no_keyword_arguments_for_f(name):
    """grad(f) returns a function, which passes keyword arguments on to f; the entry points
    that take f and the point in one call pass none (as JAX's jvp): the README says to fix
    them first with functools.partial, which works, and a keyword is Python's TypeError."""
    call, expected = TAKING_F_AND_POINT[name]
    np.testing.assert_allclose(call(functools.partial(_scaled_square, b=3.0)), expected)
    with pytest.raises(TypeError, match="unexpected keyword argument 'b'"):
        getattr(ad, name)(_scaled_square, np.array([1.0, 2.0]), np.ones(2), b=3.0)


def test_checkpoint_passes_keyword_arguments_to_the_segment():
    """checkpoint(segment, x, steps=3) raised "checkpoint() got an unexpected keyword argument";
    keyword arguments go to the segment as constants, in the run and in the recomputation,
    as torch.utils.checkpoint passes them."""
    def segment(x, k=0.1, steps=1):
        for _ in range(steps):
            x = x + k * np.sin(x)
        return x

    def loss(checkpointed):
        run = functools.partial(ad.checkpoint, segment) if checkpointed else segment
        return lambda x: np.sum(run(run(x, k=0.3, steps=3), steps=2) ** 2)

    x0 = np.array([0.4, -1.1])
    saved, full = ad.grad(loss(True))(x0), ad.grad(loss(False))(x0)
    np.testing.assert_allclose(saved, full, rtol=1e-14)
    assert ad.checkpoint(segment, Variable(x0), k=0.3).value.tolist() == segment(x0, k=0.3).tolist()


def test_median_of_an_empty_array_is_numpys_nan():
    """np.median of an empty traced array raised IndexError (numpy: nan, with its warning);
    its gradient is an empty array, the derivative of a function of no numbers."""
    for shape, axis in [((0,), None), ((3, 0), 1), ((0, 3), 0), ((3, 0), (0, 1)), ((3, 0), 0)]:
        x0 = np.zeros(shape)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            expected = np.median(x0, axis=axis)
            value, tangent = ad.jvp(lambda x: np.median(x, axis=axis), x0, x0)
            gradient = ad.grad(lambda x: np.sum(np.median(x, axis=axis)))(x0)
        np.testing.assert_array_equal(value, expected)
        assert np.shape(tangent) == np.shape(expected) and gradient.shape == shape
        if np.size(expected):
            assert any("Mean of empty slice" in str(w.message) for w in caught)


def test_median_of_values_with_both_infinities_is_numpys():
    """np.median of [inf, -inf, 1] gave nan and a zero gradient (numpy: 1.0): the nan check
    summed the values, and inf + -inf is nan. The middle element's derivative is 1."""
    x0 = np.array([np.inf, -np.inf, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ad.jvp(np.median, x0, np.array([0.0, 0.0, 1.0])) == (1.0, 1.0)
        assert ad.grad(np.median)(x0).tolist() == [0.0, 0.0, 1.0]
    X = np.array([[np.inf, -np.inf, 1.0], [3.0, 2.0, np.nan]])
    for axis, keepdims in [(1, False), (1, True), ((0, 1), False)]:
        value, _ = ad.jvp(lambda t: np.median(t, axis=axis, keepdims=keepdims), X, np.ones_like(X))
        np.testing.assert_array_equal(value, np.median(X, axis=axis, keepdims=keepdims))


def test_var_and_std_take_numpy_2s_keywords():
    """np.std(x, correction=1) and np.var(x, mean=m) raised "std() got an unexpected keyword
    argument 'correction'"; numpy 2 has both. correction is ddof; a mean given is used as the
    centre, and its own derivative flows (here it depends on x)."""
    x0 = np.array([[0.7, -1.3, 2.1], [0.4, 1.1, -0.2]])
    for function in (np.var, np.std):
        for kind in (Dual, Variable):
            x = kind(x0) if kind is Variable else kind(x0, np.ones_like(x0))
            plain = (lambda y: y.value) if kind is Variable else (lambda y: y.val)
            assert plain(function(x, correction=1)) == function(x0, ddof=1)
            m = np.mean(x0, axis=0, keepdims=True) * 0.5
            np.testing.assert_array_equal(plain(function(x, axis=0, mean=m)),
                                          function(x0, axis=0, mean=m))
            with pytest.raises(ValueError, match="ddof and correction"):
                function(x, ddof=1, correction=1)
    half_mean = lambda x: np.var(x, mean=0.5 * np.mean(x, keepdims=True))  # noqa: E731
    reference = ad.numerical_gradient(lambda v: half_mean(v.reshape(2, 3)), x0.ravel())
    np.testing.assert_allclose(ad.grad(half_mean)(x0).ravel(), reference, rtol=1e-7)


ONE_ELEMENT_STDS = {
    # about its own mean, given or not: the constant 0
    "own-mean": lambda x: np.std(x, axis=0, mean=np.mean(x, axis=0, keepdims=True)),
    "own-mean-keepdims": lambda x: np.std(x, axis=0, keepdims=True,
                                          mean=np.mean(x, axis=0, keepdims=True)),
    "own-mean-flat": lambda x: np.std(x[:, :1], mean=np.mean(x[:, :1], keepdims=True)),
    "no-mean": lambda x: np.std(x, axis=0),
    # about a constant: |x - m|, with one element at its kink x = m (abs'(0) = 0)
    "constant-mean": lambda x: np.std(x, axis=0, mean=np.array([[0.5, 3.0, 4.0]])),
    "constant-mean-ddof": lambda x: np.std(x, axis=0, ddof=-1, mean=np.array([[0.5, 3.0, 4.0]])),
    "all-at-the-mean": lambda x: np.std(x, axis=0, mean=np.array([[1.0, 2.0, 4.0]])),
}


@pytest.mark.parametrize("name", ONE_ELEMENT_STDS)
def test_std_over_one_element_with_a_mean_given_has_the_central_difference(name):
    """Over one element per group, np.std(x, axis, mean=m) is |x - m| (0 about x's own mean):
    with mean= its derivative was nan where x = m (sqrt's partial 1/(2 sqrt 0)), 0 without
    it. Both modes now agree with the central differences, and the value is numpy's."""
    f = ONE_ELEMENT_STDS[name]
    x0 = np.array([[1.0, 2.0, 4.0]])
    np.testing.assert_array_equal(f(Variable(x0)).value, f(x0))
    central = ad.numerical_gradient(lambda v: np.sum(f(v.reshape(1, 3))), x0.ravel())
    np.testing.assert_allclose(ad.grad(lambda x: np.sum(f(x)))(x0).ravel(), central,
                               rtol=1e-9, atol=1e-9)
    for i, unit in enumerate(np.eye(3)):
        _, tangent = ad.jvp(lambda x: np.sum(f(x)), x0, unit.reshape(1, 3))
        assert tangent == pytest.approx(central[i], rel=1e-9, abs=1e-9)


def test_std_over_one_element_keeps_numpys_value_where_the_square_underflows():
    """|x - m| = 1e-200 squares to 0: numpy's std over that one element is sqrt(0) = 0, and
    so is the traced one (the |x - m| form is taken only where the deviation is 0)."""
    x0, m = np.array([[1e-200, 2.0]]), np.zeros((1, 2))
    expected = np.std(x0, axis=0, mean=m)
    assert expected[0] == 0.0
    for traced in (Variable(x0), Dual(x0, 1.0)):
        with np.errstate(divide="ignore"):  # the tangent there is sqrt's at 0, inf
            value = np.std(traced, axis=0, mean=m).primal
        np.testing.assert_array_equal(value, expected)


AXIS_OUT_OF_RANGE = {
    "Dual of a 0-d array": lambda f: f(Dual(np.array(2.0), 1.0), axis=0),
    "Dual of a float": lambda f: f(Dual(2.0, 1.0), axis=0),
    "Variable of a 0-d array": lambda f: f(Variable(np.array(2.0)), axis=0),
    "jvp": lambda f: ad.jvp(lambda x: f(x, axis=0), np.array(2.0), np.array(1.0)),
    "grad": lambda f: ad.grad(lambda x: f(x, axis=0))(np.array(2.0)),
    "axis -1": lambda f: f(Dual(np.array(2.0), 1.0), axis=-1),
    "axis (0,)": lambda f: f(Dual(np.array(2.0), 1.0), axis=(0,)),
    "axis 1 of a 1-D array": lambda f: f(Dual(np.ones(3), 1.0), axis=1),
    "mean given": lambda f: f(Dual(2.0, 1.0), axis=0, mean=2.0),
}


@pytest.mark.parametrize("function, call", [
    (function, call) for function in (np.var, np.std, np.mean) for call in AXIS_OUT_OF_RANGE
    if not (function is np.mean and call == "mean given")])  # np.mean takes no mean=
def test_var_and_std_over_an_axis_out_of_range_raise_numpys_axis_error(function, call):
    """np.var(x, axis=0) of a 0-d traced array raised IndexError (the count of elements
    read shape[0], or np.mean's did), where numpy raises numpy.exceptions.AxisError; so did
    np.mean itself (its count of elements)."""
    with pytest.raises(np.exceptions.AxisError, match=r"^axis -?\d is out of bounds for "
                                                      r"array of dimension [01]$"):
        AXIS_OUT_OF_RANGE[call](function)
    with pytest.raises(np.exceptions.AxisError):
        function(np.array(2.0), axis=0)  # numpy's own


@pytest.mark.parametrize("function", [np.var, np.std, np.mean], ids=["var", "std", "mean"])
@pytest.mark.parametrize("make", [Variable, lambda a: Dual(a, 1.0)], ids=["Variable", "Dual"])
def test_var_std_and_mean_over_a_repeated_axis_raise_numpys_error(function, make):
    """The count of elements per mean checks the axes: a repeated one is left to the
    reduction, which raises numpy's own message (the check raised its 'repeated axis')."""
    with pytest.raises(ValueError, match=r"^duplicate value in 'axis'$"):
        function(make(np.ones((2, 3))), axis=(0, 0))


def test_where_with_one_traced_argument_gets_the_librarys_message():
    """np.where(x) raised "where() missing 2 required positional arguments": the one-argument
    form gives indices (np.nonzero), which have no derivative."""
    for x in (Dual(np.array([0.0, 1.5]), np.ones(2)), Variable(np.array([0.0, 1.5]))):
        with pytest.raises(TypeError, match=r"np\.where\(condition\) with one argument.*"
                                            r"np\.nonzero\(x\).*np\.where\(condition, x, y\)"):
            np.where(x)
        with pytest.raises(ValueError, match="either both or neither of x and y"):
            np.where(x, x)
    assert np.nonzero(Variable(np.array([0.0, 1.5])))[0].tolist() == [1]


def test_a_traced_row_written_into_a_plain_array_names_the_way_out():
    """M = np.eye(3); M[0] = x with x a traced array got the message for np.array([x, y])
    (numpy calls __array__ with M's dtype), not the one for out[i] = x, which says what to
    write instead."""
    def f(x):
        M = np.eye(3)
        M[0] = x
        return np.sum(M)

    for differentiate, kind in [(ad.grad(f), "Variable"),
                                (lambda x: ad.jvp(f, x, np.ones(3)), "Dual")]:
        with pytest.raises(TypeError, match=rf"a {kind} was put into a plain numpy array \(M\[i\] "
                                            r"= x.*np\.stack\(\[x, M\[1\], M\[2\]\]\)"):
            differentiate(np.arange(3.0))
    rows = ad.grad(lambda x: np.sum(np.stack([x, np.eye(3)[1], np.eye(3)[2]]) ** 2))(np.arange(3.0))
    np.testing.assert_array_equal(rows, 2 * np.arange(3.0))


def test_a_derivative_call_from_a_second_thread_is_refused_at_its_start():
    """The running derivative calls are one list per process: calls in two threads mixed in
    it and returned wrong Hessians (entries 0) or blamed the user with a TypeError. A call
    started while another thread's call runs is refused, with the way out (one thread at a
    time, or processes); the running call is not disturbed, and afterwards calls work."""
    f = lambda x: np.sum(np.sin(x) * x**2)  # noqa: E731
    x0 = np.array([0.3, -1.2, 2.0])
    inside, release, results = threading.Event(), threading.Event(), []

    def waiting(x):
        inside.set()
        release.wait(timeout=10)
        return f(x)

    worker = threading.Thread(target=lambda: results.append(ad.hessian(waiting, x0)))
    worker.start()
    try:
        assert inside.wait(timeout=10)
        for call in (lambda: ad.grad(f)(x0), lambda: ad.jvp(f, x0, x0), lambda: ad.derivative(np.sin, 1.0),
                     lambda: ad.hvp(f, x0, x0)):
            with pytest.raises(RuntimeError, match=r"another thread's derivative call is running: the "
                                                   r"engine is not thread-safe.*in processes"):
                call()
    finally:
        release.set()
        worker.join(timeout=10)
    np.testing.assert_array_equal(results[0], ad.hessian(f, x0))
    errors = []

    def from_a_thread(x):  # the other way round: this thread's call runs, a new thread's is refused
        def call():
            try:
                ad.grad(f)(x0)
            except RuntimeError as error:
                errors.append(str(error))
        thread = threading.Thread(target=call)
        thread.start()
        thread.join(timeout=10)
        return f(x)

    assert ad.grad(from_a_thread)(x0).tolist() == ad.grad(f)(x0).tolist()
    assert len(errors) == 1 and "not thread-safe" in errors[0]


def test_asarray_of_one_traced_array_is_told_to_leave_the_call_out():
    """np.asarray(x) of a traced x: the message says the call is not needed (tester46)."""
    with pytest.raises(TypeError, match=r"np\.asarray\(x\) of one traced array is not needed "
                                        r"\(x already works as an array: leave the call out\)"):
        ad.grad(lambda x: np.asarray(x).sum())(np.ones(3))
