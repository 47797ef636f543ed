"""Reports: figures, a self-contained HTML page and a Markdown version.

>>> from scaling.report import build_report, write_report          # doctest: +SKIP
>>> rep = build_report([fit], budgets=[1e21])                        # doctest: +SKIP
>>> write_report(rep, "out/report")["html"]                         # doctest: +SKIP

Submodules: :mod:`~scaling.report.figures` (plot helpers that take and return
``ax``), :mod:`~scaling.report.build` (composition), :mod:`~scaling.report.html`
and :mod:`~scaling.report.markdown` (renderers), :mod:`~scaling.report.document`
(the report value), :mod:`~scaling.report.write` (writing it atomically). Imports are deferred so that importing
this package does not load matplotlib.
"""

from __future__ import annotations

from typing import Any


def build_report(*args: Any, **kwargs: Any):
    """See :func:`scaling.report.build.build_report`."""
    from scaling.report.build import build_report as _build

    return _build(*args, **kwargs)


def write_report(*args: Any, **kwargs: Any):
    """See :func:`scaling.report.write.write_report`."""
    from scaling.report.write import write_report as _write

    return _write(*args, **kwargs)


__all__ = ["build_report", "write_report"]
