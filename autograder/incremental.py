"""Incremental grading: what a rerun can reuse, by content hashes kept in the workspace.

Each graded submission is recorded in ``WORKSPACE/.grading/state.json`` under a *key*,
a hash of everything its verdict depends on:

* the submission's files (the notebook as it was graded, and every other file of its
  folder, ``timestamp.txt`` included),
* its assignment's source folder (solutions and hidden tests) and due date,
* the grading settings: the kernels' limits, whether the sandbox is there, the
  workspace's ``nbgrader_config.py`` (an instructor's settings) and
  :func:`autograder.worker.fingerprint` (the code of ``course``/``autograder``, the
  course's nbgrader config, the versions of Python, nbgrader and the numerical
  libraries).

A rerun reuses a submission whose key is unchanged when the gradebook still holds its
scores, and its autograded notebook and feedback files are still the ones recorded: it is
neither graded nor applied again. When only those are gone (a new gradebook, a deleted
feedback folder), the kept answer is applied again without grading.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["GradingState", "digest_files", "settings_digest", "submission_key"]

STATE_VERSION = 1


def digest_files(files: Mapping[str, bytes]) -> str:
    """A hash of a folder's files (names and bytes)."""
    h = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """A hash of one file's bytes ("" when it is missing)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def settings_digest(limits, workspace: Path | None = None) -> str:
    """A hash of the grading settings that can change a verdict (see the module text).

    With ``workspace``, its ``nbgrader_config.py`` counts too (an instructor's settings
    there, such as late penalties), but not the lines naming the course root and gradebook.
    """
    from autograder.sandbox import sandbox_available
    from autograder.worker import fingerprint

    config = ""
    if workspace is not None and (Path(workspace) / "nbgrader_config.py").exists():
        text = (Path(workspace) / "nbgrader_config.py").read_text(encoding="utf-8")
        config = "\n".join(ln for ln in text.splitlines()
                           if "CourseDirectory.root" not in ln and "CourseDirectory.db_url" not in ln)
    settings = {"limits": dataclasses.asdict(limits),
                "sandbox": bool(limits.sandbox and sandbox_available()),
                "code": fingerprint(), "workspace_config": config}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def submission_key(settings: str, source: str, duedate: str, files: Mapping[str, bytes]) -> str:
    """The key a graded submission is recorded under."""
    parts = [settings, source, duedate, digest_files(files)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class GradingState:
    """The workspace's record of graded submissions (``.grading/state.json``).

    Entries are keyed by ``(student, assignment)``; each holds the submission's ``key``,
    its ``result`` (an :class:`autograder.pipeline.Result` as a dict, before the notes of
    copying it in), the ``final`` result shown in the class table, the auto scores put in
    the gradebook, and the hashes of its autograded notebooks and feedback files.
    Only the pipeline's main process reads and writes it.
    """

    def __init__(self, path: Path, entries: dict[str, dict] | None = None):
        self.path = Path(path)
        self.entries: dict[str, dict] = entries or {}

    @classmethod
    def load(cls, workspace: Path) -> GradingState:
        """The workspace's state (empty when there is none or it cannot be read)."""
        path = Path(workspace) / ".grading" / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError("another version")
            return cls(path, dict(data["entries"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path)

    def save(self) -> None:
        """Write the state (atomically: a crash leaves the old one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": STATE_VERSION, "entries": self.entries},
                                  indent=0), encoding="utf-8")
        os.replace(tmp, self.path)

    @staticmethod
    def _name(student: str, assignment: str) -> str:
        return f"{student}/{assignment}"

    def get(self, student: str, assignment: str) -> dict | None:
        return self.entries.get(self._name(student, assignment))

    def put(self, student: str, assignment: str, **entry: Any) -> None:
        self.entries[self._name(student, assignment)] = entry

    def update(self, student: str, assignment: str, **fields: Any) -> None:
        self.entries.setdefault(self._name(student, assignment), {}).update(fields)

    def drop(self, student: str, assignment: str) -> None:
        self.entries.pop(self._name(student, assignment), None)

    def items(self):
        for name, entry in self.entries.items():
            student, assignment = name.rsplit("/", 1)
            yield student, assignment, entry
