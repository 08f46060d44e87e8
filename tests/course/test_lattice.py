"""The U(1) lattice model and HMC (ad_course/lattice.py) and the exercise checkers of
notebook 09 (ad_course/checkers/lattice.py)."""

import math

import numpy as np
import pytest
import sympy
from exercise_cases import wrapped_link_force

import autodiff_helpers as ad
from ad_course.lattice import wrap_angle


def random_links(seed, size=6, replicas=()):
    return np.random.default_rng(seed).uniform(-np.pi, np.pi, (2, size, size) + tuple(replicas))


# -- the model --------------------------------------------------------------------------

def test_action_matches_a_loop_over_plaquettes():
    theta = random_links(1, size=5)
    beta, size, total = 1.7, 5, 0.0
    for x in range(size):
        for y in range(size):
            angle = (theta[0, x, y] + theta[1, (x + 1) % size, y]
                     - theta[0, x, (y + 1) % size] - theta[1, x, y])
            total += beta * (1 - math.cos(angle))
    assert ad.wilson_action(theta, beta) == pytest.approx(total, rel=1e-13)


def test_action_is_gauge_invariant_and_periodic():
    theta, beta = random_links(2), 2.0
    alpha = np.random.default_rng(3).uniform(-np.pi, np.pi, (6, 6))  # theta_mu(x) + a(x) - a(x + mu)
    gauged = theta + np.stack([alpha - np.roll(alpha, -1, axis=0), alpha - np.roll(alpha, -1, axis=1)])
    assert ad.wilson_action(gauged, beta) == pytest.approx(ad.wilson_action(theta, beta), rel=1e-12)
    assert ad.wilson_action(theta + 2 * np.pi, beta) == pytest.approx(ad.wilson_action(theta, beta))


@pytest.mark.parametrize("replicas", [(), (3,)])
def test_reverse_mode_force_equals_the_staple_force(replicas):
    theta = random_links(4, replicas=replicas)
    beta = 1.3 if not replicas else np.array([0.5, 1.0, 4.0])
    assert np.allclose(ad.reverse_mode_force(theta, beta), ad.staple_force(theta, beta),
                       rtol=0, atol=1e-12)


def test_staple_force_against_central_differences():
    theta, beta, h = random_links(5, size=4), 0.9, 1e-6
    force = ad.staple_force(theta, beta)
    for index in [(0, 0, 0), (1, 3, 0), (0, 2, 3), (1, 3, 3)]:
        up, down = theta.copy(), theta.copy()
        up[index] += h
        down[index] -= h
        derivative = (ad.wilson_action(up, beta) - ad.wilson_action(down, beta)) / (2 * h)
        assert force[index] == pytest.approx(-derivative, abs=1e-8)


def test_replicas_are_independent_configurations():
    theta = random_links(6, replicas=(2,))
    betas = np.array([0.5, 3.0])
    for r in range(2):
        assert ad.wilson_action(theta, betas)[r] == pytest.approx(ad.wilson_action(theta[..., r], betas[r]))
        assert np.array_equal(ad.staple_force(theta, betas)[..., r],
                              ad.staple_force(theta[..., r], betas[r]))


def test_topological_charge_is_an_integer_and_counts_windings():
    assert ad.topological_charge(np.zeros((2, 8, 8))) == 0
    theta = random_links(7, size=8, replicas=(4,))
    charge = ad.topological_charge(theta)
    raw = np.sum(wrap_angle(ad.plaquette_angles(theta)), axis=(0, 1)) / (2 * np.pi)
    assert charge.dtype.kind == "i" and np.allclose(raw, charge, atol=1e-9)
    # charge 1: every plaquette carries the flux B = 2 pi / V; t2 = B x and, on the last
    # column x = L - 1, t1 = -B L y close the torus (one plaquette holds B - 2 pi)
    size = 8
    flux = 2 * np.pi / size**2
    t2 = flux * np.broadcast_to(np.arange(size)[:, None], (size, size)).astype(float)
    t1 = np.zeros((size, size))
    t1[size - 1, :] = -flux * size * np.arange(size)
    links = np.stack([t1, t2])
    assert np.allclose(np.cos(ad.plaquette_angles(links)), np.cos(flux))
    assert ad.topological_charge(links) == 1 and ad.topological_charge(-links) == -1
    assert isinstance(ad.topological_charge(random_links(8, size=4)), int)


