"""tools/portability.py: configurations side by side, reported in the table's order.

The real runs (nbval on every notebook, seven times) belong to
``make test-portability``; these tests replace the runner with a stand-in.
"""

import time

import numpy as np
import pytest

import portability

FEATURES = np._core._multiarray_umath.__cpu_features__


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace the nbval run: the first configurations finish last; 'Zen, no AVX2' fails."""
    names = [name for name, _ in portability.CONFIGURATIONS]
    started = []

    def fake_run(name, changes, notebooks):
        started.append(name)
        time.sleep(0.02 * (len(names) - names.index(name)))
        ok = name != "Zen, no AVX2"
        return ok, f"{'ok' if ok else 'FAILED'} {name}"

    monkeypatch.setattr(portability, "run", fake_run)
    return started


def test_lines_come_in_the_table_order_and_one_failure_fails(fake_runs, capsys):
    assert portability.main(["--jobs", "3", "nb.ipynb"]) == 1
    lines = capsys.readouterr().out.splitlines()
    names = [name for name, _ in portability.CONFIGURATIONS]
    assert [line.split(" ", 1)[1] for line in lines[:-1]] == names
    assert lines[-1].startswith("portability: 6 of 7 configurations passed")
    assert "3 at a time" in lines[-1]


def test_skip_this_machine_leaves_out_the_first_configuration(fake_runs, capsys):
    portability.main(["--skip-this-machine", "nb.ipynb"])
    out = capsys.readouterr().out
    assert "this machine" not in fake_runs
    assert len(fake_runs) == len(portability.CONFIGURATIONS) - 1
    assert out.splitlines()[0].startswith("skip   this machine")


def test_a_kernel_the_cpu_cannot_run_is_skipped_not_run(monkeypatch):
    monkeypatch.setitem(FEATURES, "AVX512F", False)
    passed, line = portability.run("SkylakeX, all SIMD", {"OPENBLAS_CORETYPE": "SkylakeX"}, [])
    assert passed and line.startswith("skip") and "AVX512F" in line
    assert portability.missing_instructions({"OPENBLAS_CORETYPE": "Nehalem"}) is None
    assert portability.missing_instructions({}) is None


def test_summary_line_is_pytests_last_summary():
    output = "....\n=== 3 failed, 155 passed in 40.2s ===\n"
    assert portability.summary_line(output) == "3 failed, 155 passed in 40.2s"
    assert portability.summary_line("crashed") == "no pytest summary"
