"""Compact U(1) gauge theory in two dimensions and Hybrid Monte Carlo (notebook 09).

Links are angles theta[mu, x, y] on an L x L periodic lattice, mu = 0 for the
1-direction (array axis 0) and mu = 1 for the 2-direction (array axis 1). The
plaquette angle is theta_P(x) = theta_1(x) + theta_2(x + 1) - theta_1(x + 2) - theta_2(x)
and the Wilson action S = beta sum_P (1 - cos theta_P).

Every function also takes a stack of independent configurations (replicas) on a
trailing axis, theta of shape (2, L, L, R): the lattice axes stay 0 and 1, and
sums over the lattice give one number per replica.

In two dimensions the plaquettes are independent (up to terms of order
(I_1/I_0)^(L^2) on the torus), so <cos theta_P> = I_1(beta) / I_0(beta) exactly;
the modified Bessel functions come from their power series here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ad_engine.nn import positive_int
from ad_engine.reverse import grad

LATTICE_AXES = (0, 1)


# -- the model --------------------------------------------------------------------------

def plaquette_angles(theta):
    """theta_P(x) = theta_1(x) + theta_2(x + 1) - theta_1(x + 2) - theta_2(x), shape (L, L, ...)."""
    t1, t2 = theta[0], theta[1]
    return t1 + np.roll(t2, -1, axis=0) - np.roll(t1, -1, axis=1) - t2


def wilson_action(theta, beta):
    """Wilson action S = beta sum_P (1 - cos theta_P) of links ``theta`` (shape (2, L, L)):
    a number, or one per replica for theta of shape (2, L, L, R). Plain numpy, so
    ``grad`` differentiates it."""
    t1, t2 = theta[0], theta[1]
    plaquette = t1 + np.roll(t2, -1, axis=0) - np.roll(t1, -1, axis=1) - t2
    return beta * np.sum(1 - np.cos(plaquette), axis=LATTICE_AXES)


def total_action(theta, beta):
    """The sum of the Wilson actions of all replicas (a scalar, for ``grad``)."""
    return np.sum(wilson_action(theta, beta))


def reverse_mode_force(theta, beta):
    """F = -dS/dtheta by reverse mode: one backward sweep through ``wilson_action``.

    For replicas the gradient of the summed action is each replica's own force,
    since replica r's action depends on replica r's links only."""
    return -grad(total_action)(theta, beta)


def staple_force(theta, beta):
    """F = -dS/dtheta derived by hand: each link lies in two plaquettes,

    dS/dtheta_1(x) = beta [sin theta_P(x) - sin theta_P(x - 2)],
    dS/dtheta_2(x) = beta [sin theta_P(x - 1) - sin theta_P(x)].
    """
    s = np.sin(plaquette_angles(theta))
    force_1 = np.roll(s, 1, axis=1) - s
    force_2 = s - np.roll(s, 1, axis=0)
    return beta * np.stack([force_1, force_2])


def mean_plaquette(theta):
    """P-bar = (1/N_P) sum_P cos theta_P of each configuration."""
    return np.mean(np.cos(plaquette_angles(theta)), axis=LATTICE_AXES)


def wrap_angle(angle):
    """The angle mapped to [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


def topological_charge(theta):
    """Q = (1/2 pi) sum_P wrap(theta_P), an int (an int array for replicas).

    On the torus every link enters two plaquettes with opposite signs, so
    sum_P theta_P = 0 and the wrapped sum is 2 pi times an integer; it is rounded
    to remove the round-off."""
    raw = np.sum(wrap_angle(plaquette_angles(theta)), axis=LATTICE_AXES) / (2 * np.pi)
    charge = np.rint(raw)
    return charge.astype(int) if np.ndim(charge) else int(charge)


# -- Hybrid Monte Carlo -----------------------------------------------------------------

def kinetic_energy(momentum):
    """T = sum p^2 / 2 over the links of each configuration."""
    return 0.5 * np.sum(momentum**2, axis=(0,) + tuple(a + 1 for a in LATTICE_AXES))


def leapfrog(theta, momentum, beta, step, n_steps, force=reverse_mode_force):
    """Leapfrog (kick-drift-kick) over ``n_steps`` steps of size ``step``; returns the new
    (theta, momentum). Reversible: flipping the momentum and integrating again returns
    to the start."""
    n_steps = positive_int(n_steps, "n_steps")
    momentum = momentum + 0.5 * step * force(theta, beta)
    for i in range(n_steps):
        theta = theta + step * momentum
        kick = step if i < n_steps - 1 else 0.5 * step
        momentum = momentum + kick * force(theta, beta)
    return theta, momentum


@dataclass
class HMCRun:
    """The history of an HMC run: per trajectory and replica (shape (n_traj, R), or
    (n_traj,) for one configuration) the mean plaquette, the topological charge,
    Delta H and whether the proposal was accepted; ``theta``: the last configuration."""

    plaquette: np.ndarray
    charge: np.ndarray
    delta_h: np.ndarray
    accepted: np.ndarray
    theta: np.ndarray

    @property
    def acceptance(self) -> float:
        """The fraction of accepted trajectories."""
        return float(np.mean(self.accepted))


STORED_RESOLUTION = 2.0**-20  # rad: the grid on which hmc stores accepted links


def hmc(theta, beta, step, n_steps, n_traj, rng, force=reverse_mode_force, n_therm=0,
        resolution=STORED_RESOLUTION):
    """Run ``n_therm + n_traj`` HMC trajectories from ``theta`` and return an
    :class:`HMCRun` of the last ``n_traj``.

    Each trajectory: momenta p ~ N(0, 1), leapfrog with ``n_steps`` steps of size
    ``step``, accept the end point with probability min(1, exp(-Delta H)),
    H = p^2/2 + S. ``rng`` is a numpy Generator (or a seed); ``force(theta, beta)``
    gives -dS/dtheta; ``beta`` and ``step`` may be arrays with one value per replica.

    Accepted links are stored rounded to multiples of ``resolution`` (2^-20 rad; 0 keeps
    them as they are). Molecular dynamics is chaotic: a difference in the last bit of a
    vectorised sin or cos (which differs between CPUs) grows by orders of magnitude
    over a hundred trajectories, and the chains of two machines would part. Rounding
    the stored links erases such differences after every trajectory; it changes the
    distribution by terms of order ``resolution``, far below any statistical error.
    """
    rng = np.random.default_rng(rng)
    theta = np.array(theta, dtype=float)
    n_traj, n_therm = positive_int(n_traj, "n_traj"), int(n_therm)
    replicas = theta.shape[3:]
    history = {name: [] for name in ("plaquette", "charge", "delta_h", "accepted")}
    for n in range(n_therm + n_traj):
        momentum = rng.standard_normal(theta.shape)
        start_h = kinetic_energy(momentum) + wilson_action(theta, beta)
        new_theta, new_momentum = leapfrog(theta, momentum, beta, step, n_steps, force)
        delta_h = kinetic_energy(new_momentum) + wilson_action(new_theta, beta) - start_h
        accept = rng.uniform(size=replicas) < np.exp(-delta_h)
        new_theta = wrap_angle(new_theta)
        if resolution:
            new_theta = np.rint(new_theta / resolution) * resolution
        theta = np.where(accept, new_theta, theta)
        if n >= n_therm:
            for name, value in (("plaquette", mean_plaquette(theta)),
                                ("charge", topological_charge(theta)),
                                ("delta_h", delta_h), ("accepted", accept)):
                history[name].append(value)
    return HMCRun(**{name: np.array(values) for name, values in history.items()}, theta=theta)


# -- the exact answer -------------------------------------------------------------------

def bessel_i(n, x, tol=1e-17):
    """Modified Bessel function I_n(x) = sum_k (x/2)^(2k+n) / (k! (k+n)!) for integer
    n >= 0 and real x (a number or an array), summed until the terms fall below
    ``tol`` times the sum (all terms are positive for x >= 0, so the series is
    accurate to round-off; about 40 terms at x = 10)."""
    n = abs(int(n))
    x = np.asarray(x, dtype=float)
    half = x / 2
    term = half**n / math.factorial(n)
    total = term.copy()
    k = 0
    while np.any(np.abs(term) > tol * np.abs(total)):
        k += 1
        term = term * half * half / (k * (k + n))
        total = total + term
        if k > 1000:
            raise ValueError(f"bessel_i: the series did not converge for |x| up to "
                             f"{np.max(np.abs(x)):g}; use it for |x| below about 100")
    return total if total.ndim else float(total)


def plaquette_exact(beta):
    """<cos theta_P> = I_1(beta) / I_0(beta) in two dimensions (infinite volume)."""
    return bessel_i(1, beta) / bessel_i(0, beta)


def plaquette_slope_exact(beta):
    """d<cos theta_P>/dbeta = 1 - P/beta - P^2 with P = I_1/I_0 (from I_1' = I_0 - I_1/beta)."""
    p = plaquette_exact(beta)
    return 1 - p / beta - p * p


def plaquette_curvature_exact(beta):
    """d^2<cos theta_P>/dbeta^2 = -P'/beta + P/beta^2 - 2 P P' (P' from plaquette_slope_exact)."""
    p, slope = plaquette_exact(beta), plaquette_slope_exact(beta)
    return -slope / beta + p / beta**2 - 2 * p * slope


def plaquette_torus(beta, size, n_max=20):
    """<cos theta_P> on a size x size torus, from Z = sum_n I_n(beta)^(size^2):
    <cos theta_P> = sum_n I_n^(V-1) I_n' / sum_n I_n^V, I_n' = (I_(n-1) + I_(n+1))/2.
    The terms are divided by I_0^V first, so nothing overflows."""
    volume = size * size
    i0 = bessel_i(0, beta)
    ratio = [bessel_i(n, beta) / i0 for n in range(n_max + 2)]
    numerator = denominator = 0.0
    for n in range(-n_max, n_max + 1):
        derivative = (ratio[abs(n - 1)] + ratio[abs(n + 1)]) / 2
        numerator += ratio[abs(n)] ** (volume - 1) * derivative
        denominator += ratio[abs(n)] ** volume
    return numerator / denominator


def charge_variance_exact(beta, size, n_max=60):
    """<Q^2> on a size x size torus: the wrapped plaquette angles phi are independent with
    weight exp(beta cos phi), apart from the constraint that their sum is 2 pi Q, which
    changes <Q^2> = V <phi^2> / (4 pi^2) only by terms of order (I_1/I_0)^V. From the
    Fourier series phi^2 = pi^2/3 + 4 sum_n (-1)^n cos(n phi) / n^2 on [-pi, pi]:
    <phi^2> = pi^2/3 + 4 sum_n (-1)^n I_n(beta) / (n^2 I_0(beta))."""
    i0 = bessel_i(0, beta)
    phi2 = math.pi**2 / 3 + 4 * sum((-1) ** n * bessel_i(n, beta) / (n * n * i0)
                                    for n in range(1, n_max + 1))
    return size * size * phi2 / (4 * math.pi**2)


# -- statistics with autocorrelation ----------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean with its error, from the Gamma method: ``tau_int`` is the
    integrated autocorrelation time (in trajectories) at the summation ``window``."""

    mean: float
    error: float
    tau_int: float
    tau_error: float
    window: int
    samples: int


def autocorrelation(series):
    """The normalised autocorrelation function rho(t) of ``series`` (shape (n,) or
    (n, R) for R independent replicas), averaged over the replicas, for t = 0 .. n-1."""
    a = np.asarray(series, dtype=float)
    a = a.reshape(len(a), -1)
    n = len(a)
    delta = a - a.mean()
    gamma = np.array([np.mean(delta[: n - t] * delta[t:]) for t in range(n)])
    if gamma[0] == 0:
        raise ValueError("autocorrelation: the series is constant")
    return gamma / gamma[0]


def gamma_method(series, s_factor=1.5):
    """Mean and error of ``series`` (shape (n,) or (n, R) replicas) with the Gamma method
    (U. Wolff, Comput. Phys. Commun. 156 (2004) 143): tau_int(W) = 1/2 + sum_{t<=W} rho(t),
    with the window W chosen automatically (factor ``s_factor``), and
    error^2 = 2 tau_int Var / N for N = n R measurements."""
    a = np.asarray(series, dtype=float)
    a = a.reshape(len(a), -1)
    total = a.size
    rho = autocorrelation(a)
    window, tau = len(rho) - 1, 0.5 + np.sum(rho[1:])
    running = 0.5
    for w in range(1, len(rho)):
        running += rho[w]
        if running <= 0.5:  # no correlation left
            window, tau = w, 0.5
            break
        tau_exp = s_factor / np.log((2 * running + 1) / (2 * running - 1))
        if np.exp(-w / tau_exp) - tau_exp / np.sqrt(w * total) < 0:
            window, tau = w, running
            break
    variance = np.mean((a - a.mean()) ** 2)
    error = np.sqrt(2 * tau * variance / total)
    tau_error = tau * np.sqrt(4 * (window + 0.5 - tau) / total)
    return Estimate(float(a.mean()), float(error), float(tau), float(tau_error), int(window),
                    int(total))
