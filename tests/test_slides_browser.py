"""The slides in a real browser: offline reveal.js decks and live RISE in JupyterLab.

The decks are built by :func:`build_slides.build` (``make slides``) when stale.
Headless Chromium (Debian's ``chromium``, driven by Playwright, which downloads
no browser; without it the browser tests are skipped, saying how to install it)
opens each deck with every non-file request aborted, as in a lecture hall
without network: reveal.js gets ready, MathJax typesets every formula, nothing is
missing, no script fails, every slide fits 1280x720; screenshots go to
build/slides/screenshots/ (all slides with ``COURSE_SLIDES_SCREENSHOTS=all``).
The lecture deck has the plan's slides.  JupyterLab, on 127.0.0.1 with a random
token, opens each notebook (kernel idle, math and figures rendered) and RISE
presents it with the course's theme, footer, slide numbers and headings as
written, and the lecture notebook with the planned slides; requests without the
token are refused; nothing is left running after shutdown.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

import build_slides
import tracks
from course import CONFIG, course_notebooks, slide_type
from nbbuild import code, md, solution, write_notebook

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = ("install it with `apt-get update && apt-get install -y chromium` (as root; "
                ".ci/run does this), or set COURSE_CHROMIUM to a Chromium binary")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTH, HEIGHT = build_slides.SLIDE_WIDTH, build_slides.SLIDE_HEIGHT
NOTEBOOKS = course_notebooks()
SCREENSHOTS = build_slides.BUILD_DIR / "screenshots"
TIMEOUT_MS = 60_000

notebooks = pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


# --- building the decks ------------------------------------------------------------------


@pytest.fixture(scope="session")
def decks():
    """Build missing or stale decks into build/slides; return {notebook: deck path}."""
    if shutil.which("npm") is None:
        pytest.skip("npm not found: the decks need it (apt-get install -y npm), see README")
    paths = build_slides.build(NOTEBOOKS)
    return dict(zip(NOTEBOOKS, paths))


@pytest.fixture(scope="session")
def lecture(decks):
    """Return (lecture deck, lecture notebook, plan); build() made them with the decks."""
    plan = tracks.plan(NOTEBOOKS)
    if not plan.lecture_parts:
        pytest.skip("no notebook has core slides: no lecture deck")
    deck = build_slides.BUILD_DIR / build_slides.LECTURE_DECK
    notebook = build_slides.BUILD_DIR.parent / build_slides.LECTURE_NOTEBOOK
    return deck, notebook, plan


def cell_ids(nb, predicate):
    return [c.id for c in nb.cells if predicate(c)]


def check_deck_html(text: str, nb) -> list[str]:
    """Return the problems of a deck's HTML: network references, solutions, notes, skips."""
    problems = []
    for tag, name, value in _links(text):
        if re.match(r"\s*(https?:)?//", value, re.I):
            problems.append(f"<{tag} {name}={value!r}> refers to the network")
    if re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", text, re.I):
        problems.append("a style sheet @imports from the network")
    for cell_id in cell_ids(nb, lambda c: "solution" in c.metadata.get("tags", [])):
        if f'id="cell-id={cell_id}"' in text:
            problems.append(f"solution cell {cell_id} is in the deck (it must be removed)")
    for cell_id in cell_ids(nb, lambda c: slide_type(c) == "skip"):
        if f'id="cell-id={cell_id}"' in text:
            problems.append(f"skip cell {cell_id} is in the deck")
    asides = re.findall(r'<aside class="notes">(.*?)</aside>', text, re.S)
    for cell_id in cell_ids(nb, lambda c: slide_type(c) == "notes"):
        if not any(f'id="cell-id={cell_id}"' in aside for aside in asides):
            problems.append(f"notes cell {cell_id} is not inside <aside class='notes'>")
    return problems


@notebooks
def test_deck_html_is_offline_without_solutions_and_with_notes(notebook, decks):
    nb = nbformat.read(notebook, as_version=4)
    problems = check_deck_html(decks[notebook].read_text(encoding="utf-8"), nb)
    assert not problems, f"{decks[notebook].name}:\n  " + "\n  ".join(problems)


