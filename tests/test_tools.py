"""tools/: record leaves failing notebooks untouched, nav is idempotent, nbbuild cells, the decks' build."""

import re
import subprocess
import sys

import nbformat

import build_slides
import nav
from course import MARKER, ROOT, course_notebooks, is_nav_cell
from nbbuild import code, md, solution, write_notebook


def test_record_stores_outputs_and_navigation_and_leaves_a_failing_notebook_byte_identical(tmp_path):
    broken = write_notebook(tmp_path / "01_broken.ipynb", [
        md("# Broken"),
        code("x = 1\nprint(x)"),
        code("y = 1 / 0  # the failing cell\nprint(y)"),
        code("print('never reached')"),
    ], summary="a notebook that fails")
    path = write_notebook(tmp_path / "02_fine.ipynb", [
        md("# Fine"),
        code("%matplotlib inline\nimport autodiff_helpers as ah\nah.use_course_style()"),
        code("import os, time\nprint(os.path.basename(os.getcwd()), flush=True)\n"
             "time.sleep(0.3)\nprint('later')"),
        code("raise ValueError('allowed here')", tags=("raises-exception",)),
        code("1 + 1"),
        md("## Answer", slide="fragment"),
        solution("assert True"),
    ], summary="a notebook that runs")
    before = broken.read_bytes()
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "record.py"), str(broken), str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert broken.read_bytes() == before
    assert (f"FAILED {broken}: cell 2 ('y = 1 / 0  # the failing cell')\n"
            "  ----> 1 y = 1 / 0  # the failing cell\n  ZeroDivisionError: division by zero\n"
            "  file left unchanged\n") in result.stderr
    assert sorted(tmp_path.iterdir()) == [broken, path]  # no temporary file left behind
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code_cells] == [1, 2, 3, 4, 5]
    # cwd is the notebook's folder; a print that arrives in two messages is stored as one stream
    assert [o.text for o in code_cells[1].outputs] == [f"{tmp_path.name}\nlater\n"]
    assert code_cells[2].outputs[0].ename == "ValueError"
    assert code_cells[3].outputs[0].data["text/plain"] == "2"
    assert nav.refresh(tmp_path, readme=None, exclude=[broken], write=False) == []  # navigation
    assert "execution" not in code_cells[0].metadata  # no timings: recordings diff cleanly
    # nbbuild's cells keep their metadata: a solution is collapsed, tagged and off the slides
    assert nb.cells[-3].metadata.slideshow.slide_type == "fragment"
    assert code_cells[4].metadata == {"jupyter": {"source_hidden": True, "outputs_hidden": True},
                                      "slideshow": {"slide_type": "skip"}, "tags": ["solution"]}


def test_nav_links_neighbours_follows_titles_and_leaves_excluded_notebooks_alone(tmp_path):
    folder = tmp_path / "notebooks"
    for number, title in [("01", "First"), ("02", "Second"), ("03", "Third")]:
        write_notebook(folder / f"{number}_n{number}.ipynb", [md(f"# {title}"), code("1")],
                       summary=f"the {title.lower()} one")
    first, second, third = course_notebooks(folder)
    assert nav.refresh(folder, readme=None, write=False) == [first, second, third]  # listed, not written
    # as make record leaves a notebook that failed; each refresh writes only what it returns
    assert nav.refresh(folder, readme=None, exclude=[third]) == [first, second]
    assert nav.refresh(folder, readme=None) == [third]
    assert nav.refresh(folder, readme=None) == []

    middle = nbformat.read(second, as_version=4)
    links = ("< [First](01_n01.ipynb) | [目录 (Contents)](../README.md#notebooks)"
             " | [Third](03_n03.ipynb) >")
    assert [middle.cells[0], middle.cells[-1]] == [nbformat.v4.new_markdown_cell(
        f"{MARKER}\n{links}", id=cell_id, metadata=nav.NAV_METADATA) for cell_id in nav.NAV_IDS]
    assert len(middle.cells) == 4

    middle.cells[1].source = "# Second renamed"
    middle.cells.insert(2, nbformat.v4.new_markdown_cell(MARKER + "\nstale copy"))
    middle.metadata.rise.update(theme="simple", autolaunch=True)  # a theme of its own: reset
    nbformat.write(middle, second)
    assert nav.refresh(folder, readme=None) == [first, second, third]
    assert "[Second renamed](02_n02.ipynb)" in nbformat.read(first, as_version=4).cells[0].source
    nb = nbformat.read(second, as_version=4)
    assert sum(is_nav_cell(c) for c in nb.cells) == 2
    assert nb.metadata.rise == {**nav.rise_settings(), "autolaunch": True}  # other keys kept


def test_a_course_build_lists_every_deck_removes_old_ones_and_rebuilds_only_stale_ones(
        tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(build_slides, "vendor", lambda out_dir: None)
    monkeypatch.setattr(build_slides, "exporter", lambda: None)
    monkeypatch.setattr(build_slides, "convert", lambda notebook, _, **__: built.append(notebook) or "")
    out = tmp_path / "slides"  # the lecture notebook goes to tmp_path / "lecture"
    out.mkdir()
    (out / "00_removed.slides.html").write_text("notebook no longer exists")

    decks = build_slides.build(out_dir=out)

    course = course_notebooks()
    assert sorted(p.name for p in out.glob("*.slides.html")) == sorted(
        [build_slides.deck_name(p) for p in course] + [build_slides.LECTURE_DECK])
    assert (tmp_path / build_slides.LECTURE_NOTEBOOK).exists() and len(built) == len(course) + 1
    links = re.findall(r'<a href="([^"]*)"', (out / "index.html").read_text(encoding="utf-8"))
    assert links == [build_slides.LECTURE_DECK] + [deck.name for deck in decks]  # no 00_removed
    assert build_slides.build(out_dir=out) == decks and len(built) == len(course) + 1


def test_deck_badges_are_styled_in_text_only():
    page = '<h2 id="a-【核心】">A 【核心】 and 【选讲】<a href="#a-【核心】">¶</a></h2>'
    assert build_slides.styled_badges(page) == (
        '<h2 id="a-【核心】">A <span class="track track-core">【核心】</span> and '
        '<span class="track track-extended">【选讲】</span><a href="#a-【核心】">¶</a></h2>')
