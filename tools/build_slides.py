"""Build offline reveal.js slide decks from the notebooks (``make slides``).

One deck per notebook, ``build/slides/NN_slug.slides.html``, the lecture deck
``lecture.slides.html`` (the core slides of every notebook, from the lecture
notebook of ``tools/tracks.py``, which also goes to build/lecture/lecture.ipynb
with rise.css beside it, for RISE) and ``index.html`` linking them.  The decks
load nothing from the network, so they work in a lecture hall without one:

* reveal.js, MathJax 2, require.js and jQuery come from npm at the versions of
  slides/package-lock.json (``npm ci`` into build/npm/), copied to
  build/slides/vendor/, and the exporter's url options point there;
* ``slides/template/course_reveal`` is nbconvert's reveal template without the
  mermaid import (its url cannot be configured), with the course footer and
  ``window.Reveal`` exposed for the browser tests;
* figures are embedded; a web link becomes its text and the address in small
  print, a link to another notebook points to that notebook's deck;
* cells tagged ``solution`` or ``navigation`` are removed, ``notes`` cells become
  speaker notes (press S), ``skip`` cells are left out;
* 1280x720; theme, transition, slide numbers and footer from course.toml's
  ``[rise]``; styles from notebooks/rise.css (which RISE loads live) and below.

A deck is rebuilt only when its notebook or the build's own files changed
(``build/slides/manifest.json`` keeps their hashes), so ``make slides`` and the
browser tests (tests/test_slides_browser.py) are cheap when nothing changed.

Usage: ``python tools/build_slides.py [--force] [--out DIR] [NOTEBOOK ...]``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

import tracks
from course import CONFIG, NOTEBOOK_DIR, ROOT, course_notebooks, notebook_text, summary, title

RISE = CONFIG["rise"]
RISE_CSS = ROOT / "notebooks" / "rise.css"  # the course's styles, live (RISE) and offline
SLIDES_SOURCE = ROOT / "slides"  # package.json, package-lock.json, template/
TEMPLATE_DIR = SLIDES_SOURCE / "template"
TEMPLATE_NAME = "course_reveal"
BUILD_DIR = ROOT / "build" / "slides"
NPM_DIR = ROOT / "build" / "npm"
MANIFEST = "manifest.json"
LECTURE_DECK = "lecture.slides.html"
LECTURE_NOTEBOOK = Path("lecture") / "lecture.ipynb"  # relative to the parent of the decks' folder

SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720
THEME = RISE["theme"]
REMOVED_TAGS = ("solution", "navigation")

# Files copied from node_modules to <out>/vendor/: what the template loads and
# what MathJax (TeX input, CommonHTML output, TeX web fonts) loads on demand.
VENDOR_FILES = {
    "reveal.js": ["dist/reveal.js", "dist/reveal.css", f"dist/theme/{THEME}.css",
                  "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "LICENSE"],
    "mathjax": ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions",
                "jax/input/TeX", "jax/output/CommonHTML", "jax/output/PreviewHTML", "jax/element",
                "fonts/HTML-CSS/TeX/woff", "localization/en", "LICENSE"],
    "requirejs": ["require.js"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
}
REVEAL_URL = "vendor/reveal.js"
MATHJAX_URL = "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
REQUIRE_URL = "vendor/requirejs/require.js"
JQUERY_URL = "vendor/jquery/dist/jquery.min.js"

DECK_CSS = """
.reveal .link-address { font-size: 70%; color: #777; }
/* less white space between cells than nbconvert's defaults, same font sizes */
.reveal .slides section { padding-top: 8px; padding-bottom: 8px; }
.reveal .slides .jp-Cell { padding-top: 2px; padding-bottom: 2px; }
.reveal .slides .highlight { margin: 0.2em 0.4em; }
/* the track badge at the end of a heading: 【核心】 core, 【选讲】 extended */
.reveal .track { font-weight: bold; }
.reveal h1 .track, .reveal h2 .track, .reveal h3 .track {
    font-size: 55%; font-weight: normal; vertical-align: middle;
}
.reveal .track-core { color: #1a7f37; }
.reveal .track-extended { color: #9a6700; }
"""

EXTERNAL_LINK = re.compile(
    r"<a\b[^>]*?\bhref=\"(https?://[^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL
)
NOTEBOOK_LINK = re.compile(
    r"\bhref=\"(?:\./|(?:\.\./)+notebooks/)?(\d\d_[A-Za-z0-9_]+)\.ipynb(?:#[^\"]*)?\""
)
# the text between two tags, and a track badge in it
TEXT_NODE = re.compile(r">([^<]+)<")
BADGE = re.compile("|".join(map(re.escape, tracks.BADGES.values())))


def deck_name(notebook: Path) -> str:
    """Return the file name of the deck built from ``notebook``."""
    return f"{Path(notebook).stem}.slides.html"


def sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def tool_files() -> list[Path]:
    """Return the files whose change invalidates every deck."""
    files = [Path(__file__).resolve(), Path(tracks.__file__).resolve(), RISE_CSS, ROOT / "course.toml"]
    files += sorted(TEMPLATE_DIR.rglob("*"))
    files.append(SLIDES_SOURCE / "package-lock.json")
    return [f for f in files if f.is_file()]


def tools_hash() -> str:
    return sha256(*(f.read_bytes() for f in tool_files()))


# --- front-end files from the npm registry --------------------------------------------


def npm_install(npm_dir: Path = NPM_DIR) -> Path:
    """Install the pinned npm packages with ``npm ci`` unless done already; return node_modules."""
    lock = (SLIDES_SOURCE / "package-lock.json").read_bytes()
    stamp = npm_dir / ".installed"
    modules = npm_dir / "node_modules"
    if stamp.exists() and stamp.read_text() == sha256(lock) and modules.is_dir():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "error: npm not found; the slide decks need it to install reveal.js and MathJax "
            "(Debian: apt-get install -y npm)"
        )
    npm_dir.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SLIDES_SOURCE / name, npm_dir / name)
    print(f"npm ci in {npm_dir.relative_to(ROOT) if npm_dir.is_relative_to(ROOT) else npm_dir}")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=npm_dir, check=True
    )
    stamp.write_text(sha256(lock))
    return modules


def copy_vendor(modules: Path, out_dir: Path) -> None:
    """Copy the front-end files the decks load into ``out_dir/vendor`` (once per lock file)."""
    vendor = out_dir / "vendor"
    stamp = vendor / ".copied"
    key = sha256((SLIDES_SOURCE / "package-lock.json").read_bytes(), repr(VENDOR_FILES).encode())
    if stamp.exists() and stamp.read_text() == key:
        return
    shutil.rmtree(vendor, ignore_errors=True)
    for package, paths in VENDOR_FILES.items():
        for relative in paths:
            source = modules / package / relative
            target = vendor / package / relative
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    stamp.write_text(key)


# --- notebooks to decks ---------------------------------------------------------------


def exporter():
    """Return a SlidesExporter configured for offline decks with the course template."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    slides = config.SlidesExporter
    slides.template_name = TEMPLATE_NAME
    slides.extra_template_basedirs = [str(TEMPLATE_DIR)]
    slides.reveal_url_prefix = REVEAL_URL
    slides.reveal_theme = THEME
    slides.reveal_transition = RISE["transition"]
    slides.reveal_number = RISE["slideNumber"]
    slides.reveal_width = str(SLIDE_WIDTH)
    slides.reveal_height = str(SLIDE_HEIGHT)
    slides.mathjax_url = MATHJAX_URL
    slides.require_js_url = REQUIRE_URL
    slides.jquery_url = JQUERY_URL
    slides.mermaid_js_url = ""  # the template drops the block that would load it
    slides.embed_images = True
    slides.exclude_input_prompt = True
    slides.exclude_output_prompt = True
    slides.language_code = "zh"
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_TAGS)
    return SlidesExporter(config=config)


def offline_links(text: str) -> str:
    """Rewrite links for an offline deck: web links become text plus address, notebooks decks."""

    def web(match: re.Match) -> str:
        url, label = match.group(1), match.group(2)
        address = html.escape(re.sub(r"^https?://", "", html.unescape(url)))
        shown = re.sub(r"<[^>]+>", "", label).strip()
        if html.unescape(shown) in (html.unescape(url), html.unescape(address)):
            return f'<span class="link-address">{address}</span>'
        return f'{label} <span class="link-address">({address})</span>'

    text = EXTERNAL_LINK.sub(web, text)
    return NOTEBOOK_LINK.sub(lambda m: f'href="{m.group(1)}.slides.html"', text)


def styled_badges(text: str) -> str:
    """Wrap each track badge of the page's text in a span the course CSS styles."""
    def span(badge: re.Match) -> str:
        track = tracks.TRACK_OF_BADGE[badge.group(0)]
        return f'<span class="track track-{track}">{badge.group(0)}</span>'

    return TEXT_NODE.sub(lambda m: f">{BADGE.sub(span, m.group(1))}<", text)


def convert(notebook: Path, slides_exporter, nb=None, name: str | None = None) -> str:
    """Return the deck HTML for ``notebook`` (or for ``nb``, read from its folder)."""
    if nb is None:
        nb = nbformat.read(notebook, as_version=4)
        nb.metadata["title"] = title(notebook, nb)
    resources = {
        "metadata": {"name": name or notebook.stem, "path": str(notebook.parent)},
        "course_footer": html.escape(RISE["footer"]),
        "course_css": RISE_CSS.read_text(encoding="utf-8") + DECK_CSS,
    }
    body, _ = slides_exporter.from_notebook_node(nb, resources=resources)
    return styled_badges(offline_links(body))


def write_index(out_dir: Path, notebooks: list[Path], lecture: tracks.Plan | None = None) -> Path:
    """Write ``out_dir/index.html`` linking the lecture deck first, then every deck in order."""
    rows = []
    for notebook in notebooks:
        nb = nbformat.read(notebook, as_version=4)
        rows.append(
            f'<li><a href="{deck_name(notebook)}">{html.escape(title(notebook, nb))}</a>'
            f"<br><small>{html.escape(summary(nb))}</small></li>"
        )
    course_title = html.escape(RISE["footer"])
    first = ""
    if lecture is not None and (out_dir / LECTURE_DECK).exists():
        first = (
            f'<p class="lecture"><a href="{LECTURE_DECK}"><strong>'
            f"{html.escape(tracks.LECTURE['title'])}</strong></a><br>"
            f"<small>the two-hour lecture: the core slides {tracks.BADGES[tracks.CORE]} of every "
            f"notebook in order, {lecture.slide_count} slides, about "
            f"{lecture.minutes:g} minutes with {tracks.CLOCK['questions']} for questions</small></p>\n"
            "<p>完整幻灯片 (full decks), with the extended sections "
            f"{tracks.BADGES[tracks.EXTENDED]} for self-study:</p>\n"
        )
    page = f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>{course_title}: slides</title>
<style>
body {{ font-family: sans-serif; max-width: 48em; margin: 2em auto; line-height: 1.5; }}
li {{ margin: 0.6em 0; }} small {{ color: #555; }} kbd {{ border: 1px solid #aaa; padding: 0 0.3em; }}
</style>
</head>
<body>
<h1>{course_title}</h1>
<p>幻灯片 (slides), one deck per notebook; they work with no network.
Keys: <kbd>→</kbd>/<kbd>Space</kbd> next, <kbd>F</kbd> full screen,
<kbd>S</kbd> speaker view (speaker notes), <kbd>Esc</kbd> overview.</p>
{first}<ol>
{chr(10).join(rows)}
</ol>
</body>
</html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def load_manifest(out_dir: Path) -> dict:
    path = out_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def build_lecture(
    notebooks: list[Path], out_dir: Path = BUILD_DIR, force: bool = False
) -> tracks.Plan | None:
    """Build the lecture deck (and the lecture notebook for RISE) of ``notebooks`` if stale.

    Return the lecture's plan, or None (and no deck) when no notebook has core slides.
    The notebook goes to ``out_dir.parent / LECTURE_NOTEBOOK``.
    """
    out_dir = Path(out_dir)
    deck, notebook_path = out_dir / LECTURE_DECK, out_dir.parent / LECTURE_NOTEBOOK
    manifest = load_manifest(out_dir)
    the_plan = tracks.plan(notebooks)
    if not the_plan.lecture_parts:
        deck.unlink(missing_ok=True)
        manifest.pop(deck.name, None)
        (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        return None
    key = sha256(*(Path(p).read_bytes() for p in notebooks), tools_hash().encode())
    if not force and deck.exists() and notebook_path.exists() and manifest.get(deck.name) == key:
        return the_plan
    start = time.perf_counter()
    lecture = tracks.lecture_notebook(notebooks)
    notebook_path.parent.mkdir(parents=True, exist_ok=True)
    notebook_path.write_text(notebook_text(lecture), encoding="utf-8")
    shutil.copyfile(RISE_CSS, notebook_path.parent / RISE_CSS.name)
    source = Path(notebooks[0]).parent / "lecture.ipynb"  # links and images resolve from here
    deck.write_text(convert(source, exporter(), nb=lecture, name="lecture"), encoding="utf-8")
    manifest[deck.name] = key
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    print(f"built {deck} and {notebook_path} ({time.perf_counter() - start:.1f} s)")
    return the_plan


def build(
    notebooks: list[Path] | None = None, out_dir: Path = BUILD_DIR, force: bool = False
) -> list[Path]:
    """Build the decks that are missing or stale; return the paths of all decks.

    ``notebooks`` defaults to every notebook in notebooks/.  A deck is stale when
    the hash of its notebook or of the build's own files differs from the one
    stored in ``out_dir/manifest.json`` when it was written.
    """
    notebooks = [Path(p).resolve() for p in (notebooks or course_notebooks())]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_vendor(npm_install(), out_dir)

    manifest_path = out_dir / MANIFEST
    manifest = load_manifest(out_dir)
    tools = tools_hash()
    slides_exporter = None
    decks = []
    for notebook in notebooks:
        deck = out_dir / deck_name(notebook)
        key = sha256(notebook.read_bytes(), tools.encode())
        decks.append(deck)
        if not force and deck.exists() and manifest.get(deck.name) == key:
            continue
        slides_exporter = slides_exporter or exporter()
        start = time.perf_counter()
        deck.write_text(convert(notebook, slides_exporter), encoding="utf-8")
        manifest[deck.name] = key
        print(f"built {deck} ({time.perf_counter() - start:.1f} s)")
    listed, lecture = notebooks, None
    if all(p.parent == NOTEBOOK_DIR for p in notebooks):
        # course decks: drop those of notebooks that no longer exist (building one
        # notebook keeps the others), and list every course deck in the index
        course = course_notebooks()
        keep = {deck_name(p) for p in course}
        for old in out_dir.glob("*.slides.html"):
            if old.name not in keep and old.name != LECTURE_DECK:
                old.unlink()
                manifest.pop(old.name, None)
        listed = [p for p in course if (out_dir / deck_name(p)).exists()]
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    if listed is not notebooks:  # the course: its lecture deck too
        lecture = build_lecture(course, out_dir, force)
    write_index(out_dir, listed, lecture)
    return decks


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="default: build/slides")
    parser.add_argument("--force", action="store_true", help="rebuild every deck")
    args = parser.parse_args(argv)
    if not args.notebooks and not course_notebooks():
        print("no notebooks in notebooks/: nothing to build")
        return 0
    decks = build(args.notebooks, args.out, args.force)
    print(f"{len(decks)} deck(s) in {args.out}; open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
