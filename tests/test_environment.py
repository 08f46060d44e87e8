"""requirements.txt is the one list of exact pins; environment.yml (conda) installs it."""

from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# the Pythons a student may have: tested (3.11-3.13) and accepted with a note (newer)
PYTHONS = ["3.11", "3.12", "3.13", "3.14", "3.15"]


def requirement_lines() -> list[str]:
    lines = [line.split(" #", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def pins_for(python: str) -> dict[str, str]:
    """{package: version} that pip installs from requirements.txt on this Python version."""
    pins = {}
    for line in requirement_lines():
        if line == "-e .":
            continue
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"python_version": python}):
            continue
        (specifier,) = requirement.specifier  # exactly one specifier: the exact pin
        assert specifier.operator == "==", f"not an exact pin: {line}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"two pins of {name} for Python {python}"
        pins[name] = specifier.version
    return pins


def test_environment_yml_installs_requirements_txt_on_a_tested_python():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    dependencies = environment["dependencies"]
    assert "python=3.11" in dependencies
    pip_sections = [entry["pip"] for entry in dependencies if isinstance(entry, dict)]
    assert pip_sections == [["-r requirements.txt"]], "conda's pip section is requirements.txt alone"
    assert all(isinstance(entry, dict) or entry.startswith(("python=", "pip")) for entry in dependencies), (
        "a package pinned in environment.yml is a second list; pin it in requirements.txt")


@pytest.mark.parametrize("python", PYTHONS)
def test_every_python_gets_one_exact_pin_of_each_package(python):
    assert set(pins_for(python)) == set(pins_for("3.11")), "a package pinned on one Python only"


def test_pins_cover_what_the_course_imports_and_install_the_course_editable():
    assert "-e ." in requirement_lines()
    needed = {"jupyterlab", "ipykernel", "numpy", "sympy", "matplotlib", "mplhep", "nbval",
              "pytest", "pytest-xdist", "hypothesis", "nbformat", "nbclient", "nbconvert",
              "playwright", "sphinx", "myst-nb", "sphinx-book-theme", "jieba"}
    assert needed <= set(pins_for("3.11")), f"not pinned: {sorted(needed - set(pins_for('3.11')))}"
