"""Tests of the checkerboard Metropolis sampler of the 2-D Ising model (ad_course/ising.py)."""

import numpy as np
import pytest

import autodiff_helpers as ad


def all_configurations(L):
    """Every one of the 2**(L*L) configurations of an L x L lattice, shape (2**(L*L), L, L)."""
    n = L * L
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    return (2 * bits - 1).reshape(-1, L, L).astype(np.int8)


def enumerated_averages(L, T):
    """Exact <e> (energy per spin) and <m^2> by summing the Boltzmann weights of all states."""
    states = all_configurations(L)
    e, m = ad.ising_energy(states), ad.ising_magnetization(states)
    weights = np.exp(-(e - e.min()) * L * L / T)
    weights /= weights.sum()
    return weights @ e, weights @ (m * m)


def log_partition_function(L, beta, field=0.0):
    """ln Z of the periodic L x L lattice from the row-to-row transfer matrix, Z = Tr T^L,
    with H = -sum_<ij> s_i s_j - field * sum_i s_i."""
    rows = (2 * ((np.arange(2**L)[:, None] >> np.arange(L)) & 1) - 1).astype(float)
    within = (rows * np.roll(rows, 1, axis=1)).sum(axis=1)  # bonds inside a row
    between = rows @ rows.T  # vertical bonds between two rows
    magnetization = rows.sum(axis=1)
    exponent = beta * (between + 0.5 * (within[:, None] + within[None, :])
                       + 0.5 * field * (magnetization[:, None] + magnetization[None, :]))
    shift = exponent.max()
    eigenvalues = np.linalg.eigvalsh(np.exp(exponent - shift))
    return L * shift + np.log(np.sum(eigenvalues.astype(float) ** L))


def exact_averages(L, T, h=1e-4):
    """Exact <e> = -(1/N) d lnZ/d beta and <m^2> = (1/(beta N)^2) d^2 lnZ/d field^2 at zero field,
    the derivatives by central differences of the transfer-matrix ln Z."""
    beta, n = 1.0 / T, L * L
    d_beta = (log_partition_function(L, beta + h) - log_partition_function(L, beta - h)) / (2 * h)
    d2_field = (log_partition_function(L, beta, h) - 2 * log_partition_function(L, beta)
                + log_partition_function(L, beta, -h)) / h**2
    return -d_beta / n, d2_field / (beta * n) ** 2


@pytest.mark.parametrize("T", [1.5, 2.5])
def test_transfer_matrix_agrees_with_enumeration(T):
    np.testing.assert_allclose(exact_averages(4, T), enumerated_averages(4, T), rtol=1e-6)


@pytest.mark.parametrize("T", [1.8, 2.3, 3.2])
def test_checkerboard_sampler_matches_the_exact_averages_on_6x6(T):
    # L = 6: each sublattice is 3 x 3, so a neighbour rolled the wrong way would show
    # (on L = 4 the sublattices are 2 x 2 and rolling by +1 or -1 is the same).
    # 2000 independent chains; error bars from the spread of the chains' time averages.
    n_chains, n_samples = 2000, 20
    spins = ad.ising_configurations(6, [T], n_chains=n_chains, n_sweeps=100, n_samples=n_samples,
                                    sample_every=2, start="random", rng=11)[0]
    e = ad.ising_energy(spins).reshape(n_samples, n_chains).mean(axis=0)
    m2 = (ad.ising_magnetization(spins) ** 2).reshape(n_samples, n_chains).mean(axis=0)
    exact_e, exact_m2 = exact_averages(6, T)
    for samples, exact in ((e, exact_e), (m2, exact_m2)):
        error = samples.std(ddof=1) / np.sqrt(n_chains)
        assert abs(samples.mean() - exact) < 4 * error, (samples.mean(), exact, error)


def test_seeded_runs_are_reproducible():
    first = ad.ising_configurations(8, [1.5, 3.0], n_chains=5, n_sweeps=20, rng=3)
    again = ad.ising_configurations(8, [1.5, 3.0], n_chains=5, n_sweeps=20, rng=3)
    other = ad.ising_configurations(8, [1.5, 3.0], n_chains=5, n_sweeps=20, rng=4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (2, 5, 8, 8) and first.dtype == np.int8
    spins = np.ones((4, 8, 8), dtype=np.int8)
    np.testing.assert_array_equal(ad.ising_metropolis(spins, 2.0, 10, rng=1),
                                  ad.ising_metropolis(spins, 2.0, 10, rng=1))


def test_low_temperature_is_ordered_and_high_temperature_is_not():
    spins = ad.ising_configurations(16, [1.0, 3.5], n_chains=100, n_sweeps=200, rng=0)
    m = np.abs(ad.ising_magnetization(spins)).mean(axis=1)
    e = ad.ising_energy(spins).mean(axis=1)
    assert m[0] > 0.99 and m[1] < 0.2
    # infinite lattice at T = 1: e = -1.99718 (Onsager); the L = 16 value differs by far less
    assert e[0] == pytest.approx(-1.997, abs=0.005)
    # both ordered states occur: the start picks the sign of each chain at random
    signs = np.sign(ad.ising_magnetization(spins[0]))
    assert 20 < (signs > 0).sum() < 80


def test_a_random_start_at_high_temperature_equals_an_ordered_start():
    kwargs = dict(n_chains=400, n_sweeps=100, rng=5)
    hot = ad.ising_configurations(8, [3.0], start="random", **kwargs)
    cold = ad.ising_configurations(8, [3.0], start="ordered", **kwargs)
    e_hot, e_cold = ad.ising_energy(hot).ravel(), ad.ising_energy(cold).ravel()
    error = np.hypot(e_hot.std(), e_cold.std()) / np.sqrt(400)
    assert abs(e_hot.mean() - e_cold.mean()) < 4 * error


def test_zero_temperature_limit_never_raises_the_energy():
    spins = np.ones((3, 6, 6), dtype=np.int8)
    np.testing.assert_array_equal(ad.ising_metropolis(spins, 0.05, 20, rng=0), spins)
    np.testing.assert_array_equal(ad.ising_metropolis(spins, 1.0, 0), spins)


def test_onsager_critical_temperature():
    assert ad.ONSAGER_TC == pytest.approx(2.269185314213022, rel=1e-15)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="even L, got L=5"):
        ad.ising_configurations(5, [2.0], n_chains=2, n_sweeps=1)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., L, L\) with L even, got shape \(3, 3\)"):
        ad.ising_metropolis(np.ones((3, 3)), 2.0, 1)
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        ad.ising_metropolis(np.zeros((4, 4)), 2.0, 1)
    with pytest.raises(ValueError, match="temperatures must be positive"):
        ad.ising_configurations(4, [2.0, -1.0], n_chains=2, n_sweeps=1)
    with pytest.raises(ValueError, match=r"do not broadcast to the batch shape \(5,\)"):
        ad.ising_metropolis(np.ones((5, 4, 4)), [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="start must be"):
        ad.ising_configurations(4, [2.0], n_chains=2, n_sweeps=1, start="hot")
