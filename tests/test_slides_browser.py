"""The slides in headless Chromium: the offline reveal.js decks (make slides) with no
network, and live RISE in JupyterLab; screenshots go to build/slides/screenshots/
(every slide with COURSE_SLIDES_SCREENSHOTS=all).  And the exercises' answers stay
hidden in JupyterLab."""

import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

import build_slides
import tracks
from browser import TIMEOUT_MS, LabServer, described
from course import CONFIG, NOTEBOOK_DIR, course_notebooks, slide_type
from nbbuild import code, md, solution, write_notebook
from pdfs import OfflinePage

WIDTH, HEIGHT = build_slides.SLIDE_WIDTH, build_slides.SLIDE_HEIGHT
NOTEBOOKS = course_notebooks()
SCREENSHOTS = build_slides.BUILD_DIR / "screenshots"
notebooks = pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


@pytest.fixture(scope="session")
def decks():
    """Build missing or stale decks (and the lecture deck) into build/slides."""
    if shutil.which("npm") is None:
        pytest.skip("npm not found: the decks need it (apt-get install -y npm), see README")
    return dict(zip(NOTEBOOKS, build_slides.build()))


@pytest.fixture(scope="session")
def lecture(decks):
    """(lecture deck, lecture notebook, plan), built with the decks."""
    out = build_slides.BUILD_DIR
    return (out / build_slides.LECTURE_DECK, out.parent / build_slides.LECTURE_NOTEBOOK,
            tracks.plan(NOTEBOOKS))


def links(text):
    """(tag, attribute, value) of every src and href in an HTML page."""
    return re.findall(r"""<(\w+)\b[^>]*?\b(src|href)\s*=\s*["']?([^"'\s>]*)""", text)


WAIT_READY = """() => window.Reveal && window.Reveal.isReady() && window.MathJax
    && window.MathJax.isReady && Reveal.getCurrentSlide().getAttribute('data-typeset') === 'done'"""

# After a slide change the deck typesets its formulas again, then reveal centres it; the
# template marks the slide data-typeset="done" when both are finished.
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

# Text, formulas and figures hidden by a box that clips them (a long code line scrolls
# sideways instead of widening the slide): each one's extent against every clipping box
# around it, up to the slide itself, in slide pixels.
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

