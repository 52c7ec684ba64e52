"""The commands of ``python -m autograder`` (run inside the project's environment)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.paths import DEFAULT_WORKSPACE, EXAMPLES, ROOT, assignments


class UserError(Exception):
    """A problem the person running the command can fix; printed as one line."""


def _assignment_list(given: list[str] | None) -> list[str]:
    known = assignments()
    if not given or given == ["all"]:
        return known
    unknown = [a for a in given if a not in known]
    if unknown:
        raise UserError(f"unknown assignment {', '.join(unknown)}; known: {', '.join(known)}")
    return given


def _db_url(args, workspace: Path) -> str:
    from autograder.nbg import sqlite_url

    return args.db or sqlite_url(workspace / "gradebook.db")


def grade_class(submitted: Path, workspace: Path, names: list[str], db_url: str, workers: int,
                progress: bool = True, quiet: bool = False, limits=None, cluster=None,
                students: list[str] | None = None, force: bool = False):
    """Grade a submitted/ folder into ``workspace``; return (rows, results).

    Incremental (:mod:`autograder.incremental`): a submission whose files, assignment
    source, due date and grading settings are unchanged since it was last graded in this
    workspace is reused as it is, when the gradebook, its autograded notebook and its
    feedback still hold what that grading left. ``force`` regrades every submission;
    ``students`` grades only those students (always), and keeps everyone else's last
    results in the table. ``cluster`` grades on a Dask cluster (see
    :mod:`autograder.engines`); without it, ``workers`` local grading processes.
    """
    from dataclasses import asdict

    from autograder.apply import has_answer
    from autograder.incremental import GradingState, settings_digest, submission_key
    from autograder.pipeline import (
        Result,
        Task,
        copy_submissions,
        due_dates,
        prepare_workspace,
        read_grades,
        run_tasks,
        source_bundle,
        submission_files,
    )
    from autograder.report import integrity_section, summary_table, write_csv
    from autograder.sandbox import Limits

    workspace = Path(workspace).resolve()
    limits = limits or Limits()
    for student in students or []:  # before anything is written
        if not (Path(submitted) / student).is_dir():
            raise ValueError(f"no folder for student {student} in {submitted}")
    prepare_workspace(workspace, names, db_url, reuse=not force)
    selected = sorted(set(students)) if students else None
    tasks, known = copy_submissions(submitted, workspace, names, students=selected)

    state = GradingState.load(workspace)
    settings = settings_digest(limits, workspace)
    sources = {n: source_bundle(workspace, n)["hash"] for n in names}
    due = due_dates(db_url, names)
    keys, grade, again, reused = {}, [], [], []
    held = _held_scores(db_url, names)
    for task in tasks:
        try:
            files = submission_files(workspace, task)
        except ValueError:
            grade.append(task)  # run_tasks explains it
            continue
        keys[task] = submission_key(settings, sources[task.assignment], due.get(task.assignment, ""),
                                    files)
        entry = state.get(task.student, task.assignment)
        if force or selected or not entry or entry.get("key") != keys[task] or not entry["result"]["ok"]:
            grade.append(task)
        elif _still_held(workspace, task, entry, held.get((task.student, task.assignment))):
            reused.append(Result.from_dict(entry["result"]))
        elif has_answer(workspace, task.student, task.assignment):
            again.append(task)
        else:
            grade.append(task)
    if reused and not quiet:
        print(f"{len(reused)} of {len(tasks)} submissions are unchanged since they were last graded "
              "here: reused (--force regrades them)", file=sys.stderr)

    graded_now = {}

    def record(graded) -> None:
        r = graded.result
        graded_now[(r.student, r.assignment)] = (asdict(r), graded)

    results = run_tasks(grade, workspace, db_url, workers, limits=limits, progress=progress,
                        cluster=cluster, reapply=again, record=record)
    results.extend(reused)
    by_key = {(r.student, r.assignment): r for r in results}
    for k in known:
        if (k.student, k.assignment) in by_key:
            by_key[(k.student, k.assignment)].notes.extend(k.notes)
            by_key[(k.student, k.assignment)].flags.extend(k.flags)
        else:
            results.append(k)
            by_key[(k.student, k.assignment)] = k
    if selected:  # everyone else: as last graded here
        for st, a, entry in list(state.items()):
            if a in names and (st, a) not in by_key and "final" in entry:
                results.append(Result.from_dict(entry["final"]))
    results.sort(key=lambda r: (r.student, r.assignment))

    scores = _held_scores(db_url, names)
    for r in results:
        key = (r.student, r.assignment)
        if key in graded_now:
            snapshot, graded = graded_now[key]
            if r.ok and snapshot["ok"]:
                state.put(r.student, r.assignment, key=keys.get(Task(*key), ""), result=snapshot,
                          final=asdict(r), scores=scores.get(key, {}), autograded=graded.autograded,
                          feedback=graded.feedback)
            else:
                state.drop(*key)
        elif any(k.student == r.student and k.assignment == r.assignment and not k.ok for k in known):
            state.drop(*key)
        elif state.get(*key) is not None:
            state.update(r.student, r.assignment, final=asdict(r))
    state.save()

    rows = read_grades(db_url, names)
    write_csv(workspace / "grades.csv", rows, results, names)
    if not quiet:
        print(summary_table(rows, results, names))
        print()
        print(integrity_section(results))
        print(f"\ngrades: {workspace / 'grades.csv'}\nfeedback: {workspace / 'feedback'}"
              f"\ngradebook: {db_url}")
    return rows, results


def _held_scores(db_url: str, names: list[str]) -> dict[tuple[str, str], dict[str, float | None]]:
    """The autograder's scores in the gradebook, per submission and ``notebook/grade id``."""
    from autograder.pipeline import gradebook_rows

    held: dict[tuple[str, str], dict[str, float | None]] = {}
    for student, assignment, notebook, grade_id, _, _, auto, _ in gradebook_rows(db_url, names):
        held.setdefault((student, assignment), {})[f"{notebook}/{grade_id}"] = auto
    return held


