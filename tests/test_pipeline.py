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

from autograder.answers import Answers, make_submission, solutions
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


def _test_cells(assignment: str, function: str):
    from autograder.cells import test_cells

    return [t for t in test_cells(nbformat.read(source_notebook(assignment), as_version=4))
            if t.function == function]


def test_feedback_says_points_and_failing_message(graded_class):
    page = (graded_class.workspace / "feedback" / "01-ex-no_flip" / A01 / f"{A01}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    from autograder.feedback import PART_NAMES

    def head(t, score):
        return f"{t.function} · {PART_NAMES.get(t.part, t.part)}: {score:g} / {t.points:g} points"

    convolve = _test_cells(A01, "convolve")
    assert any(f"FAILED  {head(t, 0)}" in text for t in convolve), text[:2000]
    assert "convolve did not flip the kernel" in text
    for t in _test_cells(A01, "pad"):
        assert f"PASSED  {head(t, t.points)}" in text


def test_grades_csv_has_a_row_per_part_and_the_failing_message(graded_class):
    from autograder.cells import function_parts

    with open(graded_class.workspace / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student", "assignment", "notebook", "function", "part", "points",
                             "max_points", "status", "message", "reason", "flags"]
    for name in graded_class.assignments:
        parts = function_parts(source_notebook(name))
        perfect = {(r["function"], r["part"]): float(r["points"]) for r in rows
                   if r["student"] == f"{name[:2]}-solution" and r["assignment"] == name}
        assert perfect == {(f, p): pts for f, ps in parts.items() for p, pts in ps.items()}, name
    no_flip = [r for r in rows if r["student"] == "01-ex-no_flip" and r["function"] == "convolve"]
    assert any(float(r["points"]) < float(r["max_points"]) for r in no_flip)
    failed = [r for r in no_flip if float(r["points"]) < float(r["max_points"])]
    assert all(r["message"] and "\n" not in r["message"] for r in failed)
    assert any("did not flip the kernel" in r["message"] for r in failed)
    assert all(not r["message"] for r in rows if r["student"] == "01-solution")


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


def _parts(assignment: str) -> dict[str, dict[str, float]]:
    from autograder.cells import function_parts

    return function_parts(source_notebook(assignment))


def _points(assignment: str) -> dict[str, float]:
    from autograder.report import function_points

    return function_points(assignment)


def test_bad_submissions_are_explained_and_do_not_stop_the_others(small_runs):
    runs, _ = small_runs
    results = runs["two"][3]
    points = {}
    for row in runs["two"][1]:
        points[row["student"]] = points.get(row["student"], 0) + float(row["points"])
    full = sum(_points(A01).values())
    assert points["ana"] == full and points["bo"] == 0
    # cy's convolve does not flip the kernel: its computation part is lost, nothing else.
    cy = {(r["function"], r["part"]): float(r["points"]) for r in runs["two"][1] if r["student"] == "cy"}
    parts = _parts(A01)
    lost = {key for key, got in cy.items() if got < parts[key[0]][key[1]]}
    assert ("convolve", "computation" if "computation" in parts["convolve"] else "all") in lost
    assert {f for f, _ in lost} == {"convolve"}
    assert points["renamed"] == full
    assert "saved under another name" in " ".join(results["renamed"].notes)
    assert points["corrupt"] == 0 and "not a readable notebook" in results["corrupt"].reason
    assert points["latin1"] == 0 and "not UTF-8" in results["latin1"].reason
    assert points["wrong_assignment"] == 0
    assert "02_edge_and_blur.ipynb" in results["wrong_assignment"].reason
    # os._exit in a cell kills that kernel: the cell and the rest score nothing, others go on.
    assert points["crasher"] < full


# --- incremental reruns ------------------------------------------------------------------------

def _gradebook_dump(db: Path) -> dict[str, list[tuple]]:
    """Every row nbgrader keeps about submissions: grades, comments, submissions."""
    con = sqlite3.connect(db)
    try:
        comments = sorted(con.execute(
            "SELECT student.id, base_cell.name, comment.auto_comment, comment.manual_comment "
            "FROM comment JOIN submitted_notebook ON comment.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id "
            "JOIN base_cell ON comment.cell_id = base_cell.id").fetchall())
        submissions = sorted(con.execute(
            "SELECT student_id, timestamp, extension FROM submitted_assignment").fetchall())
    finally:
        con.close()
    return {"grades": _grade_table(db), "comments": comments, "submissions": submissions}


def _stamps(ws: Path) -> dict[str, dict[str, int]]:
    """Modification times (ns) of each student's autograded notebook, feedback and kept answer."""
    out = {}
    for what, pattern in (("autograded", "autograded/*/{a}/{a}.ipynb"),
                          ("feedback", "feedback/*/{a}/{a}.html"),
                          ("answer", ".grading/results/*/{a}/notebooks/{a}.ipynb")):
        out[what] = {p.relative_to(ws).parts[-3 if what != "answer" else -4]: p.stat().st_mtime_ns
                     for p in ws.glob(pattern.format(a=A01))}
    return out


def _changed(before: dict, after: dict, what: str = "autograded") -> set[str]:
    return {s for s in after[what] if before[what].get(s) != after[what][s]}


#: What differs in any two renderings of the same notebook with widgets: nbconvert's HTML
#: gives each widget output a uuid4, ipywidgets names its models by one in the kernel, and
#: the page's saved widget state lists the models in the order of those ids.
_RANDOM_IDS = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")
_WIDGET_STATE = re.compile(rb'<script type="application/vnd.jupyter.widget-state\+json">.*?</script>',
                           re.DOTALL)


def _feedback_bytes(ws: Path) -> dict[str, bytes]:
    return {str(p.relative_to(ws)): _RANDOM_IDS.sub(b"<id>", _WIDGET_STATE.sub(b"", p.read_bytes()))
            for p in sorted((ws / "feedback").rglob("*.html"))}


@pytest.fixture(scope="module")
def reruns(tmp_path_factory):
    """One workspace graded, then graded again after changes, against a fresh full grading."""
    from autograder.sandbox import Limits

    root = tmp_path_factory.mktemp("incremental")
    incoming = root / "incoming"

    def put(student, answers):
        target = incoming / student / A01 / f"{A01}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_submission(A01, answers), target)

    wrong_convolve = {"convolve": "def convolve(image, kernel, mode='reflect', cval=0.0):\n"
                                  "    return correlate(image, kernel, mode=mode, cval=cval)"}
    for student, answers in {"ana": Answers(use_solutions=True), "bo": Answers(),
                             "cy": Answers(use_solutions=True, cells=wrong_convolve),
                             "dee": Answers(use_solutions=True)}.items():
        put(student, answers)
    ws = root / "ws"

    def grade(where=ws, **kwargs):
        grade_class(incoming, where, [A01], sqlite_url(where / "gradebook.db"), workers=2,
                    progress=False, quiet=True, **kwargs)
        return {"stamps": _stamps(where), "csv": (where / "grades.csv").read_bytes(),
                "db": _gradebook_dump(where / "gradebook.db"), "feedback": _feedback_bytes(where)}

    out = {"first": grade()}
    # Three submissions change: bo's notebook, cy's other files, and eli is new.
    put("bo", Answers(cells={"window_sum": solutions(A01)["window_sum"]}))
    (incoming / "cy" / A01 / "notes.txt").write_text("my notes\n")
    put("eli", Answers(use_solutions=True))
    out["changed"] = grade()
    out["fresh"] = grade(root / "fresh")
    out["one_student"] = grade(students=["ana"])
    (ws / "feedback" / "dee" / A01 / f"{A01}.html").unlink()
    out["feedback_deleted"] = grade()
    out["forced"] = grade(force=True)
    out["new_limits"] = grade(limits=Limits(cell_timeout=59))
    return out


def test_a_rerun_grades_only_the_submissions_that_changed(reruns):
    before, after = reruns["first"]["stamps"], reruns["changed"]["stamps"]
    assert _changed(before, after) == {"bo", "cy", "eli"}
    assert _changed(before, after, "feedback") == {"bo", "cy", "eli"}
    assert _changed(before, after, "answer") == {"bo", "cy", "eli"}


def test_an_incremental_rerun_equals_a_full_regrade(reruns):
    changed, fresh = reruns["changed"], reruns["fresh"]
    assert changed["csv"] == fresh["csv"]
    assert changed["db"] == fresh["db"]
    assert changed["feedback"].keys() == fresh["feedback"].keys()
    for name in fresh["feedback"]:
        assert changed["feedback"][name] == fresh["feedback"][name], name


def test_one_student_is_graded_alone_and_the_table_keeps_everyone(reruns):
    before, after = reruns["changed"], reruns["one_student"]
    assert _changed(before["stamps"], after["stamps"]) == {"ana"}
    assert after["csv"] == before["csv"]
    assert after["db"] == before["db"]


def test_lost_feedback_is_made_again_from_the_kept_answer_without_grading(reruns):
    before, after = reruns["one_student"], reruns["feedback_deleted"]
    assert _changed(before["stamps"], after["stamps"], "answer") == set()
    assert _changed(before["stamps"], after["stamps"]) == {"dee"}  # applied again
    assert after["feedback"] == before["feedback"] and after["csv"] == before["csv"]


def test_force_and_new_settings_regrade_everyone(reruns):
    everyone = {"ana", "bo", "cy", "dee", "eli"}
    for before, after in (("feedback_deleted", "forced"), ("forced", "new_limits")):
        stamps = reruns[before]["stamps"], reruns[after]["stamps"]
        assert _changed(*stamps) == everyone and _changed(*stamps, "answer") == everyone, after
        assert reruns[after]["csv"] == reruns[before]["csv"]
        assert reruns[after]["db"] == reruns[before]["db"]


def test_submission_keys_follow_everything_a_verdict_depends_on():
    from autograder.incremental import settings_digest, submission_key
    from autograder.sandbox import Limits

    files = {f"{A01}.ipynb": b"{}", "timestamp.txt": b"2026-01-01 10:00:00"}
    base = submission_key("settings", "source", "", files)
    assert submission_key("settings", "source", "", dict(files)) == base
    assert submission_key("other", "source", "", files) != base
    assert submission_key("settings", "hidden tests changed", "", files) != base
    assert submission_key("settings", "source", "2026-02-01 00:00:00", files) != base
    assert submission_key("settings", "source", "", {**files, "timestamp.txt": b"late"}) != base
    assert submission_key("settings", "source", "", {**files, "extra.py": b""}) != base
    assert settings_digest(Limits()) == settings_digest(Limits())
    assert settings_digest(Limits(memory_bytes=1 << 30)) != settings_digest(Limits())


# --- the command line ---------------------------------------------------------------------------

def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args,message", [
    (["grade", "/nonexistent/folder"], "does not exist"),
    (["grade", ".", "--assignment", "99_nothing"], "unknown assignment"),
    (["grade", ".", "--workers", "0"], "--workers must be at least 1"),
    (["grade", "tests", "--student", "nobody"], "no folder for student nobody"),
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
    # The whole example class is graded in the shared run (tests/test_variants.py) and its
    # hostile students of notebook 01 by tests/test_hostile.py (the same grading the demo
    # runs); here the README's command itself, on notebook 01's honest students.
    proc = _cli("demo", "--workspace", str(tmp_path / "demo"), "--no-progress", "--assignment", A01,
                "--honest-only")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    most = _points(A01)
    perfect = r"\s+".join(["^perfect", *(f"{p:g}" for p in most.values()), f"{sum(most.values()):g}"])
    blank = r"\s+".join(["^blank", *["0"] * (len(most) + 1)])
    assert re.search(perfect + r"\s*$", out, re.MULTILINE), out
    assert re.search(blank + r"\s*$", out, re.MULTILINE), out
    assert (tmp_path / "demo" / "grades.csv").exists()
    shutil.rmtree(tmp_path / "demo", ignore_errors=True)
