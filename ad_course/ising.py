"""The 2-D Ising model: checkerboard Metropolis over many chains at once (notebook 06).

H = -J sum_<ij> s_i s_j on an L x L periodic lattice (J = 1, k_B = 1). The
sites with i + j even have only odd neighbours and vice versa, so each half
can be updated at once. With L even, the lattice splits into four
sublattices A = s[0::2, 0::2], B = s[0::2, 1::2], C = s[1::2, 0::2],
D = s[1::2, 1::2]; A and D have only B and C as neighbours.
"""

from __future__ import annotations

import numpy as np

from ad_engine.nn import positive_int

ONSAGER_TC = 2.0 / np.log(1.0 + np.sqrt(2.0))  # exact critical temperature, 2.269185...


def ising_energy(spins):
    """Energy per spin e = -(1/L^2) sum_i s_i (s_right + s_down) of each configuration
    in ``spins`` (shape (..., L, L), periodic boundaries)."""
    s = np.asarray(spins, dtype=float)
    bonds = s * (np.roll(s, -1, axis=-1) + np.roll(s, -1, axis=-2))
    return -bonds.mean(axis=(-2, -1))


def ising_magnetization(spins):
    """Magnetization per spin m = (1/L^2) sum_i s_i of each configuration (shape (..., L, L))."""
    return np.asarray(spins, dtype=float).mean(axis=(-2, -1))


def metropolis_update(s, neighbours, two_beta, rng):
    """Flip each spin of ``s`` (in place) with probability min(1, exp(-2 s h / T)), h = neighbours."""
    local = s * neighbours
    accept = rng.random(s.shape, dtype=np.float32) < np.exp(two_beta * -local.astype(np.float32))
    np.negative(s, out=s, where=accept)


def checkerboard_sweeps(parts, two_beta, n_sweeps, rng):
    """``n_sweeps`` checkerboard sweeps over the sublattices ``parts`` = (A, B, C, D), in place."""
    a, b, c, d = parts
    roll = np.roll
    for _ in range(n_sweeps):
        metropolis_update(a, b + roll(b, 1, -1) + c + roll(c, 1, -2), two_beta, rng)
        metropolis_update(d, c + roll(c, -1, -1) + b + roll(b, -1, -2), two_beta, rng)
        metropolis_update(b, a + roll(a, -1, -1) + d + roll(d, 1, -2), two_beta, rng)
        metropolis_update(c, d + roll(d, 1, -1) + a + roll(a, -1, -2), two_beta, rng)


_SUBLATTICES = ((0, 0), (0, 1), (1, 0), (1, 1))  # A, B, C, D: offsets (row, column)


def _split(spins):
    return [np.ascontiguousarray(spins[..., i::2, j::2]) for i, j in _SUBLATTICES]


def _join(parts):
    a = parts[0]
    spins = np.empty(a.shape[:-2] + (2 * a.shape[-2], 2 * a.shape[-1]), dtype=np.int8)
    for part, (i, j) in zip(parts, _SUBLATTICES):
        spins[..., i::2, j::2] = part
    return spins


def _two_beta(temperatures, batch_shape):
    temperatures = np.asarray(temperatures, dtype=float)
    if np.any(~(temperatures > 0)):
        raise ValueError(f"temperatures must be positive, got {temperatures}")
    try:
        two_beta = np.broadcast_to(2.0 / temperatures, batch_shape)
    except ValueError:
        raise ValueError(
            f"temperatures of shape {temperatures.shape} do not broadcast to the batch shape "
            f"{batch_shape} of the configurations"
        ) from None
    return two_beta.astype(np.float32)[..., None, None]


