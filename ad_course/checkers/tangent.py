"""Notebook 04, exercise 1: the rule of a new primitive in a dual-number class,
f(x + x'·d) = f(x) + f'(x) x'·d."""

from __future__ import annotations

import inspect

import numpy as np

from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    apart,
    as_number,
    checker,
    close,
    describe_error,
    engine_watched,
    is_complex,
    number,
    run,
    values_watched,
    writes_complex,
)
from ad_engine.rules import Traced


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# The course's two primitives by name: (f, f'), the reference when no derivative is given,
# so that a wrong evaluate function with a rule that fits it is not "right".
KNOWN_FUNCTIONS = {
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "softplus": (lambda x: np.log1p(np.exp(x)), _sigmoid),
}

# Wrong derivatives students write for the course's two primitives: f'(x) -> hint.
KNOWN_SLIPS = {
    "tanh": [
        (lambda x: 1 / (1 + x**2), "1/(1 + x²) is the derivative of arctan, not of tanh: "
                                  "tanh' = 1 - tanh²(x)"),
        (lambda x: 1 - np.tanh(x**2), "square tanh's value, not its argument: "
                                      "1 - np.tanh(x)**2"),
        (lambda x: (1 - np.tanh(x)) ** 2, "(1 - tanh x)² is not 1 - tanh² x = (1 - tanh x)(1 + tanh x)"),
        (lambda x: 1 - np.tanh(x), "the square is missing: tanh' = 1 - tanh(x)**2"),
        (lambda x: 1 + np.tanh(x) ** 2, "the sign inside is wrong: tanh' = 1 - tanh(x)**2 "
                                        "(1 + tan² is the derivative of tan)"),
        (lambda x: 1 / np.cosh(x), "the square is missing: tanh' = 1 / cosh(x)**2"),
        (lambda x: 1 - x**2, "the rule gets x, not tanh(x): write 1 - np.tanh(x)**2 (1 - y² is "
                             "the derivative written with the output y = tanh x)"),
    ],
    "softplus": [
        (lambda x: np.exp(x), "the denominator is missing: d/dx ln(1 + e^x) = e^x / (1 + e^x)"),
        (lambda x: 1 / (1 + np.exp(x)), "the sign of the exponent: e^x/(1 + e^x) = 1/(1 + e^-x)"),
        (lambda x: 1 / (1 + np.exp(x)) ** 2, "the chain rule of ln(1 + e^x) gives e^x / (1 + e^x), "
                                             "not a square"),
        (lambda x: _sigmoid(x) * (1 - _sigmoid(x)), "that is the second derivative (sigmoid'); "
                                                    "softplus' = sigmoid(x) = 1/(1 + e^-x)"),
        (lambda x: 1 / (1 + np.exp(x)) * np.exp(-x), "check the exponent signs: softplus' = "
                                                      "e^x / (1 + e^x)"),
    ],
}


def _partials_problem(f):
    """For a primitive made by ad.defprimitive(partials=...): a message if a partial
    does not take (ans, x), else None."""
    for partial in getattr(f, "partials", None) or ():
        if not callable(partial):
            continue
        try:
            signature = inspect.signature(partial)
        except ValueError:  # a builtin without a signature
            continue
        names = list(signature.parameters)
        try:
            signature.bind(0.0, 0.0)
        except TypeError:
            return (f"a partial derivative for ad.defprimitive is a function of (ans, x): "
                    f"ans = {f.name}(x) comes first. Yours takes ({', '.join(names)}); "
                    f"write lambda ans, x: ...")
        if names[:2] == ["x", "ans"]:
            return (f"your partial takes (x, ans), but the engine calls it as partial(ans, x): "
                    f"ans = {f.name}(x) comes first, x second. Write lambda ans, x: ...")
    return None


def _name(f):
    return getattr(f, "__name__", None) or getattr(f, "name", None) or repr(f)