# -- HMC ----------------------------------------------------------------------------------

def test_leapfrog_is_reversible_and_its_energy_error_falls_like_step_squared():
    theta = random_links(10, size=8, replicas=(2,))
    momentum = np.random.default_rng(11).standard_normal(theta.shape)
    beta = 2.0
    end, p_end = ad.leapfrog(theta, momentum, beta, 0.1, 10)
    back, p_back = ad.leapfrog(end, -p_end, beta, 0.1, 10)
    assert np.max(np.abs(back - theta)) < 1e-12 and np.max(np.abs(p_back + momentum)) < 1e-12

    def energy_error(n):
        start = ad.kinetic_energy(momentum) + ad.wilson_action(theta, beta)
        t, p = ad.leapfrog(theta, momentum, beta, 1.0 / n, n)
        return np.abs(ad.kinetic_energy(p) + ad.wilson_action(t, beta) - start)

    ratio = energy_error(40) / energy_error(80)
    assert np.all((3.5 < ratio) & (ratio < 4.5))


def test_leapfrog_uses_the_force_it_is_given():
    theta, momentum = np.zeros((2, 4, 4)), np.ones((2, 4, 4))
    end, p_end = ad.leapfrog(theta, momentum, 1.0, 0.5, 3, force=lambda t, b: np.zeros_like(t))
    assert np.allclose(end, 1.5) and np.allclose(p_end, 1.0)  # free motion
    with pytest.raises(ValueError, match="n_steps"):
        ad.leapfrog(theta, momentum, 1.0, 0.5, 0)


def test_hmc_is_seeded_and_samples_the_exact_plaquette():
    betas = np.repeat([1.0, 3.0], 4)
    runs = [ad.hmc(np.zeros((2, 8, 8, 8)), betas, 0.1, 10, 60, 3, force=ad.staple_force,
                   n_therm=40) for _ in range(2)]
    assert np.array_equal(runs[0].plaquette, runs[1].plaquette)
    run = runs[0]
    assert run.plaquette.shape == run.charge.shape == run.delta_h.shape == (60, 8)
    assert 0.7 < run.acceptance <= 1
    for i, beta in enumerate((1.0, 3.0)):
        estimate = ad.gamma_method(run.plaquette[:, 4 * i: 4 * i + 4])
        assert abs(estimate.mean - ad.plaquette_exact(beta)) < 4 * estimate.error
    assert abs(np.mean(np.exp(-run.delta_h)) - 1) < 0.05  # Creutz


def test_hmc_stores_links_on_its_grid_and_without_it_when_asked():
    run = ad.hmc(random_links(12, size=4), 1.0, 0.1, 5, 3, 0, force=ad.staple_force)
    grid = run.theta / ad.STORED_RESOLUTION
    assert np.array_equal(grid, np.rint(grid)) and np.all(np.abs(run.theta) <= np.pi + ad.STORED_RESOLUTION)
    raw = ad.hmc(random_links(12, size=4), 1.0, 0.1, 5, 3, 0, force=ad.staple_force, resolution=0)
    assert not np.array_equal(raw.theta / ad.STORED_RESOLUTION, np.rint(raw.theta / ad.STORED_RESOLUTION))


def test_hmc_rejects_everything_when_the_energy_error_is_huge():
    theta = random_links(13, size=4)
    run = ad.hmc(theta, 8.0, 2.5, 4, 5, 1, force=ad.staple_force)  # eps omega >> 2: unstable
    assert run.acceptance == 0 and np.array_equal(run.theta, theta)


# -- the exact answer ---------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("x", [0.0, 0.3, 1.0, 4.0, 12.0, 40.0])
def test_bessel_series_against_sympy(n, x):
    reference = float(sympy.besseli(n, sympy.Rational(x)).evalf(30))  # at the exact value of x
    assert ad.bessel_i(n, x) == pytest.approx(reference, rel=1e-14, abs=1e-300)


def test_bessel_series_on_arrays_and_the_quoted_plaquettes():
    xs = np.array([0.5, 1.0, 2.0])
    assert np.allclose(ad.bessel_i(1, xs), [ad.bessel_i(1, x) for x in xs], rtol=1e-15)
    assert [round(ad.plaquette_exact(b), 4) for b in (1.0, 2.0, 4.0)] == [0.4464, 0.6978, 0.8635]


