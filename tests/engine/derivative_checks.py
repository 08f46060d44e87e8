"""Reference derivatives for the engine tests, computed with plain numpy only.

Nothing here calls autodiff_helpers: the references are finite differences
(a five-point central stencil, error O(h**4)) and the complex step, so a wrong
rule in the library cannot make its own reference wrong.
"""

import numpy as np

STEP = 1e-3  # five-point stencil: truncation ~ h**4 = 1e-12, rounding ~ eps / h = 1e-13
STENCIL = ((-2.0, 1.0), (-1.0, -8.0), (1.0, 8.0), (2.0, -1.0))  # (offset, weight) / 12h


def central_directional(f, x, v, h=STEP):
    """d/dt f(x + t v) at t = 0 by the five-point central stencil (f may return an array)."""
    return sum(weight * np.asarray(f(x + offset * h * v), dtype=float)
               for offset, weight in STENCIL) / (12 * h)


def complex_step_directional(f, x, v, h=1e-20):
    """d/dt f(x + t v) at t = 0 by the complex step Im f(x + i h v) / h (f real-analytic)."""
    return np.imag(f(x + 1j * h * v)) / h


def directional(f, x, v, complex_step=False):
    """The best plain-numpy reference for the directional derivative of f at x along v."""
    return complex_step_directional(f, x, v) if complex_step else central_directional(f, x, v)


def unit_vectors(x):
    """The unit vectors e_k of x's shape (a float e = 1.0 when x is a number)."""
    shape = np.shape(x)
    if shape == ():
        return [1.0]
    return [np.eye(int(np.prod(shape)))[k].reshape(shape) for k in range(int(np.prod(shape)))]


def numerical_gradient(F, x, complex_step=False):
    """The gradient of the scalar function F at x, one directional difference per entry."""
    parts = [directional(F, x, e, complex_step) for e in unit_vectors(x)]
    return float(parts[0]) if np.shape(x) == () else np.reshape(parts, np.shape(x))


def mixed_second(F, x, u, v, complex_step=False, h=STEP):
    """u^T H v for the scalar function F at x: a central difference along u of the
    directional derivative along v (itself a complex step where F allows it)."""
    if complex_step:
        return central_directional(lambda y: complex_step_directional(F, y, v), x, u, h)
    return central_directional(lambda y: central_directional(F, y, v, h), x, u, h)


def with_argument(f, args, i):
    """f as a function of its i-th argument alone, the others held at ``args``."""
    def partial(xi):
        return f(*args[:i], xi, *args[i + 1:])

    return partial


def random_like(rng, x):
    """A random direction (or weight) of x's shape: a float when x is a number."""
    value = rng.standard_normal(np.shape(x))
    return float(value) if np.shape(x) == () else value
