"""The numbers behind each report figure, as plain tables (computing is apart from drawing).

Each function takes a fit result (and data) and returns pandas DataFrames that
:mod:`scaling.report.figures` only draws. Every value and band comes from
:mod:`scaling.evaluate` and :mod:`scaling.plan`, so the report shows the same
band as ``scaling predict`` and ``scaling budget`` for the same fit.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from scaling import plan as planning
from scaling.evaluate import band
from scaling.inputs import final_inputs


def _points_inputs(law, points: pd.DataFrame) -> dict[str, np.ndarray]:
    given = {c: points[c].to_numpy(float) for c in points.columns if c in law.inputs or c in ("N", "D", "C")}
    return final_inputs(law, **given)


def is_nd_law(law) -> bool:
    """Whether a final-loss law reads both model size and data (N and D, or N and M)."""
    ins = set(law.inputs)
    return law.kind == "final" and ({"N", "D"} <= ins or {"N", "M"} <= ins)


def points_fit(fit, points: pd.DataFrame) -> dict[str, Any]:
    """Data and fitted law for a final-loss fit.

    Returns
    -------
    dict
        ``kind`` ("nd": one line per model size against C = 6ND; "one": the
        law against its single input ``x``), ``points`` (the data with
        ``x``/``C`` and ``loss``), ``lines`` (``N``, ``x``, ``loss``,
        ``loss_lo``, ``loss_hi``), ``x_name``.
    """
    law = fit.law_object()
    if is_nd_law(law):
        data = pd.DataFrame({"N": points["N"].to_numpy(float), "x": 6.0 * points["N"].to_numpy(float)
                             * points["D"].to_numpy(float), "loss": points["loss"].to_numpy(float)})
        frames = []
        for n in np.sort(points["N"].unique()):
            d = points.loc[points["N"] == n, "D"].to_numpy(float)
            D = np.geomspace(d.min() / 1.5, d.max() * 1.5, 60)
            N = np.full_like(D, float(n))
            b = band(fit, final_inputs(law, N=N, D=D))
            frames.append(pd.DataFrame({"N": N, "x": 6.0 * N * D, **b}))
        return {"kind": "nd", "points": data, "lines": pd.concat(frames, ignore_index=True), "x_name": "C"}
    x_name = law.inputs[0]
    x = points[x_name].to_numpy(float) if x_name in points.columns else _points_inputs(law, points)[x_name]
    grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 100)
    b = band(fit, {x_name: grid})
    return {"kind": "one", "points": pd.DataFrame({"x": x, "loss": points["loss"].to_numpy(float)}),
            "lines": pd.DataFrame({"x": grid, **b}), "x_name": x_name}


def points_residuals(fit, points: pd.DataFrame) -> pd.DataFrame:
    """``C`` and the relative residual ``100 (data - fit) / fit`` [%] of each point."""
    law = fit.law_object()
    pred = band(fit, _points_inputs(law, points))["loss"]
    y = points["loss"].to_numpy(float)
    if "N" in points and "D" in points:
        C = 6.0 * points["N"].to_numpy(float) * points["D"].to_numpy(float)
    else:
        C = points["C"].to_numpy(float)
    return pd.DataFrame({"C": C, "residual_pct": 100.0 * (y - pred) / pred})


def frontier(fit, flops_span: tuple[float, float], *, budgets: Sequence[float] = (), published: bool = False,
             n: int = 40) -> dict[str, Any]:
    """Compute-optimal N, D over a span of budgets, the marked budgets, and published frontiers."""
    C = np.geomspace(flops_span[0], flops_span[1], n)
    out = {"frontier": planning.compute_optimal(fit, C),
           "marks": planning.compute_optimal(fit, list(budgets)) if len(budgets) else None,
           "published": {}}
    if published:
        for name, p in planning.PUBLISHED_CHINCHILLA.items():
            alloc = planning.chinchilla_allocation(**p, flops=C)
            out["published"][name] = pd.DataFrame({"flops": C, **{k: alloc[k] for k in ("N", "D", "tokens_per_param")}})
    return out


def overtraining(fit, sizes: Sequence[float], *, tokens_per_param: tuple[float, float] = (1.0, 1e4),
                 n: int = 60) -> dict[str, pd.DataFrame]:
    """Loss against tokens at fixed model sizes, and each size's compute-optimal point.

    The D range of each size is widened to include its compute-optimal D, so
    the promised marker is always on the line (``optima`` lists only sizes
    whose optimum the fit determines).
    """
    lines, optima = [], []
    for N in sizes:
        d_opt = float(planning.optimal_tokens(fit, [N]).loc[0, "D"])
        lo, hi = N * tokens_per_param[0], N * tokens_per_param[1]
        if np.isfinite(d_opt) and d_opt > 0:
            lo, hi = min(lo, d_opt / 3.0), max(hi, d_opt * 3.0)
        df = planning.loss_at(fit, N, np.geomspace(lo, hi, n))
        df["size"] = N
        lines.append(df)
        if np.isfinite(d_opt) and d_opt > 0:
            opt = planning.loss_at(fit, N, d_opt)
            opt["size"] = N
            optima.append(opt)
    return {"lines": pd.concat(lines, ignore_index=True),
            "optima": pd.concat(optima, ignore_index=True) if optima else pd.DataFrame(columns=["size", "D", "loss"])}


def curves_fit(fit, dataset, *, scored=None) -> pd.DataFrame:
    """Observed and predicted loss (with the predictive band) at every logged point of every run.

    Columns ``run``, ``role`` ("fitted" / "held out"), ``step``, ``observed``,
    ``loss``, ``loss_lo``, ``loss_hi``, ``scored`` (the point passes the
    fit's point-selection rule, so it counts in the error metrics).
    """
    from scaling.prediction import scoring_mask

    fitted = set((getattr(fit, "data_info", {}) or {}).get("runs", []))
    frames = []
    for g in dataset:
        b = band(fit, dict(g.inputs))
        step = np.asarray(g.inputs["step"])
        mask, _ = scoring_mask(fit, step, np.asarray(g.inputs["lr"], float))
        frames.append(pd.DataFrame({"run": g.name, "role": "fitted" if g.name in fitted else "held out",
                                    "step": step, "observed": np.asarray(g.loss, float), **b,
                                    "scored": np.asarray(mask, bool)}))
    return pd.concat(frames, ignore_index=True)


def curve_errors(curves: pd.DataFrame) -> pd.DataFrame:
    """Per run: points scored, PredE, WorstE (fractions), band coverage, final observed and predicted loss."""
    rows = []
    for run, g in curves.groupby("run", sort=False):
        s = g[g["scored"]]
        rel = np.abs(s["loss"] - s["observed"]) / s["observed"]
        inside = (s["observed"] >= s["loss_lo"]) & (s["observed"] <= s["loss_hi"])
        rows.append({"run": run, "role": g["role"].iloc[0], "points": len(g), "scored": len(s),
                     "PredE": float(rel.mean()) if len(s) else np.nan,
                     "WorstE": float(rel.max()) if len(s) else np.nan,
                     "band": float(inside.mean()) if len(s) else np.nan,
                     "final_observed": float(g["observed"].iloc[-1]), "final_predicted": float(g["loss"].iloc[-1])})
    return pd.DataFrame(rows)


__all__ = ["curve_errors", "curves_fit", "frontier", "is_nd_law", "overtraining", "points_fit", "points_residuals"]