def _still_held(workspace: Path, task, entry: dict, scores: dict | None) -> bool:
    """Whether the gradebook, autograded notebook and feedback hold what ``entry`` recorded."""
    from autograder.incremental import file_digest

    if not scores or scores != entry.get("scores"):
        return False
    graded = workspace / "autograded" / task.student / task.assignment
    feedback = workspace / "feedback" / task.student / task.assignment
    return (all(file_digest(graded / n) == h for n, h in entry.get("autograded", {}).items())
            and bool(entry.get("autograded"))
            and all(file_digest(feedback / n) == h for n, h in entry.get("feedback", {}).items()))


def write_examples(out: Path, names: list[str], hostile: bool = False) -> list[Path]:
    """Write the bundled example class as out/<student>/<assignment>/<assignment>.ipynb.

    With ``hostile``, add the hostile students (autograder/examples/hostile/) and the
    broken submissions (autograder/broken.py) of the first assignment.
    """
    import nbformat

    from autograder.answers import make_submission, read_answers
    from autograder.broken import write_broken

    written = []
    folders = [(name, EXAMPLES / name) for name in names]
    if hostile:
        folders += [(name, EXAMPLES / "hostile" / name) for name in names]
    for name, folder in folders:
        for answer_file in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            student = answer_file.stem
            nb = make_submission(name, read_answers(answer_file))
            target = Path(out) / student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
            written.append(target)
    if hostile and names:
        for student in write_broken(out, names[0]):
            written.append(Path(out) / student / names[0])
    return written


def _limits(args):
    from autograder.sandbox import GIB, Limits

    if args.memory_gib <= 0 or args.cell_timeout <= 0 or args.notebook_timeout <= 0:
        raise UserError("--memory-gib, --cell-timeout and --notebook-timeout must be positive")
    return Limits(memory_bytes=int(args.memory_gib * GIB), cell_timeout=args.cell_timeout,
                  notebook_timeout=args.notebook_timeout, sandbox=not args.no_sandbox)


