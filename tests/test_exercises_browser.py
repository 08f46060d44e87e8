"""Answers stay hidden where students meet them: JupyterLab, before and after Run All.

A notebook with exercises is opened in JupyterLab (a server on 127.0.0.1 with a
random token, in a scratch folder, on a copy of the notebook), in headless
Chromium (``/usr/bin/chromium``, driven by Playwright, no browser download).
The notebook is rendered without windowing, so every cell is in the page. The
answer texts are read from the notebook itself: the written answers (markdown
cells tagged ``solution``) and the printed output of the solution code cells.
None of them may be visible on the page: not when the notebook opens, and not
after Run All and a save (JupyterLab then shows every output it produced).
Screenshots of the first exercise before and after go to
``$COURSE_EXERCISE_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "03_finite_difference_error.ipynb"
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
TIMEOUT_MS = 120_000


def answer_snippets(nb) -> list[str]:
    """Short pieces of every answer in the notebook: a run of Chinese text from each
    written answer, a printed line from each solution cell's output."""
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
                lines = [line.strip() for line in str(text).splitlines() if len(line.strip()) >= 12]
                snippets.extend(lines[:2])
    return snippets


def test_every_solution_of_the_notebook_yields_an_answer_snippet():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions and len(answer_snippets(nb)) >= len(solutions)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, playwright_driver):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium fonts-wqy-microhei")
    folder = tmp_path_factory.mktemp("lab")
    (folder / "root").mkdir()
    shutil.copy(NOTEBOOK, folder / "root" / NOTEBOOK.name)
    settings = folder / "settings" / "@jupyterlab"
    for extension, name, values in (
        ("notebook-extension", "tracker", {"windowingMode": "none"}),
        ("apputils-extension", "notification", {"fetchNews": "false", "checkForUpdates": False}),
    ):
        (settings / extension).mkdir(parents=True, exist_ok=True)
        (settings / extension / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    token, port = secrets.token_hex(16), _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(folder / "config"),
               JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(folder / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(folder / "workspaces"),
               IPYTHONDIR=str(folder / "ipython"), MPLCONFIGDIR=str(folder / "mpl"))
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder / 'root'}",
         "--ServerApp.allow_root=True", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                os.killpg(server.pid, signal.SIGKILL)
                pytest.fail("JupyterLab did not start:\n" + (folder / "server.log").read_text()[-2000:])
            time.sleep(0.3)
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                args=["--no-sandbox", "--disable-gpu"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
    yield page, folder
    browser.close()
    try:
        request = urllib.request.Request(f"{url}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=10)
        server.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)
    log.close()


KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""

ALL_RUN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    return cells.every(c => c.model.executionCount !== null) && panel.sessionContext.session.kernel.status === 'idle';
}"""


def visible_answers(page, snippets) -> list[str]:
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    shown = []
    for snippet in snippets:
        matches = notebook.get_by_text(snippet, exact=False)
        if any(matches.nth(i).is_visible() for i in range(matches.count())):
            shown.append(snippet)
    return shown


def screenshot(page, folder, name):
    target = Path(os.environ.get("COURSE_EXERCISE_SCREENSHOTS", folder)) / name
    heading = page.locator(".jp-MarkdownCell h2", has_text="练习 1").first
    heading.scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                  ".jp-WindowedPanel-outer').scrollBy(0, -20)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(target))
    return target


def test_no_answer_is_visible_before_or_after_run_all(lab):
    page, folder = lab
    snippets = answer_snippets(nbformat.read(NOTEBOOK, as_version=4))
    page.wait_for_function(KERNEL_IDLE, timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-MarkdownCell h2:has-text('练习 1')", timeout=TIMEOUT_MS)
    assert page.locator(".jp-MarkdownCell h2", has_text="练习 1").first.is_visible()
    assert not visible_answers(page, snippets), "answers visible when the notebook opens"
    before = screenshot(page, folder, "exercises-before.png")

    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RUN, timeout=TIMEOUT_MS, polling=500)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1000)
    saved = nbformat.read(folder / "root" / NOTEBOOK.name, as_version=4)
    student_check = [c for c in saved.cells if c.cell_type == "code"
                     and "ad.check_optimal_step(h_star, h_data, steps)" in c.source
                     and "solution" not in c.metadata.get("tags", [])]
    assert student_check and "not yet" in str(student_check[0].outputs)  # it did run
    assert not visible_answers(page, snippets), "answers visible after Run All"
    after = screenshot(page, folder, "exercises-after.png")
    assert before.exists() and after.exists()
    # the folded output is there: opening it shows the answer (so the check above can fail)
    page.locator(".jp-OutputArea-output details summary").first.click()
    page.wait_for_timeout(300)
    assert visible_answers(page, snippets)
