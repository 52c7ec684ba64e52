"""What the safe feedback says: every failed part with its call and expectation, in order.

The autograded notebook here is shaped as the course's grader leaves it (a test cell's
outputs: the checks' prints on stdout and at most one error whose ``evalue`` is the
message), with the scores nbgrader's ``GetGrades`` puts into the cells' metadata. Points
come from the notebook's metadata.
"""

from __future__ import annotations

import base64
import io

import nbformat
from nbconvert import HTMLExporter

from autograder.cells import function_parts
from autograder.feedback import REDACTED, SafeFeedback
from autograder.sanitize import SanitizeNotebook

HIDDEN = "_secret_reference_values = compute_the_answer_with_scipy(x)"
MESSAGE = ("pad(array (3, 3) float64, 1, mode='symmetric') should raise ValueError or TypeError "
           "(an unknown mode); it raised KeyError: 'symmetric'")


def _test_cell(grade_id: str, points: float, score: float, visible: str, printed: str = "",
               error: str | None = None):
    source = f'"""Check that it works."""\n{visible}\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS'
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                                 "schema_version": 3, "solution": False, "score": score}
    if printed:
        cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=printed))
    if error is not None:
        cell.outputs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue=error,
                                                   traceback=[f"  File x, line 9\n    {HIDDEN}\n",
                                                              f"AssertionError: {error}"]))
    return cell


def _figure() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.imshow([[0, 1], [1, 0]])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _graded():
    nb = nbformat.v4.new_notebook()
    figure = nbformat.v4.new_code_cell("show_images(img)")
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _figure(),
                                                                    "text/plain": "<Figure>"})] * 3
    demo = nbformat.v4.new_code_cell("pad(img, 1)")
    demo.outputs = [nbformat.v4.new_output("error", ename="NotImplementedError", evalue="",
                                           traceback=["Traceback (most recent call last)", "  pad(img, 1)"])]
    snoop = nbformat.v4.new_code_cell("print(In)")
    snoop.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"['...', '{HIDDEN}']\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Pad"),
        figure,
        _test_cell("test_pad__computation", 3, 3, 'print("pad: visible checks passed")',
                   printed="pad: visible checks passed\n"),
        _test_cell("test_pad__dtypes", 1, 0, 'print("pad: visible checks passed")',
                   printed="pad: visible checks passed\n",
                   error="pad(array (4, 5) uint8, 2) must return float64, got uint8"),
        _test_cell("test_pad__bad_input", 1, 0, 'expect_raises(pad, img, 1, mode="symmetric")\n'
                   'print("pad: visible checks passed")', error=MESSAGE),
        _test_cell("test_relu__bad_input", 1, 0, "relu(1)", error="<script>alert(1)</script> $\\href{x}{y}$"),
        demo,
        snoop,
    ]
    return nb


def _feedback(nb):
    resources = {"nbgrader": {"score": 3, "max_score": 6}}
    nb, resources = SafeFeedback().preprocess(nb, resources)
    return SanitizeNotebook().preprocess(nb, resources)[0]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def test_a_table_of_every_part_on_top_with_points_from_metadata():
    nb = _graded()
    parts = function_parts(nb)
    out = _feedback(nb)
    table = out.cells[0].source
    assert table.count("<tr>") == 1 + sum(len(p) for p in parts.values())
    for function, by_part in parts.items():
        for part, points in by_part.items():
            assert f"<code>{function}</code></td><td>{part.replace('_', ' ')}</td>" in table
            assert f"/ {points:g}</td>" in table
    assert ("should raise ValueError or TypeError (an unknown mode); it raised KeyError: "
            "&#x27;symmetric&#x27;") in table
    assert "must return float64" in table  # every failed part, not only the first


def test_each_failed_part_says_the_call_and_the_expectation_without_a_traceback():
    out = _feedback(_graded())
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in out.cells}
    bad = _text(cells["test_pad__bad_input"])
    assert bad.startswith("FAILED  pad · bad input: 0 / 1 points")
    assert MESSAGE in bad and "Traceback" not in bad and "File x" not in bad
    assert "Traceback" not in nbformat.writes(out)  # a student's own cell: its message only
    assert "NotImplementedError" in nbformat.writes(out)
    assert all(o.output_type == "stream" for gid, c in cells.items() if gid
               for o in c.get("outputs", []))
    assert _text(cells["test_pad__computation"]).startswith("PASSED  pad · computation: 3 / 3 points")


def test_a_graded_check_failure_is_not_shown_as_if_under_visible_checks_passed():
    out = _feedback(_graded())
    cell = next(c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_pad__dtypes")
    first, second = cell.outputs
    assert first.name == "stderr" and "Your visible checks passed, but a graded check failed:" in first.text
    assert second.text.startswith("What the checks printed:")
    bad = next(c for c in out.cells
               if c.metadata.get("nbgrader", {}).get("grade_id") == "test_pad__bad_input")
    assert "A check failed:" in bad.outputs[0].text  # it stopped in the visible part


def test_no_hidden_line_anywhere_and_outputs_quoting_it_are_replaced():
    out = _feedback(_graded())
    everything = nbformat.writes(out)
    assert HIDDEN not in everything and "BEGIN HIDDEN TESTS" not in everything
    assert REDACTED in everything


def test_every_figure_survives_and_student_text_stays_text():
    out = _feedback(_graded())
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(out)
    empty, _ = HTMLExporter(template_name="classic").from_notebook_node(nbformat.v4.new_notebook())
    assert html.count("data:image/png;base64,") - empty.count("data:image/png;base64,") == 3
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>" in out.cells[0].source  # the student's message is code, out of MathJax's reach
