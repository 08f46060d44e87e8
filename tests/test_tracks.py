"""Core/extended marks, the lecture plan and the lecture notebook (tools/tracks.py).

The course's notebooks: every section is marked and shows its badge, the
README's plan is the one the marks give and fits the two-hour slot, and the
core path ends with the PyTorch training loop.  The lecture notebook, run top
to bottom in one kernel as "Run All" would before a live RISE lecture,
reproduces the notebooks' stored outputs.  The tool itself is checked on small
notebooks made here.
"""

import re

import nbformat
import pytest
from nbclient import NotebookClient

import build_slides
import nav
import tracks
from nbbuild import code, md, solution, write_notebook
from record import CurrentEnvKernelManager

NOTEBOOKS = nav.course_notebooks()
notebooks = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
# --- the course ------------------------------------------------------------------------------


@notebooks
def test_every_section_is_marked_and_shows_its_badge(path):
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    sections = [u for u in tracks.units(nb) if u.level == "section"]
    assert sections, f"{path.name}: no sections"
    unmarked = [u.title for u in sections if not u.explicit]
    assert not unmarked, f"{path.name}: sections without a track: {unmarked} (run make nav)"
    assert tracks.problems(nb) == []
    for unit in tracks.units(nb):
        if unit.explicit:
            cell = nb.cells[unit.index]
            assert cell.metadata["course"]["track"] == unit.track
            assert cell.source.split("\n", 1)[0].endswith(" " + tracks.BADGES[unit.track])
    assert nav.notebook_text(tracks.apply_tracks(nb)) == text, (
        f"{path.name}: badges and metadata disagree (run make nav)"
    )


def test_readme_plan_is_current():
    text = nav.README.read_text(encoding="utf-8")
    assert tracks.PLAN_BEGIN in text and tracks.PLAN_END in text
    assert tracks.readme_with_plan(text, tracks.plan()) == text, (
        "README's lecture plan is out of date: run make nav"
    )


def test_the_lecture_fits_the_slot():
    plan = tracks.plan()
    assert plan.minutes <= tracks.LECTURE_MINUTES, plan.minutes
    assert plan.slide_count <= tracks.MAX_LECTURE_SLIDES, plan.slide_count
    assert tracks.BUFFER_MINUTES >= 10


def test_the_core_path_covers_the_original_plan_and_ends_with_a_network_trained_by_hand():
    plan = tracks.plan()
    # the original lecture's goals are notebooks 01-06, in order: each has core slides
    numbers = [p.path.name[:2] for p in plan.lecture_parts]
    assert numbers[:6] == ["01", "02", "03", "04", "05", "06"], numbers
    last = plan.lecture_parts[-1]
    nb = nav.read(last.path)
    core_code = [
        nb.cells[i].source for s in last.core_slides for i in s.cells if nb.cells[i].cell_type == "code"
    ]
    # the fifth goal, a network trained by hand: a gradient step written out (leaves, loss,
    # backward, theta - lr * grad) and a loop of such steps, on the core slides themselves
    steps = [src for src in core_code if ".backward()" in src and "- lr *" in src]
    loops = [src for src in core_code if "for step in range(" in src]
    assert steps and loops, f"no core code cell of {last.path.name} trains the network by hand"


def sanitize_rules():
    lines = (nav.ROOT / "tests" / "sanitize.cfg").read_text(encoding="utf-8").splitlines()
    return [
        (re.compile(line.removeprefix("regex: ")), following.removeprefix("replace: "))
        for line, following in zip(lines, lines[1:])
        if line.startswith("regex: ") and following.startswith("replace: ")
    ]