def cmd_release(args) -> int:
    from autograder.nbg import generate_release

    names = _assignment_list(args.assignments)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate_release(names, out=Path(tmp))
            stale = [n for n in names if _tree_differs(Path(tmp) / n, ROOT / "release" / n)]
        if stale:
            print(f"release/ is out of date for: {', '.join(stale)}; run: python -m autograder release")
            return 1
        print("release/ is up to date")
        return 0
    for path in generate_release(names):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _tree_differs(a: Path, b: Path) -> bool:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()} if b.exists() else set()
    return files_a != files_b or any((a / f).read_bytes() != (b / f).read_bytes() for f in files_a)


def cmd_grade(args) -> int:
    names = _assignment_list(args.assignment)
    workspace = Path(args.workspace)
    source = Path(args.submissions)
    if not source.exists():
        raise UserError(f"{source} does not exist: give a submitted/ folder or a .zip")
    if source.is_file():
        from autograder.intake import unpack_zip

        source = unpack_zip(source, workspace / "incoming")
    grade_class(source, workspace, names, _db_url(args, workspace), args.workers,
                progress=not args.no_progress, limits=_limits(args), cluster=args.cluster,
                students=args.student, force=args.force)
    return 0


def cmd_demo(args) -> int:
    names = [n for n in _assignment_list(args.assignment) if (EXAMPLES / n).is_dir()]
    if not names:
        raise UserError("no example class is bundled (autograder/examples/ is empty)")
    workspace = Path(args.workspace)
    incoming = workspace / "incoming"
    if incoming.exists():
        shutil.rmtree(incoming)
    write_examples(incoming, names, hostile=not args.honest_only)
    grade_class(incoming, workspace, names, _db_url(args, workspace), args.workers,
                progress=not args.no_progress, limits=_limits(args), cluster=args.cluster,
                force=args.force)
    return 0


def cmd_examples(args) -> int:
    paths = write_examples(Path(args.out), _assignment_list(args.assignment), hostile=args.hostile)
    print(f"wrote {len(paths)} notebooks under {args.out}")
    return 0


SYSTEM_PACKAGES = {  # Debian package: a file that shows it is there
    "chromium": "/usr/bin/chromium",          # the browser test
    "bubblewrap": "/usr/bin/bwrap",           # the grading sandbox
    "postgresql": "/usr/lib/postgresql",      # the shared-gradebook test
}


