"""Exercises whose answer is a number or a few numbers: one table of questions, one
checker. Each question computes its reference (never a typed-in result) and knows
the values that typical mistakes give, with a hint for each.

    ad.check_answer("02-4", (ops_10, ops_100))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ad_course.checkers.verdict import StudentError, Verdict, checker, floats, run

_RIGHT = "right"


@dataclass(frozen=True)
class Question:
    """One exercise: ``size`` numbers (1: a single number), how they are described, the
    reference ``reference(**context)`` and the mistakes ``mistakes(reference, **context)``
    as (values, hint) pairs. ``rtol``: the relative tolerance; ``integer``: counts;
    ``otherwise``: what to do when the answer is none of the known mistakes;
    ``approximate``: what to do with a derivative right only to about 1e-6 (a finite
    difference) when the question asks for AD's exact one."""

    described: str
    size: int
    reference: Callable
    mistakes: Callable = field(default=lambda ref, **_: [])
    rtol: float | tuple = 1e-9  # one tolerance, or one per number
    integer: bool = False
    context: tuple = ()
    otherwise: str = "recompute it step by step"  # the hint when no known mistake matches
    # for a derivative asked of AD: the hint for a value right to ~1e-6 but not to round-off
    approximate: str = ""


def _dl_n(n, x=0.3):
    """dl_n/dx of the logistic map at x, by forward mode."""
    from ad_course.symbolic import logistic_map
    from ad_engine.forward import derivative
    return derivative(lambda y: logistic_map(y, n), x)


def _step_bound(loss):
    from ad_engine.higher_order import hessian
    H = hessian(lambda t: loss(t[0], t[1]), np.array([0.3, -0.2]))
    return 2 / np.linalg.eigvalsh(H).max()


def _bound_mistakes(ref, loss):
    from ad_engine.higher_order import hessian
    H = hessian(lambda t: loss(t[0], t[1]), np.array([0.3, -0.2]))
    low, high = np.linalg.eigvalsh(H)
    return [
        (1 / high, "the bound is 2 / lambda_max, not 1 / lambda_max"),
        (2 / low, "use the largest eigenvalue: the steepest direction diverges first"),
        (high, "that is lambda_max itself; the step must stay below 2 / lambda_max"),
        (2 / np.trace(H), "the trace is the sum of the eigenvalues; use lambda_max alone"),
        (4 / high, "H is the matrix of second derivatives: check the factor 2 of (θ - 1)²"),
        (1 / (2 * high), "the bound is 2 / lambda_max"),
    ]


def _newton_first(tolerance=1e-15):
    x, n = 1.0, 0
    while abs(x - math.sqrt(2)) >= tolerance:
        x, n = x - (x * x - 2) / (2 * x), n + 1
    return n


def _best_step_01():
    steps = 10.0 ** -np.arange(1, 13)
    x = 0.5
    exact = (1 - 2 * x * x) * np.exp(-x * x)
    def f(t):
        return t * np.exp(-t * t)

    errors = np.abs((f(x + steps) - f(x)) / steps - exact)
    return steps[np.argmin(errors)], errors.min()


def _first_cheaper_n():
    import sympy as sp

    from ad_course.symbolic import count_operations
    x = sp.Symbol("x")
    for n in range(2, 12):
        from ad_course.symbolic import logistic_map
        generated = sp.lambdify(x, sp.diff(logistic_map(x, n), x), modules="math", cse=True)
        if _logistic_forward_ops(n) < count_operations(generated, 0.1):
            return n
    return None


def _logistic_forward_ops(n):
    from ad_course.symbolic import count_forward_mode_operations, logistic_map
    return count_forward_mode_operations(lambda v: logistic_map(v, n), 0.1)


def _gd_paths():
    paths = []
    for rate in (1.0, 0.5):
        theta, path = 1.0, [1.0]
        for _ in range(4):
            theta -= rate * 2 * theta
            path.append(theta)
        paths.extend(path)
    return tuple(paths)


def _shot_put_flat():
    from ad_course.shot_put import shot_put_best_angle
    return shot_put_best_angle(h=0.0)


def _shot_put_slope():
    from ad_course.shot_put import shot_put_range
    from ad_engine.reverse import grad
    return grad(shot_put_range)(0.8)


