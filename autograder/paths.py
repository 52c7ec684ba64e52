"""Where things are in the project."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
EXAMPLES = Path(__file__).resolve().parent / "examples"
CONFIG = ROOT / "nbgrader_config.py"
DEFAULT_WORKSPACE = ROOT / "workspace"

_ASSIGNMENT = re.compile(r"^\d\d_[a-z0-9_]+$")


def assignments() -> list[str]:
    """Names of the assignments in ``source/``, in course order."""
    if not SOURCE.is_dir():
        return []
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and _ASSIGNMENT.match(p.name))


def source_notebook(assignment: str) -> Path:
    return SOURCE / assignment / f"{assignment}.ipynb"


def release_notebook(assignment: str) -> Path:
    return RELEASE / assignment / f"{assignment}.ipynb"
