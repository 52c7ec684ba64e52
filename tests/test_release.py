"""release/ is a build product: in sync with source/, no solutions, no hidden tests, no outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from autograder.nbg import generate_release
from autograder.paths import RELEASE, SOURCE, assignments, release_notebook, source_notebook

NAMES = assignments()
VOLATILE_KEYS = {"execution", "collapsed", "scrolled", "jupyter", "ExecuteTime", "widgets"}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    generate_release(NAMES, out=out)
    return out


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
    meta = [c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata]
    solutions = {m["grade_id"] for m in meta if m.get("solution") and not m.get("grade")}
    tests = {m["grade_id"].removeprefix("test_") for m in meta if m.get("grade") and not m.get("solution")}
    assert solutions, f"{name} has no solution cells"
    assert solutions == tests, f"{name}: solutions {sorted(solutions)} vs tests {sorted(tests)}"
    for cell in nb.cells:
        m = cell.metadata.get("nbgrader", {})
        if m.get("grade") and cell.cell_type == "code":
            first = cell.source.lstrip().splitlines()[0]
            assert first.startswith('"""Check that'), f"{m['grade_id']}: start with a docstring"
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{m['grade_id']} has no hidden tests"
