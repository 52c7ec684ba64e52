"""Integrity of grading: the static scan (autograder.integrity) and the kernel guard
(autograder.guard), for real.

The scan gets one small notebook per tampering style and must flag it with the right kind
and line; every honest submission we have (instructor solutions, bundled examples, the
correct variants of tests/variants/) must give no flag. The guard runs in real kernels
started by nbclient with ``--ext=autograder.guard``: after each tampering student cell, a
test cell given a wrong answer must still fail (as nbgrader scores it: an error or stderr
output), and an ``[integrity]`` line must say what happened; the instructor's notebook 01
runs with no report and every test passing.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import nbformat
import pytest
from classbuild import variant_sections
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import guard
from autograder.answers import read_answers, solutions
from autograder.integrity import BY_HAND, KINDS, Flag, flags_column, runtime_flags, scan, summary
from autograder.paths import EXAMPLES, assignments, release_notebook, source_notebook

ASSIGNMENTS = [a for a in assignments() if release_notebook(a).exists()]
NB01 = "01_convolution_by_hand"


# --- small notebooks ----------------------------------------------------------------------

def _meta(grade_id: str, *, locked=False, solution=False, grade=False, points=0) -> dict:
    meta = {"grade_id": grade_id, "locked": locked, "solution": solution, "grade": grade,
            "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


SETUP = """\
import numpy as np
import numpy.testing
import scipy.ndimage as ndi

import course
from course.checks import assert_image_close, by_hand
"""


def _notebook(*cells) -> nbformat.NotebookNode:
    """A notebook from (kind, source) pairs: setup, student, solution:<id>, test:<id>."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for kind, source in cells:
        if kind == "setup":
            nb.cells.append(new_code_cell(source, metadata=_meta("setup", locked=True)))
        elif kind == "student":
            nb.cells.append(new_code_cell(source))
        elif kind.startswith("solution:"):
            nb.cells.append(new_code_cell(source, metadata=_meta(kind[9:], solution=True)))
        elif kind.startswith("test:"):
            nb.cells.append(new_code_cell(source, metadata=_meta(
                kind[5:], locked=True, grade=True, points=1)))
        else:
            nb.cells.append(new_markdown_cell(source))
    return nb


# --- the static scan: one notebook per tampering style ----------------------------------

RELEASE = _notebook(
    ("setup", SETUP),
    ("solution:pad", "def pad(image, pad_width, mode='reflect', cval=0.0):\n"
                     "    raise NotImplementedError()"),
    ("test:test_pad", '"""Check that pad pads."""\nassert pad(np.ones((2, 2)), 1).shape == (4, 4)'),
)

