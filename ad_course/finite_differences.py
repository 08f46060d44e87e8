"""Measuring the error of finite differences against theory (notebook 03).

The difference formulas themselves live in the engine (ad_engine/numerical.py).
"""

from __future__ import annotations

import numpy as np

from ad_engine.numerical import central_difference, complex_step, forward_difference


def derivative_errors(f, exact: float, x: float, steps) -> dict:
    """Return the absolute errors |approximation - exact| of f'(x) for each step h.

    A dict with keys ``"forward"``, ``"central"``, ``"complex step"``, each an
    array over ``steps``, computed with :func:`forward_difference`,
    :func:`central_difference` and :func:`complex_step` (``f`` must accept
    complex numbers for the last one, as numpy's functions do).
    """
    steps = np.asarray(steps, dtype=float)
    methods = {
        "forward": forward_difference,
        "central": central_difference,
        "complex step": complex_step,
    }
    return {
        name: np.abs(method(f, x, steps) - exact)  # each method takes an array of steps
        for name, method in methods.items()
    }


# order p of the truncation error C h**p, and C as a multiple of |f^(p+1)(x)|
_DIFFERENCE_TRUNCATION = {"forward": (1, 1 / 2), "central": (2, 1 / 6)}


def difference_error_model(steps, f_value: float, higher_derivative: float, method="forward",
                           eps=float(np.finfo(float).eps)):
    """Return (truncation, round-off): the two error terms of a finite difference.

    forward: truncation |f''| h / 2, central: truncation |f'''| h**2 / 6 (Taylor
    remainder); ``higher_derivative`` is f'' or f''' accordingly.  Round-off,
    both methods: eps |f| / h (f(x + h) and f(x) are each rounded to about
    eps |f| / 2, and their difference is divided by h).  Arrays over ``steps``.
    """
    order, factor = _DIFFERENCE_TRUNCATION[method]
    steps = np.asarray(steps, dtype=float)
    truncation = factor * abs(higher_derivative) * steps**order
    roundoff = eps * abs(f_value) / steps
    return truncation, roundoff


def optimal_step(f_value: float, higher_derivative: float, method="forward",
                 eps=float(np.finfo(float).eps)) -> float:
    """Return the step h that minimises truncation + round-off of :func:`difference_error_model`.

    Setting d/dh (C h**p + eps |f| / h) = 0 gives h* = (eps |f| / (p C))**(1/(p+1)):
    forward h* = sqrt(2 eps |f| / |f''|), central h* = (3 eps |f| / |f'''|)**(1/3).
    """
    order, factor = _DIFFERENCE_TRUNCATION[method]
    constant = factor * abs(higher_derivative)
    return float((eps * abs(f_value) / (order * constant)) ** (1 / (order + 1)))
