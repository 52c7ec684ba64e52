"""autograder.sanitize: a notebook keeps text and images only, and where the library falls short.

Each case says what would run in a browser if the notebook were rendered as it is; the
rendering checks use nbconvert's own classic template (the one formgrader and nbgrader's
feedback extend).
"""

from __future__ import annotations

import base64
import copy
import io
import re
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.preprocessors.sanitize import SanitizeHTML

from autograder.sanitize import SanitizeNotebook, add_to_autograde, markdown_problem, sanitize_notebook


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


PNG = _png()


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _code(*outputs):
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = list(outputs)
    return cell


def _display(data, metadata=None):
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def _html(nb) -> str:
    body, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    return body


class _Active(HTMLParser):
    """Collects what a browser would run: script and iframe tags, on* handlers, js URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(f"<{tag}> {dict(attrs).get('src', '')}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name} on <{tag}>")
            elif name in ("href", "src") and re.sub(r"[\x00-\x20]", "", value or "").lower().startswith(
                    ("javascript:", "data:text/html")):
                self.found.append(f"{name}={value[:30]} on <{tag}>")


def _found(html: str) -> list[str]:
    parser = _Active()
    parser.feed(html)
    return parser.found


def _active(html: str) -> list[str]:
    """What would run on the page beyond the template's own (an empty notebook's)."""
    base = _found(_html(_nb()))
    extra = _found(html)
    for item in base:
        extra.remove(item)
    return extra


def _count(html: str, what: str) -> int:
    return html.count(what) - _html(_nb()).count(what)


@pytest.mark.parametrize("name,cell", [
    ("html script", _code(_display({"text/html": "<b>ok</b><script>alert(1)</script>"}))),
    ("html event handler", _code(_display({"text/html": "<img src=x onerror=alert(1)>"}))),
    ("html javascript link", _code(_display({"text/html": "<a href='javascript:alert(1)'>a</a>"}))),
    ("html iframe", _code(_display({"text/html": "<iframe src='/formgrader'></iframe>"}))),
    ("isolated html", _code(_display({"text/html": "<script>alert(1)</script>"},
                                     {"text/html": {"isolated": True}}))),
    ("javascript", _code(_display({"application/javascript": "alert(1)"}))),
    ("svg", _code(_display({"image/svg+xml": "<svg onload='alert(1)'></svg>"}))),
    ("markdown output", _code(_display({"text/markdown": "[a](javascript:alert(1))"}))),
    ("fake png", _code(_display({"image/png": 'x" onerror="alert(1)'}))),
    ("png width", _code(_display({"image/png": PNG}, {"image/png": {"width": "1 onerror=alert(1)"}}))),
    ("widget view", _code(_display({"application/vnd.jupyter.widget-view+json": {"model_id": "1"},
                                    "text/plain": "IntSlider()"}))),
    ("markdown html", nbformat.v4.new_markdown_cell("hi <img src=x onerror=alert(1)>")),
    ("markdown link", nbformat.v4.new_markdown_cell("[click](javascript:alert(1))")),
    ("markdown entity link", nbformat.v4.new_markdown_cell("[click](&#106;avascript:alert(1))")),
    ("markdown autolink", nbformat.v4.new_markdown_cell("<javascript:alert(1)>")),
    ("markdown mermaid", nbformat.v4.new_markdown_cell("```mermaid\n<img src=x onerror=alert(1)>\n```")),
    ("raw html", nbformat.v4.new_raw_cell("<script>alert(1)</script>",
                                          metadata={"raw_mimetype": "text/html"})),
])
def test_active_content_is_gone_from_the_rendered_page(name, cell):
    nb = _nb(cell)
    unsafe = _active(_html(copy.deepcopy(nb)))
    clean, removed = sanitize_notebook(nb)
    assert not _active(_html(clean)), f"{name}: still active after cleaning"
    if unsafe:  # what was dangerous is reported
        assert removed, name


def test_where_nbconvert_sanitizehtml_falls_short():
    """The measurements behind writing more than SanitizeHTML: each of these stays active."""
    cases = [nbformat.v4.new_markdown_cell("[click](javascript:alert(1))"),
             _code(_display({"image/png": PNG}, {"image/png": {"width": "1 onerror=alert(1)"}}))]
    for cell in cases:
        nb, _ = SanitizeHTML(enabled=True).preprocess(_nb(cell), {})
        assert _active(_html(nb)), "nbconvert's SanitizeHTML now handles this: simplify sanitize.py"


def test_text_figures_and_honest_markdown_are_kept_as_they_are():
    md = ("## Answer\n\nThe kernel is *flipped*: `k[::-1, ::-1]`, see [SciPy](https://scipy.org).\n\n"
          "> a quote with $x^2$ and a table\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nif a < b:\n"
          "    pass\n```")
    nb = _nb(nbformat.v4.new_markdown_cell(md),
             _code(nbformat.v4.new_output("stream", name="stdout", text="a < b & c\n"),
                   _display({"image/png": PNG, "text/plain": "<Figure>"}, {"image/png": {"width": 300}}),
                   nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1),
                   nbformat.v4.new_output("error", ename="ValueError", evalue="bad <input>",
                                          traceback=["ValueError: bad <input>"])),
             nbformat.v4.new_markdown_cell("![fig](attachment:f.png)",
                                           attachments={"f.png": {"image/png": PNG}}))
    before = copy.deepcopy(nb)
    clean, removed = sanitize_notebook(nb)
    assert removed == [] and clean == before
    assert _count(_html(clean), "data:image/png;base64,") == 2


def test_html_output_keeps_its_text_and_tables():
    nb = _nb(_code(_display({"text/html": "<table><tr><td>1</td></tr></table><p>two <b>words</b></p>"})))
    clean, _ = sanitize_notebook(nb)
    html = clean.cells[0].outputs[0].data["text/html"]
    assert "<table>" in html and "<b>words</b>" in html


def test_dropped_outputs_leave_a_line_of_text_and_stream_names_are_fixed():
    nb = _nb(_code(_display({"application/javascript": "alert(1)"}),
                   nbformat.v4.new_output("stream", name='stdout"><script>', text="hi")))
    clean, _ = sanitize_notebook(nb)
    first, second = clean.cells[0].outputs
    assert "removed" in first.data["text/plain"] and second.name == "stdout"


def test_attachments_keep_raster_images_only():
    svg = base64.b64encode(b"<svg onload='alert(1)'/>").decode()
    cell = nbformat.v4.new_markdown_cell("![a](attachment:a.png)", attachments={
        "a.png": {"image/png": PNG}, "b.svg": {"image/svg+xml": svg}})
    clean, removed = sanitize_notebook(_nb(cell))
    assert list(clean.cells[0].attachments) == ["a.png"] and removed


def test_locked_instructor_markdown_is_left_alone():
    cell = nbformat.v4.new_markdown_cell("<details><summary>hint</summary>x</details>",
                                         metadata={"nbgrader": {"locked": True, "grade_id": "m",
                                                                "grade": False, "solution": False,
                                                                "schema_version": 3}})
    clean, _ = sanitize_notebook(_nb(cell))
    assert clean.cells[0].source == cell.source


def test_widget_state_metadata_is_dropped():
    nb = _nb(nbformat.v4.new_markdown_cell("x"))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    clean, _ = sanitize_notebook(nb)
    assert "widgets" not in clean.metadata


def test_cleaning_twice_changes_nothing():
    nb = _nb(nbformat.v4.new_markdown_cell("[x](javascript:alert(1)) <b onclick=1>b</b>"),
             _code(_display({"text/html": "<script>x</script><i>i</i>"})))
    once, _ = sanitize_notebook(nb)
    twice, removed = sanitize_notebook(copy.deepcopy(once))
    assert twice == once and removed == []


def test_markdown_problem_names_the_reason():
    assert markdown_problem("plain *text*") is None
    assert "javascript" in markdown_problem("[a](javascript:x)")
    assert "href" in markdown_problem(r"$\href{javascript:x}{a}$")
    assert "attachment" in markdown_problem("![a](attachment:missing.png)") or \
        "render" in markdown_problem("![a](attachment:missing.png)")


def test_added_to_autograde_right_after_the_step_that_runs_the_notebook():
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    c = Config()
    add_to_autograde(c)
    add_to_autograde(c)  # twice: once in the chain
    chain = list(c.Autograde.autograde_preprocessors)
    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    assert chain.count(SanitizeNotebook) == 1
    assert chain.index(SanitizeNotebook) == default.index(next(p for p in default
                                                               if p.__name__ == "Execute")) + 1
    assert list(c.Autograde.sanitize_preprocessors)[-1] is SanitizeNotebook
    custom = Config()
    custom.Autograde.autograde_preprocessors = ["my.JudgeExecute", "nbgrader.preprocessors.SaveAutoGrades"]
    add_to_autograde(custom)
    assert list(custom.Autograde.autograde_preprocessors) == ["my.JudgeExecute", SanitizeNotebook,
                                                              "nbgrader.preprocessors.SaveAutoGrades"]


def test_the_course_config_puts_it_in_both_chains():
    from autograder.nbg import load_config

    config = load_config("/tmp")
    assert SanitizeNotebook in list(config.Autograde.autograde_preprocessors)
    assert SanitizeNotebook in list(config.GenerateFeedback.preprocessors)
