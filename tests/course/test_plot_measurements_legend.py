"""plot_measurements(legend_beside=True) puts the legend right of the axes, off the data."""

import numpy as np

import autodiff_helpers as ad


def test_plot_measurements_legend_beside_the_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.logspace(-16, -1, 16)
    measured, model = {"measured": steps / 4}, {"truncation": steps / 8, "round-off": 1e-16 / steps}
    beside = ad.plot_measurements(steps, measured, model, xlabel="h", ylabel="error", logx=True,
                                  legend_beside=True)
    on_data = ad.plot_measurements(steps, measured, model, xlabel="h", ylabel="error", logx=True)
    try:
        for ax in (beside, on_data):
            ax.figure.canvas.draw()
        axes_box = beside.get_window_extent()
        legend_box = beside.get_legend().get_window_extent()
        assert legend_box.x0 > axes_box.x1  # wholly right of the axes
        assert legend_box.y1 <= axes_box.y1 + 1  # its top at the axes' top
        texts = [t.get_text() for t in beside.get_legend().get_texts()]
        assert texts == ["measured", "truncation", "round-off"]
        # the default is unchanged: the legend inside the axes, at the upper left
        inside = on_data.get_legend().get_window_extent()
        assert on_data.get_window_extent().x0 < inside.x0 < inside.x1 < on_data.get_window_extent().x1
    finally:
        plt.close(beside.figure)
        plt.close(on_data.figure)
