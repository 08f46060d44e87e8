"""Notebook 05, exercise 6: a reverse (VJP) rule written by hand for a new primitive,
registered with ``ad.defprimitive(name, evaluate, jvps=[...], vjps=[...])``.

The rule is checked where each mode uses it: called directly (its shape and value),
in reverse mode (``ad.grad``, with an outer factor so that a rule ignoring the
incoming adjoint fails), in forward mode (``ad.jvp``) and nested (the gradient of a
gradient, and the Hessian), against the same function written with numpy calls the
engine already knows.
"""

from __future__ import annotations

import inspect

import numpy as np

from ad_course.checkers.verdict import (
    StudentError,
    Verdict,
    checker,
    close,
    engine_watched,
    returned_floats,
    run,
)
from ad_engine.forward import jvp
from ad_engine.higher_order import hessian
from ad_engine.reverse import grad
from ad_engine.rules import Primitive, registered_none


def logsumexp(x):
    """log Σ exp(x_i), written with numpy calls the engine differentiates (the reference)."""
    return np.log(np.sum(np.exp(x)))


# Wrong vjps students write for logsumexp: (adjoint, ans, x) -> array, and the hint.
LOGSUMEXP_VJP_SLIPS = [
    (lambda g, ans, x: np.exp(x - ans), "the incoming adjoint is missing: the vjp returns "
                                        "adjoint * dF/dx, here g * exp(x - ans)"),
    (lambda g, ans, x: g * np.exp(x), "the normalisation is missing: d/dx_i log Σ e^x = "
                                      "e^(x_i) / Σ e^x = exp(x_i - ans)"),
    (lambda g, ans, x: g * np.exp(x) / ans, "divide by Σ e^x = exp(ans), not by ans = log Σ e^x"),
    (lambda g, ans, x: g * np.exp(ans - x), "the exponent is upside down: exp(x - ans)"),
    (lambda g, ans, x: g / np.exp(x), "the chain rule of log(s) is s'/s with s = Σ e^x: "
                                      "g * exp(x) / exp(ans)"),
]
LOGSUMEXP_JVP_SLIPS = [
    (lambda t, ans, x: t * np.exp(x - ans), "the jvp of a function to one number is one number: "
                                            "sum the terms, np.sum(t * exp(x - ans))"),
    (lambda t, ans, x: np.sum(np.exp(x - ans)), "the incoming tangent is missing: "
                                                "np.sum(t * exp(x - ans))"),
    (lambda t, ans, x: np.sum(t * np.exp(x)), "the normalisation is missing: "
                                              "np.sum(t * exp(x - ans))"),
]


def _compare(got, expected, what, slips, rtol=1e-9):
    """A verdict if ``got`` is not ``expected`` (naming a slip when it matches one), else None."""
    got = returned_floats(got, what, "a number" if np.ndim(expected) == 0
                          else f"an array of shape {np.shape(expected)}")
    if got.shape != np.shape(expected):
        extra = ""
        for wrong, hint in slips:
            if np.shape(wrong) == got.shape and close(got, wrong, rtol=rtol):
                extra = f": {hint}"
        return Verdict(False, f"{what} has shape {got.shape}; expected {np.shape(expected)} "
                              f"(the shape of the argument for a vjp, of the output for a jvp)"
                              f"{extra}")
    if close(got, expected, rtol=rtol, atol=1e-12):
        return None
    generic = [(-np.asarray(expected), "the sign is wrong")]
    for wrong, hint in list(slips) + generic:
        if np.shape(wrong) == got.shape and close(got, wrong, rtol=rtol, atol=1e-12):
            return Verdict(False, f"{what} is {np.array2string(got, precision=4)}; expected "
                                  f"{np.array2string(np.asarray(expected), precision=4)}: {hint}")
    ratio = got / np.where(np.asarray(expected) == 0, np.nan, expected)
    hint = ""
    if np.all(np.isfinite(ratio)) and np.ptp(ratio) < 1e-9 * abs(ratio.flat[0]):
        hint = f": off by a constant factor {ratio.flat[0]:.4g}"
    return Verdict(False, f"{what} is {np.array2string(got, precision=4)}; expected "
                          f"{np.array2string(np.asarray(expected), precision=4)}{hint}")


