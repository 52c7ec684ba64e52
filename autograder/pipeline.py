"""Grade a class: nbgrader's autograde over worker processes, into one gradebook.

Layout of a workspace (nbgrader's own, so formgrader can open it)::

    WORKSPACE/
        nbgrader_config.py     loads the course's config
        gradebook.db           (unless --db names another database)
        source/ release/       copied from the course and regenerated here
        submitted/<student>/<assignment>/<notebook>.ipynb
        autograded/ feedback/  written by the grading
        grades.csv             points per student, notebook and graded function
        logs/                  one log per worker
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.paths import CONFIG, ROOT, assignments

__all__ = ["Task", "Result", "prepare_workspace", "copy_submissions", "run_tasks", "read_grades"]

WORKSPACE_CONFIG = f"""\
# Written by `python -m autograder`: the course's nbgrader settings, for this workspace.
c = get_config()  # noqa: F821
load_subconfig({str(CONFIG)!r})  # noqa: F821
c.CourseDirectory.root = {{root!r}}
c.CourseDirectory.db_url = {{db_url!r}}
"""


@dataclass(frozen=True, order=True)
class Task:
    student: str
    assignment: str


@dataclass
class Result:
    student: str
    assignment: str
    ok: bool
    reason: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)  # autograder.integrity.Flag as dicts


def prepare_workspace(workspace: Path, names: list[str], db_url: str) -> None:
    """Create the workspace and (re)generate each assignment's release into its gradebook."""
    from autograder.nbg import generate_into

    workspace = Path(workspace).resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "nbgrader_config.py").write_text(
        WORKSPACE_CONFIG.format(root=str(workspace), db_url=db_url))
    generate_into(workspace, names, db_url=db_url)


def _grade_ids(nb) -> set[str]:
    """The ids of a notebook's graded and solution cells (what makes it this assignment)."""
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") or c.metadata.get("nbgrader", {}).get("solution")}


