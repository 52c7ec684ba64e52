"""Grading on a real Dask cluster: `dask scheduler` and `dask worker` processes on loopback.

The cluster is started with Dask's own command line, as an instructor would, on free
loopback ports; the workers run the same hardened grading as local workers. Every wait is
on a condition (a worker registered, a kernel running), with generous timeouts, never on
elapsed time.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from autograder.answers import Answers, make_submission, read_answers
from autograder.cli import grade_class
from autograder.nbg import sqlite_url
from autograder.paths import EXAMPLES, ROOT

distributed = pytest.importorskip("distributed", reason="the `cluster` extra (Dask's distributed)")
psutil = pytest.importorskip("psutil")

A01 = "01_convolution_by_hand"
DASK = Path(sys.executable).parent / "dask"
#: Hostile students graded in the comparison: same hardening on a Dask worker.
HOSTILE = ("exit_kernel", "exit_politely", "read_gradebook", "patch_numpy_testing")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, what: str, timeout: float = 300.0, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


class Cluster:
    """A scheduler and named workers, each a process group of its own."""

    def __init__(self, where: Path):
        self.where = where
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            # A worker lost mid-notebook: its task runs once more elsewhere, then is recorded.
            DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
        self.procs: dict[str, subprocess.Popen] = {}
        self._start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port",
                                  str(self.port), "--no-dashboard"])

    def _start(self, name: str, cmd: list[str]) -> None:
        log = open(self.where / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True,
                                            env=self.env, cwd=self.where)
        log.close()

    def start_worker(self, name: str) -> None:
        (self.where / name).mkdir(exist_ok=True)
        self._start(name, [str(DASK), "worker", self.address, "--name", name, "--nthreads", "1",
                           "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                           "--local-directory", str(self.where / name)])

    def wait_for_workers(self, n: int) -> dict[str, str]:
        """Wait until ``n`` workers are registered; ``{name: address}``."""
        with distributed.Client(self.address, timeout=120) as client:
            client.wait_for_workers(n, timeout=300)
            workers = client.scheduler_info(n_workers=-1)["workers"]
            return {str(w["name"]): addr for addr, w in workers.items()}

    def grading_children(self, name: str) -> list:
        """The grading processes a worker started (they live in their own session)."""
        try:
            tree = psutil.Process(self.procs[name].pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p for p in tree if _cmdline_has(p, "autograder.worker")]

    def running_a_kernel(self, name: str) -> bool:
        """Whether worker ``name`` is mid-notebook: a kernel runs under one of its grading processes."""
        return any(_runs_a_kernel(child) for child in self.grading_children(name))

    def kill(self, name: str) -> list[int]:
        """SIGKILL a worker's process group (nanny and worker); returns its grading processes."""
        children = [p.pid for p in self.grading_children(name)]
        try:
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.procs[name].wait(timeout=60)
        return children

    def close(self) -> None:
        for name in reversed(list(self.procs)):
            try:
                os.killpg(self.procs[name].pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.procs[name].wait(timeout=60)


def _runs_a_kernel(proc) -> bool:
    try:
        return any(_cmdline_has(k, "ipykernel") for k in proc.children(recursive=True))
    except psutil.NoSuchProcess:
        return False


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmdline_has(proc, text: str) -> bool:
    try:
        return any(text in part for part in proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


@contextmanager
def dask_cluster(where: Path, workers=("w1", "w2")):
    where.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(where)
    try:
        for name in workers:
            cluster.start_worker(name)
        cluster.workers = cluster.wait_for_workers(len(workers))
        yield cluster
    finally:
        cluster.close()


def _selected() -> list[str]:
    import classbuild

    return classbuild.selected_assignments()


def _example_class(out: Path, graded_class, names: list[str]) -> list[str]:
    """The bundled example class, copied from the shared graded class (tests/conftest.py),
    plus a few hostile students of the first notebook; returns the example students."""
    examples = [e["student"] for e in graded_class.entries
                if e["kind"] == "example" and e["assignment"] in names]
    for e in graded_class.entries:
        if e["student"] in examples:
            shutil.copytree(graded_class.incoming / e["student"] / e["assignment"],
                            out / e["student"] / e["assignment"])
    if A01 in names:
        for student in HOSTILE:
            nb = make_submission(A01, read_answers(EXAMPLES / "hostile" / A01 / f"{student}.py"))
            target = out / student / A01 / f"{A01}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
    return sorted(set(examples))


#: A grading process's private course folder (/tmp/autograder-grader-PID-XXXXXXXX), which
#: the kernel guard names in its flags: a different one in every grading process.
_PRIVATE = re.compile(r"/[\w/.-]*?autograder-grader-\d{7}-\w{8}")


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")


def _read_csv(path: Path) -> list[dict]:
    """grades.csv's rows; in the message column the numbers are masked: a timed part's
    message quotes the times and the values of that grading's fresh random inputs (every
    other column, points included, must be equal)."""
    with open(path, newline="") as f:
        rows = [{k: _PRIVATE.sub("<private>", v) for k, v in row.items()} for row in csv.DictReader(f)]
    for row in rows:
        row["message"] = _NUMBER.sub("#", row["message"])
    return rows


def _grade_table(db: Path, students=None) -> list[tuple]:
    """The gradebook's grades (of ``students`` only, when given)."""
    con = sqlite3.connect(db)
    try:
        rows = sorted(con.execute(
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
    return rows if students is None else [r for r in rows if r[0] in students]


def _grade(incoming: Path, ws: Path, names: list[str], **kwargs):
    rows, results = grade_class(incoming, ws, names, sqlite_url(ws / "gradebook.db"), workers=2,
                                progress=False, quiet=True, **kwargs)
    return rows, {(r.student, r.assignment): r for r in results}


@pytest.fixture(scope="module")
def example_class(tmp_path_factory, graded_class):
    """The example class, and its grades from the local workers: the shared graded class
    (tests/conftest.py) graded these very notebooks, so they are not graded again here."""
    root = tmp_path_factory.mktemp("cluster")
    names = _selected()
    incoming = root / "incoming"
    students = _example_class(incoming, graded_class, names)
    local_csv = [r for r in _read_csv(graded_class.workspace / "grades.csv")
                 if r["student"] in students]
    local_table = _grade_table(graded_class.workspace / "gradebook.db", set(students))
    results = {(s, a): graded_class.results[(s, a)] for s, a in graded_class.results
               if s in students}
    hostile = [s for s in HOSTILE if (incoming / s).exists()]
    return {"root": root, "incoming": incoming, "names": names, "students": students,
            "hostile": hostile, "csv": local_csv, "table": local_table, "results": results}


def _same_as_local(example_class, ws: Path, names, students=None) -> None:
    """grades.csv and the gradebook of ``ws`` equal the local run's, for the example
    students graded there (``students``, default: all of them)."""
    students = set(example_class["students"] if students is None else students)
    got = [r for r in _read_csv(ws / "grades.csv") if r["student"] in students]
    want = [r for r in example_class["csv"] if r["student"] in students and r["assignment"] in names]
    assert got == want
    table = [r for r in example_class["table"] if r[0] in students]
    if set(names) != set(example_class["names"]):
        table = [r for r in table if r[1] in names]
    assert _grade_table(ws / "gradebook.db", students) == table


def test_a_real_two_worker_cluster_gives_exactly_the_local_grades(example_class, tmp_path):
    names, incoming = example_class["names"], example_class["incoming"]
    with dask_cluster(tmp_path / "dask") as cluster:
        ws = tmp_path / "dask-ws"
        _, results = _grade(incoming, ws, names, cluster=cluster.address)
        # The hostile kernels (one kills itself) cost their own notebooks only: no worker lost.
        assert len(cluster.wait_for_workers(2)) == 2
        logs = sorted((tmp_path / "dask").rglob("autograder-*.log"))
        assert logs, "the Dask workers' grading processes left no log"
    _same_as_local(example_class, ws, names)
    assert all(r.ok for r in results.values()), [r for r in results.values() if not r.ok]
    everyone = set(example_class["results"]) | {(s, A01) for s in example_class["hostile"]}
    assert set(results) == everyone
    for student in example_class["hostile"]:  # graded, and recorded in the gradebook
        assert _grade_table(ws / "gradebook.db", {student}), student
    # Every submission was graded on the cluster, and its feedback written here.
    for student, assignment in results:
        assert (ws / "feedback" / student / assignment / f"{assignment}.html").exists()


def test_a_worker_killed_mid_notebook_loses_nothing(example_class, tmp_path):
    names = [A01] if A01 in example_class["names"] else example_class["names"][:1]
    incoming = example_class["incoming"]
    ws = tmp_path / "ws"
    out: dict = {}
    with dask_cluster(tmp_path / "dask") as cluster:
        import threading

        def grade() -> None:
            try:
                out["graded"] = _grade(incoming, ws, names, cluster=cluster.address)
            except BaseException as err:  # noqa: BLE001 (reported below)
                out["error"] = err

        thread = threading.Thread(target=grade)
        thread.start()
        # After w1's first task started: a kernel runs under its grading process.
        _wait(lambda: cluster.running_a_kernel("w1") or "error" in out, "a notebook on w1")
        orphans = cluster.kill("w1")
        thread.join(timeout=1800)
        assert not thread.is_alive(), "grading did not finish after a worker was killed"
        # The killed worker's grading processes (their own session) die with it.
        _wait(lambda: not any(_alive(p) for p in orphans),
              "the killed worker's grading processes to end", timeout=60)
    assert "error" not in out, out.get("error")
    _, results = out["graded"]
    local = {k for k in example_class["results"] if k[1] in names}
    local |= {(s, A01) for s in example_class["hostile"] if A01 in names}
    assert set(results) == local, "every submission graded, once"
    assert all(r.ok for r in results.values()), [r for r in results.values() if not r.ok]
    _same_as_local(example_class, ws, names)
    # Each submission is in the gradebook once, with every grade cell once.
    table = _grade_table(ws / "gradebook.db")
    assert len(table) == len({row[:3] for row in table})
    assert {row[0] for row in table} == {s for s, _ in local}


def test_a_task_whose_workers_are_lost_twice_is_recorded_with_its_reason(tmp_path):
    incoming = tmp_path / "incoming"
    target = incoming / "ana" / A01 / f"{A01}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(make_submission(A01, Answers(use_solutions=True)), target)
    out: dict = {}
    with dask_cluster(tmp_path / "dask") as cluster:
        import threading

        def grade() -> None:
            out["graded"] = _grade(incoming, tmp_path / "ws", [A01], cluster=cluster.address)

        thread = threading.Thread(target=grade)
        thread.start()
        first = _wait(lambda: next((w for w in ("w1", "w2") if cluster.running_a_kernel(w)), None),
                      "the notebook to start on a worker")
        cluster.kill(first)
        second = "w2" if first == "w1" else "w1"
        _wait(lambda: cluster.running_a_kernel(second), f"the retry to start on {second}")
        cluster.kill(second)
        thread.join(timeout=600)
        assert not thread.is_alive()
    _, results = out["graded"]
    result = results[("ana", A01)]
    assert not result.ok
    assert "Dask worker grading it was lost, 2 time(s)" in result.reason, result.reason
    rows = _read_csv(tmp_path / "ws" / "grades.csv")
    assert rows and all(r["status"] == "failed" and r["points"] == "0" for r in rows)
    assert all("lost" in r["reason"] for r in rows)


def test_a_grading_process_that_dies_does_not_lose_the_worker(tmp_path):
    """A kernel that kills the process grading it (as one can without the sandbox; done
    here from outside, twice, since the kernel guard refuses it from student code) costs
    that notebook only: it is tried once more, then recorded with its reason; the Dask
    worker stays and grades the next one. Through the command line, one table."""
    incoming = tmp_path / "incoming"
    for student in ("ana", "bo"):
        target = incoming / student / A01 / f"{A01}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(make_submission(A01, Answers(use_solutions=True)), target)
    with dask_cluster(tmp_path / "dask", workers=("w1",)) as cluster:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "grade", str(incoming), "--assignment", A01,
             "--workspace", str(tmp_path / "ws"), "--cluster", cluster.address, "--no-progress"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, AUTOGRADER_NO_VENV="1"))
        killed = set()
        for _ in range(2):  # the first attempt, then the retry on a fresh grading process
            victim = _wait(lambda: next((c for c in cluster.grading_children("w1")
                                         if c.pid not in killed and _runs_a_kernel(c)), None),
                           "a grading process mid-notebook")
            killed.add(victim.pid)
            os.killpg(victim.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, stderr[-3000:]
        assert list(cluster.wait_for_workers(1)) == ["w1"]
        assert cluster.procs["w1"].poll() is None, "the Dask worker died"
    rows = _read_csv(tmp_path / "ws" / "grades.csv")
    failed = {r["student"] for r in rows if r["status"] == "failed"}
    assert len(failed) == 1, rows
    (student,) = failed
    mine = [r for r in rows if r["student"] == student]
    assert all(r["points"] == "0" and "grading process died twice" in r["reason"] for r in mine)
    other = [r for r in rows if r["student"] != student]
    assert other and all(r["status"] == "graded" and r["points"] == r["max_points"] for r in other)
    assert re.search(rf"^{student}\b.*not graded: the grading process died twice", stdout, re.MULTILINE)


def test_a_local_cluster_started_by_the_pipeline(example_class, tmp_path):
    """``--cluster local:N``: a LocalCluster of N worker processes, started and stopped."""
    names = [A01] if A01 in example_class["names"] else example_class["names"][:1]
    incoming = tmp_path / "incoming"
    two = [s for s in example_class["students"] if (example_class["incoming"] / s / names[0]).exists()]
    two = [s for s in two if s.endswith(("-perfect", "-blank"))] or two[:2]
    for student in two:
        shutil.copytree(example_class["incoming"] / student / names[0], incoming / student / names[0])
    _, results = _grade(incoming, tmp_path / "ws", names, cluster="local:1")
    assert set(results) == {(s, names[0]) for s in two}
    assert all(r.ok for r in results.values())
    _same_as_local(example_class, tmp_path / "ws", names, two)


@pytest.mark.parametrize("spec", ["local:0", "local:two"])
def test_bad_cluster_arguments_give_one_line_errors(tmp_path, spec):
    incoming = tmp_path / "incoming"
    target = incoming / "ana" / A01 / f"{A01}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(make_submission(A01, Answers()), target)
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(incoming),
                           "--assignment", A01, "--workspace", str(tmp_path / "ws"),
                           "--cluster", spec, "--no-progress"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, AUTOGRADER_NO_VENV="1"))
    assert proc.returncode == 2
    assert "expected local:N" in proc.stderr and "Traceback" not in proc.stderr


def test_the_cluster_extra_is_pinned_alike_in_pyproject_and_environment_yml():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (pin,) = project["optional-dependencies"]["cluster"]
    assert pin.startswith("distributed>=") and "<" in pin
    assert pin in project["optional-dependencies"]["test"]
    assert pin in (ROOT / "environment.yml").read_text()