def test_plaquette_derivatives_against_differences_of_the_exact_curve():
    h = 1e-4
    for beta in (0.5, 1.0, 2.0, 4.0):
        slope = (ad.plaquette_exact(beta + h) - ad.plaquette_exact(beta - h)) / (2 * h)
        curvature = (ad.plaquette_slope_exact(beta + h) - ad.plaquette_slope_exact(beta - h)) / (2 * h)
        assert ad.plaquette_slope_exact(beta) == pytest.approx(slope, rel=1e-7)
        assert ad.plaquette_curvature_exact(beta) == pytest.approx(curvature, rel=1e-6)


def test_torus_plaquette_approaches_the_infinite_volume_value():
    assert ad.plaquette_torus(4.0, 16) == pytest.approx(ad.plaquette_exact(4.0), rel=1e-15)
    small = ad.plaquette_torus(4.0, 2)  # 4 plaquettes: the constraint matters
    assert abs(small - ad.plaquette_exact(4.0)) > 1e-3


# -- statistics ---------------------------------------------------------------------------

def ar1(phi, n, replicas, seed):
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, replicas))
    series = np.empty_like(noise)
    series[0] = noise[0] / np.sqrt(1 - phi**2)
    for t in range(1, n):
        series[t] = phi * series[t - 1] + noise[t]
    return series


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8])
def test_gamma_method_finds_the_tau_of_an_ar1_process(phi):
    exact = 0.5 * (1 + phi) / (1 - phi)  # tau_int of x_t = phi x_(t-1) + noise
    estimate = ad.gamma_method(ar1(phi, 4000, 8, seed=int(10 * phi)))
    assert abs(estimate.tau_int - exact) < 3 * estimate.tau_error + 0.05
    # the error is that of the mean over N / (2 tau) independent samples
    variance = 1 / (1 - phi**2)
    assert estimate.error == pytest.approx(np.sqrt(2 * exact * variance / 32000), rel=0.15)


def test_gamma_method_error_covers_the_spread_of_means():
    means = [ad.gamma_method(ar1(0.8, 500, 2, seed=s)) for s in range(40)]
    spread = np.std([m.mean for m in means])
    assert spread == pytest.approx(np.mean([m.error for m in means]), rel=0.3)


def test_autocorrelation_refuses_a_constant_series():
    with pytest.raises(ValueError, match="constant"):
        ad.autocorrelation(np.ones(10))


# -- the exercise checkers ------------------------------------------------------------------

def link_force_from(formula):
    """A student's link force from a formula in the sines of the plaquettes."""
    def link_force(theta, beta, mu, x, y):
        size = theta.shape[1]
        s = np.sin(ad.plaquette_angles(theta))
        return formula(s, beta, mu, x, y, size)
    return link_force


def reference(s, b, mu, x, y, *_):
    """-dS/dtheta_mu(x, y) by hand from the sines s of the plaquettes, which contain the
    link at (x, y) and the one below it, each direction wrapped with its own length."""
    size_1, size_2 = s.shape[:2]
    if mu == 0:
        return b * (s[x, (y - 1) % size_2] - s[x, y])
    return b * (s[x, y] - s[(x - 1) % size_1, y])


reference_link_force = link_force_from(reference)


def test_link_force_checker_accepts_the_force_by_hand():
    verdict = ad.check_link_force(reference_link_force)
    assert verdict.ok and "30 links" in verdict.message
    for mu in (0, 1):  # the same as the library's force (which the answer may not call)
        theta = np.random.default_rng(mu).uniform(-np.pi, np.pi, (2, 4, 6))
        assert reference_link_force(theta, 1.3, mu, 3, 5) == pytest.approx(
            ad.staple_force(theta, 1.3)[mu, 3, 5], abs=1e-14)