# --- the browser ---------------------------------------------------------------------------


def launch(driver, user_data_dir: Path, viewport=(WIDTH, HEIGHT)):
    """Start Chromium with a fresh profile; return the (persistent) browser context."""
    return driver.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": viewport[0], "height": viewport[1]})


class OfflinePage:
    """A page that may load file: and data: URLs only; records what else it tried and what broke."""

    def __init__(self, context):
        self.blocked, self.failed, self.errors = [], [], []
        self.page = context.new_page()
        self.page.route("**/*", self._route)
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def problems(self) -> list[str]:
        blocked = [f"tried the network: {u}" for u in self.blocked]
        failed = [f"failed to load: {u}" for u in self.failed if not u.startswith("http")]
        return blocked + failed + [f"script error: {e}" for e in self.errors]


@pytest.fixture(scope="session")
def deck_browser(playwright_driver, tmp_path_factory):
    context = launch(playwright_driver, tmp_path_factory.mktemp("chromium-decks"))
    yield context
    context.close()


WAIT_READY = """() => window.Reveal && window.Reveal.isReady() && window.MathJax
    && window.MathJax.isReady && Reveal.getCurrentSlide().getAttribute('data-typeset') === 'done'"""
MATHJAX_IDLE = "() => new Promise(done => MathJax.Hub.Queue(() => done(true)))"

# After a slide change the deck typesets the slide's formulas again and then
# lets reveal centre it (slides/template/course_reveal); it marks the slide
# data-typeset="done" when both are finished.
SETTLE = r"""async function settle() {
    const frame = () => new Promise(done => requestAnimationFrame(() => done()));
    let done = false;
    for (let i = 0; i < 1000 && !done; i++) {
        done = Reveal.getCurrentSlide().getAttribute('data-typeset') === 'done'
            && !document.querySelector('.MJXc-processing');
        if (!done) await new Promise(wake => setTimeout(wake, 10));
    }
    await frame();
    await frame();
    return done;
}
function go(slide) {
    if (slide !== Reveal.getCurrentSlide()) slide.removeAttribute('data-typeset');
    const where = Reveal.getIndices(slide);
    Reveal.slide(where.h, where.v, slide.querySelectorAll('.fragment').length - 1);
    return where;
}"""

# Text, formulas and figures hidden by a box that clips them (a code line too
# long for its cell scrolls sideways instead of widening the slide): compare the
# extent of each piece of content with every clipping box around it, up to the
# slide itself.  Sizes in slide pixels (reveal scales the slide to the window).
CUT_OFF = r"""function cutOff(slide, scale) {
    const problems = [];
    const content = slide.querySelectorAll('pre, img, table, .MathJax_CHTML, svg');
    for (const element of content) {
        if (element.closest('aside.notes') || element.parentElement.closest('.MathJax_CHTML'))
            continue;
        let extent = element.getBoundingClientRect();
        if (element.tagName === 'PRE') {
            const range = document.createRange();
            range.selectNodeContents(element);
            extent = range.getBoundingClientRect();
        }
        if (extent.width === 0 && extent.height === 0) continue;
        for (let box = element.parentElement; box; box = box.parentElement) {
            const style = getComputedStyle(box);
            if (box !== slide && style.overflowX === 'visible' && style.overflowY === 'visible')
                continue;
            const edge = box.getBoundingClientRect();
            const right = (extent.right - edge.right) / scale;
            const bottom = (extent.bottom - edge.bottom) / scale;
            if (right > 1 || bottom > 1) {
                const what = element.tagName === 'PRE' ? 'text'
                    : element.classList.contains('MathJax_CHTML') ? 'formula'
                    : element.tagName.toLowerCase();
                const start = (element.textContent || '').trim().slice(0, 30);
                problems.push(`${what} ${JSON.stringify(start)} cut off: `
                    + `${Math.round(Math.max(right, 0))}px at the right, `
                    + `${Math.round(Math.max(bottom, 0))}px at the bottom`);
                break;
            }
            if (box === slide) break;
        }
    }
    return problems;
}"""

