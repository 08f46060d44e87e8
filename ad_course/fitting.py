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
    """
    x = np.array(x0, dtype=float)
    value, gradient = value_and_gradient(x)
    gradient = np.asarray(gradient, dtype=float)
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
            value_new, gradient_new = value_and_gradient(x_new)
            if value_new <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        gradient_new = np.asarray(gradient_new, dtype=float)
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
    return x, history


def least_squares_covariance(jacobian):
    """Return the covariance matrix C = (JᵀJ)⁻¹ of least-squares parameters.

    ``jacobian`` is J = ∂r/∂θ of the normalised residuals r_i = (model_i - data_i)/σ_i
    at the minimum of χ² = Σ r_i² (shape: residuals × parameters). Near the minimum
    χ² ≈ χ²_min + ΔθᵀJᵀJΔθ, so Δχ² = 1 at one standard deviation: σ_k = sqrt(C_kk).
    """
    jacobian = np.asarray(jacobian, dtype=float)
    if jacobian.ndim != 2 or jacobian.shape[0] < jacobian.shape[1]:
        raise ValueError(f"the Jacobian must have at least as many residuals as parameters, "
                         f"got shape {jacobian.shape}")
    return np.linalg.inv(jacobian.T @ jacobian)


def correlation_matrix(covariance):
    """Return the correlation matrix C_ij / sqrt(C_ii C_jj) of a covariance matrix."""
    covariance = np.asarray(covariance, dtype=float)
    sigma = np.sqrt(np.diag(covariance))
    return covariance / np.outer(sigma, sigma)


def richardson_extrapolate(coarse, fine, order=2, ratio=2):
    """Return the Richardson extrapolation (ratioᵖ fine - coarse) / (ratioᵖ - 1).

    ``coarse`` and ``fine`` are results on grids of spacing h and h/ratio of a method
    whose error is c hᵖ + O(hᵖ⁺¹) (p = ``order``); the combination cancels the hᵖ term.
    """
    factor = float(ratio) ** order
    return (factor * np.asarray(fine, dtype=float) - np.asarray(coarse, dtype=float)) / (factor - 1)


def spin_weighted_centre(masses, spins):
    """Return the (2J+1)-weighted mean Σ (2J+1) M_J / Σ (2J+1) of a multiplet's masses."""
    weights = 2 * np.asarray(spins, dtype=float) + 1
    return float(np.sum(weights * np.asarray(masses, dtype=float)) / np.sum(weights))
