"""The course's writing rules for prose and for what the slides show.

Prose (math, code and link targets removed): one Chinese term per concept (docs/glossary.csv;
a forbidden variant may be named once beside the chosen term, where it is introduced), an
English gloss at its first use only, Chinese quotes and brackets around Chinese text, no
meta-talk, no telegraphic "=" or "→", no line break inside a Chinese paragraph.  Shown cells:
no assert, no private name, at most MAX_CODE_LINES lines; a figure has alt text and a sentence
on its slide; no heading alone.
Usage: ``python tools/prose.py [notebook ...]``; exit 1 on any violation.
"""

import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

import tracks
from course import ROOT, course_notebooks, is_nav_cell, slide_type

GLOSSARY = ROOT / "docs" / "glossary.csv"
MAX_CODE_LINES = 12
META_WORDS = ("原讲义", "原讲座", "原始讲义", "这一格", "单元格", "不做比较", "课程库", "本讲义")

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
HAS_CJK = re.compile(f"[{CJK}]")
MATH = (r"(?s)\$\$.*?\$\$|\$[^$\n]+\$", " $ ")
MARKUP = [(r"(?s)<!--.*?-->", " "), (r"(?ms)^```.*?^```", " "),  # comments and code, link targets
          (r"``.*?``|`[^`\n]*`", " `code` "), (r"\]\([^)]*\)", "]")]
# a gloss: Chinese text, then a bracket holding Latin text
GLOSS = re.compile(f"[{CJK}]\\s*[（(]([A-Za-z][^（）()]*?)[）)]")
ASCII_QUOTED = re.compile(r'"([^"\n]*)"')
HALF_BRACKETS = re.compile(r"\(([^()\n]*)\)")
# a line break inside a paragraph renders as a space between two Chinese characters
WIDE = f"[{CJK}\u3000-\u303f\uff00-\uffef“”‘’]"
BROKEN_LINE = re.compile(f"{WIDE}[ \\t]*\\n[ \\t]*{WIDE}")
TELEGRAPH = re.compile(f"[{CJK}A-Za-z）)]\\s*(=|→|->)\\s*[{CJK}A-Za-z（(]")
PRIVATE = re.compile(r"(?<![\w.])_[A-Za-z]\w*|\._[A-Za-z]\w*")
STRING_LITERAL = re.compile(r"(?<!\w)[rfb]?(\"[^\"\n]*\"|'[^'\n]*')")  # may say _x
SHOWN_EXCLUDED = ("skip", "notes")


@dataclass(frozen=True)
class Term:
    chinese: str
    english: str
    introduced_in: str
    forbidden: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    notebook: str
    cell: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.notebook} c{self.cell} [{self.rule}] {self.detail}"


def glossary(path: Path = GLOSSARY) -> list[Term]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [Term(r["chinese"], r["english"], r["introduced_in"],
                     tuple(v.strip() for v in r["forbidden_variants"].split(";") if v.strip()))
                for r in csv.DictReader(handle)]


def prose(source: str, keep_math: bool = False) -> str:
    """The sentences of a markdown cell: code, link targets, comments (and math) removed."""
    for pattern, repl in MARKUP + ([] if keep_math else [MATH]):
        source = re.sub(pattern, repl, source)
    return source


