"""The repository passes ruff (pyflakes, pycodestyle errors and warnings, import
order; the rule set is in pyproject.toml), notebooks included."""

import subprocess
import sys
from pathlib import Path

import nav

ROOT = nav.ROOT


def test_ruff_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, (
        "ruff check found problems (ruff check --fix . repairs the [*] ones):\n"
        + result.stdout + result.stderr
    )


def test_ruff_checks_the_packages_tests_tools_benchmarks_and_notebooks():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--show-files", "."],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    checked = {Path(line).resolve().relative_to(ROOT).parts[0]
               for line in result.stdout.splitlines() if line.strip()}
    assert {"autodiff_helpers.py", "ad_engine", "ad_course", "tests", "tools", "benchmarks",
            "notebooks"} <= checked
