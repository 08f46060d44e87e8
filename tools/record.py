"""Re-execute notebooks top to bottom and store their outputs (``make record``).

Each runs in a fresh kernel of this interpreter in its own folder; cells tagged
``raises-exception`` may raise.  A failing notebook stays byte-identical (the cell and the
error are printed; exit 1); otherwise its file is replaced whole and ``make nav`` refreshed.
Usage: ``python tools/record.py [NOTEBOOK ...]`` (default: every notebook).
"""

import os
import re
import sys
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

import nav
from course import NOTEBOOK_DIR, ROOT, course_notebooks, first_line, notebook_text, read

CELL_TIMEOUT = 300  # seconds


def record(path: Path) -> bool:
    """Execute the notebook at ``path`` and store it; return False (file untouched) on failure."""
    nb = read(path)
    current = {}
    # a kernel of this interpreter, as nbval's --nbval-current-env starts it (a user's python3
    # kernelspec may point to another Python); in the notebook's folder; no timings; a cell's
    # printed text as one stream however the kernel's messages split it (diffs stay clean)
    kernel = AsyncKernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME,
                                kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(
        nb, km=kernel, timeout=CELL_TIMEOUT, record_timing=False, coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        on_cell_start=lambda cell, cell_index: current.update(cell=cell, index=cell_index))
    start = time.perf_counter()
    try:
        client.execute(cleanup_kc=True)  # shut the kernel down though the client did not make it
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        cell = current.get("cell")
        where = f"cell {current['index']} ({first_line(cell)!r})" if cell else "kernel start"
        if isinstance(error, CellExecutionError):  # the line that raised, per frame: "---->"
            frames = re.sub(r"\x1b\[[0-9;]*m", "", error.traceback).splitlines()
            raised = [line.strip() for line in frames if line.lstrip().startswith("---->")]
            message = "\n  ".join([*raised, f"{error.ename}: {error.evalue}"])
        else:
            message = f"{type(error).__name__}: {error}"
        print(f"FAILED {path}: {where}\n  {message}\n  file left unchanged", file=sys.stderr)
        return False
    temporary = path.with_name(f".{path.name}.recording")
    temporary.write_text(notebook_text(nav.add_navigation(nb, path)), encoding="utf-8")
    os.replace(temporary, path)
    print(f"recorded {path} in {time.perf_counter() - start:.1f} s")
    return True


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or course_notebooks()
    failed = [p for p in paths if not record(p)]
    # neighbours' navigation cells and the README table may name a new notebook
    if all(p.resolve().parent == NOTEBOOK_DIR for p in paths):
        for changed in nav.refresh(exclude=failed):
            print(f"refreshed navigation: {changed.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
