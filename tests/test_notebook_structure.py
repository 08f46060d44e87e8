"""Rules every notebook in notebooks/ follows (see CONTRIBUTING.md), each a test over the
notebooks, naming every cell that breaks it; what ``make nav`` generates is current."""

import re

import pytest

import nav
import tracks
from course import ROOT, course_notebooks, first_line, read, slide_type, summary, tags, title
from nbbuild import SLIDE_TYPES

NOTEBOOKS = course_notebooks()
notebooks = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


def broken(path, rule, problems):
    assert not problems, f"{path.name}: rule '{rule}' broken:\n" + "\n".join(f"  - {p}" for p in problems)


COLLAPSED = {"source_hidden": True, "outputs_hidden": True}
# id: (rule, what is wrong with a cell: "" or False when nothing).  nbval itself fails a stored
# error output of a cell not tagged raises-exception, and (pyproject.toml's filterwarnings) a cell
# with both a tag and the nbval comment marker that means the same.
CELL_RULES = {
    "slide-type": (f"every cell has slideshow.slide_type in {sorted(SLIDE_TYPES)}",
                   lambda c: slide_type(c) not in SLIDE_TYPES and f"slide_type {slide_type(c)!r}"),
    "headings": ("a markdown cell opening with a # or ## heading starts a slide or subslide",
                 lambda c: c.cell_type == "markdown" and re.match(r"#{1,2}\s", c.source.lstrip())
                 and slide_type(c) not in ("slide", "subslide") and f"slide_type {slide_type(c)!r}"),
    "solutions": ("cells tagged solution are collapsed (jupyter.source_hidden and outputs_hidden) "
                  "and off the slides (slide_type skip)",
                  lambda c: "solution" in tags(c) and not (slide_type(c) == "skip" and COLLAPSED.items()
                                                           <= c.metadata.get("jupyter", {}).items())
                  and f"jupyter {dict(c.metadata.get('jupyter', {}))}, slide_type {slide_type(c)!r}"),
}


@pytest.mark.parametrize("rule", CELL_RULES)
@notebooks
def test_every_cell_follows_the_rule(path, rule):
    text, wrong = CELL_RULES[rule]
    broken(path, text, [f"cell {i} ({c.cell_type}, {first_line(c)[:60]!r}): {what}"
                        for i, c in enumerate(read(path).cells) if (what := wrong(c))])


def test_notebooks_are_named_nn_slug_and_numbered_01_02_without_gaps():
    names = [p.name for p in NOTEBOOKS]
    bad = [n for n in names if not re.fullmatch(r"\d\d_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb", n)]
    assert not bad, f"names must be two digits, an underscore and a lower-case slug: {bad}"
    assert [n[:2] for n in names] == [f"{k:02d}" for k in range(1, len(names) + 1)], names


def test_generated_files_are_current():
    stale = [str(p.relative_to(ROOT)) for p in nav.refresh(write=False)]
    assert not stale, f"navigation, RISE settings or README tables out of date in {stale}: make nav"


@notebooks
def test_kernelspec_title_summary_and_the_course_setup(path):
    nb = read(path)
    kernelspec = nb.metadata.get("kernelspec", {})
    source = next((c.source for c in nb.cells if c.cell_type == "code"), "")
    broken(path, "kernelspec python3, a '# ' title, a summary in metadata.course.summary; first code "
           "cell: %matplotlib inline, import autodiff_helpers, use_course_style()", [
        *([f"metadata.kernelspec is {dict(kernelspec)}"] if kernelspec.get("name") != "python3"
          or kernelspec.get("language") != "python" else []),
        *(["no markdown cell with a '# ' title heading"] if title(path, nb) == path.stem else []),
        *(["metadata.course.summary is missing"] if not summary(nb).strip() else []),
        *(text for pattern, text in [
            (r"^%matplotlib inline\s*$", "no line '%matplotlib inline'"),
            (r"^(import autodiff_helpers\b|from autodiff_helpers import\b)",
             "does not import autodiff_helpers"),
            (r"\buse_course_style\(\)", "does not call use_course_style()")]
          if not re.search(pattern, source, re.M))])


@notebooks
def test_execution_counts_run_from_one(path):
    code = [(i, c) for i, c in enumerate(read(path).cells) if c.cell_type == "code"]
    problems = []
    for expected, (index, cell) in enumerate(code, start=1):
        where = f"cell {index} ({first_line(cell)[:60]!r})"
        if cell.execution_count != expected:
            problems.append(f"{where}: execution count {cell.execution_count}, expected {expected}")
        problems += [f"{where}: output has execution count {o.get('execution_count')}"
                     for o in cell.outputs if o.output_type == "execute_result"
                     and o.get("execution_count") != cell.execution_count]
    broken(path, "execution counts 1, 2, 3, ... (recorded top to bottom: make record)", problems)


@notebooks
def test_a_slide_has_at_most_one_speaker_note(path):
    """reveal.js (offline decks and RISE) shows the first notes cell of a slide in the speaker
    view and drops the others: a slide's notes go in one cell."""
    nb = read(path)
    broken(path, "a slide has at most one notes cell", [
        f"slide {slide.title[:50]!r}: notes cells {notes}" for slide in tracks.slides(nb)
        if len(notes := [i for i in slide.cells if slide_type(nb.cells[i]) == "notes"]) > 1])
