"""Notebooks as text for authoring and review: jupytext's percent format.

The ``.ipynb`` files in ``source/`` are canonical. Their text form is what jupytext
writes (``py:percent``), with nbgrader's cell metadata, tags and JupyterLab's locks in
the cell headers, so an instructor's jupytext setup and JupyterLab's jupytext extension
open and save it::

    # %% [markdown]
    # # A title
    # %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, ...}
    import numpy as np
    # %% nbgrader={"grade": true, "grade_id": "test_pad__computation", "points": 2, ...}
    \"\"\"Check that ...\"\"\"

Every nbgrader cell kind survives a round trip (autograded answer, autograder tests,
manually graded answer and task, locked markdown), and so do tags and cell ids: a cell
whose id is not the course's usual one (its ``grade_id``, else ``cell-NNN`` by position)
carries it as ``id="..."`` in its header. ``.ipynb`` to text and back gives the same file,
byte for byte. The notebook's kernelspec and language name are kept in jupytext's header.

One limit, jupytext's own: a code line starting with ``# %%`` would start a new cell, so
such a notebook is refused with the cell and line to change.

Usage (``python3 -m autograder`` creates the environment on first use)::

    python3 -m autograder text source/NN/NN.ipynb NN.py       (notebook to text)
    python3 -m autograder notebook NN.py source/NN/NN.ipynb   (text to notebook)
    python3 -m autograder clean source/NN/NN.ipynb [...]      (drop outputs, execution data)
    python3 -m autograder clean --check source/*/*.ipynb      (only say which need it)
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import nbformat

__all__ = ["FORMAT", "main", "notebook_from_text", "text_from_notebook"]

FORMAT = "py:percent"
#: Notebook metadata kept in the text's header (everything else is not course data).
NOTEBOOK_METADATA = "kernelspec,language_info,-jupytext.text_representation.jupytext_version"
#: Cell metadata jupytext adds only to reproduce the text's blank lines.
_JUPYTEXT_ONLY = ("lines_to_next_cell", "cell_marker", "lines_to_end_of_cell_marker")
_MARKER = re.compile(r"^\s*#\s*(%%(%*)(\s|$)|<codecell>\s*$|In\[[0-9 ]*\]:?\s*$)")


def _usual_id(cell, index: int) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return grade_id or f"cell-{index:03d}"


def text_from_notebook(nb: nbformat.NotebookNode) -> str:
    """The notebook as jupytext percent text (metadata in the cell headers).

    Raises
    ------
    ValueError
        If a code or raw cell has a line jupytext would read as a cell marker.
    """
    import jupytext

    nb = copy.deepcopy(nbformat.from_dict(nb))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            for lineno, line in enumerate(cell.source.splitlines(), 1):
                if _MARKER.match(line):
                    raise ValueError(f"cell {index} ({_usual_id(cell, index)}), line {lineno}: "
                                     f"{line.strip()!r} would start a new cell in jupytext's "
                                     "percent format; change that comment (e.g. '#  -- ...')")
        if cell.get("id") and cell.id != _usual_id(cell, index):
            cell.metadata = {"id": cell.id, **cell.metadata}
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    nb.metadata["jupytext"] = {"notebook_metadata_filter": NOTEBOOK_METADATA}
    return jupytext.writes(nb, fmt=FORMAT)


def notebook_from_text(text: str) -> nbformat.NotebookNode:
    """A notebook from jupytext percent text (the inverse of :func:`text_from_notebook`)."""
    import jupytext

    nb = jupytext.reads(text, fmt=FORMAT)
    nb.metadata.pop("jupytext", None)
    nb.nbformat, nb.nbformat_minor = 4, 5
    ids = set()
    for index, cell in enumerate(nb.cells):
        for key in _JUPYTEXT_ONLY:
            cell.metadata.pop(key, None)
        cell.id = str(cell.metadata.pop("id", None) or _usual_id(cell, index))
        if cell.id in ids:
            raise ValueError(f"cell {index}: the id {cell.id!r} is used twice")
        ids.add(cell.id)
    nbformat.validate(nb)
    return nb


def _clean(paths: list[str]) -> int:
    from autograder.nbg import clean_file, clean_source

    check = "--check" in paths
    paths = [p for p in paths if p != "--check"]
    if not paths:
        print("error: name the notebooks to clean, e.g. source/01_convolution_by_hand/"
              "01_convolution_by_hand.ipynb", file=sys.stderr)
        return 2
    dirty = []
    for path in paths:
        if check:
            text = Path(path).read_text(encoding="utf-8")
            nb = nbformat.reads(text, as_version=4)
            again = nbformat.writes(clean_source(nb))
            if again + ("" if again.endswith("\n") else "\n") != text:
                dirty.append(path)
        elif clean_file(Path(path)):
            print(f"cleaned {path}")
        else:
            print(f"{path} is already clean")
    for path in dirty:
        print(f"{path} has outputs or execution metadata: run python3 -m autograder clean {path}")
    return 1 if dirty else 0


def main(argv: list[str] | None = None) -> int:
    """``text NOTEBOOK TEXT``, ``notebook TEXT NOTEBOOK`` or ``clean [--check] NOTEBOOK...``.

    Errors are one line; nothing is written when the input cannot be read.
    """
    argv = sys.argv[1:] if argv is None else argv
    usage = __doc__.split("Usage")[1].split("::", 1)[1].rstrip()
    if not argv or argv[0] not in ("text", "notebook", "clean") or (
            argv[0] != "clean" and len(argv) != 3):
        print(f"usage:{usage}", file=sys.stderr)
        return 2
    verb, args = argv[0], argv[1:]
    try:
        if verb == "clean":
            return _clean(args)
        src, dst = args
        if verb == "text":
            text = text_from_notebook(nbformat.read(src, as_version=4))
            Path(dst).write_text(text, encoding="utf-8")
        else:
            nb = notebook_from_text(Path(src).read_text(encoding="utf-8"))
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, dst)
    except (OSError, ValueError) as err:  # nbformat's and jupytext's errors are ValueErrors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"error: {first}", file=sys.stderr)
        return 1
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