def ising_metropolis(spins, temperatures, n_sweeps, rng=0):
    """Return the configurations after ``n_sweeps`` checkerboard Metropolis sweeps.

    ``spins``: integer array of +-1 of shape (..., L, L), L even, periodic
    boundaries, one independent chain per configuration; ``temperatures``
    broadcast to the batch shape ``spins.shape[:-2]``. One sweep proposes a
    flip of every spin once (half the lattice at a time) and accepts it with
    probability min(1, exp(-2 s_i h_i / T)). ``rng`` is a seed or a Generator.
    """
    spins = np.asarray(spins)
    if spins.ndim < 2 or spins.shape[-1] != spins.shape[-2] or spins.shape[-1] % 2:
        raise ValueError(f"spins must have shape (..., L, L) with L even, got shape {spins.shape}")
    if not np.all(np.abs(spins) == 1):
        raise ValueError("spins must all be +1 or -1")
    two_beta = _two_beta(temperatures, spins.shape[:-2])
    parts = _split(spins.astype(np.int8))
    checkerboard_sweeps(parts, two_beta, n_sweeps, np.random.default_rng(rng))
    return _join(parts)


def ising_configurations(L, temperatures, n_chains, n_sweeps, n_samples=1, sample_every=10,
                         start="ordered", rng=0):
    """Equilibrium configurations of the 2-D Ising model at each temperature.

    Runs ``n_chains`` independent chains per temperature (all at once), first
    ``n_sweeps`` sweeps to equilibrate, then keeps ``n_samples`` snapshots
    ``sample_every`` sweeps apart. ``start="ordered"`` begins each chain with
    all spins +1 or all -1 (random sign), ``"random"`` with independent +-1.
    Returns int8 spins of shape (len(temperatures), n_samples * n_chains, L, L),
    snapshots in time order (the first n_chains are the first snapshot).
    """
    L = positive_int(L, "L")
    if L % 2:
        raise ValueError(f"the checkerboard update needs an even L, got L={L}")
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=float))
    shape = (len(temperatures), n_chains)
    rng = np.random.default_rng(rng)
    if start == "ordered":
        spins = np.broadcast_to(rng.choice(np.array([-1, 1], np.int8), size=shape)[..., None, None],
                                shape + (L, L))
    elif start == "random":
        spins = rng.choice(np.array([-1, 1], np.int8), size=shape + (L, L))
    else:
        raise ValueError(f"start must be 'ordered' or 'random', got {start!r}")
    two_beta = _two_beta(temperatures[:, None], shape)
    parts = _split(spins)
    checkerboard_sweeps(parts, two_beta, n_sweeps, rng)
    snapshots = []
    for k in range(n_samples):
        if k:
            checkerboard_sweeps(parts, two_beta, sample_every, rng)
        snapshots.append(_join(parts))
    return np.concatenate(snapshots, axis=1)


def crossing_temperature(temperatures, probability, level=0.5):
    """Return the temperature at which ``probability`` (decreasing with T) first falls below
    ``level``, by linear interpolation between the two temperatures around the crossing."""
    temperatures = np.asarray(temperatures, dtype=float)
    probability = np.asarray(probability, dtype=float)
    below = np.flatnonzero(probability < level)
    if below.size == 0 or below[0] == 0:
        raise ValueError(f"the probability must start above {level} and fall below it")
    k = below[0]
    t0, t1, p0, p1 = temperatures[k - 1], temperatures[k], probability[k - 1], probability[k]
    return float(t0 + (level - p0) * (t1 - t0) / (p1 - p0))


def bootstrap_crossing(temperatures, probabilities, n_resamples=200, level=0.5, rng=0):
    """Return (crossing temperatures of ``n_resamples`` bootstrap samples) over chains.

    ``probabilities[k, c]`` is the network's mean P(ordered) on chain c at temperature k.
    Each sample draws the chains with replacement (the same draw at every temperature,
    since a chain is one independent Monte Carlo history), averages over them and
    finds where the average crosses ``level``. Their standard deviation is the
    statistical error of the crossing.
    """
    rng = np.random.default_rng(rng)
    probabilities = np.asarray(probabilities, dtype=float)
    n_chains = probabilities.shape[1]
    samples = []
    for _ in range(n_resamples):
        chosen = rng.integers(0, n_chains, n_chains)
        samples.append(crossing_temperature(temperatures, probabilities[:, chosen].mean(axis=1), level))
    return np.array(samples)
