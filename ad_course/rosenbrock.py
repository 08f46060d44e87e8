"""Newton's method in n dimensions with the AD Hessian, on the Rosenbrock valley (notebook 07)."""

from __future__ import annotations

import numpy as np

from ad_engine.higher_order import hessian
from ad_engine.reverse import grad


def rosenbrock(x):
    """Return the (extended) Rosenbrock function of a 1-D array of length n >= 2,

        f(x) = sum_{i=1}^{n-1} [ 100 (x_{i+1} - x_i**2)**2 + (1 - x_i)**2 ],

    a curved narrow valley with its global minimum f = 0 at x = (1, ..., 1).
    Written with slices and ``.sum(axis=0)``, so it works on arrays, Duals and
    Variables, and on many points at once: x of shape (n, ...) gives shape (...)
    (e.g. ``rosenbrock(np.array([a, b]))`` on a grid a, b).
    """
    head, tail = x[:-1], x[1:]
    return (100.0 * (tail - head * head) ** 2 + (1.0 - head) ** 2).sum(axis=0)


def newton_minimize(f, x0, n_steps=100, tol=1e-12):
    """Return the path of Newton's method for a minimum of scalar ``f`` of a 1-D array:

        x_{k+1} = x_k - H(x_k)^{-1} grad f(x_k),

    with the gradient from reverse mode (``grad``) and the Hessian from
    ``hessian`` (n Hessian-vector products). Pure Newton steps, no line search.
    Stops after ``n_steps`` steps or once a step is shorter than
    ``tol * (1 + |x_k|)``. Row k of the result (shape (k + 1, n)) is x_k.
    """
    gradient = grad(f)
    x = np.array(x0, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x0 must be a 1-D array, got shape {x.shape}")
    path = [x]
    for _ in range(n_steps):
        step = np.linalg.solve(hessian(f, x), np.asarray(gradient(x), dtype=float))
        x = x - step
        path.append(x)
        if np.linalg.norm(step) <= tol * (1.0 + np.linalg.norm(x)):
            break
    return np.array(path)


def iterations_to_converge(path, target, tol):
    """Return the first k with |x_k - target| <= tol along ``path`` (rows x_0, x_1, ...),
    or None if the path never gets that close."""
    distance = np.linalg.norm(np.asarray(path, dtype=float) - np.asarray(target, dtype=float), axis=1)
    close = np.flatnonzero(distance <= tol)
    return int(close[0]) if close.size else None