def _read(path: Path):
    """``(notebook, None)`` if ``path`` is a readable notebook, else ``(None, why not)``."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4), None
    except UnicodeDecodeError:
        return None, f"{path.name} is not UTF-8 text (was it saved by another program?)"
    except Exception as err:  # nbformat raises several kinds for broken JSON
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"{path.name} is not a readable notebook ({first[:120]})"


def restore_deleted_cells(nb, ref) -> list[str]:
    """Put back into ``nb`` the locked cells of release ``ref`` a student deleted.

    nbgrader restores an edited locked cell but scores a deleted test cell as zero, which
    would cost a student who deleted a test by accident the points of a correct function.
    The cell is put back after the cell that precedes it in the release. Returns the ids.
    """
    import nbformat

    have = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    restored = []
    for i, cell in enumerate(ref.cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("locked") or meta.get("grade_id") in have:
            continue
        before = [c.metadata.get("nbgrader", {}).get("grade_id") for c in ref.cells[:i]]
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        anchor = next((ids.index(g) for g in reversed(before) if g and g in ids), -1)
        nb.cells.insert(anchor + 1, nbformat.from_dict(cell))
        have.add(meta["grade_id"])
        restored.append(meta["grade_id"])
    return restored


def copy_submissions(submitted: Path, workspace: Path, names: list[str]) -> tuple[list[Task], list[Result]]:
    """Copy ``submitted/<student>/<assignment>/`` into the workspace; originals untouched.

    Returns the tasks to grade and the results known without grading: a notebook that
    cannot be read or is missing (zero, with the reason), or one saved under another
    name (graded under the right name, with a note).
    """
    import nbformat

    submitted = Path(submitted)
    if not submitted.is_dir():
        raise FileNotFoundError(f"no folder {submitted}: expected submitted/<student>/<assignment>/")
    tasks, known = [], []
    sources = {name: nbformat.read(Path(workspace) / "source" / name / f"{name}.ipynb", as_version=4)
               for name in names}
    releases = {name: nbformat.read(Path(workspace) / "release" / name / f"{name}.ipynb", as_version=4)
                for name in names}
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not students:
        raise ValueError(f"{submitted} holds no student folders (expected <student>/<assignment>/)")
    for student in students:
        for name in names:
            src = submitted / student / name
            dst = Path(workspace) / "submitted" / student / name
            if dst.exists():
                shutil.rmtree(dst)
            if not src.is_dir():
                continue
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            expected = dst / f"{name}.ipynb"
            notes = []
            if expected.exists():
                nb, problem = _read(expected)
            else:
                found = sorted(dst.glob("*.ipynb"))
                ids = _grade_ids(sources[name])
                candidates = [(p, _read(p)[0]) for p in found]
                ours = [(p, nb) for p, nb in candidates if nb is not None and _grade_ids(nb) & ids]
                if len(ours) != 1:
                    listing = ", ".join(p.name for p in found) or "none"
                    known.append(Result(student, name, False,
                                        f"no notebook {expected.name} (found: {listing})"))
                    continue
                (path, nb), problem = ours[0], None
                path.rename(expected)
                notes.append(f"graded {path.name} as {expected.name} (saved under another name)")
            if problem:
                known.append(Result(student, name, False, problem))
                continue
            restored = restore_deleted_cells(nb, releases[name])
            if restored:
                nbformat.write(nb, expected)
            flags = [{"cell_index": -1, "grade_id": gid, "line": None, "kind": "locked-deleted",
                      "message": f"the locked cell {gid} was deleted (put back for grading)"}
                     for gid in restored]
            extra = sorted(p.name for p in dst.iterdir() if p != expected)
            if extra:
                notes.append(f"ignored extra files: {', '.join(extra)[:200]}")
            tasks.append(Task(student, name))
            if notes or flags:
                known.append(Result(student, name, True, "", notes=notes, flags=flags))
    return tasks, known


def add_students(db_url: str, students: Iterable[str]) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        for student in sorted(set(students)):
            gb.update_or_create_student(student)


class _Worker:
    def __init__(self, index: int, workspace: Path, db_url: str, threads: int = 1,
                 limits_json: str = "{}"):
        log_dir = Path(workspace) / "logs"
        log_dir.mkdir(exist_ok=True)
        self.log = open(log_dir / f"worker-{index}.log", "a", encoding="utf-8")  # noqa: SIM115
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        # Workers share the cores: one BLAS/OpenMP pool per core, not one per worker each.
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, str(threads))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.worker", str(workspace), db_url, limits_json],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            bufsize=1, start_new_session=True, env=env, cwd=str(workspace))
        self.task: Task | None = None
        self.started = 0.0

    def send(self, task: Task) -> None:
        self.task, self.started = task, time.monotonic()
        self.proc.stdin.write(json.dumps({"student": task.student, "assignment": task.assignment}) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.kill()
        else:
            self.log.close()


def run_tasks(tasks: list[Task], workspace: Path, db_url: str, workers: int,
              limits=None, progress: bool = True) -> list[Result]:
    """Autograde every task over ``workers`` processes; a failure is a result, not a crash.

    ``limits`` (an :class:`autograder.sandbox.Limits`) bounds every grading kernel; a
    notebook that takes longer than ``limits.notebook_timeout`` (wall clock) is stopped.
    """
    from tqdm import tqdm

    from autograder.sandbox import MISSING_BWRAP, Limits, sandbox_available

    limits = limits or Limits()
    if limits.sandbox and not sandbox_available():
        print(f"warning: {MISSING_BWRAP}", file=sys.stderr)
    limits_json = json.dumps(dataclasses.asdict(limits))
    # nbgrader's own work around the kernel (copying, gradebook, feedback) needs some time too.
    task_timeout = limits.notebook_timeout + 60
    todo = sorted(tasks, key=lambda t: (t.assignment, t.student))
    results: list[Result] = []
    if not todo:
        return results
    add_students(db_url, (t.student for t in todo))
    workers = max(1, min(workers, len(todo)))
    selector = selectors.DefaultSelector()
    pool: list[_Worker] = []
    bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress,
               file=sys.stderr)

    threads = max(1, (os.cpu_count() or 1) // workers)

    def start(index: int) -> _Worker:
        w = _Worker(index, workspace, db_url, threads, limits_json)
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)
        return w

    from concurrent.futures import ThreadPoolExecutor

    from autograder.review import review

    # Flags, notes and feedback are made here, off the workers' critical path.
    reviewer = ThreadPoolExecutor(max_workers=1)
    reviews = []

    def finish(w: _Worker, result: Result) -> None:
        results.append(result)
        reviews.append((result, reviewer.submit(review, workspace, db_url, result.student,
                                                result.assignment, result.ok)))
        w.task = None
        bar.set_postfix_str(f"{result.student}/{result.assignment}", refresh=False)
        bar.update(1)

    def replace(i: int, reason: str) -> _Worker:
        """Kill worker ``i``, record its task as failed with ``reason``, start a new one."""
        w = pool[i]
        selector.unregister(w.proc.stdout)
        w.kill()
        if w.task:
            finish(w, Result(w.task.student, w.task.assignment, False, reason,
                             round(time.monotonic() - w.started, 3)))
        pool[i] = start(i)
        return pool[i]

    try:
        pool = [start(i) for i in range(workers)]
        for w in pool:
            if todo:
                w.send(todo.pop(0))
        while any(w.task for w in pool):
            for key, _ in selector.select(timeout=1.0):
                w: _Worker = key.data
                line = w.proc.stdout.readline()
                if line:
                    data = json.loads(line)
                    finish(w, Result(data["student"], data["assignment"], data["ok"],
                                     data.get("reason", ""), data.get("seconds", 0.0)))
                else:  # the worker died: record it, start another in its place
                    w = replace(pool.index(w), f"the grading process died (exit code {w.proc.wait()})")
                if todo and w.task is None:
                    w.send(todo.pop(0))
            now = time.monotonic()
            for i, w in enumerate(pool):
                if w.task and now - w.started > task_timeout:
                    w = replace(i, f"grading took longer than {task_timeout:g} s and was stopped")
                    if todo:
                        w.send(todo.pop(0))
        for result, future in reviews:
            found = future.result()
            result.flags = found["flags"]
            result.notes.extend(found["notes"])
    finally:
        reviewer.shutdown(wait=True)
        bar.close()
        for w in pool:
            try:
                selector.unregister(w.proc.stdout)
            except (KeyError, ValueError):
                pass
            w.close()
        selector.close()
    return sorted(results, key=lambda r: (r.student, r.assignment))


@dataclass(frozen=True)
class GradeRow:
    student: str
    assignment: str
    notebook: str
    function: str
    points: float
    max_points: float


def read_grades(db_url: str, names: list[str] | None = None) -> list[GradeRow]:
    """Points per student, notebook and graded test cell, from nbgrader's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    names = names or assignments()
    with Gradebook(db_url) as gb:
        for name in names:
            try:
                assignment = gb.find_assignment(name)
            except MissingEntry:
                continue
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if grade.cell.cell_type != "code":
                            continue
                        rows.append(GradeRow(submission.student.id, name, nb.name,
                                             grade.name.removeprefix("test_"),
                                             float(grade.score or 0.0), float(grade.max_score)))
    return sorted(rows, key=lambda r: (r.student, r.assignment, r.notebook, r.function))
