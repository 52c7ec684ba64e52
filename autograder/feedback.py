"""Feedback for students that never shows the source of a hidden test.

nbgrader's own ``generate_feedback`` renders the autograded notebook, hidden tests and
all (nbgrader issue #917). Here each test cell keeps only its visible part, and its
output keeps only the failing check's message (a traceback would quote hidden lines).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

__all__ = ["feedback_notebook", "write_feedback", "strip_hidden"]

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
                     re.MULTILINE | re.DOTALL)


def strip_hidden(source: str) -> str:
    """Drop every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block."""
    return _HIDDEN.sub("", source).rstrip()


def _scores(db_url: str, assignment: str, student: str, notebook: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_submission_notebook(notebook, assignment, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades}


def feedback_notebook(nb, scores: dict) -> nbformat.NotebookNode:
    """A copy of an autograded notebook that is safe to show its student."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        cell.source = strip_hidden(cell.source)
        score, max_score = scores.get(meta.get("grade_id"), (None, meta.get("points")))
        outputs = []
        for out in cell.outputs:
            if out.output_type == "error":
                message = f"{out.ename}: {out.evalue}" if out.evalue else out.ename
                outputs.append(nbformat.v4.new_output("stream", name="stderr",
                                                      text=f"Check failed. {message}\n"))
            elif out.output_type == "stream" and out.name == "stdout":
                outputs.append(out)
        verdict = "passed" if score is not None and max_score and score >= max_score else "failed"
        outputs.append(nbformat.v4.new_output(
            "stream", name="stdout", text=f"[{meta.get('grade_id')}] {verdict}: "
            f"{score if score is not None else 0:g} / {max_score or 0:g} points\n"))
        cell.outputs = outputs
    return nb


_EXPORTER = None


def _exporter():
    global _EXPORTER
    if _EXPORTER is None:  # loading the template costs more than rendering: load it once
        from nbconvert import HTMLExporter

        _EXPORTER = HTMLExporter(template_name="lab")
    return _EXPORTER


def write_feedback(root, db_url: str, assignment: str, student: str) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for each notebook."""
    root = Path(root)
    graded = root / "autograded" / student / assignment
    out_dir = root / "feedback" / student / assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = _exporter()
    written = []
    for path in sorted(graded.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        scores = _scores(db_url, assignment, student, path.stem)
        safe = feedback_notebook(nb, scores)
        total = sum(s or 0 for s, _ in scores.values())
        possible = sum(m or 0 for _, m in scores.values())
        body, _ = exporter.from_notebook_node(safe, resources={"metadata": {
            "name": f"{assignment} feedback for {student}: {total:g} / {possible:g}"}})
        banner = (f"<div style='padding:1em;background:#eef'><b>{html.escape(assignment)}</b>"
                  f" — {html.escape(student)}: {total:g} / {possible:g} points</div>")
        body = re.sub(r"(<body[^>]*>)", r"\1" + banner, body, count=1)
        target = out_dir / f"{path.stem}.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written
