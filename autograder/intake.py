"""Bringing submissions in: a zip of a submitted/ folder, unpacked safely."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["unpack_zip"]


def unpack_zip(path: Path, dest: Path) -> Path:
    """Unpack a zip of ``<student>/<assignment>/<notebook>.ipynb`` into ``dest``.

    Entries whose paths climb out of the folder (``..``, absolute paths) are skipped and
    never written. One top-level folder around the students (``submitted/`` say) is
    looked through. Returns the folder holding the student folders.
    """
    path, dest = Path(path), Path(dest)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"{path} is not a readable zip file ({err})") from None
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir() or name.is_absolute() or ".." in name.parts or not name.parts:
                continue
            if name.parts[0] in ("__MACOSX",) or name.name.startswith("._"):
                continue
            target = dest.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        inner = [p for p in entries[0].iterdir() if p.is_dir()]
        if inner and all(any(q.is_dir() for q in s.iterdir()) for s in inner):
            return entries[0]
    return dest