@checker
def check_tangent_rule(f, make_dual, derivative=None,
                       points=(-3.2, -1.5, -0.4, 0.3, 1.1, 2.0, 3.7), tangent=2.5):
    """Check that ``f(make_dual(x, t))`` is ``f(x) + f'(x) t d`` at a few points.

    ``f``: the function the student taught the dual class (a numpy ufunc such as
    ``np.tanh``, or a primitive registered with ``ad.defprimitive``); ``make_dual(val,
    dval)`` builds a dual number (the class itself); ``derivative``: the exact f' (a
    function of x), the reference; without it, for tanh and softplus (by name) the
    exact function and derivative, else a central difference of f with h = 1e-5
    (error ~1e-10) compared to a relative 1e-7. The
    incoming tangent is ``tangent`` (not 1), so a rule that forgets to multiply by
    it is caught; the points lie on both sides of zero.
    """
    if not callable(f) or not callable(make_dual):
        return Verdict(False, "expected a function f and a dual-number class: "
                              "check_tangent_rule(np.tanh, MiniDual)")
    name = _name(f)
    problem = _partials_problem(f)
    if problem:
        return Verdict(False, problem)
    xs = np.asarray(points, dtype=float)
    got_val, got_dval = [], []
    by_hand = not (isinstance(make_dual, type) and issubclass(make_dual, Traced))  # MiniDual
    for x in xs:
        try:
            with engine_watched() as engine, \
                    values_watched(is_complex, writes_complex) as complex_values:
                result = f(make_dual(float(x), tangent))
        except Exception as error:  # the student's class or rule may raise anything
            hint = (f" Is {name} in the rule table that __array_ufunc__ reads?"
                    if "NotImplemented" in str(error) or "not supported" in str(error) else "")
            if "bitwise_xor" in str(error):
                hint = " In Python ^ is bitwise xor; a power is written **, as in x**2."
            return Verdict(False, describe_error(error, f"{name}(dual)") + hint)
        if by_hand and engine.used:
            return Verdict(False, f"{name}(dual) on your own dual class called the AD engine "
                                  f"(ad.derivative, ad.grad, ad.Dual ...): the rule is to be "
                                  f"written by hand, as a formula of x")
        if complex_values.found:
            return Verdict(False, f"{name}(dual) computes with complex numbers (a complex step, "
                                  f"Im f(x + i h) / h, or ad.complex_step?): a numerical "
                                  f"derivative, exact to round-off, but not a rule; write the "
                                  f"derivative of {name} by hand, as a formula of x")
        if not (hasattr(result, "val") and hasattr(result, "dval")):
            return Verdict(False, f"{name}(dual) returned a {type(result).__name__}, not a dual "
                                  f"number: build the result from the value and the tangent")
        try:
            got_val.append(as_number(result.val, "a number as the value part"))
            got_dval.append(as_number(result.dval, "a number as the d-part"))
        except StudentError as error:
            return Verdict(False, f"{name}({x:g} + {tangent:g}·d): {error.verdict.message}")
    got_val, got_dval = np.array(got_val), np.array(got_dval)
    reference = derivative is not None or str(name).lower() in KNOWN_FUNCTIONS
    if derivative is None and reference:
        f, derivative = KNOWN_FUNCTIONS[str(name).lower()]
    value = np.array(run(lambda: [float(f(x)) for x in xs], what=f"{name}(x) on a float"))
    if derivative is None:
        step = 1e-5
        slope = np.array([(float(f(x + step)) - float(f(x - step))) / (2 * step) for x in xs])
        rtol, atol = 1e-7, 1e-12
    else:  # the exact f': every right way of writing it agrees to round-off (1e-13 here)
        slope = np.array([float(derivative(x)) for x in xs])
        rtol, atol = 1e-11, 0.0
    expected = slope * tangent
    if not close(got_val, value):
        i = int(np.argmax(np.abs(got_val - value)))
        return Verdict(False, f"the value part of {name}({xs[i]:g} + {tangent:g}·d) is "
                              f"{number(got_val[i])}; expected {name}({xs[i]:g}) = "
                              f"{number(value[i])}")
    if close(got_dval, expected, rtol=rtol, atol=atol) and not reference:
        return Verdict(False, f"your rule for {name} agrees with a finite difference of your own "
                              f"{name}, but there is no exact rule here to check it against: "
                              f"register the primitive under its name, "
                              f"ad.defprimitive(\"softplus\", ...), or pass derivative=")
    if close(got_dval, expected, rtol=rtol, atol=atol):
        return Verdict(True, f"the rule for {name} is right at x = "
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
    for slip, hint in KNOWN_SLIPS.get(name, []):
        mistakes.append((np.array([slip(x) for x in xs]) * tangent, hint))
        mistakes.append((np.array([slip(x) for x in xs]), hint + "; and multiply by x.dval"))
    for wrong, hint in mistakes:
        if close(got_dval, wrong, rtol=rtol):
            return Verdict(False, f"at x = {xs[1]:g} with x' = {tangent:g} your d-part is "
                                  f"{number(got_dval[1])}; expected {number(expected[1])}: "
                                  f"{hint}")
    i = int(np.argmax(np.abs(got_dval - expected)))
    ratio = got_dval / np.where(expected == 0, np.nan, expected)
    hint = ""
    if np.all(np.isfinite(ratio)) and np.ptp(ratio) < rtol * abs(ratio[0]):
        hint = (f": off by a constant factor {ratio[0]:.6g} everywhere, a factor of the "
                f"rule is wrong" if abs(ratio[0] - 1) > 1e-5 else
                f": off by a relative {ratio[0] - 1:.1e} everywhere: a constant typed with "
                f"too few digits?")
    elif close(got_dval, expected, rtol=1e-6):  # before the signs: |got| ~ |expected| too
        off = float(np.max(np.abs(got_dval - expected) / np.maximum(np.abs(expected), 1e-300)))
        hint = (f": right to about {off:.0e} but not to round-off, as a finite difference "
                f"gives (extrapolated or not); write the exact derivative")
    elif close(np.abs(got_dval), np.abs(expected), rtol=rtol):
        hint = ": right size, wrong sign at some points: look at the sign of each term"
    yours, exact = apart(got_dval[i], expected[i])
    return Verdict(False, f"at x = {xs[i]:g} with x' = {tangent:g} your d-part is "
                          f"{yours}; expected {name}'(x)·x' = {exact}{hint}")


