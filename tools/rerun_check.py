"""Re-run notebooks as students do, in one kernel: Run All, Run All again, every code cell
twice in a row, then every code cell once more from the last to the first (a cell re-run
after the cells below it have run: a name that a later section binds to something else, or
state that a later cell changes, shows here).  The code cells are laid out in that order, each with its stored
outputs and tags, in a scratch notebook that nbval runs as ``make test`` runs a notebook:
each execution must give the stored outputs and raise only where tagged
``raises-exception``, so a cell that counts up, draws from a generator made earlier or
accumulates gradients fails.  Usage: ``python tools/rerun_check.py [NB ...]``.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from course import ROOT, SANITIZE_FILE, course_notebooks, first_line, read

# a failure's section in pytest's report: "____ 05_reverse_mode.ipynb::Cell 4 ____"
FAILURE = re.compile(r"^_+ (\S*?)::Cell (\d+) _+$", re.M)


def nbval(folder: Path) -> subprocess.CompletedProcess:
    """Run nbval on the notebooks in ``folder`` (a kernel for each) as make test does:
    warnings are errors but those of the plugin stack (conftest.py's hook, loaded as a plugin)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
         "--color=no", f"--rootdir={folder}", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(SANITIZE_FILE), "-W", "error", str(folder)],
        cwd=ROOT, capture_output=True, text=True)


def check(paths: list[Path]) -> dict[Path, list[str]]:
    """Re-run the notebooks at ``paths`` as described above; return each one's problems."""
    plans = {}
    with tempfile.TemporaryDirectory() as folder:
        for path in paths:
            stored = read(path)
            code = [i for i, c in enumerate(stored.cells) if c.cell_type == "code"]
            plan = ([("run all", i) for i in code] + [("run all again", i) for i in code]
                    + [(name, i) for i in code for name in ("cell run", "cell run again")]
                    + [("run again after the cells below it", i) for i in reversed(code)])
            cells = [nbformat.from_dict({**stored.cells[index], "id": f"run-{number}"})
                     for number, (_, index) in enumerate(plan)]
            scratch = nbformat.v4.new_notebook(cells=cells, metadata=stored.metadata)
            nbformat.write(scratch, Path(folder) / path.name)
            plans[path.name] = path, plan, cells
        result = nbval(Path(folder))
    problems = {path: [] for path in paths}
    sections = FAILURE.split(result.stdout.split("short test summary info")[0])
    for name, k, report in zip(sections[1::3], sections[2::3], sections[3::3]):
        path, plan, cells = plans[name]
        (what, index), cell = plan[int(k)], cells[int(k)]
        problems[path].append(f"{name} cell {index} ({first_line(cell)!r}), {what}: "
                              + report.strip().rstrip("=").strip()[:600])
    if result.returncode and not any(problems.values()):  # no kernel, a crash, ...
        problems = {path: [result.stdout[-2000:] + result.stderr[-2000:]] for path in paths}
    return problems


def main(argv: list[str]) -> int:
    results = check([Path(a) for a in argv] or course_notebooks())
    for path, problems in results.items():
        print(f"{'ok    ' if not problems else 'FAILED'} {path}: run all twice, every cell "
              f"twice in a row, then every cell from the last to the first ({len(problems)} problems)")
        for problem in problems:
            print(f"  {problem}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
