"""Optimizers shaped like torch.optim: SGD (with momentum) and Adam.

A step gives each parameter a new array (``p.value = p.value - ...``), never writes into
the old one: a graph recorded before the step holds that array, and its backward() then
still gives the gradient at the point where it was recorded. The new array has the
parameter's dtype (a float32 parameter stays float32, as in PyTorch, whatever the dtype
of its gradient).

Complex parameters: ``p.grad`` is dL/dx - i dL/dy (JAX's convention, see reverse.py), so
the step goes along its conjugate, dL/dx + i dL/dy, as a step on x and y; Adam scales
the real and the imaginary part each by its own running mean square, as PyTorch's Adam
does with a complex parameter seen as two real ones.
"""

from __future__ import annotations

import math

import numpy as np

from ad_engine.reverse import Variable
from ad_engine.rules import NARROW_SCALARS, is_complex


def descent_direction(g):
    """The direction in which a step of minus it lowers the loss: g for a real parameter,
    conj(g) = dL/dx + i dL/dy for a complex one."""
    return np.conj(g) if is_complex(g) else g


def moved(value, step):
    """value - step in value's dtype: a float64 gradient or step size (np.float64 is not a
    weak scalar in numpy 2) would make a float32 parameter float64."""
    new = value - step
    if type(value) is np.ndarray:
        return new if new.dtype == value.dtype else new.astype(value.dtype)
    return type(value)(new) if type(value) in NARROW_SCALARS else new


class Optimizer:
    """Holds a list of parameters (leaf Variables); ``zero_grad()`` clears their
    gradients, ``step()`` moves them using ``.grad`` (parameters without a
    gradient are left alone). Each parameter is listed once: one listed twice would be
    moved twice per step."""

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got an empty list of parameters")
        first = {}  # id of a parameter -> its first position
        for i, p in enumerate(self.params):
            if not isinstance(p, Variable) or p.primitive is not None:
                raise TypeError(f"parameters must be leaf Variables, got {p!r}")
            j = first.setdefault(id(p), i)
            if j != i:
                raise ValueError(
                    f"{type(self).__name__}: parameters {j} and {i} are the same Variable, which "
                    "each step would move twice: list each parameter once (a parameter used in "
                    "several places gets all its contributions in its one .grad; a Module's "
                    ".parameters() lists it once)")
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, got lr={lr!r}")
        self.lr = lr

    def zero_grad(self):
        """Set ``.grad`` of every parameter to None."""
        for p in self.params:
            p.zero_grad()

    def step(self):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: theta <- theta - lr * g, or with momentum mu
    (PyTorch's form) v <- mu v + g, theta <- theta - lr v (conj(g) for a complex
    parameter, see descent_direction)."""

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.velocities = [0.0] * len(self.params)

    def step(self):
        """One update of every parameter that has a gradient."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = descent_direction(p.grad)
            if self.momentum:
                g = self.velocities[i] = self.momentum * self.velocities[i] + g
            p.value = moved(p.value, self.lr * g)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): running means of g and g**2 with bias correction,
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g**2,
        theta <- theta - lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps),
    with g = conj(grad) for a complex parameter, whose real and imaginary parts each
    have their own v (the real and imaginary parts of v). t counts each parameter's own
    updates, as in PyTorch (``state['step']``): a parameter without a gradient at a step is
    left alone and its t not advanced, so one that first gets a gradient later starts with
    t = 1 (its first update moves it by lr).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr)
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas!r}")
        self.betas, self.eps = tuple(betas), eps
        self.moments = [(0.0, 0.0)] * len(self.params)
        self.steps = [0] * len(self.params)  # each parameter's t

    def step(self):
        """One update of every parameter that has a gradient."""
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            t = self.steps[i] = self.steps[i] + 1
            step_size = self.lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
            eps = self.eps * math.sqrt(1.0 - b2**t)  # the same update as eps added to sqrt(v_hat)
            g = descent_direction(p.grad)
            m, v = self.moments[i]
            m = b1 * m + (1.0 - b1) * g
            if is_complex(g):  # the squares of the two parts, each in its own place
                v = b2 * v + (1.0 - b2) * (g.real * g.real + 1j * (g.imag * g.imag))
                scaled = m.real / (np.sqrt(v.real) + eps) + 1j * (m.imag / (np.sqrt(v.imag) + eps))
            else:
                v = b2 * v + (1.0 - b2) * g * g
                scaled = m / (np.sqrt(v) + eps)
            self.moments[i] = (m, v)
            p.value = moved(p.value, step_size * scaled)
