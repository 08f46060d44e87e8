"""No project module imports, directly or through others, a module that imports it (ruff's
import map, function-level imports too: they hide a cycle from Python, not from a reader)."""

import json
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["ad_engine", "ad_course", "autodiff_helpers.py", "benchmarks"]


def import_graph(paths, root=ROOT):
    """{file: the project's files it imports} for the packages and modules in ``paths``, relative
    to ``root``, as ruff resolves them (relative imports, ``from a import b`` of a module b)."""
    graph = subprocess.run([sys.executable, "-m", "ruff", "analyze", "graph", *paths], cwd=root,
                           capture_output=True, text=True, check=True).stdout
    return {name: set(targets) for name, targets in json.loads(graph).items()}


# the course (the engine imports nothing of it) and the tools (tools/ is on sys.path: `import
# course`; course.py, their shared base, imports no tool), each with an import known to be there
@pytest.mark.parametrize("paths, base, edge", [
    (CHECKED, "ad_engine/", ("ad_engine/numpy_rules.py", "ad_engine/rules.py")),
    (["tools"], "tools/course.py", ("tools/nav.py", "tools/course.py"))], ids=["course", "tools"])
def test_no_import_cycle_and_the_base_imports_nothing_outside_it(paths, base, edge):
    graph = import_graph(paths)
    assert edge[1] in graph[edge[0]]
    TopologicalSorter(graph).prepare()  # an import cycle raises CycleError, naming its modules
    assert not {(name, t) for name, targets in graph.items() if name.startswith(base)
                for t in targets if not t.startswith(base)}


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg import low  # noqa\n")
    (package / "low.py").write_text("import numpy\n\ndef f():\n    from pkg.high import g\n")
    (package / "high.py").write_text("from . import low\nfrom .low import f as g\n")
    (tmp_path / "top.py").write_text("import pkg.high\n")
    graph = import_graph(["pkg", "top.py"], tmp_path)
    assert graph == {"pkg/__init__.py": {"pkg/low.py"}, "pkg/low.py": {"pkg/high.py"},
                     "pkg/high.py": {"pkg/low.py"}, "top.py": {"pkg/high.py"}}
    with pytest.raises(CycleError) as cycle:
        TopologicalSorter(graph).prepare()
    assert set(cycle.value.args[1]) == {"pkg/low.py", "pkg/high.py"}
    (package / "low.py").write_text("import numpy\n")
    TopologicalSorter(import_graph(["pkg", "top.py"], tmp_path)).prepare()  # no cycle left