# (code of a student cell, expected kind, expected line of the flag)
TAMPERING = {
    "numpy.testing attribute": ("import numpy.testing\n"
                                "numpy.testing.assert_allclose = lambda *a, **k: None",
                                "monkeypatch", 2),
    "np.allclose": ("x = 1\nnp.allclose = lambda *a, **k: True", "monkeypatch", 2),
    "scipy reference": ("def mine(x, k, **kw):\n    return x\nndi.correlate = mine",
                        "monkeypatch", 3),
    "alias of a module": ("t = np.testing\nt.assert_allclose = print", "monkeypatch", 2),
    "setattr": ("setattr(np, 'isclose', lambda *a, **k: True)", "monkeypatch", 1),
    "del": ("del np.testing.assert_allclose", "monkeypatch", 1),
    "builtins": ("import builtins\nbuiltins.isinstance = lambda *a: True", "monkeypatch", 2),
    "__builtins__": ("__builtins__.len = lambda x: 0", "monkeypatch", 1),
    "module __dict__": ("vars(np.testing)['assert_allclose'] = print", "monkeypatch", 1),
    "sys.modules": ("import sys\nsys.modules['scipy.ndimage'] = object()", "monkeypatch", 2),
    "reload": ("import importlib\nimportlib.reload(np)", "monkeypatch", 2),
    "function code": ("np.testing.assert_allclose.__code__ = (lambda *a, **k: None).__code__",
                      "monkeypatch", 1),
    "profiler": ("import sys\n\ndef pad(image, pad_width, mode='reflect', cval=0.0):\n"
                 "    sys.setprofile(None)\n    return image", "monkeypatch", 4),
    "contextmanager class": ("import contextlib\n"
                             "contextlib._GeneratorContextManager.__exit__ = lambda *a: True",
                             "monkeypatch", 2),
    "helper redefined": ("def assert_image_close(*args, **kwargs):\n    pass", "test-helper", 1),
    "helper assigned": ("assert_image_close = lambda *a, **k: None", "test-helper", 1),
    "helper imported as": ("from contextlib import nullcontext as by_hand", "test-helper", 1),
    "module alias rebound": ("np = None", "test-helper", 1),
    "globals()": ("globals()['by_hand'] = None", "test-helper", 1),
    "built-in shadowed": ("range = lambda *a: []", "test-helper", 1),
    "%reset": ("%reset -f", "test-helper", 1),
    "exit()": ("print(1)\nexit()", "kill", 2),
    "os._exit": ("import os\nos._exit(0)", "kill", 2),
    "os.kill": ("import os\nos.kill(os.getpid(), 9)", "kill", 2),
    "sys.exit": ("import sys\nsys.exit(0)", "kill", 2),
    "signal": ("import signal\nsignal.alarm(1)", "kill", 1),
    "subprocess": ("import subprocess", "kill", 1),
    "ctypes": ("import ctypes", "kill", 1),
    "gradebook": ("data = open('../../gradebook.db', 'rb').read()", "file-access", 1),
    "source folder": ("from pathlib import Path\n"
                      "text = Path('../../source/x/x.ipynb').read_text()", "file-access", 2),
    "other students": ("import os\nnames = os.listdir('../..')", "file-access", 2),
    "absolute path": ("import glob\nfiles = glob.glob('/srv/course/autograded/*')",
                      "file-access", 2),
    "course's folder": ("import pathlib\nroot = pathlib.Path(course.__file__).parent",
                        "file-access", 2),
    "%run": ("%run ../../source/x.py", "file-access", 1),
    "get_ipython": ("ip = get_ipython()\nip.events.callbacks.clear()", "kernel", 2),
    "the guard": ("import autograder.guard", "kernel", 1),
    "frames": ("import sys\ng = sys._getframe(1).f_globals", "kernel", 2),
    "exec": ("exec('np.allclose = None')", "kernel", 1),
    "shell escape": ("x = 1\n!cat ../../source/x/x.ipynb", "shell", 2),
    "%%bash": ("%%bash\nls ..", "shell", 1),
    "%time hides code": ("%time np.allclose = lambda *a, **k: True", "monkeypatch", 1),
}


@pytest.mark.parametrize("style", list(TAMPERING))
def test_scan_flags_each_tampering_style(style):
    code, kind, line = TAMPERING[style]
    nb = copy.deepcopy(RELEASE)
    nb.cells.insert(2, new_code_cell(code))
    flags = scan(nb, RELEASE)
    assert any(f.kind == kind and f.line == line and f.cell_index == 2 for f in flags), (
        f"{style}: expected a {kind!r} flag on cell 2, line {line}; got "
        f"{[(f.kind, f.line, f.message) for f in flags]}")
    assert all(f.kind in KINDS for f in flags)
    for f in flags:
        assert "\n" not in f.message and f.message.startswith(f"cell {f.cell_index}")


