"""Grade a class: nbgrader's autograde on grading workers, applied to one gradebook.

Layout of a workspace (nbgrader's own, so formgrader can open it)::

    WORKSPACE/
        nbgrader_config.py     loads the course's config
        gradebook.db           (unless --db names another database)
        source/ release/       copied from the course and regenerated here
        submitted/<student>/<assignment>/<notebook>.ipynb
        autograded/ feedback/  written by the grading
        grades.csv             points per student, notebook, graded function and part
        logs/                  one log per local grading process
        .grading/              state.json (what was graded, by content hash) and the
                               workers' answers (results/), for incremental reruns

How a submission is graded (one code path, whoever grades it):

1. :func:`copy_submissions` copies it into ``submitted/`` (originals are never touched);
2. a grading process (:mod:`autograder.worker`), local or on a Dask worker
   (:mod:`autograder.engines`), autogrades it with nbgrader in a private course folder,
   hardened, and returns the autograded notebook;
3. this process applies the answer to the gradebook with nbgrader's own autograde, its
   Execute step replayed (:mod:`autograder.apply`): the only writer of the gradebook;
4. a reviewer thread makes the integrity flags, notes and feedback
   (:mod:`autograder.review`) while the next answers arrive.

:func:`autograder.cli.grade_class` adds incremental grading (:mod:`autograder.incremental`).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.cells import grade_ids
from autograder.nbg import EXCHANGE_FILES, extra_files  # the exchange's own files are no extras
from autograder.paths import assignments

__all__ = ["EXCHANGE_FILES", "GradeRow", "Result", "Task", "copy_submissions", "empty_gradebook",
           "gradebook_rows", "prepare_workspace", "read_grades", "run_tasks", "source_bundle"]



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
    #: One line per failed part: ``{"<notebook>/<grade id>": message}``.
    messages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def prepare_workspace(workspace: Path, names: list[str], db_url: str, reuse: bool = False) -> None:
    """Create the workspace and (re)generate each assignment's release into its gradebook.

    With ``reuse``, an assignment whose source is unchanged since it was last generated
    here, into the same gradebook, which still holds it, is not generated again.
    """
    from autograder.incremental import digest_files
    from autograder.nbg import generate_into, write_workspace_config
    from autograder.paths import SOURCE
    from autograder.worker import read_folder

    workspace = Path(workspace).resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    # The course's settings in a marked block; an instructor's own lines there are kept.
    write_workspace_config(workspace, db_url)
    if db_url.startswith("sqlite:///"):
        db = Path(db_url.removeprefix("sqlite:///"))
        if not db.exists():  # start from the migrated empty one: nbgrader's migrations take seconds
            db.parent.mkdir(parents=True, exist_ok=True)
            db.write_bytes(empty_gradebook(workspace))
    marker = workspace / ".grading" / "generated.json"
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        done = {}
    wanted = {name: {"source": digest_files(read_folder(SOURCE / name)), "db": db_url} for name in names}
    todo = [n for n in names if not (reuse and done.get(n) == wanted[n] and _generated(workspace, db_url, n))]
    if todo:
        generate_into(workspace, todo, db_url=db_url)
    done.update({n: wanted[n] for n in todo})
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(done), encoding="utf-8")


def _generated(workspace: Path, db_url: str, name: str) -> bool:
    """Whether the workspace's release and the gradebook hold assignment ``name``."""
    from nbgrader.api import Gradebook, MissingEntry

    if not (workspace / "release" / name / f"{name}.ipynb").exists():
        return False
    with Gradebook(db_url) as gb:
        try:
            return bool(gb.find_assignment(name).notebooks)
        except MissingEntry:
            return False


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


