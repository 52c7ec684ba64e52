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

    review: dict = {"flags": [], "notes": []}
    a, st = assignment, student
    graded = Path(root, "autograded", st, a, f"{a}.ipynb")
    try:
        flags = scan(Path(root, "submitted", st, a, f"{a}.ipynb"),
                     Path(root, "release", a, f"{a}.ipynb"), a)
        if graded.exists():
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
