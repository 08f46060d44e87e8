"""The toy data and the plot of the handwritten network of 06."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def two_spirals(n: int, noise: float, rng):
    """Return (points of shape (n, 2), labels 0 or 1): two interleaved spiral arms.

    The radius is 2 sqrt(U(0.05, 1)), from about 0.45 to 2 (uniform in area);
    the angle is 1.5 pi r, plus pi for class 1 (the second arm is the first
    turned by pi); Gaussian noise of standard deviation ``noise`` is added.
    """
    radius = 2 * np.sqrt(rng.uniform(0.05, 1.0, n))
    labels = rng.integers(0, 2, n)
    angle = 1.5 * np.pi * radius + np.pi * labels
    points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return points + noise * rng.normal(size=(n, 2)), labels


def plot_decision_boundary(probability, x, y, *, extent=2.4, ax=None):
    """Colour the plane by ``probability(points)`` (P(class 1)), draw P = 1/2 and the points ``x``
    coloured by their labels ``y``; return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 2.2))  # sized for a slide
    grid = np.linspace(-extent, extent, 121)
    g1, g2 = np.meshgrid(grid, grid)
    p = np.asarray(probability(np.column_stack([g1.ravel(), g2.ravel()]))).reshape(g1.shape)
    filled = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=2)
    for k, color in ((0, "tab:blue"), (1, "tab:orange")):
        ax.scatter(*x[y == k].T, s=10, color=color, ec="k", lw=0.3, label=f"class {k}")
    ax.figure.colorbar(filled, ax=ax, label="P(class 1)")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.legend(loc="upper left", bbox_to_anchor=(1.5, 1.0), fontsize=13)  # right of the colour bar
    return ax
