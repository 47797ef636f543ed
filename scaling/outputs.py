"""Writing results: one atomic writer, and output paths checked before long work.

Every file the package writes (fit JSON, prediction CSV, tables, reports and
their figures) goes through :func:`write_atomic`: the bytes are written to a
temporary file in the destination folder and moved into place with
``os.replace``, so a reader never sees half a file and a crash or a kill
leaves the old file (or none) behind, plus at most one hidden ``.tmp`` file
that the next write of the same path removes.

:func:`check_output_path` runs *before* a fit or a report is computed, so an
unwritable ``--out`` is reported in one line at once instead of after minutes
of work, and an output that would overwrite one of the inputs is refused.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from scaling.errors import ScalingError


class OutputError(ScalingError):
    """An output path that cannot or must not be written."""


def _stale_temps(path: Path) -> Iterable[Path]:
    try:
        return list(path.parent.glob(f".{path.name}.*.tmp"))
    except OSError:
        return []


def write_atomic(path: Path | str, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically, with the permissions a plain ``open()`` gives.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if missing.
    data : bytes or str
        Contents (``str`` is encoded as UTF-8).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    ``mkstemp`` creates files with mode 0600; the file is re-moded to
    ``0666 & ~umask`` before it is moved into place so results follow the
    user's umask like any other file. Temporary files of earlier interrupted
    writes of the same path are removed.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    for stale in _stale_temps(path):
        try:
            stale.unlink()
        except OSError:
            pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(path: Path | str, *, inputs: Iterable[str | os.PathLike] = (), flag: str = "--out",
                      folder: bool = False) -> Path:
    """Check that ``path`` can be written, before any long work; raise one clear line if not.

    Parameters
    ----------
    path : path-like
        The output file (or folder when ``folder=True``).
    inputs : iterable of path-like
        Input files: writing over one of them is refused.
    flag : str
        The option name, for the message.
    folder : bool
        ``path`` is an output folder (a report) rather than a file.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        The path names an input file, lies under a file, is a folder where a
        file is wanted (or the reverse), or its folder cannot be created or
        written.
    """
    p = Path(path)
    if not str(path).strip():
        raise OutputError(f"{flag} is empty; give a file name, e.g. {flag} out/result.json")
    for src in inputs:
        if _same_file(p, Path(src)) or (not p.exists() and Path(src).resolve() == p.resolve()):
            raise OutputError(f"{flag} {p} is one of the input files; choose another output path "
                              "(inputs are never overwritten)")
    if folder:
        if p.exists() and not p.is_dir():
            raise OutputError(f"{flag} {p} is a file; give a folder for the report")
        target_dir = p
    else:
        if p.is_dir():
            raise OutputError(f"{flag} {p} is a folder; give a file name inside it, e.g. {p / 'out.json'}")
        target_dir = p.parent if str(p.parent) else Path(".")
    # walk up to the first existing ancestor: it must be a writable folder
    probe = target_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"{flag} {p}: {probe} is a file, not a folder; choose a path in a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{flag} {p}: folder {probe} is not writable; choose a writable location")
    if not folder and p.exists() and not os.access(p, os.W_OK) and not os.access(target_dir, os.W_OK):
        raise OutputError(f"{flag} {p} exists and cannot be replaced; choose another path")
    return p


__all__ = ["OutputError", "check_output_path", "write_atomic"]
