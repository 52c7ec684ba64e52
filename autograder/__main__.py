"""python -m autograder: the instructor's command line.

Runs inside the project's own environment (``.venv``), creating it on first use.
"""

from __future__ import annotations

import os
import sys

from autograder import _bootstrap

USAGE = """\
usage: python -m autograder COMMAND [options]

commands:
  demo       grade the bundled example class end to end and print the grade table
  grade      grade a class: a folder submitted/<student>/<assignment>/ or a zip of one
  release    regenerate release/ from source/ with nbgrader
  examples   write the bundled example class (submitted/ layout) to a folder
  test       run the whole test suite (pytest -n auto), installing what it needs
  lab        open JupyterLab on the student notebooks in release/
  text       a notebook as jupytext percent text:  text NOTEBOOK.ipynb TEXT.py
  notebook   the text back as a notebook:           notebook TEXT.py NOTEBOOK.ipynb
  clean      drop outputs and execution metadata:  clean [--check] NOTEBOOK.ipynb ...

python -m autograder COMMAND --help describes each.
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if not _bootstrap.in_project_env() and not os.environ.get("AUTOGRADER_NO_VENV"):
        _bootstrap.reexec_in_env("autograder", argv)
    from autograder.cli import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
