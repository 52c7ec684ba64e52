"""Grading at scale: plain nbgrader, local workers, a Dask cluster, and an incremental rerun.

A class of --students submissions of one notebook (the bundled example answers, cycled),
timed in one run:

(a) plain nbgrader: ``nbgrader autograde ASSIGNMENT`` (sequential, no feedback, no sandbox);
(b) the pipeline (``autograder.cli.grade_class``) with 2 local grading processes, from an
    empty workspace: grading, applying to the gradebook, feedback, grades.csv;
(c) the same through a Dask ``LocalCluster`` of 2 single-threaded worker processes (the
    cluster is started first, as a running cluster would be; its start-up is shown apart);
(d) a rerun in (b)'s workspace after 3 submissions changed (incremental: 3 are graded).

Targets: (c) <= 1.1 x (b) (the engine's overhead is small), (d) <= 0.1 x (b).

    .venv/bin/python benchmarks/bench_scale.py [--students 60] [--assignment 01_convolution_by_hand]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from autograder.answers import Answers, make_submission, read_answers  # noqa: E402
from autograder.cli import grade_class  # noqa: E402
from autograder.nbg import sqlite_url  # noqa: E402
from autograder.paths import EXAMPLES  # noqa: E402
from autograder.pipeline import copy_submissions, prepare_workspace  # noqa: E402


def build_class(out: Path, assignment: str, students: int) -> list[str]:
    files = itertools.cycle(sorted((EXAMPLES / assignment).glob("*.py")))
    names = []
    for i in range(students):
        nb = make_submission(assignment, read_answers(next(files)))
        target = out / f"student{i:03d}" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        names.append(target.parent.parent.name)
    return names


def change_three(incoming: Path, assignment: str, students: list[str]) -> list[str]:
    """Three late fixes: three students hand in a new notebook (the solution, say)."""
    changed = students[:3]
    for student in changed:
        nb = make_submission(assignment, Answers(use_solutions=True))
        nbformat.write(nb, incoming / student / assignment / f"{assignment}.ipynb")
    return changed


def timed(label: str, times: dict, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    times[label] = time.perf_counter() - start
    print(f"  {label}: {times[label]:.1f} s", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--assignment", default="01_convolution_by_hand")
    args = parser.parse_args()
    a = args.assignment
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        incoming = tmp / "incoming"
        students = build_class(incoming, a, args.students)
        print(f"class: {args.students} submissions of {a}")

        plain = tmp / "plain"
        prepare_workspace(plain, [a], sqlite_url(plain / "gradebook.db"))
        copy_submissions(incoming, plain, [a])
        nbgrader = Path(sys.executable).parent / "nbgrader"
        timed("a", times, subprocess.run, [str(nbgrader), "autograde", a, "--force"], cwd=plain,
              check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        local = tmp / "local"
        _, results_b = timed("b", times, grade_class, incoming, local, [a],
                             sqlite_url(local / "gradebook.db"), 2, progress=False, quiet=True)

        from distributed import Client, LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
        client.wait_for_workers(2)
        times["cluster start"] = time.perf_counter() - start
        try:
            dask_ws = tmp / "dask"
            _, results_c = timed("c", times, grade_class, incoming, dask_ws, [a],
                                 sqlite_url(dask_ws / "gradebook.db"), 2, progress=False,
                                 quiet=True, cluster=client)
        finally:
            client.close()
            cluster.close()
        same = (local / "grades.csv").read_bytes() == (dask_ws / "grades.csv").read_bytes()

        changed = change_three(incoming, a, students)
        before = {s: (local / "autograded" / s / a / f"{a}.ipynb").stat().st_mtime_ns for s in students}
        timed("d", times, grade_class, incoming, local, [a], sqlite_url(local / "gradebook.db"), 2,
              progress=False, quiet=True)
        regraded = sorted(s for s in students
                          if (local / "autograded" / s / a / f"{a}.ipynb").stat().st_mtime_ns != before[s])
        shutil.rmtree(tmp, ignore_errors=True)

    failed = [r for r in [*results_b, *results_c] if not r.ok]
    b = times["b"]
    rows = [("(a) plain nbgrader autograde, sequential", times["a"], None),
            ("(b) pipeline, 2 local grading processes", b, None),
            ("(c) pipeline on a Dask LocalCluster, 2 workers", times["c"], 1.1),
            ("(d) rerun after 3 submissions changed", times["d"], 0.1)]
    print(f"\n{'run':50} {'seconds':>8} {'per nb':>7} {'x (b)':>6} {'x (a)':>6} {'target':>8}  ok")
    for label, seconds, target in rows:
        n = 3 if label.startswith("(d)") else args.students
        ok = "" if target is None else ("yes" if seconds / b <= target else "NO")
        print(f"{label:50} {seconds:8.1f} {seconds / n:7.2f} {seconds / b:6.2f} {seconds / times['a']:6.2f} "
              f"{'' if target is None else f'<= {target}':>8}  {ok}")
    print(f"\nDask LocalCluster start-up (not in (c)): {times['cluster start']:.1f} s")
    print(f"(c) gave the same grades.csv as (b): {'yes' if same else 'NO'}")
    print(f"(d) regraded: {', '.join(regraded)} (changed: {', '.join(changed)})")
    if failed:
        print(f"failed submissions: {failed}")
    return 0 if same and regraded == sorted(changed) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
