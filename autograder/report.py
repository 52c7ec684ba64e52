"""grades.csv (a row per part of each graded function) and the terminal summary."""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from pathlib import Path

import nbformat

from autograder.cells import function_parts, is_test_cell, nbgrader_meta
from autograder.paths import source_notebook

__all__ = ["CSV_FIELDS", "function_order", "function_points", "part_messages", "summary_table",
           "write_csv"]

CSV_FIELDS = ["student", "assignment", "notebook", "function", "part", "points", "max_points",
              "status", "message", "reason", "flags"]

#: Longest failure message kept per part in grades.csv.
MESSAGE_CHARS = 300

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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


@functools.cache
def _parts(path: str, mtime: float) -> dict[str, dict[str, float]]:
    return function_parts(Path(path))


def parts_of(assignment: str) -> dict[str, dict[str, float]]:
    """``{function: {part: points}}`` of an assignment, from its source notebook's metadata."""
    path = source_notebook(assignment)
    if not path.exists():
        return {}
    return _parts(str(path), path.stat().st_mtime)


def function_points(assignment: str) -> dict[str, float]:
    """Graded functions and their points (parts added up), in notebook order."""
    return {f: sum(parts.values()) for f, parts in parts_of(assignment).items()}


def function_order(assignment: str) -> list[str]:
    """Graded functions in notebook order."""
    return list(parts_of(assignment))


def _one_line(text: str) -> str:
    return " ".join(_ANSI.sub("", str(text)).split())


def part_messages(graded_path: Path) -> dict[str, str]:
    """The failure message of each failed test cell of an autograded notebook, one line each.

    Keyed ``"<notebook>/<grade id>"``: the error's ``Name: message`` (or the first line a
    cell printed to stderr, which nbgrader also scores as a failure), capped at
    :data:`MESSAGE_CHARS` characters.
    """
    nb = nbformat.read(graded_path, as_version=4)
    out = {}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        said = []
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                ename, evalue = output.get("ename", "Error"), _one_line(output.get("evalue", ""))
                said.append(f"{ename}: {evalue}" if evalue else ename)
            elif output.output_type == "stream" and output.get("name") == "stderr":
                first = next((ln for ln in str(output.get("text", "")).splitlines() if ln.strip()), "")
                said.append(f"printed to stderr: {_one_line(first)}")
        if said:
            text = "; ".join(dict.fromkeys(s for s in said if s))
            if len(text) > MESSAGE_CHARS:
                text = text[:MESSAGE_CHARS - 3].rstrip() + "..."
            out[f"{Path(graded_path).stem}/{nbgrader_meta(cell)['grade_id']}"] = text
    return out


def explain(res) -> str:
    """The reason a notebook was not graded, and any notes, in one line."""
    if res is None:
        return ""
    parts = [] if res.ok else [res.reason or "not graded"]
    return " ".join("; ".join(parts + list(res.notes)).split())


def write_csv(path: Path, rows, results, names: list[str]) -> None:
    """One row per student, notebook, graded function and part, with status and reason.

    ``message`` is the part's failure message (:func:`part_messages`). A student whose
    notebook could not be graded gets rows with 0 points and the reason; maxima come from
    the source notebooks' metadata.
    """
    status = {(r.student, r.assignment): r for r in results}
    have = {(r.student, r.assignment) for r in rows}
    out = []
    for r in rows:
        res = status.get((r.student, r.assignment))
        message = (res.messages.get(f"{r.notebook}/{r.grade_id}", "") if res is not None else "")
        out.append([r.student, r.assignment, r.notebook, r.function, r.part, f"{r.points:g}",
                    f"{r.max_points:g}", "graded" if res is None or res.ok else "failed",
                    message, explain(res), flags_text(res)])
    for res in results:
        if (res.student, res.assignment) not in have:
            for fn, parts in parts_of(res.assignment).items():
                for part, most in parts.items():
                    out.append([res.student, res.assignment, res.assignment, fn, part, "0",
                                f"{most:g}", "failed", "", explain(res), flags_text(res)])
    order = {n: i for i, n in enumerate(names)}
    index = {n: {(f, p): i for i, (f, p) in enumerate(
        (f, p) for f, parts in parts_of(n).items() for p in parts)} for n in names}
    out.sort(key=lambda row: (row[0], order.get(row[1], 99), row[2],
                              index.get(row[1], {}).get((row[3], row[4]), 999), row[3], row[4]))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_FIELDS)
        writer.writerows(out)


def summary_table(rows, results, names: list[str]) -> str:
    """A plain-text table per assignment: students by functions, with totals and reasons."""
    by = defaultdict(dict)
    maxima = defaultdict(dict)
    for r in rows:  # one column per function: its parts added up
        got = by[(r.assignment, r.student)]
        got[r.function] = got.get(r.function, 0) + r.points
        maxima[r.assignment][r.function] = maxima[r.assignment].get(r.function, 0) + r.max_points
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
