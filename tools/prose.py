"""The course's writing rules for prose and for what the slides show.

Prose (math, code and link targets removed): one Chinese term per concept (docs/glossary.csv;
a forbidden variant may be named once beside the chosen term, where it is introduced), an
English gloss at its first use only, Chinese quotes and brackets around Chinese text, no
meta-talk, no telegraphic "=" or "→", no line break inside a Chinese paragraph.  Shown cells:
no assert, no private name, at most MAX_CODE_LINES lines; a figure has alt text and a sentence
on its slide; no heading alone.  Every section carries its track badge (tools/tracks.py).
Numbers (decimals, percentages, ``a \\times 10^{b}``, integers of two or more digits; not
headings, inline code, single digits or names like "第 05 讲") must be, to the precision
stated: in the text output of a code cell nbval compares, a literal in the notebook's code, or
in tests/prose_constants.csv with its source.  A number found only in an
``nbval-ignore-output`` output needs a check cell asserting its range (the number as a literal
there).  An approximate number ("约", "左右", "≈") is a measurement, never a code literal; an
approximate whole number ("30 左右") matches within 10 % an output of the code cells near it
(8 before, 3 after).
Usage: ``python tools/prose.py [notebook ...]``; exit 1 on any violation.
"""

import csv
import functools
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import tracks
from course import ROOT, course_notebooks, is_nav_cell, read, slide_type, tags

GLOSSARY = ROOT / "docs" / "glossary.csv"
CONSTANTS = ROOT / "tests" / "prose_constants.csv"
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
APPROXIMATE = re.compile(r"(约|大约|左右|近|\\approx|≈|~|\\sim)")
HALF = 0.5 * (1 + 1e-9)  # half the last digit's place, and round-off


class Term(NamedTuple):
    chinese: str
    english: str
    introduced_in: str
    forbidden: tuple[str, ...]


@functools.cache
def glossary() -> tuple[Term, ...]:
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        return tuple(Term(r["chinese"], r["english"], r["introduced_in"],
                          tuple(v.strip() for v in r["forbidden_variants"].split(";") if v.strip()))
                     for r in csv.DictReader(handle))


def prose(source: str, keep_math: bool = False) -> str:
    """The sentences of a markdown cell: code, link targets, comments (and math) removed."""
    for pattern, repl in MARKUP + ([] if keep_math else [MATH]):
        source = re.sub(pattern, repl, source)
    return source


def prose_problems(nb, number: str, terms) -> Iterator[tuple[int, str, str]]:
    """(cell, rule, detail) for each break of the prose rules in notebook ``number``."""
    seen_glosses: dict[str, int] = {}
    named_once: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or is_nav_cell(cell):
            continue
        text = prose(cell.source)
        for term in terms:
            for variant, hits in ((v, text.count(v)) for v in term.forbidden if v in text):
                if (hits == 1 and variant not in named_once and number == term.introduced_in
                        and term.chinese in text.replace(variant, "")):
                    named_once.add(variant)         # "后向模式（也叫反向模式）": once per notebook
                else:
                    yield index, "glossary", (f"{variant!r} ({hits}x): use {term.chinese!r} "
                                              f"({term.english})")
        lines = text.splitlines()
        for line in lines:
            for match in [] if re.match(r"#\s", line) else GLOSS.finditer(line):  # not the title
                gloss = " ".join(match[1].split()).lower()
                if gloss in seen_glosses:
                    yield index, "repeated gloss", f"({match[1]}) again; first at c{seen_glosses[gloss]}"
                seen_glosses.setdefault(gloss, index)
            for pattern, rule, advice in ((ASCII_QUOTED, "ascii quotes", '"{}": use “…”'),
                                          (HALF_BRACKETS, "half-width brackets", "({}): use （…）")):
                yield from ((index, rule, advice.format(match[1]))
                            for match in pattern.finditer(line) if HAS_CJK.search(match[1]))
            yield from ((index, "telegraphic", f"{m[1]!r} in a sentence: {line.strip()[:60]!r}")
                        for m in TELEGRAPH.finditer(line))
        yield from ((index, "line break", f"{a.strip()[-10:]!r} / {b.strip()[:10]!r}: "
                     "a paragraph is one line (a break shows as a space)")
                    for a, b in zip(lines, lines[1:])
                    if not a.startswith("#") and BROKEN_LINE.search(f"{a}\n{b}"))
        yield from ((index, "meta", repr(word)) for word in META_WORDS if word in text)


