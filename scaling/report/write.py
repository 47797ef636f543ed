"""Writing a report: ``report.html`` (self-contained), ``report.md`` and ``figures/``.

Kept apart from :mod:`scaling.report.document` (the report value) so the
renderers can import the value without an import circle:
document <- html, markdown <- write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaling.outputs import write_atomic
from scaling.report.document import Report
from scaling.report.html import render_html
from scaling.report.markdown import render_markdown


def write_report(report: Report, out_dir: Path | str, *, stem: str = "report") -> dict[str, Any]:
    """Write ``<out_dir>/<stem>.html`` (self-contained), ``<stem>.md`` and ``figures/*.png|svg``.

    Returns
    -------
    dict
        ``html``, ``markdown`` (paths) and ``figures`` (list of paths).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig_paths = []
    for item in report.figures():
        fig_paths.append(write_atomic(out / "figures" / f"{item.name}.png", item.png))
        fig_paths.append(write_atomic(out / "figures" / f"{item.name}.svg", item.svg))
    md = write_atomic(out / f"{stem}.md", render_markdown(report, figure_dir="figures"))
    html = write_atomic(out / f"{stem}.html", render_html(report))
    return {"html": html, "markdown": md, "figures": fig_paths}


__all__ = ["write_report"]
