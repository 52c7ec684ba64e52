"""The grading pipeline: CSV, feedback, parallel runs, bad input, the command line."""

from __future__ import annotations

import csv
import html
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.answers import Answers, make_submission
from autograder.cli import grade_class
from autograder.nbg import sqlite_url
from autograder.paths import ROOT, source_notebook

A01 = "01_convolution_by_hand"


# --- on the shared graded class ------------------------------------------------------------

def _hidden_lines(assignment: str) -> set[str]:
    nb = nbformat.read(source_notebook(assignment), as_version=4)
    visible = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    shown = {ln.strip() for c in visible.cells for ln in c.source.splitlines()}
    hidden = set()
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", cell.source,
                                re.DOTALL):
            hidden |= {ln.strip() for ln in block.splitlines()
                       if len(ln.strip()) >= 12 and ln.strip() not in shown}
    return hidden


def test_feedback_never_shows_hidden_test_code(graded_class):
    files = sorted((graded_class.workspace / "feedback").rglob("*.html"))
    assert len(files) >= len(graded_class.results) - 5
    hidden = {a: _hidden_lines(a) for a in graded_class.assignments}
    for path in files:
        assignment = path.parent.name
        student = path.parent.parent.name
        submitted = graded_class.incoming / student / assignment / f"{assignment}.ipynb"
        own = {ln.strip() for ln in submitted.read_text().splitlines()}
        text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
        shown = {ln.strip() for ln in text.splitlines()}
        leaked = [ln for ln in hidden[assignment] if ln in shown and ln not in own
                  and ln.encode("unicode_escape").decode() not in own]
        assert not leaked, f"{path}: feedback shows hidden test lines {leaked[:3]}"


def test_feedback_says_points_and_failing_message(graded_class):
    page = (graded_class.workspace / "feedback" / "01-ex-no_flip" / A01 / f"{A01}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "[test_convolve] failed: 0 / 3 points" in text
    assert "convolve did not flip the kernel" in text
    assert "[test_pad] passed: 3 / 3 points" in text


def test_grades_csv_has_points_per_student_notebook_and_function(graded_class):
    with open(graded_class.workspace / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) >= {"student", "assignment", "notebook", "function", "points",
                            "max_points", "status", "reason"}
    perfect = {r["function"]: float(r["points"]) for r in rows
               if r["student"] == "01-solution" and r["assignment"] == A01}
    assert perfect == {"window_sum": 2, "correlate_valid": 3, "pad": 3, "correlate": 3, "convolve": 3}


def test_gradebook_is_nbgraders_own(graded_class):
    from nbgrader.api import Gradebook

    with Gradebook(sqlite_url(graded_class.workspace / "gradebook.db")) as gb:
        sub = gb.find_submission(A01, "01-solution")
        assert sub.score == sub.max_score > 0
        assert gb.find_submission(A01, "01-blank").score == 0


# --- a small class of its own: parallel, idempotent, bad input --------------------------------

def _small_class(root: Path) -> Path:
    incoming = root / "incoming"
    def put(student, nb, name=f"{A01}.ipynb"):
        target = incoming / student / A01 / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb, bytes):
            target.write_bytes(nb)
        else:
            nbformat.write(nb, target)
    put("ana", make_submission(A01, Answers(use_solutions=True)))
    put("bo", make_submission(A01, Answers()))
    put("cy", make_submission(A01, Answers(use_solutions=True, cells={
        "convolve": "def convolve(image, kernel, mode='reflect', cval=0.0):\n"
                    "    return correlate(image, kernel, mode=mode, cval=cval)"})))
    put("renamed", make_submission(A01, Answers(use_solutions=True)), name="Untitled1.ipynb")
    put("corrupt", b'{"cells": [ {"cell_type": "code", "sour')
    put("latin1", "caf\xe9".encode("latin-1"))
    put("crasher", make_submission(A01, Answers(use_solutions=True, cells={
        "window_sum": "import os\nos._exit(0)"})))
    other = nbformat.v4.new_notebook()
    put("wrong_assignment", other, name="02_edge_and_blur.ipynb")
    return incoming


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _grade_table(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute(
            "SELECT student.id, notebook.name, base_cell.name, grade_cells.max_score, "
            "grade.auto_score, grade.manual_score, grade.needs_manual_grade FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id "
            "JOIN notebook ON submitted_notebook.notebook_id = notebook.id "
            "JOIN base_cell ON grade.cell_id = base_cell.id "
            "JOIN grade_cells ON grade_cells.id = base_cell.id").fetchall())
    finally:
        con.close()


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    incoming = _small_class(root)
    before = {p: p.read_bytes() for p in incoming.rglob("*") if p.is_file()}
    runs = {}
    for label, workers in (("one", 1), ("two", 2), ("two-again", 2)):
        ws = root / ("two" if label == "two-again" else label)
        rows, results = grade_class(incoming, ws, [A01], sqlite_url(ws / "gradebook.db"),
                                    workers=workers, progress=False, quiet=True)
        runs[label] = (ws, _read_csv(ws / "grades.csv"), _grade_table(ws / "gradebook.db"),
                       {(r.student): r for r in results})
    after = {p: p.read_bytes() for p in incoming.rglob("*") if p.is_file()}
    return runs, before == after


