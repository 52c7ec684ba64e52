"""The judge (autograder/judge.py, agent.py): test cells run in the grader, never in the kernel.

Every test grades real submissions with nbgrader's autograde in real (sandboxed) kernels:

* the attacks of issue 14's table, rebuilt as submissions, earn nothing they did not earn;
* no hidden-test line reaches the kernel (``In``, ``Out``, history printed by a student);
* the honest example class of notebook 01 gets, part by part, the grade stock nbgrader
  gives it without the course's config (tests in the kernel).

A small assignment (``mini``) covers what notebook 01 has not: ``known_function``,
``speed_ratio`` and a hidden helper.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.answers import Answers, make_submission  # noqa: E402
from autograder.paths import EXAMPLES  # noqa: E402

NB01 = "01_convolution_by_hand"
HIDDEN_LINE = "A graded check beyond the visible ones"  # in every hidden part of notebook 01


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


_MINI_CELLS = [
    ("setup", dict(locked=True), """\
import numpy as np
from course.checks import assert_image_close, known_function, loop_conv2d_cost, speed_ratio
"""),
    ("double", dict(solution=True), """\
def double(x):
    ### BEGIN SOLUTION
    return 2.0 * np.asarray(x, dtype=np.float64)
    ### END SOLUTION
"""),
    ("test_double__computation", dict(grade=True, locked=True, points=2), '''\
"""Check that double doubles."""
assert_image_close(double(np.ones((2, 2))), np.full((2, 2), 2.0), "double(ones)")
### BEGIN HIDDEN TESTS
def _ref(x):
    return 2.0 * x


_rng = np.random.default_rng(3)
for _ in range(5):
    _x = _rng.standard_normal((4, 3))
    np.testing.assert_allclose(double(_x), _ref(_x))
    assert np.isclose(double(_x), _ref(_x)).all()
### END HIDDEN TESTS
'''),
    ("grad", dict(solution=True), """\
def grad(f, x, eps=1e-6):
    ### BEGIN SOLUTION
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        out[i] = (up - down) / (2 * eps)
    return out
    ### END SOLUTION
"""),
    ("test_grad", dict(grade=True, locked=True, points=1), '''\
"""Check that grad uses central differences."""
_f = known_function("quadratic", a=np.array([1.0, 2.0, 3.0]), b=np.array([0.5, 0.0, -1.0]))
np.testing.assert_allclose(grad(_f, np.array([1.0, -1.0, 2.0])), [2.5, -4.0, 11.0], rtol=1e-5)
'''),
    ("fast", dict(solution=True), """\
def fast(x, w):
    ### BEGIN SOLUTION
    from numpy.lib.stride_tricks import sliding_window_view
    windows = sliding_window_view(x, w.shape[2:], axis=(1, 2))
    return np.einsum("chwij,fcij->fhw", windows, w)
    ### END SOLUTION
