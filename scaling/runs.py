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
the loader changed: rows sorted, resumed runs merged, steps logged twice,
literal NaN losses, derived columns. The
``scaling inspect`` summary prints them; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scaling._curves_tidy import CURVE_EXTRAS, MAX_STEP, ROW, Where, _fmt, _where_index, tidy_curves
from scaling.errors import DataError
from scaling.run_summary import describe_curves, describe_points, summarize_curves, summarize_points  # re-exported

__all__ = [
    "CURVE_COLUMNS",
    "CURVE_EXTRAS",
    "MAX_LR_STEPS",
    "MAX_STEP",
    "ROW",
    "tidy_curves",
    "tidy_points",
    "POINT_COLUMNS",
    "make_curves",
    "make_points",
    "lr_per_step",
    "curve_arrays",
    "default_split",
    "loss_splits",
    "SPLIT_NAMES",
    "summarize_curves",
    "summarize_points",
    "describe_curves",
    "describe_points",
]

CURVE_COLUMNS = ("run", "step", "loss", "lr", "split", "source")
POINT_COLUMNS = ("run", "N", "D", "C", "loss", "source")
SPLITS = ("train", "val")

#: Longest run (in steps) whose per-step LR array :func:`lr_per_step` builds:
#: 8e8 bytes of float64, and the curve laws hold several such arrays.
MAX_LR_STEPS = 100_000_000


# --------------------------------------------------------------------------- curves


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

    * ``W > 0``, the log starts after warmup (:math:`s_0 \\ge W`): linear warmup
      :math:`\\eta_0 t / W` up to ``W`` (Hugging Face's ``get_linear_schedule_with_warmup``),
      then :math:`\\eta_0` held up to :math:`s_0`;
    * ``W > 0``, the log starts inside it (:math:`0 < s_0 < W`): the ramp :math:`\\eta_0 t / s_0`;
    * ``W = 0``: :math:`\\eta_0` held backwards to step 0;
    * a log from step 0 is used as it is, but a ``W`` between two logged steps
      :math:`s_i < W < s_j` gets the warmup's top, :math:`\\eta(W) = \\eta_i W / s_i`
      (:math:`\\eta_j` if :math:`s_i = 0`) kept in :math:`[\\eta_j, \\max \\eta]`:
      interpolating from :math:`s_i` to :math:`s_j` would end a 300-step warmup
      logged every 200 steps at step 400, the LR still rising after ``W``.

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
    if warmup_steps > 0 and s[0] < warmup_steps < s[-1] and warmup_steps not in s:
        i = int(np.searchsorted(s, warmup_steps)) - 1  # last logged step inside the warmup
        top = v[i] * warmup_steps / s[i] if s[i] > 0 else v[i + 1]
        top = float(np.clip(top, min(v[i + 1], v.max()), v.max()))
        s, v = np.insert(s, i + 1, float(warmup_steps)), np.insert(v, i + 1, top)
    t = np.arange(T + 1, dtype=float)
    lr = np.interp(t, s, v)
    s0, v0 = s[0], v[0]
    if warmup_steps > 0 and s0 > 0:
        ramp_end = min(float(warmup_steps), s0)
        head = t < ramp_end
        lr[head] = v0 * t[head] / ramp_end
    return lr


#: What each split's loss is, in words (reports and terminal lines).
SPLIT_NAMES = {"train": "training", "val": "validation"}


def loss_splits(rows: pd.DataFrame) -> dict[str, int]:
    """Loss points per split of a run's rows, ``{"train": n, "val": m}``; ``{}`` without a split column."""
    if "split" not in rows.columns:
        return {}
    counts = rows.loc[rows["loss"].notna(), "split"].value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def default_split(counts: Mapping[str, int]) -> str:
    """The split a curve fit uses when none is asked for: ``"val"`` when the run logged any, else ``"train"``.

    Validation loss is the quantity a loss-curve law predicts (Luo et al.
    2025 and Tissue et al. 2024 fit it); per-step training loss carries the
    batch noise on top.
    """
    return "val" if counts.get("val", 0) > 0 else "train"


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
            split = default_split(loss_splits(rows))
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


def merge_notes(frames: Sequence[pd.DataFrame]) -> list[str]:
    """All ``attrs["notes"]`` of several tables, in order (concat drops attrs)."""
    notes: list[str] = []
    for f in frames:
        notes.extend(f.attrs.get("notes", []))
    return notes

