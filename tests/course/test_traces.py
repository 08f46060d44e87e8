"""Looking at a graph (ad_course/traces.py: trace_table, draw_graph, local_gradients) and
the shot-put helpers (ad_course/shot_put.py)."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy  # noqa: E402

import autodiff_helpers as ad  # noqa: E402
from ad_course.traces import format_number  # noqa: E402

BAR = "\u0304"


def table3_graph():
    """y = ln x1 + x1 x2 - sin x2 at (2, 5), evaluated in the order of Baydin et al., Table 3."""
    x1 = ad.Variable(2.0, name="x1")
    x2 = ad.Variable(5.0, name="x2")
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    v4 = v1 + v2
    v5 = v4 - v3
    return x1, x2, v5


def rows_as_text(rows):
    return [(r.target, r.formula, r.numbers, format_number(r.value)) for r in rows]


def test_table3_primal_trace():
    *_, y = table3_graph()
    trace = ad.trace_table(y)
    assert rows_as_text(trace.primal) == [
        ("v₋₁", "x1", "", "2"),
        ("v₀", "x2", "", "5"),
        ("v₁", "ln v₋₁", "ln 2", "0.693"),
        ("v₂", "v₋₁ × v₀", "2 × 5", "10"),
        ("v₃", "sin v₀", "sin 5", "-0.959"),
        ("v₄", "v₁ + v₂", "0.693 + 10", "10.693"),
        ("v₅", "v₄ - v₃", "10.693 - (-0.959)", "11.652"),
        ("y", "v₅", "", "11.652"),
    ]
    values = [r.value for r in trace.primal]
    assert values[2] == math.log(2.0)
    assert values[4] == math.sin(5.0)
    assert values[-1] == math.log(2.0) + 10.0 - math.sin(5.0)


def test_table3_adjoint_trace_in_reverse_order_with_two_contributions_to_v0():
    *_, y = table3_graph()
    trace = ad.trace_table(y)
    b = lambda k: "v" + BAR + k  # noqa: E731
    assert rows_as_text(trace.adjoint) == [
        (b("₅"), "y" + BAR, "", "1"),
        (b("₄"), b("₅") + " × 1", "1 × 1", "1"),
        (b("₃"), b("₅") + " × (-1)", "1 × (-1)", "-1"),
        (b("₁"), b("₄") + " × 1", "1 × 1", "1"),
        (b("₂"), b("₄") + " × 1", "1 × 1", "1"),
        (b("₀"), b("₃") + " × cos v₀", "-1 × 0.284", "-0.284"),
        (b("₋₁"), b("₂") + " × v₀", "1 × 5", "5"),
        (b("₀"), b("₀") + " + " + b("₂") + " × v₋₁", "-0.284 + 1 × 2", "1.716"),
        (b("₋₁"), b("₋₁") + " + " + b("₁") + " × 1/v₋₁", "5 + 1 × 0.5", "5.5"),
        ("∂y/∂x1", b("₋₁"), "", "5.5"),
        ("∂y/∂x2", b("₀"), "", "1.716"),
    ]
    # v0 feeds sin and the product: its adjoint is the sum of two rows
    assert [r.target for r in trace.adjoint].count(b("₀")) == 2
    assert trace.adjoint[5].value == -math.cos(5.0)
    assert trace.gradient == {"x1": 5.5, "x2": 2.0 - math.cos(5.0)}


def test_table3_gradient_matches_sympy_and_the_engine():
    x1, x2, y = table3_graph()
    trace = ad.trace_table(y)
    s1, s2 = sympy.symbols("x1 x2")
    expr = sympy.log(s1) + s1 * s2 - sympy.sin(s2)
    at = {s1: 2, s2: 5}
    assert trace.gradient["x1"] == pytest.approx(float(sympy.diff(expr, s1).subs(at)), rel=1e-15)
    assert trace.gradient["x2"] == pytest.approx(float(sympy.diff(expr, s2).subs(at)), rel=1e-15)
    # the final running sums are the engine's adjoints
    assert (x1.adjoint, x2.adjoint) == (trace.gradient["x1"], trace.gradient["x2"])


def test_trace_leaves_grad_untouched():
    x1, x2, y = table3_graph()
    ad.trace_table(y)
    assert x1.grad is None and x2.grad is None
    y.backward()
    ad.trace_table(y)
    ad.draw_graph(y)
    plt.close("all")
    assert x1.grad == 5.5  # one backward, not three


def test_trace_text_and_html_reprs():
    *_, y = table3_graph()
    trace = ad.trace_table(y)
    text = str(trace)
    assert text.splitlines()[0] == "Forward primal trace"
    assert "v₅  = v₄ - v₃  = 10.693 - (-0.959) = 11.652" in text
    assert "v" + BAR + "₀" + "     = v" + BAR + "₀ + v" + BAR + "₂ × v₋₁" in text
    assert repr(trace) == text
    html = trace._repr_html_()
    assert html.startswith("<table") and html.count("<tr>") == len(trace.primal) + len(trace.adjoint) + 2
    assert ">= 1.716</td>" in html


def test_trace_of_a_node_used_twice_and_constants():
    x = ad.Variable(3.0, name="x")
    y = x * x - 2 * x  # dy/dx = 2x - 2 = 4
    trace = ad.trace_table(y)
    assert [r.formula for r in trace.primal] == ["x", "v₀ × v₀", "2 × v₀", "v₁ - v₂", "v₃"]
    contributions = [r for r in trace.adjoint if r.target == "v" + BAR + "₀"]
    assert [r.value for r in contributions] == [-2.0, 1.0, 4.0]  # -2, then +3, then +3
    assert trace.gradient == {"x": 4.0}


def test_trace_unnamed_leaf_and_custom_output_name_and_decimals():
    x = ad.Variable(0.5)
    y = np.exp(x)
    trace = ad.trace_table(y, output_name="f", decimals=5)
    assert trace.primal[0].formula == ""
    assert trace.primal[-1].target == "f"
    assert trace.adjoint[0].formula == "f" + BAR
    assert trace.adjoint[1].formula == "v" + BAR + "₁ × v₁"
    assert trace.gradient == {"v₀": math.exp(0.5)}
    assert "1.64872" in str(trace)


def test_trace_rejects_non_scalar_graphs_and_non_variables():
    x = ad.Variable(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="small scalar graphs"):
        ad.trace_table((x * x).sum())
    with pytest.raises(TypeError, match="expected a Variable"):
        ad.trace_table(2.0)


def test_local_gradients_come_from_the_rules():
    x = ad.Variable(2.0)
    y = ad.Variable(5.0)
    assert ad.local_gradients(x) == []
    product = x * y
    assert [(p is x, p is y, g) for p, g in ad.local_gradients(product)] == [
        (True, False, 5.0), (False, True, 2.0)]
    assert ad.local_gradients(np.sin(y))[0][1] == math.cos(5.0)
    square = x * x
    assert [g for _, g in ad.local_gradients(square)] == [2.0, 2.0]


def test_format_number():
    assert format_number(2.0) == "2"
    assert format_number(-0.0001) == "0"
    assert format_number(10.6931) == "10.693"
    assert format_number(-0.28366) == "-0.284"


def node_and_edge_count(y):
    nodes = ad.topological_order(y)
    edges = sum(p is not None for node in nodes for p in node.parents)
    return len(nodes), edges


@pytest.mark.parametrize("build", ["table3", "shared", "chain"])
def test_draw_graph_has_one_box_per_node_and_one_arrow_per_edge(build):
    if build == "table3":
        *_, y = table3_graph()
    elif build == "shared":
        x = ad.Variable(3.0, name="x")
        y = x * x + 2 * x
    else:
        y = ad.logistic_map(ad.Variable(0.3, name="x"), 4)
    n_nodes, n_edges = node_and_edge_count(y)
    ax = ad.draw_graph(y)
    boxes = [t for t in ax.texts if t.get_gid() == "node"]
    arrows = [p for p in ax.patches if p.get_gid() == "edge"]
    labels = [t for t in ax.texts if t.get_gid() == "edge label"]
    assert (len(boxes), len(arrows), len(labels)) == (n_nodes, n_edges, n_edges)
    ax.figure.canvas.draw()  # the drawing renders (mathtext labels parse)
    plt.close("all")


def test_draw_graph_labels_show_values_adjoints_and_partials():
    *_, y = table3_graph()
    fig, ax = plt.subplots()
    assert ad.draw_graph(y, ax=ax) is ax
    boxes = [t.get_text() for t in ax.texts if t.get_gid() == "node"]
    assert len(boxes) == 7
    assert boxes[0] == "$v_{-1}$: x1\nvalue 2\n$\\bar{v}_{-1}$ = 5.5"
    assert boxes[1] == "$v_{0}$: x2\nvalue 5\n$\\bar{v}_{0}$ = 1.716"
    assert boxes[-1] == "$v_{5}$: subtract\nvalue 11.652\n$\\bar{v}_{5}$ = 1"
    for value in ["0.693", "10", "-0.959", "10.693"]:
        assert any(f"value {value}\n" in b for b in boxes)
    partials = sorted(t.get_text() for t in ax.texts if t.get_gid() == "edge label")
    assert partials == sorted(["0.5", "5", "2", "0.284", "1", "1", "1", "-1"])
    assert not [p for p in ax.patches if p.get_gid() == "edge" and p.get_zorder() <= 3]
    plt.close(fig)


def test_draw_graph_layout_columns_are_depths():
    *_, y = table3_graph()
    ax = ad.draw_graph(y, edge_labels=False)
    xs = {t.get_text().split(":")[0]: t.get_position()[0] for t in ax.texts if t.get_gid() == "node"}
    assert xs["$v_{-1}$"] == xs["$v_{0}$"] < xs["$v_{1}$"] == xs["$v_{2}$"] == xs["$v_{3}$"]
    assert xs["$v_{3}$"] < xs["$v_{4}$"] < xs["$v_{5}$"]
    assert not [t for t in ax.texts if t.get_gid() == "edge label"]
    plt.close("all")


# -- the shot put (notebook 04) ----------------------------------------------

def test_shot_put_gradient_ascent_iterates_of_the_lecture():
    path = ad.gradient_ascent(lambda t: ad.derivative(ad.shot_put_range, t), 0.8, 0.01, 8)
    printed = [0.7581, 0.7477, 0.7450, 0.7443, 0.74413, 0.74408, 0.744071, 0.744068]
    decimals = [4, 4, 4, 4, 5, 5, 6, 6]
    assert [round(float(t), d) for t, d in zip(path[1:], decimals)] == printed


def test_shot_put_newton_converges_in_three_steps_to_the_closed_form():
    best = ad.shot_put_best_angle()
    assert best == pytest.approx(0.7440667050778138, abs=4e-16)  # asin and sqrt to rounding
    path = ad.newton_iterates(
        ad.shot_put_stationarity, lambda t: ad.derivative(ad.shot_put_stationarity, t), 0.8, 3)
    assert path[3] == pytest.approx(best, abs=1e-15)
    assert abs(path[2] - best) > 1e-13  # not converged one step earlier
    assert ad.derivative(ad.shot_put_range, best) == pytest.approx(0.0, abs=1e-13)


def test_shot_put_stationarity_is_proportional_to_the_derivative_of_the_range():
    v, h, g = 14.0, 1.8, 9.8
    theta = np.linspace(0.1, 1.4, 7)
    root = np.sqrt(v**2 * np.sin(theta) ** 2 + 2 * g * h)
    factor = v * (v * np.sin(theta) + root) / (g * root)
    slope = ad.derivative(ad.shot_put_range, theta)
    np.testing.assert_allclose(slope, factor * ad.shot_put_stationarity(theta), rtol=1e-12)


def test_shot_put_range_against_sympy_and_flat_ground():
    t = sympy.symbols("theta")
    v, h, g = sympy.Rational(14), sympy.Rational(9, 5), sympy.Rational(49, 5)
    expr = v * sympy.cos(t) / g * (v * sympy.sin(t) + sympy.sqrt(v**2 * sympy.sin(t) ** 2 + 2 * g * h))
    assert ad.shot_put_range(0.6) == pytest.approx(float(expr.subs(t, 0.6)), rel=1e-14)
    assert ad.derivative(ad.shot_put_range, 0.6) == pytest.approx(
        float(sympy.diff(expr, t).subs(t, 0.6)), rel=1e-13)
    # h = 0: range v^2 sin(2 theta) / g, best angle pi/4
    assert ad.shot_put_range(0.3, h=0.0) == pytest.approx(14.0**2 * math.sin(0.6) / 9.8, rel=1e-14)
    assert ad.shot_put_best_angle(h=0.0) == pytest.approx(math.pi / 4, rel=1e-15)


def test_forward_gradient_takes_one_pass_per_input():
    def f(x):
        return (np.sin(x) * x).sum() + x[0] * x[1]

    x = np.array([0.3, -1.2, 2.0, 0.7])
    counted = ad.CountingFunction(f)
    gradient = ad.forward_gradient(counted, x)
    assert counted.calls == 4
    exact = np.cos(x) * x + np.sin(x) + np.array([x[1], x[0], 0.0, 0.0])
    np.testing.assert_allclose(gradient, exact, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(gradient, ad.grad(f)(x), rtol=1e-15, atol=1e-15)
    with pytest.raises(ValueError, match="1-D"):
        ad.forward_gradient(f, 1.0)


def test_scalar_gradients_are_python_floats():
    # numpy's partials (np.cos(5.0)) are np.float64; .grad of a scalar leaf is a float,
    # so notebooks print 0.283..., not np.float64(0.283...)
    x = ad.Variable(5.0)
    np.sin(x).backward()
    assert type(x.grad) is float and x.grad == math.cos(5.0)
    assert type(ad.grad(ad.shot_put_range)(0.8)) is float


def test_draw_graph_shrinks_text_to_fit_the_axes():
    x = ad.Variable(0.8, name="theta")
    wide = ad.shot_put_range(x)  # 8 columns
    fig, ax = plt.subplots(figsize=(8, 4.5))
    sizes = {t.get_fontsize() for t in ad.draw_graph(wide, ax=ax).texts if t.get_gid() == "node"}
    assert len(sizes) == 1 and sizes.pop() < 13
    big = plt.figure(figsize=(12, 7)).add_subplot()
    small = ad.logistic_map(ad.Variable(0.3, name="x"), 2)
    assert {t.get_fontsize() for t in ad.draw_graph(small, ax=big).texts if t.get_gid() == "node"} == {13}
    plt.close("all")


def test_draw_graph_edge_labels_are_nearly_as_large_as_the_boxes_text():
    *_, y = table3_graph()  # shrunk to fit, as on a slide: the partials must stay readable
    ax = plt.figure(figsize=(10, 4.0)).add_subplot()
    texts = ad.draw_graph(y, ax=ax).texts
    node = {t.get_fontsize() for t in texts if t.get_gid() == "node"}
    edge = {t.get_fontsize() for t in texts if t.get_gid() == "edge label"}
    assert len(node) == len(edge) == 1 and node.pop() < 13
    assert edge.pop() >= 10  # points; at 8 the partials on the arrows could not be read in a hall
    plt.close("all")
