"""Checking and tidying a loader's raw curve rows into the canonical curve table.

The one place where logged rows become the table of :mod:`scaling.runs`:
values are checked (loss > 0, LR >= 0, whole steps below 2^53), resumed runs
and rows sharing a step are merged by documented rules, and every change is a
note in ``attrs["notes"]``. Split from :mod:`scaling.runs` (which re-exports
:func:`tidy_curves` and the constants) to keep each file short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scaling.errors import DataError

CURVE_EXTRAS = ("tokens", "params", "flops")

#: Largest step a table may hold: every integer up to 2^53 is exact in float64
#: (the loaders parse numbers as floats); beyond that a cast to int64 wraps.
MAX_STEP = 2**53

#: Name of the hidden column loaders use to carry each row's position in the
#: input (for error messages); it never reaches the user.
ROW = "__row__"

Where = Callable[[int], str]


def _where_index(i: int) -> str:
    return f"index {i}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def tidy_curves(
    raw: pd.DataFrame,
    *,
    loss_columns: Mapping[str, str],
    source: str,
    where: Where = _where_index,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check a loader's raw frame and turn it into the canonical curve table.

    Parameters
    ----------
    raw : DataFrame
        Rows in input order with float columns ``step``, optional ``lr``,
        ``tokens``, ``params``, ``flops``, the loss columns named in
        `loss_columns`, a ``run`` column (str) and the position column
        :data:`ROW` (int, passed to `where` for messages). Not modified.
    loss_columns : mapping
        Split name (``"train"``/``"val"``) -> column of `raw` holding that
        split's loss. The first split also labels rows that log only the LR.
    source : str
        File name (or ``"<arrays>"``) used in messages and the ``source`` column.
    where : callable
        ``where(row) -> str`` describing a row position, e.g. ``"row 5 (line 6)"``.
    names : mapping, optional
        Raw column -> the user's column name, for messages.

    Returns
    -------
    DataFrame
        The canonical curve table; ``attrs["notes"]`` lists what was changed.

    Raises
    ------
    DataError
        Loss <= 0 or infinite, negative or infinite LR, a step that is
        missing, negative or not a whole number, or steps that go backwards
        in a way that is not a resumed run (see :func:`_order_one_run`).
    """
    names = dict(names or {})

    def label(col: str) -> str:
        return names.get(col, col)

    loss_cols = list(loss_columns.values())
    extras = [c for c in ("lr", *CURVE_EXTRAS) if c in raw.columns]
    rows = raw[ROW].to_numpy()

    def fail(mask: np.ndarray, col: str, what: str, fix: str, values: np.ndarray) -> None:
        i = int(np.argmax(mask))
        raise DataError(
            f"{source}: {what}, got {_fmt(values[i])} at {where(int(rows[i]))}, "
            f"column '{label(col)}'; {fix}"
        )

    logged = np.zeros(len(raw), dtype=bool)
    for col in loss_cols:
        v = raw[col].to_numpy(dtype=float)
        bad = ~np.isnan(v) & ~(np.isfinite(v) & (v > 0))
        if bad.any():
            fail(bad, col, "loss must be a positive finite number (nats)", "fix or delete that row", v)
        logged |= ~np.isnan(v)
    for col in extras:
        v = raw[col].to_numpy(dtype=float)
        bad = ~np.isnan(v) & ~(np.isfinite(v) & (v >= 0))
        if bad.any():
            what = "learning rate must be >= 0 and finite" if col == "lr" else f"{col} must be >= 0 and finite"
            fail(bad, col, what, "fix or delete that row", v)
        logged |= ~np.isnan(v)

    step = raw["step"].to_numpy(dtype=float)
    missing = logged & np.isnan(step)
    if missing.any():
        i = int(np.argmax(missing))
        raise DataError(
            f"{source}: {where(int(rows[i]))} has values but no step in column '{label('step')}'; "
            "fill in the step or name another step column with --step-col"
        )
    with np.errstate(invalid="ignore"):
        bad = logged & ~np.isnan(step) & ((step < 0) | (step != np.round(step)) | ~np.isfinite(step))
    if bad.any():
        fail(bad, "step", "step must be a whole number >= 0", "steps count optimizer steps from 0", step)
    huge = logged & (step > MAX_STEP)
    if huge.any():
        # Above 2^53 a float64 (and so the JSON/CSV number) no longer holds every integer, and
        # casting to int64 would wrap silently past 2^63; no optimizer runs that many steps.
        fail(huge, "step", f"step is too large for an optimizer step (limit 2^53 = {MAX_STEP:.3g})",
             "if this column counts tokens or samples, name the optimizer-step column with --step-col", step)
    if not logged.any():
        cols = ", ".join(repr(label(c)) for c in loss_cols + extras)
        raise DataError(f"{source}: no values in {cols}; the file has rows but nothing logged in them")
    if not any((~np.isnan(raw[c].to_numpy(dtype=float))).any() for c in loss_cols):
        cols = ", ".join(repr(label(c)) for c in loss_cols)
        other = ", ".join(repr(label(c)) for c in extras if raw[c].notna().any())
        raise DataError(
            f"{source}: no loss values in {cols} (the rows log only {other}); "
            "a loss curve needs a loss: name the loss column with --loss-col"
        )

    # Views, not copies, when every row logged something (the usual log).
    sel = slice(None) if logged.all() else logged
    col_values = {c: raw[c].to_numpy(dtype=float)[sel] for c in loss_cols + extras}
    step = step[sel]
    rows = rows[sel]
    # Integer run codes in first-seen order: grouping and sorting on them is
    # much faster than on strings (1e6-row logs load in about a second).
    codes, run_names = pd.factorize(raw["run"].to_numpy()[sel] if not isinstance(raw["run"].dtype, pd.CategoricalDtype)
                                    else raw["run"][sel], sort=False)
    codes = np.asarray(codes)
    by_run = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[by_run], np.arange(len(run_names) + 1))
    notes: list[str] = []
    keep = np.ones(len(step), dtype=bool)
    for k, run in enumerate(run_names):
        idx = by_run[bounds[k] : bounds[k + 1]]
        keep[idx], run_notes = _order_one_run(step[idx], rows[idx], run=str(run), source=source, where=where)
        notes.extend(run_notes)
    del by_run

    value_cols = loss_cols + extras
    if not keep.all():
        codes, step, rows = codes[keep], step[keep], rows[keep]
        col_values = {c: v[keep] for c, v in col_values.items()}
    order = np.lexsort((step, codes))  # stable: equal (run, step) rows stay in input order
    code_s, step_s = codes[order], step[order]
    shared = (code_s[1:] == code_s[:-1]) & (step_s[1:] == step_s[:-1])
    if shared.any():
        # Rows that share a step (Lightning writes one row per metric group) are
        # merged: per column the last non-missing value wins; the notes say so.
        frame = pd.DataFrame({"_code": codes, "step": step, **col_values})
        notes.extend(_shared_step_notes(frame, rows, value_cols, run_names, source=source, where=where))
        merged = frame.groupby(["_code", "step"], sort=True)[value_cols].last()
        code_s = merged.index.get_level_values(0).to_numpy()
        step_s = merged.index.get_level_values(1).to_numpy(dtype=float)
        merged_values = {c: merged[c].to_numpy(dtype=float) for c in value_cols}
        del frame, merged
    else:
        merged_values = {c: v[order] for c, v in col_values.items()}
    del col_values, order

    # One output row per (run, split, step) with that split's loss, plus rows that log only the LR.
    splits = list(loss_columns)
    rank = {s_: i for i, s_ in enumerate(sorted(splits))}
    no_loss = np.ones(len(step_s), dtype=bool)
    idx_parts, kind_parts = [], []
    for j, col in enumerate(loss_cols):
        has = ~np.isnan(merged_values[col])
        no_loss &= ~has
        idx_parts.append(np.flatnonzero(has))
        kind_parts.append(np.full(len(idx_parts[-1]), j, dtype=np.int8))
    if "lr" in merged_values:
        idx_parts.append(np.flatnonzero(no_loss & ~np.isnan(merged_values["lr"])))
        kind_parts.append(np.full(len(idx_parts[-1]), len(loss_cols), dtype=np.int8))
    idx = np.concatenate(idx_parts)
    kind = np.concatenate(kind_parts)
    split_of_kind = np.array([rank[s_] for s_ in splits] + [rank[splits[0]]], dtype=np.int8)
    split_code = split_of_kind[kind]
    out_order = np.lexsort((step_s[idx], split_code, code_s[idx]))
    idx, kind, split_code = idx[out_order], kind[out_order], split_code[out_order]
    n = len(idx)
    loss = np.full(n, np.nan)
    for j, col in enumerate(loss_cols):
        at = kind == j
        loss[at] = merged_values[col][idx[at]]

    def strings(values: Sequence[str], codes_: np.ndarray) -> pd.Series:
        # take() on a small string array: far cheaper than building 1e6 Python strings.
        return pd.Series(pd.array([str(v) for v in values], dtype="str")).take(codes_).reset_index(drop=True)

    table = {
        "run": strings(list(run_names), code_s[idx]),
        "step": step_s[idx].astype(np.int64),
        "loss": loss,
        "lr": merged_values["lr"][idx] if "lr" in merged_values else np.full(n, np.nan),
        "split": strings(sorted(splits), split_code),
    }
    for c in CURVE_EXTRAS:
        if c in merged_values:
            table[c] = merged_values[c][idx]
    table["source"] = strings([source], np.zeros(n, dtype=np.intp))
    result = pd.DataFrame(table, copy=False)
    result.attrs["notes"] = notes
    return result


