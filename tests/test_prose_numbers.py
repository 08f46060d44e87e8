"""Every number the prose states is printed by the same notebook or is a quoted constant.

A number in a markdown cell (decimals, percentages, ``a \\times 10^{b}``, integers of two or
more digits; not headings, inline code, single digits or names like "第 05 讲") must be,
to the precision stated: in the text output of a code cell nbval compares, a literal in
the notebook's code, or in tests/prose_constants.csv with its source.  A number found only
in an ``nbval-ignore-output`` output needs a check cell asserting its range (the number
as a literal there).  An approximate number ("约", "左右", "≈") is a measurement, never a
code literal; an approximate whole number ("30 左右") matches within 10 % an output of
the code cells near it (8 before, 3 after).
"""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook, new_output

from course import ROOT, course_notebooks, tags
from nbbuild import code, md
from prose import prose, text_outputs

NOTEBOOKS = course_notebooks()
CONSTANTS = ROOT / "tests" / "prose_constants.csv"
APPROXIMATE = re.compile(r"(约|大约|左右|近|\\approx|≈|~|\\sim)")
HALF = 0.5 * (1 + 1e-9)  # half the last digit's place, and round-off


def _numbers_in_text(text: str) -> list[float]:
    return [float(m.replace("_", ""))
            for m in re.findall(r"[-+]?\d+(?:_\d+)*(?:\.\d*)?(?:[eE][-+]?\d+)?", text)]


def _strip_markdown(source: str) -> str:
    for pattern, repl in ((r"(?m)^#+ [^\n]*$", " "),  # headings name things, they do not measure
                          (r"(?<=[_^])\{[^{}]*\}", "{}"),  # indices and exponents in formulas
                          (r"(?<=[_^])[\w-]", "")):
        source = re.sub(pattern, repl, source)
    return prose(source, keep_math=True)


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
    text = _strip_markdown(re.sub(r"(?:\d+(?:\.\d+)?\s*(?:\\times|×|\\cdot)\s*)?10\^\{?[-−]?\d+\}?"
                                  r"|(?<![\w.])\d+(?:\.\d+)?e[-+]?\d+\b", " ", source))
    found = []
    for match in re.finditer(
        r"(?<![\w.\\])(?P<number>\d+(?:\.\d+)?)(?P<percent>\s*(?:\\%|%|％))?(?![\w.]*\d)", text
    ):
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


def _constants() -> dict[str, list[float]]:
    table: dict[str, list[float]] = {}
    for row in csv.DictReader(CONSTANTS.read_text(encoding="utf-8").splitlines()):
        assert row["source"].strip(), f"constant {row['number']} in {row['notebook']} needs a source"
        table.setdefault(row["notebook"], []).append(float(row["number"]))
    return table


def problems(path: Path, constants: dict[str, list[float]] | None = None) -> list[str]:
    """Each stated number of ``path`` that is neither printed, set by the code, nor a quoted constant."""
    constants = _constants() if constants is None else constants
    nb = nbformat.read(path, as_version=4)
    compared, ignored, literals, checked = [], [], [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        numbers = _numbers_in_text(text_outputs(cell))
        (ignored if "nbval-ignore-output" in tags(cell) else compared).extend((index, v) for v in numbers)
        code = re.sub(r"#.*", "", cell.source)
        (checked if "check" in tags(cell) else literals).extend(_numbers_in_text(code))
    quoted = constants.get(path.stem[:2], []) + constants.get("*", [])
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "navigation" in tags(cell):
            continue
        for stated in stated_numbers(cell.source):
            where = f"{path.name} c{index} ({cell.get('id')}): {stated.text}"
            near = range(index - 8, index + 4)  # an approximate figure reads a nearby output
            if any(stated.matches(v) for i, v in compared if not stated.local or i in near):
                continue
            if not stated.approximate and any(stated.matches(v) for v in literals):
                continue
            if any(stated.matches(v) for v in quoted):
                continue
            sources = sorted({i for i, v in ignored
                              if stated.matches(v) and (not stated.local or i in near)})
            if not sources:
                found.append(f"{where} is not printed by the notebook, not set by its code "
                             f"and not a quoted constant in {CONSTANTS.name}")
            elif not any(stated.matches(v) for v in checked):
                found.append(f"{where} is quoted from the nbval-ignore-output cell(s) "
                             f"{', '.join(f'c{i}' for i in sources)} and no check asserts its range")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stated_numbers_are_printed_or_quoted(path):
    assert not problems(path), "\n".join(problems(path))


def test_the_check_finds_a_planted_number(tmp_path):
    def printed(source, text, tags=()):
        cell = code(source, tags=tags)
        cell.outputs = [new_output("stream", name="stdout", text=text)]
        return cell

    nb = new_notebook(cells=[
        printed("print(4 * 10 + 2)", "42\n"), md("网络有 57 个参数。"), md("网络有 42 个参数，比值约 0.93。"),
        printed("print(t)", "ratio 46.7, 31.6, 25.0\n", tags=["nbval-ignore-output"]),
        md("比值从 30 左右降到 20 左右。")])
    path = tmp_path / "99_planted.ipynb"
    nbformat.write(nb, path)
    found = problems(path, constants={})
    assert len(found) == 4, found
    assert ": 57 is not printed" in found[0] and ": 0.93 is not printed" in found[1]
    assert ": 30 is quoted from the nbval-ignore-output cell(s) c3" in found[2]
    assert ": 20 is not printed" in found[3]
