"""The fit-summary blocks every report section starts with: one sentence of fit metrics, which
points and which loss were fitted, and the table of parameters with their intervals."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from scaling.report.document import Table, fmt


def fit_summary_table(fit) -> Table:
    """Parameters and derived quantities with standard errors and intervals."""
    level = float(getattr(fit, "level", 0.9) or 0.9)
    rows = []
    stderr = getattr(fit, "stderr", None)
    intervals = dict(getattr(fit, "intervals", {}) or {})
    for i, name in enumerate(fit.param_names):
        se = float(stderr[i]) if stderr is not None and len(stderr) > i else float("nan")
        lo, hi = intervals.get(name, (float("nan"), float("nan")))
        rows.append((name, "fit", fmt(float(fit.params[i])), fmt(se, ".2g"), fmt(lo), fmt(hi)))
    dint = dict(getattr(fit, "derived_intervals", {}) or {})
    fixed = set(getattr(fit, "fixed_derived", ()))
    for name, v in (getattr(fit, "derived", {}) or {}).items():
        if name in fit.param_names or np.ndim(v) != 0:
            continue
        if name in fixed:
            rows.append((name, "fixed (law option)", fmt(float(v)), "", "", ""))
            continue
        lo, hi = dint.get(name, (float("nan"), float("nan")))
        rows.append((name, "derived", fmt(float(v)), "", fmt(lo), fmt(hi)))
    return Table(("quantity", "kind", "value", "stderr", f"{level:.0%} lo", f"{level:.0%} hi"), tuple(rows),
                 caption=f"Fitted parameters of `{fit.law}` (fit space) and derived natural-unit quantities")


def fit_metrics_line(fit) -> str:
    """One sentence: points, objective (which one), R², RMSE, starts, how the intervals were made, seconds."""
    from scaling.fitting.report import objective_text

    info = dict(getattr(fit, "data_info", {}) or {})
    bits = [f"{getattr(fit, 'n_points', '?')} points"]
    for label, attr, spec in (("objective", "objective", ".6g"), ("R²", "r2", ".5f"), ("RMSE", "rmse", ".3g"),
                              ("AIC", "aic", ".5g")):
        v = getattr(fit, attr, None)
        if v is not None:
            bits.append(f"{label} {fmt(v, spec)}" + (f" ({objective_text(info)})" if attr == "objective" else ""))
    n_starts = getattr(fit, "n_starts", None)
    if n_starts:
        bits.append(f"{getattr(fit, 'n_starts_at_best', '?')}/{n_starts} starts reached the best objective")
    bits.append(_intervals_made(fit, info))
    from scaling.fitting.diagnostics import convergence

    bits.append(f"converged: {convergence(fit)['text']}")
    secs = getattr(fit, "seconds", None)
    if secs is not None:
        bits.append(f"fitted in {float(secs):.2f} s")
    return f"Law `{fit.law}`: " + "; ".join(bits) + "."


def _intervals_made(fit, info: Mapping[str, Any]) -> str:
    """How the fit's intervals were made: bootstrap resamples, Laplace (posterior with a prior) or profile."""
    samples = getattr(fit, "samples", None)
    B = 0 if samples is None else int(np.all(np.isfinite(np.asarray(samples)), axis=1).sum())
    if B:
        return f"{B} bootstrap resamples"
    if not any(np.all(np.isfinite(v)) for v in (getattr(fit, "intervals", {}) or {}).values()):
        return "no intervals"
    method = info.get("intervals")
    if method == "profile":
        return "profile-likelihood intervals (no bootstrap)"
    posterior = " of the posterior with the law's prior" if info.get("prior") else ""
    return f"Laplace intervals{posterior} (no bootstrap)"


def points_used(info: Mapping[str, Any]) -> str:
    """The fit's point-selection rule and loss split as a sentence ("" when the fit records neither)."""
    from scaling.fitting.dataset import describe_splits
    from scaling.fitting.selection import describe

    bits = []
    if info.get("selection"):
        bits.append(f"Points fitted: {describe(info['selection'])}.")
    if info.get("splits"):
        bits.append(f"Loss fitted: {describe_splits(info['splits'])}.")
    return " ".join(bits)


__all__ = ["fit_metrics_line", "fit_summary_table", "points_used"]
