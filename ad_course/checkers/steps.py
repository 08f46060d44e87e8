"""Notebook 03, exercise 1: the optimal step of the forward difference, derived by
hand (h*) and measured (the step of the grid at which the error is smallest)."""

from __future__ import annotations

import numpy as np

from ad_course.checkers.verdict import EPS, StudentError, Verdict, apart, as_number, checker
from ad_course.finite_differences import derivative_errors

DEFAULT_STEPS = np.logspace(-16, -1, 151)  # notebook 03's grid


def optimal_step_reference(f_abs, f2_abs, eps):
    """h* = sqrt(2 eps |f| / |f''|), the minimum of |f''| h / 2 + eps |f| / h."""
    return float(np.sqrt(2 * eps * f_abs / f2_abs))


def _formula_mistakes(f, f2, f3, eps):
    """(wrong h*, hint) for the typical slips in minimising |f''| h/2 + eps |f| / h."""
    return [
        (np.sqrt(eps * f / f2), "a factor sqrt(2) is missing, or eps was taken as the unit "
                                "round-off 1.1e-16 (here eps = np.finfo(float).eps = 2.2e-16): "
                                "setting d/dh (|f''| h/2 + eps |f|/h) = 0 gives "
                                "h*² = 2 eps |f| / |f''|"),
        (2 * eps * f / f2, "the square root is missing: h*² = 2 eps |f| / |f''|, so "
                           "h* = sqrt(2 eps |f| / |f''|)"),
        (np.sqrt(2 * eps * f2 / f), "|f| and |f''| are swapped: h*² = 2 eps |f| / |f''| (round-off "
                                    "grows with |f|, truncation with |f''|)"),
        (np.sqrt(2 * eps * f), "|f''| is missing: h*² = 2 eps |f| / |f''|, divide by |f''|"),
        (np.sqrt(eps * f), "|f''| and a factor 2 are missing: h*² = 2 eps |f| / |f''|"),
        ((3 * eps * f / f3) ** (1 / 3), "that is the central difference's h* ~ eps^(1/3); the "
                                        "forward difference's truncation error is |f''| h / 2, "
                                        "of order h"),
        (np.sqrt(8 * eps), "sqrt(8 eps) is h* of the sqrt example at x = 1, where |f| = 1 and "
                           "|f''| = 1/4; put this function's |f| and |f''| into "
                           "h*² = 2 eps |f| / |f''|"),
        (np.sqrt(eps), "sqrt(eps) is the rule of thumb; derive h* from the error model, "
                       "h*² = 2 eps |f| / |f''|"),
        (eps, "h = eps is where round-off alone dominates; balance the truncation error "
              "|f''| h / 2 against the round-off error eps |f| / h"),
    ]


def _match(value, candidates, rtol=1e-3):
    for wrong, hint in candidates:
        if np.isfinite(wrong) and wrong != 0 and abs(value / wrong - 1) < rtol:
            return hint
    return None


