"""Canonical run tables: one tidy pandas table for loss curves, one for final-loss points.

Everything that reads training logs (:mod:`scaling.loaders`) ends here, and
everything that fits or plots starts here. The tables are plain
:class:`pandas.DataFrame` objects with agreed columns, so they are easy to
build by hand in a notebook (:func:`make_curves`, :func:`make_points`), to
filter with pandas, and to turn into the arrays a law needs
(:func:`curve_arrays`, :func:`lr_per_step`).

Curve table (one row per run, split and logged step)
    ``run`` (str), ``step`` (int, optimizer step counted from 0),
    ``loss`` (float, nats; NaN on rows that only log the learning rate),
    ``lr`` (float; NaN where the LR was not logged), ``split``
    (``"train"`` or ``"val"``), ``source`` (the file it came from, or
    ``"<arrays>"``), optional ``tokens``, ``params``, ``flops``.
    Rows are sorted by run (first appearance), split, step.
Points table (one row per training run)
    ``run`` (str), ``N`` (parameters), ``D`` (training tokens), ``C``
    (training FLOPs), ``loss`` (final loss, nats), ``source``, plus any extra
    columns of the input kept as they are. When only two of N, D, C are
    given the third is derived with :math:`C = 6 N D` (Kaplan et al. 2020,
    arXiv:2001.08361, Sec. 2.1) and the table says so in
    ``df.attrs["derived"]`` and ``df.attrs["notes"]``.

``df.attrs["notes"]`` is a list of one-line strings describing everything
the loader changed: rows sorted, resumed runs merged, derived columns. The
``scaling inspect`` summary prints them; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scaling.errors import DataError

__all__ = [
    "CURVE_COLUMNS",
    "POINT_COLUMNS",
    "make_curves",
    "make_points",
    "lr_per_step",
    "curve_arrays",
    "summarize_curves",
    "summarize_points",
]

CURVE_COLUMNS = ("run", "step", "loss", "lr", "split", "source")
CURVE_EXTRAS = ("tokens", "params", "flops")
POINT_COLUMNS = ("run", "N", "D", "C", "loss", "source")
SPLITS = ("train", "val")

#: Largest step a table may hold: every integer up to 2^53 is exact in float64
#: (the loaders parse numbers as floats); beyond that a cast to int64 wraps.
MAX_STEP = 2**53
#: Longest run (in steps) whose per-step LR array :func:`lr_per_step` builds:
#: 8e8 bytes of float64, and the curve laws hold several such arrays.
MAX_LR_STEPS = 100_000_000

#: Name of the hidden column loaders use to carry each row's position in the
#: input (for error messages); it never reaches the user.
ROW = "__row__"

Where = Callable[[int], str]


def _where_index(i: int) -> str:
    return f"index {i}"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


# --------------------------------------------------------------------------- curves


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


def make_curves(
    *,
    run: Any,
    step: Any,
    loss: Any,
    lr: Any = None,
    split: Any = "train",
    tokens: Any = None,
    params: Any = None,
    flops: Any = None,
) -> pd.DataFrame:
    """Build a canonical curve table from arrays (e.g. in a notebook).

    Parameters
    ----------
    run : str or array-like of str, shape (n,)
        Run name, one for all rows or one per row.
    step : array-like of int, shape (n,)
        Optimizer step of each row (whole numbers >= 0).
    loss : array-like of float, shape (n,)
        Loss in nats (> 0); NaN where only the LR was logged.
    lr : array-like of float, shape (n,), optional
        Learning rate at each step (>= 0); NaN where not logged.
    split : {"train", "val"} or array-like of those, default "train"
    tokens, params, flops : array-like, optional
        Extra per-row columns (>= 0).

    Returns
    -------
    DataFrame
        Canonical curve table (see module docstring), ``source="<arrays>"``.
        Rows are checked and tidied exactly like a loaded file: sorted by
        step, resumed stretches merged, bad values rejected.

    Examples
    --------
    >>> import numpy as np
    >>> t = make_curves(run="a", step=[0, 10, 20], loss=[4.0, 3.5, 3.2], lr=[1e-3] * 3)
    >>> list(t.columns)
    ['run', 'step', 'loss', 'lr', 'split', 'source']
    """
    step = np.asarray(step, dtype=float).ravel()
    n = len(step)

    def per_row(x: Any, name: str, dtype: Any = float) -> np.ndarray:
        # A scalar applies to every row; an array must have one value per step.
        a = np.asarray(np.nan if x is None else x, dtype=dtype)
        a = np.broadcast_to(a, (n,)) if a.ndim == 0 else a.ravel()
        if len(a) != n:
            raise DataError(f"make_curves: '{name}' has {len(a)} values but 'step' has {n}; pass arrays of equal length")
        return a

    loss_a = per_row(loss, "loss")
    splits = per_row(split, "split", dtype=object)
    runs = per_row(run, "run", dtype=object)
    unknown = sorted({str(s) for s in splits} - set(SPLITS))
    if unknown:
        raise DataError(f"make_curves: unknown split {unknown[0]!r}; use 'train' or 'val'")
    raw = {"run": runs.astype(str), "step": step, ROW: np.arange(n)}
    loss_columns = {}
    for s in [s for s in SPLITS if (splits == s).any()]:
        raw[f"loss:{s}"] = np.where(splits == s, loss_a, np.nan)
        loss_columns[s] = f"loss:{s}"
    for name, x in (("lr", lr), ("tokens", tokens), ("params", params), ("flops", flops)):
        if x is not None or name == "lr":
            raw[name] = per_row(x, name)
    names = {c: "loss" for c in loss_columns.values()}
    return tidy_curves(pd.DataFrame(raw), loss_columns=loss_columns, source="<arrays>", names=names)


def lr_per_step(curve: pd.DataFrame, *, warmup_steps: int = 0) -> np.ndarray:
    """Learning rate at every optimizer step ``0..T`` of one run.

    Logs are sparse: the LR is logged every k steps, and many logs start
    only after warmup. This rebuilds the per-step LR a curve law needs.

    .. math::

        \\eta(t) = \\eta_i + (\\eta_{i+1} - \\eta_i)\\,
                   \\frac{t - s_i}{s_{i+1} - s_i}, \\quad s_i \\le t \\le s_{i+1}

    between logged points :math:`(s_i, \\eta_i)`; after the last logged
    point the last value is held. Before the first logged point
    :math:`(s_0, \\eta_0)`:

    * ``warmup_steps = W > 0`` and the log starts after warmup (:math:`s_0 \\ge W`):
      linear warmup :math:`\\eta(t) = \\eta_0\\, t / W` for :math:`t \\le W`
      (the Hugging Face ``get_linear_schedule_with_warmup`` convention,
      :math:`\\eta(W) = \\eta_0`), then :math:`\\eta_0` held up to :math:`s_0`;
    * ``W > 0`` and the log starts inside warmup (:math:`0 < s_0 < W`): linear
      ramp :math:`\\eta(t) = \\eta_0\\, t / s_0`, which is what a linear warmup
      logged from :math:`s_0` on implies;
    * ``W = 0``: :math:`\\eta_0` held backwards to step 0;
    * a log that starts at step 0 is used as it is (it shows its own warmup).

    Parameters
    ----------
    curve : DataFrame
        Rows of ONE run of a canonical curve table (any splits; the ``lr`` of
        all rows is used, NaN = not logged).
    warmup_steps : int, default 0
        Length of a linear warmup from 0 that the log does not show.

    Returns
    -------
    ndarray of float64, shape (T + 1,)
        LR at global steps ``0..T`` where ``T`` is the run's last step.

    Raises
    ------
    DataError
        If the rows hold more than one run, or no LR value at all.
    """
    runs = pd.unique(curve["run"]) if "run" in curve.columns else []
    if len(runs) > 1:
        raise DataError(f"lr_per_step: got {len(runs)} runs; pass the rows of one run, e.g. df[df.run == 'name']")
    if warmup_steps < 0:
        raise DataError(f"lr_per_step: warmup_steps must be >= 0, got {warmup_steps}")
    name = f"run '{runs[0]}'" if len(runs) else "the table"
    if len(curve) == 0:
        raise DataError(f"lr_per_step: {name} has no rows")
    T = int(curve["step"].max())
    if T > MAX_LR_STEPS:
        raise DataError(
            f"{name}: last step {T:,} is beyond the {MAX_LR_STEPS:,} steps a per-step LR array can hold "
            f"(it would need {(T + 1) * 8 / 1e9:.3g} GB); if the step column counts tokens or samples, "
            "name the optimizer-step column with --step-col, else leave this run out"
        )
    logged = curve.loc[curve["lr"].notna(), ["step", "lr"]] if "lr" in curve.columns else curve.iloc[:0]
    if len(logged) == 0:
        raise DataError(
            f"{name} has no learning-rate values; curve laws need the LR schedule: "
            "log the LR or name its column with --lr-col"
        )
    logged = logged.groupby("step", sort=True)["lr"].last()
    s = logged.index.to_numpy(dtype=float)
    v = logged.to_numpy(dtype=float)
    t = np.arange(T + 1, dtype=float)
    lr = np.interp(t, s, v)
    s0, v0 = s[0], v[0]
    if warmup_steps > 0 and s0 > 0:
        ramp_end = min(float(warmup_steps), s0)
        head = t < ramp_end
        lr[head] = v0 * t[head] / ramp_end
    return lr


def curve_arrays(
    table: pd.DataFrame, run: str, *, split: str | None = None, warmup_steps: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays for fitting one run of a curve table with a curve law.

    Parameters
    ----------
    table : DataFrame
        Canonical curve table (may hold many runs).
    run : str
        Run name.
    split : {"train", "val"}, optional
        Which loss to return. Default: ``"val"`` when the run has validation
        loss, else ``"train"``.
    warmup_steps : int, default 0
        Passed to :func:`lr_per_step`.

    Returns
    -------
    lr : ndarray float64, shape (T + 1,)
        LR at steps ``0..T`` (:func:`lr_per_step` over all rows of the run).
    step : ndarray int64, shape (n,)
        Steps where the chosen split logged a loss, increasing.
    loss : ndarray float64, shape (n,)
        Loss at those steps, nats.
    """
    rows = table.loc[table["run"] == run]
    if len(rows) == 0:
        known = list(pd.unique(table["run"]))
        shown = ", ".join(map(repr, known[:10])) + (" ..." if len(known) > 10 else "")
        raise DataError(f"no run named {run!r}; runs in the table: {shown}")
    has_loss = rows["loss"].notna()
    if "split" in rows.columns:
        if split is None:
            split = "val" if (has_loss & (rows["split"] == "val")).any() else "train"
        chosen = rows.loc[has_loss & (rows["split"] == split)]
        if len(chosen) == 0:
            have = sorted(set(rows.loc[has_loss, "split"]))
            raise DataError(f"run {run!r} has no {split} loss (it has: {', '.join(have) or 'none'}); pick another split")
    else:
        chosen = rows.loc[has_loss]
    chosen = chosen.sort_values("step")
    lr = lr_per_step(rows, warmup_steps=warmup_steps)
    return lr, chosen["step"].to_numpy(dtype=np.int64), chosen["loss"].to_numpy(dtype=float)


