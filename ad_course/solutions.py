"""Showing a solution's output folded: what a solution cell prints (and the figures
it draws) goes into an HTML ``<details>`` element, closed until the student opens
it. JupyterLab shows the richest output (the HTML), so running all cells does not
put an answer on screen; the plain-text copy is what nbval compares and what a
terminal shows."""

from __future__ import annotations

import base64
import contextlib
import html
import io


class FoldedOutput:
    """Text and PNG figures shown behind a closed ``<details><summary>``."""

    def __init__(self, text, figures=(), summary="运行结果"):
        self.text, self.figures, self.summary = text, list(figures), summary

    def _repr_html_(self):
        images = "".join(f'<img src="data:image/png;base64,{png}"/>' for png in self.figures)
        body = f"<pre>{html.escape(self.text)}</pre>" if self.text else ""
        return f"<details><summary>{self.summary}</summary>{body}{images}</details>"

    def __repr__(self):
        figures = f"[{len(self.figures)} figure(s)]\n" if self.figures else ""
        return self.text.rstrip("\n") + ("\n" if self.text and figures else "") + figures.rstrip()


@contextlib.contextmanager
def folded_output(summary="运行结果"):
    """Run a block with its printed text and new matplotlib figures caught, then show
    them folded (:class:`FoldedOutput`). ``plt.show()`` inside the block is fine."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    before = set(plt.get_fignums())
    buffer = io.StringIO()
    shown = []
    original_show = plt.show

    def keep(*args, **kwargs):  # figures are shown folded at the end instead
        shown.extend(n for n in plt.get_fignums() if n not in before and n not in shown)

    plt.show = keep
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        plt.show = original_show
        figures = []
        for number in sorted(set(plt.get_fignums()) - before):
            png = io.BytesIO()
            plt.figure(number).savefig(png, format="png", bbox_inches="tight")
            figures.append(base64.b64encode(png.getvalue()).decode("ascii"))
            plt.close(number)
        display(FoldedOutput(buffer.getvalue(), figures, summary))
