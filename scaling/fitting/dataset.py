"""What the fitter fits: a tuple of groups of points, built from the canonical tables.

A :class:`Dataset` is a tuple of :class:`Group`. Each group is evaluated by
one call of the law: for a final-loss law the whole points table is usually
one group (inputs of shape ``(n,)``); for a curve law each training run is
one group (``inputs["lr"]`` of shape ``(T+1,)``, ``inputs["step"]`` of shape
``(n,)``, optionally ``inputs["N"]`` a scalar). Points are numbered in group
order; bootstrap weights are a flat vector in that order.

The builders check the table against the law and raise one-line
:class:`~scaling.errors.DataError` messages for what the user can fix.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from scaling.errors import DataError


class Group(NamedTuple):
    """Points evaluated by one call of the law.

    Attributes
    ----------
    name : str
        Run name (curve data) or ``"points"``.
    inputs : dict of str to ndarray
        The law's inputs for these points (see :mod:`scaling.laws.base`).
    loss : ndarray, shape (n,)
        Observed loss (nats/token), strictly positive.
    """

    name: str
    inputs: dict
    loss: np.ndarray


class Dataset(tuple):
    """A tuple of :class:`Group` plus bookkeeping for reports and bootstraps.

    Parameters
    ----------
    groups : sequence of Group
    info : mapping, optional
        ``files`` (list of paths), ``kind`` ("points" or "curves") and other
        provenance, copied into :attr:`FitResult.data_info`.
    columns : mapping of str to ndarray, optional
        Extra per-point columns (flat, in point order) such as ``run`` or
        ``N``, used by ``bootstrap_by=COLUMN``.
    """

    info: dict
    columns: dict

    def __new__(cls, groups: Sequence[Group] = (), info: Mapping[str, Any] | None = None,
                columns: Mapping[str, np.ndarray] | None = None):
        self = super().__new__(cls, tuple(groups))
        self.info = dict(info or {})
        self.columns = {k: np.asarray(v) for k, v in (columns or {}).items()}
        return self

    @property
    def n_points(self) -> int:
        """Total number of loss observations over all groups."""
        return int(sum(len(g.loss) for g in self))

    def sizes(self) -> list[int]:
        """Number of points of each group, in order."""
        return [len(g.loss) for g in self]

    def content_hash(self) -> str:
        """sha256 of the numbers that are fitted (independent of file format)."""
        h = hashlib.sha256()
        for g in self:
            h.update(g.name.encode())
            for key in sorted(g.inputs):
                h.update(key.encode())
                h.update(np.ascontiguousarray(np.asarray(g.inputs[key], dtype=np.float64)).tobytes())
            h.update(np.ascontiguousarray(np.asarray(g.loss, dtype=np.float64)).tobytes())
        return h.hexdigest()


def _check_loss(loss: np.ndarray, where: str) -> None:
    bad = np.flatnonzero(~np.isfinite(loss) | (loss <= 0))
    if bad.size:
        raise DataError(f"{where}: loss must be positive and finite; row {int(bad[0])} has {loss[bad[0]]!r} "
                        "(drop or fix such rows)")


def _files_of(df) -> list[str]:
    files = df.attrs.get("files") or df.attrs.get("source_files") or []
    if isinstance(files, (str, bytes)):
        files = [files]
    return [str(f) for f in files]


def _numeric_column(df, name: str, law_name: str) -> np.ndarray:
    """Column ``name`` as float64, or one line naming the first cell that is not a number."""
    import pandas as pd

    values = pd.to_numeric(df[name], errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy() & df[name].notna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(f"column {name!r} (read by law {law_name!r}) row {i + 1} holds {df[name].iloc[i]!r}, not a "
                        f"number ({bad.size} such cells); give numbers, or pick another column with "
                        "--law-option x=COLUMN")
    return values.to_numpy(dtype=np.float64)


def dataset_from_points(law, points_df, *, files: Sequence[str] | None = None, target: str = "loss") -> Dataset:
    """One group holding every row of a final-loss points table.

    Parameters
    ----------
    law : Law
        A ``kind="final"`` law; its :attr:`~scaling.laws.base.Law.inputs`
        (e.g. ``("N", "D")``) must be columns of the table. ``D`` missing
        but ``N`` and ``C`` present is filled as ``D = C / (6 N)`` (the usual
        convention, e.g. Besiroglu et al. 2024), and noted in ``info``.
    points_df : pandas.DataFrame
        Columns ``run``, the law's inputs, ``loss``; other columns are kept as
        :attr:`Dataset.columns` for ``bootstrap_by=COLUMN``.
    files : sequence of str, optional
        Source files, recorded in the fit result (default: ``df.attrs["files"]``).
    target : str
        Column fitted as the law's output (default ``"loss"``). Another
        column (e.g. ``"err_avg_17"`` for the ``downstream`` law, whose input
        is the loss) makes the objective Huber on the log of that column.
    """
    from scaling.laws import get_law

    law = get_law(law)
    if law.kind != "final":
        raise DataError(f"law {law.name!r} is a loss-curve law but the data is a final-loss points table; "
                        "give it loss-curve logs (run, step, loss, lr) or pick a final-loss law")
    df = points_df
    info: dict[str, Any] = {"kind": "points", "files": list(files) if files is not None else _files_of(df)}
    inputs: dict[str, np.ndarray] = {}
    for name in law.inputs:
        if name in df.columns:
            col = _numeric_column(df, name, law.name)
        elif name == "D" and "N" in df.columns and "C" in df.columns:
            col = np.asarray(df["C"], dtype=np.float64) / (6.0 * np.asarray(df["N"], dtype=np.float64))
            info["D_from_C"] = "D = C / (6 N)"
        else:
            have = ", ".join(map(str, df.columns))
            raise DataError(f"law {law.name!r} needs column {name!r} but the table has only: {have} "
                            f"(add a {name!r} column{', or N and C' if name == 'D' else ''})")
        bad = np.flatnonzero(~np.isfinite(col) | (col <= 0))
        if bad.size:
            raise DataError(f"column {name!r}, row {int(bad[0])}: value {col[bad[0]]!r} must be positive and "
                            "finite (drop or fix the row)")
        inputs[name] = col
    if target not in df.columns:
        if target == "loss":
            raise DataError("the points table has no 'loss' column (expected columns run, N, D, C, loss)")
        raise DataError(f"the points table has no target column {target!r} (have: {', '.join(map(str, df.columns))})")
    loss = np.asarray(df[target], dtype=np.float64)
    _check_loss(loss, "points table" if target == "loss" else f"target column {target!r}")
    if target != "loss":
        info["target"] = target
    columns = {}
    for c in df.columns:
        values = np.asarray(df[c])
        if values.dtype.kind in "biufUSO":
            columns[str(c)] = values
    for name, col in inputs.items():
        columns.setdefault(name, col)
    if "run" in df.columns:
        info["runs"] = [str(r) for r in df["run"]]
    return Dataset([Group("points", inputs, loss)], info=info, columns=columns)


def _tokens_per_step(run_df, run: str, law_name: str) -> np.float64:
    """Batch size ``B`` (tokens per step) of one run: the median of ``tokens / step`` over logged rows."""
    if "tokens" in run_df.columns:
        tokens = np.asarray(run_df["tokens"], dtype=np.float64)
        step = np.asarray(run_df["step"], dtype=np.float64)
        ok = np.isfinite(tokens) & (step > 0) & (tokens > 0)
        if ok.any():
            return np.float64(np.median(tokens[ok] / step[ok]))
    raise DataError(f"law {law_name!r} needs the batch size but run {run!r} has no 'tokens' values "
                    "(add a tokens column: tokens seen at each logged step)")


def dataset_from_curves(law, curve_df, *, split: str | None = None, warmup_steps: int = 0,
                        files: Sequence[str] | None = None, selection: Mapping[str, Any] | None = None,
                        min_step: int | None = None, max_step: int | None = None,
                        aggregate: int | str | None = None) -> Dataset:
    """One group per run of a canonical loss-curve table.

    Uses :func:`scaling.runs.curve_arrays` to rebuild each run's LR at every
    step ``0..T`` and pick its loss points. Each group has inputs
    ``{"lr": (T+1,), "step": (n,)}`` plus ``"N"`` (a scalar, from the run's
    ``params`` column) when the law needs it.

    Only the points that the point-selection rule keeps are fitted
    (:mod:`scaling.fitting.selection`: by default, steps after the warmup
    whose forward area is at least 1 % of the run's total); the rule and
    the counts of excluded points per run are in ``info["selection"]``.

    Parameters
    ----------
    law : Law
        A ``kind="curve"`` law.
    curve_df : pandas.DataFrame
        Canonical curve table (``run, step, loss, lr[, params, split, ...]``).
    split : {"train", "val"}, optional
        Keep only points of this split. Default: per run, the validation
        loss when it logged any, else the training loss
        (:func:`scaling.runs.default_split`); the split used and the loss
        points of each split are recorded per run in ``info["splits"]``
        (``{run: {"used": "val", "points": {"train": n, "val": m}}}``, only
        for tables with a split column).
    warmup_steps : int
        Linear-warmup length used to fill LR values that were not logged.
    files : sequence of str, optional
        Source files, recorded in the fit result (default: ``df.attrs["files"]``).
    selection : mapping, optional
        Point-selection rule (:func:`scaling.fitting.selection.selection_rule`;
        :func:`~scaling.fitting.selection.keep_all_rule` keeps every point).
        Default: the default rule, with ``W = warmup_steps`` when that is
        given, else the warmup detected from each run's LR.
    min_step, max_step : int, optional
        Fit only ``min_step <= step <= max_step`` (``min_step`` replaces the
        warmup and early-transient cuts of the rule).
    aggregate : int, "auto" or None
        Fit window means of this many consecutive selected points instead of
        the points (:func:`scaling.fitting.selection.aggregate_points`), the
        documented way to fit noisy per-step training loss; ``"auto"``
        averages runs of more than 500 points down to ~250; ``None`` (the
        default) does so only for runs of more than 10,000 points; ``1``
        fits every point. Recorded in ``info["aggregate"]`` (window per run).
    """
    from scaling.fitting.selection import aggregate_points, aggregation_window, as_rule, select_run, selection_rule
    from scaling.laws import get_law
    from scaling.runs import curve_arrays, default_split, loss_splits

    law = get_law(law)
    if law.kind != "curve":
        raise DataError(f"law {law.name!r} is a final-loss law but the data are loss curves; "
                        "give it a points table (run, N, D, C, loss) or pick a loss-curve law")
    df = curve_df
    for col in ("run", "step", "loss"):
        if col not in df.columns:
            raise DataError(f"the curve table has no {col!r} column (expected run, step, loss, lr)")
    extra = [n for n in law.inputs if n not in ("lr", "step", "N", "B")]
    if extra:
        raise DataError(f"law {law.name!r} needs inputs {extra} that curve tables do not provide")
    rule = as_rule(selection) if selection is not None else selection_rule(
        warmup_steps=int(warmup_steps) if warmup_steps else None)
    if min_step is not None:
        rule["min_step"] = int(min_step)
    if max_step is not None:
        rule["max_step"] = int(max_step)
    rule = as_rule(rule)
    groups = []
    runs = []
    selected: dict[str, dict] = {}
    windows: dict[str, int] = {}
    splits: dict[str, dict] = {}
    run_of = df["run"].astype(str)
    for run in dict.fromkeys(run_of):
        rows = df.loc[run_of == run]
        counts = loss_splits(rows)
        used = split
        if counts:  # which loss was fitted is part of the result, not a silent default
            used = split or default_split(counts)
            splits[run] = {"used": used, "points": counts}
        lr, step, loss = curve_arrays(df, run, split=used, warmup_steps=warmup_steps)
        if len(loss) == 0:
            continue
        step, loss, selected[run] = select_run(step, loss, lr, rule)
        if len(loss) == 0:
            continue
        windows[run] = aggregation_window(len(loss), aggregate)
        step, loss = aggregate_points(step, loss, windows[run])
        _check_loss(np.asarray(loss, dtype=np.float64), f"run {run!r}")
        inputs = {"lr": np.asarray(lr, dtype=np.float64), "step": np.asarray(step, dtype=np.int64)}
        if "N" in law.inputs:
            sizes = rows["params"] if "params" in df.columns else None
            sizes = None if sizes is None else np.asarray(sizes, dtype=np.float64)
            sizes = None if sizes is None else sizes[np.isfinite(sizes)]
            if sizes is None or sizes.size == 0:
                raise DataError(f"law {law.name!r} needs the model size N but run {run!r} has no 'params' "
                                "value (add a params column with the parameter count)")
            inputs["N"] = np.float64(sizes[0])
        if "B" in law.inputs:
            inputs["B"] = _tokens_per_step(rows, run, law.name)
        groups.append(Group(run, inputs, np.asarray(loss, dtype=np.float64)))
        runs.append(run)
    if not groups:
        where = f" in split {split!r}" if split else ""
        if selected:
            raise DataError(f"the point-selection rule left no loss points{where} (logged steps end before "
                            "the warmup/early-transient cut or outside --min-step/--max-step); relax the range")
        raise DataError(f"no loss points{where} in the curve table (check --split and the loss column)")
    columns = {"run": np.concatenate([np.full(len(g.loss), g.name, dtype=object) for g in groups])}
    info = {"kind": "curves", "files": list(files) if files is not None else _files_of(df), "runs": runs,
            "split": split, "warmup_steps": int(warmup_steps), "selection": {"rule": rule, "runs": selected}}
    if splits:
        info["splits"] = {run: splits[run] for run in runs if run in splits}
    if aggregate is not None or any(w > 1 for w in windows.values()):
        info["aggregate"] = {"option": aggregate if aggregate is not None else "default (long runs)",
                             "window": windows}
    return Dataset(groups, info=info, columns=columns)


def describe_splits(splits: Mapping[str, Mapping[str, Any]]) -> str:
    """One line for reports: which loss of each run was fitted and how many points of the other were not.

    ``splits`` is ``Dataset.info["splits"]`` (:func:`dataset_from_curves`),
    e.g. ``"validation loss (split 'val') of every run; not fitted: 6002
    training-loss points (--split train fits them)"``.
    """
    from scaling.runs import SPLIT_NAMES as names

    used = {}
    for run, rec in splits.items():
        used.setdefault(rec.get("used"), []).append(run)
    parts = [f"{names.get(u, u)} loss (split '{u}') of " + ("every run" if len(rs) == len(splits) else ", ".join(rs))
             for u, rs in used.items()]
    left = {}
    for rec in splits.values():
        for other, n in (rec.get("points") or {}).items():
            if other != rec.get("used") and n:
                left[other] = left.get(other, 0) + int(n)
    text = "; ".join(parts)
    if left:
        text += "; not fitted: " + ", ".join(f"{n} {names.get(k, k)}-loss points (--split {k} fits them)"
                                            for k, n in sorted(left.items()))
    return text


__all__ = ["Dataset", "Group", "dataset_from_curves", "dataset_from_points", "describe_splits"]