# Show every slide in turn and measure it, in slide coordinates (reveal scales the
# 1280x720 slide to the window; offset/scroll sizes ignore that transform).
MEASURE_SLIDES = "async () => {" + CUT_OFF + SETTLE + r"""
    const R = window.Reveal;
    R.configure({transition: 'none', backgroundTransition: 'none'});
    const width = R.getConfig().width, height = R.getConfig().height;
    const measured = [];
    for (const [index, slide] of R.getSlides().entries()) {
        const where = go(slide);
        const typeset = await settle();
        // reveal centres a slide by its top offset: what ends below the slide is cut off
        const tall = slide.scrollHeight, bottom = slide.offsetTop + slide.scrollHeight;
        const misfits = [
            tall > height ? `height ${tall}px > ${height}px`
                : bottom > height ? `placed too low: ends at ${bottom}px > ${height}px` : '',
            slide.scrollWidth > width ? `width ${slide.scrollWidth}px > ${width}px` : '',
            ...cutOff(slide, R.getScale())].filter(Boolean);
        const heading = slide.querySelector('h1, h2, h3');
        const text = (heading ? heading.innerText : slide.innerText).replace(/¶/g, '');
        measured.push({index, h: where.h, v: where.v, misfits, typeset,
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
    offline = OfflinePage(context, deck.parent)
    offline.open(deck, ready=WAIT_READY)
    return offline


def check_deck(context, deck: Path, nb, screenshots: bool = False):
    """Check the HTML of ``deck`` (made from ``nb``): no network references, no solution or skip
    cells, notes inside speaker notes, alt text on every image; open it offline and measure every
    slide; return (measurements, problems)."""
    text = deck.read_text(encoding="utf-8")
    problems = [f"<{tag} {name}={value!r}> refers to the network" for tag, name, value in links(text)
                if re.match(r"\s*(https?:)?//", value, re.I)]
    if re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", text, re.I):
        problems.append("a style sheet @imports from the network")
    asides = "".join(re.findall(r'<aside class="notes">(.*?)</aside>', text, re.S))
    for cell in nb.cells:
        marker, kind = f'id="cell-id={cell.id}"', slide_type(cell)
        if "solution" in cell.metadata.get("tags", []) and marker in text:
            problems.append(f"solution cell {cell.id} is in the deck (it must be removed)")
        if kind == "skip" and marker in text:
            problems.append(f"skip cell {cell.id} is in the deck")
        if kind == "notes" and marker not in asides:
            problems.append(f"notes cell {cell.id} is not inside <aside class='notes'>")
    for image in re.findall(r"<img\b[^>]*>", text):
        alt = re.search(r'\balt="([^"]*)"', image)
        if not (alt and described(alt[1])):
            problems.append(f"image without alt text: {image[:60]}")
    offline = open_deck(context, deck)
    page = offline.page
    result = page.evaluate(MEASURE_SLIDES)
    problems += [f"raw TeX: {t!r}" for t in page.evaluate(RAW_TEX)]
    problems += [f"slide {m['index'] + 1}: formulas not typeset again within 10 s of showing it"
                 for m in result["measured"] if not m["typeset"]]
    problems += [f"does not fit {WIDTH}x{HEIGHT}: slide {m['index'] + 1} (h={m['h']}, v={m['v']}, "
                 f"{m['title']!r}): " + "; ".join(m["misfits"]) for m in result["measured"] if m["misfits"]]
    if screenshots:
        stem, count = deck.name.removesuffix(".slides.html"), len(result["measured"])
        shots = ({f"{stem}-slide{i + 1:03d}.png": i for i in range(count)}
                 if os.environ.get("COURSE_SLIDES_SCREENSHOTS") == "all"
                 else {f"{stem}-first.png": 0, f"{stem}-middle.png": count // 2})
        for name, index in shots.items():
            page.evaluate("async (i) => {" + SETTLE + " go(Reveal.getSlides()[i]); await settle(); }",
                          index)
            screenshot(page, name)
    problems += offline.problems()
    page.close()
    return result, problems


@notebooks
def test_deck_is_offline_without_solutions_typeset_and_fits_the_slide(notebook, decks, chromium):
    deck = decks[notebook]
    result, problems = check_deck(chromium, deck, nbformat.read(notebook, as_version=4), True)
    assert result["measured"], f"{deck.name}: no slides"
    assert (result["width"], result["height"]) == (WIDTH, HEIGHT)
    assert not problems, f"{deck.name}:\n  " + "\n  ".join(problems)


def test_lecture_deck_has_the_core_cells_and_the_planned_slides_and_fits(lecture, chromium):
    deck, notebook, plan = lecture
    text = deck.read_text(encoding="utf-8")
    # extended cells are skip cells of the lecture notebook: check_deck finds them
    result, problems = check_deck(chromium, deck, nbformat.read(notebook, as_version=4), True)
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        problems += [f"core cell {path.stem[:2]}-{cell.id} is missing"
                     for cell, track in zip(nb.cells, tracks.cell_tracks(nb))
                     if track == tracks.CORE and tracks.visible(cell)
                     and f'id="cell-id={path.stem[:2]}-{cell.id}"' not in text]
    assert not problems, f"{deck.name}:\n  " + "\n  ".join(problems)
    hrefs = [value for tag, _, value in links((deck.parent / "index.html").read_text()) if tag == "a"]
    assert hrefs == [deck.name] + [build_slides.deck_name(p) for p in NOTEBOOKS], hrefs
    titles = [m["title"] for m in result["measured"]]
    assert len(titles) == plan.slide_count <= CONFIG["lecture"]["max_slides"], len(titles)
    assert titles[0].startswith(CONFIG["lecture"]["title"]), titles[0]
    assert len([t for t in titles if t.startswith("第 ")]) == len(plan.lecture_parts), titles


# --- the checks themselves, on a small deck made for the purpose ---------------------------

SPEAKER_NOTE = "SPEAKER-NOTE-7f3a: say the formula slowly"


def test_checks_catch_overflow_and_raw_tex_and_show_notes_in_the_speaker_view(
        tmp_path, chromium):
    tall = "\n".join(f"print({i})" for i in range(40))
    wide = "x = " + " + ".join(f"value_{i}" for i in range(40))
    notebook = write_notebook(tmp_path / "notebooks" / "98_slide_check.ipynb", [
        md("# 98 幻灯片检查 (slide check)\n\nInline $f(x) = x e^{-x^2}$ and\n\n"
           "$$\\frac{df}{dx} = (1 - 2x^2)\\, e^{-x^2}$$; <code>$x$</code> in code is fine."),
        md(SPEAKER_NOTE, slide="notes"),
        md("## 练习 1\n\nRead [the cookbook](https://example.org/cookbook) and "
           "[notebook 97](97_other.ipynb#top)."),
        solution("SOLUTION_7f3a = 42\nassert SOLUTION_7f3a == 42"),
        md("## Too tall"), code(tall), md("## Too wide"), code(wide),
    ], summary="checks of the slide tests")
    (deck,) = build_slides.build([notebook], out_dir=tmp_path / "slides")
    text = deck.read_text(encoding="utf-8")
    assert "SOLUTION_7f3a" not in text
    assert "https://" not in "".join(v for _, _, v in links(text))
    assert '<span class="link-address">(example.org/cookbook)</span>' in text
    assert 'href="97_other.slides.html"' in text

    result, problems = check_deck(chromium, deck, nbformat.read(notebook, as_version=4))
    assert len(result["measured"]) == 4
    assert [line.split(" (")[0] for line in problems] == [
        "does not fit 1280x720: slide 3", "does not fit 1280x720: slide 4"], problems
    assert "height" in problems[0] and "text \"x = value_0" in problems[1], problems

    offline = open_deck(chromium, deck)
    offline.page.evaluate(
        "() => { const p = document.createElement('p'); p.textContent = 'left: $y^2$';"
        " document.querySelector('.reveal .slides section section').appendChild(p); }")
    assert offline.page.evaluate(RAW_TEX) == ["left: $y^2$"]
    note = offline.page.locator("aside.notes").first
    assert SPEAKER_NOTE in note.text_content()
    assert not note.is_visible()
    with chromium.expect_page(timeout=TIMEOUT_MS) as popup:
        offline.page.keyboard.press("s")
    popup.value.wait_for_function(
        "text => document.body.innerText.includes(text)", arg=SPEAKER_NOTE, timeout=TIMEOUT_MS)
    popup.value.close()
    assert offline.problems() == []
    offline.page.close()


# --- JupyterLab with RISE ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium):
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"), [*NOTEBOOKS, build_slides.RISE_CSS])
    yield server, chromium
    left = server.stop()
    assert server.process.returncode is not None
    assert not left, "processes left behind after the JupyterLab shutdown:\n" + "\n".join(left)


def test_jupyterlab_refuses_requests_without_the_token(lab):
    for path in ("/api/contents", "/api/kernels", "/api/contents?token=wrong"):
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(lab[0].url + path, timeout=10)
    login = urllib.request.urlopen(lab[0].url + "/lab", timeout=10).url  # redirected
    assert login.startswith(f"{lab[0].url}/login"), login


RENDERED = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const images = [...panel.querySelectorAll('.jp-OutputArea-output img')];
    return {
        math: panel.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
        images: images.length,
        loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    };
}"""


