"""Notebooks as plain text, for authoring and review (jupytext-like percent format).

The ``.ipynb`` files in ``source/`` are canonical. This module turns a text file into
such a notebook (and back), with nbgrader's cell metadata written from short headers::

    # %% [markdown]
    # # A title
    # Some text.
    # %%
    import numpy as np                          (a plain code cell)
    # %% [readonly] setup
    ...                                         (locked code, grade_id "setup")
    # %% [solution] window_sum
    def window_sum(...):                        (a graded function; students write it)
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION
    # %% [tests] test_window_sum points=2
    \"\"\"Check that ...\"\"\"                  (autograded tests, locked)
    # %% [answer] why_flip points=1              (a manually graded markdown answer)

Usage::

    python -m autograder.nbtext to-ipynb notebook.py source/NN/NN.ipynb
    python -m autograder.nbtext to-text source/NN/NN.ipynb notebook.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

__all__ = ["notebook_from_text", "text_from_notebook", "KINDS"]

KINDS = ("markdown", "code", "readonly", "solution", "tests", "answer")
_HEADER = re.compile(r"^# %%(?:\s+\[(?P<kind>\w+)\])?(?:\s+(?P<id>[A-Za-z_][\w-]*))?"
                     r"(?:\s+points=(?P<points>[\d.]+))?\s*$")
_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _nbgrader(kind: str, grade_id: str | None, points: float | None) -> dict | None:
    if kind in ("markdown", "code"):
        return None
    if not grade_id:
        raise ValueError(f"a [{kind}] cell needs an id: '# %% [{kind}] some_id'")
    meta = {"grade_id": grade_id, "schema_version": 3}
    meta["grade"] = kind in ("tests", "answer")
    meta["solution"] = kind in ("solution", "answer")
    meta["locked"] = kind in ("readonly", "tests")
    if meta["grade"]:
        if points is None:
            raise ValueError(f"graded cell {grade_id!r} needs points=N")
        meta["points"] = points
    return meta


def notebook_from_text(text: str) -> nbformat.NotebookNode:
    """Build a notebook from percent-format text (see the module docstring)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(_KERNELSPEC), "language_info": {"name": "python"}}
    cells: list[tuple[dict, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("# %%"):
            m = _HEADER.match(line)
            if not m:
                raise ValueError(f"line {lineno}: cannot read cell header {line!r}")
            kind = m["kind"] or "code"
            if kind not in KINDS:
                raise ValueError(f"line {lineno}: unknown cell kind {kind!r}; use one of {KINDS}")
            points = float(m["points"]) if m["points"] else None
            if points is not None and points.is_integer():
                points = int(points)
            cells.append(({"kind": kind, "id": m["id"], "points": points}, []))
        elif not cells:
            if line.strip():
                raise ValueError(f"line {lineno}: text before the first '# %%' header")
        else:
            cells[-1][1].append(line)
    ids = set()
    for head, lines in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        kind = head["kind"]
        if kind in ("markdown", "answer"):
            body = "\n".join(re.sub(r"^# ?", "", ln) for ln in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        meta = _nbgrader(kind, head["id"], head["points"])
        if meta:
            if meta["grade_id"] in ids:
                raise ValueError(f"duplicate cell id {meta['grade_id']!r}")
            ids.add(meta["grade_id"])
            cell.metadata["nbgrader"] = meta
        cells_id = meta["grade_id"] if meta else None
        cell.id = cells_id or f"cell-{len(nb.cells):03d}"
        nb.cells.append(cell)
    return nb


def text_from_notebook(nb: nbformat.NotebookNode) -> str:
    """Write a notebook as percent-format text (inverse of :func:`notebook_from_text`)."""
    out: list[str] = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            if meta.get("grade") and meta.get("solution"):
                kind = "answer"
            elif meta.get("grade"):
                kind = "tests"
            elif meta.get("solution"):
                kind = "solution"
            else:
                kind = "readonly"
            head = f"# %% [{kind}] {meta['grade_id']}"
            if meta.get("grade"):
                head += f" points={meta.get('points', 0):g}"
        else:
            head = "# %% [markdown]" if cell.cell_type == "markdown" else "# %%"
        out.append(head)
        if cell.cell_type == "markdown":
            out.extend(("# " + ln).rstrip() for ln in cell.source.splitlines())
        else:
            out.extend(cell.source.splitlines())
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] not in ("to-ipynb", "to-text"):
        print(__doc__.split("Usage::")[1], file=sys.stderr)
        return 2
    verb, src, dst = argv
    try:
        if verb == "to-ipynb":
            nb = notebook_from_text(Path(src).read_text(encoding="utf-8"))
            nbformat.validate(nb)
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, dst)
        else:
            Path(dst).write_text(text_from_notebook(nbformat.read(src, as_version=4)),
                                 encoding="utf-8")
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
