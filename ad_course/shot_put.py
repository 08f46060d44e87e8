"""The best angle of a shot put (notebook 04).

Defaults: release speed v = 14 m/s, release height h = 1.8 m, g = 9.8 m/s^2.
"""

from __future__ import annotations

import numpy as np


def shot_put_range(theta, v=14.0, h=1.8, g=9.8):
    """Return the horizontal range of a shot released at angle ``theta`` (radians),
    x_max = v cos(theta) / g * (v sin(theta) + sqrt(v^2 sin^2(theta) + 2 g h)).

    Written with numpy functions, so ``theta`` may be a float, an array of angles,
    a ``Dual`` or a ``Variable``.
    """
    sine = np.sin(theta)
    return v * np.cos(theta) / g * (v * sine + np.sqrt(v**2 * sine**2 + 2 * g * h))


def shot_put_stationarity(theta, v=14.0, h=1.8, g=9.8):
    """Return v cos^2(theta) - sqrt(2 g h + v^2 sin^2(theta)) sin(theta).

    Zero exactly where d x_max / d theta = 0: with W = sqrt(v^2 sin^2 theta + 2 g h),
    the derivative is this function times v (v sin theta + W) / (g W) > 0, so
    Newton's method on it finds the best angle. Accepts floats, arrays, Duals
    and Variables.
    """
    sine = np.sin(theta)
    return v * np.cos(theta) ** 2 - np.sqrt(2 * g * h + v**2 * sine**2) * sine


def shot_put_best_angle(v=14.0, h=1.8, g=9.8):
    """Return the angle of the longest throw from the closed form
    sin(theta*) = v / sqrt(2 v^2 + 2 g h) (radians, a float)."""
    return float(np.arcsin(v / np.sqrt(2 * v**2 + 2 * g * h)))
