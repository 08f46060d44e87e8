"""requirements.txt is the one list of exact pins; environment.yml (conda) installs it."""

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from course import ROOT

LINES = [line.split(" #", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
REQUIREMENTS = [Requirement(line) for line in LINES if line and not line.startswith(("#", "-e "))]
PACKAGES = {canonicalize_name(r.name) for r in REQUIREMENTS}


def test_environment_yml_installs_requirements_txt_which_pins_the_course_and_its_tools():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment == {"name": "autodiff-course", "channels": ["conda-forge"], "dependencies": [
        "python=3.11", "pip", {"pip": ["-r requirements.txt"]}]}, (
        "conda gives Python and pip, requirements.txt the packages: pin a package there, not here")
    assert "-e ." in LINES  # the course library, editable
    needed = {"jupyterlab", "ipykernel", "numpy", "sympy", "matplotlib", "mplhep", "nbval",
              "pytest", "pytest-xdist", "hypothesis", "nbformat", "nbclient", "nbconvert",
              "playwright", "sphinx", "myst-nb", "sphinx-book-theme", "jieba"}
    assert needed <= PACKAGES, f"not pinned: {sorted(needed - PACKAGES)}"


# the Pythons a student may have: tested (3.11-3.13) and accepted with a note (newer)
@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14", "3.15"])
def test_every_python_gets_one_exact_pin_of_each_package(python):
    """What pip installs from requirements.txt on this Python version."""
    pins = [r for r in REQUIREMENTS if not r.marker or r.marker.evaluate({"python_version": python})]
    assert not [str(r) for r in pins if [s.operator for s in r.specifier] != ["=="]], "not exact pins"
    names = [canonicalize_name(r.name) for r in pins]
    assert len(names) == len(set(names)), f"two pins of one package for Python {python}: {sorted(names)}"
    assert set(names) == PACKAGES, f"pinned on some Pythons only: {sorted(PACKAGES - set(names))}"
