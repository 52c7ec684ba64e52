"""release/ is a build product: nbgrader's own output, no solutions, no hidden tests, no outputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import cells
from autograder.nbg import generate_release
from autograder.paths import CONFIG, RELEASE, SOURCE, assignments, release_notebook, source_notebook

NAMES = assignments()
VOLATILE_KEYS = {"execution", "collapsed", "scrolled", "jupyter", "ExecuteTime", "widgets"}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    generate_release(NAMES, out=out)
    return out


@pytest.fixture(scope="module")
def stock_nbgrader(tmp_path_factory) -> Path:
    """A course folder where plain ``nbgrader generate_assignment`` made every release.

    Run as an instructor would: the command from the environment's bin folder, in the
    course folder, without the environment on PATH (nbgrader needs its ``alembic``; the
    course's config finds it).
    """
    course = tmp_path_factory.mktemp("stock-course")
    shutil.copytree(SOURCE, course / "source")
    shutil.copy(CONFIG, course / "nbgrader_config.py")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = "/usr/bin:/bin"
    for name in NAMES:
        done = subprocess.run([str(nbgrader), "generate_assignment", name], cwd=course, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    return course / "release"


def _cell_view(cell) -> dict:
    meta = cell.metadata
    return {"id": cell.get("id"), "type": cell.cell_type, "source": cell.source,
            "nbgrader": meta.get("nbgrader"), "editable": meta.get("editable"),
            "deletable": meta.get("deletable"), "tags": meta.get("tags")}


@pytest.mark.parametrize("name", NAMES)
def test_release_is_what_plain_nbgrader_generates(stock_nbgrader, name):
    ours = nbformat.read(release_notebook(name), as_version=4)
    theirs = nbformat.read(stock_nbgrader / name / f"{name}.ipynb", as_version=4)
    assert len(ours.cells) == len(theirs.cells)
    for i, (a, b) in enumerate(zip(ours.cells, theirs.cells, strict=True)):
        assert _cell_view(a) == _cell_view(b), f"release/{name} cell {i} differs from nbgrader's"
    assert ours.metadata == theirs.metadata
    files = sorted(p.relative_to(stock_nbgrader / name) for p in (stock_nbgrader / name).rglob("*")
                   if p.is_file())
    assert files == sorted(p.relative_to(RELEASE / name) for p in (RELEASE / name).rglob("*")
                           if p.is_file())
    for rel in files:  # so `python -m autograder release --check` agrees with plain nbgrader
        assert (stock_nbgrader / name / rel).read_bytes() == (RELEASE / name / rel).read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_locked_cells_are_locked_in_jupyterlab(name):
    nb = nbformat.read(release_notebook(name), as_version=4)
    locked = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("locked")]
    assert locked, f"release/{name} has no locked cells"
    for cell in locked:
        gid = cell.metadata["nbgrader"]["grade_id"]
        assert cell.metadata.get("editable") is False, f"{gid} can be edited in JupyterLab"
        assert cell.metadata.get("deletable") is False, f"{gid} can be deleted in JupyterLab"
        assert cell.metadata["nbgrader"].get("checksum"), f"{gid} has no checksum"
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert cell.metadata.get("editable", True) is not False


def test_release_check_command_agrees(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "release", "--check",
                           NAMES[0]], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "up to date" in done.stdout, done.stdout + done.stderr


def test_there_are_assignments():
    assert "01_convolution_by_hand" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_release_is_in_sync_with_source(regenerated, name):
    fresh = sorted(p.relative_to(regenerated / name) for p in (regenerated / name).rglob("*")
                   if p.is_file())
    committed = sorted(p.relative_to(RELEASE / name) for p in (RELEASE / name).rglob("*")
                       if p.is_file())
    assert fresh == committed, "release/ has other files than source/ generates"
    for rel in fresh:
        assert (regenerated / name / rel).read_bytes() == (RELEASE / name / rel).read_bytes(), (
            f"release/{name}/{rel} is out of date: run `python -m autograder release`")


def test_release_generation_is_deterministic(regenerated, tmp_path):
    again = tmp_path / "again"
    generate_release(NAMES[:1], out=again)
    a = release_notebook(NAMES[0]).name
    assert (again / NAMES[0] / a).read_bytes() == (regenerated / NAMES[0] / a).read_bytes()


def _solution_lines(name: str) -> set[str]:
    nb = nbformat.read(source_notebook(name), as_version=4)
    lines = set()
    for cell in nb.cells:
        for block in re.findall(r"### BEGIN (SOLUTION|HIDDEN TESTS)(.*?)### END \1", cell.source,
                                re.DOTALL):
            lines |= {ln.strip() for ln in block[1].splitlines() if len(ln.strip()) >= 16}
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_release_leaks_no_solution_or_hidden_test(name):
    nb = nbformat.read(release_notebook(name), as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    released = {ln.strip() for ln in text.splitlines()}
    leaked = sorted(_solution_lines(name) & released)
    # Lines that also stand outside the blocks in source (e.g. shared boilerplate) may remain.
    source = nbformat.read(source_notebook(name), as_version=4)
    outside = set()
    for cell in source.cells:
        stripped = re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END \1", "", cell.source,
                          flags=re.DOTALL)
        outside |= {ln.strip() for ln in stripped.splitlines()}
    leaked = [ln for ln in leaked if ln not in outside]
    assert not leaked, f"release/{name} contains solution or hidden-test lines: {leaked[:5]}"


@pytest.mark.parametrize("path", sorted(SOURCE.rglob("*.ipynb")) + sorted(RELEASE.rglob("*.ipynb")),
                         ids=lambda p: str(p.relative_to(p.parents[2])))
def test_notebooks_have_no_outputs_or_volatile_metadata(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: a cell has outputs; clear them (python -m autograder release "
                "rewrites release/, source/ must be saved clean)")
        assert not (set(cell.metadata) & VOLATILE_KEYS), f"{path.name}: volatile cell metadata"
    raw = json.loads(path.read_text())
    assert raw["nbformat"] == 4


@pytest.mark.parametrize("name", NAMES)
def test_every_graded_function_has_a_solution_and_a_test(name):
    nb = nbformat.read(source_notebook(name), as_version=4)
    solutions = set(cells.solution_cells(nb))
    tests = cells.test_cells(nb)
    assert solutions, f"{name} has no solution cells"
    functions = {t.function for t in tests}
    assert solutions == functions, f"{name}: solutions {sorted(solutions)} vs tests {sorted(functions)}"
    hidden = {t.function for t in tests if "### BEGIN HIDDEN TESTS" in nb.cells[t.index].source}
    assert hidden == functions, f"{name}: no hidden tests for {sorted(functions - hidden)}"
    for t in tests:
        first = nb.cells[t.index].source.lstrip().splitlines()[0]
        assert first.startswith('"""Check that'), f"{t.grade_id}: start with a docstring"