@pytest.mark.parametrize("formula, hint", [
    (lambda s, b, mu, x, y, L: -reference(s, b, mu, x, y, L), "the sign is flipped"),
    (lambda s, b, mu, x, y, L: reference(s, b, mu, x, y, L) / b, "the factor beta is missing"),
    (lambda s, b, mu, x, y, L: b * (-s[x, y] if mu == 0 else s[x, y]), "only one plaquette"),
    (lambda s, b, mu, x, y, L: b * (s[x, (y + 1) % L] - s[x, y] if mu == 0
                                    else s[x, y] - s[(x + 1) % L, y]), "the one ahead"),
    (lambda s, b, mu, x, y, L: b * (s[(x - 1) % L, y] - s[x, y] if mu == 0
                                    else s[x, y] - s[x, (y - 1) % L]), "wrong direction"),
    (lambda s, b, mu, x, y, L: s, "one number for one link"),
    (lambda s, b, mu, x, y, L: 0.5 * reference(s, b, mu, x, y, L), "expected -dS/dtheta"),
])
def test_link_force_checker_names_typical_mistakes(formula, hint):
    verdict = ad.check_link_force(link_force_from(formula))
    assert not verdict.ok and hint in verdict.message, verdict.message




def test_link_force_checker_names_a_missing_periodic_wrap():
    def plaquette(theta, x, y):  # theta_P(x, y) from the links, without % L
        return theta[0, x, y] + theta[1, x + 1, y] - theta[0, x, y + 1] - theta[1, x, y]

    def link_force(theta, beta, mu, x, y):
        if mu == 0:
            return beta * (np.sin(plaquette(theta, x, y - 1)) - np.sin(plaquette(theta, x, y)))
        return beta * (np.sin(plaquette(theta, x, y)) - np.sin(plaquette(theta, x - 1, y)))

    verdict = ad.check_link_force(link_force)
    assert not verdict.ok and "IndexError" in verdict.message and "(x + 1) % L" in verdict.message


def one_length_link_force(axis):
    return wrapped_link_force(lambda theta: (theta.shape[axis],) * 2)


def test_link_force_checker_needs_each_direction_wrapped_with_its_own_length():
    per_axis = wrapped_link_force(lambda theta: theta.shape[1:])
    assert ad.check_link_force(per_axis).ok
    verdict = ad.check_link_force(one_length_link_force(1))  # right on 4x4 and 6x6 only
    assert not verdict.ok and "4x6 lattice" in verdict.message, verdict.message
    assert "different lengths" in verdict.message, verdict.message
    verdict = ad.check_link_force(one_length_link_force(2))
    assert not verdict.ok and "IndexError" in verdict.message and "theta.shape[2]" in verdict.message


def test_link_force_checker_recognises_a_finite_difference():
    def central_difference(theta, beta, mu, x, y):
        up, down = theta.copy(), theta.copy()
        up[mu, x, y] += 1e-5
        down[mu, x, y] -= 1e-5
        return -(ad.wilson_action(up, beta) - ad.wilson_action(down, beta)) / 2e-5

    verdict = ad.check_link_force(central_difference)
    assert not verdict.ok and "finite difference" in verdict.message, verdict.message


def test_link_force_checker_refuses_the_engine_s_own_force_however_it_is_reached():
    from ad_course import lattice
    from ad_engine.reverse import Variable
    from autodiff_helpers import grad

    def by_hand_sweep(t, beta, mu, x, y):  # reverse mode written out, as notebook 05 teaches
        leaf = Variable(t)
        ad.wilson_action(leaf, beta).backward()
        return -leaf.grad[mu, x, y]

    for through in (lambda t, beta, mu, x, y: ad.reverse_mode_force(t, beta)[mu, x, y],
                    lambda t, beta, mu, x, y: -ad.grad(ad.wilson_action)(t, beta)[mu, x, y],
                    lambda t, beta, mu, x, y: -grad(ad.wilson_action)(t, beta)[mu, x, y],
                    lambda t, beta, mu, x, y: lattice.reverse_mode_force(t, beta)[mu, x, y],
                    by_hand_sweep):
        verdict = ad.check_link_force(through)
        assert not verdict.ok and "by hand" in verdict.message, verdict.message


def test_link_force_checker_says_numpy_counts_from_zero():
    verdict = ad.check_link_force(lambda t, beta, mu, x, y: beta * t[mu + 1, x, y] * 0 + t[2, 0, 0])
    assert not verdict.ok and "theta_1 is theta[0]" in verdict.message, verdict.message


