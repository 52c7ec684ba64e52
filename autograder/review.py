"""After a notebook is graded: integrity flags, notes on what the limits stopped, feedback.

Runs in the pipeline's own process (:func:`autograder.pipeline.run_tasks`) while the
workers grade the next notebooks.
"""

from __future__ import annotations

import dataclasses

__all__ = ["incidents", "mark_flagged", "review"]


_INCIDENTS = {
    "CellTimeoutError": "was stopped by the cell timeout",
    "DeadKernelError": "killed the kernel",
    "KernelKilled": "was stopped by the sandbox's watchdog (memory cap, process cap or "
                    "files written outside the scratch folder)",
    "KernelStopped": "did not run: the kernel had been stopped",
    "MemoryError": "ran out of the kernel's memory cap",
    "SystemExit": "called sys.exit",
    "OutputLost": "sent an output larger than the cap (dropped)",
}


#: Characters of a code cell's source the review reads (scan and feedback); a longer cell
#: is cut there and flagged, so that one notebook cannot hold up the review of the others.
MAX_CELL_CHARS = 200_000


def cut_oversized_cells(nb, limit: int = MAX_CELL_CHARS) -> list[tuple[int, str | None, int]]:
    """Cut every cell source longer than ``limit`` characters (in place).

    Returns ``(cell index, grade id, original length)`` of each cell cut.
    """
    cut = []
    for index, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        if not isinstance(source, str):
            source = "".join(source)
        if len(source) > limit:
            head = source[:limit]
            head = head[:head.rfind("\n") + 1] or head
            cell["source"] = head + f"# ... cut by the grader: {len(source):,} characters\n"
            cut.append((index, cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"),
                        len(source)))
    return cut


def incidents(graded_path) -> list[str]:
    """Notes on what the limits stopped in a graded notebook (timeouts, memory, output)."""
    import nbformat

    notes: list[str] = []
    nb = nbformat.read(graded_path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        where = f"cell {index}" + (f" ({gid})" if gid else "")
        seen = set()
        for out in cell.get("outputs", []):
            what = None
            if out.output_type == "error" and out.ename == "KernelKilled":
                what = str(out.get("evalue", ""))[:300] or _INCIDENTS[out.ename]
            elif out.output_type == "error" and out.ename in _INCIDENTS:
                what = _INCIDENTS[out.ename]
            elif out.output_type == "stream" and "... Output truncated ..." in out.get("text", ""):
                what = "printed more than the output cap (cut)"
            if what and what not in seen:
                seen.add(what)
                notes.append(f"{where} {what}")
    return notes


def mark_flagged(db_url: str, assignment: str, student: str, notebook: str) -> bool:
    """Mark a submitted notebook as flagged in nbgrader's gradebook (formgrader's "Flagged").

    Only sets the flag: an instructor clears it in formgrader once they have looked.
    Returns whether the notebook was found.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            nb = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return False
        if not nb.flagged:
            nb.flagged = True
            gb.db.commit()
    return True


def review(root, db_url: str, student: str, assignment: str, graded_ok: bool) -> dict:
    """Integrity flags, notes on what the limits stopped, and feedback, for one notebook.

    Tampering is reported whatever the grading gave.
    """
    from pathlib import Path

    from autograder.feedback import write_feedback
    from autograder.integrity import runtime_flags, scan

    import nbformat

    from autograder.integrity import Flag

    review: dict = {"flags": [], "notes": []}
    a, st = assignment, student
    graded = Path(root, "autograded", st, a, f"{a}.ipynb")
    try:
        submitted = nbformat.read(Path(root, "submitted", st, a, f"{a}.ipynb"), as_version=4)
        # Bounded work per notebook: a 20 MB cell is cut (and flagged) before the scan,
        # and in the autograded copy before its feedback is rendered (its grade is known).
        cut = cut_oversized_cells(submitted)
        flags = scan(submitted, Path(root, "release", a, f"{a}.ipynb"), a)
        flags += [Flag(index, gid, None, "oversized",
                       f"cell {index}" + (f" ({gid})" if gid else "") + f" holds {size:,} "
                       f"characters: only its first {MAX_CELL_CHARS:,} were reviewed")
                  for index, gid, size in cut]
        if graded.exists():
            if cut:
                nb = nbformat.read(graded, as_version=4)
                if cut_oversized_cells(nb):
                    nbformat.write(nb, graded)
            flags += runtime_flags(graded)
            review["notes"] = incidents(graded)
        review["flags"] = [dataclasses.asdict(f) for f in flags]
    except Exception as err:
        review["flags"] = [{"cell_index": -1, "grade_id": None, "line": None,
                            "kind": "scan-error", "message": f"integrity scan failed: {err}"}]
    if review["flags"] and graded_ok:
        try:
            mark_flagged(db_url, a, st, a)
        except Exception as err:
            review["notes"].append(f"could not mark it flagged in the gradebook: {err}")
    if graded_ok:
        try:
            write_feedback(root, db_url, a, st)
        except Exception as err:
            review["notes"].append(f"feedback could not be written: {err}")
    return review