def _shared_step_notes(
    frame: pd.DataFrame, rows: np.ndarray, value_cols: list[str], run_names: Sequence[Any], *, source: str, where: Where
) -> list[str]:
    """Notes on rows that share (run, step), which :func:`tidy_curves` merges per column (last wins).

    Three cases, one note each per run, so nothing is merged silently:

    * a column holds two *different* values at one step: a job restarted from a
      checkpoint at that step, or a log appended twice; the later value is kept;
    * the same values twice (a line written twice): one copy is kept;
    * rows at one step log different columns (Lightning writes one row per metric
      group): merged into one row, nothing is lost.
    """
    dup = frame.duplicated(["_code", "step"], keep=False).to_numpy()
    if not dup.any():
        return []
    sub = frame.loc[dup].assign(_row=rows[dup])
    groups = sub.groupby(["_code", "step"], sort=True)
    twice = (groups[value_cols].count() > 1).any(axis=1)
    differ = (groups[value_cols].nunique() > 1).any(axis=1)
    notes = []
    for code, part in twice.groupby(level=0, sort=True):
        run = run_names[int(code)]
        n_differ = int(differ.loc[part.index].sum())
        n_same = int((part & ~differ.loc[part.index]).sum())
        n_merge = int((~part).sum())

        def example(mask: pd.Series) -> str:
            key = mask[mask].index[0]
            at = sub.loc[(sub["_code"] == key[0]) & (sub["step"] == key[1]), "_row"].to_numpy()
            return f"step {int(key[1])} at {where(int(at[0]))} and {where(int(at[-1]))}"

        if n_differ:
            notes.append(
                f"{source}: run '{run}': {n_differ} step{'s' * (n_differ != 1)} logged twice with different values "
                f"(e.g. {example(part & differ.loc[part.index])}): a restart from a checkpoint at that step or a "
                "log appended twice; kept the later value"
            )
        if n_same:
            notes.append(
                f"{source}: run '{run}': {n_same} step{'s' * (n_same != 1)} logged twice with the same values "
                f"(e.g. {example(part & ~differ.loc[part.index])}); kept one copy"
            )
        if n_merge:
            notes.append(
                f"{source}: run '{run}': {n_merge} step{'s' * (n_merge != 1)} spread over several rows that log "
                "different columns (one row per metric group, as Lightning writes) merged into one row each"
            )
    return notes


