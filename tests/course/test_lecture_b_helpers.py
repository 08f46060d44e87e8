"""Tests of the crossing and toy-data helpers of 06."""

import numpy as np
import pytest

import autodiff_helpers as ad


def test_crossing_temperature_interpolates_linearly():
    temperatures = np.array([1.0, 2.0, 3.0])
    assert ad.crossing_temperature(temperatures, [1.0, 0.75, 0.25]) == pytest.approx(2.5)
    assert ad.crossing_temperature(temperatures, [1.0, 0.75, 0.25], level=0.7) == pytest.approx(2.1)
    with pytest.raises(ValueError, match="start above"):
        ad.crossing_temperature(temperatures, [0.2, 0.1, 0.0])


def test_bootstrap_crossing_spreads_with_the_chains_and_is_reproducible():
    rng = np.random.default_rng(1)
    temperatures = np.linspace(1.0, 3.0, 21)
    mean = 1 / (1 + np.exp((temperatures - 2.0) / 0.2))
    chains = np.clip(mean[:, None] + 0.1 * rng.normal(size=(21, 50)), 0, 1)
    samples = ad.bootstrap_crossing(temperatures, chains, n_resamples=100, rng=3)
    assert samples.shape == (100,) and np.array_equal(samples, ad.bootstrap_crossing(
        temperatures, chains, n_resamples=100, rng=3))
    assert abs(samples.mean() - 2.0) < 0.05 and 0.001 < samples.std() < 0.05
    identical = np.repeat(mean[:, None], 50, axis=1)  # no spread between chains: no error
    assert np.ptp(ad.bootstrap_crossing(temperatures, identical, n_resamples=20)) < 1e-12


def test_two_spirals_radius_and_labels():
    points, labels = ad.two_spirals(2000, 0.0, np.random.default_rng(0))
    radius = np.hypot(*points.T)
    assert points.shape == (2000, 2) and set(labels.tolist()) == {0, 1}
    assert 2 * np.sqrt(0.05) <= radius.min() < 0.5 and 1.95 < radius.max() <= 2.0
