"""tools/portability.py: configurations side by side, reported in the table's order.

The real runs (the unit tests and nbval on every notebook, once per configuration)
belong to ``make test-portability``; these tests replace the runner with a stand-in.
"""

import subprocess
import time

import pytest

import portability

NAMES = [name for name, _ in portability.CONFIGURATIONS]


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace the probe and the pytest run: every configuration a machine of its own,
    the first ones finish last, 'Haswell, no AVX-512' fails."""
    started = {}  # configuration: (pytest arguments, interpreter), in the order they started

    def fake_run(name, changes, described, pytest_args, python):
        started[name] = (pytest_args, python)
        time.sleep(0.02 * (len(NAMES) - NAMES.index(name)) if name in NAMES else 0)
        ok = name != "Haswell, no AVX-512"
        return ok, f"{'ok' if ok else 'FAILED'} {name}"

    monkeypatch.setattr(portability, "probe", lambda changes, python: repr((python, sorted(changes.items()))))
    monkeypatch.setattr(portability, "KERNEL_NEEDS", {})  # every kernel runs here
    monkeypatch.setattr(portability, "run", fake_run)
    return started


def test_lines_come_in_the_table_order_and_one_failure_fails(fake_runs, capsys):
    assert portability.main(["--jobs", "3", "tests"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines[:-1]] == NAMES
    assert lines[-1].startswith(f"portability: {len(NAMES) - 1} of {len(NAMES)} configurations passed")
    assert "3 at a time" in lines[-1]


def test_a_configuration_the_probe_finds_identical_runs_once(fake_runs, monkeypatch, capsys):
    monkeypatch.setattr(portability, "probe", lambda changes, python: "BLAS kernel SkylakeX, numpy SIMD up to AVX512_ICL"
                        if changes.get("OPENBLAS_CORETYPE") in (None, "SkylakeX") else str(changes))
    portability.main(["--jobs", "1", "--", "tests"])  # one worker: the start order is the plan's
    lines = capsys.readouterr().out.splitlines()
    assert next(iter(fake_runs)) == "this machine" and "OpenBLAS autodetect" not in fake_runs
    assert lines[2].startswith("same   SkylakeX, all SIMD") and lines[2].endswith("as 'this machine'")


def test_a_kernel_the_cpu_cannot_run_is_skipped_not_run(monkeypatch):
    monkeypatch.setitem(portability.FEATURES, "AVX512F", False)
    monkeypatch.setitem(portability.FEATURES, "SSE42", True)
    monkeypatch.setattr(portability, "probe", lambda changes, python: str(changes))
    kernels = [(name, {"OPENBLAS_CORETYPE": name}, "python") for name in ("SkylakeX", "Nehalem")]
    skylake, nehalem, plain = portability.plan(kernels + [("plain", {}, "python")], False)
    assert skylake.startswith("skip") and "AVX512F" in skylake
    assert [nehalem[0], plain[0]] == ["Nehalem", "plain"]  # to run


def test_other_pythons_run_the_whole_suite_in_the_same_pool_and_start_first(fake_runs, capsys):
    portability.main(["--jobs", "1", "--skip-this-machine", "--python", "3.12=/venv/bin/python",
                      "--", "tests", "--nbval"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("skip   this machine") and "this machine" not in fake_runs
    assert next(iter(fake_runs)) == "Python 3.12"  # the longest run starts first ...
    assert lines[-2] == "ok Python 3.12"  # ... and its line comes last, in the table's order
    assert fake_runs["Python 3.12"] == (["tests", "--nbval"], "/venv/bin/python")
    assert fake_runs["Haswell, no AVX-512"] == (["tests", "--nbval"], portability.sys.executable)


def test_make_runs_the_unit_tests_and_every_notebook_under_each_configuration():
    dry_run = subprocess.run(["make", "-n", "test-portability"], cwd=portability.ROOT,
                             capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.splitlines() if "tools/portability.py" in line)
    notebooks = sorted((portability.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert " -- tests --nbval " in command and "--ignore=tests/test_slides_browser.py" in command
    assert notebooks and all(f" notebooks/{p.name}" in command for p in notebooks), command
