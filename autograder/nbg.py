"""Thin layer over nbgrader's own API: config, release generation, autograding."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.paths import CONFIG, RELEASE, SOURCE, assignments

# nbgrader runs the `alembic` command of its own environment: make sure it is found even
# when this environment's Python was started without activating it.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

__all__ = ["EXCHANGE_FILES", "api_for", "clean_file", "clean_source", "extra_files", "generate_release",
           "load_config", "sqlite_url", "workspace_config_text", "write_workspace_config"]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def load_config(root: Path, db_url: str | None = None):
    """The course's nbgrader config (``nbgrader_config.py``) for a course root."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
    config.CourseDirectory.root = str(Path(root).resolve())
    config.CourseDirectory.db_url = db_url or sqlite_url(Path(root) / "gradebook.db")
    return config


def api_for(root: Path, db_url: str | None = None, log_level=logging.WARNING):
    """An ``NbGraderAPI`` on course root ``root`` with the course's config."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root, db_url)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(log_level)
    return api


def _run(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader failed to {what}:\n{result.get('log', '')}\n{result.get('error', '')}")


def generate_into(root: Path, names: list[str], source: Path = SOURCE, db_url: str | None = None):
    """Copy ``source/<name>`` into course root ``root`` and run generate_assignment there."""
    api = api_for(root, db_url)
    for name in names:
        src = source / name
        if not src.is_dir():
            raise FileNotFoundError(f"no assignment {name!r} in {source}")
        dst = Path(root) / "source" / name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        # Several graders may share one database (PostgreSQL): if another one is creating
        # the same rows at this moment, nbgrader fails on a unique constraint; try again.
        for attempt in range(5):
            result = api.generate_assignment(name, force=True)
            if result.get("success") or attempt == 4:
                break
            time.sleep(0.5 + attempt)
        _run(result, f"generate the release of {name}")
    return api


def generate_release(names: list[str] | None = None, out: Path = RELEASE) -> list[Path]:
    """Regenerate ``release/`` (or ``out``) from ``source/`` with nbgrader's generator.

    The files are exactly what ``nbgrader generate_assignment`` writes (locked cells keep
    ``"editable": false, "deletable": false``); ``source/`` is kept free of outputs and
    volatile metadata (a test checks it), so there is nothing to remove.
    """
    names = names or assignments()
    unknown = sorted(set(names) - set(assignments()))
    if unknown:
        raise ValueError(f"unknown assignment(s) {', '.join(unknown)}; known: "
                         f"{', '.join(assignments())}")
    written = []
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        generate_into(Path(tmp), names)
        for name in names:
            target = Path(out) / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(Path(tmp) / "release" / name, target)
            written += sorted(target.rglob("*.ipynb"))
    return written


#: What ``clean`` keeps of a cell's metadata: nbgrader's, tags, and JupyterLab's locks.
KEEP_CELL_METADATA = ("nbgrader", "tags", "editable", "deletable")
#: What ``clean`` keeps of a notebook's metadata.
KEEP_NOTEBOOK_METADATA = ("kernelspec", ("language_info", "name"))


def clean_source(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A source notebook as the course keeps it: no outputs, no execution metadata.

    nbconvert's ``ClearOutputPreprocessor`` and ``ClearMetadataPreprocessor``, keeping
    nbgrader's cell metadata, tags, ``editable``/``deletable``, the kernelspec and the
    language name. Cell ids are kept.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor

    nb = nbformat.from_dict(nb)
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    meta = ClearMetadataPreprocessor(
        enabled=True, preserve_cell_metadata_mask=set(KEEP_CELL_METADATA),
        preserve_nb_metadata_mask=set(KEEP_NOTEBOOK_METADATA))
    nb, _ = meta.preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type != "code":  # nbconvert's preprocessor clears code cells only
            cell.metadata = dict(meta.nested_filter(cell.metadata.items(),
                                                    meta.preserve_cell_metadata_mask))
        if not cell.get("attachments", True):
            del cell["attachments"]
    return nbformat.from_dict(nb)


def clean_file(path: Path) -> bool:
    """Clean a source notebook file in place (see :func:`clean_source`); True if it changed."""
    path = Path(path)
    try:
        before = path.read_text(encoding="utf-8")
        nb = nbformat.reads(before, as_version=4)
    except (OSError, UnicodeDecodeError, ValueError) as err:  # nbformat's errors are ValueErrors
        raise ValueError(f"{path}: not a readable notebook ({str(err).splitlines()[0][:120]})") from err
    after = nbformat.writes(clean_source(nb))
    after += "" if after.endswith("\n") else "\n"  # as nbformat.write does
    if after == before:
        return False
    path.write_text(after, encoding="utf-8")
    return True


# --------------------------------------------------------------------------------------
# The workspace's own nbgrader_config.py
# --------------------------------------------------------------------------------------

_BEGIN = "# >>> python -m autograder: the course and this workspace (rewritten on each run) >>>"
_END = "# <<< python -m autograder <<<"


def workspace_config_text(existing: str | None, root: Path, db_url: str) -> str:
    """The workspace's ``nbgrader_config.py``: the pipeline's block, the instructor's lines kept.

    The pipeline owns only the block between its two marker lines (load the course's
    config, set the course root and the gradebook); everything else in the file is the
    instructor's and is kept as it is, after the block, so an instructor's setting wins in
    formgrader and the nbgrader commands run there. A file without the block (written by
    an instructor, or by an older version) gets it on top.
    """
    block = "\n".join([
        _BEGIN,
        "c = get_config()  # noqa: F821",
        f"load_subconfig({str(CONFIG)!r})  # noqa: F821",
        f"c.CourseDirectory.root = {str(Path(root).resolve())!r}",
        f"c.CourseDirectory.db_url = {db_url!r}",
        _END,
    ])
    if not existing:
        return block + "\n# Your own settings for this workspace go below; they are kept.\n"
    if _BEGIN in existing and _END in existing:
        head, rest = existing.split(_BEGIN, 1)
        _, tail = rest.split(_END, 1)
        return head + block + tail
    legacy = "# Written by `python -m autograder`: the course's nbgrader settings, for this workspace."
    if existing.startswith(legacy):  # the file earlier versions wrote, all of it theirs
        return block + "\n"
    return block + "\n" + existing


def write_workspace_config(root: Path, db_url: str) -> Path:
    """Write or update ``root/nbgrader_config.py`` (see :func:`workspace_config_text`)."""
    path = Path(root) / "nbgrader_config.py"
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    text = workspace_config_text(existing, root, db_url)
    if text != existing:
        path.write_text(text, encoding="utf-8")
    return path


#: Files nbgrader's exchange puts beside a submitted notebook (``nbgrader submit``).
EXCHANGE_FILES = frozenset({"timestamp.txt", "submission_secret.txt"})


def extra_files(folder: Path, notebooks: set[str]) -> list[str]:
    """Files of a submission folder that are neither its notebooks nor the exchange's own."""
    return sorted(p.name for p in Path(folder).iterdir()
                  if p.name not in notebooks and p.name not in EXCHANGE_FILES)
