"""PDFs to take home (``make pdf``), printed by Debian's Chromium into build/pdf/: each deck
(a 1280x720 page per slide) and each notebook's A4 handout without navigation, checks and
solutions.  Every request outside the build folder is refused, so a PDF prints only what a
student has offline (the handout template's CDN scripts are refused and not needed).
``python tools/pdfs.py [NOTEBOOK ...]``
"""

import os
import sys
from pathlib import Path

from nbconvert import HTMLExporter
from traitlets.config import Config

import build_slides
from course import ROOT, course_notebooks, read

PDF_DIR = ROOT / "build" / "pdf"
SLIDES_DIR = build_slides.BUILD_DIR
HANDOUT_TAGS = ("navigation", "check", "solution")
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")  # Debian's
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
HANDOUT_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "WenQuanYi Micro Hei", sans-serif; }
.jp-Cell { break-inside: avoid-page; }
.jp-OutputArea-output pre, .jp-InputArea pre { white-space: pre-wrap; word-break: break-all; }
img { max-width: 100%; height: auto; }
"""


def handout_html(notebook: Path) -> str:
    """The handout of ``notebook`` as HTML, with MathJax loaded from the vendored copy."""
    exporter = HTMLExporter(template_name="classic", mathjax_url=build_slides.MATHJAX_URL,
                            config=Config({"TagRemovePreprocessor": {  # classic reads metadata alt
                                "enabled": True, "remove_cell_tags": set(HANDOUT_TAGS)}}))
    body, _ = exporter.from_notebook_node(read(notebook))
    return body.replace("</head>", f"<style>{HANDOUT_CSS}</style></head>", 1)


MATHJAX_IDLE = ("() => !window.MathJax || !MathJax.Hub || "
                "(MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0)")
INLINE_SCHEMES = ("data:", "blob:", "about:")  # what a page makes itself, no network


class OfflinePage:
    """A page that may read the files inside ``root`` and inline data only; it records what
    else it tried, what failed to load and every script error."""

    def __init__(self, context, root: Path):
        self.root, self.blocked, self.failed, self.errors = root.resolve(), [], [], []
        self.page = context.new_page()
        self.page.route("**/*", self._route)
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _route(self, route):
        url = route.request.url
        path = Path(url[7:].split("?")[0].split("#")[0]).resolve() if url.startswith("file:") else None
        if url.startswith(INLINE_SCHEMES) or (path and path.is_relative_to(self.root)):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path, query: str = "", ready: str = "() => true"):
        """Show ``path``; return the page once ``ready`` (JavaScript) holds and MathJax is idle."""
        self.page.goto(path.resolve().as_uri() + query, wait_until="load")
        self.page.wait_for_function(ready, timeout=120_000)
        self.page.wait_for_function(MATHJAX_IDLE, timeout=120_000)
        return self.page

    def problems(self, script_errors: bool = True) -> list[str]:
        return ([f"tried the network: {u}" for u in self.blocked]
                + [f"failed to load: {u}" for u in self.failed if not u.startswith("http")]
                + [f"script error: {e}" for e in self.errors if script_errors])


def print_deck(context, deck: Path, pdf: Path) -> None:
    with OfflinePage(context, SLIDES_DIR).open(
            deck, "?print-pdf", "() => window.Reveal && Reveal.isReady()") as page:
        # reveal.js 4 breaks the page after every slide, the last one too: a blank last page
        page.evaluate("() => { const p = document.querySelectorAll('.pdf-page');"
                      " p[p.length - 1].style.pageBreakAfter = 'avoid'; }")
        page.wait_for_timeout(500)
        page.pdf(path=pdf, print_background=True, prefer_css_page_size=True)  # reveal sets @page
    print(f"wrote {pdf.relative_to(ROOT)}")


def print_handout(context, notebook: Path, pdf: Path) -> None:
    html_file = SLIDES_DIR / f"{notebook.stem}.handout.html"  # next to vendor/, for MathJax
    html_file.write_text(handout_html(notebook), encoding="utf-8")
    with OfflinePage(context, SLIDES_DIR).open(html_file) as page:
        page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    html_file.unlink()
    print(f"wrote {pdf.relative_to(ROOT)}")


def build(context, notebooks: list[Path] | None = None) -> None:
    """Print the lecture deck (all notebooks only), each notebook's deck and its handout, in a
    browser ``context`` of Playwright's default 1280x720 viewport (a deck's slide size)."""
    decks = [SLIDES_DIR / build_slides.LECTURE_DECK] if notebooks is None else []
    notebooks = notebooks or course_notebooks()
    build_slides.build()  # page.pdf makes PDF_DIR
    for deck in decks + [SLIDES_DIR / build_slides.deck_name(nb) for nb in notebooks]:
        print_deck(context, deck, PDF_DIR / deck.name.replace(".html", ".pdf"))
    for notebook in notebooks:
        print_handout(context, notebook, PDF_DIR / f"{notebook.stem}.handout.pdf")


if __name__ == "__main__":
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        with driver.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS) as browser:
            build(browser.new_context(), [Path(a) for a in sys.argv[1:]] or None)
