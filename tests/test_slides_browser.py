"""The slides in headless Chromium: the offline reveal.js decks (make slides) with no
network, and live RISE in JupyterLab; screenshots go to build/slides/screenshots/
(every slide with COURSE_SLIDES_SCREENSHOTS=all).  And the exercises' answers stay
hidden in JupyterLab."""

import os
import re
import shutil
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

import build_slides
import tracks
from browser import KERNEL_IDLE, TIMEOUT_MS, LabServer, described
from course import CONFIG, NOTEBOOK_DIR, course_notebooks, read, slide_type, tags
from nbbuild import code, md, solution, write_notebook
from pdfs import OfflinePage

WIDTH, HEIGHT = build_slides.SLIDE_WIDTH, build_slides.SLIDE_HEIGHT
NOTEBOOKS = course_notebooks()
SCREENSHOTS = build_slides.BUILD_DIR / "screenshots"
LECTURE = build_slides.BUILD_DIR.parent / build_slides.LECTURE_NOTEBOOK  # built with the decks
notebooks = pytest.mark.parametrize("notebook", [*NOTEBOOKS, LECTURE], ids=lambda p: p.stem)
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def decks():
    """Build missing or stale decks (and the lecture deck) into build/slides."""
    if shutil.which("npm") is None:
        pytest.skip("npm not found: the decks need it (apt-get install -y npm), see README")
    return dict(zip(NOTEBOOKS, build_slides.build()))


# Show slide i with all its fragments; the deck typesets its formulas again, reveal centres it
# and the template then marks it data-typeset="done".
SHOW = """i => { const slide = Reveal.getSlides()[i], {h, v} = Reveal.getIndices(slide);
    if (slide !== Reveal.getCurrentSlide()) slide.removeAttribute('data-typeset');
    Reveal.slide(h, v, slide.querySelectorAll('.fragment').length - 1); }"""
TYPESET = """() => Reveal.getCurrentSlide().getAttribute('data-typeset') === 'done'
    && !document.querySelector('.MJXc-processing')"""
# The slide shown, in slide pixels (reveal scales the slide to the window; offset and scroll
# sizes ignore that, client rectangles do not): what ends below or right of the slide, and text,
# formulas and figures cut off by a box that clips them (a long code line scrolls sideways instead
# of widening the slide): each one's extent against every clipping box around it, up to the slide.
MEASURE = r"""([width, height]) => {
    const slide = Reveal.getCurrentSlide(), {h, v} = Reveal.getIndices(slide);
    const tall = slide.scrollHeight, bottom = slide.offsetTop + tall, wide = slide.scrollWidth;
    const misfits = [tall > height ? `height ${tall}px > ${height}px`
        : bottom > height ? `placed too low: ends at ${bottom}px > ${height}px` : '',
        wide > width ? `width ${wide}px > ${width}px` : ''];
    for (const element of slide.querySelectorAll('pre, img, table, .MathJax_CHTML, svg')) {
        if (element.closest('aside.notes') || element.parentElement.closest('.MathJax_CHTML'))
            continue;
        const range = document.createRange();
        range.selectNodeContents(element);
        const extent = (element.tagName === 'PRE' ? range : element).getBoundingClientRect();
        for (let box = element.parentElement; box && extent.width + extent.height > 0;
             box = box === slide ? null : box.parentElement) {
            const style = getComputedStyle(box), edge = box.getBoundingClientRect();
            const right = (extent.right - edge.right) / Reveal.getScale();
            const below = (extent.bottom - edge.bottom) / Reveal.getScale();
            if ((box === slide || style.overflowX !== 'visible' || style.overflowY !== 'visible')
                    && (right > 1 || below > 1)) {
                const what = element.tagName === 'PRE' ? 'text' : element.classList.contains(
                    'MathJax_CHTML') ? 'formula' : element.tagName.toLowerCase();
                misfits.push(`${what} ${JSON.stringify(element.textContent.trim().slice(0, 30))} cut `
                    + `off: ${Math.round(Math.max(right, 0))}px at the right, `
                    + `${Math.round(Math.max(below, 0))}px at the bottom`);
                break;
            }
        }
    }
    const heading = slide.querySelector('h1, h2, h3') || slide;
    const title = heading.innerText.replace(/¶/g, '').trim().split('\n')[0].slice(0, 60);
    return {h, v, title, misfits: misfits.filter(Boolean)};
}"""
# Text left as TeX source outside code and the speaker notes (which the deck template keeps
# as TeX for the speaker view), i.e. formulas MathJax did not typeset.
RAW_TEX = r"""() => [...document.querySelectorAll('.reveal .slides *')]
    .filter(e => !e.closest('script, style, pre, code, textarea, .MathJax_Preview, aside.notes'))
    .flatMap(e => [...e.childNodes].filter(n => n.nodeType === Node.TEXT_NODE))
    .map(n => n.textContent).filter(t => /\$[^$\n]*[^\s$][^$\n]*\$|\\\(|\\\[|\\begin\{/.test(t))
    .map(t => t.trim().slice(0, 80)).concat([...document.querySelectorAll('.mjx-merror, .MathJax_Error')]
        .map(e => 'MathJax error: ' + e.textContent.slice(0, 80)))"""


