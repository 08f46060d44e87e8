"""Rules every notebook in notebooks/ must follow (see CONTRIBUTING.md).

Each rule is a test parametrized over the notebooks, so a new notebook is
checked as soon as it exists; a failure names the notebook and the rule.  What
``make nav`` generates (navigation cells, RISE settings, the README's tables)
must be current.
"""

import re

import nbformat
import pytest

import nav
from course import HEADING, ROOT, course_notebooks, first_line, slide_type, summary, tags, title
from nbbuild import SLIDE_TYPES

NOTEBOOKS = course_notebooks()
# pairs (cell tag, nbval comment marker) that mean the same thing
MARKER_PAIRS = [
    ("raises-exception", "NBVAL_RAISES_EXCEPTION"),
    ("nbval-ignore-output", "NBVAL_IGNORE_OUTPUT"),
    ("nbval-skip", "NBVAL_SKIP"),
    ("nbval-check-output", "NBVAL_CHECK_OUTPUT"),
]

notebooks = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


def load(path):
    return nbformat.read(path, as_version=4)


def fail(path, rule, problems):
    """Fail naming the notebook and the rule, with one line per problem."""
    details = "\n".join(f"  - {p}" for p in problems)
    pytest.fail(f"{path.name}: rule '{rule}' broken:\n{details}", pytrace=False)


def where(index, cell):
    return f"cell {index} ({cell.cell_type}, {first_line(cell)[:60]!r})"


def test_notebooks_are_named_nn_slug_and_numbered_01_02_without_gaps():
    names = [p.name for p in NOTEBOOKS]
    bad = [n for n in names if not re.fullmatch(r"\d\d_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb", n)]
    assert not bad, f"names must be two digits, an underscore and a lower-case slug: {bad}"
    numbers = [n[:2] for n in names]
    assert numbers == [f"{k:02d}" for k in range(1, len(names) + 1)], numbers


def test_generated_files_are_current():
    stale = [str(p.relative_to(ROOT)) for p in nav.pending_changes()]
    assert not stale, f"navigation cells, RISE settings or README tables out of date in {stale}: run make nav"


@notebooks
def test_kernelspec_is_python3(path):
    kernelspec = load(path).metadata.get("kernelspec", {})
    if kernelspec.get("name") != "python3" or kernelspec.get("language") != "python":
        fail(path, "kernelspec python3", [f"metadata.kernelspec is {dict(kernelspec)}"])


@notebooks
def test_first_code_cell_sets_up_the_course(path):
    rule = "first code cell: %matplotlib inline, import autodiff_helpers, use_course_style()"
    cells = [c for c in load(path).cells if c.cell_type == "code"]
    if not cells:
        fail(path, rule, ["the notebook has no code cell"])
    source = cells[0].source
    problems = []
    if not re.search(r"^%matplotlib inline\s*$", source, re.M):
        problems.append("no line '%matplotlib inline'")
    if not re.search(r"^(import autodiff_helpers\b|from autodiff_helpers import\b)", source, re.M):
        problems.append("does not import autodiff_helpers")
    if not re.search(r"\buse_course_style\(\)", source):
        problems.append("does not call use_course_style()")
    if problems:
        fail(path, rule, problems)


@notebooks
def test_execution_counts_run_from_one(path):
    rule = "execution counts 1, 2, 3, ... (recorded top to bottom after a restart: make record)"
    problems = []
    code_cells = [(i, c) for i, c in enumerate(load(path).cells) if c.cell_type == "code"]
    for expected, (index, cell) in enumerate(code_cells, start=1):
        if cell.execution_count != expected:
            problems.append(
                f"{where(index, cell)}: execution count {cell.execution_count}, expected {expected}"
            )
        for output in cell.outputs:
            count = output.get("execution_count")
            if output.output_type == "execute_result" and count != cell.execution_count:
                problems.append(f"{where(index, cell)}: output has execution count {count}")
    if problems:
        fail(path, rule, problems)


def check_cells(path, rule, broken, describe):
    """Fail naming every cell of the notebook for which ``broken(cell)`` is true."""
    problems = [
        f"{where(i, c)}: {describe(c)}" for i, c in enumerate(load(path).cells) if broken(c)
    ]
    if problems:
        fail(path, rule, problems)


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


@notebooks
def test_no_errors_outside_raises_exception_cells(path):
    check_cells(
        path,
        "no error outputs except in cells tagged raises-exception",
        lambda c: errors(c) and "raises-exception" not in tags(c),
        lambda c: "; ".join(f"{o.ename}: {o.evalue}" for o in errors(c)),
    )


@notebooks
def test_every_cell_has_a_slide_type(path):
    check_cells(
        path,
        f"every cell has slideshow.slide_type in {sorted(SLIDE_TYPES)}",
        lambda c: slide_type(c) not in SLIDE_TYPES,
        lambda c: f"slideshow.slide_type is {slide_type(c)!r}",
    )


@notebooks
def test_headings_start_a_slide(path):
    check_cells(
        path,
        "a markdown cell opening with a # or ## heading starts a slide or subslide",
        lambda c: c.cell_type == "markdown"
        and HEADING.match(c.source.lstrip())
        and slide_type(c) not in ("slide", "subslide"),
        lambda c: f"slide_type {slide_type(c)!r}",
    )


@notebooks
def test_solutions_are_hidden(path):
    check_cells(
        path,
        "cells tagged solution are hidden: source and outputs collapsed "
        "(jupyter.source_hidden and outputs_hidden true), off the slides (slide_type skip)",
        lambda c: "solution" in tags(c)
        and (c.metadata.get("jupyter", {}).get("source_hidden") is not True
             or c.metadata.get("jupyter", {}).get("outputs_hidden") is not True
             or slide_type(c) != "skip"),
        lambda c: f"jupyter metadata {c.metadata.get('jupyter', {})}, "
                  f"slide_type {slide_type(c)!r}",
    )


def doubled_markers(cell):
    return [
        f"tag {tag!r} and comment {marker}"
        for tag, marker in MARKER_PAIRS
        if tag in tags(cell) and re.search(rf"^\s*#\s*{marker}\b", cell.source, re.M)
    ]


@notebooks
def test_no_cell_has_a_tag_and_the_same_comment_marker(path):
    check_cells(
        path,
        "use a cell tag or an nbval comment marker, not both",
        doubled_markers,
        lambda c: "; ".join(doubled_markers(c)),
    )


@notebooks
def test_has_a_title_and_summary(path):
    nb = load(path)
    problems = []
    if title(path, nb) == path.stem:
        problems.append("no markdown cell with a '# ' title heading")
    if not summary(nb).strip():
        problems.append("metadata.course.summary (one English line for README) is missing")
    if problems:
        fail(path, "a '# ' title and a one-line summary in metadata.course.summary", problems)
