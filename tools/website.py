"""The course website (``make site``): Sphinx + MyST-NB + the Sphinx Book Theme, offline.

Pages go to build/site-src/, the site to build/site/: each notebook from its stored outputs
(navigation and checks removed, solutions folded), README's course sections included, the
glossary and the downloads; MathJax is the decks' copy, search Sphinx's Chinese search.
``--release`` zips site, decks, PDFs, notebooks and library into build/release/.
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat

import build_slides
import course
import prose

ROOT = course.ROOT
SRC = ROOT / "build" / "site-src"  # docs/site/conf.py reads it from here
OUT = ROOT / "build" / "site"
ANSWER = "<details><summary>参考答案</summary>\n\n{}\n\n</details>"


def include(start: str | None, end: str | None) -> str:
    """A MyST directive that includes README.md from heading ``start`` to ``end``."""
    lines = [line.strip() for line in course.README.read_text(encoding="utf-8").splitlines()]
    return "\n".join(["```{include} README.md", *[f":{key}-line: {lines.index(heading)}"
                      for key, heading in (("start", start), ("end", end)) if heading], "```", ""])


def downloads(stem: str, up: str, labels=("HTML", "PDF", "PDF")) -> list[str]:
    """Links to the deck of notebook ``stem``, its PDF and its handout's PDF, from a page ``up``
    from build/ (as many as ``labels``)."""
    files = ["slides/{}.slides.html", "pdf/{}.slides.pdf", "pdf/{}.handout.pdf"]
    return [f'<a href="{up}{file.format(stem)}">{label}</a>' for file, label in zip(files, labels)]


def web_notebook(path: Path) -> nbformat.NotebookNode:
    """``path`` tagged for MyST-NB, with a line of links under its title."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "navigation" in tags or "check" in tags:
            tags.append("remove-cell")
        elif "solution" in tags and cell.cell_type == "code":
            tags.append("hide-cell")
        elif "solution" in tags and "<details" not in cell.source:
            cell.source = ANSWER.format(cell.source)
        if alt := cell.metadata.get("alt"):
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt}
            for output in cell.get("outputs", []):  # a figure folded into a solution's HTML
                if html := output.get("data", {}).get("text/html"):
                    output["data"]["text/html"] = html.replace("<img ", f'<img alt="{alt}" ')
    links = [f"[笔记本 (.ipynb)]({path.name})",
             *downloads(path.stem, "../../", ("幻灯片 (slides)", "幻灯片 PDF", "讲义 PDF (handout)"))]
    nb.cells.insert(course.title_index(nb) + 1,
                    nbformat.v4.new_markdown_cell(" · ".join(links), id=f"links-{path.stem[:2]}"))
    return nb


def write_sources(notebooks: list[Path]) -> None:
    shutil.rmtree(SRC, ignore_errors=True)
    (SRC / "_extra" / "notebooks").mkdir(parents=True)
    (SRC / "notebooks").mkdir()
    shutil.copyfile(course.README, SRC / "README.md")
    for path in notebooks:
        nbformat.write(web_notebook(path), SRC / "notebooks" / path.name)
        shutil.copyfile(path, SRC / "_extra" / "notebooks" / path.name)
    shutil.copytree(build_slides.BUILD_DIR / "vendor" / "mathjax", SRC / "_static" / "mathjax")
    glossary = sorted(prose.glossary(), key=lambda t: (t.introduced_in, t.chinese))
    toc = "\n".join(f"notebooks/{p.stem}" for p in notebooks)
    pages = {
        "index.md": include(None, "## Two commands")
        + f"\n```{{toctree}}\n:caption: 讲义\n:maxdepth: 1\n\n{toc}\n```\n\n"
        "```{toctree}\n:caption: 课程\n:maxdepth: 1\n\nplan\nlocal\nglossary\ndownloads\n```\n",
        "plan.md": "# 讲座计划 (Lecture plan)\n\n"
        + include("## The two-hour lecture and self-study", "## Presenting as slides"),
        "local.md": "# Running the course on your computer\n\n"
        + include("## Two commands", "## Notebooks")
        + include("## Presenting as slides", "## Editing a notebook"),
        "glossary.md": "# 术语表 (Glossary)\n\n全课程统一使用的术语，按首次出现的讲次排列。\n\n"
        "| 中文 | English | 首次出现 |\n|---|---|---|\n"
        + "".join(f"| {t.chinese} | {t.english} | {t.introduced_in} |\n" for t in glossary),
        "downloads.md": "# 下载：幻灯片与讲义 (Downloads)\n\n整场讲座的核心幻灯片："
        + " · ".join(downloads("lecture", "../", ("网页版", "PDF"))) + "。\n\n"
        "| 讲次 | 幻灯片 | 幻灯片 PDF | 讲义 PDF |\n|---|---|---|---|\n"
        + "".join(f"| {course.title(p)} | {' | '.join(downloads(p.stem, '../'))} |\n"
                  for p in notebooks),
        "jieba_dict.txt": "".join(f"{t.chinese} 100000\n" for t in glossary),
    }
    for name, text in pages.items():
        (SRC / name).write_text(text, encoding="utf-8")


RELEASE_FILES = ["README.md", "LICENSE", "LICENSE-CC-BY-4.0.txt", "CITATION.cff", "Makefile",
                 "requirements.txt", "pyproject.toml", "autodiff_helpers.py"]
RELEASE_DIRS = ["notebooks", "ad_engine", "ad_course", "docs"]
LANDING = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url=site/index.html">
<title>自动微分 (Automatic differentiation)</title></head>
<body><p><a href="site/index.html">课程网站 (website)</a> ·
<a href="slides/index.html">幻灯片 (slides)</a> · <a href="pdf/">PDF</a> ·
<a href="notebooks/">笔记本 (notebooks)</a></p></body></html>
"""


def release() -> Path:
    """Assemble the offline kit from build/ and zip it; return the archive's path."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    kit = ROOT / "build" / "release" / f"autodiff-course-{version}"
    shutil.rmtree(kit, ignore_errors=True)
    for folder, target in [(OUT, "site"), (build_slides.BUILD_DIR, "slides"),
                           (ROOT / "build" / "pdf", "pdf")]:
        shutil.copytree(folder, kit / target, ignore=shutil.ignore_patterns(".*", "screenshots"))
    for folder in RELEASE_DIRS:
        shutil.copytree(ROOT / folder, kit / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "site"))
    for file in RELEASE_FILES:
        shutil.copy2(ROOT / file, kit / file)
    (kit / "index.html").write_text(LANDING, encoding="utf-8")
    archive = Path(shutil.make_archive(str(kit), "zip", kit.parent, kit.name))
    print(f"release kit in {kit.relative_to(ROOT)}, archive {archive.relative_to(ROOT)}")
    return archive


def main() -> int:
    build_slides.build()  # vendors MathJax; the pages link the decks
    write_sources(course.course_notebooks())
    conf = ROOT / "docs" / "site"
    sphinx = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", conf, SRC, OUT]
    rc = subprocess.run(sphinx).returncode
    if rc == 0:
        print(f"website in {OUT.relative_to(ROOT)}; open {OUT.relative_to(ROOT)}/index.html")
    if rc == 0 and "--release" in sys.argv[1:]:
        release()
    return rc


if __name__ == "__main__":
    sys.exit(main())
