"""Summaries of run tables: what ``scaling inspect`` prints for a curve or points table.

:func:`summarize_curves` and :func:`summarize_points` give the numbers (one
row per run and split, with the schedule-shape guess of
:mod:`scaling.shape`); :func:`describe_curves` and :func:`describe_points`
turn them into the text, followed by the table's notes (everything the loader
changed, :mod:`scaling.runs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scaling.shape import guess_schedule_shape, warmup_phrase


def _with_notes(lines: list[str], table: pd.DataFrame) -> list[str]:
    notes = table.attrs.get("notes", [])
    return lines + (["notes:"] + [f"  - {n}" for n in notes] if notes else [])


def summarize_curves(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run and split: step range, loss points, loss and LR ranges, schedule shape.

    Returns
    -------
    DataFrame
        Columns ``run, split, step_min, step_max, n_loss, loss_min, loss_max,
        lr_min, lr_max, shape, warmup_steps, shape_detail, warmup_after``. The shape guess
        (:func:`scaling.shape.guess_schedule_shape`) uses the run's logged LR
        over all splits.
    """
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
                    "warmup_after": guess.warmup_after,
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
        warm = warmup_phrase(shape, *(None if pd.isna(x) else int(x) for x in (r.warmup_steps, r.warmup_after)))
        if warm:
            shape += f", {warm}"
        if r.shape_detail and shape != "unknown":
            shape += f" ({r.shape_detail})"
        rows.append((str(r.run), str(r.split), f"{r.step_min}..{r.step_max}", str(r.n_loss), loss, lr, shape))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [head] + ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    return "\n".join(line.rstrip() for line in _with_notes(lines, table))


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
    return "\n".join(_with_notes(lines, table))


__all__ = ["describe_curves", "describe_points", "summarize_curves", "summarize_points"]