def prose_problems(path: Path, nb, terms: list[Term]) -> list[Problem]:
    name, number = path.name, path.name[:2]
    found: list[Problem] = []
    seen_glosses: dict[str, int] = {}
    named_once: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or is_nav_cell(cell):
            continue
        text = prose(cell.source)
        for term in terms:
            for variant in term.forbidden:
                hits = text.count(variant)
                if not hits:
                    continue
                allowed = number == term.introduced_in and term.chinese in text.replace(variant, "")
                if allowed and hits == 1 and variant not in named_once:
                    named_once.add(variant)         # "后向模式（也叫反向模式）": once per notebook
                    continue
                found.append(Problem(name, index, "glossary",
                                     f"{variant!r} ({hits}x): use {term.chinese!r} ({term.english})"))
        for line in text.splitlines():
            if not re.match(r"#\s", line):  # the title line is the notebook's name
                for match in GLOSS.finditer(line):
                    gloss = " ".join(match[1].split()).lower()
                    if gloss in seen_glosses:
                        found.append(Problem(name, index, "repeated gloss",
                                             f"({match[1]}) again; first at c{seen_glosses[gloss]}"))
                    else:
                        seen_glosses[gloss] = index
            for pattern, rule, advice in ((ASCII_QUOTED, "ascii quotes", '"{}": use “…”'),
                                          (HALF_BRACKETS, "half-width brackets", "({}): use （…）")):
                found += [Problem(name, index, rule, advice.format(match[1]))
                          for match in pattern.finditer(line) if HAS_CJK.search(match[1])]
            found += [Problem(name, index, "telegraphic", f"{m[1]!r} in a sentence: {line.strip()[:60]!r}")
                      for m in TELEGRAPH.finditer(line)]
        lines = text.splitlines()
        found += [Problem(name, index, "line break", f"{a.strip()[-10:]!r} / {b.strip()[:10]!r}: "
                          "a paragraph is one line (a break shows as a space)")
                  for a, b in zip(lines, lines[1:])
                  if not a.startswith("#") and BROKEN_LINE.search(f"{a}\n{b}")]
        found += [Problem(name, index, "meta", repr(word)) for word in META_WORDS if word in text]
    return found


def shown(cell) -> bool:
    return slide_type(cell) not in SHOWN_EXCLUDED and not is_nav_cell(cell)


def text_outputs(cell) -> str:
    return "\n".join(o.get("text") or str(o.get("data", {}).get("text/plain", ""))
                   for o in cell.get("outputs", []))


def has_figure(cell) -> bool:
    """A PNG output, or one inside HTML (a solution's figure folded by ad.folded_output)."""
    return any("image/png" in o.get("data", {}) or "<img " in str(o.get("data", {}).get("text/html", ""))
               for o in cell.get("outputs", []))


def private_names(text: str) -> list[str]:
    return [m.group(0) for m in PRIVATE.finditer(STRING_LITERAL.sub("''", text))]


def sentence(cell) -> bool:
    """True if a markdown cell says something beyond a heading."""
    body = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
    return bool(HAS_CJK.search(prose("\n".join(body))))


def slide_problems(path: Path, nb) -> list[Problem]:
    name = path.name
    found: list[Problem] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not shown(cell):
            continue
        lines = cell.source.splitlines()
        found += [Problem(name, index, "assert", line.strip()[:70])
                  for line in lines if re.match(r"\s*assert\b", line)]
        code_only = "\n".join(line.split("#", 1)[0] for line in lines)   # comments may say _x
        found += [Problem(name, index, "private name", private)
                  for private in private_names(code_only) + private_names(text_outputs(cell))]
        if len(lines) > MAX_CODE_LINES:
            found.append(Problem(name, index, "long code", f"{len(lines)} lines > {MAX_CODE_LINES}"))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and has_figure(cell) and not cell.metadata.get("alt", "").strip():
            found.append(Problem(name, index, "figure without alt text", "set metadata alt"))
    for slide in tracks.slides(nb):  # without its speaker notes
        group = [i for i in slide.cells if shown(nb.cells[i])]
        cells = [nb.cells[i] for i in group]
        explained = any(c.cell_type == "markdown" and sentence(c) for c in cells)
        for index, cell in zip(group, cells):
            if cell.cell_type == "code" and has_figure(cell) and not explained:
                found.append(Problem(name, index, "figure unexplained",
                                     "no sentence of prose on this figure's slide"))
        if all(c.cell_type == "markdown" for c in cells) and not explained:
            found.append(Problem(name, group[0], "empty slide", "a heading alone"))
    return found


def problems(path: Path, terms: list[Term] | None = None) -> list[Problem]:
    nb = nbformat.read(path, as_version=4)
    terms = glossary() if terms is None else terms
    return prose_problems(path, nb, terms) + slide_problems(path, nb)


def main(argv: list[str]) -> int:
    terms, total = glossary(), 0
    for path in [Path(p) for p in argv] or course_notebooks():
        found = problems(path, terms)
        total += len(found)
        for problem in found:
            print(problem)
        counts = Counter(p.rule for p in found)
        summary = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())) or "clean"
        print(f"== {path.name}: {summary}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