"""),
    ("test_fast__speed", dict(grade=True, locked=True, points=1), '''\
"""Check that fast is at least 5x faster than a loop over pixels."""
import scipy.signal as _signal


def _verify(args, out):
    x, w = args
    want = np.array([sum(_signal.correlate2d(x[c], w[f, c], "valid") for c in range(x.shape[0]))
                     for f in range(w.shape[0])])
    assert_image_close(out, want, "fast(x, w)")


ratio, _, _ = speed_ratio(fast, lambda rng: (rng.standard_normal((2, 20, 20)),
                                             rng.standard_normal((3, 2, 3, 3))),
                          rounds=2, repeats=3, verify=_verify)
assert ratio >= 5, f"only {ratio:.1f}x faster"
'''),
]

MINI_POINTS = {"test_double__computation": 2, "test_grad": 1, "test_fast__speed": 1}


def _mini_notebook():
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for grade_id, kind, source in _MINI_CELLS:
        cell = new_code_cell(source)
        cell.metadata.update(_meta(grade_id, **kind))
        nb.cells.append(cell)
    return nb


class Course:
    """One nbgrader course folder with notebook 01 and ``mini`` generated."""

    def __init__(self, root: Path, nb01: bool = True):
        from autograder.nbg import generate_into, sqlite_url

        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        self.db_url = sqlite_url(root / "gradebook.db")
        src = root.parent / "src"
        (src / "mini").mkdir(parents=True, exist_ok=True)
        nbformat.write(_mini_notebook(), src / "mini" / "mini.ipynb")
        if nb01:
            generate_into(root, [NB01], db_url=self.db_url)
        generate_into(root, ["mini"], source=src, db_url=self.db_url)
        self._apis = {}

    def api(self, judged: bool):
        if judged not in self._apis:
            from autograder.judge import harden_autograde
            from autograder.nbg import api_for
            from autograder.sandbox import Limits

            old = os.environ.get("COURSE_JUDGE")
            os.environ["COURSE_JUDGE"] = "0"  # the course config without its judge block
            try:
                api = api_for(self.root, self.db_url)
            finally:
                if old is None:
                    os.environ.pop("COURSE_JUDGE")
                else:
                    os.environ["COURSE_JUDGE"] = old
            if judged:
                harden_autograde(api.config, self.root.parent / "work", Limits(cell_timeout=60),
                                 hide=[self.root])
            self._apis[judged] = api
        return self._apis[judged]

    def grade(self, assignment: str, student: str, nb, *, judged: bool = True):
        """Per-grade-cell scores, and the autograded notebook."""
        from nbgrader.api import Gradebook

        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
        result = self.api(judged).autograde(assignment, student, force=True, create=True)
        assert result["success"], result.get("log")
        with Gradebook(self.db_url) as gb:
            sub = gb.find_submission_notebook(assignment, assignment, student)
            scores = {g.name: g.score for g in sub.grades if g.max_score}
        graded = nbformat.read(self.root / "autograded" / student / assignment / f"{assignment}.ipynb",
                               as_version=4)
        return scores, graded


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return Course(tmp_path_factory.mktemp("judge") / "course")


def _release(course: Course, assignment: str) -> Path:
    return course.root / "release" / assignment / f"{assignment}.ipynb"


def _submission(course: Course, assignment: str, cells: dict[str, str], *, solutions=True,
                extra: str | None = None):
    nb = make_submission(assignment, Answers(use_solutions=solutions, cells=cells),
                         release=_release(course, assignment)) if assignment == NB01 else \
        _mini_submission(course, cells, solutions)
    if extra is not None:
        nb.cells.append(new_code_cell(extra))
    return nb


def _mini_submission(course: Course, cells: dict[str, str], solutions: bool):
    nb = nbformat.read(_release(course, "mini"), as_version=4)
    answers = {gid: re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", src, flags=re.M)
               for gid, kind, src in _MINI_CELLS if kind.get("solution")} if solutions else {}
    answers.update(cells)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def _text(nb) -> str:
    """Everything the outputs of a notebook show."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts.append(str(out.get("evalue", "")))
            parts.extend(map(str, out.get("traceback", [])))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


# --------------------------------------------------------------------------------------
# The mini assignment: honest, then the attacks
# --------------------------------------------------------------------------------------

def test_mini_honest_full_marks_judged_and_plain(course):
    nb = _submission(course, "mini", {})
    judged, graded = course.grade("mini", "honest", nb)
    assert judged == MINI_POINTS, _text(graded)
    plain, _ = course.grade("mini", "honest_plain", nb, judged=False)
    assert plain == judged


_BLANK_STUB = "raise NotImplementedError()\n"

_RUN_CODE_WRAPPER = """\
ip = get_ipython()
name = "run" + "_code"
original = getattr(ip, name)


async def quiet(*args, **kwargs):
    try:
        result = await original(*args, **kwargs)
    except BaseException:
        return False
    return False

setattr(ip, name, quiet)
ip.showtraceback = lambda *a, **k: None
"""

_PATCH_CHECKS = """\
import numpy as np
import numpy.testing
import sys
np.isclose = lambda *a, **k: np.ones(np.broadcast(*a[:2]).shape, bool)
np.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_allclose = lambda *a, **k: None
for name in list(sys.modules):
    if name.startswith("course") and hasattr(sys.modules[name], "assert_image_close"):
        sys.modules[name].assert_image_close = lambda *a, **k: None
import course.checks
course.checks.assert_image_close = lambda *a, **k: None
guard = sys.modules.get("autograder.guard")
if guard is not None and getattr(guard, "_ACTIVE", None) is not None:
    for attr in ("report", "_refuse", "check"):
        setattr(guard._ACTIVE, attr, lambda *a, **k: [])
assert_image_close = lambda *a, **k: None
"""

_ARRAY_FUNCTION = """\
class Liar(np.ndarray):
    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array_ufunc__(self, *args, **kwargs):
        return np.ones((), bool)


def double(x):
    return np.zeros(np.shape(x)).view(Liar)
"""

_GLOBALS_HELPER = """\
def double(x):
    return globals()["_ref"](x)
"""

