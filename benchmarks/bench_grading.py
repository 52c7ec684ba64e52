"""Grading a class: plain sequential `nbgrader autograde` against the pipeline.

Builds a class from the bundled example answer files (cycled over --students students,
each submitting every notebook: at least 24 submissions), then in one run times:

- plain nbgrader: `nbgrader autograde ASSIGNMENT` for each assignment, one after another
  (nbgrader's own command grades every student of an assignment sequentially);
- the pipeline (`autograder.pipeline.run_tasks`) with 1 worker and with 2 workers, which
  also writes each student's HTML feedback (plain nbgrader writes none).

Each run starts from a fresh workspace whose gradebook already holds the assignments, so
only grading is timed. Targets on 2 cores: 2 workers <= 0.6x plain nbgrader, 1 worker <= 1.1x.

    .venv/bin/python benchmarks/bench_grading.py [--students 6]
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

from autograder.answers import make_submission, read_answers  # noqa: E402
from autograder.nbg import sqlite_url  # noqa: E402
from autograder.paths import EXAMPLES, assignments  # noqa: E402
from autograder.pipeline import Task, copy_submissions, prepare_workspace, run_tasks  # noqa: E402


def build_class(out: Path, students: int) -> list[str]:
    names = [n for n in assignments() if (EXAMPLES / n).is_dir()]
    for name in names:
        files = itertools.cycle(sorted((EXAMPLES / name).glob("*.py")))
        for i in range(students):
            nb = make_submission(name, read_answers(next(files)))
            target = out / f"student{i:02d}" / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
    return names


def fresh_workspace(where: Path, incoming: Path, names: list[str]) -> tuple[Path, str, list[Task]]:
    if where.exists():
        shutil.rmtree(where)
    db = sqlite_url(where / "gradebook.db")
    prepare_workspace(where, names, db)
    tasks, known = copy_submissions(incoming, where, names)
    assert not [k for k in known if not k.ok], known
    return where, db, tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        names = build_class(tmp / "incoming", args.students)
        n = args.students * len(names)
        print(f"class: {args.students} students x {len(names)} notebooks = {n} submissions")
        times = {}

        ws, db, tasks = fresh_workspace(tmp / "plain", tmp / "incoming", names)
        nbgrader = Path(sys.executable).parent / "nbgrader"
        start = time.perf_counter()
        for name in names:
            subprocess.run([str(nbgrader), "autograde", name, "--force"], cwd=ws, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times["plain nbgrader autograde (sequential)"] = time.perf_counter() - start

        for workers in (1, 2):
            ws, db, tasks = fresh_workspace(tmp / f"pipe{workers}", tmp / "incoming", names)
            start = time.perf_counter()
            results = run_tasks(tasks, ws, db, workers=workers, progress=False)
            times[f"pipeline, {workers} worker{'s' if workers > 1 else ''} (+ feedback)"] = (
                time.perf_counter() - start)
            failed = [r for r in results if not r.ok]
            assert not failed, failed

    plain = times["plain nbgrader autograde (sequential)"]
    targets = {"pipeline, 1 worker (+ feedback)": 1.1, "pipeline, 2 workers (+ feedback)": 0.6}
    print(f"\n{'run':42} {'seconds':>8} {'per nb':>7} {'ratio':>6} {'target':>7}  ok")
    for label, seconds in times.items():
        ratio = seconds / plain
        target = targets.get(label)
        ok = "" if target is None else ("yes" if ratio <= target else "NO")
        print(f"{label:42} {seconds:8.1f} {seconds / n:7.2f} {ratio:6.2f} "
              f"{'' if target is None else f'<= {target}':>7}  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
