"""A grading worker: reads tasks as JSON lines on stdin, answers one JSON line each.

Started by :mod:`autograder.pipeline`, one process per worker. Each task autogrades one
student's assignment with nbgrader's API in the shared workspace and gradebook, then
writes that student's feedback. Everything nbgrader logs goes to stderr (a log file).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
import traceback


def main() -> int:
    root, db_url = sys.argv[1], sys.argv[2]
    # Our answers go to the real stdout only; anything else printed goes to the log.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from pathlib import Path

    from autograder.feedback import write_feedback
    from autograder.integrity import runtime_flags, scan
    from autograder.nbg import api_for

    api = api_for(root, db_url)
    for line in sys.stdin:
        task = json.loads(line)
        start = time.monotonic()
        result = {"student": task["student"], "assignment": task["assignment"]}
        try:
            out = api.autograde(task["assignment"], task["student"], force=True, create=True)
            result["ok"] = bool(out.get("success"))
            if not result["ok"]:
                result["reason"] = (out.get("error") or "nbgrader autograde failed").strip()
            else:
                write_feedback(root, db_url, task["assignment"], task["student"])
        except Exception as err:  # one student's failure never stops the others
            result["ok"] = False
            result["reason"] = f"{type(err).__name__}: {err}"
            traceback.print_exc()
        try:  # tampering is reported whatever the grading gave
            a, st = task["assignment"], task["student"]
            flags = scan(Path(root, "submitted", st, a, f"{a}.ipynb"),
                         Path(root, "release", a, f"{a}.ipynb"), a)
            graded = Path(root, "autograded", st, a, f"{a}.ipynb")
            if graded.exists():
                flags += runtime_flags(graded)
            result["flags"] = [dataclasses.asdict(f) for f in flags]
        except Exception as err:
            result["flags"] = [{"cell_index": -1, "grade_id": None, "line": None,
                                "kind": "scan-error", "message": f"integrity scan failed: {err}"}]
        result["seconds"] = round(time.monotonic() - start, 3)
        answers.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
