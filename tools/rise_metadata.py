"""The course's RISE settings (live slides in JupyterLab), kept in every notebook.

jupyterlab-rise reads a notebook's ``metadata.rise``; these settings make every
notebook present alike: the reveal.js theme ``white`` (its fonts ship with
reveal.js, no web fonts), slide numbers, no transition, and a footer with the
course title.  ``tools/build_slides.py`` gives the static decks the same theme
and footer.

Usage: ``python tools/rise_metadata.py`` (write the settings into every notebook
in notebooks/), ``python tools/rise_metadata.py --check`` (exit 1 and list the
notebooks whose settings differ).  ``tools/record.py`` applies them too, so a
recorded notebook always carries them; tests/test_rise_metadata.py checks them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

import nav

COURSE_TITLE = "自动微分 (automatic differentiation) · QCD 暑期学校"

RISE_SETTINGS = {
    "theme": "white",
    "transition": "none",
    "slideNumber": "c/t",
    "footer": f'<div class="course-footer">{COURSE_TITLE}</div>',
    "start_slideshow_at": "beginning",
    "scroll": True,
}


def rise_settings_differ(nb: nbformat.NotebookNode) -> dict:
    """Return {key: (stored, expected)} for every course RISE setting ``nb`` lacks."""
    stored = nb.metadata.get("rise", {})
    return {
        key: (stored.get(key), value)
        for key, value in RISE_SETTINGS.items()
        if stored.get(key) != value
    }


def apply_rise_settings(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Set the course RISE settings in ``nb.metadata.rise`` (in place; other keys kept)."""
    rise = dict(nb.metadata.get("rise", {}))
    rise.update(RISE_SETTINGS)
    nb.metadata["rise"] = nbformat.from_dict(rise)
    return nb


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for path in nav.course_notebooks():
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        if not rise_settings_differ(nb):
            continue
        stale.append(path)
        if not argv:
            path.write_text(nav.notebook_text(apply_rise_settings(nb)), encoding="utf-8")
    for path in stale:
        verb = "RISE settings out of date" if argv else "wrote RISE settings"
        print(f"{verb}: {Path(path).relative_to(nav.ROOT)}")
    return 1 if (stale and argv) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
