"""Several graders share one PostgreSQL gradebook: every grade arrives once.

Starts a real local PostgreSQL server (Debian's postgresql, run as the `postgres` user on
a private data directory and a free loopback port), then grades two disjoint halves of a
class from two `python -m autograder grade` processes at the same time into it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.answers import Answers, make_submission
from autograder.paths import ROOT

pytestmark = pytest.mark.postgres
A01 = "01_convolution_by_hand"


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL server binaries are missing: apt-get install postgresql "
                    "(python3 -m autograder test installs it)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*cmd: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    bin_dir = _pg_bin()
    base = Path(tempfile_dir := tmp_path_factory.mktemp("pg"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(tempfile_dir, 0o755)
        for parent in base.parents:  # the postgres user must be able to reach the folder
            if str(parent) in ("/", "/tmp"):
                break
            os.chmod(parent, os.stat(parent).st_mode | 0o011)
    port = _free_port()
    subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-A", "trust", "-U", "postgres",
                                "-D", str(data)), check=True, capture_output=True)
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                                str(base / "server.log"), "-w", "-o",
                                f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"),
                   check=True, capture_output=True)
    try:
        subprocess.run(_as_postgres(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                    "-U", "postgres", "gradebook"), check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                    "stop"), capture_output=True)


def _write_class(root: Path, students: dict[str, Answers]) -> Path:
    for student, answers in students.items():
        target = root / student / A01 / f"{A01}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_submission(A01, answers), target)
    return root


def test_two_graders_share_one_postgresql_gradebook(postgres, tmp_path):
    from nbgrader.api import Gradebook

    wrong_pad = ("def pad(image, pad_width, mode='reflect', cval=0.0):\n"
                 "    return np.zeros((1, 1))")
    halves = {
        "a": {"ana": Answers(use_solutions=True), "ben": Answers(),
              "cid": Answers(use_solutions=True, cells={"pad": wrong_pad})},
        "b": {"dee": Answers(use_solutions=True), "eve": Answers(),
              "fay": Answers(use_solutions=True, cells={"pad": wrong_pad})},
    }
    procs = []
    for name, students in halves.items():
        incoming = _write_class(tmp_path / f"in-{name}", students)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "autograder", "grade", str(incoming), "--assignment", A01,
             "--db", postgres, "--workspace", str(tmp_path / f"ws-{name}"), "--workers", "1",
             "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(0.2)
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]

    from autograder.cells import parse_grade_id, test_cells
    from autograder.paths import source_notebook
    from autograder.report import function_points

    pad_computation = [t for t in test_cells(nbformat.read(source_notebook(A01), as_version=4))
                       if t.function == "pad" and t.part in ("computation", "all")]
    with Gradebook(postgres) as gb:
        assignment = gb.find_assignment(A01)
        students = sorted(s.student.id for s in assignment.submissions)
        assert students == ["ana", "ben", "cid", "dee", "eve", "fay"]
        cells = sorted(c.name for nb in assignment.notebooks for c in nb.grade_cells)
        totals = {}
        for sub in assignment.submissions:
            (nb,) = sub.notebooks
            names = sorted(g.name for g in nb.grades)
            assert names == cells, f"{sub.student.id}: grades {names}, expected each cell once"
            totals[sub.student.id] = sub.score
            if sub.student.id in ("cid", "fay"):
                pad = {g.name: g.score for g in nb.grades if parse_grade_id(g.name)[0] == "pad"}
                assert pad and not any(pad.get(t.grade_id) for t in pad_computation), pad
    full = sum(function_points(A01).values())
    assert totals["ana"] == totals["dee"] == full
    assert totals["ben"] == totals["eve"] == 0
    assert totals["cid"] == totals["fay"] and 0 < totals["cid"] < full
    # Each grader's table shows its own students graded.
    assert "ana" in outs[0][0] and "dee" in outs[1][0]