def rise_preview(page, path: str, timeout: int = TIMEOUT_MS):
    """Click the notebook toolbar's RISE button; return the frame of the presentation."""
    page.click(".jp-NotebookPanel:not(.lm-mod-hidden) [data-command='RISE:preview']")
    frame = page.frame_locator(f"iframe[src*='/rise/{path}']")
    frame.locator(".reveal.ready").wait_for(timeout=timeout)
    return frame


@notebooks
def test_jupyterlab_opens_the_notebook_and_rise_presents_it(notebook, lab):
    server, context = lab
    nb = nbformat.read(notebook, as_version=4)
    # markdown cells with math; images JupyterLab renders (a solution's collapsed ones are not)
    math = sum(c.cell_type == "markdown" and bool(re.search(r"\$[^$]+\$", c.source)) for c in nb.cells)
    images = sum(1 for c in nb.cells if c.cell_type == "code"
                 and not c.metadata.get("jupyter", {}).get("outputs_hidden") for o in c.outputs
                 if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}))
    path = f"notebooks/{notebook.name}"
    with server.open(context, path, notebook.stem) as (page, problems):
        page.wait_for_function(f"""() => {{ const r = ({RENDERED})();
            return r.math >= {min(math, 1)} && r.images >= {images} && r.loaded === r.images; }}""",
                               timeout=TIMEOUT_MS)
        rendered = page.evaluate(RENDERED)
        states = {s["path"]: s["kernel"]["execution_state"] for s in server.api("/api/sessions")}
        assert states.get(path) == "idle", states
        frame = rise_preview(page, path)
        footer = frame.locator("#rise-footer").text_content(timeout=TIMEOUT_MS)
        number = frame.locator(".slide-number").inner_text(timeout=TIMEOUT_MS)
        theme = frame.locator(".reveal").evaluate("e => getComputedStyle(e).fontFamily")
    assert rendered["images"] == images, rendered
    assert not math or rendered["math"] > 0, rendered
    assert CONFIG["rise"]["footer"] in footer
    assert re.fullmatch(r"1\s*/\s*\d+", number.strip()), number
    assert "Source Sans Pro" in theme, theme  # the white theme's font, shipped with reveal.js
    assert not problems, problems


# reveal's white theme prints headings in capitals (text-transform), math included
# ("F(X) = XE^{-X²}"); notebooks/rise.css, which RISE loads, keeps them as written.
MATH_HEADINGS = """slides => [...slides.querySelectorAll('h1, h2, h3')]
    .filter(h => h.querySelector('mjx-container'))
    .map(h => ({text: h.textContent.slice(0, 50), capitals: [h, ...h.querySelectorAll('*')]
        .filter(e => getComputedStyle(e).textTransform !== 'none').length}))"""