def test_scan_tampering_in_a_solution_cell_names_the_grade_id():
    nb = copy.deepcopy(RELEASE)
    nb.cells[1].source = ("def pad(image, pad_width, mode='reflect', cval=0.0):\n"
                          "    np.testing.assert_allclose = lambda *a, **k: None\n"
                          "    return image")
    (flag,) = scan(nb, RELEASE)
    assert (flag.kind, flag.cell_index, flag.grade_id, flag.line) == ("monkeypatch", 1, "pad", 2)
    assert flag.message == "cell 1 (pad), line 2: assigns numpy.testing.assert_allclose"


def test_scan_compares_locked_cells_instead_of_scanning_them():
    nb = copy.deepcopy(RELEASE)
    nb.cells[2].source += "\nnp.allclose = lambda *a, **k: True"  # an edited test cell
    flags = scan(nb, RELEASE)
    assert [(f.kind, f.grade_id, f.line) for f in flags] == [("locked-edited", "test_pad", 3)]
    del nb.cells[2]
    assert [(f.kind, f.grade_id) for f in scan(nb, RELEASE)] == [("locked-deleted", "test_pad")]


def test_scan_tolerates_magics_help_and_syntax_errors():
    nb = copy.deepcopy(RELEASE)
    nb.cells.insert(2, new_code_cell("%matplotlib inline\n%timeit np.zeros(3)\nnp.pad?\n"
                                     "x = %env HOME\nfiles = !ls"))
    nb.cells.insert(3, new_code_cell("def broken(:\n    pass"))
    nb.cells.insert(4, new_code_cell("%%time\nx = np.zeros(3)\nnp.isclose = None"))
    flags = scan(nb, RELEASE)
    assert [(f.cell_index, f.kind, f.line) for f in flags] == [(2, "shell", 5),
                                                                (4, "monkeypatch", 3)]


def test_scan_by_hand_functions_reaching_scipy():
    release = _notebook(("setup", SETUP),
                        ("solution:pad", "def pad(image, width):\n    raise NotImplementedError()"),
                        ("solution:correlate", "def correlate(image, kernel):\n"
                                               "    raise NotImplementedError()"))
    cases = {
        "np.pad": ("def pad(image, width):\n    return np.pad(image, width)", "pad", 2),
        "aliased import": ("from scipy.ndimage import correlate as c\n\n\n"
                           "def correlate(image, kernel):\n    return c(image, kernel)",
                           "correlate", 5),
        "module bound in setup": ("def correlate(image, kernel):\n"
                                  "    return ndi.correlate(image, kernel)", "correlate", 2),
        "import in the body": ("def pad(image, width):\n    import scipy.signal\n"
                               "    return image", "pad", 2),
        "through a helper": ("def helper(x, w):\n    return np.lib.pad(x, w)\n\n\n"
                             "def pad(image, width):\n    return helper(image, width)", "pad", 6),
        "getattr": ("def pad(image, width):\n    return getattr(np, 'pad')(image, width)",
                    "pad", 2),
        "bound to scipy": ("correlate = ndi.correlate", "correlate", 1),
        "lambda": ("correlate = lambda image, kernel: ndi.correlate(image, kernel)",
                   "correlate", 1),
    }
    for what, (code, gid, line) in cases.items():
        nb = copy.deepcopy(release)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        cell.source = code
        flags = [f for f in scan(nb, release, assignment=NB01) if f.kind == "by-hand-scipy"]
        assert [(f.grade_id, f.line) for f in flags] == [(gid, line)], (what, flags)
    # a helper named like a SciPy function, parameters named like modules: not flagged
    nb = copy.deepcopy(release)
    nb.cells[1].source = ("def correlate_valid(image, kernel):\n    return image\n\n\n"
                          "def pad(image, width, ndi=None):\n"
                          "    return correlate_valid(ndi, image)")
    assert scan(nb, release, assignment=NB01) == []


def test_scan_flags_scipy_shortcut_example():
    nb = _fill(NB01, read_answers(EXAMPLES / NB01 / "scipy_shortcut.py").cells)
    flags = scan(nb, _release(NB01), NB01)
    assert {(f.kind, f.grade_id) for f in flags} == {("by-hand-scipy", "correlate"),
                                                     ("by-hand-scipy", "convolve")}
    assert "scipy.ndimage.correlate (as `_c`)" in str(flags[0])


