"""Output files: check a destination before the work, write it atomically after.

The CLI calls :func:`check_output_path` for every ``--out`` *before* a fit or
a prediction runs, so an unwritable destination costs seconds, not the whole
fit; and :func:`write_atomic` to write, so a kill during a large write leaves
either the old file or the new one, never a half-written file or a stray
temporary file. New files get the mode the user's umask gives (as ``open``
does), not ``mkstemp``'s private 0600.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from scaling.errors import DataError

__all__ = ["check_output_path", "write_atomic"]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = (), *, flag: str = "--out",
                      folder: bool = False) -> Path:
    """The output path, checked to be writable and not one of the inputs.

    With ``folder=True`` the path is an output *folder* (a report, the demo):
    it may not exist yet but must not be a file or lie under one, and the
    first part of it that exists must be a writable folder. Nothing is
    created here: the writers (:func:`write_atomic`) create the folder with
    their first file, so a command that fails after the check leaves no empty
    folder behind.

    Parameters
    ----------
    path : str or PathLike
        Where the output will be written.
    inputs : iterable of paths
        Files the command reads; writing over one of them is refused (by
        file identity, so a link or another spelling of the path is caught).
    flag : str
        The option name, for the message.

    Returns
    -------
    Path

    Raises
    ------
    DataError
        One line: a folder that does not exist, a path under a file, a path
        that is a folder, a read-only folder or file, or a path that is an
        input file.
    """
    out = Path(path).expanduser()
    parent = out.parent if str(out.parent) else Path(".")
    for inp in inputs:
        if _same_file(out, Path(inp).expanduser()):
            raise DataError(f"{flag} {out} is also an input file; writing it would destroy the input: choose another name")
    if folder:
        return _check_folder(out, flag)
    if out.is_dir():
        raise DataError(f"{flag} {out} is a folder; give a file name inside it, e.g. {out / 'fit.json'}")
    # Walk up to the first part of the path that exists: a file there means "under a file".
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise DataError(f"{flag} {out}: {probe} is a file, not a folder; choose a path in a folder")
    if not parent.is_dir():
        raise DataError(f"{flag} {out}: folder {parent} does not exist; create it first (mkdir -p {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"{flag} {out}: folder {parent} is not writable; choose another folder or fix its permissions")
    if out.exists() and not os.access(out, os.W_OK):
        raise DataError(f"{flag} {out} exists and is read-only; choose another name or fix its permissions")
    return out


def _check_folder(out: Path, flag: str) -> Path:
    if out.exists() and not out.is_dir():
        raise DataError(f"{flag} {out} is a file; give a folder for the output")
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise DataError(f"{flag} {out}: {probe} is a file, not a folder; choose a path in a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise DataError(f"{flag} {out}: folder {probe} is not writable; choose another folder or fix its permissions")
    return out


def _remove_stale_temporaries(path: Path) -> None:
    # a kill -9 during an earlier write of this path can leave its temporary file behind
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            stale.unlink()
        except OSError:
            pass


def write_atomic(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` through a temporary file in the same folder and ``os.replace``.

    The temporary file is created with mode 0o666 filtered by the umask (like
    ``open(path, "w")``); an existing file's mode is kept. On any exception,
    KeyboardInterrupt included, the temporary file is removed and `path` is
    left as it was. A missing folder is created (a report writes
    ``figures/`` inside its folder); temporary files left by an earlier killed
    write of the same path are removed.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            if path.exists():
                os.chmod(fd, path.stat().st_mode & 0o7777)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
