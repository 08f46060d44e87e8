"""Plotting style and shared utilities (ad_course/style.py, iterations.py, timing.py)."""

import inspect
import logging
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import autodiff_helpers as ad  # noqa: E402


@pytest.fixture
def restore_style():
    logger = logging.getLogger("matplotlib.mathtext")
    level = logger.level
    with matplotlib.rc_context():
        yield
    logger.setLevel(level)
    plt.close("all")


def test_course_style_is_atlas_with_slide_sizes(restore_style):
    ad.use_course_style()
    rc = matplotlib.rcParams
    assert rc["font.sans-serif"][0] == "TeX Gyre Heros"  # from the ATLAS style
    assert rc["xtick.direction"] == "in"  # ATLAS ticks point inwards
    assert list(rc["figure.figsize"]) == [8.0, 5.0]
    assert rc["axes.labelsize"] == 20
    assert rc["xtick.labelsize"] == 16
    assert logging.getLogger("matplotlib.mathtext").level == logging.ERROR


def test_course_style_renders_a_labelled_figure_without_warnings(restore_style):
    ad.use_course_style()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\ell(\theta)$")
    ax.legend()
    fig.canvas.draw()  # fonts are found offline; any warning fails the test
    assert fig.get_size_inches().tolist() == [8.0, 5.0]


def test_gradient_descent_on_a_parabola_matches_closed_form():
    # l(x) = a x^2 / 2: x_{n+1} = x_n - eps a x_n = (1 - eps a)^n x_0
    a, eps, x0 = 4.0, 0.1, 3.0
    path = ad.gradient_descent(lambda x: a * x, x0, eps, 10)
    assert path.shape == (11,)
    np.testing.assert_allclose(path, x0 * (1 - eps * a) ** np.arange(11), rtol=1e-14)


@given(
    a=st.floats(0.1, 10.0),
    x0=st.floats(-100.0, 100.0),
    fraction=st.floats(0.05, 0.95),
)
def test_gradient_descent_contracts_when_learning_rate_is_small(a, x0, fraction):
    eps = fraction / a  # |1 - eps a| < 1
    path = ad.gradient_descent(lambda x: a * x, x0, eps, 5)
    np.testing.assert_allclose(path, x0 * (1 - eps * a) ** np.arange(6), rtol=1e-12, atol=1e-300)


def test_gradient_descent_in_two_dimensions_finds_the_minimum():
    # l = (t1 - 1)^2 + 5 (t2 - t1/2)^2 has its minimum at (1, 0.5)
    def grad(t):
        d2 = 10 * (t[1] - t[0] / 2)
        return np.array([2 * (t[0] - 1) - d2 / 2, d2])

    path = ad.gradient_descent(grad, [-1.5, -1.0], 0.05, 300)
    assert path.shape == (301, 2)
    np.testing.assert_array_equal(path[0], [-1.5, -1.0])
    np.testing.assert_allclose(path[-1], [1.0, 0.5], atol=1e-9)


def test_gradient_descent_does_not_modify_start():
    start = np.array([1.0, 2.0])
    ad.gradient_descent(lambda t: t, start, 0.5, 3)
    np.testing.assert_array_equal(start, [1.0, 2.0])


def test_gradient_ascent_finds_the_maximum():
    # y = -(x - 3)^2: dy/dx = -2 (x - 3); x_{n+1} - 3 = (1 - 2 eps)(x_n - 3)
    path = ad.gradient_ascent(lambda x: -2 * (x - 3), 0.0, 0.25, 4)
    np.testing.assert_allclose(path, 3 - 3 * 0.5 ** np.arange(5), rtol=1e-15)


def test_newton_iterates_for_square_root_of_two():
    xs = ad.newton_iterates(lambda x: x * x - 2, lambda x: 2 * x, 1.0, 5)
    assert xs[:4].tolist() == [1.0, 1.5, 17 / 12, 577 / 408]
    assert abs(xs[-1] - np.sqrt(2)) <= 2.3e-16


def test_newton_iterates_reports_a_zero_derivative():
    with pytest.raises(ZeroDivisionError, match=r"Newton step 0: f'\(x\) = 0 at x = 0.0"):
        ad.newton_iterates(lambda x: x * x + 1, lambda x: 2 * x, 0.0, 3)


def test_format_comparison_prints_values_and_differences():
    approx = 0.1 + 1e-10
    one_ulp = 0.1 + np.spacing(0.1)
    table = ad.format_comparison({"exact": 0.1, "approx": approx, "same": 0.1, "ulp": one_ulp},
                                 "exact")
    lines = table.splitlines()
    assert lines[0].split() == ["method", "value", "difference", "to", "exact"]
    assert lines[1].split() == ["exact", "0.1", "(reference)"]
    assert lines[2].split() == ["approx", "0.1000000001", "+1.0e-10"]
    # 0 and one unit in the last place print alike: which one you get depends on the machine
    assert lines[3].split() == ["same", "0.1", "round-off"]
    assert lines[4].split() == ["ulp", "0.1", "round-off"]