QUESTIONS = {
    "01-1": Question("2 / lambda_max, the largest stable learning rate", 1, _step_bound,
                     _bound_mistakes, rtol=2e-3, context=("loss",)),
    "01-2": Question("the first Newton step n with |x_n - sqrt 2| < 1e-15", 1,
                     lambda: _newton_first(), lambda ref: [
                         (ref + 1, "x_0 is the start: count the steps from 0"),
                         (ref - 1, "the error of that iterate is about 1e-12, not yet below 1e-15"),
                         (ref - 2, "the error must be below 1e-15, not 1e-5"),
                         (2 ** ref, "count steps, not correct digits"),
                     ], integer=True),
    "01-3": Question("the step h of the grid with the smallest forward-difference error", 1,
                     lambda: _best_step_01()[0], lambda ref: [
                         (_best_step_01()[1], "that is the smallest error, not the step at which "
                                              "it occurs"),
                         (1e-12, "the smallest step is not the best: round-off grows like "
                                 "eps |f| / h"),
                         (np.sqrt(np.finfo(float).eps), "that is sqrt(eps), the estimate; the "
                                                        "exercise asks for the best step of the grid"),
                         (7.0, "that is an index (counting from 0); the step is steps[index]"),
                         (8.0, "that is an exponent or a position; the step is 10**-8 written as "
                               "a number"),
                         (-8.0, "that is the exponent; the step is 10**-8 written as a number"),
                         (1e-5, "1e-5 is about the best step of the central difference; this is "
                                "the forward difference"),
                     ], rtol=1e-9),
    "01-4": Question("the four gradient-descent steps theta_0..theta_4 for eta = 1, then for "
                     "eta = 0.5 (10 numbers)", 10, _gd_paths, lambda ref: [
                         ((1, 3, 9, 27, 81, 1, 2, 4, 8, 16),
                          "the step goes against the gradient: theta - eta * 2 theta"),
                         ((1, 0, 0, 0, 0, 1, 0.5, 0.25, 0.125, 0.0625),
                          "the gradient of theta² is 2 theta, not theta"),
                         ((1, -1, 1, -1, 1, 1, -1, 1, -1, 1),
                          "the two rates do not give the same path: one step multiplies theta "
                          "by the factor 1 - 2 eta; work that factor out for eta = 0.5"),
                         ((1, 1, 1, 1, 1, 1, 0, 0, 0, 0),
                          "with eta = 1 theta does change: one step multiplies it by the factor "
                          "1 - 2 eta; work that factor out for eta = 1"),
                         (tuple(ref[5:]) + tuple(ref[:5]), "the order is eta = 1 first, then "
                                                           "eta = 0.5"),
                     ]),
    "02-1": Question("the number of terms of the expanded dl_n/dx for n = 2..6", 5,
                     lambda: tuple(2 ** (n - 1) for n in range(2, 7)), lambda ref: [
                         (tuple(2 ** (n - 1) - 1 for n in range(2, 7)),
                          "that is the degree; the constant term counts too"),
                         (tuple(2 ** n for n in range(2, 7)), "l_n has degree 2^(n-1), not 2^n"),
                         (tuple(2 ** (n - 1) + 1 for n in range(2, 7)),
                          "l_n's degree is 2^(n-1), its derivative has 2^(n-1) coefficients"),
                         (tuple(range(2, 7)), "expanded, the count grows like 2^(n-1), not n"),
                     ], integer=True),
    "02-2": Question("the smallest n from which forward mode needs fewer operations than "
                     "the lambdified derivative with CSE", 1, _first_cheaper_n, lambda ref: [
                         (ref - 1, "at that n the two counts are close, but forward mode is "
                                   "still more: compare the columns row by row"),
                         (ref + 1, "forward mode is already cheaper one n earlier"),
                         (2, "at n = 2 the symbolic derivative is tiny: forward mode costs more"),
                         (8, "that is the last n of the table, not the first where AD wins"),
                     ], integer=True),
    "02-4": Question("the forward-mode operation counts for n = 10 and n = 100", 2,
                     lambda: (_logistic_forward_ops(10), _logistic_forward_ops(100)), lambda ref: [
                         ((80, 800), "l_1 = x is the input, not a step of the map: how many "
                                     "steps lead from l_1 to l_n?"),
                         ((36, 396), "each operation is done on the value and on the d-part: "
                                     "count both"),
                         ((2 ** 10, 2 ** 100), "forward mode shares subexpressions: the count "
                                               "grows like n, not 2^n"),
                         ((72, 720), "count the steps from l_1 to l_100 the way you counted "
                                     "those from l_1 to l_10"),
                     ], integer=True),
    "03-2": Question("the calls of a central-difference gradient for n = 1000, and the hours "
                     "for 1e7 parameters at 10 ms a call", 2,
                     lambda: (2000, 2 * 1e7 * 0.01 / 3600), lambda ref: [
                         ((1000, 1e7 * 0.01 / 3600), "central differences need two calls per "
                                                     "parameter, f(x + h e_i) and f(x - h e_i)"),
                         ((1001, (1e7 + 1) * 0.01 / 3600), "that is the forward difference, N + 1 "
                                                           "calls; central needs 2N"),
                         ((2000, 2 * 1e7 * 0.01 / 60), "those are minutes: divide seconds by 3600"),
                         ((2000, 2 * 1e7 * 0.01), "those are seconds: divide by 3600 for hours"),
                         ((2001, ref[1]), "the central difference does not need f(x) itself"),
                         ((2000, 2 * 1e7 * 0.01 / 86400), "those are days: divide seconds by "
                                                          "3600 for hours"),
                         ((2000, 1e7 * 0.01 / 3600), "the hours are for central differences "
                                                     "too: two calls per parameter"),
                         ((2000, 55.0), "55.56 rounds to 55.6 (or 56), not 55"),
                     ], rtol=(0, 9e-3)),
    "03-4": Question("the forward difference and the complex step of sqrt at 1 with h = 1e-20",
                     2, lambda: (0.0, 0.5), lambda ref: [
                         ((0.5, 0.5), "the forward difference computes sqrt(1 + h) - sqrt(1) in "
                                      "floating point: what is 1 + 1e-20 in double precision "
                                      "(eps = 2.2e-16)?"),
                         ((0.0, 0.0), "the complex step takes Im sqrt(1 + ih) / h and subtracts "
                                      "nothing, so nothing cancels: expand sqrt(1 + ih) to first "
                                      "order in h"),
                         ((math.inf, 0.5), "the forward difference divides by h = 1e-20, not by 0: "
                                           "what is its numerator, sqrt(1 + 1e-20) - 1, in double "
                                           "precision?"),
                         ((0.5, 0.0), "which of the two methods subtracts two nearly equal "
                                      "numbers? Only that one can lose every digit"),
                     ], rtol=1e-12),
    "04-2": Question("dl_4/dx at x = 0.3 by forward mode", 1, lambda: _dl_n(4), lambda ref: [
                         (_dl_n(4, 0.1), "evaluate at x = 0.3"),
                         (-ref, "the sign: check the rule of 1 - l"),
                         (ref / 4, "the map is 4 l (1 - l): the factor 4 is part of it"),
                         (ref * 4, "one factor 4 too many"),
                         (_dl_n(3), "that is dl_3/dx: l_1 = x, so l_4 is three steps of the map"),
                         (_dl_n(5), "that is dl_5/dx: l_1 = x, so l_4 is three steps of the map"),
                         (24.0, "24 is the number of operations; the question asks for the "
                                "derivative's value"),
                     ], rtol=1e-13, approximate="forward mode gives it to round-off: "
                                                "ad.derivative, or the d-part of a MiniDual"),
    "04-3": Question("the best angle at H0 = 0, in radians", 1, _shot_put_flat, lambda ref: [
                         (45.0, "in radians, please: 45 degrees = pi/4"),
                         (np.pi / 2, "sin 2 theta is largest at 2 theta = pi/2, so theta = pi/4"),
                         (0.7440667050778138, "that is the angle for H0 = 1.8 m"),
                         (0.6847192030022829, "that is the angle for H0 = 5 m"),
                     ], rtol=1e-9),
    "04-4": Question("the d-part of absolute(MiniDual(0.0, 1.0))", 1, lambda: -1.0, lambda ref: [
                         (1.0, "the dual class follows the branch the program takes: at x = 0, "
                               "is x > 0 true, and what is the derivative of that branch?"),
                         (0.0, "the dual class follows the branch the program takes; 0 is what "
                               "np.abs on ad.Dual gives"),
                         (math.nan, "the derivative at a kink is not defined, but AD still "
                                    "differentiates the branch taken"),
                         (0.5, "AD does not average the two one-sided slopes: it follows the "
                               "branch the program takes"),
                     ], rtol=0),
    "05-1": Question("dy/dx1 and dy/dx2 of (x1 + x2) exp(x1) at (0, 1)", 2,
                     lambda: (2.0, 1.0), lambda ref: [
                         ((1.0, 1.0), "x1 is used twice (in the sum and in exp): add both "
                                      "contributions"),
                         ((2.0, 2.0), "x2 is used once, in the sum: dy/dx2 = exp(x1)"),
                         ((1.0, 2.0), "the order is (dy/dx1, dy/dx2)"),
                         ((3.0, 1.0), "exp(x1) is used by the product once: (1 + x1 + x2) e^x1"),
                     ], rtol=1e-12),
    "05-3": Question("the shot put's dx_max/dtheta at theta = 0.8 by reverse mode", 1,
                     _shot_put_slope, lambda ref: [
                         (-ref, "the sign: at 0.8 the range decreases with the angle"),
                         (ref * np.pi / 180, "per radian, not per degree"),
                         (0.0, "theta = 0.8 is past the optimum 0.744: the slope is not 0"),
                         (ref / 2, "a factor 2 is missing"),
                     ], rtol=1e-13, approximate="reverse mode gives it to round-off: ad.grad, "
                                                "or .grad after backward()"),
    "05-5": Question("the path-sum visits and the nodes of backward for n = 12, and dl/dx "
                     "swept from the inputs", 3, lambda: (3 * 2 ** 12 - 5, 5 * 12 - 4, 0.0),
                     lambda ref: [
                         ((2 ** 11, 56, 0.0), "that is the number of paths; the recursion also "
                                              "visits the nodes on each path"),
                         ((12283, 60, 0.0), "l_1 = x is one node, not a step of the map: count "
                                            "the nodes one step adds, and the steps from l_1 "
                                            "to l_12"),
                         ((12283, 56, _dl_n(12)), "that is dl_12/dx itself, which the sweep from "
                                                "the output gives. In the sweep from the inputs, "
                                                "what .grad does a node hold when it passes it "
                                                "on to its parents? (y, the only node with grad "
                                                "1, comes last)"),
                         ((12283, 56, 1.0), "in the sweep from the inputs, y (the only node "
                                            "with grad 1) is processed last: what has x "
                                            "received by the time it is processed?"),
                         ((12283, 55, 0.0), "backward processes every node of "
                                            "topological_order(y): the input x and y itself "
                                            "too"),
                     ], rtol=(1e-12, 1e-12, 1e-2), integer=False),
    "07-4": Question("H v at x = 0 and at x = (1, 2) for A = [[2, 1], [1, 3]], v = (1, -1)"
                     " (4 numbers)", 4, lambda: (1.0, -2.0, 1.0, -2.0), lambda ref: [
                         ((0.0, 0.0, 4.0, 7.0), "that is A x, the gradient of f; the Hessian of "
                                                "x^T A x / 2 is A, so H v = A v everywhere"),
                         ((3.0, 3.0, 3.0, 3.0), "v^T A v = 3 is the curvature along v, one number; "
                                                "H v is a vector, A v"),
                         ((0.0, 0.0, 1.0, -2.0), "the Hessian is constant: also at x = 0"),
                         ((2.0, -4.0, 2.0, -4.0), "f = x^T A x / 2 has Hessian A, not 2 A"),
                         ((3.0, 2.0, 3.0, 2.0), "H v = A v: multiply A by v = (1, -1) row by "
                                                "row, each row of A dotted with v (mind the "
                                                "sign of v's second component)"),
                         ((1.0, 1.0, -2.0, -2.0), "the right numbers in another order: give H v "
                                                  "at x = 0 first, then H v at x = (1, 2), each "
                                                  "as its two components (a flat list, or "
                                                  "np.concatenate; np.column_stack puts the two "
                                                  "vectors side by side)"),
                     ], rtol=1e-12),
    "08-1": Question("the number of forward-mode sweeps for the gradient of chi2", 1,
                     lambda params: len(params), lambda ref, params: [
                         (1, "one forward sweep gives one directional derivative, not the gradient"),
                         (2 * len(params), "2P is the count of central differences; a forward "
                                           "sweep is exact, one per parameter"),
                         (len(params) + 1, "P + 1 is the count of forward differences; forward "
                                           "mode needs no extra evaluation at x"),
                         (len(params) ** 2, "that is the size of the Hessian"),
                     ], integer=True, context=("params",)),
    "08-3": Question("the predicted growth of the peak memory from N = 100 to 400 without "
                     "checkpoints and with sqrt(N) segments", 2, lambda: (4.0, 2.0),
                     lambda ref: [
                         ((2.0, 2.0), "without checkpoints the graph of every step is "
                                      "stored: the peak grows like N itself, not like sqrt(N); "
                                      "what factor is that from N = 100 to 400?"),
                         ((4.0, 4.0), "with sqrt(N) segments the peak grows like sqrt(N)"),
                         ((4.0, 1.0), "the segments stored grow too: sqrt(N) checkpoints plus "
                                      "one segment of sqrt(N) steps"),
                         ((16.0, 4.0), "memory grows like N, not N²"),
                         ((2.0, 4.0), "swapped? the first number is the growth without "
                                      "checkpoints, the second the growth with sqrt(N) segments"),
                     ], rtol=1e-9,
                     otherwise="predict each ideal factor from what the backward sweep must "
                               "keep: without checkpoints the graph of every step; with K = "
                               "sqrt(N) segments K checkpoints plus the graph of one segment "
                               "of N / K steps. How do these grow when N goes from 100 to 400? "
                               "(The measured factors come after measure(), and differ from "
                               "these: explain them with the cost model)"),
}