def drop_duplicate_cells(nb, ref) -> list[str]:
    """Keep one cell per nbgrader grade id (in place); notes on what was dropped.

    A cell copied and pasted with its metadata gives two cells with one grade id, which
    makes nbgrader refuse the whole notebook. Of a locked or graded cell (a test cell,
    say) the copy that reads as released (``ref``) is kept, else the first; the others are
    removed: nbgrader runs the released one anyway. Of a solution cell the first keeps
    its id and the copies become plain code cells: the student's code still runs, in
    order.
    """
    from autograder.cells import nbgrader_meta

    released = {nbgrader_meta(c).get("grade_id"): c.source for c in ref.cells
                if nbgrader_meta(c).get("grade_id")}
    by_id: dict[str, list[int]] = {}
    for i, cell in enumerate(nb.cells):
        gid = nbgrader_meta(cell).get("grade_id")
        if gid:
            by_id.setdefault(gid, []).append(i)
    drop, notes = set(), []
    for gid, where in by_id.items():
        if len(where) < 2:
            continue
        metas = [nbgrader_meta(nb.cells[i]) for i in where]
        if any(m.get("locked") or (m.get("grade") and not m.get("solution")) for m in metas):
            keep = next((i for i in where if nb.cells[i].source == released.get(gid)), where[0])
            drop |= {i for i in where if i != keep}
            notes.append(f"the cell {gid} appeared {len(where)} times (pasted?): "
                         f"graded once, the copies dropped")
        else:
            for i in where[1:]:
                nb.cells[i].metadata.pop("nbgrader", None)
            notes.append(f"the answer cell {gid} appeared {len(where)} times (pasted?): the "
                         "first is graded as the answer, the copies run as plain code cells")
    if drop:
        nb.cells = [c for i, c in enumerate(nb.cells) if i not in drop]
    return notes


def copy_submissions(submitted: Path, workspace: Path, names: list[str],
                     students: Iterable[str] | None = None) -> tuple[list[Task], list[Result]]:
    """Copy ``submitted/<student>/<assignment>/`` into the workspace; originals untouched.

    Returns the tasks to grade and the results known without grading: a notebook that
    cannot be read or is missing (zero, with the reason), or one saved under another
    name (graded under the right name, with a note). With ``students``, only those
    students' folders are copied (``ValueError`` for one that is not there).
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
    everyone = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not everyone:
        raise ValueError(f"{submitted} holds no student folders (expected <student>/<assignment>/)")
    if students is not None:
        missing = sorted(set(students) - set(everyone))
        if missing:
            raise ValueError(f"no folder for student {', '.join(missing)} in {submitted}")
        everyone = sorted(set(students))
    for student in everyone:
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
                ids = grade_ids(sources[name])
                candidates = [(p, _read(p)[0]) for p in found]
                ours = [(p, nb) for p, nb in candidates if nb is not None and grade_ids(nb) & ids]
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
            duplicates = drop_duplicate_cells(nb, releases[name])
            notes += duplicates
            restored = restore_deleted_cells(nb, releases[name])
            if restored or duplicates:
                nbformat.write(nb, expected)
            flags = [{"cell_index": -1, "grade_id": gid, "line": None, "kind": "locked-deleted",
                      "message": f"the locked cell {gid} was deleted (put back for grading)"}
                     for gid in restored]
            extra = extra_files(dst, {expected.name})
            if extra:
                notes.append(f"ignored extra files: {', '.join(extra)[:200]}")
            tasks.append(Task(student, name))
            if notes or flags:
                known.append(Result(student, name, True, "", notes=notes, flags=flags))
    return tasks, known


def empty_gradebook(workspace: Path) -> bytes:
    """An empty, migrated SQLite gradebook (made once per workspace and nbgrader version).

    Grading processes start their private gradebook from it: nbgrader makes a new one by
    running its database migrations, which takes seconds.
    """
    import nbgrader
    from nbgrader.api import Gradebook

    from autograder.nbg import sqlite_url

    folder = Path(workspace) / ".grading"
    path = folder / f"empty-gradebook-{nbgrader.__version__}.db"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"empty-gradebook-{time.monotonic_ns()}.tmp"
        with Gradebook(sqlite_url(tmp)):
            pass
        tmp.replace(path)
    return path.read_bytes()


def source_bundle(workspace: Path, assignment: str) -> dict:
    """An assignment's source folder in the workspace as ``{"hash", "files"}``."""
    from autograder.incremental import digest_files
    from autograder.worker import read_folder

    files = read_folder(Path(workspace) / "source" / assignment)
    return {"hash": digest_files(files), "files": files}


