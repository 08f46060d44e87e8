"""requirements.txt (pip) and environment.yml (conda-forge) pin the same versions."""

import re

import nav

ROOT = nav.ROOT

# pip name -> conda-forge name, where they differ
CONDA_NAMES = {"matplotlib": "matplotlib-base"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_pins() -> tuple[dict, list]:
    """Return ({name: version} of the == pins, [other requirement lines])."""
    pins, others = {}, []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
        else:
            others.append(line)
    return pins, others


def environment_pins() -> tuple[dict, dict, list]:
    """Return (conda pins, pip-section pins, other pip-section lines) of environment.yml.

    A line parser for the simple layout of this file (a ``dependencies:`` list
    with one nested ``pip:`` list); PyYAML is not among the pinned packages.
    """
    conda, pip, pip_others = {}, {}, []
    section = None
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            section = line.rstrip(":")
            continue
        item = line.strip()
        if section != "dependencies" or not item.startswith("- "):
            continue
        item = item[2:].strip()
        indent = len(line) - len(line.lstrip())
        if item == "pip:":
            continue
        if indent > 2:  # inside the pip: list
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", item)
            if match:
                pip[normalise(match.group(1))] = match.group(2)
            else:
                pip_others.append(item)
        else:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*={1,2}\s*(\S+)", item)
            if match:
                conda[normalise(match.group(1))] = match.group(2)
            elif item != "pip":
                raise AssertionError(f"environment.yml: unpinned conda dependency {item!r}")
    return conda, pip, pip_others


def test_environment_uses_conda_forge_and_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^name: autodiff-course$", text, re.M)
    assert re.search(r"^channels:\n  - conda-forge$", text, re.M)
    conda, _, _ = environment_pins()
    assert conda.get("python") == "3.11"


def test_every_requirement_pin_is_in_environment_yml():
    pins, _ = requirements_pins()
    conda, pip, _ = environment_pins()
    problems = []
    for name, version in pins.items():
        conda_name = normalise(CONDA_NAMES.get(name, name))
        found = pip.get(name) or conda.get(conda_name)
        if found != version:
            where = f"conda {conda_name!r} or pip {name!r}"
            problems.append(f"{name}=={version}: environment.yml has {found!r} ({where})")
    assert not problems, "requirements.txt and environment.yml disagree:\n" + "\n".join(problems)


def test_every_environment_pin_is_in_requirements():
    pins, _ = requirements_pins()
    conda, pip, _ = environment_pins()
    pip_names = {normalise(CONDA_NAMES.get(n, n)): n for n in pins}
    problems = []
    for conda_name, version in conda.items():
        if conda_name == "python":
            continue
        name = pip_names.get(conda_name)
        if name is None or pins[name] != version:
            problems.append(f"conda {conda_name}={version} has no equal pin in requirements.txt")
    for name, version in pip.items():
        if pins.get(name) != version:
            problems.append(f"pip {name}=={version} has no equal pin in requirements.txt")
    assert not problems, "\n".join(problems)


def test_editable_course_module_in_both():
    _, others = requirements_pins()
    _, _, pip_others = environment_pins()
    assert others == ["-e ."], f"requirements.txt: lines that are not == pins: {others}"
    assert pip_others == ["-e ."], f"environment.yml pip section: {pip_others}"


def test_pins_cover_what_the_course_imports():
    pins, _ = requirements_pins()
    needed = {"jupyterlab", "ipykernel", "numpy", "sympy", "matplotlib", "mplhep", "nbval",
              "pytest", "hypothesis", "nbformat", "nbclient", "nbconvert"}
    assert needed <= set(pins), f"not pinned: {sorted(needed - set(pins))}"