def shown(cell) -> bool:
    return slide_type(cell) not in ("skip", "notes") and not is_nav_cell(cell)


def text_outputs(cell) -> str:
    return "\n".join(o.get("text") or str(o.get("data", {}).get("text/plain", ""))
                   for o in cell.get("outputs", []))


def has_figure(cell) -> bool:
    """A PNG output, or one inside HTML (a solution's figure folded by ad.folded_output)."""
    return any("image/png" in o.get("data", {}) or "<img " in str(o.get("data", {}).get("text/html", ""))
               for o in cell.get("outputs", []))


def sentence(cell) -> bool:
    """True if a markdown cell says something beyond a heading."""
    body = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
    return bool(HAS_CJK.search(prose("\n".join(body))))


def slide_problems(nb) -> Iterator[tuple[int, str, str]]:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and has_figure(cell) and not cell.metadata.get("alt", "").strip():
            yield index, "figure without alt text", "set metadata alt"
        if cell.cell_type != "code" or not shown(cell):
            continue
        lines = cell.source.splitlines()
        yield from ((index, "assert", line.strip()[:70]) for line in lines if re.match(r"\s*assert\b", line))
        code_only = "\n".join(line.split("#", 1)[0] for line in lines)   # comments may say _x
        yield from ((index, "private name", m.group(0)) for text in (code_only, text_outputs(cell))
                    for m in PRIVATE.finditer(STRING_LITERAL.sub("''", text)))
        if len(lines) > MAX_CODE_LINES:
            yield index, "long code", f"{len(lines)} lines > {MAX_CODE_LINES}"
    for slide in tracks.slides(nb):  # without its speaker notes
        group = [i for i in slide.cells if shown(nb.cells[i])]
        explained = any(nb.cells[i].cell_type == "markdown" and sentence(nb.cells[i]) for i in group)
        yield from ((i, "figure unexplained", "no sentence of prose on this figure's slide") for i in group
                    if nb.cells[i].cell_type == "code" and has_figure(nb.cells[i]) and not explained)
        if all(nb.cells[i].cell_type == "markdown" for i in group) and not explained:
            yield group[0], "empty slide", "a heading alone"


def numbers_in_text(text: str) -> list[float]:
    return [float(m.replace("_", ""))
            for m in re.findall(r"[-+]?\d+(?:_\d+)*(?:\.\d*)?(?:[eE][-+]?\d+)?", text)]


@dataclass
class Stated:
    value: float
    tolerance: float
    approximate: bool
    percent: bool
    text: str
    local: bool = False  # an approximate whole number ("30 左右") reads an output near it

    def matches(self, value: float) -> bool:
        candidates = [value, abs(value)] + ([100 * value, 100 * abs(value)] if self.percent else [])
        return any(abs(c - self.value) <= self.tolerance for c in candidates)


def decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def stated_numbers(source: str) -> list[Stated]:
    """The numbers a markdown cell states, with the precision it gives."""
    powers = []  # a \\times 10^{k} (a bare 10^{k} is a size, not a result), and 1e-08 as printed
    for match in re.finditer(r"(?P<m>\d+(?:\.\d+)?)\s*(?:\\times|×|\\cdot)\s*10\^\{?(?P<e>[-−]?\d+)\}?"
                             r"|(?<![\w.])(?P<m2>\d+(?:\.\d+)?)e(?P<e2>[-+]?\d+)\b", source):
        mantissa = match["m"] or match["m2"]
        value = float(mantissa) * 10.0 ** int((match["e"] or match["e2"]).replace("−", "-"))
        tolerance = HALF * 10.0 ** -decimals(mantissa) / float(mantissa) * abs(value)
        powers.append(Stated(value, tolerance, False, False, match.group()))
    text = re.sub(r"(?:\d+(?:\.\d+)?\s*(?:\\times|×|\\cdot)\s*)?10\^\{?[-−]?\d+\}?"
                  r"|(?<![\w.])\d+(?:\.\d+)?e[-+]?\d+\b", " ", source)
    for pattern, repl in ((r"(?m)^#+ [^\n]*$", " "),  # headings name things, they do not measure
                          (r"(?<=[_^])\{[^{}]*\}", "{}"),  # indices and exponents in formulas
                          (r"(?<=[_^])[\w-]", "")):
        text = re.sub(pattern, repl, text)
    text = prose(text, keep_math=True)
    found = []
    for match in re.finditer(r"(?<![\w.\\])(?P<number>\d+(?:\.\d+)?)(?P<percent>\s*(?:\\%|%|％))?"
                             r"(?![\w.]*\d)", text):
        number, places = match["number"], decimals(match["number"])
        if places == 0 and len(number) < 2:
            continue  # single digits: counts of things on the slide, indices, small factors
        before, after = text[max(0, match.start() - 6):match.start()], text[match.end():match.end() + 4]
        if re.search(r"(第|练习|表|图|Table|Eq)\s*$", before):
            continue  # 第 05 讲, 练习 2, 表 3: names, not results
        approximate = bool(APPROXIMATE.search(before + after))
        step = 10.0 ** -places if places else max(1.0, 0.2 * float(number)) if approximate else 1.0
        found.append(Stated(float(number), HALF * step, approximate, bool(match["percent"]), number,
                            local=approximate and places == 0))
    return powers + found


@functools.cache
def constants() -> dict[str, list[float]]:
    table: dict[str, list[float]] = {}
    for row in csv.DictReader(CONSTANTS.read_text(encoding="utf-8").splitlines()):
        if not row["source"].strip():
            raise ValueError(f"constant {row['number']} in {row['notebook']} of {CONSTANTS.name} "
                             "needs a source")
        table.setdefault(row["notebook"], []).append(float(row["number"]))
    return table


def number_problems(nb, number: str, quoted_constants) -> Iterator[tuple[int, str, str]]:
    """Each stated number that is neither printed, set by the code, nor a quoted constant."""
    compared, ignored, literals, checked = [], [], [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        numbers = numbers_in_text(text_outputs(cell))
        (ignored if "nbval-ignore-output" in tags(cell) else compared).extend((index, v) for v in numbers)
        code = re.sub(r"#.*", "", cell.source)
        (checked if "check" in tags(cell) else literals).extend(numbers_in_text(code))
    quoted = quoted_constants.get(number, []) + quoted_constants.get("*", [])
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or is_nav_cell(cell):
            continue
        for stated in stated_numbers(cell.source):
            near = range(index - 8, index + 4)  # an approximate figure reads a nearby output
            if (any(stated.matches(v) for i, v in compared if not stated.local or i in near)
                    or not stated.approximate and any(stated.matches(v) for v in literals)
                    or any(stated.matches(v) for v in quoted)):
                continue
            sources = sorted({i for i, v in ignored
                              if stated.matches(v) and (not stated.local or i in near)})
            if not sources:
                yield index, "number", (f"{stated.text} is not printed by the notebook, not set by its "
                                        f"code and not in {CONSTANTS.name}")
            elif not any(stated.matches(v) for v in checked):
                yield index, "number", (f"{stated.text} is quoted from the nbval-ignore-output cell(s) "
                                        f"{', '.join(f'c{i}' for i in sources)} and no check asserts "
                                        "its range")


def problems(path: Path) -> list[tuple[int, str, str]]:
    """(cell, rule, detail) for each break of a writing rule in the notebook at ``path``."""
    nb, number = read(path), path.name[:2]
    return [*prose_problems(nb, number, glossary()), *slide_problems(nb),
            *number_problems(nb, number, constants()), *((i, "badge", d) for i, d in tracks.problems(nb))]


def main(argv: list[str]) -> int:
    total = 0
    for path in [Path(p) for p in argv] or course_notebooks():
        found = problems(path)
        total += len(found)
        for cell, rule, detail in found:
            print(f"{path.name} c{cell} [{rule}] {detail}")
        counts = Counter(rule for _, rule, _ in found)
        summary = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items())) or "clean"
        print(f"== {path.name}: {summary}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