def submission_files(workspace: Path, task: Task) -> dict[str, bytes]:
    """The files of a submission's copy in the workspace (``ValueError`` when too large)."""
    from autograder.worker import MAX_SUBMISSION_BYTES, read_folder

    return read_folder(Path(workspace) / "submitted" / task.student / task.assignment,
                       limit=MAX_SUBMISSION_BYTES)


@dataclass
class Graded:
    """What a run learned about one submission, for the workspace's state."""

    result: Result
    autograded: dict[str, str]  # notebook file name -> hash
    feedback: dict[str, str]    # feedback file name -> hash


def _after(workspace: Path, db_url: str, result: Result) -> Graded:
    """Review one applied (or failed) submission: flags, notes, feedback, part messages."""
    from autograder.incremental import file_digest
    from autograder.report import part_messages
    from autograder.review import review

    ws, st, a = Path(workspace), result.student, result.assignment
    found = review(ws, db_url, st, a, result.ok)
    result.flags = found["flags"]
    result.notes.extend(found["notes"])
    graded = ws / "autograded" / st / a
    notebooks = sorted(graded.glob("*.ipynb")) if result.ok else []
    for path in notebooks:
        result.messages.update(part_messages(path))
    feedback = ws / "feedback" / st / a
    return Graded(result,
                  {p.name: file_digest(p) for p in notebooks},
                  {p.name: file_digest(p) for p in sorted(feedback.glob("*"))} if result.ok else {})


