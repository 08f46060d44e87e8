"""Re-run notebooks as students do, in one kernel: Run All, Run All again, then every code
cell twice in a row.  Each execution must give the stored outputs as nbval compares them
(text outputs after tests/sanitize.cfg; ``nbval-ignore-output`` cells are not compared) and
raise only where tagged ``raises-exception``: a cell that counts up, draws from a generator
made earlier or accumulates gradients fails.  Usage: ``python tools/rerun_check.py [NB ...]``.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from course import course_notebooks, first_line, sanitize, sanitize_rules, tags
from record import notebook_client

COMPARED_MIME_TYPES = ("text/plain", "text/html", "text/latex")


def comparable(outputs, rules) -> list[str]:
    """The parts of a cell's outputs that nbval compares, sanitized: streams joined per
    name (the kernel may split them), rich outputs' text types, errors' exception names."""
    streams: dict[str, str] = {}
    parts = []
    for output in outputs:
        kind = output["output_type"]
        if kind == "stream":
            streams[output["name"]] = streams.get(output["name"], "") + output["text"]
        elif kind in ("execute_result", "display_data"):
            parts += [f"{mime}: {output['data'][mime]}" for mime in COMPARED_MIME_TYPES
                      if mime in output["data"]]
        elif kind == "error":
            parts.append(f"error: {output['ename']}")
    parts = [f"{name}: {text}" for name, text in sorted(streams.items())] + parts
    return [sanitize(part, rules) for part in parts]


def execution_plan(code_cells: list[int]) -> list[tuple[str, int]]:
    """(pass name, cell index) in the order a re-running student executes them."""
    return ([("run all", i) for i in code_cells] + [("run all again", i) for i in code_cells]
            + [(name, i) for i in code_cells for name in ("cell run", "cell run again")])


def check(path: Path) -> list[str]:
    """Re-run the notebook at ``path`` as described above; return the problems found."""
    stored = nbformat.read(path, as_version=4)
    working = copy.deepcopy(stored)
    rules = sanitize_rules()
    code_cells = [i for i, cell in enumerate(stored.cells) if cell.cell_type == "code"]
    client = notebook_client(working, path)
    problems = []
    with client.setup_kernel():
        for name, index in execution_plan(code_cells):
            cell = working.cells[index]
            where = f"{path.name} cell {index} ({first_line(cell)!r}), {name}"
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                message = str(error).strip().splitlines()[-1] if str(error).strip() else ""
                problems.append(f"{where}: raised {type(error).__name__} {message}")
                if isinstance(error, DeadKernelError):
                    break
                continue
            if "nbval-ignore-output" in tags(stored.cells[index]):
                continue
            expected = comparable(stored.cells[index].outputs, rules)
            got = comparable(cell.outputs, rules)
            if got != expected:
                problems.append(f"{where}: output differs from the stored one\n"
                                f"    stored: {expected!r:.300}\n    got:    {got!r:.300}")
    return problems


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or course_notebooks()
    failed = 0
    for path in paths:
        problems = check(path)
        print(f"{'ok    ' if not problems else 'FAILED'} {path}: run all twice, "
              f"then every cell twice in a row ({len(problems)} problems)")
        for problem in problems:
            print(f"  {problem}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
