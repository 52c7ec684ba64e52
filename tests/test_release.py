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
    from autograder.cells import solution_cells, test_cells

    nb = nbformat.read(source_notebook(name), as_version=4)
    solutions = set(solution_cells(nb))
    tests = test_cells(nb)
    assert solutions, f"{name} has no solution cells"
    assert solutions == {t.function for t in tests}, (
        f"{name}: solutions {sorted(solutions)} vs tested functions {sorted({t.function for t in tests})}")
    hidden: dict[str, bool] = {}
    for t in tests:
        source = nb.cells[t.index].source
        assert source.lstrip().splitlines()[0].startswith('"""Check that'), (
            f"{t.grade_id}: start with a docstring")
        hidden[t.function] = hidden.get(t.function, False) or "### BEGIN HIDDEN TESTS" in source
    # A part whose visible check is the whole rule needs no hidden block; a function does.
    missing = sorted(f for f, has in hidden.items() if not has)
    assert not missing, f"{name}: no hidden tests for {missing}"