def check_deck(context, deck, nb, screenshots: bool = False):
    """Check the HTML of ``deck`` (made from ``nb``): no src or href to the network, the cells a
    slide shows (tracks.visible) and no others (solution, skip), notes inside speaker notes, alt
    text on every image; open it offline (what it loads from the network, @imports included, is
    refused and reported), show each slide and measure it.  Return the slides' titles, the
    problems and the page."""
    text = deck.read_text(encoding="utf-8")
    references = re.findall(r"""<(\w+)\b[^>]*?\b(src|href)\s*=\s*["']?([^"'\s>]*)""", text)
    problems = [f"<{tag} {name}={value!r}> refers to the network" for tag, name, value in references
                if re.match(r"\s*(https?:)?//", value, re.I)]
    asides = "".join(re.findall(r'<aside class="notes">(.*?)</aside>', text, re.S))
    for cell in nb.cells:
        marker, kind = f'id="cell-id={cell.id}"', slide_type(cell)
        if (marker in text) != tracks.visible(cell):
            problems.append(f"cell {cell.id} ({kind}, tags {tags(cell)}) "
                            + ("is in the deck" if marker in text else "is missing"))
        if kind == "notes" and marker not in asides:
            problems.append(f"notes cell {cell.id} is not inside <aside class='notes'>")
    for image in re.findall(r"<img\b[^>]*>", text):
        alt = re.search(r'\balt="([^"]*)"', image)
        if not (alt and described(alt[1])):
            problems.append(f"image without alt text: {image[:60]}")
    offline = OfflinePage(context, deck.parent)
    page = offline.open(deck, ready="() => window.Reveal?.isReady() && window.MathJax?.isReady")
    size = page.evaluate("() => { Reveal.configure({transition: 'none', backgroundTransition: 'none'});"
                         " return [Reveal.getConfig().width, Reveal.getConfig().height]; }")
    problems += [] if size == [WIDTH, HEIGHT] else [f"the slides are {size}, not {WIDTH}x{HEIGHT}"]
    count, stem = page.evaluate("() => Reveal.getSlides().length"), deck.name.split(".")[0]
    shots = {} if not screenshots else (
        {i: f"{stem}-slide{i + 1:03d}.png" for i in range(count)}
        if os.environ.get("COURSE_SLIDES_SCREENSHOTS") == "all"
        else {0: f"{stem}-first.png", count // 2: f"{stem}-middle.png"})
    titles = []
    for index in range(count):
        page.evaluate(SHOW, index)
        try:
            page.wait_for_function(TYPESET, timeout=10_000)
        except PlaywrightTimeout:
            problems.append(f"slide {index + 1}: formulas not typeset again within 10 s of showing it")
        slide = page.evaluate(MEASURE, [WIDTH, HEIGHT])
        titles.append(slide["title"])
        if slide["misfits"]:
            problems.append(f"does not fit {WIDTH}x{HEIGHT}: slide {index + 1} (h={slide['h']}, "
                            f"v={slide['v']}, {slide['title']!r}): " + "; ".join(slide["misfits"]))
        if index in shots:
            page.screenshot(path=SCREENSHOTS / shots[index])  # folders made as needed
    problems += [f"raw TeX: {t!r}" for t in page.evaluate(RAW_TEX)] + offline.problems()
    return titles, problems, page


@notebooks
def test_deck_is_offline_without_solutions_typeset_and_fits_the_slide(notebook, decks, chromium):
    """Each notebook's deck, and the lecture deck: its core cells on the slides, its extended cells
    skip cells (check_deck checks both), the planned slides (the index: test_tools)."""
    deck = decks.get(notebook, build_slides.BUILD_DIR / build_slides.LECTURE_DECK)
    titles, problems, page = check_deck(chromium, deck, read(notebook), True)
    page.close()
    assert titles and not problems, f"{deck.name}:\n  " + "\n  ".join(problems or ["no slides"])
    if notebook == LECTURE:  # its title and part cells are visible cells: check_deck finds them
        assert len(titles) == tracks.plan(NOTEBOOKS).slide_count, titles


# --- the checks themselves, on a small deck made for the purpose ---------------------------


def test_checks_catch_overflow_and_raw_tex_and_show_notes_in_the_speaker_view(tmp_path, chromium):
    note = "SPEAKER-NOTE-7f3a: say the formula $a^2 + b^2$ slowly"  # TeX: the speaker view has no MathJax
    notebook = write_notebook(tmp_path / "notebooks" / "98_slide_check.ipynb", [
        md("# 98 幻灯片检查 (slide check)\n\nInline $f(x) = x e^{-x^2}$ and\n\n"
           "$$\\frac{df}{dx} = (1 - 2x^2)\\, e^{-x^2}$$\n\n<p><code>$x$</code> in code is fine, "
           '<span class="tex2jax_ignore">left: $y^2$</span> is raw TeX.</p>'),
        md(note, slide="notes"),
        md("## 练习 1\n\nRead [the cookbook](https://example.org/cookbook) and "
           "[notebook 97](97_other.ipynb#top)."),
        solution("SOLUTION_7f3a = 42\nassert SOLUTION_7f3a == 42"),
        md("## Too tall"), code("\n".join(f"print({i})" for i in range(40))),
        md("## Too wide"), code("x = " + " + ".join(f"value_{i}" for i in range(40))),
    ], summary="checks of the slide tests")
    (deck,) = build_slides.build([notebook], out_dir=tmp_path / "slides")
    text = deck.read_text(encoding="utf-8")  # check_deck finds a solution or a web link in it
    assert '<span class="link-address">(example.org/cookbook)</span>' in text
    assert 'href="97_other.slides.html"' in text

    titles, problems, page = check_deck(chromium, deck, read(notebook))
    assert len(titles) == 4
    assert [line.split(" (")[0] for line in problems] == [
        "does not fit 1280x720: slide 3", "does not fit 1280x720: slide 4",
        "raw TeX: 'left: $y^2$'"], problems
    assert "height" in problems[0] and 'text "x = value_0' in problems[1], problems

    page.evaluate("() => Reveal.slide(0)")
    assert not page.locator("aside.notes").first.is_visible()  # check_deck: the note is in it
    with chromium.expect_page(timeout=TIMEOUT_MS) as popup:
        page.keyboard.press("s")
    expect(popup.value.locator("body")).to_contain_text(note)
    popup.value.close()
    page.close()


# --- JupyterLab with RISE ------------------------------------------------------------------

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook shown


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"), NOTEBOOK_DIR)
    yield server
    left = server.stop()
    assert not left, "processes left behind after the JupyterLab shutdown:\n" + "\n".join(left)


def test_jupyterlab_refuses_requests_without_the_token(lab):
    for path in ("/api/contents", "/api/kernels", "/api/contents?token=wrong"):
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(lab.url + path, timeout=10)
    login = urllib.request.urlopen(lab.url + "/lab", timeout=10).url  # redirected
    assert login.startswith(f"{lab.url}/login"), login


# reveal's white theme prints headings in capitals (text-transform), math included
# ("F(X) = XE^{-X²}"); notebooks/rise.css, which RISE loads, keeps them as written.
MATH_HEADINGS = """slides => [...slides.querySelectorAll('h1, h2, h3')]
    .filter(h => h.querySelector('mjx-container'))
    .map(h => ({text: h.textContent.slice(0, 50), capitals: [h, ...h.querySelectorAll('*')]
        .filter(e => getComputedStyle(e).textTransform !== 'none').length}))"""


@notebooks
def test_jupyterlab_opens_the_notebook_and_rise_presents_it(notebook, chromium, lab, request):
    """Each notebook, and the lecture notebook: RISE shows it with the planned slides, its
    cells but the skipped ones, its title and headings (those with math too) as written."""
    if notebook == LECTURE:  # built with the decks, presented with its rise.css
        request.getfixturevalue("decks")
        shutil.copytree(notebook.parent, lab.root / "lecture", dirs_exist_ok=True)
    nb, path, plan = read(notebook), f"{notebook.parent.name}/{notebook.name}", tracks.plan(NOTEBOOKS)
    # markdown cells with math; images JupyterLab renders (a solution's collapsed ones are not)
    math = any(c.cell_type == "markdown" and re.search(r"\$[^$]+\$", c.source) for c in nb.cells)
    images = sum(1 for c in nb.cells if c.cell_type == "code"
                 and not c.metadata.get("jupyter", {}).get("outputs_hidden") for o in c.outputs
                 if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}))
    with lab.open(chromium, path, notebook.stem) as (page, problems):
        expect(page.locator(f"{PANEL} .jp-OutputArea-output img")).to_have_count(images)
        page.wait_for_function(f"""() => [...document.querySelectorAll('{PANEL} .jp-OutputArea-output img')]
            .every(i => i.complete && i.naturalWidth > 0)""", timeout=TIMEOUT_MS)
        if math:
            expect(page.locator(f"{PANEL} .jp-RenderedMarkdown mjx-container").first).to_be_attached()
        page.click(f"{PANEL} [data-command='RISE:preview']")  # the toolbar's RISE button
        frame = page.frame_locator(f"iframe[src*='/rise/{path}']")
        # the lecture has every cell of the notebooks: RISE takes longer to lay it out
        frame.locator(".reveal.ready").wait_for(timeout=(3 if notebook == LECTURE else 1) * TIMEOUT_MS)
        expect(frame.locator("#rise-footer")).to_contain_text(CONFIG["rise"]["footer"])
        count = plan.slide_count if notebook == LECTURE else r"\d+"
        expect(frame.locator(".slide-number")).to_have_text(re.compile(rf"^\s*1\s*/\s*{count}\s*$"))
        # the white theme's font, shipped with reveal.js; text a room can read (not JupyterLab's
        # 14 px), and the footer on one line
        expect(frame.locator(".reveal")).to_have_css("font-family", re.compile("Source Sans Pro"))
        expect(frame.locator(".jp-RenderedMarkdown p").first).to_have_css("font-size", "18px")
        assert frame.locator(".course-footer").bounding_box()["height"] < 30
        if notebook == LECTURE:
            slides = frame.locator(".reveal .slides")
            shown = slides.evaluate("""slides => [...slides.querySelectorAll('.jp-Cell')].filter(
                c => !c.classList.contains('reveal-skip') && !c.closest('aside.notes')).length""")
            assert shown == sum(slide_type(c) not in ("skip", "notes") for c in nb.cells), shown
            # innerText is the text as shown: the title as written, not in capitals
            title = re.compile("^" + re.escape(CONFIG["lecture"]["title"]))
            expect(slides.locator("h1").first).to_have_text(title, use_inner_text=True)
            math_headings = slides.evaluate(MATH_HEADINGS)  # typeset: with an mjx-container
            assert math_headings and all(h["capitals"] == 0 for h in math_headings), math_headings
    assert not problems, problems