def _order_one_run(
    step: np.ndarray, rows: np.ndarray, *, run: str, source: str, where: Where
) -> tuple[np.ndarray, list[str]]:
    """Decide which rows of one run to keep, given their steps in input order.

    The input order is cut into *segments*: maximal stretches of
    non-decreasing steps. A new segment starts at every *jump back* (a row
    whose step is smaller than the row before it). Each jump back is one of:

    resumed run
        The new segment logs at least one step that an earlier segment
        already logged (it re-covers logged steps) **and** it starts after
        the run's first logged step. This is what a job restarted from a
        checkpoint writes. The later log wins: every earlier row at a step
        >= the new segment's first step is replaced (dropped), and a note
        says how many rows were replaced.
    unsorted rows
        The new segment logs no step that was logged before. The rows are
        simply out of order; they are kept and sorted by step (noted).
    an error
        The new segment re-logs earlier steps but starts at or before the
        run's first logged step: that is a second run appended to the same
        log, not a resume, and keeping either copy would be a guess.

    Returns
    -------
    keep : ndarray of bool, shape like `step`
    notes : list of str
    """
    n = len(step)
    keep = np.ones(n, dtype=bool)
    if n < 2:
        return keep, []
    seg = np.concatenate([[0], np.cumsum(step[1:] < step[:-1])])
    if seg[-1] == 0:
        return keep, []
    # Which segments re-log a step logged by an earlier segment? Unique
    # (step, segment) pairs sorted by step then segment: within one step,
    # every segment after the first is a re-log.
    pairs = np.unique(np.stack([step, seg.astype(float)], axis=1), axis=0)
    relog = np.zeros(len(pairs), dtype=bool)
    relog[1:] = pairs[1:, 0] == pairs[:-1, 0]
    relog_segs = np.unique(pairs[relog, 1]).astype(int)
    notes: list[str] = []
    resumes = 0
    for j in relog_segs:
        members = np.flatnonzero(seg == j)
        prior = keep & (seg < j)
        if not np.isin(step[members], step[prior]).any():
            continue
        start = step[members[0]]
        first = step[prior].min()
        if start <= first:
            prev = step[members[0] - 1]
            raise DataError(
                f"{source}: run '{run}': steps go back from {int(prev)} to {int(start)} at "
                f"{where(int(rows[members[0]]))} and repeat steps logged from the start, which is a "
                "second run appended to the log rather than a resumed run; give each run its own "
                "file or a run column (--run-col)"
            )
        replaced = prior & (step >= start)
        keep &= ~replaced
        resumes += 1
        r = step[replaced]
        notes.append(
            f"{source}: run '{run}' resumed at step {int(start)} ({where(int(rows[members[0]]))}); "
            f"{int(replaced.sum())} earlier rows at steps {int(r.min())}..{int(r.max())} "
            "replaced by the later log"
        )
    if resumes < seg[-1]:
        notes.append(f"{source}: run '{run}': rows were not in step order; sorted by step")
    return keep, notes