def test_rise_presents_the_lecture_notebook_with_the_planned_slides(lecture, lab):
    _, notebook, plan = lecture
    server, context = lab
    (server.root / "lecture").mkdir(exist_ok=True)
    for source in (notebook, notebook.parent / build_slides.RISE_CSS.name):
        shutil.copy(source, server.root / "lecture" / source.name)
    path = f"lecture/{notebook.name}"
    with server.open(context, path, "lecture") as (page, problems):
        # every cell of the notebooks: RISE takes longer to lay them out than one notebook
        frame = rise_preview(page, path, timeout=3 * TIMEOUT_MS)
        number = frame.locator(".slide-number").inner_text(timeout=TIMEOUT_MS)
        slides = frame.locator(".reveal .slides")
        shown = slides.evaluate("""slides => [...slides.querySelectorAll('.jp-Cell')]
            .filter(c => !c.classList.contains('reveal-skip') && !c.closest('aside.notes')).length""")
        title = frame.locator(".reveal .slides h1").first.inner_text(timeout=TIMEOUT_MS)
        slides.locator("mjx-container").first.wait_for(state="attached", timeout=TIMEOUT_MS)
        math_headings = slides.evaluate(MATH_HEADINGS)
        # present 03's first core heading with math, as a lecturer would, and keep a picture of it
        heading = slides.locator("h2:has(mjx-container)", has_text="误差难以控制").first
        for _ in range(plan.slide_count):
            if heading.evaluate("h => h.closest('section').classList.contains('present')"):
                break
            frame.locator(".reveal").press("ArrowRight")
        heading.wait_for(state="visible", timeout=TIMEOUT_MS)
        screenshot(page, "rise-lecture-03-math-heading.png")
        presented = heading.inner_text()
    lecture_nb = nbformat.read(notebook, as_version=4)
    assert re.fullmatch(rf"1\s*/\s*{plan.slide_count}", number.strip()), number
    assert shown == sum(slide_type(c) not in ("skip", "notes") for c in lecture_nb.cells), shown
    assert title.startswith(CONFIG["lecture"]["title"]), title  # as written, not in capitals
    assert math_headings and all(h["capitals"] == 0 for h in math_headings), math_headings
    assert presented.startswith("误差难以控制") and "X" not in presented, presented
    assert not problems, problems


# --- answers stay hidden where students meet them: JupyterLab, before and after Run All ---

EXERCISES = NOTEBOOK_DIR / "03_finite_difference_error.ipynb"


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


ALL_RUN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    return cells.every(c => c.model.executionCount !== null)
        && panel.sessionContext.session.kernel.status === 'idle';
}"""


def visible_answers(page, snippets) -> list[str]:
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    return [s for s in snippets if any(m.is_visible() for m in notebook.get_by_text(s).all())]


def exercise_screenshot(page, name):
    page.locator(".jp-MarkdownCell h2", has_text="练习 1").first.scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
                  ".jp-WindowedPanel-outer').scrollBy(0, -20)")
    page.wait_for_timeout(500)
    screenshot(page, name)


def test_no_answer_is_visible_in_jupyterlab_before_or_after_run_all(lab):
    server, context = lab
    # Run All and save on a copy of its own, so the other tests see the notebook as it is
    path = f"notebooks/run-all-{EXERCISES.name}"
    shutil.copy(EXERCISES, server.root / path)
    nb = nbformat.read(EXERCISES, as_version=4)
    snippets = answer_snippets(nb)  # at least one for each solution
    assert len(snippets) >= sum("solution" in c.metadata.get("tags", []) for c in nb.cells) > 0
    with server.open(context, path, "exercises") as (page, problems):
        page.wait_for_selector(".jp-MarkdownCell h2:has-text('练习 1')", timeout=TIMEOUT_MS)
        assert page.locator(".jp-MarkdownCell h2", has_text="练习 1").first.is_visible()
        assert not visible_answers(page, snippets), "answers visible when the notebook opens"
        exercise_screenshot(page, "exercises-before.png")

        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_RUN, timeout=2 * TIMEOUT_MS, polling=500)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_timeout(1000)
        saved = nbformat.read(server.root / path, as_version=4)
        student_check = [c for c in saved.cells if c.cell_type == "code"
                         and "ad.check_optimal_step(h_star, h_data, steps)" in c.source
                         and "solution" not in c.metadata.get("tags", [])]
        assert student_check and "not yet" in str(student_check[0].outputs)  # it did run
        assert not visible_answers(page, snippets), "answers visible after Run All"
        exercise_screenshot(page, "exercises-after.png")
        # the folded output is there: opening it shows the answer (so the check above can fail)
        page.locator(".jp-OutputArea-output details summary").first.click()
        page.wait_for_timeout(300)
        assert visible_answers(page, snippets)
    assert not problems, problems