def output_text(cell, rules) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        elif "image/png" in output.data:
            parts.append("<image/png>")
        else:
            parts.append(output.data.get("text/plain", ""))
    text = "".join(parts)
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def test_the_lecture_notebook_runs_in_one_kernel_like_the_notebooks(tmp_path):
    lecture = tracks.lecture_notebook()
    stored = nbformat.from_dict(nbformat.reads(nav.notebook_text(lecture), as_version=4))
    NotebookClient(
        lecture, timeout=600, kernel_name="python3",
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    rules = sanitize_rules()
    differ = [
        f"{old.id}: {output_text(old, rules)[:120]!r} -> {output_text(new, rules)[:120]!r}"
        for old, new in zip(stored.cells, lecture.cells)
        if old.cell_type == "code" and "nbval-ignore-output" not in old.metadata.get("tags", [])
        and output_text(old, rules) != output_text(new, rules)
    ]
    assert not differ, "outputs differ from the notebooks':\n  " + "\n  ".join(differ)


# --- the tool, on small notebooks ------------------------------------------------------------

SETUP = "%matplotlib inline\nimport autodiff_helpers as ad\nad.use_course_style()"


def course(folder):
    """Two notebooks: the first marked by metadata, badge and subsection; the second unmarked."""
    first = nbformat.read(write_notebook(folder / "01_first.ipynb", [
        md("# 01 First\n\nintro"),
        code(SETUP, slide="skip"),
        md("## Alpha\n\ntext"),                           # 2: core by metadata
        code("print(1)"),
        md("## Alpha detail", slide="subslide"),          # 4: inherits core
        code("print(2)", slide="subslide"),
        md("## Beta 【核心】"),                            # 6: core by its badge
        md("### Beta side 【选讲】", slide="subslide"),     # 7: extended subsection
        code("print(3)"),
        md("## Gamma 【核心】"),                           # 9: metadata says extended: wins
        code("print(4)", slide="fragment"),
        md("## Delta"),                                   # 11: unmarked: extended
        md("### Delta core part", slide="subslide"),       # 12: core subsection
        code("print(5)"),
        md("## 练习 1"),
        solution("assert True"),
        md("## 练习 2"),
        solution("assert True"),
    ], summary="first"), as_version=4)
    first.cells[2].metadata["course"] = {"track": "core"}
    first.cells[9].metadata["course"] = {"track": "extended"}
    first.cells[12].metadata["course"] = {"track": "core"}
    nbformat.write(first, folder / "01_first.ipynb")
    write_notebook(folder / "02_second.ipynb", [
        md("# 02 Second"),
        code(SETUP, slide="skip"),
        md("## Unmarked"),
        code("print(6)"),
    ], summary="second")
    nav.refresh(folder, readme=None)  # navigation cells, and tracks applied
    return [folder / "01_first.ipynb", folder / "02_second.ipynb"]


def test_marks_from_metadata_or_badge_unmarked_sections_extended(tmp_path):
    first, second = course(tmp_path)
    nb = nav.read(first)
    by_title = {u.title: u for u in tracks.units(nb)}
    assert {t: (u.track, u.explicit) for t, u in by_title.items()} == {
        "Alpha": ("core", True),
        "Alpha detail": ("core", False),
        "Beta": ("core", True),
        "Beta side": ("extended", True),
        "Gamma": ("extended", True),
        "Delta": ("extended", True),   # written by the refresh: the default
        "Delta core part": ("core", True),
        "练习 1": ("extended", True),
        "练习 2": ("extended", True),
    }
    headings = [c.source.split("\n")[0] for c in nb.cells if tracks.heading(c)]
    assert headings == [
        "# 01 First", "## Alpha 【核心】", "## Alpha detail", "## Beta 【核心】",
        "### Beta side 【选讲】", "## Gamma 【选讲】", "## Delta 【选讲】",
        "### Delta core part 【核心】", "## 练习 1 【选讲】", "## 练习 2 【选讲】",
    ]
    assert [u.track for u in tracks.units(nav.read(second))] == [tracks.DEFAULT_TRACK]
    assert nav.pending_changes(tmp_path, readme=None) == {}  # idempotent


def test_slides_and_minutes_follow_the_pacing(tmp_path):
    first, _ = course(tmp_path)
    nb = nav.read(first)
    the_slides = tracks.slides(nb)
    # title | Alpha | Alpha detail | print(2) | Beta | Beta side | Gamma | Delta |
    # Delta core part | 练习 1 | 练习 2   (setup, solutions, navigation are not on slides)
    assert [s.track for s in the_slides] == [
        None, "core", "core", "core", "core", "extended", "extended", "extended", "core",
        "extended", "extended",
    ]
    assert [s.code for s in the_slides] == [
        False, True, False, True, False, True, True, False, True, False, False,
    ]
    part = tracks.part(first)
    assert part.core == ["Alpha", "Beta", "Delta core part"]
    assert part.extended == ["Beta side", "Gamma", "Delta", "练习 (2)"]
    one, demo = tracks.MINUTES_PER_SLIDE, tracks.MINUTES_PER_SLIDE * tracks.CODE_DEMO_FACTOR
    assert part.minutes == tracks.TITLE_SLIDE_MINUTES + 3 * demo + 2 * one
    assert part.slide_count == 5 + 1
    plan = tracks.plan([first, tmp_path / "02_second.ipynb"])
    assert [p.path.name for p in plan.lecture_parts] == ["01_first.ipynb"]
    assert plan.slide_count == 1 + part.slide_count
    assert plan.minutes == tracks.TITLE_SLIDE_MINUTES + part.minutes + tracks.BUFFER_MINUTES


def test_lecture_notebook_shows_the_core_slides_and_keeps_every_cell(tmp_path):
    first, second = course(tmp_path)
    lecture = tracks.lecture_notebook([first, second])
    nbformat.validate(lecture)
    plan = tracks.plan([first, second])
    assert len(tracks.slides(lecture)) == plan.slide_count
    ids = [c.id for c in lecture.cells]
    assert len(ids) == len(set(ids))
    assert not any(nav.is_nav_cell(c) for c in lecture.cells)
    source = nav.read(first)
    kept = [c for c in source.cells if not nav.is_nav_cell(c)][1:]  # without the title
    assert ids == ["lecture-title", "part-01"] + [f"01-{c.id}" for c in kept]  # 02: no core
    shown = [c.source.split("\n")[0] for c in lecture.cells if tracks.visible(c)]
    assert shown == [
        f"# {tracks.LECTURE_TITLE}", "# 第 1 部分：01 First", "## Alpha 【核心】", "print(1)",
        "## Alpha detail", "print(2)", "## Beta 【核心】", "### Delta core part 【核心】",
        "print(5)",
    ]
    types = {c.source.split("\n")[0]: tracks.slide_type(c) for c in lecture.cells}
    assert types["### Delta core part 【核心】"] == "slide"  # its section is not shown
    assert types["### Beta side 【选讲】"] == "skip" and types["print(3)"] == "skip"
    assert "[01_first](../../" in lecture.cells[1].source


def test_readme_plan_needs_its_markers_and_nav_refreshes_it(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    course(folder)
    with pytest.raises(ValueError, match="LECTURE PLAN"):
        tracks.readme_with_plan("no markers", tracks.plan(nav.course_notebooks(folder)))
    readme = tmp_path / "README.md"
    readme.write_text(
        f"{nav.TABLE_BEGIN}\n{nav.TABLE_END}\n{tracks.PLAN_BEGIN}\nold\n{tracks.PLAN_END}\n"
    )
    nav.refresh(folder, readme)
    text = readme.read_text()
    assert "old" not in text and "| 1 | [01 First](notebooks/01_first.ipynb) | Alpha; Beta;" in text
    assert nav.refresh(folder, readme) == []


def test_deck_badges_are_styled_in_text_only():
    page = '<h2 id="a-【核心】">A 【核心】 and 【选讲】<a href="#a-【核心】">¶</a></h2>'
    assert build_slides.styled_badges(page) == (
        '<h2 id="a-【核心】">A <span class="track track-core">【核心】</span> and '
        '<span class="track track-extended">【选讲】</span><a href="#a-【核心】">¶</a></h2>'
    )
