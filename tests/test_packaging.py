"""The project's files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def _specs(spec: str) -> str:
    return spec[len(_name(spec)):].strip().replace(" ", "")


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d): _specs(d) for d in env["dependencies"] if isinstance(d, str)}
    for dep in project["dependencies"]:
        assert _name(dep) in conda, f"{_name(dep)} is in pyproject.toml but not environment.yml"
        assert conda[_name(dep)] == _specs(dep), (
            f"{_name(dep)}: environment.yml says {conda[_name(dep)]!r}, pyproject {_specs(dep)!r}")
    extra = set(conda) - {_name(d) for d in project["dependencies"]} - {"python", "pip"}
    assert not extra, f"environment.yml has packages pyproject.toml lacks: {extra}"
    assert "conda-forge" in env["channels"]


def test_every_dependency_pins_its_major_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        assert "<" in dep and ">=" in dep, f"{dep}: pin the major version (>=x,<y)"
    card = {"jupyterlab", "numpy", "scipy", "matplotlib", "nbgrader", "ipywidgets"}
    assert card <= {_name(d) for d in project["dependencies"]}


def test_torch_is_only_an_optional_pinned_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(_name(d) == "torch" for d in project["dependencies"])
    assert project["optional-dependencies"]["bench"] == ["torch==2.13.0"]


def test_grading_state_is_ignored():
    ignored = (ROOT / ".gitignore").read_text()
    for entry in ("/workspace/", "gradebook.db", ".venv/"):
        assert entry in ignored


def test_readme_starts_with_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(python3 -m autograder \w+)\s*$", quick, re.MULTILINE)
    assert commands == ["python3 -m autograder demo", "python3 -m autograder test"]
    assert "python3 -m autograder test" in (ROOT / ".ci" / "run").read_text()


def test_ruff_is_clean():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                           "autograder", "course", "tests", "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
