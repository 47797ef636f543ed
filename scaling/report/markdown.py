"""Render a :class:`~scaling.report.document.Report` as Markdown (GitHub flavour).

Figures are referenced as relative links to the PNG files written beside the
report (``figures/<name>.png``); tables become pipe tables.
"""

from __future__ import annotations

import html

from scaling.report.document import FigureItem, Report, Table


def _text(text: str) -> str:
    """Markdown text with raw HTML neutralised: run names and captions come from user data, and
    Markdown renderers pass ``<script>``/``<img>`` through verbatim."""
    return html.escape(str(text), quote=False)


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> str:
    lines = []
    if t.caption:
        lines.append(f"*{_text(t.caption)}*\n")
    lines.append("| " + " | ".join(_cell(c) for c in t.columns) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(t.columns) - 1)) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def _block(b, figure_dir: str) -> str:
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, FigureItem):
        return f"![{_cell(b.caption or b.name)}]({figure_dir}/{b.name}.png)\n\n*{_text(b.caption)}*"
    return _text(str(b))


def render_markdown(report: Report, *, figure_dir: str = "figures") -> str:
    """The report as Markdown; figures link to ``<figure_dir>/<name>.png``."""
    parts = [f"# {_text(report.title)}", "## Answer", *(_block(b, figure_dir) for b in report.answer)]
    for s in report.sections:
        parts.append(f"## {_text(s.title)}")
        parts.extend(_block(b, figure_dir) for b in s.blocks)
    if report.footer:
        parts.append("---\n" + report.footer)
    return "\n\n".join(parts) + "\n"


__all__ = ["render_markdown"]
