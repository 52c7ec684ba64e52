"""Feedback for students, written by nbgrader's own ``generate_feedback``, made safe.

nbgrader's feedback renders the autograded notebook, hidden tests and tracebacks included
(nbgrader issue #917). The course's ``nbgrader_config.py`` puts :class:`SafeFeedback`
(and :class:`autograder.sanitize.SanitizeNotebook`) into nbgrader's GenerateFeedback chain,
so ``nbgrader generate_feedback``, formgrader's "Generate Feedback" button and the
pipeline (:func:`write_feedback`) all write the same safe feedback, in nbgrader's own
layout and folder (``feedback/<student>/<assignment>/<notebook>.html`` with the
submission's ``timestamp.txt`` and ``submission_secret.txt``, where ``nbgrader
release_feedback`` looks for them).

What a student sees:

* at the top, a table of every graded part: function, part, points, and for a failed
  part the message of the check that failed (the call and what was expected);
* in each test cell, only its visible part; its output says first whether the part
  passed, then (if it failed) the failing check's message, labelled as coming from the
  graded checks when the visible checks had passed, then what the checks printed. Never
  a traceback (it would quote hidden lines);
* anywhere else in the notebook, an error shows its message only, and any output or
  markdown that quotes a hidden-test line is replaced by a note (a student can print the
  kernel's history under plain nbgrader).
"""

from __future__ import annotations

import ast
import html
import re
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from autograder.cells import is_test_cell, nbgrader_meta, parse_grade_id

__all__ = ["SafeFeedback", "ensure_exchange_files", "failure_message", "hidden_lines",
           "strip_hidden", "write_feedback"]

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|\Z)",
                     re.MULTILINE | re.DOTALL)
_HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)
REDACTED = "[output hidden: it quoted the graded checks]"
PART_NAMES = {"computation": "computation", "dtypes": "dtypes", "bad_input": "bad input",
              "all": "all checks"}


def strip_hidden(source: str) -> str:
    """Drop every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block."""
    return _HIDDEN.sub("", source).rstrip()


def hidden_lines(nb, min_length: int = 12) -> set[str]:
    """Lines of the notebook's hidden tests that appear nowhere in its visible text.

    Lines shorter than ``min_length`` (``else:``, ``pass``) say nothing about a test.
    """
    hidden, visible = set(), set()
    for cell in nb.cells:
        source = cell.get("source", "")
        for block in _HIDDEN_BLOCK.findall(source):
            hidden |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= min_length}
        visible |= {ln.strip() for ln in strip_hidden(source).splitlines()}
    return hidden - visible


def failure_message(out) -> str:
    """The message of an error output, without its type when that is only AssertionError."""
    ename, evalue = str(out.get("ename", "") or "Error"), str(out.get("evalue", "") or "")
    if ename == "AssertionError" and evalue:
        return evalue
    return f"{ename}: {evalue}" if evalue else ename


def _text(out) -> str:
    if out.get("output_type") == "stream":
        text = out.get("text", "")
        return "".join(text) if isinstance(text, list) else str(text)
    if out.get("output_type") == "error":
        return "\n".join([str(out.get("evalue", "")), *map(str, out.get("traceback") or [])])
    data = out.get("data") or {}
    return "\n".join("".join(v) if isinstance(v, list) else str(v) for v in data.values())


def _quotes(text: str, lines: set[str]) -> bool:
    return any(line in text for line in lines)


def _last_print(visible: str) -> str | None:
    """The text the visible part prints last, when it ends with ``print("...")``."""
    try:
        body = ast.parse(visible).body
    except SyntaxError:
        return None
    if not body or not isinstance(body[-1], ast.Expr) or not isinstance(body[-1].value, ast.Call):
        return None
    call = body[-1].value
    if getattr(call.func, "id", None) != "print" or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        parts = [v.value for v in arg.values if isinstance(v, ast.Constant)]
        return max(parts, key=len) if parts else None
    return None


def _stream(name: str, text: str):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _points(value) -> str:
    return f"{float(value or 0):g}"


