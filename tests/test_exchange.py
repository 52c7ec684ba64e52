"""Stock nbgrader's whole loop on this course, through a real exchange directory.

An instructor who runs nbgrader 0.9 as it comes, in a course folder holding this course's
``source/`` and ``nbgrader_config.py``: generate, release, two students fetch and submit
(each with their own cache, as on JupyterHub), collect, autograde on the command line,
generate and release feedback, the students fetch their feedback; then formgrader's
"Generate Feedback" over its HTTP API. At every step: the locks are there, the hidden tests
stay hidden, and nothing a student put in the notebook can run in a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from formgrader_server import jupyter_server

from autograder.answers import solutions
from autograder.cells import function_parts, nbgrader_meta
from autograder.paths import CONFIG, SOURCE, release_notebook, source_notebook

A = "01_convolution_by_hand"
COURSE = "convolution-from-scratch"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")
STUDENTS = ("alice", "bob")

# bob's extra cells: the kernel's history (every test cell's source under plain nbgrader),
# a script for the grader's browser, and markdown with a javascript: link and raw HTML.
_SNOOP = "print('\\n'.join(In))"
_SCRIPT = ("from IPython.display import HTML, Javascript, display\n"
           "display(HTML('<b id=\"pwn\">x</b><script>document.title=\"pwned\"</script>'))\n"
           "display(Javascript('document.title = \"pwned\"'))")
_MARKDOWN = "[my answer](javascript:alert(1)) <img src=x onerror=\"alert(1)\">"


def hidden_test_lines(min_length: int = 16) -> list[str]:
    """Lines of the hidden tests that appear nowhere in the student's version."""
    nb = nbformat.read(source_notebook(A), as_version=4)
    hidden, visible = set(), set()
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", cell.source, re.DOTALL):
            hidden |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= min_length}
        visible |= {ln.strip() for ln in re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "",
                                                  cell.source, flags=re.DOTALL).splitlines()}
    lines = sorted(hidden - visible)
    assert len(lines) > 20
    return lines


