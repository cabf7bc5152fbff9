"""One set of versions (issue #21.4): every pin of pyproject.toml is the version constraints.txt fixes,
every package pyproject.toml names is fixed there, CI and the image install from it, and the image
leaves out the research extra (matplotlib, pyarrow), which no service imports."""

import re
import sys
import tomllib

import pytest

from research import report
from research.cli import CliError
from tests.processes import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$")


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[normalized(name)] = version.strip()
    return pins


def requirements():
    project = PYPROJECT["project"]
    every = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        every.extend(extra)
    for requirement in every:
        name, _, spec = REQUIREMENT.match(requirement).groups()
        if normalized(name) != "mentor-platform":  # an extra that includes another
            yield normalized(name), spec.strip()


def test_every_pin_of_pyproject_is_the_version_the_constraints_fix():
    pins = constraints()
    for name, spec in requirements():
        assert name in pins, f"{name} is not in constraints.txt: remake it (its header says how)"
        if spec.startswith("=="):
            assert pins[name] == spec[2:], f"{name}: pyproject.toml {spec}, constraints.txt =={pins[name]}"


def test_setuptools_below_81_is_a_runtime_pin_and_fixed_below_it():
    """nameko's CLI imports pkg_resources, which setuptools 81 no longer ships."""
    assert "setuptools>=68,<81" in PYPROJECT["project"]["dependencies"]
    assert int(constraints()["setuptools"].split(".")[0]) < 81


def test_matplotlib_and_pyarrow_are_the_research_extra_and_not_the_services():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {normalized(REQUIREMENT.match(r).group(1)) for r in extras["research"]} == {"matplotlib", "pyarrow"}
    runtime = {normalized(REQUIREMENT.match(r).group(1)) for r in PYPROJECT["project"]["dependencies"]}
    assert not runtime & {"matplotlib", "pyarrow"}
    for source in [
        path for package in ("services", "contracts", "operations") for path in (ROOT / package).rglob("*.py")
    ]:
        assert not re.search(r"^\s*(import|from) (matplotlib|pyarrow)", source.read_text(), re.M), source


def test_ci_and_the_image_install_from_the_constraints_and_the_image_without_the_research_extra():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert any("--constraint constraints.txt ." in line for line in installs), installs
    assert "COPY pyproject.toml constraints.txt" in dockerfile
    assert "research" not in " ".join(installs)
    assert "--constraint constraints.txt" in (ROOT / ".ci" / "run").read_text()


def test_the_reports_figures_without_the_research_extra_are_refused_naming_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as in the service image
    with pytest.raises(CliError, match=r"matplotlib.*\[research\]") as refused:
        report._pyplot()
    assert refused.value.code == 2
