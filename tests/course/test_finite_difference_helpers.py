"""Tests of the finite-difference error helpers (ad_course/finite_differences.py, notebook 03)."""

import numpy as np
import pytest

import autodiff_helpers as ad

EPS = np.finfo(float).eps


def test_derivative_errors_of_sqrt_at_one():
    steps = np.array([1e-16, 1e-8, 1e-5, 1e-1])
    errors = ad.derivative_errors(np.sqrt, 0.5, 1.0, steps)
    assert set(errors) == {"forward", "central", "complex step"}
    # 1 + 1e-16 rounds to 1: the forward difference is 0, its error the whole 0.5
    assert errors["forward"][0] == 0.5
    assert errors["forward"][1] < 1e-7
    assert errors["central"][2] < 1e-9
    # truncation dominates at h = 0.1: |f''| h / 2 = h / 8 to leading order
    assert errors["forward"][3] == pytest.approx(0.1 / 8, rel=0.1)
    # complex step: no cancellation, only its own truncation |f'''| h**2 / 6 = h**2 / 16
    assert np.all(errors["complex step"][:2] <= EPS)
    assert errors["complex step"][2] == pytest.approx(1e-10 / 16, rel=1e-3)


def test_derivative_errors_match_the_library_formulas():
    steps = [1e-3, 1e-2]
    errors = ad.derivative_errors(np.exp, np.exp(0.5), 0.5, steps)
    for h, error in zip(steps, errors["central"]):
        assert error == abs(ad.central_difference(np.exp, 0.5, h) - np.exp(0.5))


def test_error_model_of_sqrt_at_one():
    steps = np.array([1e-8, 1e-2])
    truncation, roundoff = ad.difference_error_model(steps, 1.0, -0.25)
    np.testing.assert_allclose(truncation, steps / 8)
    np.testing.assert_allclose(roundoff, EPS / steps)
    truncation, roundoff = ad.difference_error_model(steps, 1.0, 0.375, method="central")
    np.testing.assert_allclose(truncation, 0.375 * steps**2 / 6)


def test_optimal_step_formulas():
    # sqrt at 1: |f| = 1, f'' = -1/4, f''' = 3/8
    assert ad.optimal_step(1.0, -0.25) == pytest.approx(np.sqrt(8 * EPS))
    assert ad.optimal_step(1.0, 0.375, method="central") == pytest.approx((8 * EPS) ** (1 / 3))


@pytest.mark.parametrize(
    "method, higher", [("forward", -0.25), ("central", 0.375), ("forward", 3.0)]
)
def test_optimal_step_minimises_the_model(method, higher):
    best = ad.optimal_step(2.0, higher, method=method)
    grid = best * np.logspace(-1, 1, 201)
    total = sum(ad.difference_error_model(grid, 2.0, higher, method=method))
    assert grid[np.argmin(total)] == pytest.approx(best, rel=0.02)


def test_measured_best_step_is_near_the_formula():
    steps = np.logspace(-16, -1, 151)
    errors = ad.derivative_errors(np.sqrt, 0.5, 1.0, steps)
    for method, higher in (("forward", -0.25), ("central", 0.375)):
        measured = steps[np.argmin(errors[method])]
        assert 0.1 < measured / ad.optimal_step(1.0, higher, method=method) < 10


def test_plot_measurements_draws_markers_lines_and_floor():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.logspace(-16, -1, 16)
    errors = ad.derivative_errors(np.sqrt, 0.5, 1.0, steps)
    truncation, roundoff = ad.difference_error_model(steps, 1.0, -0.25)
    ax = ad.plot_measurements(
        steps,
        {"forward": errors["forward"], "complex step": errors["complex step"]},
        {"truncation": truncation, "round-off": roundoff},
        xlabel="step $h$", ylabel="error", logx=True, floor=1e-17, ylim=(1e-18, 1e2),
    )
    try:
        labels = [line.get_label() for line in ax.lines]
        assert labels == ["forward", "complex step (0 drawn at 1e-17)", "truncation", "round-off"]
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert ax.get_ylim() == (1e-18, 1e2)
        # zeros are drawn at the floor, other values unchanged
        complex_line = ax.lines[1].get_ydata()
        assert complex_line.min() == 1e-17
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), errors["forward"])
        assert [line.get_linestyle() for line in ax.lines[2:]] == ["--", ":"]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == labels
    finally:
        plt.close(ax.figure)


def test_plot_measurements_connected_series_on_a_linear_x_axis():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = ad.plot_measurements(
        [2, 3, 4], {"a": [3, 8, 18]}, xlabel="n", ylabel="count", connect=True
    )
    try:
        assert ax.get_xscale() == "linear" and ax.get_yscale() == "log"
        assert ax.lines[0].get_linestyle() == "-"
        assert ax.get_xlabel() == "n" and ax.get_ylabel() == "count"
    finally:
        plt.close(ax.figure)
