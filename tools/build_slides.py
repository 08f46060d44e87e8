"""Offline reveal.js decks (``make slides``): one per notebook, the lecture deck of the core
slides (tools/tracks.py; its notebook also goes to build/lecture/ for RISE) and index.html.
reveal.js and MathJax 2 come from npm (slides/package-lock.json) into build/slides/vendor/, so
a deck needs no network; web links become their text and address, links to notebooks point to
their decks.  A deck is rebuilt only when its notebook or the build's own files are newer.
"""

import html
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
from nbconvert import SlidesExporter
from traitlets.config import Config

import tracks
from course import CONFIG, NOTEBOOK_DIR, ROOT, course_notebooks, notebook_text, read, summary, title

RISE = CONFIG["rise"]
RISE_CSS = ROOT / "notebooks" / "rise.css"  # the course's styles, live (RISE) and offline
SLIDES_SOURCE = ROOT / "slides"  # package.json, package-lock.json, template/
TEMPLATE_DIR = SLIDES_SOURCE / "template"
BUILD_DIR = ROOT / "build" / "slides"
NPM_DIR = ROOT / "build" / "npm"
LECTURE_DECK = "lecture.slides.html"
LECTURE_NOTEBOOK = Path("lecture") / "lecture.ipynb"  # relative to the parent of the decks' folder

SLIDE_WIDTH, SLIDE_HEIGHT = 1280, 720

# Files copied from node_modules to <out>/vendor/: what the template loads and
# what MathJax (TeX input, CommonHTML output, TeX web fonts) loads on demand.
VENDOR_FILES = {
    "reveal.js": ["dist/reveal.js", "dist/reveal.css", f"dist/theme/{RISE['theme']}.css",
                  "dist/theme/fonts/source-sans-pro", "plugin/notes/notes.js", "LICENSE"],
    "mathjax": ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions",
                "jax/input/TeX", "jax/output/CommonHTML", "jax/output/PreviewHTML", "jax/element",
                "fonts/HTML-CSS/TeX/woff", "localization/en", "LICENSE"],
    "requirejs": ["require.js"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
}
MATHJAX_URL = "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"

EXTERNAL_LINK = re.compile(r"<a\b[^>]*?\bhref=\"(https?://[^\"]*)\"[^>]*>(.*?)</a>",
                           re.IGNORECASE | re.DOTALL)
NOTEBOOK_LINK = re.compile(
    r"\bhref=\"(?:\./|(?:\.\./)+notebooks/)?(\d\d_[A-Za-z0-9_]+)\.ipynb(?:#[^\"]*)?\"")
# the text between two tags, and a track badge in it
TEXT_NODE = re.compile(r">([^<]+)<")
BADGE = re.compile("|".join(map(re.escape, tracks.BADGES.values())))


def deck_name(notebook: Path) -> str:
    return f"{Path(notebook).stem}.slides.html"


def up_to_date(target: Path, sources) -> bool:
    """True if ``target`` exists and is newer than each of the ``sources`` files (as make decides)."""
    return target.exists() and target.stat().st_mtime >= max(
        p.stat().st_mtime for p in sources if p.is_file())


def vendor(out_dir: Path) -> None:
    """Install the pinned npm packages (``npm ci`` in build/npm) and copy what the decks load
    into ``out_dir/vendor``, each unless done since the lock file (or VENDOR_FILES) changed."""
    lock, modules = SLIDES_SOURCE / "package-lock.json", NPM_DIR / "node_modules"
    installed, copied = NPM_DIR / ".installed", out_dir / "vendor" / ".copied"
    if up_to_date(copied, [lock, Path(__file__)]):
        return
    if not up_to_date(installed, [lock]):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("error: npm not found; the slide decks need it to install reveal.js "
                             "and MathJax (Debian: apt-get install -y npm)")
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(SLIDES_SOURCE / name, NPM_DIR / name)
        print(f"npm ci in {NPM_DIR}")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NPM_DIR, check=True)
        installed.touch()
    shutil.rmtree(copied.parent, ignore_errors=True)
    for package, paths in VENDOR_FILES.items():
        for relative in paths:
            source, target = modules / package / relative, copied.parent / package / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target)
    copied.touch()