class SafeFeedback(NbGraderPreprocessor):
    """nbgrader GenerateFeedback step: hidden tests out, messages in, a table on top.

    Runs after nbgrader's ``GetGrades`` (which puts each cell's score in its metadata).
    """

    min_quote_length = Integer(12, help="Shortest hidden-test line looked for in outputs"
                               ).tag(config=True)

    def preprocess(self, nb, resources):  # noqa: D102 (nbconvert's Preprocessor API)
        lines = hidden_lines(nb, self.min_quote_length)
        rows = []
        for cell in nb.cells:
            if is_test_cell(cell):
                rows.append(self._test_cell(cell, lines))
            elif cell.cell_type == "code":
                cell.outputs = [self._output(o, lines) for o in cell.get("outputs", [])]
            elif cell.cell_type == "markdown" and not nbgrader_meta(cell).get("locked"):
                if _quotes(cell.source, lines):
                    cell.source = REDACTED
        if rows:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(_table(rows, resources)))
        return nb, resources

    @staticmethod
    def _output(out, lines: set[str]):
        """An output of a student's cell: an error as its message, a quote of a test hidden."""
        if out.get("output_type") == "error":
            out = _stream("stderr", failure_message(out) + "\n")
        return _stream("stdout", REDACTED + "\n") if _quotes(_text(out), lines) else out

    def _test_cell(self, cell, lines: set[str]) -> dict:
        meta = nbgrader_meta(cell)
        function, part = parse_grade_id(meta.get("grade_id", ""))
        score, points = meta.get("score"), meta.get("points", 0)
        visible = strip_hidden(cell.source)
        had_hidden = visible != cell.source.rstrip()
        cell.source = visible
        printed = "".join(_text(o) for o in cell.get("outputs", [])
                          if o.get("output_type") == "stream" and o.get("name") == "stdout")
        stderr = "".join(_text(o) for o in cell.get("outputs", [])
                         if o.get("output_type") == "stream" and o.get("name") == "stderr")
        errors = [failure_message(o) for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        passed = score is not None and float(score) >= float(points or 0) and not errors
        where = f"{function} · {PART_NAMES.get(part, part.replace('_', ' '))}"
        head = f"{where}: {_points(score)} / {_points(points)} points"
        if errors:
            message = errors[0].strip()
        elif stderr.strip():
            message = "the checks wrote to stderr (nbgrader counts that as a failure): " + stderr.strip()
        elif not passed:
            message = "not passed" if score is not None else "not graded"
        else:
            message = ""
        if message and _quotes(message, lines):
            message = "a graded check failed (its message quoted the check, so it is not shown)"
        last = _last_print(visible)
        visible_passed = bool(last) and last in printed
        outputs = []
        if passed:
            outputs.append(_stream("stdout", f"PASSED  {head}\n"))
        else:
            label = ("Your visible checks passed, but a graded check failed:"
                     if had_hidden and visible_passed else "A check failed:")
            outputs.append(_stream("stderr", f"FAILED  {head}\n{label}\n{message}\n"))
        if printed.strip():
            shown = REDACTED if _quotes(printed, lines) else printed.rstrip()
            outputs.append(_stream("stdout", f"What the checks printed:\n{shown}\n"))
        cell.outputs = outputs
        return {"function": function, "part": part, "score": score, "points": points,
                "passed": passed, "message": message}


def _code(text: str) -> str:
    """Escaped text in ``<code>`` (MathJax leaves code alone), one ``<br>`` per line."""
    return "<code>" + "<br>".join(html.escape(line) for line in text.splitlines()) + "</code>"


def _table(rows: list[dict], resources: dict) -> str:
    """The per-part summary, as an HTML table in a markdown cell (every text escaped)."""
    nbg = resources.get("nbgrader", {})
    total = sum(float(r["score"] or 0) for r in rows)
    most = sum(float(r["points"] or 0) for r in rows)
    out = [f"<h2>Your grade: {_points(nbg.get('score', total))} / "
           f"{_points(nbg.get('max_score', most))} points</h2>",
           '<table class="table table-condensed">', "<thead><tr><th>function</th><th>part</th><th>points</th>"
           "<th>what to fix</th></tr></thead>", "<tbody>"]
    for r in rows:
        fix = "passed" if r["passed"] else r["message"]
        out.append("<tr><td><code>{}</code></td><td>{}</td><td>{} / {}</td><td>{}</td></tr>".format(
            html.escape(r["function"]), html.escape(PART_NAMES.get(r["part"], r["part"])),
            _points(r["score"]), _points(r["points"]),
            "passed" if r["passed"] else _code(fix)))
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# The pipeline's feedback: nbgrader's converter with the course's config
# --------------------------------------------------------------------------------------

def ensure_exchange_files(root, student: str, assignment: str) -> list[Path]:
    """Give an autograded submission the ``timestamp.txt`` and ``submission_secret.txt``
    that ``nbgrader release_feedback`` reads, when the submission did not come with them.

    A submission collected from nbgrader's exchange has both (``generate_feedback`` copies
    them into the feedback folder). One from an LMS export has neither: it gets its
    gradebook timestamp (or now) and a fresh secret, so ``release_feedback`` works for the
    whole class; such a student gets the HTML from the instructor, not ``fetch_feedback``.
    """
    folder = Path(root) / "autograded" / student / assignment
    written = []
    if not folder.is_dir():
        return written
    stamp = folder / "timestamp.txt"
    if not stamp.exists():
        stamp.write_text(datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
        written.append(stamp)
    secret = folder / "submission_secret.txt"
    if not secret.exists():
        secret.write_text(secrets.token_hex(64))
        written.append(secret)
    return written


_CONVERTERS: dict = {}
_LOCK = threading.Lock()


def _converter(root: Path, db_url: str):
    """nbgrader's GenerateFeedback for a course root, made once (its template costs ~0.4 s)."""
    from nbconvert.writers import FilesWriter
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from autograder.nbg import load_config

    key = (str(root), db_url)
    if key not in _CONVERTERS:
        config = load_config(root, db_url)
        extra = Config()
        extra.HTMLExporter.template_name = "feedback"  # as NbGraderAPI.generate_feedback does
        config.merge(extra)
        converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
        converter.force = True
        converter.writer = FilesWriter(parent=converter, config=converter.config)
        converter.exporter = converter.exporter_class(parent=converter, config=converter.config)
        for pp in converter.preprocessors:
            converter.exporter.register_preprocessor(pp)
        _CONVERTERS[key] = converter
    return _CONVERTERS[key]


def write_feedback(root, db_url: str, assignment: str, student: str) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/`` with nbgrader's ``GenerateFeedback``.

    The converter and its preprocessors come from the course's ``nbgrader_config.py``, as
    for ``nbgrader generate_feedback``. Not ``NbGraderAPI.generate_feedback``: nbgrader's
    converter changes the process's working directory while it runs, which is not safe in
    the pipeline's review thread; these are the converter's own ``start`` steps without it.
    """
    root = Path(root).resolve()
    ensure_exchange_files(root, student, assignment)
    with _LOCK:
        converter = _converter(root, db_url)
        converter.coursedir.assignment_id, converter.coursedir.student_id = assignment, student
        converter.init_notebooks()
        converter.convert_notebooks()
    out = root / "feedback" / student / assignment
    return sorted(out.glob("*.html"))
