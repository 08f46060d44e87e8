"""conftest.py: notebooks run top to bottom whatever order the tests are given in,
and pytest-xdist keeps a notebook's cells on one worker."""

import os
import subprocess
import sys
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import conftest
import nav

# a plugin that reverses the tests, as a shuffling plugin may
REVERSER = '''
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    items.reverse()
'''


def cell(path, number):
    return SimpleNamespace(path=path, cell_num=number)


def test_notebook_cells_are_regrouped_in_order_other_tests_keep_their_place(tmp_path):
    a, b, test = tmp_path / "a.ipynb", tmp_path / "b.ipynb", tmp_path / "test_x.py"
    items = [cell(test, 0), cell(a, 2), cell(b, 1), cell(a, 0), cell(test, 1), cell(b, 0),
             cell(a, 1)]
    ordered = conftest.notebooks_in_order(items)
    assert [(item.path.name, item.cell_num) for item in ordered] == [
        ("test_x.py", 0), ("a.ipynb", 0), ("a.ipynb", 1), ("a.ipynb", 2),
        ("b.ipynb", 0), ("b.ipynb", 1), ("test_x.py", 1)]


def test_work_units_keep_notebooks_and_modules_together_and_split_rerun_checks():
    assert conftest.work_unit("notebooks/05_reverse_mode.ipynb::Cell 10") == (
        "notebooks/05_reverse_mode.ipynb")
    assert conftest.work_unit("tests/test_tools.py::test_a[x]") == "tests/test_tools.py"
    rerun = "tests/test_rerun.py::test_notebook_gives_the_same_results_when_run_again[05.ipynb]"
    assert conftest.work_unit(rerun) == rerun


def run_pytest(tmp_path, *options):
    """pytest on a three-cell notebook whose cells need the cells above them, with the
    tests reversed by a plugin; ``options`` may load the course's conftest.py."""
    (tmp_path / "reverser.py").write_text(REVERSER)
    cells = [("x = 1", ""), ("x += 1\nprint(x)", "2\n"), ("print(x * 10)", "20\n")]
    nb = new_notebook(cells=[new_code_cell(source, execution_count=number, outputs=[
        new_output("stream", name="stdout", text=text)] if text else [])
        for number, (source, text) in enumerate(cells, start=1)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "probe.ipynb")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "reverser", *options, "--nbval", "--nbval-current-env",
         "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "--rootdir", str(tmp_path),
         str(tmp_path / "probe.ipynb")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}:{nav.ROOT}:{nav.ROOT / 'tools'}"})


def test_reversed_tests_fail_a_notebook_without_the_course_setup(tmp_path):
    result = run_pytest(tmp_path)
    assert "2 failed, 1 passed" in result.stdout and "NameError" in result.stdout, result.stdout


@pytest.mark.parametrize("options", [(), ("-n", "2")], ids=["one process", "two workers"])
def test_reversed_tests_pass_with_the_course_setup(tmp_path, options):
    result = run_pytest(tmp_path, "-p", "conftest", *options)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "3 passed" in result.stdout