def test_one_and_two_workers_give_identical_grades(small_runs):
    runs, _ = small_runs
    assert runs["one"][1] == runs["two"][1]
    assert runs["one"][2] == runs["two"][2]


def test_regrading_is_idempotent(small_runs):
    runs, _ = small_runs
    assert runs["two"][1] == runs["two-again"][1]
    assert runs["two"][2] == runs["two-again"][2]


def test_submissions_are_never_modified(small_runs):
    assert small_runs[1]


def test_bad_submissions_are_explained_and_do_not_stop_the_others(small_runs):
    runs, _ = small_runs
    results = runs["two"][3]
    points = {}
    for row in runs["two"][1]:
        points[row["student"]] = points.get(row["student"], 0) + float(row["points"])
    assert points["ana"] == 14 and points["bo"] == 0 and points["cy"] == 11
    assert points["renamed"] == 14
    assert "saved under another name" in " ".join(results["renamed"].notes)
    assert points["corrupt"] == 0 and "not a readable notebook" in results["corrupt"].reason
    assert points["latin1"] == 0 and "not UTF-8" in results["latin1"].reason
    assert points["wrong_assignment"] == 0
    assert "02_edge_and_blur.ipynb" in results["wrong_assignment"].reason
    # os._exit in a cell kills that kernel: the cell and the rest score nothing, others go on.
    assert points["crasher"] < 14


# --- the command line ---------------------------------------------------------------------------

def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args,message", [
    (["grade", "/nonexistent/folder"], "does not exist"),
    (["grade", ".", "--assignment", "99_nothing"], "unknown assignment"),
    (["grade", ".", "--workers", "0"], "--workers must be at least 1"),
    (["release", "99_nothing"], "unknown assignment"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_bad_arguments_give_one_line_errors(args, message):
    proc = _cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_rejects_a_corrupt_zip(tmp_path):
    bad = tmp_path / "class.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    proc = _cli("grade", str(bad), "--workspace", str(tmp_path / "ws"))
    assert proc.returncode == 2 and "not a readable zip" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_zip_intake_skips_paths_that_climb_out(tmp_path):
    import zipfile

    from autograder.intake import unpack_zip

    z = tmp_path / "lms.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("submitted/ana/01_convolution_by_hand/01_convolution_by_hand.ipynb", "{}")
        f.writestr("../../evil.txt", "x")
        f.writestr("/abs/evil.txt", "x")
        f.writestr("__MACOSX/._junk", "x")
    out = unpack_zip(z, tmp_path / "in")
    assert (out / "ana" / A01 / f"{A01}.ipynb").exists()
    assert not (tmp_path / "evil.txt").exists() and not list((tmp_path / "in").rglob("evil.txt"))


def test_release_check_passes_on_the_committed_release():
    proc = _cli("release", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_demo_command_prints_the_grade_table(tmp_path):
    # The whole example class is graded in the shared run (tests/test_variants.py); here
    # the README's command itself, on notebook 01.
    proc = _cli("demo", "--workspace", str(tmp_path / "demo"), "--no-progress", "--assignment", A01)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert re.search(r"^perfect\s+2\s+3\s+3\s+3\s+3\s+14\s*$", out, re.MULTILINE), out
    assert re.search(r"^blank\s+0\s+0\s+0\s+0\s+0\s+0\s*$", out, re.MULTILINE), out
    assert (tmp_path / "demo" / "grades.csv").exists()
    shutil.rmtree(tmp_path / "demo", ignore_errors=True)
