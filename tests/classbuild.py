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


_KIND = re.compile(r"^(?P<kind>wrong|correct)(?:\[(?P<parts>[\w, ]+)\])?"
                   r"(?:\s+keeps\[(?P<keeps>[\w, ]+)\])?$")


def variant_sections(assignment: str):
    """(function, kind, label, code, parts, keeps) of tests/variants/<assignment>.py.

    A section header is ``# %% <function>: wrong: <label>``, ``# %% <function>:
    wrong[<part>, ...]: <label>`` (it must lose points in each part named) or ``# %%
    <function>: correct: <label>`` (it must keep every point). A wrong one may add
    ``keeps[<part>, ...]`` after its kind (``wrong[dtypes] keeps[computation]: ...``): it
    must keep every point of those parts (a student who skips a rule but whose maths is
    right keeps the computation part).
    """
    path = VARIANTS / f"{assignment}.py"
    if not path.exists():
        return []
    _, sections = parse_sections(path.read_text(encoding="utf-8"), origin=str(path))
    out = []
    for s in sections:
        kind, _, label = s.label.partition(":")
        m = _KIND.match(kind.strip())
        if not m:
            raise ValueError(f"{path}: section {s.grade_id!r} must be 'wrong: ...', "
                             f"'wrong[part, ...]: ...' or 'correct: ...'")
        parts = tuple(p.strip() for p in (m["parts"] or "").split(",") if p.strip())
        keeps = tuple(p.strip() for p in (m["keeps"] or "").split(",") if p.strip())
        if (parts or keeps) and m["kind"] == "correct":
            raise ValueError(f"{path}: a correct variant of {s.grade_id!r} keeps every part")
        if set(parts) & set(keeps):
            raise ValueError(f"{path}: a variant of {s.grade_id!r} cannot both lose and keep "
                             f"{sorted(set(parts) & set(keeps))}")
        out.append((s.grade_id, m["kind"], label.strip(), s.code, parts, keeps))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


@dataclass(frozen=True)
class Variant:
    function: str
    kind: str
    label: str
    code: str
    student: str = ""
    parts: tuple[str, ...] = ()  # a wrong variant must lose points in each of these parts
    keeps: tuple[str, ...] = ()  # ... and keep every point of these


def _refs(code: str, names) -> set[str]:
    return {n for n in names if re.search(rf"\b{re.escape(n)}\b", code)}


def dependencies(assignment: str) -> dict[str, set[str]]:
    """For each graded function: the other graded functions its test can reach.

    Read from the instructor's solution code and the test cell (hidden part included),
    followed transitively.
    """
    from autograder.answers import solutions
    from autograder.cells import test_cells

    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    names = list(dict.fromkeys(t.function for t in test_cells(nb)))
    sol = solutions(assignment)
    tests: dict[str, str] = {}
    for t in test_cells(nb):  # every part's cell of a function
        tests[t.function] = tests.get(t.function, "") + "\n" + nb.cells[t.index].source
    direct = {f: (_refs(sol.get(f, ""), names) | _refs(tests.get(f, ""), names)) - {f} for f in names}
    closure = {}
    for f in names:
        seen, todo = set(), list(direct[f])
        while todo:
            g = todo.pop()
            if g not in seen:
                seen.add(g)
                todo.extend(direct.get(g, ()))
        closure[f] = seen - {f}
    return closure


def group_kind(members) -> str:
    """``wrong`` or ``correct`` when every variant of a group is of that kind, else ``mixed``."""
    kinds = {m.kind for m in members}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def variant_groups(assignment: str) -> list[tuple[str, list[Variant]]]:
    """Variants packed into as few submissions as is safe.

    One variant per function in a submission. A wrong variant's test sees only the
    instructor's code besides the variant (its test cannot reach, through the
    instructor's code, the variant's own code or the test cell, any other member), and no
    test of another member reaches a wrong variant. A correct variant may reach other
    correct ones, never a wrong one. (A correct variant is not the instructor's code: a
    fast correct conv2d would let a wrong conv2d_fast that calls conv2d pass its speed
    part, so a wrong variant never reaches one.) A wrong variant's loss is its own; a
    correct one keeps its points whatever else shares the notebook.
    """
    deps = dependencies(assignment)
    names = set(deps)

    def reach(v: Variant) -> set[str]:
        return deps.get(v.function, set()) | (_refs(v.code, names) - {v.function})

    groups: list[list[Variant]] = []
    # Wrong variants first, then the correct ones fill the groups they fit in.
    sections = sorted(variant_sections(assignment), key=lambda s: s[1] != "wrong")
    for function, kind, label, code, parts, keeps in sections:
        v = Variant(function, kind, label, code, parts=parts, keeps=keeps)
        for members in groups:
            functions = {m.function for m in members}
            wrong = {m.function for m in members if m.kind == "wrong"}
            if function in functions or reach(v) & (functions if kind == "wrong" else wrong):
                continue
            if any(function in reach(m) for m in members if kind == "wrong" or m.kind == "wrong"):
                continue
            members.append(v)
            break
        else:
            groups.append([v])
    out = []
    for i, members in enumerate(groups):
        student = f"{assignment[:2]}-g{i:02d}-{group_kind(members)}"
        out.append((student, [Variant(m.function, m.kind, m.label, m.code, student, m.parts, m.keeps)
                              for m in members]))
    return out


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
        for student, members in variant_groups(name):
            plan.append((Entry(student, name, group_kind(members),
                               ",".join(m.function for m in members),
                               " | ".join(m.label for m in members)),
                         Answers(use_solutions=True, cells={m.function: m.code for m in members})))
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