def _numbers(answer, question):
    """The answer's numbers, flat (row by row), and its shape."""
    if answer is Ellipsis:  # the exercise cells' own words
        raise StudentError(Verdict(False, f"expected {question.described}, got ... (the placeholder)"))
    array = floats(answer, question.described, float(np.max(question.rtol)))
    values = array.ravel()
    if values.size != question.size:
        raise StudentError(Verdict(False, f"expected {question.described}: "
                                          f"{question.size} number(s), got {values.size}"))
    return values, array.shape


def _agree(a, b, rtol):
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    rtol = np.broadcast_to(np.asarray(rtol, dtype=float), a.shape) if a.shape == b.shape else 0
    both_nan = np.isnan(a) & np.isnan(b)
    return a.shape == b.shape and bool(np.all(both_nan | np.isclose(a, b, rtol=rtol, atol=0)
                                              | (a == b)))


def _percent(rtol):
    """The tolerance as a message states it: '0.2 %', or one per number."""
    shown = sorted({f"{100 * r:.2g} %" if r >= 1e-5 else f"a relative {r:.0e}" for r in rtol})
    return shown[0] if len(shown) == 1 else " and ".join(shown) + " (per number)"


@checker
def check_answer(key, answer, **context):
    """Check the answer to exercise ``key`` ("NN-k") of ``QUESTIONS``: a number or a
    sequence of numbers; ``context``: what the question needs from the notebook (e.g.
    ``loss=valley_loss`` for 01-1)."""
    if key not in QUESTIONS:
        return Verdict(False, f"no exercise {key!r}; known: {', '.join(QUESTIONS)}")
    question = QUESTIONS[key]
    missing = [name for name in question.context if name not in context]
    if missing:
        return Verdict(False, f"exercise {key} also needs {', '.join(missing)}=...")
    reference = np.asarray(run(lambda: question.reference(**context),
                               what=f"exercise {key} with the {' and '.join(question.context)} you passed"),
                           dtype=float).ravel()
    values, shape = _numbers(answer, question)
    if question.integer and not np.all(values == np.round(values)):
        return Verdict(False, f"expected {question.described}: whole numbers, got "
                              f"{values.tolist()}")
    if _agree(values, reference, question.rtol):
        return Verdict(True, f"{question.described}: right")
    shown = values[0] if question.size == 1 else values.tolist()
    for wrong, hint in question.mistakes(reference, **context):
        if not _agree(wrong, reference, question.rtol) and _agree(values, wrong, question.rtol):
            return Verdict(False, f"your answer {shown} is not {question.described}: {hint}")
    if len(shape) == 2 and min(shape) > 1 and \
            _agree(values.reshape(shape).T.ravel(), reference, question.rtol):
        return Verdict(False, f"your {shape[0]} x {shape[1]} array has the right numbers, but "
                              f"read row by row (as the check reads it) they come in another "
                              f"order: {question.described}. Give them as a flat list in that "
                              f"order (or an array with one row per group, not one column)")
    if question.size == 2 and _agree(values[::-1], reference, question.rtol) \
            and not _agree(reference[::-1], reference, question.rtol):
        return Verdict(False, f"your answer {shown} has the two numbers the other way round: "
                              f"{question.described}, in that order")
    rtol = np.broadcast_to(np.asarray(question.rtol, dtype=float), values.shape)
    short = all(float(f"{v:.4g}") == v for v in values)  # typed with a few digits
    if np.all(rtol > 0) and _agree(values, reference, np.maximum(10 * rtol, 1e-3 if short else 0)):
        return Verdict(False, f"your answer {shown} is close to {question.described}, but not "
                              f"within {_percent(rtol)}: "
                              + ("give more digits (compute it, or copy all the digits printed)"
                                 if short else question.otherwise))
    if question.approximate and _agree(values, reference, 1e-6):
        return Verdict(False, f"your answer {shown} is right to about "
                              f"{np.max(np.abs(values / reference - 1)):.0e} but not to round-off, "
                              f"as a finite difference gives; {question.approximate}")
    wrong_at = [i for i in range(values.size) if not _agree(values[i], reference[i], rtol[i])]
    where = "" if question.size == 1 else f" (number {wrong_at[0] + 1} of {question.size})"
    return Verdict(False, f"your answer {shown} is not {question.described}{where}: "
                          f"{question.otherwise}")