# --- answers stay hidden where students meet them: JupyterLab, before and after Run All ---

EXERCISES = NOTEBOOK_DIR / "03_finite_difference_error.ipynb"


def answer_snippets(nb) -> list[str]:
    """A run of Chinese text from each written answer (markdown tagged solution), a printed
    line from each solution cell's output: read from the notebook itself."""
    snippets = []
    for cell in (c for c in nb.cells if "solution" in tags(c)):
        if cell.cell_type == "markdown":
            text = re.sub(r"<[^>]+>|\$[^$]*\$|`[^`]*`|\*\*", " ", cell.source)
            runs = re.findall(r"[\u4e00-\u9fff，、]{8,}", text)
            snippets += [r for r in runs if "参考答案" not in r][:2]
        for output in cell.get("outputs", []):
            text = str(output.get("text") or output.get("data", {}).get("text/plain", ""))
            snippets += [s for line in text.splitlines() if len(s := line.strip()) >= 12][:2]
    return snippets


def visible_answers(page, snippets) -> list[str]:
    notebook = page.locator(f"{PANEL} .jp-Notebook")
    return [s for s in snippets if any(m.is_visible() for m in notebook.get_by_text(s).all())]


def test_no_answer_is_visible_in_jupyterlab_before_or_after_run_all(chromium, lab):
    # Run All on a copy of its own, so the other tests see the notebook as it is
    path = f"notebooks/run-all-{EXERCISES.name}"
    shutil.copy(EXERCISES, lab.root / path)
    nb = read(EXERCISES)
    snippets = answer_snippets(nb)  # at least one for each solution
    assert len(snippets) >= sum("solution" in tags(c) for c in nb.cells) > 0
    with lab.open(chromium, path, "exercises") as (page, problems):
        exercise = page.locator(".jp-MarkdownCell h2", has_text="练习 1").first
        expect(exercise).to_be_visible()
        assert not visible_answers(page, snippets), "answers visible when the notebook opens"
        exercise.scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "exercises-before.png")

        # without the stored counts, every cell must get a new one from this kernel
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.content.widgets
            .every(c => c.model.type !== 'code' || c.model.executionCount !== null)""",
                               timeout=2 * TIMEOUT_MS, polling=500)
        page.wait_for_function(KERNEL_IDLE, arg=path, timeout=TIMEOUT_MS)
        assert not visible_answers(page, snippets), "answers visible after Run All"
        exercise.scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "exercises-after.png")
        # the folded output is there: opening it shows the answer (so the check above can fail)
        page.locator(".jp-OutputArea-output details summary").first.click()
        page.wait_for_timeout(300)
        assert visible_answers(page, snippets)
    assert not problems, problems
