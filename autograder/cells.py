"""What each cell of a course notebook is, from its nbgrader metadata: one place for it.

Graded functions are checked by autograder test cells, one cell per *part*, with the
grade id ``test_<function>__<part>`` (two underscores before the part)::

    test_pad__computation     the maths, against SciPy, on float64 input (at least half)
    test_pad__dtypes          uint8/integer input converted, float64 out, input untouched
    test_pad__bad_input       bad arguments raise the error the text asks for

A function may have other parts (``speed``, ``steps``...). A test cell without ``__``
(``test_pad``) is the whole function as one part, named ``all``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PART_ORDER", "TestCell", "function_parts", "grade_ids", "is_test_cell",
           "nbgrader_meta", "parse_grade_id", "solution_cells", "test_cells", "trusted_cells"]

#: Parts in the order the course shows them; others come after, in notebook order.
PART_ORDER = ("computation", "dtypes", "bad_input")
_SEP = "__"


def nbgrader_meta(cell) -> dict:
    """The cell's ``nbgrader`` metadata (empty for a plain cell)."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}) or {})


def parse_grade_id(grade_id: str) -> tuple[str, str]:
    """``(function, part)`` of a test cell's grade id (``"all"`` when it has no part).

    >>> parse_grade_id("test_pad__bad_input")
    ('pad', 'bad_input')
    >>> parse_grade_id("test_window_sum")
    ('window_sum', 'all')
    """
    name = grade_id.removeprefix("test_")
    function, sep, part = name.partition(_SEP)
    return (function, part) if sep and part else (name, "all")


def is_test_cell(cell) -> bool:
    """An autograder test cell: graded, code, not a solution."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


@dataclass(frozen=True)
class TestCell:
    index: int
    grade_id: str
    function: str
    part: str
    points: float


def test_cells(nb) -> list[TestCell]:
    """The notebook's autograder test cells, in notebook order."""
    out = []
    for index, cell in enumerate(nb.cells):
        if is_test_cell(cell):
            meta = nbgrader_meta(cell)
            function, part = parse_grade_id(meta["grade_id"])
            out.append(TestCell(index, meta["grade_id"], function, part, float(meta.get("points", 0))))
    return out


def solution_cells(nb) -> dict[str, object]:
    """Autograded answer (solution code) cells by grade id."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells
            if c.get("cell_type") == "code" and nbgrader_meta(c).get("solution")
            and not nbgrader_meta(c).get("grade")}


def trusted_cells(nb) -> list[int]:
    """Indices of locked code cells that are not tests (setup, references: instructor code)."""
    return [i for i, c in enumerate(nb.cells)
            if c.get("cell_type") == "code" and nbgrader_meta(c).get("locked")
            and not nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]


def grade_ids(nb) -> set[str]:
    """Ids of the graded and solution cells (what makes a notebook this assignment)."""
    return {nbgrader_meta(c)["grade_id"] for c in nb.cells
            if nbgrader_meta(c).get("grade") or nbgrader_meta(c).get("solution")}


def _ordered(parts: Iterable[str]) -> list[str]:
    parts = list(dict.fromkeys(parts))
    known = [p for p in PART_ORDER if p in parts]
    return known + [p for p in parts if p not in PART_ORDER]


def function_parts(notebook: Path | object) -> dict[str, dict[str, float]]:
    """``{function: {part: points}}`` from a notebook's metadata, in notebook order.

    ``notebook`` is a path or an already read notebook.
    """
    if isinstance(notebook, str | Path):
        import nbformat

        notebook = nbformat.read(notebook, as_version=4)
    out: dict[str, dict[str, float]] = {}
    for t in test_cells(notebook):
        out.setdefault(t.function, {})[t.part] = out.get(t.function, {}).get(t.part, 0.0) + t.points
    return {f: {p: parts[p] for p in _ordered(parts)} for f, parts in out.items()}
