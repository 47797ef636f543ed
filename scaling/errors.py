"""User-facing errors.

Every problem a user can fix (bad file, bad flag, bad value) is raised as a
:class:`ScalingError` whose message is one line saying what is wrong, where
(file, row, column) and how to fix it. The CLI prints that line and exits with
status 2; it never shows a traceback for these.
"""

from __future__ import annotations


class ScalingError(Exception):
    """A problem with the user's input, reported as one clear line.

    Parameters
    ----------
    message : str
        What is wrong, where, and how to fix it. Must not contain newlines.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class DataError(ScalingError):
    """Bad or unreadable input data (missing file, bad column, bad value)."""


class FitError(ScalingError):
    """A fit that cannot be started or whose inputs do not match the law."""


class FitFileError(FitError, DataError):
    """A saved fit (``fit.json``) that is malformed, edited, or names another law's parameters.

    Both a :class:`FitError` and a :class:`DataError` (the file is the user's input).
    """