def exporter():
    """A SlidesExporter for offline decks with the course template (solutions removed)."""
    return SlidesExporter(config=Config({"SlidesExporter": {
        "template_name": "course_reveal", "extra_template_basedirs": [str(TEMPLATE_DIR)],
        "reveal_url_prefix": "vendor/reveal.js", "reveal_theme": RISE["theme"],
        "reveal_transition": RISE["transition"], "reveal_number": RISE["slideNumber"],
        "reveal_width": str(SLIDE_WIDTH), "reveal_height": str(SLIDE_HEIGHT),
        "mathjax_url": MATHJAX_URL, "require_js_url": "vendor/requirejs/require.js",
        "jquery_url": "vendor/jquery/dist/jquery.min.js",
        "embed_images": True, "exclude_input_prompt": True, "exclude_output_prompt": True,
        "language_code": "zh"},
        "TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": set(tracks.REMOVED_TAGS)}}))


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


def convert(notebook: Path, slides_exporter, nb=None) -> str:
    """Return the deck HTML for ``notebook`` (or for ``nb``, read from its folder)."""
    if nb is None:
        nb = read(notebook)
        nb.metadata["title"] = title(notebook, nb)
    resources = {"metadata": {"name": notebook.stem, "path": str(notebook.parent)},
                 "course_footer": html.escape(RISE["footer"]),
                 "course_css": RISE_CSS.read_text(encoding="utf-8")}
    body, _ = slides_exporter.from_notebook_node(nb, resources=resources)
    return styled_badges(offline_links(body))


def write_index(out_dir: Path, notebooks: list[Path], plan: tracks.Plan | None = None) -> None:
    """Write ``out_dir/index.html`` (slides/index.html.j2): the lecture deck first (with a
    ``plan``), then every deck in order."""
    template = jinja2.Template((SLIDES_SOURCE / "index.html.j2").read_text(encoding="utf-8"),
                               autoescape=True)
    decks = [(deck_name(p), title(p, nb), summary(nb)) for p, nb in ((p, read(p)) for p in notebooks)]
    (out_dir / "index.html").write_text(template.render(
        course_title=RISE["footer"], plan=plan, lecture=tracks.LECTURE, lecture_deck=LECTURE_DECK,
        badges=tracks.BADGES, clock=tracks.CLOCK, decks=decks), encoding="utf-8")


def build(notebooks: list[Path] | None = None, out_dir: Path = BUILD_DIR) -> list[Path]:
    """Build the missing or stale decks of ``notebooks`` (default: the course's, which also
    get the lecture deck and lose the decks of removed notebooks); write the index; return
    the decks' paths."""
    course = notebooks is None
    notebooks = course_notebooks() if course else [Path(p).resolve() for p in notebooks]
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor(out_dir)
    # a deck is stale once its notebook or a file of the build is newer
    build_files = [*Path(__file__).parent.glob("*.py"), ROOT / "requirements.txt", RISE_CSS,
                   ROOT / "course.toml", SLIDES_SOURCE / "package-lock.json", *TEMPLATE_DIR.rglob("*")]
    slides_exporter, decks = exporter(), [out_dir / deck_name(p) for p in notebooks]
    for notebook, deck in zip(notebooks, decks):
        if not up_to_date(deck, [notebook, *build_files]):
            deck.write_text(convert(notebook, slides_exporter), encoding="utf-8")
            print(f"built {deck}")
    if course:
        for old in set(out_dir.glob("*.slides.html")) - {*decks, out_dir / LECTURE_DECK}:
            old.unlink()
        deck, lecture_path = out_dir / LECTURE_DECK, out_dir.parent / LECTURE_NOTEBOOK
        if not (up_to_date(deck, [*notebooks, *build_files]) and lecture_path.exists()):
            lecture = tracks.lecture_notebook(notebooks)
            lecture_path.parent.mkdir(parents=True, exist_ok=True)
            lecture_path.write_text(notebook_text(lecture), encoding="utf-8")
            shutil.copyfile(RISE_CSS, lecture_path.parent / RISE_CSS.name)
            source = NOTEBOOK_DIR / "lecture.ipynb"  # links and images resolve from here
            deck.write_text(convert(source, slides_exporter, nb=lecture), encoding="utf-8")
            print(f"built {deck} and {lecture_path}")
    write_index(out_dir, notebooks, tracks.plan(notebooks) if course else None)
    return decks


if __name__ == "__main__":
    decks = build()
    print(f"{len(decks)} decks and the lecture deck in {BUILD_DIR}; open {BUILD_DIR / 'index.html'}")
