"""A physics-informed loss: a network's derivatives in an oscillator's equation (notebook 07)."""

from __future__ import annotations

import numpy as np

from ad_engine.higher_order import value_and_derivatives


def oscillator_loss(u, t, omega=1.0, gamma=0.0, u0=1.0, v0=0.0):
    """Return the physics-informed loss of a trial solution ``u(t)`` of the oscillator

        u'' + 2 gamma u' + omega**2 u = 0,   u(t_0) = u0,   u'(t_0) = v0,

    as mean over ``t`` of residual**2 + (u(t_0) - u0)**2 + (u'(t_0) - v0)**2,
    where t_0 = t[0] (the first collocation point is the initial time).
    u, u' and u'' come from :func:`value_and_derivatives`; if ``u`` holds
    Variables the loss is a Variable whose ``backward()`` gives the gradient
    with respect to them. Returns (loss, residual).
    """
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"t must be a 1-D array of collocation points, got shape {t.shape}")
    value, first, second = value_and_derivatives(u, t)
    residual = second + 2.0 * gamma * first + omega**2 * value
    loss = (residual * residual).mean() + (value[0] - u0) ** 2 + (first[0] - v0) ** 2
    return loss, residual
