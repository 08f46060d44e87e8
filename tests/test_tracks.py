"""Tracks (tools/tracks.py): the core path fits the slot on course.toml's clock and ends with a
network trained by hand, and the lecture notebook, run in one kernel as "Run All" before a RISE
lecture, gives the notebooks' stored outputs (every section's badge: tests/test_prose.py).  The
tool itself is checked on small notebooks made here."""

import nbformat
import pytest

import nav
import rerun_check
import tracks
from course import CONFIG, between, is_nav_cell, read, slide_type
from nbbuild import code, md, solution, write_notebook
from tracks import CLOCK


def test_the_core_path_fits_the_slot_and_ends_with_a_network_trained_by_hand():
    plan = tracks.plan()
    assert plan.minutes <= CONFIG["lecture"]["minutes"], (
        f"the core path takes {plan.minutes:g} minutes on the clock of course.toml")
    assert plan.slide_count <= CONFIG["lecture"]["max_slides"], plan.slide_count
    assert [p.path.name[:2] for p in plan.lecture_parts][:6] == ["01", "02", "03", "04", "05", "06"]
    last = plan.lecture_parts[-1]
    nb = read(last.path)
    core_code = [nb.cells[i].source for s in last.core_slides for i in s.cells
                 if nb.cells[i].cell_type == "code"]
    # the fifth goal, a network trained by hand: a gradient step written out (leaves, loss,
    # backward, theta - lr * grad) and a loop of such steps, on the core slides themselves
    steps = [src for src in core_code if ".backward()" in src and "- lr *" in src]
    loops = [src for src in core_code if "for step in range(" in src]
    assert steps and loops, f"no core code cell of {last.path.name} trains the network by hand"


def test_the_lecture_notebook_runs_in_one_kernel_like_the_notebooks(tmp_path):
    """Run All, as before a lecture, then each slide's code cells once more, from the last
    slide to the first: the lecturer going back to a slide and running it again after the
    later parts have bound their own names (06's `loss` and `x` once broke 01's and 02's)."""
    lecture = tracks.lecture_notebook()
    shown = [[lecture.cells[i] for i in s.cells if lecture.cells[i].cell_type == "code"
              and slide_type(lecture.cells[i]) != "notes"] for s in tracks.slides(lecture)]
    again = [cell for code in reversed(shown) for cell in code]
    lecture.cells += [nbformat.from_dict({**c, "id": f"again-{n}"}) for n, c in enumerate(again)]
    nbformat.write(lecture, tmp_path / "lecture.ipynb")
    result = rerun_check.nbval(tmp_path)  # the notebooks' stored outputs, compared by nbval
    assert result.returncode == 0, result.stdout[-3000:]


SETUP = "%matplotlib inline\nimport autodiff_helpers as ad\nad.use_course_style()"