def _call_rule(rule, first, ans, x, what, first_name):
    """``rule(first, ans, x)`` on copies of ``first`` (the tangent t or adjoint g, named
    ``first_name``) and x; a rule that changes either in place is refused (the engine
    hands it arrays that other rules and the forward pass still use), and so is one that
    calls the engine (ad.grad of the function: no rule written by hand)."""
    given = x.copy()
    first_given = first.copy() if isinstance(first, np.ndarray) else first
    with engine_watched() as engine:
        got = run(rule, first_given, ans, given, what=what)
    if engine.used:  # ad.grad of the function inside its own rule: the rule is the answer
        raise StudentError(Verdict(False, f"{what} uses automatic differentiation (ad.grad, "
                                          f"ad.jvp, ad.Variable ...), which is what the rule is "
                                          f"checked against; write the derivative by hand with "
                                          f"numpy functions of {first_name}, ans and x"))
    for name, before, after, new in ((first_name, first, first_given, f"{first_name} * ..."),
                                     ("x", x, given, "x - ans")):
        if not np.array_equal(before, after):
            raise StudentError(Verdict(False, f"{what} changed its argument {name} in place "
                                              f"({name} -= ..., {name} *= ..., out={name}): other "
                                              f"rules still use {name}, so compute into a new "
                                              f"array ({new})"))
    return got


def _refuse_sequence(got, what):
    """A rule that returns a list or tuple has the right numbers here, but nested (its
    own result differentiated again) the list cannot hold the Variables: refuse it now."""
    if isinstance(got, (list, tuple)):
        raise StudentError(Verdict(False, f"{what} returned a {type(got).__name__}: return a numpy "
                                          f"array computed with numpy functions (e.g. "
                                          f"g * np.exp(x - ans)), not a {type(got).__name__}, so "
                                          f"that the rule can be differentiated again"))


_OUTPUT_NAMES = {"ans", "out", "output", "y", "result", "value"}


def _order_problem(rule, kind):
    """A message if ``rule`` names its parameters in another order than the engine calls
    it, (g or t, ans, x): e.g. (g, x, ans); else None."""
    try:
        names = list(inspect.signature(rule).parameters)
    except (TypeError, ValueError):
        return None
    if len(names) == 3 and names[2] in _OUTPUT_NAMES and names[1] not in _OUTPUT_NAMES:
        first = "g" if kind == "vjp" else "t"
        return (f"your {kind} takes ({', '.join(names)}), but the engine calls it as "
                f"{kind}({first}, ans, x): the output ans comes second, the input x third")
    return None