def test_link_force_checker_survives_broken_answers():
    assert "must be a function" in ad.check_link_force(3.0).message
    assert "raised ZeroDivisionError" in ad.check_link_force(lambda *args: 1 / 0).message


def test_integrator_slope_checker_without_an_integrator():
    # the right answers and the wrong integrators: tests/course/exercise_cases.py
    for wrong, hint in ((2, "leapfrog"), (5, "error of one step"), (8, "<Delta H>"),
                        (3, "local error"), (6, "not the right one")):
        verdict = ad.check_integrator_slope(wrong)
        assert not verdict.ok and hint in verdict.message
    for not_a_slope in (float("nan"), float("inf"), -float("inf")):
        verdict = ad.check_integrator_slope(4, measured=not_a_slope)
        assert not verdict.ok and "finite" in verdict.message
    assert not ad.check_integrator_slope(float("nan")).ok
    verdict = ad.check_integrator_slope(4)  # the prediction alone is not the exercise
    assert not verdict.ok and "the prediction 4 is right" in verdict.message
    assert "must be numbers" in ad.check_integrator_slope("four").message


def test_lattice_checkers_take_numbers_in_any_form_and_refuse_strings_and_complex_values():
    assert ad.check_link_force(lambda *args: np.array([reference_link_force(*args)])).ok
    assert ad.check_link_force(lambda *args: complex(reference_link_force(*args))).ok
    for wrong, hint in ((lambda *args: str(reference_link_force(*args)), "got a str"),
                        (lambda *args: reference_link_force(*args) + 1j, "complex")):
        verdict = ad.check_link_force(wrong)
        assert not verdict.ok and hint in verdict.message, verdict.message
    assert "got a str" in ad.check_integrator_slope("4").message
    assert ad.check_curvature_estimator(lambda p, n: np.array([n**2 * np.mean((p - p.mean()) ** 3)])).ok
    for wrong, hint in ((lambda p, n: str(n**2 * np.mean((p - p.mean()) ** 3)), "got a str"),
                        (lambda p, n: n**2 * np.mean((p - p.mean()) ** 3) * (1 + 1j), "complex")):
        verdict = ad.check_curvature_estimator(wrong)
        assert not verdict.ok and hint in verdict.message, verdict.message


def test_curvature_checker_names_the_mean_of_an_estimate():
    verdict = ad.check_curvature_estimator(lambda p, n: ad.gamma_method(n**2 * (p - p.mean()) ** 3))
    assert not verdict.ok and verdict.message.endswith(": take its .mean (the estimate itself; .error is its uncertainty)")


def test_curvature_checker_rejects_an_estimate_half_a_percent_off():
    # the plain central moment and the unbiased k_3 differ by 3 / len(series) = 0.1 %: both
    # pass; an estimate 0.5 % off is another quantity
    verdict = ad.check_curvature_estimator(lambda p, n: 1.005 * n**2 * np.mean((p - p.mean()) ** 3))
    assert not verdict.ok, verdict.message


def _third(p):
    return np.mean((p - p.mean()) ** 3)


@pytest.mark.parametrize("estimator, hint", [
    (lambda p, n: -n**2 * _third(p), "the sign is flipped"),
    (lambda p, n: n * _third(p), "one factor N_P is missing"),
    (lambda p, n: _third(p), "the factor N_P^2 is missing"),
    (lambda p, n: n**2 * np.mean(p**3), "the raw moment"),
    (lambda p, n: n**2 * (np.mean(p**3) - p.mean() ** 3), "is not the third cumulant"),
    (lambda p, n: n * np.var(p), "the first derivative"),
    (lambda p, n: n**2 * np.var(p), "N_P^2 times the variance"),
    (lambda p, n: n**2 * _third(p) / np.var(p) ** 1.5, "the skewness"),
    (lambda p, n: n**3 * _third(p), "N_P^3 is the factor of the third derivative"),
    (lambda p, n: 2 * n**2 * _third(p), "expected N_P^2 <(P - <P>)^3>"),
    (lambda p, n: -n**2 * abs(_third(p)), "the sign is flipped"),  # right on one skew only
])
def test_curvature_checker_names_each_typical_mistake(estimator, hint):
    verdict = ad.check_curvature_estimator(estimator)
    assert not verdict.ok and hint in verdict.message, verdict.message