# --------------------------------------------------------------------------- points


def tidy_points(
    raw: pd.DataFrame,
    *,
    columns: Mapping[str, str | None],
    source: str,
    where: Where = _where_index,
    default_run: Callable[[int], str] | None = None,
) -> pd.DataFrame:
    """Check a raw final-loss table and turn it into the canonical points table.

    Parameters
    ----------
    raw : DataFrame
        The input table, with the position column :data:`ROW`. Not modified.
    columns : mapping
        Role (``"run"``, ``"N"``, ``"D"``, ``"C"``, ``"loss"``) -> column of
        `raw`, or None when absent. Two of N, D, C and the loss are needed.
    source : str
        File name for messages and the ``source`` column.
    where : callable
        ``where(row) -> str`` for messages.
    default_run : callable, optional
        ``default_run(row) -> str`` names runs when there is no run column.

    Returns
    -------
    DataFrame
        ``run, N, D, C, loss, source`` then the other input columns as they
        are. ``attrs["derived"]`` maps a derived column to its formula and
        ``attrs["notes"]`` says so in words.
    """
    rows = raw[ROW].to_numpy()
    given = [k for k in ("N", "D", "C") if columns.get(k)]
    if columns.get("loss") is None or len(given) < 2:
        found = ", ".join(repr(c) for c in raw.columns if c != ROW)
        need = "a loss column" if columns.get("loss") is None else "two of N (params), D (tokens), C (FLOPs)"
        raise DataError(f"{source}: points table needs {need}; columns found: {found}; name them with --loss-col etc.")
    values: dict[str, np.ndarray] = {}
    for key in (*given, "loss"):
        col = columns[key]
        v = raw[col].to_numpy(dtype=float)
        bad = ~(np.isfinite(v) & (v > 0))
        if bad.any():
            i = int(np.argmax(bad))
            what = "is empty" if np.isnan(v[i]) else f"must be > 0 and finite, got {_fmt(v[i])}"
            raise DataError(
                f"{source}: {key} {what} at {where(int(rows[i]))}, column '{col}'; fix or delete that row"
            )
        values[key] = v
    notes: list[str] = []
    derived: dict[str, str] = {}
    if "N" not in values:
        values["N"] = values["C"] / (6.0 * values["D"])
        derived["N"] = "C / (6 D)"
    elif "D" not in values:
        values["D"] = values["C"] / (6.0 * values["N"])
        derived["D"] = "C / (6 N)"
    elif "C" not in values:
        values["C"] = 6.0 * values["N"] * values["D"]
        derived["C"] = "6 N D"
    for k, formula in derived.items():
        notes.append(f"{source}: {k} derived as {formula} (C = 6 N D), the file has no {k} column")
    if columns.get("run"):
        run = raw[columns["run"]].astype(str).to_numpy()
    else:
        name = default_run or (lambda r: f"{r}")
        run = np.array([name(int(r)) for r in rows], dtype=object)
    used = {c for c in columns.values() if c} | {ROW}
    out = pd.DataFrame(
        {"run": pd.array(run, dtype="str"), "N": values["N"], "D": values["D"], "C": values["C"], "loss": values["loss"], "source": source}
    )
    extra = raw[[c for c in raw.columns if c not in used and c not in out.columns]].reset_index(drop=True)
    out = pd.concat([out, extra], axis=1)
    out.attrs["notes"] = notes
    out.attrs["derived"] = derived
    return out