_LAZY_FAST = """\
class Lazy:
    __class__ = property(lambda self: np.ndarray)

    def __init__(self, x, w):
        self.x, self.w = x, w

    def __array__(self, dtype=None, copy=None):
        import scipy.signal
        return np.array([sum(scipy.signal.correlate2d(self.x[c], self.w[f, c], "valid")
                             for c in range(self.x.shape[0])) for f in range(self.w.shape[0])])


def fast(x, w):
    return Lazy(x, w)
"""

_CACHED_FAST = """\
_cache = {}


def fast(x, w):
    key = (x.tobytes(), w.tobytes())
    if key not in _cache:
        out = np.zeros((w.shape[0], x.shape[1] - w.shape[2] + 1, x.shape[2] - w.shape[3] + 1))
        for f in range(w.shape[0]):
            for r in range(out.shape[1]):
                for s in range(out.shape[2]):
                    out[f, r, s] = (x[:, r:r + w.shape[2], s:s + w.shape[3]] * w[f]).sum()
        _cache[key] = out
    return _cache[key]
"""


@pytest.mark.parametrize("label, cells, extra, expect", [
    # a blank notebook whose shell swallows every error: nothing
    ("run_code_wrapper", {"double": _BLANK_STUB, "grad": _BLANK_STUB, "fast": _BLANK_STUB},
     _RUN_CODE_WRAPPER, {"test_double__computation": 0, "test_grad": 0, "test_fast__speed": 0}),
    # zeros with every checker patched in the kernel (and the guard object no-op'ed)
    ("patched_checks", {"double": "def double(x):\n    return np.zeros(np.shape(x))\n"},
     _PATCH_CHECKS, {"test_double__computation": 0}),
    ("array_function", {"double": _ARRAY_FUNCTION}, None, {"test_double__computation": 0}),
    ("hidden_helper_from_globals", {"double": _GLOBALS_HELPER}, None, {"test_double__computation": 0}),
    ("fake_class_lazy_scipy", {"fast": _LAZY_FAST}, None, {"test_fast__speed": 0}),
    ("input_bytes_cache", {"fast": _CACHED_FAST}, None, {"test_fast__speed": 0}),
])
def test_mini_attacks_earn_nothing(course, label, cells, extra, expect):
    nb = _submission(course, "mini", cells, extra=extra)
    scores, graded = course.grade("mini", label, nb)
    for grade_id, points in expect.items():
        assert scores[grade_id] == points, (grade_id, _text(graded))
    for grade_id, points in MINI_POINTS.items():  # the parts not attacked keep their points
        if grade_id not in expect:
            assert scores[grade_id] == points, (grade_id, _text(graded))


# --------------------------------------------------------------------------------------
# Notebook 01: by hand, hidden tests, the honest example class
# --------------------------------------------------------------------------------------

_SCIPY_THROUGH_A_LIST = """\
import scipy.ndimage
_routines = [getattr(scipy.ndimage, "_nd" + "_image").correlate]
_MODES = {"nearest": 0, "wrap": 1, "reflect": 2, "mirror": 3, "constant": 4}


def correlate(image, kernel, mode="reflect", cval=0.0):
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 2 or kernel.ndim != 2 or mode not in _MODES:
        raise ValueError("bad arguments")
    out = np.zeros_like(image)
    _routines[0](image, kernel, out, _MODES[mode], float(cval), [0, 0])
    return out
"""

_PAD_IN_A_THREAD = """\
import threading


def pad(image, pad_width, mode="reflect", cval=0.0):
    names = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap",
             "constant": "constant"}
    image = np.asarray(image, dtype=np.float64)
    if mode not in names or image.ndim != 2 or np.min(pad_width) < 0:
        raise ValueError("bad arguments")
    box = []
    kw = {"constant_values": cval} if mode == "constant" else {}
    worker = threading.Thread(target=lambda: box.append(np.pad(image, pad_width, mode=names[mode], **kw)))
    worker.start()
    worker.join()
    return box[0]
"""

_LAZY_WINDOW_SUM = """\
class LazySum:
    __class__ = property(lambda self: float)

    def __init__(self, p, k):
        self.p, self.k = p, k

    def __float__(self):
        import scipy.signal
        return float(scipy.signal.correlate2d(self.p, self.k, "valid")[0, 0])

    def __array__(self, dtype=None, copy=None):
        return np.array(float(self))


def window_sum(patch, kernel):
    patch = np.asarray(patch, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if patch.ndim != 2 or patch.shape != kernel.shape:
        raise ValueError("bad shapes")
    return LazySum(patch, kernel)
"""

