"""Shared fixtures: one real autograde run of the whole test class per test session.

With pytest-xdist, the first worker to need the graded class grades it (over all cores,
with the project's own pipeline around nbgrader) under a file lock; the others wait and
read the result.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _shared_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base


def _grade_test_class(where: Path) -> dict:
    import classbuild

    from autograder.cli import grade_class
    from autograder.nbg import sqlite_url
    from autograder.sandbox import Limits

    names = classbuild.selected_assignments()
    incoming = where / "incoming"
    entries = classbuild.build(incoming, names)
    workspace = where / "workspace"
    # Generous time limits: the tests of the tests check points, and a correct but slow
    # variant (notebook 05's explicit loops) must not lose a part to a busy machine's clock.
    limits = Limits(cell_timeout=240, notebook_timeout=1200)
    rows, results = grade_class(incoming, workspace, names, sqlite_url(workspace / "gradebook.db"),
                                workers=os.cpu_count() or 2, progress=False, quiet=True,
                                limits=limits)
    return {
        "workspace": str(workspace),
        "incoming": str(incoming),
        "assignments": names,
        "entries": [asdict(e) for e in entries],
        "rows": [asdict(r) for r in rows],
        "results": [asdict(r) for r in results],
    }


class GradedClass:
    """The graded test class: points per student and function, results, folders."""

    def __init__(self, data: dict):
        self.data = data
        self.workspace = Path(data["workspace"])
        self.incoming = Path(data["incoming"])
        self.assignments = data["assignments"]
        self.entries = data["entries"]
        from autograder.cells import parse_grade_id

        # (student, assignment) -> {(function, part): (points, max_points)}
        self.part_points: dict[tuple[str, str], dict[tuple[str, str], tuple[float, float]]] = {}
        for r in data["rows"]:
            if r.get("part") is not None:
                key = (r["function"], r["part"])
            else:  # rows named by grade id without "test_"
                key = parse_grade_id("test_" + r["function"])
            got = self.part_points.setdefault((r["student"], r["assignment"]), {})
            old = got.get(key, (0.0, 0.0))
            got[key] = (old[0] + r["points"], old[1] + r["max_points"])
        self.results = {(r["student"], r["assignment"]): r for r in data["results"]}

    def parts(self, student: str, assignment: str) -> dict[tuple[str, str], tuple[float, float]]:
        """Points per (function, part) of one submission."""
        return self.part_points.get((student, assignment), {})

    def scores(self, student: str, assignment: str) -> dict[str, tuple[float, float]]:
        """Points per graded function (its parts added up) of one submission."""
        out: dict[str, tuple[float, float]] = {}
        for (function, _), (pts, most) in self.parts(student, assignment).items():
            old = out.get(function, (0.0, 0.0))
            out[function] = (old[0] + pts, old[1] + most)
        return out

    def total(self, student: str, assignment: str) -> tuple[float, float]:
        s = self.scores(student, assignment)
        return sum(p for p, _ in s.values()), sum(m for _, m in s.values())

    def autograded(self, student: str, assignment: str) -> Path:
        return self.workspace / "autograded" / student / assignment / f"{assignment}.ipynb"


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory) -> GradedClass:
    from filelock import FileLock

    shared = _shared_dir(tmp_path_factory)
    done = shared / "graded-class.json"
    with FileLock(str(shared / "graded-class.lock")):
        if not done.exists():
            data = _grade_test_class(shared / "graded-class")
            done.write_text(json.dumps(data))
    return GradedClass(json.loads(done.read_text()))
