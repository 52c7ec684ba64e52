"""The text form of notebooks is jupytext's percent format, nbgrader metadata included."""

from __future__ import annotations

import subprocess
import sys

import jupytext
import nbformat
import pytest

from autograder.nbg import clean_source
from autograder.nbtext import FORMAT, main, notebook_from_text, text_from_notebook
from autograder.paths import ROOT, SOURCE

SOURCES = sorted(SOURCE.rglob("*.ipynb"))


def _every_kind() -> nbformat.NotebookNode:
    """A notebook with every kind of nbgrader cell, as nbgrader's cell toolbar makes them."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"}, "language_info": {"name": "python"}}

    def meta(grade_id, grade=False, solution=False, locked=False, points=None, task=False):
        m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
             "solution": solution}
        if points is not None:
            m["points"] = points
        if task:
            m["task"] = True
        return {"nbgrader": m}

    cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nLocked text: `# %%` here is fine.", id="a1b2c3d4",
                                      metadata={**meta("intro", locked=True), "editable": False,
                                                "deletable": False}),
        nbformat.v4.new_code_cell("import numpy as np\n%matplotlib inline", id="setup",
                                  metadata={**meta("setup", locked=True), "tags": ["setup"]}),
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n\n\n\n"
                                  "    ### END SOLUTION", id="f", metadata=meta("f", solution=True)),
        nbformat.v4.new_code_cell('"""Check that f works."""\nassert f(1) == 1\n### BEGIN HIDDEN TESTS\n'
                                  "assert f(2) == 2\n### END HIDDEN TESTS", id="test_f__computation",
                                  metadata={**meta("test_f__computation", grade=True, locked=True,
                                                   points=2), "editable": False, "deletable": False}),
        nbformat.v4.new_markdown_cell("Why? YOUR ANSWER HERE", id="why",
                                      metadata=meta("why", grade=True, solution=True, points=1)),
        nbformat.v4.new_markdown_cell("Plot something (task).", id="task",
                                      metadata=meta("task", locked=True, points=3, task=True)),
        nbformat.v4.new_code_cell("x = 'ünïcode'  \n\n\ny = 2", id="cell-006",
                                  metadata={"tags": ["a tag", "another"]}),
        nbformat.v4.new_raw_cell("raw text", id="Zz-9"),
        nbformat.v4.new_code_cell("", id="cell-008"),
    ]
    nb.cells = cells
    nbformat.validate(nb)
    return nb


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_notebooks_round_trip_byte_for_byte(path):
    raw = path.read_text(encoding="utf-8")
    again = notebook_from_text(text_from_notebook(nbformat.reads(raw, as_version=4)))
    assert nbformat.writes(again) + "\n" == raw


def test_every_nbgrader_cell_kind_tag_and_id_round_trips():
    nb = _every_kind()
    raw = nbformat.writes(nb)
    text = text_from_notebook(nb)
    assert nbformat.writes(notebook_from_text(text)) == raw
    assert 'id="a1b2c3d4"' in text and 'id="Zz-9"' in text  # ids other than the usual ones
    assert 'id="f"' not in text and 'id="cell-006"' not in text
    assert "editable=false deletable=false" in text


def test_jupytext_itself_reads_and_writes_the_text(tmp_path):
    """What an instructor's jupytext (CLI, or JupyterLab's extension) sees and saves."""
    nb = _every_kind()
    path = tmp_path / "nb.py"
    path.write_text(text_from_notebook(nb), encoding="utf-8")
    read = jupytext.read(path)
    for ours, theirs in zip(nb.cells, read.cells, strict=True):
        assert theirs.cell_type == ours.cell_type and theirs.source == ours.source
        for key in ("nbgrader", "tags", "editable", "deletable"):
            assert theirs.metadata.get(key) == ours.metadata.get(key)
    # JupyterLab's jupytext extension opens and saves text notebooks through this manager.
    manager = jupytext.TextFileContentsManager(root_dir=str(tmp_path))
    model = manager.get("nb.py")
    assert model["type"] == "notebook"
    before = path.read_text(encoding="utf-8")
    manager.save(model, "nb.py")
    assert path.read_text(encoding="utf-8") == before
    assert nbformat.writes(notebook_from_text(before)) == nbformat.writes(nb)


def test_text_written_by_jupytext_cli_reads_back(tmp_path):
    nb = _every_kind()
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    done = subprocess.run([sys.executable, "-m", "jupytext", "--to", FORMAT, str(src)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    again = notebook_from_text((tmp_path / "nb.py").read_text(encoding="utf-8"))
    for ours, theirs in zip(nb.cells, again.cells, strict=True):
        assert (theirs.cell_type, theirs.source, theirs.metadata) == (ours.cell_type, ours.source,
                                                                      ours.metadata)


def test_a_code_line_that_jupytext_would_split_is_refused_with_its_place():
    nb = _every_kind()
    nb.cells[2].source = "def f(x):\n    # %% a comment\n    return x"
    with pytest.raises(ValueError, match=r"cell 2 \(f\), line 2: .*would start a new cell"):
        text_from_notebook(nb)


def test_commands_work_and_fail_in_one_line(tmp_path, capsys):
    src = SOURCES[0]
    text, back = tmp_path / "nb.py", tmp_path / "nb.ipynb"
    assert main(["text", str(src), str(text)]) == 0
    assert main(["notebook", str(text), str(back)]) == 0
    assert back.read_bytes() == src.read_bytes()
    capsys.readouterr()
    assert main(["notebook", str(tmp_path / "missing.py"), str(tmp_path / "x.ipynb")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "x.ipynb").exists()
    assert main(["nonsense"]) == 2


def test_clean_removes_outputs_and_execution_metadata_and_keeps_nbgrader(tmp_path):
    nb = _every_kind()
    saved = nbformat.from_dict(nb)  # as JupyterLab saves it after running
    saved.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    saved.metadata["language_info"] = {"name": "python", "version": "3.11.2", "mimetype": "text/x-python"}
    for i, cell in enumerate(saved.cells):
        cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
        cell.metadata["collapsed"] = False
        if cell.cell_type == "code":
            cell.execution_count = i
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(saved, path)
    done = subprocess.run([sys.executable, "-m", "autograder", "clean", "--check", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "has outputs" in done.stdout
    done = subprocess.run([sys.executable, "-m", "autograder", "clean", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "cleaned" in done.stdout, done.stderr
    assert path.read_text(encoding="utf-8") == nbformat.writes(nb) + "\n"
    assert nbformat.writes(clean_source(nb)) == nbformat.writes(nb)  # clean is a no-op on clean
