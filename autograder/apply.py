"""Apply a grading worker's answer to the course's gradebook, with nbgrader's own autograde.

A grading process (:mod:`autograder.worker`) autogrades a submission in a private course
folder and returns the autograded notebook. Here, in the pipeline's main process (the
only process that writes the gradebook), nbgrader's own ``Autograde`` converter runs on
the workspace's copy of the submission exactly as ``nbgrader autograde`` would, except
that its ``Execute`` step is :class:`ReplayExecute`: instead of running a kernel it takes
the returned notebook (after checking that it is this submission, cell for cell). So
nbgrader's own bookkeeping writes everything: the student and submission rows, the
timestamp and late penalty, ``SaveAutoGrades``, the ``autograded/`` folder.

Answers are kept in ``WORKSPACE/.grading/results/<student>/<assignment>/`` (the returned
notebooks under ``notebooks/``, the files grading wrote next to them under ``files/``),
so an answer can be applied again without grading again.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

__all__ = ["Applier", "ReplayExecute", "has_answer", "results_dir"]


def results_dir(workspace: Path) -> Path:
    """Where the workspace keeps the grading workers' answers."""
    return Path(workspace) / ".grading" / "results"


def has_answer(workspace: Path, student: str, assignment: str) -> bool:
    """Whether the workspace keeps an answer for this submission (to apply it again)."""
    return any((results_dir(workspace) / student / assignment / "notebooks").glob("*.ipynb"))


class ReplayMismatch(Exception):
    """The returned notebook is not the submission nbgrader prepared here."""


class ReplayExecute(NbGraderPreprocessor):
    """nbgrader's ``Execute`` step without a kernel: the outputs a grading worker returned.

    Reads ``results_dir/<student>/<assignment>/notebooks/<notebook>.ipynb`` and returns it
    in place of the notebook it is given, after checking that both have the same cells
    (type, source and nbgrader id, cell by cell): the worker prepared the same submission
    from the same source, so they must. Consecutive prints of a cell are merged into one
    output (nbconvert's ``CoalesceStreamsPreprocessor``).
    """

    results_dir = Unicode("", help="Folder of the returned notebooks.").tag(config=True)

    def preprocess(self, nb, resources):  # noqa: D102 (see nbconvert's Preprocessor)
        meta = resources["nbgrader"]
        path = Path(self.results_dir, meta["student"], meta["assignment"], "notebooks",
                    f"{meta['notebook']}.ipynb")
        if not path.exists():
            raise ReplayMismatch(f"the grading worker returned no notebook {path.name}")
        graded = nbformat.read(path, as_version=4)
        problem = _difference(nb, graded)
        if problem:
            raise ReplayMismatch(f"the grading worker returned another notebook: {problem}")
        # A cell's prints reach the grader in one stream message or several, depending on
        # how busy the machine was (ipykernel flushes every 0.2 s): merged, as Jupyter shows
        # them, so the autograded notebook and its feedback do not depend on the timing.
        from nbconvert.preprocessors import CoalesceStreamsPreprocessor

        return CoalesceStreamsPreprocessor().preprocess(graded, resources)


def _difference(nb, graded) -> str:
    """Why ``graded`` is not ``nb`` executed (empty when it is)."""
    if len(nb.cells) != len(graded.cells):
        return f"{len(graded.cells)} cells instead of {len(nb.cells)}"
    for i, (a, b) in enumerate(zip(nb.cells, graded.cells, strict=True)):
        ida = a.metadata.get("nbgrader", {}).get("grade_id")
        idb = b.metadata.get("nbgrader", {}).get("grade_id")
        if a.cell_type != b.cell_type or a.source != b.source or ida != idb:
            return f"cell {i} differs"
    return ""


def _is_execute(pp) -> bool:
    """Whether a preprocessor (class or dotted name) is an Execute step (runs a kernel)."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from traitlets.utils.importstring import import_item

    if isinstance(pp, str):
        try:
            pp = import_item(pp)
        except Exception:
            return pp.rsplit(".", 1)[-1].endswith("Execute")
    return isinstance(pp, type) and (issubclass(pp, ExecutePreprocessor)
                                     or pp.__name__.endswith("Execute"))


def _workspace_config(workspace: Path, db_url: str):
    """The workspace's nbgrader config (the course's, plus an instructor's own settings:
    late penalties and the like apply here), for this course root and gradebook."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.nbg import load_config

    if not (workspace / "nbgrader_config.py").exists():
        return load_config(workspace, db_url)
    config = PyFileConfigLoader("nbgrader_config.py", str(workspace)).load_config()
    config.CourseDirectory.root = str(workspace)
    config.CourseDirectory.db_url = db_url
    return config


class Applier:
    """nbgrader's autograde on the workspace, with the Execute step replayed.

    Parameters
    ----------
    workspace : Path
        The pipeline's workspace (an nbgrader course folder).
    db_url : str
        The course's gradebook.
    """

    def __init__(self, workspace: Path, db_url: str):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.converters import Autograde
        from nbgrader.coursedir import CourseDirectory

        self.workspace = Path(workspace).resolve()
        self.results = results_dir(self.workspace)
        config = _workspace_config(self.workspace, db_url)
        if "autograde_preprocessors" in config.Autograde:
            chain = list(config.Autograde.autograde_preprocessors)
        else:
            chain = list(Autograde.class_traits()["autograde_preprocessors"].default())
        chain = [ReplayExecute if _is_execute(pp) else pp for pp in chain]
        if ReplayExecute not in chain:
            chain.insert(0, ReplayExecute)
        config.Autograde.autograde_preprocessors = chain
        config.ReplayExecute.results_dir = str(self.results)
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        self.api.log.setLevel(logging.WARNING)
        # nbgrader's gradebook code trips SQLAlchemy's autoflush warnings on every submission
        # (harmless, and not ours to fix): keep them off the instructor's terminal.
        from sqlalchemy.exc import SAWarning

        warnings.filterwarnings("ignore", category=SAWarning, module=r"nbgrader\.")

    def keep(self, student: str, assignment: str, notebooks: Mapping[str, bytes],
             files: Mapping[str, bytes]) -> Path:
        """Store a worker's answer (notebooks and side files) for applying; returns its folder."""
        from autograder.worker import _safe_relpath

        folder = self.results / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        for sub, items in (("notebooks", notebooks), ("files", files)):
            for name, data in items.items():
                target = folder.joinpath(sub, *_safe_relpath(name).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return folder

    def apply(self, student: str, assignment: str) -> tuple[bool, str]:
        """Apply the kept answer; returns ``(ok, reason)``.

        The side files (written by grading next to the notebook) are put next to the
        autograded notebook, as they were on the worker.
        """
        from autograder.worker import one_line_reason

        out = self.api.autograde(assignment, student, force=True, create=True)
        if not out.get("success"):
            return False, one_line_reason(out)
        side = self.results / student / assignment / "files"
        if side.is_dir():
            dest = self.workspace / "autograded" / student / assignment
            for path in sorted(side.rglob("*")):
                if path.is_file():
                    target = dest / path.relative_to(side)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        return True, ""