def _ensure_system_packages() -> None:
    """Install the Debian packages the tests need when missing (as root with apt-get)."""
    missing = [pkg for pkg, path in SYSTEM_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"note: {', '.join(missing)} missing and cannot be installed here (needs root "
              "and apt-get); the tests that need them will fail", file=sys.stderr)
        return
    import fcntl
    import time

    print(f"Installing Debian's {', '.join(missing)} for the tests ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Another run (a second checkout, unattended-upgrades on a fresh machine) may hold
    # apt's locks: wait for them (DPkg::Lock::Timeout), one of our runs at a time (a lock
    # file), and try again a few times when apt still fails (a busy or flaky mirror).
    wait = ["-o", "DPkg::Lock::Timeout=300", "-o", "Acquire::Retries=3"]
    with open(os.path.join(tempfile.gettempdir(), "autograder-apt.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for attempt in range(3):
            missing = [pkg for pkg, path in SYSTEM_PACKAGES.items() if not Path(path).exists()]
            if not missing:
                return
            if attempt:
                time.sleep(10 * attempt)
            subprocess.run(["apt-get", *wait, "update", "-qq"], env=env, check=False,
                           stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", *wait, "install", "-y", "-qq", "--no-install-recommends",
                            *missing], env=env, check=False, stdout=subprocess.DEVNULL)
    missing = [pkg for pkg, path in SYSTEM_PACKAGES.items() if not Path(path).exists()]
    if missing:
        print(f"note: apt-get could not install {', '.join(missing)}; the tests that need "
              "them will fail", file=sys.stderr)


def cmd_lab(extra: list[str]) -> int:
    """Open JupyterLab on the student notebooks (release/)."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT / 'release'}", *extra]
    return subprocess.run(cmd, cwd=ROOT).returncode


def cmd_test(extra: list[str]) -> int:
    """Run the test suite in this environment; extra arguments go to pytest."""
    _ensure_system_packages()
    cmd = [sys.executable, "-m", "pytest", "-n", "auto", *extra]
    return subprocess.run(cmd, cwd=ROOT).returncode


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder",
                                description="Grade Convolution from Scratch with nbgrader.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, default_ws: Path):
        sp.add_argument("--workspace", default=str(default_ws),
                        help=f"nbgrader course folder for grading state (default: {default_ws})")
        sp.add_argument("--db", help="gradebook as an SQLAlchemy URL (default: SQLite in the "
                        "workspace), e.g. postgresql+psycopg://user@host/gradebook")
        sp.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="grading processes (default: number of cores)")
        sp.add_argument("--no-progress", action="store_true", help="no progress bar")
        sp.add_argument("--memory-gib", type=float, default=2.0,
                        help="memory cap of each grading kernel in GiB (default: 2)")
        sp.add_argument("--cell-timeout", type=int, default=60,
                        help="seconds one cell may run (default: 60)")
        sp.add_argument("--notebook-timeout", type=int, default=300,
                        help="wall-clock seconds for a whole notebook (default: 300)")
        sp.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without bubblewrap (memory cap and timeouts stay)")
        sp.add_argument("--cluster", metavar="ADDRESS",
                        help="grade on a Dask cluster: a scheduler address (tcp://host:8786) or "
                        "local:N for N local Dask workers (needs: pip install '.[cluster]'); "
                        "default: --workers local grading processes")
        sp.add_argument("--force", action="store_true",
                        help="regrade every submission (default: only those whose files, "
                        "assignment or grading settings changed since they were last graded)")

    sp = sub.add_parser("demo", help="grade the bundled example class and print the table")
    sp.add_argument("--assignment", nargs="+", help="assignments to grade (default: all)")
    sp.add_argument("--honest-only", action="store_true",
                    help="leave out the hostile and broken submissions")
    common(sp, DEFAULT_WORKSPACE / "demo")
    sp = sub.add_parser("grade", help="grade a class")
    sp.add_argument("submissions", help="folder in nbgrader's submitted/<student>/<assignment>/ "
                    "layout, or a zip of one")
    sp.add_argument("--assignment", nargs="+", help="assignments to grade (default: all)")
    sp.add_argument("--student", action="append", metavar="NAME",
                    help="grade only this student (repeatable); the others keep their last grades")
    common(sp, DEFAULT_WORKSPACE / "grading")
    sp = sub.add_parser("release", help="regenerate release/ from source/")
    sp.add_argument("assignments", nargs="*", help="assignments (default: all)")
    sp.add_argument("--check", action="store_true", help="only check release/ is up to date")
    sp = sub.add_parser("examples", help="write the example class to a folder")
    sp.add_argument("out", help="folder to write <student>/<assignment>/ into")
    sp.add_argument("--hostile", action="store_true", help="add hostile and broken submissions")
    sp.add_argument("--assignment", nargs="+", help="assignments (default: all)")
    sub.add_parser("test", help="run the test suite (extra arguments go to pytest)")
    sub.add_parser("lab", help="open JupyterLab on the student notebooks (extra arguments go to it)")
    return p


def run(argv: list[str]) -> int:
    if argv and argv[0] == "test":
        return cmd_test(argv[1:])
    if argv and argv[0] == "lab":
        return cmd_lab(argv[1:])
    if argv and argv[0] in ("text", "notebook", "clean"):  # authoring: autograder/nbtext.py
        from autograder.nbtext import main as authoring

        return authoring(argv)
    args = parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    commands = {"demo": cmd_demo, "grade": cmd_grade, "release": cmd_release,
                "examples": cmd_examples}
    from autograder.engines import ClusterError

    try:
        return commands[args.command](args)
    except (UserError, FileNotFoundError, ValueError, ClusterError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
