"""Plotting style and plots shared by the notebooks (every notebook)."""

from __future__ import annotations

import numpy as np

# Sizes on top of mplhep's ATLAS style, chosen to stay readable on a projected
# slide (labels 20 pt, ticks 16 pt on an 8 x 5 inch figure at 100 dpi).
COURSE_RC = {
    "figure.figsize": (8.0, 5.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 16,
    "axes.labelsize": 20,
    "axes.titlesize": 20,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 15,
    "lines.linewidth": 2.5,
    "lines.markersize": 7,
}


def use_course_style() -> None:
    """Apply the course's plotting style: mplhep's ATLAS style plus ``COURSE_RC``.

    Works offline (the fonts ship in the mplhep-data wheel).  Also quietens the
    ``matplotlib.mathtext`` logger, which under mplhep 1.3 and matplotlib 3.11
    logs "No TeX to Unicode mapping" for some labels.  Returns None.
    """
    import logging

    import matplotlib as mpl
    import mplhep

    mplhep.style.use("ATLAS")
    mpl.rcParams.update(COURSE_RC)
    logging.getLogger("matplotlib.mathtext").setLevel(logging.ERROR)


def format_comparison(values: dict, reference: str, digits: int = 12) -> str:
    """Return a table of named numbers with their differences to one of them.

    One line per entry of ``values`` (name -> number): the name, the value to
    ``digits`` significant digits and the difference value - values[reference]
    to two significant digits.  A difference of at most 8 units in the last
    place of the reference, zero included, is printed as "round-off": whether
    it is 0 or a few units depends on the machine (the CPU's vector code, the
    maths library), not on the method.
    """
    exact = float(values[reference])
    width = max(len(name) for name in values)
    lines = [f"{'method':<{width}}  {'value':<{digits + 6}}  difference to {reference}"]
    for name, value in values.items():
        difference = float(value) - exact
        shown = "(reference)" if name == reference else (
            "round-off" if abs(difference) <= 8 * np.spacing(abs(exact)) else f"{difference:+.1e}")
        lines.append(f"{name:<{width}}  {float(value):<{digits + 6}.{digits}g}  {shown}")
    return "\n".join(lines)


def source_code(function, docstring: bool = True) -> str:
    """Return the source code of ``function`` (as ``inspect.getsource``), without its
    docstring if ``docstring`` is False.  The docstring's lines are found with the
    parser, so this does not depend on how a Python version stores ``__doc__``."""
    import ast
    import inspect
    import textwrap

    source = inspect.getsource(function)
    if docstring:
        return source
    tree = ast.parse(textwrap.dedent(source))
    body = tree.body[0].body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return source
    lines = source.splitlines(keepends=True)
    return "".join(lines[:body[0].lineno - 1] + lines[body[0].end_lineno:])


def plot_loss_surface(
    loss,
    xlim: tuple,
    ylim: tuple,
    paths: dict | None = None,
    ax=None,
    levels=15,
    resolution: int = 200,
    labels: tuple = (r"$\theta_1$", r"$\theta_2$"),
    minimum=None,
    equal_aspect: bool = False,
    legend_beside: bool = False,
    figsize=None,
):
    """Draw contour lines of ``loss(x, y)`` over a rectangle, with optional 2-D paths.

    ``loss`` must accept numpy arrays (it is called on a meshgrid).  ``paths``
    maps a legend label to points of shape (n, 2) (an array or a list of
    points), e.g. from :func:`gradient_descent`; each is drawn as a line with
    markers, its start as a circle and its end as a star, the first path on
    top (a later path with longer steps would otherwise hide its first step).
    ``levels`` is passed to ``contour``.  ``minimum``: a point (x, y) drawn as
    a black ring labelled "minimum", under the end stars.  ``equal_aspect``:
    one unit is as long on both axes (contours keep their true shape);
    ``legend_beside``: the legend right of the axes instead of on the data;
    ``figsize``: inches of a new figure (without ``ax``).  Returns the
    matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=figsize).add_subplot()
    x = np.linspace(*xlim, resolution)
    y = np.linspace(*ylim, resolution)
    grid_x, grid_y = np.meshgrid(x, y)
    contours = ax.contour(grid_x, grid_y, loss(grid_x, grid_y), levels=levels, cmap="viridis")
    ax.clabel(contours, fontsize=13, fmt="%.2g")
    paths = paths or {}
    # Above the contours: the lines (the first path highest), then the minimum's ring, then
    # the end stars, the first path's smallest and on top, so that paths ending at one point
    # (or on the ring, or on another path's line) all show their end.
    ring = 4 + len(paths)
    for rank, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)
        on_top = {"zorder": 3 + len(paths) - rank}
        (line,) = ax.plot(path[:, 0], path[:, 1], "o-", markersize=4, label=label, **on_top)
        ax.plot(*path[0], "o", color=line.get_color(), markersize=10, **on_top)
        # black-edged and large enough to point at on a projector, also on its own path's line
        ax.plot(*path[-1], "*", color=line.get_color(), markeredgecolor="black",
                markersize=max(12, 20 - 6 * (len(paths) - 1 - rank)), markeredgewidth=1,
                zorder=ring + 1 + len(paths) - rank)
    if minimum is not None:  # a hollow ring: a star that reached the minimum shows inside it
        ax.plot(*minimum, "o", color="black", markerfacecolor="none", markersize=26,
                markeredgewidth=2, label="minimum", zorder=ring)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if equal_aspect:
        ax.set_aspect("equal")
    if paths or minimum is not None:
        if legend_beside:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        else:
            ax.legend(loc="upper left")
    return ax


# colour-blind-safe colours (Okabe-Ito) that stay visible on a projected white slide
MEASUREMENT_COLORS = ("#d55e00", "#0072b2", "#009e73", "black", "#cc79a7", "#e69f00")


def plot_measurements(x, measured: dict, theory: dict | None = None, *, xlabel: str, ylabel: str,
                      logx: bool = False, connect: bool = False, floor: float | None = None,
                      colors=None, ylim=None, yticks=None, ax=None, legend_beside: bool = False,
                      figsize=(8.0, 4.5)):
    """Plot measured series as markers and model curves as black lines, on a log y axis.

    Without ``ax`` a new figure of ``figsize`` inches is made (8 x 4.5: the
    figure and a few lines of code fit on one 1280 x 720 slide).
    ``measured`` maps a legend label to values over ``x``: markers (circle,
    square, diamond, ...), filled and joined by lines if ``connect``, open
    otherwise (so that coinciding series stay visible).  ``theory`` maps a
    label to values over ``x``: black dashed, dotted, dash-dotted lines.
    ``floor``: values below it (an error of exactly 0, which a log axis cannot
    show) are drawn at ``floor`` and the label says so.  ``colors``: one per
    measured series (default ``MEASUREMENT_COLORS``).  ``logx`` makes the x
    axis logarithmic too.  ``yticks``: the labelled values of the y axis (a flat figure
    over many decades gets only two from matplotlib).  ``legend_beside``: the legend right
    of the axes instead of on the data.  Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=figsize).add_subplot()
    colors = MEASUREMENT_COLORS if colors is None else colors
    x = np.asarray(x, dtype=float)
    for (label, values), color, marker in zip(measured.items(), colors, "osD^v<>"):
        values = np.asarray(values, dtype=float)
        if floor is not None and np.any(values < floor):
            values = np.maximum(values, floor)
            label = f"{label} (0 drawn at {floor:.0e})"
        style = {"markerfacecolor": "none", "markersize": 6, "linestyle": "none"}
        if connect:
            style = {"linestyle": "-"}
        ax.plot(x, values, marker=marker, color=color, label=label, **style)
    for (label, values), linestyle in zip((theory or {}).items(), ("--", ":", "-.")):
        ax.plot(x, values, linestyle=linestyle, color="black", label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if yticks is not None:
        ax.set_yticks(yticks)
    entries = len(measured) + len(theory or {})
    columns = 2 if entries > 4 and not legend_beside else 1  # two columns only for short labels
    if legend_beside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=columns)
    else:
        ax.legend(loc="upper left", ncol=columns)
    return ax
