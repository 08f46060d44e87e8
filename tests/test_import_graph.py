"""No project module imports, directly or through others, a module that imports it (imports
read with ``ast``, function-level ones too: they hide a cycle from Python, not from a reader)."""

import ast
from graphlib import CycleError, TopologicalSorter
from importlib.util import resolve_name
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["ad_engine", "ad_course", "autodiff_helpers.py", "benchmarks"]


def import_graph(paths, root=ROOT):
    """{module: the modules of the graph it imports} for the packages and modules in ``paths``:
    ``from a import b`` gives a.b if that is a module, else a; relative imports resolved."""
    files = [file for entry in (Path(root, e) for e in paths)
             for file in (sorted(entry.rglob("*.py")) if entry.is_dir() else [entry])]
    names = {".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): f for f in files}
    graph = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = resolve_name("." * node.level + (node.module or ""), package)
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in names else base for a in node.names}
        graph[name] = targets & names.keys() - {name}
    return graph


def find_cycle(graph):
    """[m1, m2, ..., m1], each importing the next, or None."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return error.args[1][::-1]  # graphlib lists each module after the one it imports


# the course (the engine imports nothing of it) and the tools (tools/ is on sys.path: `import
# course`; course.py, their shared base, imports no tool), each with an import known to be there
@pytest.mark.parametrize("paths, root, base, edge", [
    (CHECKED, ROOT, "ad_engine", ("ad_engine.numpy_rules", "ad_engine.rules")),
    (["."], ROOT / "tools", "course", ("nav", "course"))], ids=["course", "tools"])
def test_no_import_cycle_and_the_base_imports_nothing_outside_it(paths, root, base, edge):
    graph = import_graph(paths, root)
    assert edge[1] in graph[edge[0]]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
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
    assert graph == {"pkg": {"pkg.low"}, "pkg.low": {"pkg.high"}, "pkg.high": {"pkg.low"},
                     "top": {"pkg.high"}}
    assert find_cycle(graph) == ["pkg.low", "pkg.high", "pkg.low"]
    (package / "low.py").write_text("import numpy\n")
    assert find_cycle(import_graph(["pkg", "top.py"], tmp_path)) is None