# Show every slide in turn and measure it, in slide coordinates (reveal scales
# the 1280x720 slide to the window; offset/scroll sizes ignore that transform).
MEASURE_SLIDES = "async () => {" + CUT_OFF + SETTLE + r"""
    const R = window.Reveal;
    R.configure({transition: 'none', backgroundTransition: 'none'});
    const width = R.getConfig().width, height = R.getConfig().height;
    const slides = R.getSlides();
    const measured = [];
    for (const [index, slide] of slides.entries()) {
        const where = go(slide);
        const typeset = await settle();
        const clipped = cutOff(slide, R.getScale());
        const heading = slide.querySelector('h1, h2, h3');
        const text = (heading ? heading.innerText : slide.innerText).replace(/¶/g, '');
        // reveal centres a slide by its top offset: what ends below the slide is cut off
        measured.push({index, h: where.h, v: where.v, height: slide.scrollHeight,
                       bottom: slide.offsetTop + slide.scrollHeight,
                       width: slide.scrollWidth, clipped, typeset,
                       title: text.trim().split('\n')[0].slice(0, 60)});
    }
    return {width, height, measured};
}"""

# Text left as TeX source outside code, i.e. formulas MathJax did not typeset.
RAW_TEX = r"""() => {
    const pattern = /\$[^$\n]*[^\s$][^$\n]*\$|\\\(|\\\[|\\begin\{/;
    const skip = 'script, style, pre, code, textarea, .MathJax_Preview';
    const walker = document.createTreeWalker(document.querySelector('.reveal .slides'),
                                             NodeFilter.SHOW_TEXT);
    const raw = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest(skip)) continue;
        if (pattern.test(node.textContent)) raw.push(node.textContent.trim().slice(0, 80));
    }
    const errors = [...document.querySelectorAll('.mjx-merror, .MathJax_Error')]
        .map(e => 'MathJax error: ' + e.textContent.slice(0, 80));
    return raw.concat(errors);
}"""


def open_deck(context, deck: Path) -> OfflinePage:
    offline = OfflinePage(context)
    offline.page.goto(deck.resolve().as_uri())
    offline.page.wait_for_function(WAIT_READY, timeout=TIMEOUT_MS)
    offline.page.wait_for_function(MATHJAX_IDLE, timeout=TIMEOUT_MS)
    return offline


def show_slide(page, index: int) -> None:
    page.evaluate(
        "async (i) => {" + SETTLE + """ go(Reveal.getSlides()[i]); await settle(); }""",
        index,
    )


def overflowing(result) -> list[str]:
    """Return one line per slide whose content does not fit the slide size."""
    lines = []
    for slide in result["measured"]:
        reasons = []
        if slide["height"] > result["height"]:
            reasons.append(f"height {slide['height']}px > {result['height']}px")
        elif slide["bottom"] > result["height"]:
            reasons.append(f"placed too low: ends at {slide['bottom']}px > {result['height']}px")
        if slide["width"] > result["width"]:
            reasons.append(f"width {slide['width']}px > {result['width']}px")
        reasons += slide["clipped"]
        if reasons:
            lines.append(
                f"slide {slide['index'] + 1} (h={slide['h']}, v={slide['v']}, "
                f"{slide['title']!r}): " + "; ".join(reasons)
            )
    return lines