def test_badges_give_the_tracks_slides_and_minutes_the_lecture_notebook_and_the_readme(tmp_path):
    """Two notebooks, the first marked by badges on sections and subsections, the second not."""
    folder = tmp_path / "notebooks"
    first = write_notebook(folder / "01_first.ipynb", [
        md("# 01 First\n\nintro"),
        code(SETUP, slide="skip"),
        md("## Alpha 【核心】\n\ntext"),
        code("print(1)"),                                 # 1 line: a plain slide
        md("## Alpha detail", slide="subslide"),          # inherits core
        code("a = 1\nb = 2\nc = 3\n\nprint(a + b + c)", slide="subslide"),  # 4 lines: code
        md("## Beta 【核心】"),
        md("### Beta side 【选讲】", slide="subslide"),     # extended subsection
        code("print(3)"),
        md("## Gamma 【选讲】"),
        code("print(4)", slide="fragment"),
        md("## Delta"),                                   # unmarked: extended
        md("### Delta core part 【核心】", slide="subslide"),
        code("print(5)"),
        md("## 练习 1 【选讲】"),
        solution("assert True"),
        md("## 练习 2 【选讲】"),
        solution("assert True"),
    ], summary="first")
    second = write_notebook(folder / "02_second.ipynb", [
        md("# 02 Second"), code(SETUP, slide="skip"), md("## Unmarked"), code("print(6)"),
    ], summary="second")
    nav.refresh(folder, readme=None)
    nb = read(first)
    assert {u.title: (u.track, u.explicit) for u in tracks.units(nb)} == {
        "Alpha": ("core", True), "Alpha detail": ("core", False), "Beta": ("core", True),
        "Beta side": ("extended", True), "Gamma": ("extended", True),
        "Delta": ("extended", False), "Delta core part": ("core", True),
        "练习 1": ("extended", True), "练习 2": ("extended", True),
    }
    assert tracks.problems(nb) == [(12, "section 'Delta' has no badge 【核心】 or 【选讲】")]
    # a track in the cell's metadata is ignored: the badge is the only mark
    nb.cells[3].metadata["course"] = {"track": "extended"}
    assert tracks.units(nb)[0].track == "core"
    the_slides = tracks.slides(nb)
    # title | Alpha | Alpha detail | a = 1 ... | Beta | Beta side | Gamma | Delta |
    # Delta core part | 练习 1 | 练习 2   (setup, solutions, navigation are not on slides)
    assert [s.track for s in the_slides] == [
        None, "core", "core", "core", "core", "extended", "extended", "extended", "core",
        "extended", "extended"]
    assert [s.code_lines for s in the_slides] == [0, 1, 0, 4, 0, 1, 1, 0, 1, 0, 0]
    part = tracks.part(first)
    assert part.extended == ["Beta side", "Gamma", "Delta", "练习 (2)"]
    # sums of the clock's decimals, in another order: equal to round-off
    assert part.minutes == pytest.approx(CLOCK["part_title"] + CLOCK["code_slide"] + 4 * CLOCK["slide"])
    plan = tracks.plan([first, second])  # its parts and slides: the lecture and README below
    assert plan.minutes == pytest.approx(CLOCK["part_title"] + part.minutes + CLOCK["questions"] + CLOCK["break"])
    # the lecture notebook: the core slides and every cell
    lecture = tracks.lecture_notebook([first, second])
    assert len(tracks.slides(lecture)) == plan.slide_count
    ids = [c.id for c in lecture.cells]
    kept = [c for c in read(first).cells if not is_nav_cell(c)][1:]  # without the title
    assert ids == ["lecture-title", "part-01"] + [f"01-{c.id}" for c in kept]  # 02: no core
    shown = [c.source.split("\n")[0] for c in lecture.cells if tracks.visible(c)]
    assert shown == [
        f"# {CONFIG['lecture']['title']}", "# 第 01 讲：First", "## Alpha 【核心】",
        "print(1)", "## Alpha detail", "a = 1", "## Beta 【核心】",
        "### Delta core part 【核心】", "print(5)"]
    types = {c.source.split("\n")[0]: slide_type(c) for c in lecture.cells}
    assert types["### Delta core part 【核心】"] == "slide"  # its section is not shown
    assert types["## Alpha detail"] == "subslide"  # its section is
    assert "[01_first](../../" in lecture.cells[1].source
    # the README's table of notebooks and lecture plan, between text of its own
    with pytest.raises(ValueError, match="LECTURE PLAN"):
        between("no markers", tracks.PLAN_BEGIN, tracks.PLAN_END, "plan")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Course\n{nav.TABLE_BEGIN}\nold\n{nav.TABLE_END}\n{tracks.PLAN_BEGIN}\nold\n"
                      f"{tracks.PLAN_END}\nend\n")
    assert nav.refresh(folder, readme) == [readme]
    text = readme.read_text()
    assert "old" not in text and text.startswith("# Course\n") and text.endswith(f"{tracks.PLAN_END}\nend\n")
    assert "| 02 | [02 Second](notebooks/02_second.ipynb) | second |" in text  # the table of notebooks
    assert "| 1 | [01 First](notebooks/01_first.ipynb) | Alpha; Beta;" in text
    assert "The core path, in order: **01** Alpha, Beta, Delta core part." in text  # part.core
    assert f"| 01 | … a = 1 | 4 | {CLOCK['code_slide']:g} |" in text
    assert f"| **Total** | | **7** | **1** | **{plan.minutes:g}** |" in text  # course.toml's clock
    assert nav.refresh(folder, readme) == []
    nb = read(first)  # Gamma joins the lecture: the description follows
    nb.cells[10].source = "## Gamma 【核心】"
    nbformat.write(nb, first)
    nav.refresh(folder, readme)
    assert "**01** Alpha, Beta, Gamma, Delta core part." in readme.read_text()


def test_the_break_falls_at_the_end_of_a_part_nearest_to_half_of_the_talk():
    assert tracks.break_after([14, 6.5, 8, 15.5, 35, 17]) == 4  # ends 14 ... 44, 79; half 48
    assert tracks.break_after([40, 10, 10]) == 1  # 40 is nearer to 30 than 50 is
    assert tracks.break_after([30]) == 1  # a single part: after it


def test_the_break_has_a_slide_of_its_own_between_its_two_parts():
    """The lecturer sees the break in the deck, not only in the plan table: a slide right
    after the last cell of the part it follows, naming the parts before and after it."""
    plan = tracks.plan()
    lecture = tracks.lecture_notebook()
    ids = [c.id for c in lecture.cells]
    at = ids.index("lecture-break")
    before, after = plan.lecture_parts[plan.break_after - 1], plan.lecture_parts[plan.break_after]
    assert ids[at - 1].startswith(before.path.stem[:2] + "-") and ids[at + 1] == f"part-{after.path.stem[:2]}"
    text = lecture.cells[at].source
    assert text.startswith(f"# 休息 {CLOCK['break']} 分钟")
    names = [f"第 {p.path.stem[:2]} 讲：{tracks.bare_title(p)}" for p in plan.lecture_parts]
    first, second = text.split("后半场")
    assert all(n in first for n in names[:plan.break_after])
    assert all(n in second for n in names[plan.break_after:])
    assert ids.count("lecture-break") == 1
    rest = sum(round(p.minutes) for p in plan.lecture_parts[plan.break_after:]) + CLOCK["questions"]
    assert f"后半场（约 {rest} 分钟，含提问）" in text  # the title slide's whole minutes