# --- the static scan: no false positives on honest code ----------------------------------

@cache
def _release(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(release_notebook(assignment), as_version=4)


def _fill(assignment: str, cells: dict[str, str], use_solutions: bool = True):
    """The release filled with the instructor's solutions and ``cells`` (as make_submission)."""
    nb = copy.deepcopy(_release(assignment))
    filled = dict(solutions(assignment)) if use_solutions else {}
    filled.update(cells)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in filled:
            cell.source = filled[gid]
    return nb


def _honest(assignment: str):
    yield "instructor solution", _fill(assignment, {})
    yield "untouched release", _fill(assignment, {}, use_solutions=False)
    for path in sorted((EXAMPLES / assignment).glob("*.py")):
        if assignment == NB01 and path.stem == "scipy_shortcut":
            continue
        answers = read_answers(path)
        yield f"example {path.stem}", _fill(assignment, answers.cells, answers.use_solutions)
    for function, kind, label, code, *_ in variant_sections(assignment):
        if kind == "correct":
            yield f"correct variant {function}: {label}", _fill(assignment, {function: code})


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_scan_finds_nothing_in_honest_submissions(assignment):
    release = _release(assignment)
    for what, nb in _honest(assignment):
        flags = scan(nb, release, assignment)
        assert flags == [], f"{assignment}, {what}: {[str(f) for f in flags]}"
    # the instructor's own notebooks, scanned as if every cell were the student's
    for path in (source_notebook(assignment), release_notebook(assignment)):
        assert scan(path, release_nb=False, assignment=assignment) == []


def test_scan_flags_the_wrong_variants_that_call_scipy():
    found = 0
    for assignment, functions in BY_HAND.items():
        if assignment not in ASSIGNMENTS:
            continue
        for function, kind, label, code, *_ in variant_sections(assignment):
            if kind == "wrong" and function in functions and any(
                    word in label.lower() for word in ("calls scipy", "calls numpy.pad",
                                                       "not by hand", "not numpy only")):
                found += 1
                flags = scan(_fill(assignment, {function: code}), _release(assignment), assignment)
                assert [(f.kind, f.grade_id) for f in flags] == [("by-hand-scipy", function)], (
                    f"{assignment} {function}: {label}: {[str(f) for f in flags]}")
    assert found >= 4


def test_flags_column_and_summary():
    flags = [Flag(3, "pad", 2, "by-hand-scipy", "cell 3 (pad), line 2: uses numpy.pad"),
             Flag(5, None, None, "runtime", "cell 5: restored numpy.allclose")]
    assert flags_column(flags) == ("by-hand-scipy: cell 3 (pad), line 2: uses numpy.pad | "
                                   "runtime: cell 5: restored numpy.allclose")
    assert len(flags_column(flags * 50, limit=100)) == 100
    lines = summary({("ada", NB01): [], ("dev", NB01): flags})
    assert lines[0] == "1 of 2 submissions flagged: by-hand-scipy 1, runtime 1."
    assert lines[1] == f"- dev / {NB01}:" and len(lines) == 4
    assert summary({("ada", NB01): []}) == ["No integrity flags."]


# --- the guard, in real kernels ------------------------------------------------------------

WRONG = "np.zeros(3)"  # every test below compares a wrong answer with np.ones(3)

# (student cell, test cell given a wrong answer, text of the expected [integrity] line)
GUARDED = [
    ("numpy.testing.assert_allclose = lambda *a, **k: None",
     f"np.testing.assert_allclose({WRONG}, np.ones(3))",
     "refused assignment to numpy.testing.assert_allclose"),
    ("np.allclose = lambda *a, **k: True",
     f"assert np.allclose({WRONG}, np.ones(3)), 'wrong answer'",
     "refused assignment to numpy.allclose"),
    ("import scipy.ndimage\n\ndef student_fn(image, kernel, **kw):\n"
     "    return np.zeros(image.shape)\n\nscipy.ndimage.correlate = student_fn",
     "x = np.arange(9.0).reshape(3, 3)\nassert_image_close(student_fn(x, np.ones((3, 3))), "
     "ndi.correlate(x, np.ones((3, 3))))",
     "refused assignment to scipy.ndimage.correlate"),
    ("vars(np.testing)['assert_allclose'] = lambda *a, **k: None",
     f"np.testing.assert_allclose({WRONG}, np.ones(3))",
     "restored numpy.testing.assert_allclose (replaced in this cell)"),
    ("assert_image_close = lambda *a, **k: None",
     f"assert_image_close({WRONG}, np.ones(3))",
     "rebinds `assert_image_close`"),
    ("import sys\n\ndef pad(image):\n    sys.setprofile(None)\n"
     "    return ndi.correlate(image, np.ones((1, 1)))",
     "with by_hand('pad'):\n    pad(np.ones((3, 3)))",
     "refused sys.setprofile"),
    ("def sneaky(x):\n    globals()['assert_image_close'] = lambda *a, **k: None\n"
     "    return np.zeros(3)",
     "got = sneaky(1)\nassert_image_close(got, np.ones(3))",
     "`assert_image_close` was rebound during this test cell"),
    ("import sys, types\nsys.modules['scipy.ndimage'] = types.SimpleNamespace(\n"
     "    correlate=lambda image, kernel, **kw: np.zeros(np.shape(image)))",
     "from scipy.ndimage import correlate as c\n"
     "assert_image_close(np.zeros((3, 3)), c(np.ones((3, 3)), np.ones((1, 1))))",
     "restored sys.modules['scipy.ndimage']"),
    ("range = lambda *a: []",
     "for i in range(3):\n    assert i < 0, 'the loop ran: the real range was used'",
     None),
    ("import contextlib\ncontextlib._GeneratorContextManager.__exit__ = lambda *a: True",
     "with by_hand('f'):\n    ndi.correlate(np.ones((3, 3)), np.ones((1, 1)))",
     "restored contextlib._GeneratorContextManager.__exit__"),
    ("np.testing.assert_allclose.__code__ = (lambda *a, **k: None).__code__",
     f"np.testing.assert_allclose({WRONG}, np.ones(3))",
     "refused changing __code__ of numpy.testing"),
    ("course.checks.assert_image_close.__defaults__ = ('x', 1e9, 1e9, 'y')",
     f"assert_image_close({WRONG}, np.ones(3))",
     "refused changing __defaults__"),
    ("ip = get_ipython()\nip.events.callbacks['pre_run_cell'].clear()\n"
     "ip.events.callbacks['post_run_cell'].clear()",
     None, None),
    ("vars(np)['allclose'] = lambda *a, **k: True",
     f"assert np.allclose({WRONG}, np.ones(3)), 'wrong answer'",
     "callbacks were disabled"),
    ("import os\nos._exit(0)", None, "refused os._exit"),
    ("exit()", None, "refused exit()"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", None, "refused os.kill"),
    ("import signal\nsignal.alarm(1)", None, "refused signal.alarm"),
    ("data = open('../../../gradebook.db', 'rb').read()", None, "refused reading"),
    ("import os\nnames = os.listdir('../..')", None, "refused reading"),
]


def _guard_notebook() -> nbformat.NotebookNode:
    cells = [("setup", SETUP)]
    for i, (student, test, _) in enumerate(GUARDED):
        cells.append(("student", student))
        if test:
            cells.append((f"test:test_{i}", f'"""Check that tampering {i} is undone."""\n{test}'))
    cells.append(("test:test_alive", '"""Check that the kernel is alive."""\n'
                                     "assert np.allclose(np.ones(3), np.ones(3))"))
    return _notebook(*cells)


def _workspace(tmp_path: Path, name: str, source_nb) -> Path:
    """nbgrader's layout: <root>/source/<name>/, <root>/autograded/<student>/<name>/."""
    (tmp_path / "source" / name).mkdir(parents=True)
    nbformat.write(source_nb, tmp_path / "source" / name / f"{name}.ipynb")
    (tmp_path / "gradebook.db").write_bytes(b"secret")
    folder = tmp_path / "autograded" / "eve" / name
    folder.mkdir(parents=True)
    return folder


def _run(nb, folder: Path) -> nbformat.NotebookNode:
    client = NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=True,
                            extra_arguments=["--ext=autograder.guard"],
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def _stream(cell, name: str) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def _score(cell) -> float:
    from nbgrader.utils import determine_grade

    return determine_grade(cell)[0]


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory):
    nb = _guard_notebook()
    folder = _workspace(tmp_path_factory.mktemp("ws"), "tamper", nb)
    nb.cells.append(new_code_cell("import json\nfrom autograder import guard\n"
                                  "print(json.dumps(guard.stats()))"))
    return _run(nb, folder)


def test_guard_makes_tampered_tests_fail(guarded_run):
    cells = guarded_run.cells
    index = 1
    for i, (_, test, marker) in enumerate(GUARDED):
        student = cells[index]
        index += 1
        test_cell = None
        if test:
            test_cell = cells[index]
            index += 1
            assert _score(test_cell) == 0, (
                f"tampering {i} ({GUARDED[i][0]!r}) made a wrong answer pass: "
                f"{test_cell.outputs}")
        if marker:
            where = [student] + ([test_cell] if test_cell else [])
            text = "".join(_stream(c, "stderr") + _stream(c, "stdout") for c in where)
            assert f"{guard.MARKER} " in text and marker in text, (
                f"tampering {i}: no '{marker}' report in {text!r}")
    alive = cells[index]
    assert _score(alive) == 1, f"the kernel did not survive: {alive.outputs}"
    stats = json.loads(_stream(cells[index + 1], "stdout"))
    assert stats["trusted_cells"] == 1 + sum(1 for _, t, _ in GUARDED if t) + 1
    flags = runtime_flags(guarded_run)
    assert flags and all(f.kind == "runtime" and guard.MARKER not in f.message for f in flags)
    assert any("(the test cell got no points)" in f.message for f in flags)


def test_guard_keeps_honest_notebook_intact(tmp_path):
    """The instructor's notebook 01, hidden tests included, with the guard: all pass."""
    name = NB01
    source = nbformat.read(source_notebook(name), as_version=4)
    folder = _workspace(tmp_path, name, source)
    nb = copy.deepcopy(source)
    nb.cells.append(new_code_cell("import json\nfrom autograder import guard\n"
                                  "print(json.dumps(guard.stats()))"))
    _run(nb, folder)
    for cell in nb.cells[:-1]:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
        assert guard.MARKER not in _stream(cell, "stderr") + _stream(cell, "stdout")
        if cell.metadata.get("nbgrader", {}).get("grade"):
            assert _score(cell) == cell.metadata["nbgrader"]["points"]
    assert runtime_flags(nb) == []
    stats = json.loads(_stream(nb.cells[-1], "stdout"))
    assert stats["trusted_cells"] == sum(
        1 for c in source.cells if c.metadata.get("nbgrader", {}).get("locked"))
    # (its overhead per cell is measured by benchmarks/bench_grading.py, not asserted here)


def test_kernel_env_passes_hashes_not_sources():
    env = guard.kernel_env([NB01])
    table = json.loads(env[guard.TRUSTED_ENV])
    source = source_notebook(NB01).read_text()
    assert set(table) == {NB01}
    from autograder.cells import test_cells

    tests = test_cells(nbformat.read(source_notebook(NB01), as_version=4))
    assert len(tests) > 1
    assert sorted(table[NB01].values()).count("test") == len(tests)
    assert all(len(h) == 64 and h not in source for h in table[NB01])


# --- 14.5: honest patterns that were flagged, pasted cells ---------------------------------

HONEST_PATTERNS = {
    "tqdm": "from tqdm import tqdm\nfor i in tqdm(range(3)):\n    pass",
    "own best_time": ("import time\n\ndef best_time(f, *args, repeat=5):\n"
                      "    best = float('inf')\n    for _ in range(repeat):\n"
                      "        t0 = time.perf_counter()\n        f(*args)\n"
                      "        best = min(best, time.perf_counter() - t0)\n    return best\n"),
    "str.replace('/')": "name = 'edge/blur'\nsafe = name.replace('/', '_')\nprint(safe)",
    "literal .replace('/')": "label = 'a/b'.replace('/', ' then ')",
    "disabled SciPy self-check": ("CHECK_WITH_SCIPY = False\nif CHECK_WITH_SCIPY:\n"
                                  "    x = np.ones((3, 3))\n"
                                  "    print(ndi.correlate(x, np.ones((3, 3))))"),
    "logging": "import logging\nlogging.warning('padding with %s', 'reflect')",
    "np.save": "np.save('weights.npy', np.zeros(3))\nw = np.load('weights.npy')",
}


@pytest.mark.parametrize("pattern", list(HONEST_PATTERNS))
def test_scan_leaves_honest_patterns_alone(pattern):
    nb = _notebook(("setup", SETUP),
                   ("solution:pad", "def pad(image, pad_width, mode='reflect', cval=0.0):\n"
                                    "    return image"),
                   ("student", HONEST_PATTERNS[pattern]), ("test:test_pad", RELEASE.cells[2].source))
    assert scan(nb, RELEASE, NB01) == []


def test_scan_still_flags_a_path_replace_towards_the_course():
    nb = _notebook(("setup", SETUP), ("student", "from pathlib import Path\n"
                                                 "Path('x').replace('../../gradebook.db')"))
    assert "file-access" in [f.kind for f in scan(nb, RELEASE, NB01)]


def test_pasted_duplicate_cells_are_dropped_with_a_note():
    from autograder.pipeline import drop_duplicate_cells

    test = RELEASE.cells[2]
    nb = copy.deepcopy(RELEASE)
    pasted = copy.deepcopy(test)
    pasted.source = "# pasted and edited\n" + test.source
    answer = copy.deepcopy(nb.cells[1])
    answer.source = "def pad(image, pad_width, mode='reflect', cval=0.0):\n    return image"
    nb.cells = [pasted, nb.cells[0], answer, test, copy.deepcopy(answer)]
    notes = drop_duplicate_cells(nb, RELEASE)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert ids == ["setup", "pad", "test_pad", None]  # the released test cell is the one kept
    assert nb.cells[2].source == test.source
    assert nb.cells[3].source == answer.source  # the copy of the answer still runs
    assert len(notes) == 2 and "test_pad appeared 2 times" in notes[0] + notes[1]


def test_an_oversized_cell_is_cut_before_review_and_flagged():
    from autograder.review import MAX_CELL_CHARS, cut_oversized_cells

    filler = "x = 1\n" * (20 * 2**20 // 6)  # a 20 MB cell
    nb = _notebook(("setup", SETUP), ("student", filler + "np.allclose = None\n"),
                   ("test:test_pad", RELEASE.cells[2].source))
    cut = cut_oversized_cells(nb)
    assert [(i, size) for i, _, size in cut] == [(1, len(filler) + len("np.allclose = None\n"))]
    assert len(nb.cells[1].source) <= MAX_CELL_CHARS + 100
    assert nb.cells[1].source.endswith("characters\n")
    assert "oversized" in KINDS
    assert scan(nb, RELEASE, NB01) == []  # what is left is bounded work; the cut is the flag