@checker
def check_vjp_rule(primitive, function=logsumexp, points=None, *, vjp_slips=(),
                   jvp_slips=(), adjoint=2.5):
    """Check a primitive registered with ``ad.defprimitive(..., jvps=[jvp], vjps=[vjp])``
    against ``function``, the same map written with numpy calls the engine knows.

    At each point (default: three vectors of lengths 3, 4 and 5, entries on both
    sides of zero): the value; the vjp rule called with an adjoint of ``adjoint``
    (not 1); ``ad.grad`` of ``adjoint * primitive``; ``ad.jvp``; the gradient of a
    gradient (reverse over reverse) and ``ad.hessian`` (reverse over forward). The
    slips ``(function of (adjoint or tangent, ans, x), hint)`` name typical mistakes.
    """
    if not isinstance(primitive, Primitive):
        return Verdict(False, f"expected the primitive that ad.defprimitive returns, got "
                              f"{type(primitive).__name__}: primitive = ad.defprimitive('name', "
                              f"evaluate, jvps=[your_jvp], vjps=[your_vjp])")
    if len(primitive.vjps) != 1 or registered_none(primitive.vjps[0]) \
            or registered_none(primitive.jvps[0]):
        return Verdict(False, f"{primitive.name} needs one jvp and one vjp for its one argument: "
                              f"jvps=[your_jvp], vjps=[your_vjp]")
    for rule, kind in ((primitive.vjps[0], "vjp"), (primitive.jvps[0], "jvp")):
        problem = _order_problem(rule, kind)
        if problem:
            return Verdict(False, problem)
    rng = np.random.default_rng(2)
    points = points if points is not None else [rng.normal(size=n) * 1.5 for n in (3, 4, 5)]
    x0 = np.asarray(points[0], dtype=float)
    ans0 = function(x0)
    if np.shape(ans0) != x0.shape:  # the two rules map between different shapes: a swap shows
        try:  # on copies: a rule that changes its arguments in place is told so below
            swapped = np.shape(primitive.vjps[0](np.ones(np.shape(ans0)), ans0, x0.copy())) \
                == np.shape(ans0) and np.shape(primitive.jvps[0](np.ones_like(x0), ans0,
                                                                 x0.copy())) == x0.shape
        except Exception:  # the student's rules may raise anything; the checks below say what
            swapped = False
        if swapped:
            return Verdict(False, f"your vjp returns the output's shape {np.shape(ans0)} and your "
                                  f"jvp x's shape {x0.shape}: jvps= and vjps= are swapped? The "
                                  f"jvp maps a tangent of x to one of the output, the vjp maps "
                                  f"the output's adjoint to one of x's shape")
    name = primitive.name
    for x in points:
        x = np.asarray(x, dtype=float)
        ans_ref = function(x)
        ans = run(primitive, x, what=f"{name}(x)")
        if not close(np.asarray(ans, dtype=float), ans_ref):
            return Verdict(False, f"{name}(x) = {ans!r:.40} at x = {np.round(x, 3).tolist()}; "
                                  f"expected {float(ans_ref):.6g}: the evaluate function is wrong")
        for a in (adjoint, -0.4 * adjoint):  # two adjoints: a rule right for one value of g only
            g = np.full(np.shape(ans_ref), a) if np.shape(ans_ref) else a
            slips = [(slip(g, ans_ref, x), hint) for slip, hint in vjp_slips]
            expected = grad(lambda v, g=g: np.sum(g * function(v)))(x)
            got = _call_rule(primitive.vjps[0], g, ans_ref, x, f"your vjp({a:g}, ans, x)", "g")
            verdict = _compare(got, expected, f"your vjp({a:g}, ans, x)", slips)
            if verdict is not None:
                return verdict
            _refuse_sequence(got, f"your vjp({a:g}, ans, x)")
        tangent = np.linspace(-1, 1.5, x.size)
        slips = [(slip(tangent, ans_ref, x), hint) for slip, hint in jvp_slips]
        expected = jvp(function, x, tangent)[1]
        got = _call_rule(primitive.jvps[0], tangent, ans_ref, x, "your jvp(t, ans, x)", "t")
        verdict = _compare(got, expected, "your jvp(t, ans, x)", slips)
        if verdict is not None:
            return verdict
        _refuse_sequence(got, "your jvp(t, ans, x)")
        checks = [
            (f"reverse mode, ad.grad(lambda x: {adjoint:g} * f(x))",
             lambda f: grad(lambda v: np.sum(adjoint * f(v)))(x)),
            ("forward mode, ad.jvp(f, x, t)", lambda f: jvp(f, x, tangent)[1]),
            ("the gradient of a gradient, ad.grad(lambda x: ad.grad(f)(x) @ w)",
             lambda f: grad(lambda v: grad(f)(v) @ tangent)(x)),
            ("the Hessian, ad.hessian(f, x) (forward mode inside reverse mode)",
             lambda f: hessian(f, x)),
        ]
        nested = (": write the rules with numpy functions of ans and x (np.exp, np.sum, *), "
                  "so that they can be differentiated again")
        for i, (what, compute) in enumerate(checks):
            hint = nested if i >= 2 else ""  # the last two differentiate the rules again
            expected = compute(function)
            try:
                got = run(compute, primitive, what=what)
            except StudentError as error:
                return Verdict(False, error.verdict.message + hint)
            verdict = _compare(got, expected, what, (), rtol=1e-8)
            if verdict is not None:
                return Verdict(False, verdict.message + hint)
    return Verdict(True, f"{name}'s rules are right in reverse mode, forward mode, the gradient "
                         f"of a gradient and the Hessian, at {len(points)} points")


def check_logsumexp_rule(primitive):
    """Check the exercise's primitive logsumexp(x) = log Σ exp(x_i) (see check_vjp_rule)."""
    return check_vjp_rule(primitive, logsumexp, vjp_slips=LOGSUMEXP_VJP_SLIPS,
                          jvp_slips=LOGSUMEXP_JVP_SLIPS)


__all__ = ["check_vjp_rule", "check_logsumexp_rule", "logsumexp"]
