"""A hostile class: infinite loops, kernel killers, a 50 GB allocation, output floods,
tampering of every style and broken files, mixed among honest students, delivered as a
zip with odd names and paths that climb out, graded in one run of the command line.

Every honest student's grade must be exactly what it is when graded without them (the
shared test class), every hostile one gets no undeserved points and a stated reason, and
the run ends within a bounded time.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from autograder.cli import write_examples
from autograder.paths import EXAMPLES, ROOT

A01 = "01_convolution_by_hand"
CELL_TIMEOUT = 10

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
    "disable_by_hand": ["pad"],
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
    configure(config, tmp_path / "sbx", Limits(cell_timeout=30), hide=[ROOT])
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
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(archive), "--assignment", A01,
         "--workspace", str(root / "ws"), "--cell-timeout", str(CELL_TIMEOUT),
         "--notebook-timeout", "180", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - start
    with open(root / "ws" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {"proc": proc, "elapsed": elapsed, "rows": rows, "root": root,
            "archive_intact": archive.read_bytes() == before}


def _by_student(rows):
    out = {}
    for r in rows:
        out.setdefault(r["student"], {})[r["function"]] = r
    return out


def test_the_run_completes_in_bounded_time(hostile_run):
    proc = hostile_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    n = len(_by_student(hostile_run["rows"]))
    assert n >= 20
    assert hostile_run["elapsed"] < 60 + n * (CELL_TIMEOUT + 15)
    assert not (hostile_run["root"] / "outside.txt").exists()
    assert not list(hostile_run["root"].rglob("outside.txt"))
    assert hostile_run["archive_intact"]


def test_honest_students_grade_exactly_as_alone(hostile_run, graded_class):
    students = _by_student(hostile_run["rows"])
    honest = [p.stem for p in (EXAMPLES / A01).glob("*.py")]
    assert {"perfect", "blank"} <= set(honest)
    for name in honest:
        alone = graded_class.scores(f"01-ex-{name}", A01)
        here = {f: (float(r["points"]), float(r["max_points"])) for f, r in students[name].items()}
        assert here == alone, f"{name}: {here} here, {alone} alone"
    zoe = students["zoë perfect"]
    assert sum(float(r["points"]) for r in zoe.values()) == 14


def test_hostile_students_get_no_undeserved_points_and_a_reason(hostile_run):
    students = _by_student(hostile_run["rows"])
    perfect = {f: float(r["points"]) for f, r in students["perfect"].items()}
    for name, zero in HOSTILE.items():
        rows = students[name]
        points = {f: float(r["points"]) for f, r in rows.items()}
        for function in zero:
            assert points[function] == 0, f"{name} kept points for {function}: {points}"
        assert all(points[f] <= perfect[f] for f in points)
        if zero:
            why = next(iter(rows.values()))
            assert why["reason"] or why["flags"], f"{name}: no reason stated"
    for name in ("print_flood", "warning_storm"):
        assert sum(float(r["points"]) for r in students[name].values()) == 14, name
    # A deleted test cell is put back for grading: the correct pad keeps its points.
    assert float(students["edit_locked_cell"]["pad"]["points"]) == 3
    assert "test_pad was deleted" in students["edit_locked_cell"]["pad"]["flags"]
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
        assert all(r["status"] == "failed" and float(r["points"]) == 0 for r in rows)
        assert text in rows[0]["reason"] and "\n" not in rows[0]["reason"], rows[0]["reason"]
    for name, text in BROKEN_GRADED.items():
        rows = list(students[name].values())
        assert sum(float(r["points"]) for r in rows) == 14
        assert text in rows[0]["reason"]


def test_summary_explains_every_hostile_submission(hostile_run):
    out = hostile_run["proc"].stdout
    assert "Integrity" in out
    for name in [*HOSTILE, *BROKEN_ZERO]:
        row = next((ln for ln in out.splitlines() if ln.startswith(name + " ")), "")
        has_note = bool(row) and not row.split()[-1].replace(".", "").isdigit()
        flagged = f"- {name} / {A01}:" in out
        assert has_note or flagged, f"{name} is not explained in the summary: {row!r}"
