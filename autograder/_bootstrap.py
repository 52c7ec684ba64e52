"""Create the project's virtual environment on first use (standard library only).

``python3 -m autograder ...`` may be started by any Python 3.11+. If it is not the
project's own environment (``.venv`` beside ``pyproject.toml``), this module creates
it, installs the project with its test extras, and runs the same command again there.
It reinstalls when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
STAMP = VENV / ".installed-from"


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _wanted_stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def in_project_env() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_env(quiet: bool = False) -> Path:
    """Create or update the environment; return its Python."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file must run on any Python 3)
        sys.exit(f"error: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    python = _venv_python()
    if not python.exists():
        print(f"Creating the course environment in {VENV} (first run only) ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text().strip() != _wanted_stamp():
        print("Installing the course and its test tools into it (about a minute) ...",
              file=sys.stderr)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check",
               "-q", "-e", f"{ROOT}[test]"]
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            sys.exit("error: installing the course's packages failed (see pip's message above);"
                     " fix it and run the command again")
        STAMP.write_text(_wanted_stamp())
    return python


def reexec_in_env(module: str, argv: list[str]) -> None:
    """Run ``python -m module argv`` inside the project's environment and exit."""
    python = ensure_env()
    os.execv(str(python), [str(python), "-m", module, *argv])
