"""nbgrader settings of the course (nbgrader reads this file from the course root).

The grading pipeline (``python -m autograder``) runs nbgrader on a workspace folder
(``workspace/`` by default, never committed) and loads this file there too.
"""

c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "convolution-from-scratch"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What students see in a solution cell.
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every notebook runs in at most 15 s (05: 30 s) on 2 cores; these are safety nets.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# ---------------------------------------------------------------------------------------
# The judge (before the sanitize block, which stays last): `nbgrader autograde` and
# formgrader's Autograde button run each test cell in nbgrader's own process, never in the
# student's kernel, and the kernel in the grading sandbox (autograder/judge.py). The
# pipeline (`python3 -m autograder`) sets up its own workers the same way. Set
# COURSE_JUDGE=0 for nbgrader's plain in-kernel tests.
import os as _os  # noqa: E402
import sys as _sys  # noqa: E402

_here = _os.path.dirname(_os.path.abspath(__file__))  # noqa: F821 (set by traitlets)
if _os.path.isdir(_os.path.join(_here, "autograder")) and _here not in _sys.path:
    _sys.path.insert(0, _here)
if _os.environ.get("COURSE_JUDGE", "1") != "0":
    from autograder.judge import harden_autograde as _harden  # noqa: E402

    # The kernelspec goes to a folder of this process only (None), removed at its exit.
    _judge = _harden(c, None, hide=[_here], once=True)
    if not _judge["sandbox"]:
        print(f"[course] WARNING: {_judge['message']}", file=_sys.stderr)

# ---------------------------------------------------------------------------------------
# Safe outputs and safe feedback (keep this block last: it builds on the chains above).
# The same for `nbgrader autograde` / `generate_feedback` on the command line, for
# formgrader's Autograde and Generate Feedback buttons and for `python3 -m autograder`.
import os as _os  # noqa: E402
import sys as _sys  # noqa: E402

# The course's packages (`autograder`, `course`) from this folder, also when the project
# is not installed; and nbgrader's own `alembic` (it runs it on a new gradebook) from the
# environment nbgrader runs in, also when that environment was not activated.
_here = _os.path.dirname(_os.path.abspath(__file__))  # noqa: F821 (set by traitlets)
if _os.path.isdir(_os.path.join(_here, "autograder")) and _here not in _sys.path:
    _sys.path.insert(0, _here)
_bin = _os.path.dirname(_sys.executable)
if _bin not in _os.environ.get("PATH", "").split(_os.pathsep):
    _os.environ["PATH"] = _bin + _os.pathsep + _os.environ.get("PATH", "")

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from autograder.feedback import SafeFeedback  # noqa: E402
from autograder.sanitize import SanitizeNotebook, add_to_autograde  # noqa: E402

# Autograde: outputs and student markdown keep text and images only, right after the
# notebook runs, so the autograded notebook formgrader shows cannot run a script.
add_to_autograde(c)
# Feedback: nbgrader's own generator and layout; the hidden tests and tracebacks are
# removed (nbgrader issue #917), each failed part says what failed, and the outputs are
# cleaned as above.
c.GenerateFeedback.preprocessors = [GetGrades, SafeFeedback, SanitizeNotebook,
                                    CSSHTMLHeaderPreprocessor]
