"""Answers stay hidden where students meet them: JupyterLab (headless Chromium, a copy of
a notebook with exercises), when it opens and after Run All and a save.  Screenshots of
the first exercise go to $COURSE_EXERCISE_SCREENSHOTS (default: the test's scratch folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from browser import TIMEOUT_MS, LabServer, launch
from course import ROOT

NOTEBOOK = ROOT / "notebooks" / "03_finite_difference_error.ipynb"
PATH = f"notebooks/{NOTEBOOK.name}"


def answer_snippets(nb) -> list[str]:
    """A run of Chinese text from each written answer (markdown tagged solution), a printed
    line from each solution cell's output: read from the notebook itself."""
    snippets = []
    for cell in nb.cells:
        if "solution" not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            text = re.sub(r"<[^>]+>|\$[^$]*\$|`[^`]*`|\*\*", " ", cell.source)
            runs = [r for r in re.findall(r"[\u4e00-\u9fff，、]{8,}", text) if "参考答案" not in r]
            snippets.extend(runs[:2])
        else:
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                snippets.extend([s for line in str(text).splitlines()
                                 if len(s := line.strip()) >= 12][:2])
    return snippets


def test_every_solution_of_the_notebook_yields_an_answer_snippet():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions and len(answer_snippets(nb)) >= len(solutions)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, playwright_driver):
    folder = tmp_path_factory.mktemp("lab")
    server = LabServer(folder, [NOTEBOOK])
    context = launch(playwright_driver, folder / "chromium", viewport=(1280, 900))
    page, _ = server.open(context, PATH, "exercises")
    yield page, server
    context.close()
    server.stop()


ALL_RUN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    return cells.every(c => c.model.executionCount !== null)
        && panel.sessionContext.session.kernel.status === 'idle';
}"""


def visible_answers(page, snippets) -> list[str]:
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    return [s for s in snippets if any(m.is_visible() for m in notebook.get_by_text(s).all())]


def screenshot(page, folder, name):
    target = Path(os.environ.get("COURSE_EXERCISE_SCREENSHOTS", folder)) / name
    page.locator(".jp-MarkdownCell h2", has_text="练习 1").first.scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                  ".jp-WindowedPanel-outer').scrollBy(0, -20)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(target))
    return target


def test_no_answer_is_visible_before_or_after_run_all(lab):
    page, server = lab
    snippets = answer_snippets(nbformat.read(NOTEBOOK, as_version=4))
    page.wait_for_selector(".jp-MarkdownCell h2:has-text('练习 1')", timeout=TIMEOUT_MS)
    assert page.locator(".jp-MarkdownCell h2", has_text="练习 1").first.is_visible()
    assert not visible_answers(page, snippets), "answers visible when the notebook opens"
    before = screenshot(page, server.folder, "exercises-before.png")

    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RUN, timeout=2 * TIMEOUT_MS, polling=500)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1000)
    saved = nbformat.read(server.root / PATH, as_version=4)
    student_check = [c for c in saved.cells if c.cell_type == "code"
                     and "ad.check_optimal_step(h_star, h_data, steps)" in c.source
                     and "solution" not in c.metadata.get("tags", [])]
    assert student_check and "not yet" in str(student_check[0].outputs)  # it did run
    assert not visible_answers(page, snippets), "answers visible after Run All"
    after = screenshot(page, server.folder, "exercises-after.png")
    assert before.exists() and after.exists()
    # the folded output is there: opening it shows the answer (so the check above can fail)
    page.locator(".jp-OutputArea-output details summary").first.click()
    page.wait_for_timeout(300)
    assert visible_answers(page, snippets)
