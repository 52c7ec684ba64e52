"""A hostile class: infinite loops, kernel killers, a 50 GB allocation, output floods,
tampering of every style and broken files, mixed among honest students, delivered as a
zip with odd names and paths that climb out, graded in one run of the command line.

Every honest student's grade must be exactly what it is when graded without them (the
shared test class), every hostile one gets no undeserved points and a stated reason, and
the run ends (no wall-clock bound: the machine may be busy; a hung run is stopped by
the subprocess timeout, a generous hang guard, not a speed check).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from autograder.cells import function_parts
from autograder.cli import write_examples
from autograder.paths import EXAMPLES, ROOT, source_notebook

A01 = "01_convolution_by_hand"
# Ordinary cells must never hit it even on a busy machine; only loop_forever's does.
CELL_TIMEOUT = 30

# Hostile students of notebook 01 and the functions that must score nothing.
HOSTILE = {
    "loop_forever": ["window_sum"],
    "exit_kernel": ["pad"],
    "memory_bomb": ["correlate_valid"],
    "exit_politely": ["correlate_valid"],
    "patch_numpy_testing": ["convolve"],
    "redefine_checker": ["correlate"],
    "patch_scipy": ["correlate"],
    "read_gradebook": ["window_sum"],
    "disable_by_hand": [],  # np.pad in pad: its computation part is lost (checked below)
    "edit_locked_cell": ["window_sum"],
    "print_flood": [],      # correct code that floods its output: capped, graded as written
    "warning_storm": [],    # correct code that warns on every call: warnings cost nothing
}
BROKEN_ZERO = {
    "broken_truncated": "not a readable notebook",
    "broken_latin1": "not UTF-8",
    "broken_missing": "no notebook",
    "broken_other_assignment": "02_edge_and_blur.ipynb",
}
BROKEN_GRADED = {"broken_renamed": "saved under another name", "broken_extra_files": "ignored extra files"}


def _prove_memory_cap() -> None:
    """Under a 2 GiB cap, 3 GiB fails and 1 GiB works (else the 50 GB student is unsafe)."""
    import os
    import tempfile

    from autograder.sandbox import Limits, configure

    tmp_path = Path(tempfile.mkdtemp(prefix="cap-"))  # the kernel (maybe `nobody`) must enter it
    os.chmod(tmp_path, 0o755)
    config = Config()
    configure(config, tmp_path / "sbx", Limits(cell_timeout=120), hide=[ROOT])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "import numpy as np\na = np.ones(2**30 // 8); print('1 GiB ok', a.sum())",
        "del a\ntry:\n    np.ones(3 * 2**30 // 8)\nexcept MemoryError:\n    print('3 GiB refused')",
    )]
    from autograder.sandbox import SandboxExecute

    SandboxExecute(config=config).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    text = "".join(o.get("text", "") for c in nb.cells for o in c.outputs)
    assert "1 GiB ok" in text and "3 GiB refused" in text, text


def test_memory_cap_holds():
    _prove_memory_cap()


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    _prove_memory_cap()  # before anything asks for 50 GB
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "submissions"
    write_examples(folder, [A01], hostile=True)
    shutil.copytree(folder / "perfect", folder / "zoë perfect")  # a name with a space and accent
    archive = root / "class export (LMS).zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, Path("submissions") / path.relative_to(folder))
        z.writestr("../../outside.txt", "climbs out of the folder")
        z.writestr("submissions/__MACOSX/._junk", "resource fork")
    before = archive.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(archive), "--assignment", A01,
         "--workspace", str(root / "ws"), "--cell-timeout", str(CELL_TIMEOUT),
         "--notebook-timeout", "900", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=3 * 3600)  # a hang guard only
    with open(root / "ws" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"proc": proc, "rows": rows, "root": root,
            "archive_intact": archive.read_bytes() == before}


def _by_student(rows, assignment: str = A01):
    """``{student: {function: row}}`` of one assignment, a function's parts added up.

    Each row has ``points`` and ``max_points`` (floats, the sum over the function's
    parts), ``parts`` (``{part: points}``) and the notebook's ``reason``, ``flags`` and
    ``status`` (the same on every part's row).
    """
    out: dict[str, dict[str, dict]] = {}
    for r in rows:
        if r["assignment"] != assignment:
            continue
        f = out.setdefault(r["student"], {}).setdefault(r["function"], {
            "points": 0.0, "max_points": 0.0, "parts": {}, "reason": r["reason"],
            "flags": r["flags"], "status": r["status"]})
        f["points"] += float(r["points"])
        f["max_points"] += float(r["max_points"])
        f["parts"][r["part"]] = float(r["points"])
        for key in ("reason", "flags"):
            if r[key] and r[key] not in f[key]:
                f[key] = "; ".join(filter(None, [f[key], r[key]]))
    return out


def _points(assignment: str = A01) -> dict[str, float]:
    """Points of each graded function of ``assignment``, from its source notebook."""
    return {f: sum(parts.values())
            for f, parts in function_parts(source_notebook(assignment)).items()}


def _total(assignment: str = A01) -> float:
    return sum(_points(assignment).values())


def test_the_run_completes(hostile_run):
    proc = hostile_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    n = len(_by_student(hostile_run["rows"]))
    assert n >= 20
    assert not (hostile_run["root"] / "outside.txt").exists()
    assert not list(hostile_run["root"].rglob("outside.txt"))
    assert hostile_run["archive_intact"]


def test_honest_students_grade_exactly_as_alone(hostile_run, graded_class):
    students = _by_student(hostile_run["rows"])
    honest = [p.stem for p in (EXAMPLES / A01).glob("*.py")]
    assert {"perfect", "blank"} <= set(honest)
    for name in honest:
        alone = graded_class.scores(f"01-ex-{name}", A01)
        here = {f: (r["points"], r["max_points"]) for f, r in students[name].items()}
        assert here == alone, f"{name}: {here} here, {alone} alone"
    zoe = students["zoë perfect"]
    assert sum(r["points"] for r in zoe.values()) == _total()


def test_hostile_students_get_no_undeserved_points_and_a_reason(hostile_run):
    students = _by_student(hostile_run["rows"])
    perfect = {f: r["points"] for f, r in students["perfect"].items()}
    for name, zero in HOSTILE.items():
        rows = students[name]
        points = {f: r["points"] for f, r in rows.items()}
        for function in zero:
            assert points[function] == 0, f"{name} kept points for {function}: {points}"
        assert all(points[f] <= perfect[f] for f in points)
        if zero:
            why = next(iter(rows.values()))
            assert why["reason"] or why["flags"], f"{name}: no reason stated"
    for name in ("print_flood", "warning_storm"):
        assert sum(r["points"] for r in students[name].values()) == _total(), name
    # The by-hand rule is graded in the computation part: a pad on numpy.pad loses it (its
    # dtypes and bad-input parts, which its own code does right, stay).
    assert students["disable_by_hand"]["pad"]["parts"]["computation"] == 0
    # A deleted test cell is put back for grading: the correct pad keeps its points.
    assert students["edit_locked_cell"]["pad"]["points"] == _points()["pad"]
    assert "test_pad__computation was deleted" in students["edit_locked_cell"]["pad"]["flags"]
    assert "output cap" in next(iter(students["print_flood"].values()))["reason"]
    assert "cell timeout" in next(iter(students["loop_forever"].values()))["reason"]
    assert "memory cap" in next(iter(students["memory_bomb"].values()))["reason"]


def test_tampering_is_flagged_with_cell_and_line(hostile_run):
    students = _by_student(hostile_run["rows"])
    expect = {
        "patch_numpy_testing": "numpy.testing.assert_allclose",
        "patch_scipy": "scipy.ndimage.correlate",
        "redefine_checker": "assert_image_close",
        "exit_kernel": "os._exit",
        "exit_politely": "sys.exit",
        "read_gradebook": "../../../",
        "disable_by_hand": "setprofile",
        "edit_locked_cell": "test_window_sum",
        "scipy_shortcut": "scipy.ndimage.correlate",
    }
    for name, text in expect.items():
        flags = next(iter(students[name].values()))["flags"]
        assert text in flags and "cell " in flags, f"{name}: flags {flags!r}"
    for name in ("perfect", "blank", "no_flip", "numpy_names", "print_flood", "warning_storm"):
        assert next(iter(students[name].values()))["flags"] == "", name


def test_broken_files_are_explained_and_lose_nothing(hostile_run):
    students = _by_student(hostile_run["rows"])
    for name, text in BROKEN_ZERO.items():
        rows = list(students[name].values())
        assert all(r["status"] == "failed" and r["points"] == 0 for r in rows)
        assert text in rows[0]["reason"] and "\n" not in rows[0]["reason"], rows[0]["reason"]
    for name, text in BROKEN_GRADED.items():
        rows = list(students[name].values())
        assert sum(r["points"] for r in rows) == _total()
        assert text in rows[0]["reason"]


def test_summary_explains_every_hostile_submission(hostile_run):
    out = hostile_run["proc"].stdout
    assert "Integrity" in out
    for name in [*HOSTILE, *BROKEN_ZERO]:
        row = next((ln for ln in out.splitlines() if ln.startswith(name + " ")), "")
        has_note = bool(row) and not row.split()[-1].replace(".", "").isdigit()
        flagged = f"- {name} / {A01}:" in out
        assert has_note or flagged, f"{name} is not explained in the summary: {row!r}"


# --- notebooks 02-05: the sandbox-level attacks ------------------------------------------------

LATER = ["02_edge_and_blur", "03_feature_maps", "04_learning_kernels", "05_learning_a_filter_bank"]

# student -> (assignment, functions that must score nothing, what the reason or flags say)
SANDBOX_ATTACKS = {
    ("fork_bomb", "02_edge_and_blur"): (["gaussian_kernel"], "process cap"),
    ("copy_a_classmate", "02_edge_and_blur"): (["edge_kernel"], "exec()"),
    ("forked_memory", "03_feature_maps"): (["conv2d"], "memory cap"),
    ("download_answer", "03_feature_maps"): (["conv2d_fast"], "exec"),
    ("fill_the_disk", "04_learning_kernels"): (["fit_kernel"], "outside its scratch folder"),
    ("copy_from_proc", "05_learning_a_filter_bank"): (["conv2d_backward"], "file-access"),
}


def test_every_notebook_has_a_hostile_class():
    for assignment in [A01, *LATER]:
        assert sorted((EXAMPLES / "hostile" / assignment).glob("*.py")), assignment
    assert {a for _, a in SANDBOX_ATTACKS} == set(LATER)
    assert all((EXAMPLES / "hostile" / a / f"{s}.py").exists() for s, a in SANDBOX_ATTACKS)


@pytest.fixture(scope="module")
def later_run(tmp_path_factory):
    """The hostile students of notebooks 02-05 and a perfect classmate (theirs to copy)."""
    from autograder.answers import make_submission, read_answers

    _prove_memory_cap()
    root = tmp_path_factory.mktemp("hostile-later")
    folder = root / "submissions"
    for assignment in LATER:
        students = [EXAMPLES / assignment / "perfect.py",
                    *sorted((EXAMPLES / "hostile" / assignment).glob("*.py"))]
        for answer_file in students:
            target = folder / answer_file.stem / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(make_submission(assignment, read_answers(answer_file)), target)
    from test_judge import NB05, OWN_CONV2D  # an honest student of 05: their own conv2d

    target = folder / "own_conv2d" / NB05 / f"{NB05}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_submission(NB05, OWN_CONV2D), target)
    before = {p.name for p in Path("/tmp").iterdir()}
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(folder), "--assignment", *LATER,
         "--workspace", str(root / "ws"), "--cell-timeout", str(CELL_TIMEOUT),
         "--notebook-timeout", "900", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=3 * 3600)  # a hang guard only
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(root / "ws" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"proc": proc, "rows": rows, "root": root, "tmp_before": before}


def test_sandbox_attacks_earn_nothing_and_are_explained(later_run):
    problems = []
    for (student, assignment), (zero, why) in SANDBOX_ATTACKS.items():
        students = _by_student(later_run["rows"], assignment)
        perfect = students["perfect"]
        assert sum(r["points"] for r in perfect.values()) == _total(assignment), assignment
        rows = students[student]
        points = {f: r["points"] for f, r in rows.items()}
        problems += [f"{student} kept points for {f}: {points}" for f in zero if points[f]]
        problems += [f"{student}: {f} above perfect" for f in rows
                     if rows[f]["points"] > perfect[f]["points"]]
        said = " ".join(dict.fromkeys(r["reason"] + " " + r["flags"] for r in rows.values()))
        if why not in said:
            problems.append(f"{student}: {why!r} not in {said[:400]!r}")
    assert not problems, "\n".join(problems)


def test_own_superset_of_a_read_only_function_keeps_full_marks_unflagged(later_run):
    """Issue 14.5 through the command line: notebook 03's conv2d(..., padding=) reused in 05."""
    rows = _by_student(later_run["rows"], "05_learning_a_filter_bank")["own_conv2d"]
    assert sum(r["points"] for r in rows.values()) == _total("05_learning_a_filter_bank"), rows
    assert all(r["flags"] == "" and r["status"] != "failed" for r in rows.values()), rows


def test_sandbox_attacks_leave_nothing_on_the_host(later_run):
    """The gigabyte written by fill_the_disk and the forked children are gone."""
    leftovers = [p for p in Path("/tmp").iterdir() if p.name not in later_run["tmp_before"]
                 and p.name.startswith("sbx-")]
    big = [f for d in leftovers for f in d.rglob("*") if f.is_file() and f.stat().st_size > 2**20]
    assert not big, big
    assert not list(later_run["root"].rglob("ballast.bin"))
    for entry in Path("/proc").iterdir():  # no kernel of this run is left running
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            assert str(later_run["root"]).encode() not in cmdline, cmdline[:300]