def run_tasks(tasks: list[Task], workspace: Path, db_url: str, workers: int, limits=None,
              progress: bool = True, cluster=None, reapply: Iterable[Task] = (),
              record: Callable[[Graded], None] | None = None) -> list[Result]:
    """Autograde every task and apply it to the gradebook; a failure is a result, not a crash.

    Parameters
    ----------
    tasks : list of Task
        Submissions to grade (already copied into ``workspace/submitted``).
    workspace : Path
        The workspace (:func:`prepare_workspace`).
    db_url : str
        The gradebook; only this process writes it.
    workers : int
        Local grading processes (without ``cluster``).
    limits : autograder.sandbox.Limits, optional
        Bounds every grading kernel; a notebook that takes longer than
        ``limits.notebook_timeout`` (wall clock) is stopped.
    progress : bool
        Show a tqdm progress bar on stderr.
    cluster : str or distributed.Client or cluster object, optional
        Grade on a Dask cluster instead (see :mod:`autograder.engines`).
    reapply : iterable of Task
        Submissions whose kept answer is applied again, without grading.
    record : callable, optional
        Called in this process with a :class:`Graded` for every task, once reviewed.

    Returns
    -------
    list of Result
        One per task and reapplied submission, sorted by student and assignment.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    from autograder.apply import Applier
    from autograder.engines import Job, make_engine
    from autograder.sandbox import MISSING_BWRAP, Limits, sandbox_available
    from autograder.worker import fingerprint

    workspace = Path(workspace).resolve()
    limits = limits or Limits()
    todo = sorted(set(tasks), key=lambda t: (t.assignment, t.student))
    again = sorted(set(reapply) - set(todo), key=lambda t: (t.assignment, t.student))
    if not todo and not again:
        return []
    if todo and limits.sandbox and not sandbox_available():
        print(f"warning: {MISSING_BWRAP}", file=sys.stderr)
    applier = Applier(workspace, db_url)
    reviewer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review")
    reviews = []
    bar = tqdm(total=len(todo) + len(again), desc="grading", unit="notebook",
               disable=not progress, file=sys.stderr)

    def finish(result: Result) -> None:
        # Flags, notes and feedback are made off the critical path, while answers arrive.
        reviews.append(reviewer.submit(_after, workspace, db_url, result))
        bar.set_postfix_str(f"{result.student}/{result.assignment}", refresh=False)
        bar.update(1)

    def apply(task: Task, seconds: float = 0.0) -> None:
        ok, reason = applier.apply(task.student, task.assignment)
        finish(Result(task.student, task.assignment, ok, reason, seconds))

    try:
        for task in again:
            apply(task)
        jobs, sources = [], {}
        for task in todo:
            if task.assignment not in sources:
                sources[task.assignment] = source_bundle(workspace, task.assignment)
            try:
                files = submission_files(workspace, task)
            except ValueError as err:
                finish(Result(task.student, task.assignment, False, f"not graded: {err}"))
                continue
            jobs.append(Job(task.student, task.assignment, files, sources[task.assignment]))
        if jobs:
            # nbgrader's own work around the kernel (copying, gradebook) needs some time too.
            timeout = limits.notebook_timeout + 60
            limits_json = json.dumps(dataclasses.asdict(limits))
            mine = fingerprint()
            with make_engine(cluster, workers, limits_json, timeout, workspace / "logs",
                             empty_gradebook(workspace)) as engine:
                for job, answer in engine.run(jobs):
                    task, seconds = Task(job.student, job.assignment), answer.get("seconds", 0.0)
                    theirs = answer.get("fingerprint")
                    if theirs and theirs != mine:
                        finish(Result(task.student, task.assignment, False,
                                      f"{answer.get('worker', 'a worker')} runs other course code "
                                      f"(fingerprint {theirs}, here {mine}): install the same "
                                      "version everywhere", seconds))
                    elif not answer.get("ok") or not answer.get("notebooks"):
                        finish(Result(task.student, task.assignment, False,
                                      answer.get("reason") or "no autograded notebook came back",
                                      seconds))
                    else:
                        applier.keep(task.student, task.assignment, answer["notebooks"],
                                     answer.get("files", {}))
                        apply(task, seconds)
        results = []
        for future in reviews:
            graded = future.result()
            results.append(graded.result)
            if record is not None:
                record(graded)
    finally:
        reviewer.shutdown(wait=True)
        bar.close()
    return sorted(results, key=lambda r: (r.student, r.assignment))


@dataclass(frozen=True)
class GradeRow:
    """Points of one part of one graded function of one submitted notebook."""

    student: str
    assignment: str
    notebook: str
    function: str
    points: float
    max_points: float
    part: str = "all"
    grade_id: str = ""


def gradebook_rows(db_url: str, names: list[str]) -> list[tuple]:
    """Every grade of the assignments ``names``, in one query.

    Rows ``(student, assignment, notebook, grade id, cell type, score, auto score, max
    score)``; ``score`` is nbgrader's (a manual grade wins over the autograder's).
    """
    from nbgrader.api import (
        Assignment,
        Gradebook,
        GradeCell,
        Notebook,
        SubmittedAssignment,
        SubmittedNotebook,
    )
    from nbgrader.api import Grade as GradeEntry

    if not names:
        return []
    with Gradebook(db_url) as gb:
        query = (gb.db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name,
                             GradeCell.name, GradeCell.cell_type, GradeEntry.score,
                             GradeEntry.auto_score, GradeCell.max_score)
                 .select_from(GradeEntry)
                 .join(SubmittedNotebook, GradeEntry.notebook_id == SubmittedNotebook.id)
                 .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                 .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                 .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                 .join(GradeCell, GradeEntry.cell_id == GradeCell.id)
                 .filter(Assignment.name.in_(list(names))))
        return [tuple(row) for row in query.all()]


def due_dates(db_url: str, names: list[str]) -> dict[str, str]:
    """Each assignment's due date in the gradebook, as text ("" when it has none)."""
    from nbgrader.api import Assignment, Gradebook

    with Gradebook(db_url) as gb:
        return {name: str(due or "") for name, due in
                gb.db.query(Assignment.name, Assignment.duedate).filter(Assignment.name.in_(names))}


def read_grades(db_url: str, names: list[str] | None = None) -> list[GradeRow]:
    """Points per student, notebook, graded function and part, from nbgrader's gradebook.

    Functions and parts come from the grade ids (:func:`autograder.cells.parse_grade_id`).
    """
    from autograder.cells import parse_grade_id

    rows = []
    for student, assignment, notebook, grade_id, cell_type, score, _, most in \
            gradebook_rows(db_url, names or assignments()):
        if cell_type != "code":
            continue
        function, part = parse_grade_id(grade_id)
        rows.append(GradeRow(student, assignment, notebook, function, float(score or 0.0),
                             float(most), part, grade_id))
    return sorted(rows, key=lambda r: (r.student, r.assignment, r.notebook, r.function, r.part))