def _run(args: list[str], cwd: Path, *extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"  # as an instructor without the environment activated
    done = subprocess.run([NBGRADER, *args, *extra], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _assert_locked_like_release(nb) -> None:
    release = nbformat.read(release_notebook(A), as_version=4)
    locked = {nbgrader_meta(c)["grade_id"]: c for c in release.cells if nbgrader_meta(c).get("locked")}
    seen = {nbgrader_meta(c).get("grade_id"): c for c in nb.cells}
    for gid, cell in locked.items():
        assert seen[gid].metadata.get("editable") is False and seen[gid].metadata.get("deletable") is False
        assert seen[gid].source == cell.source


def _answer(nb, student: str):
    if student == "alice":
        answers = solutions(A)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if gid in answers and nbgrader_meta(cell).get("solution"):
                cell.source = answers[gid]
    else:
        nb.cells.append(nbformat.v4.new_markdown_cell(_MARKDOWN))
        nb.cells.append(nbformat.v4.new_code_cell(_SCRIPT))
        nb.cells.append(nbformat.v4.new_code_cell(_SNOOP))
    return nb


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """Run the loop once; return its folders."""
    base = tmp_path_factory.mktemp("exchange-loop")
    course, exchange = base / "course", base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    shutil.copytree(SOURCE / A, course / "source" / A)
    shutil.copy(CONFIG, course / "nbgrader_config.py")
    ex = [f"--Exchange.root={exchange}"]

    _run(["generate_assignment", A], course)
    _run(["release_assignment", A, *ex], course)
    homes = {}
    for student in STUDENTS:
        home = base / student
        home.mkdir()
        mine = [*ex, f"--Exchange.cache={base / (student + '-cache')}", f"--course={COURSE}",
                f"--student={student}"]
        _run(["fetch_assignment", A, *mine], home)
        path = home / A / f"{A}.ipynb"
        fetched = nbformat.read(path, as_version=4)
        _assert_locked_like_release(fetched)
        nbformat.write(_answer(fetched, student), path)
        _run(["submit", A, *mine], home)
        homes[student] = (home, mine)
    _run(["collect", A, *ex], course)
    _run(["autograde", A], course)
    _run(["generate_feedback", A], course)
    _run(["release_feedback", A, *ex], course)
    for home, mine in homes.values():
        _run(["fetch_feedback", A, *mine], home)
    return {"course": course, "exchange": exchange, "homes": {s: h for s, (h, _) in homes.items()}}


def _feedback_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def test_collected_submissions_carry_the_exchange_files(loop):
    for student in STUDENTS:
        folder = loop["course"] / "submitted" / student / A
        assert (folder / "timestamp.txt").is_file() and (folder / "submission_secret.txt").is_file()
        _assert_locked_like_release(nbformat.read(folder / f"{A}.ipynb", as_version=4))


def test_autograde_scores_from_the_source_metadata(loop):
    from nbgrader.api import Gradebook

    total = sum(sum(parts.values()) for parts in function_parts(source_notebook(A)).values())
    with Gradebook(f"sqlite:///{loop['course'] / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "alice").score == total > 0
        assert gb.find_submission(A, "bob").score == 0


def test_autograded_notebooks_keep_text_and_images_only(loop):
    graded = nbformat.read(loop["course"] / "autograded" / "bob" / A / f"{A}.ipynb", as_version=4)
    kinds = {key for cell in graded.cells for out in cell.get("outputs", [])
             for key in out.get("data", {})}
    assert kinds <= {"text/plain", "text/html", "image/png", "image/jpeg", "image/gif"}
    html = [out["data"]["text/html"] for cell in graded.cells for out in cell.get("outputs", [])
            if "text/html" in out.get("data", {})]
    assert html and all("<script" not in h for h in html)
    markdown = [c.source for c in graded.cells if c.cell_type == "markdown" and "alert(1)" in c.source]
    assert markdown and all(s.count("~~~~") == 2 for s in markdown)  # shown as text


def test_feedback_is_a_valid_nbgrader_feedback_folder(loop):
    for student in STUDENTS:
        folder = loop["course"] / "feedback" / student / A
        assert sorted(p.name for p in folder.iterdir()) == [f"{A}.html", "submission_secret.txt",
                                                            "timestamp.txt"]
        submitted = loop["course"] / "submitted" / student / A
        for name in ("timestamp.txt", "submission_secret.txt"):
            assert (folder / name).read_text() == (submitted / name).read_text()


def test_no_feedback_anywhere_shows_a_hidden_test_line(loop):
    lines = hidden_test_lines()
    files = (_feedback_files(loop["course"] / "feedback") + _feedback_files(loop["exchange"])
             + [p for s in STUDENTS for p in _feedback_files(loop["homes"][s] / A / "feedback")])
    assert len(files) == 3 * len(STUDENTS)  # course, exchange, each student's own copy
    for path in files:
        text = path.read_text(encoding="utf-8")
        leaked = [ln for ln in lines if ln in text]
        assert not leaked, f"{path} shows hidden-test lines: {leaked[:3]}"
        assert "Traceback (most recent call last)" not in text
        assert "<script>document.title" not in text


def test_students_fetch_their_own_safe_feedback(loop):
    for student in STUDENTS:
        fetched = _feedback_files(loop["homes"][student] / A / "feedback")
        assert len(fetched) == 1
        made = loop["course"] / "feedback" / student / A / f"{A}.html"
        assert fetched[0].read_bytes() == made.read_bytes()
        text = made.read_text(encoding="utf-8")
        assert "Your grade" in text and "what to fix" in text
    bob = (loop["course"] / "feedback" / "bob" / A / f"{A}.html").read_text(encoding="utf-8")
    assert "NotImplementedError" in bob and "FAILED" in bob
    # The history bob printed: under the course's config the test cells are judged in the
    # grader's process, so no test cell ever reached his kernel's history (and one that did
    # would be hidden from the feedback).
    graded = nbformat.read(loop["course"] / "autograded" / "bob" / A / f"{A}.ipynb", as_version=4)
    snoop = [c for c in graded.cells if c.source == _SNOOP]
    assert len(snoop) == 1
    printed = "".join(o.get("text", "") for o in snoop[0].get("outputs", []))
    assert printed.strip() or "output hidden: it quoted the graded checks" in bob
    assert '"""Check that' not in printed and not [ln for ln in hidden_test_lines() if ln in printed]


def test_every_figure_of_the_notebook_is_in_its_feedback(loop):
    for student in STUDENTS:
        graded = nbformat.read(loop["course"] / "autograded" / student / A / f"{A}.ipynb", as_version=4)
        figures = sum("image/png" in out.get("data", {}) for cell in graded.cells
                      for out in cell.get("outputs", []))
        html = (loop["course"] / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8")
        assert figures > 0 and html.count("data:image/png;base64,") >= figures


def test_formgrader_generate_feedback_writes_the_same_safe_feedback(loop, tmp_path):
    target = loop["course"] / "feedback" / "bob" / A / f"{A}.html"
    target.unlink()
    with jupyter_server(loop["course"], tmp_path / "server.log") as server:
        result = server.post(f"/formgrader/api/assignment/{A}/bob/generate_feedback")
        assert result["success"], result
        result = server.post(f"/formgrader/api/assignment/{A}/generate_feedback")
        assert result["success"], result
    text = target.read_text(encoding="utf-8")
    assert "Your grade" in text and not [ln for ln in hidden_test_lines() if ln in text]
    for student in STUDENTS:
        assert (loop["course"] / "feedback" / student / A / "timestamp.txt").is_file()
