"""Render a :class:`~scaling.report.document.Report` as one self-contained HTML page.

Figures are embedded as base64 PNG ``data:`` URIs, the style sheet is inline,
and nothing is fetched from the network, so the file can be mailed around or
opened from disk. Paragraphs accept a tiny subset of Markdown (``**bold**``
and ``code``), escaped first.
"""

from __future__ import annotations

import base64
import html
import re

from scaling.report.document import FigureItem, Report, Table

_CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
     max-width:1020px;margin:2em auto;padding:0 1em;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
.answer{background:#f3f8fd;border-left:4px solid #0072B2;padding:.6em 1.1em;margin:1em 0}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border-bottom:1px solid #e3e3e3;padding:.25em .7em;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#fafafa}
caption{caption-side:top;text-align:left;color:#555;font-size:.9em;padding-bottom:.2em}
figure{margin:1em 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em} code{background:#f4f4f4;padding:0 .2em}
footer{color:#777;font-size:.8em;margin-top:3em}
"""


def _inline(text: str) -> str:
    """Escape, then allow **bold** and `code`."""
    t = html.escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", t)
    t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
    return t


_NUMERIC = re.compile(r"^[-+–]?[\d.]")


def _cell(text: str) -> str:
    """Numbers right-aligned (default CSS), words left-aligned."""
    style = "" if _NUMERIC.match(text) else ' style="text-align:left"'
    return f"<td{style}>{html.escape(text)}</td>"


def _table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in t.rows)
    cap = f"<caption>{_inline(t.caption)}</caption>" if t.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(f: FigureItem) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    alt = html.escape(f.caption or f.name, quote=True)
    return (f'<figure id="fig-{f.name}"><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{_inline(f.caption)}</figcaption></figure>")


def _block(b) -> str:
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, FigureItem):
        return _figure(b)
    return f"<p>{_inline(str(b))}</p>"


def render_html(report: Report) -> str:
    """The whole report as one HTML string (UTF-8, no external resources)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(report.title)}</h1>",
        '<section class="answer"><h2 style="border:0;margin-top:.3em">Answer</h2>',
        *(_block(b) for b in report.answer),
        "</section>",
    ]
    for s in report.sections:
        parts.append(f"<section><h2>{html.escape(s.title)}</h2>")
        parts.extend(_block(b) for b in s.blocks)
        parts.append("</section>")
    if report.footer:
        parts.append(f"<footer>{_inline(report.footer)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


__all__ = ["render_html"]
