"""Fitting with gradients: a quasi-Newton minimiser (BFGS) for the inverse problems of 08."""

from __future__ import annotations

import numpy as np


def bfgs_minimize(value_and_gradient, x0, gradient_tolerance=1e-6, max_iterations=200):
    """Minimise f from ``x0`` with BFGS; return (x, values of f after each iteration).

    ``value_and_gradient(x)`` returns (f(x), ∇f(x)) (e.g. by reverse mode). BFGS
    builds an approximation H of the inverse Hessian from successive gradients:
    with s = x_new - x, y = ∇f_new - ∇f and ρ = 1/(yᵀs),
    H ← (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ. Each step goes along -H ∇f and is
    halved until f decreases enough (Armijo's condition); the first step has length
    at most 1, and H starts as (sᵀy / yᵀy) I after it. Stops when every
    component of the gradient is below ``gradient_tolerance`` times max(1, |f|),
    when a step no longer changes x, or after ``max_iterations``. Scale the
    parameters to order one first: the first step is a gradient step. Armijo's
    test compares values of f, so a gradient below about sqrt(λmax·ε·|f|) (ε the
    machine epsilon, λmax the largest curvature) is not reached: the decrease is
    lost in the rounding of f and the steps shrink until x no longer moves.
    ``x0`` may have any shape (a matrix of parameters): x and the gradient keep it.
    """
    shape = np.shape(x0)  # parameters of any shape: moved as one vector, passed as given
    x = np.array(x0, dtype=float).ravel()

    def value_and_gradient_of_vector(x):
        value, gradient = value_and_gradient(x.reshape(shape))
        gradient = np.asarray(gradient, dtype=float)
        if gradient.shape != shape:
            raise ValueError(f"value_and_gradient returned a gradient of shape {gradient.shape} "
                             f"for parameters of shape {shape}; return the gradient of x, of "
                             f"x's shape")
        return value, gradient.ravel()

    value, gradient = value_and_gradient_of_vector(x)
    inverse_hessian = np.eye(x.size) / max(1.0, np.linalg.norm(gradient))  # first step: length <= 1
    history = [float(value)]
    for _ in range(max_iterations):
        if np.max(np.abs(gradient)) <= gradient_tolerance * max(1.0, abs(value)):
            break
        direction = -inverse_hessian @ gradient
        slope = gradient @ direction
        if slope >= 0:  # not a descent direction: restart from the gradient
            inverse_hessian = np.eye(x.size)
            direction, slope = -gradient, -(gradient @ gradient)
        step = 1.0
        while True:
            x_new = x + step * direction
            value_new, gradient_new = value_and_gradient_of_vector(x_new)
            if value_new <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = x_new - x, gradient_new - gradient
        if s @ y > 0:
            if len(history) == 1:  # before the first update: the scale of the curvature seen
                inverse_hessian = np.eye(x.size) * (s @ y) / (y @ y)
            rho = 1.0 / (s @ y)
            left = np.eye(x.size) - rho * np.outer(s, y)
            inverse_hessian = left @ inverse_hessian @ left.T + rho * np.outer(s, s)
        if np.array_equal(x_new, x):
            break
        x, value, gradient = x_new, value_new, gradient_new
        history.append(float(value))
    return x.reshape(shape), history

