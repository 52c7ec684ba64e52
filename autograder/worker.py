"""A grading worker: reads tasks as JSON lines on stdin, answers one JSON line each.

Started by :mod:`autograder.pipeline`, one process per worker. Each task autogrades one
student's assignment with nbgrader's API in the shared workspace and gradebook (the
pipeline then reviews it: :mod:`autograder.review`). Everything nbgrader logs goes to
stderr (a log file).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback


def one_line_reason(out: dict) -> str:
    """nbgrader's failure (a log and a traceback) as one line an instructor can act on."""
    log_errors = [ln.split("]", 1)[-1].strip() for ln in (out.get("log") or "").splitlines()
                  if ln.startswith("[ERROR]") and "Traceback" not in ln and "see the the above" not in ln]
    tb_lines = [ln.strip() for ln in (out.get("error") or "").splitlines() if ln.strip()]
    last = tb_lines[-1] if tb_lines else ""
    detail = next((e for e in log_errors if "error processing" not in e.lower()), "")
    text = detail or last or "nbgrader autograde failed"
    return "nbgrader could not grade it: " + " ".join(text.split())[:300]


def main() -> int:
    root, db_url = sys.argv[1], sys.argv[2]
    limits_json = sys.argv[3] if len(sys.argv) > 3 else "{}"
    # Our answers go to the real stdout only; anything else printed goes to the log.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from pathlib import Path

    from autograder.guard import kernel_env
    from autograder.nbg import api_for
    from autograder.paths import ROOT
    from autograder.sandbox import Limits, configure

    api = api_for(root, db_url)
    limits = Limits(**json.loads(limits_json))
    if "autograder.guard" not in limits.extensions:
        limits.extensions = [*limits.extensions, "autograder.guard"]
    # Every kernel: sandboxed, capped, with the integrity guard loaded before student code;
    # the workspace (gradebook, other students) and the project (solutions) are hidden.
    configure(api.config, Path(root) / "logs" / f"sandbox-{os.getpid()}", limits,
              hide=[Path(root), ROOT], env=kernel_env())
    for line in sys.stdin:
        task = json.loads(line)
        start = time.monotonic()
        result = {"student": task["student"], "assignment": task["assignment"]}
        try:
            out = api.autograde(task["assignment"], task["student"], force=True, create=True)
            result["ok"] = bool(out.get("success"))
            if not result["ok"]:
                result["reason"] = one_line_reason(out)
        except Exception as err:  # one student's failure never stops the others
            result["ok"] = False
            result["reason"] = f"{type(err).__name__}: {err}"
            traceback.print_exc()
        result["seconds"] = round(time.monotonic() - start, 3)
        answers.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