@checker
def check_optimal_step(h_formula, h_measured=None, steps=None, *, f=np.exp, x=1.0,
                       derivative=None, f_value=None, second_derivative=None,
                       third_derivative=None, eps=EPS):
    """Check h* of the forward difference, derived by hand, and optionally the step
    of the grid ``steps`` at which the measured error is smallest.

    Reference: the error model |f''| h / 2 + eps |f| / h is smallest at
    h* = sqrt(2 eps |f| / |f''|) (for f = exp at x = 1: f = f'' = e, h* = sqrt(2 eps)).
    The measured step must be one of ``steps`` (default: notebook 03's grid,
    ``np.logspace(-16, -1, 151)``) whose forward-difference error of ``f`` at ``x``
    is within a factor 2 of the smallest error on the grid (the curve is jagged near
    its minimum, so a neighbour of equal error is as right as the argmin).
    """
    if f is np.exp and x == 1.0:
        derivative = np.e if derivative is None else derivative
        f_value = np.e if f_value is None else f_value
        second_derivative = np.e if second_derivative is None else second_derivative
    f_abs, f2_abs = abs(float(f_value)), abs(float(second_derivative))
    f3_abs = f2_abs if third_derivative is None else abs(float(third_derivative))
    reference = optimal_step_reference(f_abs, f2_abs, eps)
    h = as_number(h_formula, "h* as a number (a float, e.g. np.sqrt(...))", rtol=1e-3)
    if h <= 0:
        return Verdict(False, f"h* must be a positive step, got {h:.3g}")
    if abs(h - reference) > 1e-3 * abs(reference) or reference <= 0:
        hint = _match(h, _formula_mistakes(f_abs, f2_abs, f3_abs, eps))
        if hint is None and abs(h - reference) <= 1e-2 * abs(reference):
            hint = ("close, but not within 0.1 %: compute it with np.sqrt (and np.finfo(float).eps), "
                    "do not type it in")
        yours, expected = apart(h, reference)
        return Verdict(False, f"your h* is {yours}; expected {expected}: "
                              + (hint or "derive it from d/dh (|f''| h/2 + eps |f|/h) = 0"))
    if h_measured is None:
        return Verdict(True, "h* is right")
    return _check_measured(h_measured, h, reference, steps, f, x, float(derivative))


def _check_measured(h_measured, h_formula, reference, steps, f, x, exact):
    steps = DEFAULT_STEPS if steps is None else np.asarray(steps, dtype=float).ravel()
    few = steps.size < 20
    if few or not (steps.min() <= reference / 1e3 and steps.max() >= reference * 1e3):
        span = f", from {steps.min():.2g} to {steps.max():.2g}" if steps.size else ""
        reason = ("too few to find the bottom of the V" if few else
                  f"they do not span the V around h* = {reference:.2g} (from 1000 times below "
                  f"it to 1000 times above)")
        return Verdict(False, f"your steps ({steps.size} of them{span}): {reason}; measure on "
                              f"the notebook's grid, steps = np.logspace(-16, -1, 151)")
    errors = derivative_errors(f, exact, x, steps)
    forward, central = errors["forward"], errors["central"]
    if isinstance(h_measured, (int, np.integer)) and not isinstance(h_measured, bool) \
            and 0 <= h_measured < len(steps):
        return Verdict(False, f"your measured step is {h_measured}, an index into steps: "
                              f"the step itself is steps[{h_measured}]")
    try:
        measured = as_number(h_measured, "the measured step as a number (one of steps)", rtol=1e-6)
    except StudentError as error:
        return error.verdict
    best = forward.min()
    on_grid = np.isclose(steps, measured, rtol=1e-6, atol=0)  # a float32 step is on the grid
    mistakes = [
        (best, "that is the smallest error, not the step at which it occurs: "
               "steps[np.argmin(errors)]"),
        (best / abs(exact), "that is the smallest relative error, not the step at which it "
                            "occurs: steps[np.argmin(errors)]"),
        (steps[np.argmax(forward)], "that is the step of the largest error: use np.argmin"),
        (steps[np.argmin(central)], "that is the best step of the central difference; the "
                                    "exercise measures the forward difference"),
        (h_formula, "that is your formula's h*, not a measurement: find the step of smallest "
                    "error in the measured errors"),
        (reference, "that is the formula's h*, not a measurement: find the step of smallest "
                    "error in the measured errors"),
    ]
    if not on_grid.any() or forward[on_grid][0] > 2 * best:
        hint = _match(measured, mistakes, rtol=1e-6)
        where = "" if on_grid.any() else " (it is not one of the steps)"
        return Verdict(False, f"your measured step is {measured:.3g}{where}; the forward "
                              f"difference's error is smallest at h = "
                              f"{steps[np.argmin(forward)]:.3g}: "
                              + (hint or "use steps[np.argmin(errors)] with the errors of the "
                                         "forward difference"))
    return Verdict(True, f"h* is right, and the measured best step is {measured:.2g}")
