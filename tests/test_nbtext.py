"""The percent-text form of notebooks round-trips with the source notebooks."""

from __future__ import annotations

import nbformat
import pytest

from autograder.nbtext import main, notebook_from_text, text_from_notebook
from autograder.paths import SOURCE


@pytest.mark.parametrize("path", sorted(SOURCE.rglob("*.ipynb")), ids=lambda p: p.stem)
def test_source_notebooks_round_trip(path):
    nb = nbformat.read(path, as_version=4)
    again = notebook_from_text(text_from_notebook(nb))
    assert [(c.cell_type, c.source, c.metadata.get("nbgrader", {}).get("grade_id"))
            for c in again.cells] == [
        (c.cell_type, c.source, c.metadata.get("nbgrader", {}).get("grade_id")) for c in nb.cells]


def test_headers_make_nbgrader_metadata():
    nb = notebook_from_text("# %% [solution] f\ndef f(): pass\n# %% [tests] test_f points=2\nf()\n")
    sol, test = (c.metadata["nbgrader"] for c in nb.cells)
    assert sol["solution"] and not sol["grade"] and not sol["locked"]
    assert test["grade"] and test["locked"] and test["points"] == 2


@pytest.mark.parametrize("text,message", [
    ("# %% [tests] t\nx\n", "needs points"),
    ("# %% [solution]\nx\n", "needs an id"),
    ("# %% [bogus] x\n", "unknown cell kind"),
    ("x = 1\n# %%\n", "before the first"),
    ("# %% [solution] f\n# %% [solution] f\n", "duplicate"),
])
def test_bad_text_gives_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        notebook_from_text(text)


def test_command_line_reports_errors_in_one_line(tmp_path, capsys):
    assert main(["to-ipynb", str(tmp_path / "missing.py"), str(tmp_path / "x.ipynb")]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["nonsense"]) == 2