def check_deck_in_browser(context, deck: Path, screenshots: Path | None = None):
    """Open ``deck`` offline, measure every slide; return (measurements, problems)."""
    offline = open_deck(context, deck)
    page = offline.page
    result = page.evaluate(MEASURE_SLIDES)
    problems = [f"raw TeX: {t!r}" for t in page.evaluate(RAW_TEX)]
    problems += [
        f"slide {m['index'] + 1}: formulas not typeset again within 10 s of showing it"
        for m in result["measured"] if not m["typeset"]
    ]
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
        stem = deck.name.removesuffix(".slides.html")
        count = len(result["measured"])
        if os.environ.get("COURSE_SLIDES_SCREENSHOTS") == "all":
            shots = {f"{stem}-slide{i + 1:03d}.png": i for i in range(count)}
        else:
            shots = {f"{stem}-first.png": 0, f"{stem}-middle.png": count // 2}
        for name, index in shots.items():
            show_slide(page, index)
            page.screenshot(path=str(screenshots / name))
    problems += offline.problems()
    page.close()
    return result, problems


@notebooks
def test_deck_offline_typeset_and_fits_the_slide(notebook, decks, deck_browser):
    deck = decks[notebook]
    result, problems = check_deck_in_browser(deck_browser, deck, SCREENSHOTS)
    too_big = overflowing(result)
    assert result["measured"], f"{deck.name}: no slides"
    assert (result["width"], result["height"]) == (WIDTH, HEIGHT)
    problems += [f"does not fit {WIDTH}x{HEIGHT}: {line}" for line in too_big]
    assert not problems, f"{deck.name} ({notebook.name}):\n  " + "\n  ".join(problems)


def test_lecture_deck_html_has_the_core_cells_only(lecture):
    deck, notebook, _ = lecture
    text = deck.read_text(encoding="utf-8")
    lecture_nb = nbformat.read(notebook, as_version=4)
    # extended cells are skip cells of the lecture notebook: check_deck_html finds them
    problems = check_deck_html(text, lecture_nb)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell, track in zip(nb.cells, tracks.cell_tracks(nb)):
            shown = f'id="cell-id={path.stem[:2]}-{cell.id}"' in text
            if track == tracks.CORE and tracks.visible(cell) and not shown:
                problems.append(f"core cell {path.stem[:2]}-{cell.id} is missing")
    assert not problems, f"{deck.name}:\n  " + "\n  ".join(problems)
    index = (deck.parent / "index.html").read_text(encoding="utf-8")
    hrefs = [value for tag, name, value in _links(index) if tag == "a"]
    assert hrefs[0] == deck.name, hrefs
    assert hrefs[1:] == [build_slides.deck_name(p) for p in NOTEBOOKS], hrefs


def test_lecture_deck_offline_typeset_fits_and_has_the_planned_slides(lecture, deck_browser):
    deck, _, plan = lecture
    result, problems = check_deck_in_browser(deck_browser, deck, SCREENSHOTS)
    too_big = overflowing(result)
    count = len(result["measured"])
    problems += [f"does not fit {WIDTH}x{HEIGHT}: {line}" for line in too_big]
    assert not problems, f"{deck.name}:\n  " + "\n  ".join(problems)
    assert count == plan.slide_count, (count, plan.slide_count)
    assert count <= CONFIG["lecture"]["max_slides"], count
    titles = [m["title"] for m in result["measured"]]
    assert titles[0].startswith(CONFIG["lecture"]["title"]), titles[0]
    parts = [t for t in titles if t.startswith("第 ")]
    assert len(parts) == len(plan.lecture_parts), parts


# --- the checks themselves, on a small deck made for the purpose ---------------------------

SPEAKER_NOTE = "SPEAKER-NOTE-7f3a: say the formula slowly"


def fixture_notebook(folder: Path) -> Path:
    """Write a notebook with math, notes, a solution, a web link, and two slides that do not fit."""
    tall = "\n".join(f"print({i})" for i in range(40))
    wide = "x = " + " + ".join(f"value_{i}" for i in range(40))
    return write_notebook(folder / "98_slide_check.ipynb", [
        md("# 98 幻灯片检查 (slide check)\n\nInline $f(x) = x e^{-x^2}$ and\n\n"
           "$$\\frac{df}{dx} = (1 - 2x^2)\\, e^{-x^2}$$"),
        md(SPEAKER_NOTE, slide="notes"),
        md("## 练习 1\n\nRead [the cookbook](https://example.org/cookbook) and "
           "[notebook 97](97_other.ipynb#top)."),
        solution("SOLUTION_7f3a = 42\nassert SOLUTION_7f3a == 42"),
        md("## Too tall"),
        code(tall),
        md("## Too wide"),
        code(wide),
    ], summary="checks of the slide tests")


def test_checks_catch_overflow_and_show_notes_in_the_speaker_view(tmp_path, deck_browser):
    notebook = fixture_notebook(tmp_path / "notebooks")
    (deck,) = build_slides.build([notebook], out_dir=tmp_path / "slides")
    text = deck.read_text(encoding="utf-8")
    nb = nbformat.read(notebook, as_version=4)
    assert check_deck_html(text, nb) == []
    assert "SOLUTION_7f3a" not in text
    assert "https://" not in "".join(v for _, _, v in _links(text))
    assert '<span class="link-address">(example.org/cookbook)</span>' in text
    assert 'href="97_other.slides.html"' in text

    result, problems = check_deck_in_browser(deck_browser, deck)
    assert problems == []
    assert len(result["measured"]) == 4
    lines = overflowing(result)
    assert [line.split(" (")[0] for line in lines] == ["slide 3", "slide 4"], lines
    assert "height" in lines[0] and "text \"x = value_0" in lines[1], lines

    offline = open_deck(deck_browser, deck)
    note = offline.page.locator("aside.notes").first
    assert SPEAKER_NOTE in note.text_content()
    assert not note.is_visible()
    with deck_browser.expect_page(timeout=TIMEOUT_MS) as popup:
        offline.page.keyboard.press("s")
    speaker_view = popup.value
    speaker_view.wait_for_function(
        "text => document.body.innerText.includes(text)", arg=SPEAKER_NOTE, timeout=TIMEOUT_MS
    )
    speaker_view.close()
    assert offline.problems() == []
    offline.page.close()


def _links(text):
    """(tag, attribute, value) of every src and href in an HTML page."""
    return re.findall(r"""<(\w+)\b[^>]*?\b(src|href)\s*=\s*["']?([^"'\s>]*)""", text)


def test_raw_tex_check_sees_a_formula_mathjax_did_not_typeset(tmp_path, deck_browser):
    notebook = write_notebook(tmp_path / "notebooks" / "96_raw.ipynb", [
        md("# Raw\n\nTypeset $a + b$; never typeset: <code>$x$</code> in code is fine."),
    ], summary="raw tex")
    (deck,) = build_slides.build([notebook], out_dir=tmp_path / "slides")
    offline = open_deck(deck_browser, deck)
    assert offline.page.evaluate(RAW_TEX) == []
    offline.page.evaluate(
        "() => { const p = document.createElement('p'); p.textContent = 'left: $y^2$';"
        " document.querySelector('.reveal .slides section section').appendChild(p); }"
    )
    assert offline.page.evaluate(RAW_TEX) == ["left: $y^2$"]
    offline.page.close()


# --- JupyterLab with RISE ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_mentioning(text: str) -> list[str]:
    """Return 'pid: command line' of every process whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(f"{entry.name}: {command[:160]}")
    return found


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def status_without_token(url: str) -> tuple[int, str]:
    """Return (HTTP status, Location header) of a GET without credentials, not following redirects."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


class LabServer:
    """JupyterLab on 127.0.0.1 with a random token, in a scratch folder with its own settings."""

    def __init__(self, folder: Path, notebooks: list[Path]):
        self.folder = folder
        self.root = folder / "root"
        (self.root / "notebooks").mkdir(parents=True)
        for path in [*notebooks, build_slides.RISE_CSS]:  # copies: the repository stays untouched
            shutil.copy(path, self.root / "notebooks" / path.name)
        settings = folder / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, **{name: str(folder / sub) for name, sub in [
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib")]})
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--ServerApp.allow_root=True",
            "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
        ]
        self.log = (folder / "server.log").open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_up()

    def log_tail(self) -> str:
        return "".join((self.folder / "server.log").read_text().splitlines(True)[-20:])

    def _wait_until_up(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {seconds} s:\n{self.log_tail()}")

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def stop(self) -> list[str]:
        """Shut the server down (kernels first); return the processes left behind (none)."""
        if self.process.poll() is None:
            try:
                self.api("/api/shutdown", method="POST")
            except OSError:
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        self.log.close()
        deadline = time.monotonic() + 10
        while (left := processes_mentioning(str(self.folder))) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left


@pytest.fixture(scope="module")
def lab(tmp_path_factory, playwright_driver):
    if not NOTEBOOKS:
        pytest.skip("no notebooks in notebooks/")
    folder = tmp_path_factory.mktemp("jupyterlab")
    server = LabServer(folder, NOTEBOOKS)
    context = launch(playwright_driver, folder / "chromium", viewport=(1280, 800))
    outside = []

    def route(route):
        url = route.request.url
        if url.startswith((server.url, "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", route)
    yield server, context, outside
    context.close()
    left = server.stop()
    assert server.process.returncode is not None
    assert not left, "processes left behind after the JupyterLab shutdown:\n" + "\n".join(left)


def test_jupyterlab_refuses_requests_without_the_token(lab):
    server, _, _ = lab
    assert status_without_token(f"{server.url}/api/contents")[0] == 403
    assert status_without_token(f"{server.url}/api/kernels")[0] == 403
    status, location = status_without_token(f"{server.url}/lab")
    assert status == 302 and location.startswith("/login"), (status, location)
    assert status_without_token(f"{server.url}/api/contents?token=wrong")[0] == 403


KERNEL_IDLE = """(path) => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.context && panel.context.path === path
        && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

RENDERED = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const images = [...panel.querySelectorAll('.jp-OutputArea-output img')];
    return {
        math: panel.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
        images: images.length,
        loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    };
}"""


def expected_rendering(nb) -> tuple[int, int]:
    """Return (markdown cells with math, image outputs) that JupyterLab should render
    (collapsed outputs, such as a solution's, are not rendered until expanded)."""
    math = sum(
        1 for c in nb.cells
        if c.cell_type == "markdown" and re.search(r"\$[^$]+\$", c.source)
    )
    images = sum(
        1 for c in nb.cells
        if c.cell_type == "code" and not c.metadata.get("jupyter", {}).get("outputs_hidden")
        for o in c.outputs if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
    )
    return math, images


@notebooks
def test_jupyterlab_opens_the_notebook_and_rise_presents_it(notebook, lab):
    server, context, outside = lab
    outside.clear()
    nb = nbformat.read(notebook, as_version=4)
    math_cells, images = expected_rendering(nb)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # a workspace of its own, reset: nothing restored from the previous notebook
        page.goto(
            f"{server.url}/lab/workspaces/{notebook.stem}/tree/notebooks/{notebook.name}"
            f"?reset&token={server.token}"
        )
        path = f"notebooks/{notebook.name}"
        page.wait_for_function(KERNEL_IDLE, arg=path, timeout=TIMEOUT_MS)
        page.wait_for_function(
            f"""() => {{ const r = ({RENDERED})();
                return r.math >= {min(math_cells, 1)} && r.images >= {images}
                    && r.loaded === r.images; }}""",
            timeout=TIMEOUT_MS,
        )
        rendered = page.evaluate(RENDERED)
        sessions = server.api("/api/sessions")
        states = {s["path"]: s["kernel"]["execution_state"] for s in sessions}
        assert states.get(path) == "idle", states

        # one click on the notebook toolbar's RISE button presents it
        page.click(".jp-NotebookPanel:not(.lm-mod-hidden) [data-command='RISE:preview']")
        frame = page.frame_locator(f"iframe[src*='/rise/{path}']")
        frame.locator(".reveal.ready").wait_for(timeout=TIMEOUT_MS)
        footer = frame.locator("#rise-footer").text_content(timeout=TIMEOUT_MS)
        number = frame.locator(".slide-number").inner_text(timeout=TIMEOUT_MS)
        theme = frame.locator(".reveal").evaluate("e => getComputedStyle(e).fontFamily")
    finally:
        page.close()
        for session in server.api("/api/sessions"):  # one kernel at a time
            server.api(f"/api/sessions/{session['id']}", method="DELETE")
    assert rendered["images"] == images, rendered
    assert not math_cells or rendered["math"] > 0, rendered
    assert CONFIG["rise"]["footer"] in footer
    assert re.fullmatch(r"1\s*/\s*\d+", number.strip()), number
    assert "Source Sans Pro" in theme, theme  # the white theme's font, shipped with reveal.js
    assert not outside, f"JupyterLab tried the network: {outside}"
    assert not errors, errors


# Headings with math: reveal's white theme would print them in capitals (CSS
# text-transform), math included, so that 03's "$f(x) = x\, e^{-x^2}$ 在 $x = 0$" read
# "F(X) = XE^{-X²} 在 X = 0"; notebooks/rise.css, which RISE loads beside the notebook,
# keeps every heading as written.
MATH_HEADINGS = """slides => [...slides.querySelectorAll('h1, h2, h3')]
    .filter(h => h.querySelector('mjx-container'))
    .map(h => ({text: h.textContent.slice(0, 50), capitals: [h, ...h.querySelectorAll('*')]
        .filter(e => getComputedStyle(e).textTransform !== 'none').length}))"""
RISE_SCREENSHOT = SCREENSHOTS / "rise-lecture-03-math-heading.png"


def test_rise_presents_the_lecture_notebook_with_the_planned_slides(lecture, lab):
    _, notebook, plan = lecture
    server, context, outside = lab
    outside.clear()
    (server.root / "lecture").mkdir(exist_ok=True)
    for source in (notebook, notebook.parent / build_slides.RISE_CSS.name):
        shutil.copy(source, server.root / "lecture" / source.name)
    path = f"lecture/{notebook.name}"
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server.url}/lab/workspaces/lecture/tree/{path}?reset&token={server.token}")
        page.wait_for_function(KERNEL_IDLE, arg=path, timeout=TIMEOUT_MS)
        page.click(".jp-NotebookPanel:not(.lm-mod-hidden) [data-command='RISE:preview']")
        frame = page.frame_locator(f"iframe[src*='/rise/{path}']")
        # every cell of six notebooks: RISE takes longer to lay them out than one notebook
        frame.locator(".reveal.ready").wait_for(timeout=3 * TIMEOUT_MS)
        number = frame.locator(".slide-number").inner_text(timeout=TIMEOUT_MS)
        slides = frame.locator(".reveal .slides")
        shown = slides.evaluate(
            """slides => [...slides.querySelectorAll('.jp-Cell')]
                .filter(c => !c.classList.contains('reveal-skip')
                             && !c.closest('aside.notes')).length"""
        )
        title = frame.locator(".reveal .slides h1").first.inner_text(timeout=TIMEOUT_MS)
        slides.locator("mjx-container").first.wait_for(state="attached", timeout=TIMEOUT_MS)
        math_headings = slides.evaluate(MATH_HEADINGS)
        # present 03's first heading with math, as a lecturer would, and keep a picture of it
        heading = slides.locator("h2:has(mjx-container)", has_text="例子：").first
        for _ in range(plan.slide_count):
            if heading.evaluate("h => h.closest('section').classList.contains('present')"):
                break
            frame.locator(".reveal").press("ArrowRight")
        heading.wait_for(state="visible", timeout=TIMEOUT_MS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(RISE_SCREENSHOT))
        presented = heading.inner_text()
    finally:
        page.close()
        for session in server.api("/api/sessions"):
            server.api(f"/api/sessions/{session['id']}", method="DELETE")
    lecture_nb = nbformat.read(notebook, as_version=4)
    not_skipped = sum(1 for c in lecture_nb.cells if slide_type(c) not in ("skip", "notes"))
    assert re.fullmatch(rf"1\s*/\s*{plan.slide_count}", number.strip()), number
    assert shown == not_skipped, (shown, not_skipped)
    assert title.startswith(CONFIG["lecture"]["title"]), title  # as written, not in capitals
    assert math_headings and all(h["capitals"] == 0 for h in math_headings), math_headings
    assert presented.startswith("例子") and "F(X)" not in presented, presented
    assert not outside, f"JupyterLab tried the network: {outside}"
    assert not errors, errors