def make_points(
    *, N: Any = None, D: Any = None, C: Any = None, loss: Any, run: Any = None, **extra: Any
) -> pd.DataFrame:
    """Build a canonical final-loss points table from arrays.

    Give two of ``N`` (parameters), ``D`` (training tokens) and ``C``
    (training FLOPs); the third is derived with :math:`C = 6 N D` and the
    result records it in ``attrs["derived"]`` (e.g. ``{"D": "C / (6 N)"}``)
    and ``attrs["notes"]``.

    Parameters
    ----------
    N, D, C : array-like of float, shape (n,)
        Two or three of them, all > 0.
    loss : array-like of float, shape (n,)
        Final loss, nats (> 0).
    run : str or array-like of str, optional
        Run names; default ``"0", "1", ...``.
    **extra : array-like
        Further columns, kept as they are.

    Examples
    --------
    >>> t = make_points(N=[1e8, 1e9], C=[6e18, 6e19], loss=[3.1, 2.7])
    >>> t["D"].tolist(), t.attrs["derived"]
    ([10000000000.0, 10000000000.0], {'D': 'C / (6 N)'})
    """
    loss_a = np.asarray(loss, dtype=float).ravel()
    n = len(loss_a)
    data: dict[str, Any] = {}
    for key, x in (("N", N), ("D", D), ("C", C)):
        if x is not None:
            a = np.asarray(x, dtype=float).ravel()
            if len(a) != n:
                raise DataError(f"make_points: '{key}' has {len(a)} values but 'loss' has {n}; pass arrays of equal length")
            data[key] = a
    data["loss"] = loss_a
    if run is not None:
        data["run"] = np.broadcast_to(np.asarray(run, dtype=object), (n,)) if np.ndim(run) == 0 else np.asarray(run, dtype=object)
    for key, x in extra.items():
        data[key] = x
    data[ROW] = np.arange(n)
    raw = pd.DataFrame(data)
    columns = {k: (k if k in data else None) for k in ("run", "N", "D", "C", "loss")}
    return tidy_points(raw, columns=columns, source="<arrays>")


