"""Submissions made from the release notebook plus small answer files.

An answer file is Python text cut into sections, one per solution cell::

    \"\"\"Bea pads with numpy.pad's 'reflect' (which is ndimage's 'mirror').\"\"\"
    # %% all: solution
    # %% pad
    def pad(image, pad_width, mode="reflect", cval=0.0):
        ...

``# %% <grade_id>`` replaces that solution cell's code with the section's code (any
cell with that nbgrader id, locked ones included: a student can edit those too, and
nbgrader restores them when grading). ``# %% <grade_id>: delete`` deletes that cell.
``# %% <grade_id>: <label>`` is the same, with a label (used by the tests' variant
files, where each section becomes a submission of its own). ``# %% all: solution``
fills every solution cell not given otherwise with the instructor's solution from
``source/`` (the marker lines dropped). An answer file with no sections is a student
who changed nothing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.paths import release_notebook, source_notebook

__all__ = ["Answers", "Section", "make_submission", "parse_sections", "read_answers", "solutions"]

_SECTION = re.compile(r"^# %%\s+(?P<id>[A-Za-z_*][\w-]*)\s*(?::\s*(?P<label>.*?))?\s*$")
_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


@dataclass
class Section:
    grade_id: str
    label: str
    code: str


@dataclass
class Answers:
    description: str = ""
    use_solutions: bool = False
    cells: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)


def parse_sections(text: str, origin: str = "answer file") -> tuple[str, list[Section]]:
    """Split text into its docstring and its ``# %%`` sections."""
    lines = text.splitlines(keepends=True)
    head: list[str] = []
    sections: list[Section] = []
    body: list[str] | None = None
    for lineno, line in enumerate(lines, 1):
        if line.startswith("# %%"):
            m = _SECTION.match(line.rstrip("\n"))
            if not m:
                raise ValueError(f"{origin}, line {lineno}: cannot read section header {line.strip()!r}")
            body = []
            sections.append(Section(m["id"], (m["label"] or "").strip(), ""))
            sections[-1].code = body  # type: ignore[assignment]
        elif body is None:
            head.append(line)
        else:
            body.append(line)
    for s in sections:
        s.code = "".join(s.code).strip("\n")  # type: ignore[arg-type]
    docstring = ""
    try:
        module = ast.parse("".join(head))
        docstring = ast.get_docstring(module) or ""
    except SyntaxError as err:
        raise ValueError(f"{origin}: the text before the first section is not Python: {err}") from None
    return docstring, sections


def read_answers(path: Path) -> Answers:
    """Read an answer file (see the module docstring)."""
    path = Path(path)
    description, sections = parse_sections(path.read_text(encoding="utf-8"), origin=str(path))
    answers = Answers(description=description)
    for s in sections:
        if s.grade_id == "all":
            if s.label != "solution":
                raise ValueError(f"{path}: the only 'all' section is '# %% all: solution'")
            answers.use_solutions = True
        elif s.grade_id in answers.cells or s.grade_id in answers.deleted:
            raise ValueError(f"{path}: two sections for {s.grade_id!r}")
        elif s.label == "delete":
            answers.deleted.add(s.grade_id)
        else:
            answers.cells[s.grade_id] = s.code
    return answers


def _solution_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


def solutions(assignment: str) -> dict[str, str]:
    """The instructor's solution code per solution cell, marker lines dropped."""
    nb = nbformat.read(source_notebook(assignment), as_version=4)
    return {gid: _MARKERS.sub("", c.source) for gid, c in _solution_cells(nb).items()}


def make_submission(assignment: str, answers: Answers, release: Path | None = None):
    """Return the release notebook of ``assignment`` filled in with ``answers``."""
    nb = nbformat.read(release or release_notebook(assignment), as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id")}
    unknown = sorted((set(answers.cells) | answers.deleted) - set(cells))
    if unknown:
        raise ValueError(f"{assignment} has no cell {', '.join(map(repr, unknown))}; its "
                         f"solution cells are {', '.join(_solution_cells(nb))}")
    filled = solutions(assignment) if answers.use_solutions else {}
    filled.update(answers.cells)
    for gid, code in filled.items():
        cells[gid].source = code
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") not in answers.deleted]
    return nb
