"""Gradient descent and ascent, Newton's method: the iterations notebooks 01 and 04 plot."""

from __future__ import annotations

import numpy as np


def gradient_descent(grad, start, learning_rate: float, n_steps: int) -> np.ndarray:
    """Return the path of gradient descent, theta_{n+1} = theta_n - eps * grad(theta_n).

    ``grad(theta)`` returns the gradient at ``theta`` (same shape as ``start``),
    ``eps`` is the learning rate.  The result has shape
    ``(n_steps + 1,) + np.shape(start)``: row 0 is ``start``, row n is theta_n.
    """
    theta = np.array(start, dtype=float)
    path = [theta]
    for _ in range(n_steps):
        theta = theta - learning_rate * np.asarray(grad(theta), dtype=float)
        path.append(theta)
    return np.array(path)


def gradient_ascent(grad, start, learning_rate: float, n_steps: int) -> np.ndarray:
    """Return the path of gradient ascent, x_{n+1} = x_n + eps * grad(x_n).

    Same conventions as :func:`gradient_descent` (row 0 is ``start``).
    """
    return gradient_descent(grad, start, -learning_rate, n_steps)


def newton_iterates(f, fprime, x0: float, n_steps: int) -> np.ndarray:
    """Return Newton's iterates x_0, ..., x_{n_steps} for a root of ``f``.

    x_{n+1} = x_n - f(x_n) / f'(x_n), with ``fprime`` giving f'.  Raises
    ZeroDivisionError naming the iterate where f'(x_n) = 0.
    """
    xs = [float(x0)]
    for n in range(n_steps):
        x = xs[-1]
        slope = float(fprime(x))
        if slope == 0.0:
            raise ZeroDivisionError(f"Newton step {n}: f'(x) = 0 at x = {x!r}")
        xs.append(x - float(f(x)) / slope)
    return np.array(xs)
