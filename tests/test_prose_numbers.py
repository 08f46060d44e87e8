"""Every number the prose states as a result is printed by the same notebook or is a quoted constant.

For each markdown cell of each notebook in ``notebooks/``, the numbers it states
(decimals, percentages, powers of ten written as ``a \\times 10^{b}``, integers of
two or more digits) must be found, to the precision the prose gives them:

1. in the stored text output of a code cell of the same notebook that nbval
   compares (not tagged ``nbval-ignore-output``), or
2. as a literal in the code of the same notebook (a parameter the code sets), or
3. in ``tests/prose_constants.csv``: a quoted constant with its source.

A number found only in the output of an ``nbval-ignore-output`` cell (a timing,
a figure that changes from run to run) is reported unless a ``check`` cell of
the notebook asserts a range containing it, i.e. the number also appears as a
literal in a check cell.  Numbers qualified as approximate ("约", "左右", "~",
"≈") are a measurement, never matched against code literals; an approximate
whole number ("30 左右") is matched within 10 % against the outputs of the code
cells near it only (8 cells before, 3 after).  Headings, inline code, single
digits and names such as "第 05 讲", "练习 2", "表 3" are not results.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CONSTANTS = ROOT / "tests" / "prose_constants.csv"

APPROXIMATE = re.compile(r"(约|大约|左右|近|\\approx|≈|~|\\sim)")


def _text_outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _numbers_in_text(text: str) -> list[float]:
    found = []
    for match in re.finditer(r"[-+]?\d+(?:_\d+)*(?:\.\d*)?(?:[eE][-+]?\d+)?", text):
        try:
            found.append(float(match.group().replace("_", "")))
        except ValueError:
            continue
    return found


def _strip_markdown(source: str) -> str:
    source = re.sub(r"```.*?```", " ", source, flags=re.S)  # code blocks
    source = re.sub(r"`[^`]*`", " ", source)  # inline code
    source = re.sub(r"\]\([^)]*\)", "]", source)  # link targets
    source = re.sub(r"<!--.*?-->", " ", source, flags=re.S)
    source = re.sub(
        r"^#+ .*$", " ", source, flags=re.M
    )  # headings name things, they do not measure
    source = re.sub(r"(?<=[_^])\{[^{}]*\}", "{}", source)  # indices and exponents in formulas ...
    source = re.sub(r"(?<=[_^])[\w-]", "", source)
    return source


class Stated:
    def __init__(self, value: float, decimals: int, approximate: bool, percent: bool, text: str):
        self.value, self.decimals, self.approximate = value, decimals, approximate
        self.percent, self.text = percent, text

    def tolerance(self) -> float:
        if self.decimals > 0:
            step = 10.0**-self.decimals
        elif self.approximate:  # "30 左右": within 5 %
            step = max(1.0, 0.2 * abs(self.value))
        else:
            step = 1.0
        return 0.5 * step * (1 + 1e-9)

    def local(self) -> bool:
        """An approximate whole number ("30 左右") reads an output near it."""
        return self.approximate and self.decimals == 0 and not self.exponent_scaled

    def matches(self, value: float) -> bool:
        tolerance = self.tolerance() * (abs(self.value) if self.exponent_scaled else 1)
        candidates = [value, abs(value)]
        if self.percent:
            candidates += [100 * value, 100 * abs(value)]
        return any(abs(c - self.value) <= tolerance for c in candidates)

    exponent_scaled = False


def stated_numbers(source: str) -> list[Stated]:
    """The numbers a markdown cell states, with the precision it gives."""
    found = []
    powers = []
    # a \times 10^{k} and 10^{k} first, before exponents are stripped
    for match in re.finditer(
        r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:\\times|×|\\cdot)\s*)?10\^\{?(?P<e>[-−]?\d+)\}?", source
    ):
        exponent = int(match.group("e").replace("−", "-"))
        mantissa = match.group("m")
        if mantissa is None:
            continue  # a bare power of ten is an order of magnitude or a size, not a result
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        stated = Stated(float(mantissa) * 10.0**exponent, 0, False, False, match.group())
        stated.exponent_scaled = True
        stated.tolerance = lambda d=decimals, m=float(mantissa): 0.5 * 10.0**-d / m * (1 + 1e-9)
        powers.append(stated)
    for match in re.finditer(r"(?<![\w.])(?P<m>\d+(?:\.\d+)?)e(?P<e>[-+]?\d+)\b", source):
        mantissa = match.group("m")  # 1e-08, as code prints it
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        stated = Stated(float(match.group()), 0, False, False, match.group())
        stated.exponent_scaled = True
        stated.tolerance = lambda d=decimals, m=float(mantissa): 0.5 * 10.0**-d / m * (1 + 1e-9)
        powers.append(stated)
    text = re.sub(
        r"(?:\d+(?:\.\d+)?\s*(?:\\times|×|\\cdot)\s*)?10\^\{?[-−]?\d+\}?"
        r"|(?<![\w.])\d+(?:\.\d+)?e[-+]?\d+\b",
        " ",
        source,
    )
    text = _strip_markdown(text)
    for match in re.finditer(
        r"(?<![\w.\\])(?P<number>\d+(?:\.\d+)?)(?P<percent>\s*(?:\\%|%|％))?(?![\w.]*\d)", text
    ):
        number = match.group("number")
        decimals = len(number.split(".")[1]) if "." in number else 0
        if decimals == 0 and len(number) < 2:
            continue  # single digits: counts of things on the slide, indices, small factors
        before = text[max(0, match.start() - 6) : match.start()]
        after = text[match.end() : match.end() + 4]
        if re.search(r"(第|练习|表|图|Table|Eq)\s*$", before):
            continue  # 第 05 讲, 练习 2, 表 3: names, not results
        approximate = bool(APPROXIMATE.search(before + after))
        found.append(
            Stated(float(number), decimals, approximate, bool(match.group("percent")), number)
        )
    return powers + found


def _constants() -> dict[str, list[float]]:
    table: dict[str, list[float]] = {}
    with CONSTANTS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert row["source"].strip(), (
                f"constant {row['number']} in {row['notebook']} needs a source"
            )
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
        tags = cell.metadata.get("tags", [])
        numbers = _numbers_in_text(_text_outputs(cell))
        (ignored if "nbval-ignore-output" in tags else compared).extend((index, v) for v in numbers)
        code = re.sub(r"#.*", "", cell.source)
        (checked if "check" in tags else literals).extend(_numbers_in_text(code))
    quoted = constants.get(path.stem[:2], []) + constants.get("*", [])
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "navigation" in cell.metadata.get("tags", []):
            continue
        for stated in stated_numbers(cell.source):
            where = f"{path.name} c{index} ({cell.get('id')}): {stated.text}"
            near = range(index - 8, index + 4)  # an approximate figure reads a nearby output
            if any(stated.matches(v) for i, v in compared if not stated.local() or i in near):
                continue
            if not stated.approximate and any(stated.matches(v) for v in literals):
                continue
            if any(stated.matches(v) for v in quoted):
                continue
            sources = sorted(
                {i for i, v in ignored if stated.matches(v) and (not stated.local() or i in near)}
            )
            if sources:
                if any(stated.matches(v) for v in checked):
                    continue
                found.append(
                    f"{where} is quoted from the nbval-ignore-output cell(s) "
                    f"{', '.join(f'c{i}' for i in sources)} and no check asserts its range"
                )
            else:
                found.append(
                    f"{where} is not printed by the notebook, not set by its code "
                    f"and not a quoted constant in {CONSTANTS.name}"
                )
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stated_numbers_are_printed_or_quoted(path):
    assert not problems(path), "\n".join(problems(path))


def test_the_check_finds_a_planted_number(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "print(4 * 10 + 2)",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="42\n")],
        ),
        nbformat.v4.new_markdown_cell("网络有 57 个参数。"),
        nbformat.v4.new_markdown_cell("网络有 42 个参数，比值约 0.93。"),
    ]
    timing = nbformat.v4.new_code_cell(
        "print(t)",
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="ratio 46.7, 31.6, 25.0\n")],
    )
    timing.metadata["tags"] = ["nbval-ignore-output"]
    nb.cells.append(timing)
    nb.cells.append(nbformat.v4.new_markdown_cell("比值从 30 左右降到 20 左右。"))
    path = tmp_path / "99_planted.ipynb"
    nbformat.write(nb, path)
    found = problems(path, constants={})
    assert len(found) == 4, found
    assert ": 57 is not printed" in found[0] and ": 0.93 is not printed" in found[1]
    assert ": 30 is quoted from the nbval-ignore-output cell(s) c3" in found[2]
    assert ": 20 is not printed" in found[3]
