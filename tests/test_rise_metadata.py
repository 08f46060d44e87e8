"""Every notebook carries the course's RISE settings (live slides in JupyterLab).

The settings live in tools/rise_metadata.py; ``make record`` writes them (and
``python tools/rise_metadata.py`` does so for every notebook).
"""

import nbformat
import pytest

import nav
import rise_metadata

NOTEBOOKS = nav.course_notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_the_course_rise_settings(path):
    differ = rise_metadata.rise_settings_differ(nbformat.read(path, as_version=4))
    lines = [f"  - rise.{key}: {stored!r}, expected {expected!r}" for key, (stored, expected)
             in differ.items()]
    assert not differ, (
        f"{path.name}: RISE settings differ from tools/rise_metadata.py "
        "(run `make record NB=...` or `python tools/rise_metadata.py`):\n" + "\n".join(lines)
    )


def test_the_settings_use_a_theme_without_web_fonts():
    # reveal.js 4 themes that @import Google fonts would need the network
    assert rise_metadata.RISE_SETTINGS["theme"] in ("white", "black")
    assert rise_metadata.COURSE_TITLE in rise_metadata.RISE_SETTINGS["footer"]


def test_apply_keeps_other_rise_keys_and_is_idempotent():
    nb = nbformat.v4.new_notebook()
    nb.metadata["rise"] = {"autolaunch": True, "theme": "simple"}
    once = nbformat.writes(rise_metadata.apply_rise_settings(nb))
    twice = nbformat.writes(rise_metadata.apply_rise_settings(nbformat.reads(once, as_version=4)))
    assert once == twice
    assert nb.metadata["rise"]["autolaunch"] is True
    assert rise_metadata.rise_settings_differ(nb) == {}