def test_source_code_without_docstring_keeps_the_code():
    def documented(x):
        """Two lines
        of docstring."""
        return x + 1

    without = ad.source_code(documented, docstring=False)
    assert "docstring" not in without and "return x + 1" in without
    assert without.splitlines()[0].strip() == "def documented(x):"
    assert ad.source_code(documented) == inspect.getsource(documented)
    assert ad.source_code(ad.logistic_map, docstring=False).count('"""') == 0


def test_plot_loss_surface_draws_paths_labels_and_limits():
    path = np.array([[0.0, 0.0], [0.5, 0.25], [1.0, 0.5]])
    ax = ad.plot_loss_surface(
        lambda x, y: x**2 + y**2, (-2, 2), (-1, 3), paths={"eps = 0.1": path}, resolution=50
    )
    try:
        line = ax.lines[0]
        np.testing.assert_array_equal(line.get_xdata(), path[:, 0])
        np.testing.assert_array_equal(line.get_ydata(), path[:, 1])
        assert line.get_label() == "eps = 0.1"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["eps = 0.1"]
        assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 3)
        assert ax.get_xlabel() == r"$\theta_1$" and ax.get_ylabel() == r"$\theta_2$"
        # start marker at the first point, end marker at the last
        assert ax.lines[1].get_xydata().tolist() == [[0.0, 0.0]]
        assert ax.lines[2].get_xydata().tolist() == [[1.0, 0.5]]
    finally:
        plt.close(ax.figure)


def test_plot_loss_surface_marks_the_minimum_keeps_the_aspect_and_draws_the_first_path_on_top():
    """Each path's end stays visible where it meets another path or the minimum."""
    first = [np.array([0.0, 0.0]), np.array([0.5, 0.5])]  # a list of points, as a loop builds it
    second = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    ax = ad.plot_loss_surface(
        lambda x, y: x**2 + y**2, (-1, 2), (-1, 1), paths={"a": first, "b": second}, resolution=20,
        minimum=(0.5, 0.5), equal_aspect=True, legend_beside=True, figsize=(6, 2.5)
    )
    try:
        assert tuple(ax.figure.get_size_inches()) == (6, 2.5)
        assert ax.get_aspect() == 1.0
        lines = {line.get_label(): line for line in ax.lines}
        np.testing.assert_array_equal(lines["a"].get_xydata(), np.array(first))
        assert lines["a"].get_zorder() > lines["b"].get_zorder() > ax.collections[0].get_zorder()
        assert lines["minimum"].get_xydata().tolist() == [[0.5, 0.5]]
        assert lines["minimum"].get_marker() == "o" and lines["minimum"].get_color() == "black"
        assert lines["minimum"].get_markerfacecolor() == "none"  # a ring: a star inside shows
        first, second = [line for line in ax.lines if line.get_marker() == "*"]
        # every line, then the ring, then the end stars: the first path's on top and smaller,
        # so that two paths ending at one point both show their star
        assert lines["a"].get_zorder() < lines["minimum"].get_zorder() < second.get_zorder() \
            < first.get_zorder()
        assert first.get_markersize() < second.get_markersize()
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["a", "b", "minimum"]
        ax.figure.canvas.draw()  # the legend starts right of the axes, not on the data
        assert legend.get_window_extent().x0 > ax.get_window_extent().x1
    finally:
        plt.close(ax.figure)


def test_plot_loss_surface_contour_levels_follow_the_function():
    ax = ad.plot_loss_surface(
        lambda x, y: x + 0 * y, (0, 1), (0, 1), levels=[0.25, 0.5, 0.75], resolution=11
    )
    try:
        contour = ax.collections[0]
        np.testing.assert_allclose(contour.levels, [0.25, 0.5, 0.75])
        assert ax.get_legend() is None
    finally:
        plt.close(ax.figure)


def test_best_time_is_the_fastest_run_per_call_and_restores_the_collector():
    import gc

    calls = []
    durations = iter([0.02, 0.004, 0.01])

    def work():
        calls.append(1)
        if len(calls) % 2 == 1:  # one sleep per run of two calls
            time.sleep(next(durations))

    assert gc.isenabled()
    best = ad.best_time(work, number=2, repeat=3)
    assert len(calls) == 6 and gc.isenabled()
    assert 0.002 <= best < 0.01  # the 4 ms run, halved per call (sleep may overshoot a little)


def test_collector_paused_restores_the_previous_state_even_after_an_error():
    import gc

    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), ad.collector_paused():
        assert not gc.isenabled()
        1 / 0
    assert gc.isenabled()
    gc.disable()
    try:
        with ad.collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_the_charmonium_data_the_checkers_read_cannot_be_changed_by_a_notebook():
    """ad.EICHTEN and ad.PDG_MASSES are what notebook 08 shows and its checkers compare with:
    read-only, so that a student's edit in the notebook cannot move the reference."""
    import autodiff_helpers as ad
    with pytest.raises(TypeError):
        ad.PDG_MASSES["J/psi"] = 3000.0
    with pytest.raises(ValueError):
        ad.EICHTEN[0] = 0.4
    assert ad.spin_averaged_masses()[0] == (2984.1 + 3 * 3096.9) / 4 / 1e3
