"""Thin layer over nbgrader's own API: config, release generation, autograding."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.paths import CONFIG, RELEASE, SOURCE, assignments

# nbgrader runs the `alembic` command of its own environment: make sure it is found even
# when this environment's Python was started without activating it.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

__all__ = ["api_for", "clean_notebook", "generate_release", "load_config", "sqlite_url"]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def load_config(root: Path, db_url: str | None = None):
    """The course's nbgrader config (``nbgrader_config.py``) for a course root."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(Path(root).resolve())
    config.CourseDirectory.db_url = db_url or sqlite_url(Path(root) / "gradebook.db")
    return config


def api_for(root: Path, db_url: str | None = None, log_level=logging.WARNING):
    """An ``NbGraderAPI`` on course root ``root`` with the course's config."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root, db_url)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(log_level)
    return api


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop outputs, execution counts and volatile metadata (in place; returned)."""
    keep_nb_meta = ("kernelspec", "language_info")
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in keep_nb_meta}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("nbgrader", "tags")}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None) if not cell.get("attachments") else None
    return nb


def _run(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader failed to {what}:\n{result.get('log', '')}\n{result.get('error', '')}")


def generate_into(root: Path, names: list[str], source: Path = SOURCE, db_url: str | None = None):
    """Copy ``source/<name>`` into course root ``root`` and run generate_assignment there."""
    api = api_for(root, db_url)
    for name in names:
        src = source / name
        if not src.is_dir():
            raise FileNotFoundError(f"no assignment {name!r} in {source}")
        dst = Path(root) / "source" / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        # Several graders may share one database (PostgreSQL): if another one is creating
        # the same rows at this moment, nbgrader fails on a unique constraint; try again.
        for attempt in range(5):
            result = api.generate_assignment(name, force=True)
            if result.get("success") or attempt == 4:
                break
            time.sleep(0.5 + attempt)
        _run(result, f"generate the release of {name}")
    return api


def generate_release(names: list[str] | None = None, out: Path = RELEASE) -> list[Path]:
    """Regenerate ``release/`` (or ``out``) from ``source/`` with nbgrader.

    The output is deterministic: outputs and volatile metadata are dropped.
    """
    names = names or assignments()
    unknown = sorted(set(names) - set(assignments()))
    if unknown:
        raise ValueError(f"unknown assignment(s) {', '.join(unknown)}; known: "
                         f"{', '.join(assignments())}")
    written = []
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        generate_into(Path(tmp), names)
        for name in names:
            target = Path(out) / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(Path(tmp) / "release" / name, target)
            for path in sorted(target.rglob("*.ipynb")):
                nb = clean_notebook(nbformat.read(path, as_version=4))
                nbformat.write(nb, path)
                written.append(path)
    return written
