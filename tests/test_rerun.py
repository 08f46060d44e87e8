"""Every notebook gives its stored outputs when re-run as students re-run it (tools/rerun_check.py)."""

import pytest
from nbformat.v4 import new_code_cell, new_output

import rerun_check
from course import course_notebooks
from nbbuild import write_notebook


@pytest.fixture(scope="module")
def reruns():
    return rerun_check.check(course_notebooks())  # one nbval process, a kernel per notebook


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.name)
def test_notebook_gives_the_same_results_when_run_again(path, reruns):
    assert not reruns[path], "\n".join(reruns[path])


@pytest.mark.parametrize("cells, message", [
    # a cell that starts from fresh state gives its outputs however often it runs
    ([("total = 0", None), ("total = 0\nfor k in range(3):\n    total += k\nprint(total)", "3\n")],
     None),
    # passes "Run All" twice (cell 0 resets), fails when cell 1 runs twice in a row, as a
    # gradient that is not zeroed before backward() does
    ([("grad = 0.0", None), ("grad += 5.5\nprint(grad)", "5.5\n")], "11.0"),
    ([("items = [1, 2]", None), ("items.pop()\nassert len(items) == 1\nprint('ok')", "ok\n")],
     "caused an exception"),
    # each cell gives its outputs twice in a row, but cell 1 re-run after cell 2 prints 2:
    # a later section took the name x for something else
    ([("x = 1", None), ("print(x)", "1\n"), ("x = 2", None)], "2"),
], ids=["fresh-state", "accumulates", "fails-the-second-time", "name-taken-later"])
def test_check_finds_the_cells_that_change_when_run_again(tmp_path, cells, message):
    path = write_notebook(tmp_path / "probe.ipynb", [  # the outputs of one clean run
        new_code_cell(source, execution_count=count,
                      outputs=[new_output("stream", name="stdout", text=text)] if text else [])
        for count, (source, text) in enumerate(cells, start=1)], summary="a probe")
    problems = rerun_check.check([path])[path]
    assert bool(problems) == (message is not None), problems
    assert all("cell 1" in p and "run again" in p for p in problems), problems
    assert message is None or message in problems[0], problems
