"""grades.csv and the terminal summary."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import nbformat

from autograder.paths import source_notebook

__all__ = ["function_order", "write_csv", "summary_table"]

CSV_FIELDS = ["student", "assignment", "notebook", "function", "points", "max_points", "status",
              "reason", "flags"]


def _flags(res):
    from autograder.integrity import Flag

    return [Flag(**f) for f in (res.flags if res is not None else [])]


def flags_text(res) -> str:
    """The integrity flags of one submission as one CSV cell."""
    from autograder.integrity import flags_column

    return flags_column(_flags(res))


def integrity_section(results) -> str:
    """The instructor's summary of integrity flags, one bullet per flagged submission."""
    from autograder.integrity import summary

    return "\n".join(["Integrity", *summary({(r.student, r.assignment): _flags(r) for r in results})])


def function_points(assignment: str) -> dict[str, float]:
    """Graded functions (test cells, ``test_`` dropped) and their points, in notebook order."""
    path = source_notebook(assignment)
    if not path.exists():
        return {}
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"].removeprefix("test_"):
            float(c.metadata["nbgrader"].get("points", 0)) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}


def function_order(assignment: str) -> list[str]:
    """Graded functions (test cells, ``test_`` dropped) in notebook order."""
    return list(function_points(assignment))


def explain(res) -> str:
    """The reason a notebook was not graded, and any notes, in one line."""
    if res is None:
        return ""
    parts = [] if res.ok else [res.reason or "not graded"]
    return " ".join("; ".join(parts + list(res.notes)).split())


def write_csv(path: Path, rows, results, names: list[str]) -> None:
    """One row per student, notebook and graded function, plus status and reason.

    A student whose notebook could not be graded gets rows with 0 points and the reason.
    """
    status = {(r.student, r.assignment): r for r in results}
    have = {(r.student, r.assignment) for r in rows}
    out = []
    for r in rows:
        res = status.get((r.student, r.assignment))
        out.append([r.student, r.assignment, r.notebook, r.function, f"{r.points:g}",
                    f"{r.max_points:g}", "graded" if res is None or res.ok else "failed",
                    explain(res), flags_text(res)])
    for res in results:
        if (res.student, res.assignment) not in have:
            for fn, most in function_points(res.assignment).items():
                out.append([res.student, res.assignment, res.assignment, fn, "0", f"{most:g}", "failed",
                            explain(res), flags_text(res)])
    order = {n: i for i, n in enumerate(names)}
    fn_index = {n: {f: i for i, f in enumerate(function_order(n))} for n in names}
    out.sort(key=lambda row: (row[0], order.get(row[1], 99), row[2],
                              fn_index.get(row[1], {}).get(row[3], 99)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_FIELDS)
        writer.writerows(out)


def summary_table(rows, results, names: list[str]) -> str:
    """A plain-text table per assignment: students by functions, with totals and reasons."""
    by = defaultdict(dict)
    maxima = defaultdict(dict)
    for r in rows:
        by[(r.assignment, r.student)][r.function] = r.points
        maxima[r.assignment][r.function] = r.max_points
    status = {(r.student, r.assignment): r for r in results}
    blocks = []
    for name in names:
        students = sorted({s for (a, s) in by if a == name} |
                          {r.student for r in results if r.assignment == name})
        if not students:
            continue
        maxima[name] = function_points(name) or maxima[name]
        functions = list(maxima[name])
        total_max = sum(maxima[name].values())
        header = ["student", *functions, f"total/{total_max:g}", "note"]
        table = []
        for s in students:
            pts = by.get((name, s), {})
            res = status.get((s, name))
            note = explain(res) if res is None or res.ok else f"not graded: {explain(res)}"
            table.append([s, *[f"{pts.get(f, 0):g}" for f in functions],
                          f"{sum(pts.values()):g}", note])
        table.insert(0, [" ", *[f"/{maxima[name][f]:g}" for f in functions], "", ""])
        widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header) - 1)]
        lines = [name]
        for row in [header, *table]:
            cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))]
            lines.append("  ".join(cells) + (f"  {row[-1]}" if row[-1] else "").rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
