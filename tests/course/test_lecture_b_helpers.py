"""Tests of the fit, extrapolation, crossing and toy-data helpers of 06 and 08."""

import numpy as np
import pytest

import autodiff_helpers as ad


def test_covariance_of_a_straight_line_fit_is_the_textbook_one():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    sigma = 0.5
    jacobian = np.column_stack([np.ones_like(x), x]) / sigma  # r = (a + b x - y) / sigma
    covariance = ad.least_squares_covariance(jacobian)
    n, sx, sxx = len(x), x.sum(), (x**2).sum()
    delta = n * sxx - sx**2
    expected = sigma**2 / delta * np.array([[sxx, -sx], [-sx, n]])
    assert np.allclose(covariance, expected, rtol=1e-14, atol=0)
    rho = ad.correlation_matrix(covariance)
    assert np.allclose(np.diag(rho), 1.0) and rho[0, 1] == pytest.approx(-sx / np.sqrt(n * sxx))


def test_covariance_refuses_fewer_residuals_than_parameters():
    with pytest.raises(ValueError, match="at least as many residuals"):
        ad.least_squares_covariance(np.ones((2, 3)))


def test_richardson_cancels_the_leading_error():
    exact, c = 1.25, 0.3
    coarse, fine = exact + c * 0.1**2, exact + c * 0.05**2
    assert ad.richardson_extrapolate(coarse, fine) == pytest.approx(exact, abs=1e-15)
    assert ad.richardson_extrapolate(exact + c * 0.3, exact + c * 0.1, order=1, ratio=3) == pytest.approx(exact)


def test_spin_weighted_centre_of_the_1d_charmonium_triplet():
    centre = ad.spin_weighted_centre([3773.7, 3823.5, 3842.7], [1, 2, 3])
    assert centre == pytest.approx((3 * 3773.7 + 5 * 3823.5 + 7 * 3842.7) / 15)
    assert 3821 < centre < 3823


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
