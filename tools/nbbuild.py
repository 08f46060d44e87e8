"""Write course notebooks from a throwaway build script (see CONTRIBUTING.md): cells with
their slide type (slide, subslide, fragment, ``-`` continue, skip, notes); ``make record``
then executes the notebook and adds its navigation.
"""

from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")


def md(text: str, slide: str = "slide", **kw) -> nbformat.NotebookNode:
    """A markdown cell (``kw``: its id, ...); a heading ``#``/``##`` must start a slide or
    subslide (slide types and this rule: tests/test_notebook_structure.py, on every notebook)."""
    return new_markdown_cell(text.strip("\n"), metadata={"slideshow": {"slide_type": slide}}, **kw)


def code(src: str, slide: str = "-", tags: Iterable[str] = ()) -> nbformat.NotebookNode:
    """A code cell with the given slide type and cell tags (e.g. ``raises-exception``)."""
    metadata = {"slideshow": {"slide_type": slide}} | ({"tags": list(tags)} if tags else {})
    return new_code_cell(src.strip("\n"), metadata=metadata)


def solution(src: str, slide: str = "skip") -> nbformat.NotebookNode:
    """A solution: tagged ``solution``, collapsed in JupyterLab, off the slides; nbval still
    runs it, so it should ``assert`` its result."""
    cell = code(src, slide=slide, tags=("solution",))
    cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
    return cell


def write_notebook(path: str | Path, cells: list, summary: str) -> Path:
    """Write ``cells`` as a python3 notebook; ``summary`` (one line, English) is its README row."""
    nb = new_notebook(cells=list(cells), metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}, "course": {"summary": summary}})
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