_PRINT_HISTORY = """\
print(In)
print(Out)
print(list(get_ipython().history_manager.input_hist_raw))
import gc, sys
print([str(getattr(f, "f_code", "")) for f in sys._current_frames().values()])
"""


def test_nb01_by_hand_attacks_lose_their_parts(course):
    nb = _submission(course, NB01, {"correlate": _SCIPY_THROUGH_A_LIST, "pad": _PAD_IN_A_THREAD,
                                    "window_sum": _LAZY_WINDOW_SUM}, extra=_PRINT_HISTORY)
    scores, graded = course.grade(NB01, "by_hand_attacks", nb)
    text = _text(graded)
    assert scores["test_correlate__computation"] == 0, text
    assert scores["test_pad__computation"] == 0, text
    assert scores["test_convolve__computation"] == 0, text  # it uses the student's pad
    assert scores["test_window_sum__computation"] == 0, text
    assert scores["test_window_sum__dtypes"] == 0, text
    assert scores["test_correlate_valid__computation"] == 3, text  # not attacked
    errors = {c.metadata["nbgrader"]["grade_id"]: " ".join(o.get("evalue", "") for o in c.outputs)
              for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert "by hand" in errors["test_correlate__computation"], errors["test_correlate__computation"]
    assert "numpy.pad" in errors["test_pad__computation"].split(",")[0], errors["test_pad__computation"]
    # The last cell printed In, Out and the history: no hidden test is there.
    history = "".join(str(o.get("text", "")) for o in graded.cells[-1].outputs)
    assert "print(In)" in history  # it did print the history
    assert HIDDEN_LINE not in history and "BEGIN HIDDEN TESTS" not in history
    assert "_signal.correlate2d" not in history


def _examples() -> list[Path]:
    return sorted((EXAMPLES / NB01).glob("*.py"))


@pytest.mark.parametrize("example", _examples(), ids=lambda p: p.stem)
def test_nb01_examples_same_grades_as_stock_nbgrader(course, example, graded_class):
    """The judged grades (the shared graded class, tests/conftest.py, graded these very
    notebooks with the course's pipeline) equal stock nbgrader's in-kernel tests'."""
    if NB01 not in graded_class.assignments:
        pytest.skip(f"{NB01} is not in COURSE_ASSIGNMENTS")
    from autograder.cells import parse_grade_id

    student = f"01-ex-{example.stem}"
    judged = {key: pts for key, (pts, _) in graded_class.parts(student, NB01).items()}
    assert judged, f"{student} is not in the graded class"
    graded = nbformat.read(graded_class.autograded(student, NB01), as_version=4)
    nb = nbformat.read(graded_class.incoming / student / NB01 / f"{NB01}.ipynb", as_version=4)
    plain, plain_nb = course.grade(NB01, f"plain_{example.stem}", nb, judged=False)
    plain = {parse_grade_id(gid): pts for gid, pts in plain.items()}
    assert judged == plain, (_text(graded), _text(plain_nb))
    # No hidden-test line in any output of the judged notebook.
    assert "BEGIN HIDDEN TESTS" not in _text(graded)


NB05 = "05_learning_a_filter_bank"

#: Issue 14.5: a student reuses their own notebook-03 conv2d, a superset of notebook 05's
#: read-only one (it takes ``padding=``), and builds conv2d_backward on it. Their conv2d
#: shadows the provided one in the kernel; the tests (in the grader) use the instructor's.
OWN_CONV2D = Answers(use_solutions=True, cells={"conv2d_backward": """\
def conv2d(x, weights, bias=None, padding=0):
    \"\"\"My notebook-03 layer: x (C, H, W), weights (F, C, kh, kw), zero padding.\"\"\"
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    ph, pw = (padding, padding) if np.ndim(padding) == 0 else padding
    x = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(x, weights.shape[2:], axis=(1, 2))
    out = np.einsum("chwij,fcij->fhw", windows, weights)
    return out if bias is None else out + np.asarray(bias, dtype=np.float64)[:, None, None]


def conv2d_backward(x, weights, grad_out):
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if x.ndim != 3 or weights.ndim != 4 or x.shape[0] != weights.shape[1]:
        raise ValueError("x must be (C, H, W) and weights (F, C, kh, kw) with the same C")
    (c, h, w), (f, _, kh, kw) = x.shape, weights.shape
    if kh > h or kw > w or grad_out.shape != (f, h - kh + 1, w - kw + 1):
        raise ValueError("the kernel does not fit or grad_out has not the output's shape")
    grad_weights = np.stack([conv2d(x[i][None], grad_out[:, None]) for i in range(c)], axis=1)
    grad_x = conv2d(grad_out, weights.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], padding=(kh - 1, kw - 1))
    return grad_x, grad_weights, grad_out.sum(axis=(1, 2))
"""})


def test_own_superset_of_a_read_only_function_keeps_full_marks(tmp_path):
    from autograder.cells import function_parts
    from autograder.integrity import scan
    from autograder.nbg import generate_into
    from autograder.paths import source_notebook

    course = Course(tmp_path / "course", nb01=False)
    generate_into(course.root, [NB05], db_url=course.db_url)
    nb = make_submission(NB05, OWN_CONV2D, release=_release(course, NB05))
    assert scan(nb, assignment=NB05) == []  # not flagged: the tests run with the read-only one
    full = {f"test_{f}__{part}": float(points)
            for f, parts in function_parts(source_notebook(NB05)).items()
            for part, points in parts.items()}
    judged, graded = course.grade(NB05, "own_conv2d", nb)
    assert judged == full, _text(graded)[-3000:]
    plain, plain_nb = course.grade(NB05, "own_conv2d_plain", nb, judged=False)
    assert plain == full, _text(plain_nb)[-3000:]


def test_plain_data_round_trip_keeps_types_and_refuses_the_rest():
    import numpy as np

    from autograder import agent

    for value in [np.float64(3.5), np.float32(2), np.uint8(7), np.arange(6.0).reshape(2, 3).T,
                  np.zeros((0, 3), np.int16), (1, [np.int64(3)], {"a": np.ones(2, bool)}), 1.5,
                  None, "text", True]:
        back = agent.decode(agent.encode(value))
        assert type(back) is type(value)
        if isinstance(value, np.generic | np.ndarray):
            assert back.dtype == value.dtype and np.shape(back) == np.shape(value)
            assert np.array_equal(back, value)

    class Sub(np.ndarray):
        pass

    class Fake:
        __class__ = property(lambda self: np.ndarray)

    for bad in [np.zeros(2).view(Sub), np.array([object()]), Fake(), (x for x in ()), {1: 2}]:
        with pytest.raises(agent.Refused):
            agent.encode(bad)


@pytest.mark.parametrize("judged", [True, False], ids=["course_config", "COURSE_JUDGE=0"])
def test_plain_nbgrader_autograde_command_is_judged(tmp_path, judged):
    """`nbgrader autograde` in a workspace with the course's config runs (judged, and with
    COURSE_JUDGE=0 in the kernel); the run_code attack earns nothing."""
    import subprocess

    from nbgrader.api import Gradebook

    from autograder.nbg import write_workspace_config

    course = Course(tmp_path / "course", nb01=False)
    write_workspace_config(course.root, course.db_url)
    nb = _submission(course, "mini", {"double": _BLANK_STUB, "grad": _BLANK_STUB, "fast": _BLANK_STUB},
                     extra=_RUN_CODE_WRAPPER)
    folder = course.root / "submitted" / "mallory" / "mini"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "mini.ipynb")
    env = dict(os.environ, COURSE_JUDGE="1" if judged else "0")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    run = subprocess.run([str(nbgrader), "autograde", "mini", "--force"], cwd=course.root, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    with Gradebook(course.db_url) as gb:
        score = gb.find_submission("mini", "mallory").score
    assert score == 0  # a blank notebook whose shell swallows errors: nothing, both ways


def test_each_process_and_course_gets_its_own_kernelspec(tmp_path):
    """The course's nbgrader_config.py never shares a kernelspec folder between grading
    processes (a kernel started from another process's spec waited 300 s on sockets that
    process listens to), nor between two courses graded in one process."""
    import json
    import shutil
    import subprocess

    probe = (
        "import json, sys\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        "out = [PyFileConfigLoader('nbgrader_config.py', path=root).load_config()"
        ".SandboxExecute.kernel_dirs[0] for root in sys.argv[1:]]\n"
        "print(json.dumps(out))\n")
    roots = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", tmp_path / name / "nbgrader_config.py")
        roots.append(str(tmp_path / name))
    env = dict(os.environ, PYTHONPATH=str(ROOT), COURSE_JUDGE="1")
    runs = [subprocess.Popen([sys.executable, "-c", probe, *roots], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, text=True) for _ in range(2)]
    folders = [json.loads(run.communicate(timeout=300)[0].strip().splitlines()[-1]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    every = [f for pair in folders for f in pair]
    assert len(set(every)) == 4, every  # two processes x two courses
    assert all(not Path(f).exists() for f in every), "a process left its folder behind"
