"""Weights & Biases exports.

History export
    ``run.history()`` / "Export as CSV" of a run, or ``wandb-history.jsonl``:
    columns ``_step`` (counts ``wandb.log`` calls), ``_runtime``,
    ``_timestamp`` and the logged keys (``train/loss``,
    ``train/learning_rate``, ``eval/loss``, ``train/global_step`` ...). Rows
    are sparse: each ``wandb.log`` call fills only its own keys. The
    optimizer step is taken from ``train/global_step`` / ``trainer/global_step``
    / ``global_step`` when logged and from ``_step`` otherwise.
Panel (chart) export
    "Download CSV" of a line chart: a step column (``Step`` or the chart's
    x axis) and one ``"<run> - <metric>"`` column per run, with
    ``"<run> - <metric>__MIN"`` / ``__MAX`` envelopes (from W&B's point
    sampling) that are ignored. Several runs per file; the run names come
    from the column names.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import DataError
from scaling.loaders import _common as c
from scaling.loaders.csv import read_table
from scaling.loaders.jsonl import read_jsonl
from scaling.runs import ROW, merge_notes


def load_wandb_history(path: Path, choice: c.ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a W&B history export (CSV or JSONL)."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rec = read_jsonl(path, run=run)
    else:
        rec = read_table(path, run=run)
    return c.curves_from_records(rec, choice)


def load_wandb_panel(path: Path, choice: c.ColumnChoice) -> pd.DataFrame:
    """Canonical curve table from a W&B chart CSV export (several runs per file)."""
    rec = read_table(path, run=path.stem)
    f = rec.frame
    cols = [x for x in f.columns if x != ROW]
    plain = [x for x in cols if " - " not in x]
    if choice.step is not None:
        step_col = c.explicit_column(cols, choice.step, flag="--step-col", source=rec.source)
    else:
        step_col = c.find_column(plain, c.STEP_ALIASES) or (plain[0] if plain else None)
    if step_col is None:
        raise DataError(f"{path}: W&B chart export without a step column; columns found: {c.list_columns(cols)}; name it with --step-col")
    by_run: dict[str, dict[str, str]] = {}
    for col in cols:
        if " - " not in col or col.endswith(("__MIN", "__MAX")):
            continue
        run, metric = col.rsplit(" - ", 1)
        by_run.setdefault(run.strip(), {})[metric.strip()] = col
    if not by_run:
        raise DataError(f"{path}: no '<run> - <metric>' columns; columns found: {c.list_columns(cols)}; pass --format csv for a plain table")
    tables = []
    for run, metrics in by_run.items():
        # One run's columns, renamed to the bare metric so the usual aliases apply.
        sub = f[[step_col, *metrics.values(), ROW]].rename(columns={v: k for k, v in metrics.items()})
        sub = sub.rename(columns={step_col: "step"}) if step_col != "step" else sub
        data_cols = [x for x in sub.columns if x not in ("step", ROW)]
        sub = sub.loc[sub[data_cols].notna().any(axis=1)]
        if len(sub) == 0:
            continue
        sub_choice = c.ColumnChoice(step="step", loss=choice.loss, lr=choice.lr, run=None, split=choice.split)
        one = c.curves_from_records(c.Records(frame=sub, source=rec.source, where=rec.where, run=run), sub_choice)
        tables.append(one)
    if not tables:
        raise DataError(f"{path}: the chart export has no values in its '<run> - <metric>' columns; export the chart again")
    out = pd.concat(tables, ignore_index=True)
    out.attrs["notes"] = merge_notes(tables)
    out.attrs["named_by_file"] = False
    return out
