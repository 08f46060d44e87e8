"""Finite differences: the reference every AD derivative is checked against.

``check_grad`` compares a function's gradient by reverse mode, forward mode and
central differences.
"""

from __future__ import annotations

import numpy as np

from ad_engine.forward import jvp
from ad_engine.higher_order import as_point
from ad_engine.reverse import grad
from ad_engine.rules import Traced, plain, value_of


def forward_difference(f, x, h=1e-8):
    """Return the forward difference (f(x + h) - f(x)) / h.

    ``x`` may be a float or a numpy array of points (``f`` is then applied
    elementwise, as numpy functions are). Error: O(h) truncation plus
    O(eps / h) round-off.
    """
    return (f(x + h) - f(x)) / h


def central_difference(f, x, h=1e-5):
    """Return the central difference (f(x + h) - f(x - h)) / (2 h).

    Works on floats and on numpy arrays of points. Error: O(h**2) truncation
    plus O(eps / h) round-off, so the best step is about eps**(1/3).
    """
    return (f(x + h) - f(x - h)) / (2 * h)


def complex_step(f, x, h=1e-20):
    """Return the complex-step derivative Im f(x + i h) / h.

    There is no subtraction, hence no cancellation: for a real-analytic ``f``
    written with operations that accept complex numbers (numpy's do) the
    result is exact to machine precision for any tiny ``h``.
    """
    return np.imag(f(x + 1j * h)) / h


def numerical_gradient(f, x, h=None, method="central"):
    """Return the gradient of a scalar function of a 1-D array by finite differences.

    Component i is ``(f(x + h e_i) - f(x)) / h`` for ``method="forward"``
    (N + 1 calls of ``f``) or ``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for
    ``method="central"`` (2 N calls). ``h`` defaults to the step that balances
    truncation and round-off: sqrt(eps) for forward, eps**(1/3) for central,
    scaled by max(1, |x_i|). A complex-valued f keeps its complex differences.

    For a complex x = a + ib the gradient follows the library's convention (JAX's, see
    reverse.py): ∂Re f/∂a - i ∂Re f/∂b, differences along the real and the imaginary
    directions (f'(x) for a holomorphic f).
    """
    if method not in ("forward", "central"):
        raise ValueError(f"method must be 'forward' or 'central', got {method!r}")
    if isinstance(x, Traced):  # np.iscomplexobj below named itself as the function refused
        raise TypeError(
            f"ad.numerical_gradient takes a point of plain numbers, but x is a "
            f"{type(x).__name__} (numerical_gradient inside a function being differentiated): "
            f"finite differences are a check, not a rule; differentiate f itself with ad.grad "
            f"or ad.jvp, or call numerical_gradient outside the derivative")
    if np.iscomplexobj(x):
        x = np.asarray(x)
        along_real = numerical_gradient(lambda a: np.real(f(a + 1j * x.imag)), x.real, h, method)
        along_imag = numerical_gradient(lambda b: np.real(f(x.real + 1j * b)), x.imag, h, method)
        return along_real - 1j * along_imag
    x = np.array(x, dtype=float)
    if h is None:
        h = np.finfo(float).eps ** (0.5 if method == "forward" else 1 / 3)
    steps = h * np.maximum(1.0, np.abs(x))
    differences = []
    f0 = f(x) if method == "forward" else None
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = steps[i]
        if method == "forward":
            differences.append((f(x + step) - f0) / steps[i])
        else:
            differences.append((f(x + step) - f(x - step)) / (2 * steps[i]))
    return np.array(differences, dtype=np.result_type(float, *differences)).reshape(x.shape)


class GradCheck:
    """Result of ``check_grad``: the three gradients and their largest relative error,
    nan when a gradient has a nan (a difference step that leaves f's domain, say), so that
    ``assert check.max_relative_error < tol`` fails then."""

    def __init__(self, reverse, forward, central):
        self.reverse, self.forward, self.central = reverse, forward, central
        self.reverse_vs_forward = _relative_error(reverse, forward)
        self.reverse_vs_central = _relative_error(reverse, central)
        # np.max, not max: Python's max(0.0, nan) is 0.0, which passed every tolerance
        self.max_relative_error = float(np.max([self.reverse_vs_forward, self.reverse_vs_central]))

    def __repr__(self):
        return (
            f"GradCheck(reverse vs forward: {self.reverse_vs_forward:.1e}, "
            f"reverse vs central differences: {self.reverse_vs_central:.1e})"
        )


def _relative_error(a, b):
    """max |a - b| / max |b| over all components (tiny gradients are compared absolutely)."""
    a = np.concatenate([np.ravel(x) for x in a])
    b = np.concatenate([np.ravel(x) for x in b])
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0), 1e-300))


def check_grad(f, *args, h=1e-6):
    """Compare the gradient of scalar ``f(*args)`` from reverse mode, forward mode and
    central differences; return a ``GradCheck`` with the largest relative errors.

    Reverse mode: one backward sweep. Forward mode: one pass per input
    component with a unit tangent. Central differences with step
    h * max(1, |x_i|).
    """
    args = [_point(a) for a in args]
    reverse = grad(f, argnums=tuple(range(len(args))))(*args)
    reverse = [np.asarray(g) for g in reverse]
    zeros = [0.0 * np.asarray(a) for a in args]
    forward, central = [], []
    for k, arg in enumerate(args):
        shape = np.shape(arg)

        def re_tangent(direction, i):  # Re of f's derivative along direction * e_i of argument k
            unit = np.zeros(shape, dtype=type(direction))
            unit[i] = direction
            unit = plain(unit[()]) if shape == () else unit
            return np.real(jvp(f, tuple(args), tuple(zeros[:k] + [unit] + zeros[k + 1:]))[1])

        fwd = np.zeros(shape, dtype=complex if np.iscomplexobj(arg) else float)
        for i in np.ndindex(shape):
            # a complex argument: Re df(e_i) - i Re df(i e_i), the convention of reverse.py
            along_real = re_tangent(1.0, i)
            fwd[i] = along_real - 1j * re_tangent(1j, i) if np.iscomplexobj(arg) else along_real
        forward.append(fwd)

        def along_k(a, k=k):  # Re f as a function of argument k alone
            a = plain(a[()]) if a.ndim == 0 else a
            return np.real(value_of(f(*args[:k], a, *args[k + 1:])))

        central.append(numerical_gradient(along_k, arg, h=h, method="central"))
    return GradCheck(reverse, forward, central)


def _point(a):
    """An argument of check_grad as hvp's and hessian's points are (a float or float array,
    a complex one complex), a number kept a Python number."""
    point = as_point(a)
    return point if point.ndim else point.item()
