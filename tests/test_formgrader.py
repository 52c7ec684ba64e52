"""nbgrader's formgrader on the course's gradebooks (a real Jupyter server, a real Chromium).

* formgrader opens the gradebook the pipeline wrote, with its integrity flags in the
  "Flagged" column, and its Generate Feedback button writes the course's safe feedback;
* a submission whose outputs and markdown carry a script that sets every score to the
  maximum through formgrader's own API is opened in formgrader in Chromium: with the
  course's config the scores stay where they were. The same page made from the
  unsanitised notebook (the control) does change them, so the check can fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from formgrader_server import jupyter_server

from autograder.cells import function_parts
from autograder.paths import CONFIG, source_notebook

A01 = "01_convolution_by_hand"
CHROMIUM = Path("/usr/bin/chromium")


def test_formgrader_reads_the_pipelines_gradebook(graded_class, tmp_path):
    with jupyter_server(graded_class.workspace, tmp_path / "server.log") as server:
        by_name = {a["name"]: a for a in server.get("/formgrader/api/assignments")}
        assert set(graded_class.assignments) <= set(by_name)
        subs = server.get(f"/formgrader/api/submissions/{A01}")
        scores = {s["student"]: s["score"] for s in subs}
        total = sum(sum(p.values()) for p in function_parts(source_notebook(A01)).values())
        assert scores["01-solution"] == by_name[A01]["max_score"] == total > 0
        assert scores["01-blank"] == 0
        assert len(subs) == by_name[A01]["num_submissions"]


def test_integrity_flags_show_in_formgraders_flagged_column(graded_class, tmp_path):
    flagged = {student for (student, a), r in graded_class.results.items()
               if a == A01 and r["flags"] and r["ok"]}
    assert "01-ex-scipy_shortcut" in flagged  # calls SciPy in a by-hand function
    with jupyter_server(graded_class.workspace, tmp_path / "server.log") as server:
        notebooks = server.get(f"/formgrader/api/submitted_notebooks/{A01}/{A01}")
    shown = {n["student"] for n in notebooks if n["flagged"]}
    assert flagged <= shown
    assert "01-solution" not in shown


def test_formgrader_generate_feedback_in_the_workspace_is_safe(graded_class, tmp_path):
    target = graded_class.workspace / "feedback" / "01-blank" / A01 / f"{A01}.html"
    target.unlink(missing_ok=True)
    with jupyter_server(graded_class.workspace, tmp_path / "server.log") as server:
        result = server.post(f"/formgrader/api/assignment/{A01}/01-blank/generate_feedback")
    assert result["success"], result
    text = target.read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text and "Your grade" in text
    assert (target.parent / "timestamp.txt").is_file()


# --------------------------------------------------------------------------------------
# A script in a submission never runs in formgrader
# --------------------------------------------------------------------------------------

#: Sets every grade of the open submission to its maximum through formgrader's API, with
#: the XSRF token from the page's cookie (the strongest a script in the page could do).
ATTACK = """
(async () => {
  const sid = location.pathname.split('/').filter(Boolean).pop();
  const m = document.cookie.match(/_xsrf=([^;]+)/);
  const headers = {'X-XSRFToken': m ? decodeURIComponent(m[1]) : '', 'Content-Type': 'application/json'};
  const grades = await (await fetch('/formgrader/api/grades?submission_id=' + sid, {headers})).json();
  for (const g of grades) {
    await fetch('/formgrader/api/grade/' + g.id, {method: 'PUT', headers,
      body: JSON.stringify({manual_score: g.max_score, extra_credit: 0})});
  }
  document.title = 'pwned';
})();
"""

_SOURCE = [
    ("markdown", "# A tiny assignment", None),
    ("code", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
     {"grade": False, "grade_id": "add", "locked": False, "schema_version": 3, "solution": True}),
    ("code", '"""Check that add adds."""\nassert add(1, 2) == 3',
     {"grade": True, "grade_id": "test_add", "locked": True, "points": 1, "schema_version": 3,
      "solution": False}),
    ("markdown", "Why does it add? YOUR ANSWER HERE",
     {"grade": True, "grade_id": "why", "locked": False, "points": 2, "schema_version": 3,
      "solution": True}),
]


def _hostile_cells() -> list:
    """Every way a student's notebook can carry the script into formgrader's page."""
    import base64
    import json

    b64 = base64.b64encode(ATTACK.encode()).decode()
    html = f"<script>{ATTACK}</script>"
    img = "<img src=x onerror=" + json.dumps(f"eval(atob({b64!r}))") + ">"
    code = ("from IPython.display import HTML, Javascript, Markdown, display\n"
            f"display(HTML({html!r}))\n"
            f"display(Javascript({ATTACK!r}))\n"
            f"display(Markdown({img!r}))\n"
            "display({'image/png': 'x\" onerror=\"eval(atob(\\'" + b64 + "\\'))'}, raw=True)\n"
            f"display({{'text/html': {html!r}, 'text/plain': 'x'}}, raw=True, "
            "metadata={'text/html': {'isolated': True}})")
    return [
        nbformat.v4.new_code_cell(code),
        nbformat.v4.new_markdown_cell(f"My answer <img src=x onerror=\"eval(atob('{b64}'))\">"),
        nbformat.v4.new_markdown_cell(f"```mermaid\n<img src=x onerror=\"eval(atob('{b64}'))\">\n```"),
    ]


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    """A course with the course's config; "mallory" submitted the script, autograded."""
    from autograder.nbg import api_for, sqlite_url

    root = tmp_path_factory.mktemp("hostile-course")
    shutil.copy(CONFIG, root / "nbgrader_config.py")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"}, "language_info": {"name": "python"}}
    for kind, source, meta in _SOURCE:
        cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(source)
        if meta:
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    (root / "source" / "ps1").mkdir(parents=True)
    nbformat.write(nb, root / "source" / "ps1" / "ps1.ipynb")
    db_url = sqlite_url(root / "gradebook.db")
    api = api_for(root, db_url)
    assert api.generate_assignment("ps1", force=True)["success"]
    release = nbformat.read(root / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for student in ("mallory", "control"):
        sub = nbformat.from_dict(release)
        sub.cells[1].source = "def add(a, b):\n    return a - b"  # wrong: 0 points for the test
        sub.cells.extend(_hostile_cells())
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(sub, folder / "ps1.ipynb")
        result = api.autograde("ps1", student, force=True, create=True)
        assert result["success"], result.get("log")
    # The control: the same notebook with its outputs as the kernel made them (what plain
    # nbgrader would have put on disk), to show the attack works when nothing cleans it.
    graded = root / "autograded" / "control" / "ps1" / "ps1.ipynb"
    nb = nbformat.read(graded, as_version=4)
    nb.cells[-3].outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": f"<script>{ATTACK}</script>", "text/plain": "x"})]
    nbformat.write(nb, graded)
    return root


def _scores(server, student: str) -> dict:
    sub = server.get(f"/formgrader/api/submission/ps1/{student}")
    return {"score": sub["score"], "max": sub["max_score"]}


@pytest.mark.browser
def test_a_script_in_a_submission_does_not_run_in_formgrader(hostile_course, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: this test needs Debian's chromium at /usr/bin/chromium "
                    "(apt-get install -y chromium; python -m autograder test installs it)")
    from playwright.sync_api import sync_playwright

    graded = nbformat.read(hostile_course / "autograded" / "mallory" / "ps1" / "ps1.ipynb", as_version=4)
    assert all("<script" not in str(o.get("data", {})) for c in graded.cells for o in c.get("outputs", []))
    with jupyter_server(hostile_course, tmp_path / "server.log", xsrf=True) as server:
        ids = {n["student"]: n["id"] for n in server.get("/formgrader/api/submitted_notebooks/ps1/ps1")}
        before = {s: _scores(server, s) for s in ids}
        assert before["mallory"]["score"] == 0 < before["mallory"]["max"]
        titles = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            try:
                for student in ("mallory", "control"):
                    page = browser.new_page()
                    errors = []
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    page.goto(f"{server.url}/formgrader/submissions/{ids[student]}/",
                              wait_until="load")
                    page.wait_for_timeout(4000)
                    titles[student] = page.title()
                    page.screenshot(path=str(tmp_path / f"{student}.png"), full_page=True)
                    page.close()
            finally:
                browser.close()
        after = {s: _scores(server, s) for s in ids}
    assert titles["control"] == "pwned" and after["control"]["score"] == after["control"]["max"], (
        "the control page did not run its script: the test cannot tell a safe page from a broken one")
    assert titles["mallory"] != "pwned"
    assert after["mallory"] == before["mallory"], "a script in mallory's notebook changed her scores"
