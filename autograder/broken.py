"""Broken submissions for the example class: files, not code, gone wrong.

Each entry writes one student's folder for an assignment, made from the release notebook
so it never goes stale. The grader must explain every one and lose nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder.answers import Answers, make_submission
from autograder.paths import assignments

__all__ = ["BROKEN", "write_broken"]


def _json(assignment: str) -> str:
    return nbformat.writes(make_submission(assignment, Answers(use_solutions=True)))


def _truncated(folder: Path, assignment: str) -> None:
    text = _json(assignment)
    (folder / f"{assignment}.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")


def _latin1(folder: Path, assignment: str) -> None:
    text = _json(assignment).replace("window", "fenêtre")
    (folder / f"{assignment}.ipynb").write_bytes(text.encode("latin-1", errors="replace"))


def _renamed(folder: Path, assignment: str) -> None:
    (folder / f"{assignment} (1).ipynb").write_text(_json(assignment), encoding="utf-8")


def _missing(folder: Path, assignment: str) -> None:
    (folder / "my answers.pdf").write_bytes(b"%PDF-1.4 not a notebook\n")


def _other_assignment(folder: Path, assignment: str) -> None:
    others = [a for a in assignments() if a != assignment]
    other = others[0] if others else assignment
    nb = make_submission(other, Answers(use_solutions=True))
    (folder / f"{other}.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")


def _extra_files(folder: Path, assignment: str) -> None:
    (folder / f"{assignment}.ipynb").write_text(_json(assignment), encoding="utf-8")
    (folder / "scratch.py").write_text("print('trying things')\n")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / f"{assignment}-checkpoint.ipynb").write_text("{}")


BROKEN: dict[str, tuple[str, Callable[[Path, str], None]]] = {
    "broken_truncated": ("uploads a notebook cut off half way", _truncated),
    "broken_latin1": ("saves the notebook as Latin-1 text, not UTF-8", _latin1),
    "broken_renamed": ("hands in a perfect notebook saved under another name", _renamed),
    "broken_missing": ("hands in a PDF instead of the notebook", _missing),
    "broken_other_assignment": ("puts another assignment's notebook in this folder",
                                _other_assignment),
    "broken_extra_files": ("hands in a perfect notebook plus scratch files", _extra_files),
}


def write_broken(out: Path, assignment: str) -> list[str]:
    """Write every broken student for ``assignment`` under ``out/<student>/<assignment>/``."""
    students = []
    for student, (_, make) in BROKEN.items():
        folder = Path(out) / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        make(folder, assignment)
        students.append(student)
    return students
