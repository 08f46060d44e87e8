"""What every tool reads: course.toml, the notebooks' cells (a title is the first ``# ``
heading, a summary ``metadata.course.summary``)."""

import re
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
README = ROOT / "README.md"
SANITIZE_FILE = ROOT / "tests" / "sanitize.cfg"
CONFIG = tomllib.loads((ROOT / "course.toml").read_text(encoding="utf-8"))
MARKER = "<!--NAVIGATION-->"


def course_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The notebooks of ``folder`` in course order (sorted by file name)."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if not p.name.startswith("."))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The exact text ``nbformat.write`` would store for ``nb`` (JSON and a newline)."""
    return nbformat.writes(nb) + "\n"


def slide_type(cell) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def is_nav_cell(cell) -> bool:
    return cell.cell_type == "markdown" and MARKER in cell.source


def first_line(cell) -> str:
    return (cell.source.strip().splitlines() or ["<empty cell>"])[0]


def title_index(nb: nbformat.NotebookNode) -> int | None:
    """The index of the notebook's title: the first markdown cell that opens with a ``#``
    heading (as tracks.HEADING_LINE reads headings)."""
    return next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
                 and re.match(r"#\s", cell.source) and not is_nav_cell(cell)), None)


def title(path: Path, nb: nbformat.NotebookNode | None = None) -> str:
    """The text of the notebook's title heading (the file stem if none)."""
    nb = read(path) if nb is None else nb
    index = title_index(nb)
    return Path(path).stem if index is None else first_line(nb.cells[index])[2:].strip()


def summary(nb: nbformat.NotebookNode) -> str:
    return nb.metadata.get("course", {}).get("summary", "")


def between(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with ``body`` between the marker lines ``begin`` and ``end``."""
    first, last = text.find(begin), text.find(end)
    if first < 0 or last < first:
        raise ValueError(f"README needs the markers {begin!r} and {end!r}")
    return f"{text[:first + len(begin)]}\n{body}\n{text[last:]}"
