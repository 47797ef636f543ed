"""The report as a value: an answer, then sections of paragraphs, tables and figures.

:func:`scaling.report.build.build_report` composes a :class:`Report` from fit
results; :mod:`scaling.report.html` and :mod:`scaling.report.markdown` render
it; :func:`scaling.report.write.write_report` writes both plus every figure as PNG and SVG,
atomically (temporary file + ``os.replace``), so a reader never sees half a
report.
"""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any, Sequence, Union


@dataclasses.dataclass(frozen=True)
class Table:
    """A small table of already formatted cells."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""

    @classmethod
    def from_frame(cls, df, *, caption: str = "", formats: dict[str, str] | None = None) -> "Table":
        """Format a DataFrame: floats with ``formats[col]`` (default ``.4g``)."""
        formats = formats or {}
        rows = []
        for rec in df.itertuples(index=False):
            cells = []
            for col, v in zip(df.columns, rec):
                cells.append(fmt(v, formats.get(col, ".4g")))
            rows.append(tuple(cells))
        return cls(tuple(map(str, df.columns)), tuple(rows), caption)


@dataclasses.dataclass(frozen=True)
class FigureItem:
    """A rendered figure: PNG bytes and SVG text, a file stem and a caption."""

    name: str
    caption: str
    png: bytes
    svg: str


Block = Union[str, Table, FigureItem]


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled list of blocks (paragraph strings, tables, figures)."""

    title: str
    blocks: tuple[Block, ...]


@dataclasses.dataclass(frozen=True)
class Report:
    """Title, the answer first, then the evidence."""

    title: str
    answer: tuple[Block, ...]
    sections: tuple[Section, ...]
    footer: str = ""

    def figures(self) -> list[FigureItem]:
        """Every figure, answer first, in order."""
        out = [b for b in self.answer if isinstance(b, FigureItem)]
        for s in self.sections:
            out += [b for b in s.blocks if isinstance(b, FigureItem)]
        return out


def fmt(v: Any, spec: str = ".4g") -> str:
    """Format a cell: numbers with ``spec`` (NaN -> '–'), everything else with str."""
    try:
        import numpy as np

        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        if isinstance(v, (float, np.floating)):
            return "–" if not np.isfinite(v) else _tidy_exp(format(float(v), spec))
    except ImportError:  # pragma: no cover
        pass
    return str(v)


def _tidy_exp(text: str) -> str:
    """'1.8e+09' -> '1.8e9', '3e-05' -> '3e-5' (shorter, still valid Python floats)."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)


def interval(point: float, lo: float, hi: float, spec: str = ".3g") -> str:
    """``'4.0e10 [2.1e10, 1.0e11]'``; without bounds just the point."""
    import numpy as np

    p = fmt(point, spec)
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return p
    return f"{p} [{fmt(lo, spec)}, {fmt(hi, spec)}]"


def schedule_ranking_table(ranking, *, caption: str) -> Table:
    """A :func:`scaling.plan.compare_schedules` ranking as a table (``scaling schedule-plan`` and the report).

    Columns: rank, schedule, the final loss with its predictive band (the
    band ``scaling predict`` shows), the paired interval of the difference to
    the best, and P(best) under parameter noise only (the share of
    parameter draws in which the schedule is best: it ignores the held-out
    scatter that decides whether a gap is resolved, so a 1.00 beside a gap
    smaller than that scatter is not a clear winner; the plan's text says
    which gaps are resolved).
    """
    rows = tuple((str(r.rank), r.schedule, interval(r.final_loss, r.final_loss_pred_lo, r.final_loss_pred_hi, ".4f"),
                  interval(r.delta, r.delta_lo, r.delta_hi, ".3g"), fmt(r.p_best, ".2f"))
                 for r in ranking.itertuples(index=False))
    return Table(("rank", "schedule", "final loss (predictive)", "above best (paired)", "P(best), parameters only"),
                 rows, caption=caption)


def render_figure(fig, name: str, caption: str) -> FigureItem:
    """Render a matplotlib figure to PNG and SVG once (both are embedded/written later)."""
    png, svg = io.BytesIO(), io.StringIO()
    fig.savefig(png, format="png", dpi=130, bbox_inches="tight", facecolor="white")
    fig.savefig(svg, format="svg", bbox_inches="tight", facecolor="white")
    return FigureItem(slug(name), caption, png.getvalue(), svg.getvalue())


def slug(text: str) -> str:
    """A safe file stem: lower case letters, digits and dashes."""
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s or "figure"


def text_table(table: Table) -> str:
    """Plain-text rendering for terminals: padded columns, first left-aligned, rest right-aligned."""
    cols = list(table.columns)
    rows = [list(r) for r in table.rows]
    widths = [max(len(str(x)) for x in [c] + [r[i] for r in rows]) for i, c in enumerate(cols)]

    def line(cells):
        out = [str(cells[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join(out).rstrip()

    parts = [table.caption] if table.caption else []
    parts += [line(cols), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]
    return "\n".join(parts)


def unique_names(items: Sequence[FigureItem]) -> bool:
    """True when no two figures share a file stem."""
    names = [i.name for i in items]
    return len(names) == len(set(names))
