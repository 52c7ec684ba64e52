"""Build the test class: every assignment's solution, blank release, examples and variants.

Shared by the tests (one autograde run per test session, see conftest.py) and usable by
hand: ``python tests/classbuild.py OUT`` writes the class in nbgrader's submitted/ layout.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.answers import Answers, make_submission, parse_sections, read_answers  # noqa: E402
from autograder.paths import EXAMPLES, assignments  # noqa: E402

VARIANTS = Path(__file__).resolve().parent / "variants"


@dataclass(frozen=True)
class Entry:
    student: str
    assignment: str
    kind: str  # solution | blank | example | wrong | correct
    function: str = ""
    label: str = ""


def selected_assignments() -> list[str]:
    """All assignments, or those named in COURSE_ASSIGNMENTS (comma separated)."""
    wanted = [a.strip() for a in os.environ.get("COURSE_ASSIGNMENTS", "").split(",") if a.strip()]
    known = assignments()
    if wanted:
        unknown = set(wanted) - set(known)
        if unknown:
            raise ValueError(f"COURSE_ASSIGNMENTS names unknown assignments {sorted(unknown)}")
        return [a for a in known if a in wanted]
    return known


def variant_sections(assignment: str):
    """(function, kind, label, code) of tests/variants/<assignment>.py."""
    path = VARIANTS / f"{assignment}.py"
    if not path.exists():
        return []
    _, sections = parse_sections(path.read_text(encoding="utf-8"), origin=str(path))
    out = []
    for s in sections:
        kind, _, label = s.label.partition(":")
        kind = kind.strip()
        if kind not in ("wrong", "correct"):
            raise ValueError(f"{path}: section {s.grade_id!r} must be 'wrong: ...' or 'correct: ...'")
        out.append((s.grade_id, kind, label.strip(), s.code))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def build(out: Path, names: list[str] | None = None) -> list[Entry]:
    """Write the class under ``out/<student>/<assignment>/`` and return its entries."""
    entries: list[Entry] = []
    for name in names or selected_assignments():
        prefix = name[:2]
        plan: list[tuple[Entry, Answers]] = [
            (Entry(f"{prefix}-solution", name, "solution"), Answers(use_solutions=True)),
            (Entry(f"{prefix}-blank", name, "blank"), Answers()),
        ]
        for path in sorted((EXAMPLES / name).glob("*.py")):
            plan.append((Entry(f"{prefix}-ex-{path.stem}", name, "example", label=path.stem),
                         read_answers(path)))
        for i, (function, kind, label, code) in enumerate(variant_sections(name)):
            student = f"{prefix}-v{i:02d}-{kind}-{_slug(function)}"
            plan.append((Entry(student, name, kind, function, label),
                         Answers(use_solutions=True, cells={function: code})))
        for entry, answers in plan:
            target = Path(out) / entry.student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(make_submission(name, answers), target)
            entries.append(entry)
    return entries


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/classbuild.py OUT_DIR")
    for e in build(Path(sys.argv[1])):
        print(asdict(e))
