"""The release kit (make release: website, decks, PDFs), unzipped and opened in Chromium
with every request outside it refused."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pdfs
import tracks
import website
from browser import described

pytestmark = pytest.mark.skipif(
    shutil.which("pdffonts") is None, reason="needs poppler-utils (apt-get install -y poppler-utils)")


@pytest.fixture(scope="module")
def kit(tmp_path_factory, chromium) -> Path:
    pdfs.build(chromium)
    assert website.main() == 0
    archive = website.release()
    folder = tmp_path_factory.mktemp("usb-stick")
    shutil.unpack_archive(archive, folder)
    return folder / archive.stem


def test_every_page_of_the_website_loads_offline_with_alt_text_on_every_image(kit, chromium):
    pages = sorted(p.relative_to(kit).as_posix() for p in (kit / "site").rglob("*.html")
                   if "_static" not in p.parts)
    assert any(p.endswith("04_dual_numbers.html") for p in pages)
    for relative in ["index.html"] + pages:
        offline = pdfs.OfflinePage(chromium, kit)
        with offline.open(kit / relative) as page:
            alts = page.eval_on_selector_all(
                "img", "els => els.map(e => e.getAttribute('alt') || '')")
        assert offline.problems(script_errors=False) == [], relative
        assert all(described(alt) for alt in alts), f"{relative}: {alts}"


@pytest.mark.parametrize("term, notebook", [("对偶数", "04_dual_numbers"), ("伴随", "05_reverse_mode")])
def test_chinese_search_finds_the_notebook_that_teaches_the_term(kit, chromium, term, notebook):
    offline = pdfs.OfflinePage(chromium, kit)
    with offline.open(kit / "site" / "search.html", f"?q={term}") as page:
        page.wait_for_selector("#search-results li", timeout=30_000)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    assert offline.problems(script_errors=False) == []
    assert any(notebook in hit for hit in hits[:3]), hits


def test_lecture_pdf_has_a_page_per_planned_slide_and_embeds_a_cjk_font(kit):
    lecture = kit / "pdf" / "lecture.slides.pdf"
    info = subprocess.run(["pdfinfo", str(lecture)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == tracks.plan().slide_count
    fonts = subprocess.run(["pdffonts", str(lecture)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line or "Noto" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk), fonts  # the "emb" column


def test_every_notebook_has_a_deck_pdf_and_a_handout_without_solutions(kit):
    for notebook in (kit / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        for kind in ("slides", "handout"):
            assert (kit / "pdf" / f"{notebook.stem}.{kind}.pdf").stat().st_size > 10_000
        handout = pdfs.handout_html(notebook)
        assert "<summary>参考答案</summary>" not in handout, notebook.name  # written answers
        assert "folded_output" not in handout and "<!--NAVIGATION-->" not in handout
