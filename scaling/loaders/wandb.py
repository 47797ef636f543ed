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
Run dump (JSON)
    One JSON document as saved from the W&B API, e.g.
    ``json.dump({"name": run.name, "config": run.config, "summary": dict(run.summary),
    "history": run.history().to_dict(orient="records")}, f)``. ``history`` is a
    list of row objects (``orient="records"``), or columns: ``{key: [values]}``
    (``orient="list"``), ``{key: {row: value}}`` (``orient="dict"``) or
    ``{"columns": [...], "data": [[...]]}`` (``orient="split"``). ``config`` and
    ``summary`` are not curve points and are not read; the run is named after
    the dump's ``name`` (else the file). The train/val choice (``split=``) and
    column options apply as for any log.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import DataError
from scaling.loaders import _common as c
from scaling.loaders.csv import check_not_empty, curve_reader, read_table
from scaling.loaders.jsonl import read_jsonl
from scaling.runs import ROW, merge_notes


def load_wandb_history(path: Path, choice: c.ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a W&B history export (CSV or JSONL) or run dump (JSON)."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        check_not_empty(path)
        whole, doc = _json_document_of(path)
        if whole and isinstance(doc, dict) and not c.is_wandb_dump(doc) and path.suffix.lower() == ".json":
            raise DataError(
                f"{path}: holds {c.describe_json(doc)}, with no 'history'; a W&B run dump holds "
                "'history' rows or columns (and 'config', 'summary'); export the run again or pass another --format"
            )
        if whole and c.is_wandb_dump(doc):
            return load_wandb_dump(doc, path, choice, run=run)
        rec = read_jsonl(path, run=run, role=c.curve_column_role(choice))
    else:
        rec = read_table(path, run=run, **curve_reader(choice, str(path)))
    return c.curves_from_records(rec, choice)


def _json_document_of(path: Path):
    """:func:`scaling.loaders._common.json_document` of the file's text, without reading a
    JSON-lines history whole: when the first non-blank line is a JSON value by itself and
    more follows, the file cannot be one document (json.loads would stop at "Extra data")."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = next((line for line in fh if line.strip(c.JSON_SPACE)), "")
        whole, doc = c.json_document(first, what=str(path))
        if whole:
            more = any(line.strip(c.JSON_SPACE) for line in fh)
            return (False, None) if more else (True, doc)
    return c.json_document(path.read_text(encoding="utf-8", errors="replace"), what=str(path))


def _history_frame(history, path: Path) -> pd.DataFrame:
    """A W&B dump's ``history`` (rows or one of pandas' column layouts) as a frame of records."""
    if isinstance(history, list):
        for i, row in enumerate(history, start=1):
            if not isinstance(row, dict):
                raise DataError(
                    f"{path}: history row {i} is {c.describe_json(row)}, not an object; "
                    "history rows are {{key: value}} objects (to_dict(orient='records'))"
                )
        return pd.DataFrame.from_records(history)
    if set(history) == {"columns", "data"} or set(history) == {"columns", "data", "index"}:
        cols, data = history["columns"], history["data"]
        if not isinstance(cols, list) or not isinstance(data, list) or not all(isinstance(r, list) and len(r) == len(cols) for r in data):
            raise DataError(f"{path}: history 'columns'/'data' do not form a table (each data row must list one value per column)")
        return pd.DataFrame(data, columns=[str(x) for x in cols])
    lengths = {}
    for key, col in history.items():
        if isinstance(col, list):
            lengths[key] = len(col)
        elif isinstance(col, dict):
            lengths[key] = None
        else:
            raise DataError(
                f"{path}: history column '{key}' is {c.describe_json(col)}; history columns are lists of values "
                "(to_dict(orient='list')) or {row: value} objects (to_dict())"
            )
    if all(n is not None for n in lengths.values()):
        if len(set(lengths.values())) > 1:
            (k1, n1), (k2, n2) = sorted(lengths.items(), key=lambda kv: kv[1])[:: len(lengths) - 1]
            raise DataError(f"{path}: history columns differ in length ('{k1}' has {n1} values, '{k2}' has {n2}); save the history again")
        return pd.DataFrame(history)
    if all(n is None for n in lengths.values()):
        # {column: {row: value}}: rows are the (string) index keys, in numeric order when they are numbers.
        frame = pd.DataFrame(history)
        try:
            frame = frame.loc[sorted(frame.index, key=lambda k: float(k))]
        except (TypeError, ValueError):
            pass
        return frame.reset_index(drop=True)
    raise DataError(f"{path}: history mixes list columns and {{row: value}} columns; save it with one to_dict orient")


def load_wandb_dump(doc: dict, path: Path, choice: c.ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a parsed W&B run dump (see the module docstring)."""
    frame = _history_frame(doc["history"], path)
    if len(frame) == 0:
        raise DataError(f"{path}: the run dump's history is empty; save run.history() (or scan_history()) again")
    frame[ROW] = range(1, len(frame) + 1)
    name = doc.get("name") if isinstance(doc.get("name"), str) and doc.get("name").strip() else run
    rec = c.Records(frame=frame, source=str(path), where=lambda r: f"history row {r}", run=name.strip())
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
        has = sub[data_cols].notna().any(axis=1).to_numpy().copy()
        for col in metrics.values():
            if col in rec.nan_cells:  # a logged NaN is a value (noted), not an empty cell
                has |= rec.nan_cells[col]
        sub = sub.loc[has]
        if len(sub) == 0:
            continue
        nan_cells = {m: rec.nan_cells[col][has] for m, col in metrics.items() if col in rec.nan_cells}
        sub_choice = c.ColumnChoice(step="step", loss=choice.loss, lr=choice.lr, run=None, split=choice.split)
        one = c.curves_from_records(
            c.Records(frame=sub, source=rec.source, where=rec.where, run=run, nan_cells=nan_cells), sub_choice
        )
        tables.append(one)
    if not tables:
        raise DataError(f"{path}: the chart export has no values in its '<run> - <metric>' columns; export the chart again")
    out = pd.concat(tables, ignore_index=True)
    out.attrs["notes"] = merge_notes(tables)
    out.attrs["named_by_file"] = False
    return out