# --------------------------------------------------------------------------- summaries


def summarize_curves(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run and split: step range, loss points, loss and LR ranges, schedule shape.

    Returns
    -------
    DataFrame
        Columns ``run, split, step_min, step_max, n_loss, loss_min, loss_max,
        lr_min, lr_max, shape, warmup_steps, shape_detail``. The shape guess
        (:func:`scaling.shape.guess_schedule_shape`) uses the run's logged LR
        over all splits.
    """
    from scaling.shape import guess_schedule_shape

    out = []
    for run, rows in table.groupby("run", sort=False):
        lr_rows = rows.loc[rows["lr"].notna()].groupby("step", sort=True)["lr"].last()
        guess = guess_schedule_shape(lr_rows.index.to_numpy(), lr_rows.to_numpy())
        splits = list(rows.groupby("split", sort=True)) if "split" in rows.columns else [("train", rows)]
        with_loss = {s for s, part in splits if part["loss"].notna().any()}
        for split, part in splits:
            has = part.loc[part["loss"].notna()]
            if len(has) == 0 and with_loss:
                continue  # LR-only rows; their LR is already in the other split's line
            out.append(
                {
                    "run": run,
                    "split": split,
                    "step_min": int(part["step"].min()),
                    "step_max": int(part["step"].max()),
                    "n_loss": int(len(has)),
                    "loss_min": float(has["loss"].min()) if len(has) else np.nan,
                    "loss_max": float(has["loss"].max()) if len(has) else np.nan,
                    "lr_min": float(lr_rows.min()) if len(lr_rows) else np.nan,
                    "lr_max": float(lr_rows.max()) if len(lr_rows) else np.nan,
                    "shape": guess.shape,
                    "warmup_steps": guess.warmup_steps,
                    "shape_detail": guess.detail,
                }
            )
    return pd.DataFrame(out)


def summarize_points(table: pd.DataFrame) -> dict[str, Any]:
    """Counts and ranges of a points table (for ``scaling inspect``)."""
    summary: dict[str, Any] = {"n_points": len(table)}
    for key in ("N", "D", "C", "loss"):
        summary[key] = (float(table[key].min()), float(table[key].max()))
    summary["derived"] = dict(table.attrs.get("derived", {}))
    return summary


def merge_notes(frames: Sequence[pd.DataFrame]) -> list[str]:
    """All ``attrs["notes"]`` of several tables, in order (concat drops attrs)."""
    notes: list[str] = []
    for f in frames:
        notes.extend(f.attrs.get("notes", []))
    return notes


def describe_curves(table: pd.DataFrame) -> str:
    """Human summary of a curve table: one line per run and split, then the notes.

    Each line: run, split, step range, number of loss points, loss range,
    LR range and the schedule-shape guess (with warmup when the log shows it).
    """
    s = summarize_curves(table)
    files = table["source"].nunique() if "source" in table.columns else 0
    head = f"{s['run'].nunique()} run{'s' * (s['run'].nunique() != 1)} from {files} source{'s' * (files != 1)}"
    rows = [("run", "split", "steps", "loss pts", "loss", "lr", "schedule")]
    for _, r in s.iterrows():
        loss = f"{r.loss_min:.4f}..{r.loss_max:.4f}" if r.n_loss else "-"
        lr = f"{r.lr_min:.3g}..{r.lr_max:.3g}" if np.isfinite(r.lr_max) else "not logged"
        shape = r["shape"]
        if r.warmup_steps is not None and not pd.isna(r.warmup_steps):
            shape += f", warmup to step {int(r.warmup_steps)}"
        elif shape != "unknown":
            shape += ", no warmup in log"
        if r.shape_detail and shape != "unknown":
            shape += f" ({r.shape_detail})"
        rows.append((str(r.run), str(r.split), f"{r.step_min}..{r.step_max}", str(r.n_loss), loss, lr, shape))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [head] + ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    notes = table.attrs.get("notes", [])
    if notes:
        lines.append("notes:")
        lines.extend(f"  - {n}" for n in notes)
    return "\n".join(line.rstrip() for line in lines)


def describe_points(table: pd.DataFrame) -> str:
    """Human summary of a points table: counts, N/D/C/loss ranges, derived columns, notes."""
    s = summarize_points(table)
    files = table["source"].nunique() if "source" in table.columns else 0
    lines = [f"{s['n_points']} final-loss points from {files} source{'s' * (files != 1)}"]
    units = {"N": "parameters", "D": "tokens", "C": "FLOPs", "loss": "nats"}
    for key in ("N", "D", "C", "loss"):
        lo, hi = s[key]
        rng = f"{lo:.4f}..{hi:.4f}" if key == "loss" else f"{lo:.3g}..{hi:.3g}"
        extra = f" (derived: {s['derived'][key]})" if key in s["derived"] else ""
        lines.append(f"  {key:<5} {rng} {units[key]}{extra}")
    notes = table.attrs.get("notes", [])
    if notes:
        lines.append("notes:")
        lines.extend(f"  - {n}" for n in notes)
    return "\n".join(lines)
