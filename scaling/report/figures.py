"""Figures for fitted scaling laws: one consistent style, every helper takes and returns ``ax``.

Each ``plot_*`` helper draws on an axes the caller owns (``ax``) and returns
it, so figures compose (a notebook cell, a report panel, a README image all
use the same helpers). Nothing here fits or saves: the numbers come from
:mod:`scaling.plan` and :mod:`scaling.evaluate` and the fit result; :mod:`scaling.report` writes files.

Axes follow the field's habits: model size, data and compute on log axes;
loss on a log axis for final-loss plots (power laws look straight there) and
linear for loss curves against steps. Bands are the fit's bootstrap
percentile intervals (shaded); lines are point estimates.

Examples
--------
>>> from scaling.report import figures as F                   # doctest: +SKIP
>>> fig, ax = F.new_axes()                                      # doctest: +SKIP
>>> F.plot_frontier(ax, fit, (1e18, 1e24), published=True)     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import matplotlib
import numpy as np
from cycler import cycler

from scaling import plan as planning
from scaling.evaluate import band

#: A colour-blind-friendly cycle (Okabe & Ito 2008), used everywhere.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

#: matplotlib rc settings shared by every figure.
STYLE: dict[str, Any] = {
    "figure.figsize": (6.4, 4.2),
    "figure.dpi": 110,
    "savefig.dpi": 130,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
}

BAND_ALPHA = 0.2


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying :data:`STYLE` (for figures made outside :func:`new_axes`)."""
    with matplotlib.rc_context(STYLE):
        yield


def new_axes(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None, **kwargs):
    """A new figure in the package style; returns ``(fig, ax)`` like ``plt.subplots``.

    Uses :class:`matplotlib.figure.Figure` directly (no pyplot state), so it
    works headless and does not leak figures; in a notebook, display ``fig``.
    """
    from matplotlib.figure import Figure

    with style():
        if size is None:
            w, h = STYLE["figure.figsize"]
            size = (w * ncols, h * nrows)
        fig = Figure(figsize=size, dpi=STYLE["figure.dpi"], layout="constrained")
        ax = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, ax


def _sci(x: float) -> str:
    """1.2e+21 -> '1.2e21' for labels."""
    if not np.isfinite(x):
        return "n/a"
    m, e = f"{x:.2g}".split("e") if "e" in f"{x:.2g}" else (f"{x:.3g}", None)
    return f"{m}e{int(e)}" if e is not None else m


def _band(ax, x, lo, hi, color, label=None):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    if np.all(np.isnan(lo)) or np.all(np.isnan(hi)):
        return
    ax.fill_between(x, lo, hi, color=color, alpha=BAND_ALPHA, linewidth=0, label=label)


def _level_text(fit) -> str:
    level = float(getattr(fit, "level", 0.9) or 0.9)
    return f"{level:.0%} band"


# --------------------------------------------------------------------------- final-loss fits


def _points_inputs(law, points) -> dict[str, np.ndarray]:
    cols = {}
    for name in law.inputs:
        if name == "M":
            cols["M"] = points["D"].to_numpy(float) / points["N"].to_numpy(float)
        elif name == "C" and "C" not in points.columns:
            cols["C"] = 6.0 * points["N"].to_numpy(float) * points["D"].to_numpy(float)
        else:
            cols[name] = points[name].to_numpy(float)
    return cols


def plot_points_fit(ax, fit, points):
    """Final-loss data and the fitted law: loss against compute, one colour per model size.

    For a law of ``N`` and ``D`` (``chinchilla``) each model size gets its
    observed points and the law's line over its range of D, plotted against
    C = 6ND. For a law of one input (``power-law``) the points and the law
    (with its band) are plotted against that input.

    Parameters
    ----------
    ax : matplotlib Axes
    fit : FitResult
    points : pandas.DataFrame
        Canonical points table (``N``, ``D``, ``C``, ``loss``).
    """
    from matplotlib.colors import LogNorm

    law = fit.law_object()
    ins = list(law.inputs)
    if set(ins) >= {"N", "D"} or set(ins) >= {"N", "M"}:
        sizes = np.sort(points["N"].unique())
        cmap = matplotlib.colormaps["viridis"]
        norm = LogNorm(sizes.min(), sizes.max() if sizes.max() > sizes.min() else sizes.min() * 10)
        C = 6.0 * points["N"].to_numpy(float) * points["D"].to_numpy(float)
        ax.scatter(C, points["loss"], c=cmap(norm(points["N"].to_numpy(float))), s=18, zorder=3,
                   edgecolors="white", linewidths=0.4)
        for n in sizes:
            d = points.loc[points["N"] == n, "D"].to_numpy(float)
            D = np.geomspace(d.min() / 1.5, d.max() * 1.5, 60)
            N = np.full_like(D, n)
            pred = band(fit, _points_inputs(law, _frame(N=N, D=D)))
            ax.plot(6 * N * D, pred["loss"], color=cmap(norm(n)), lw=1.2)
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        ax.figure.colorbar(sm, ax=ax, label="model size N (parameters)", pad=0.01)
        ax.set_xlabel("training compute C = 6ND (FLOPs)")
    else:
        x_name = ins[0]
        x = points[x_name].to_numpy(float) if x_name in points.columns else _points_inputs(law, points)[x_name]
        ax.scatter(x, points["loss"], s=18, color=PALETTE[0], zorder=3, label="data")
        grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 100)
        pred = band(fit, {x_name: grid})
        ax.plot(grid, pred["loss"], color=PALETTE[1], label=f"fit: {fit.law}")
        _band(ax, grid, pred["loss_lo"], pred["loss_hi"], PALETTE[1], _level_text(fit))
        ax.set_xlabel({"N": "model size N (parameters)", "D": "tokens D", "C": "compute C (FLOPs)"}.get(x_name, x_name))
        ax.legend()
    ax.set_xscale("log")
    _log_loss_axis(ax)
    ax.set_ylabel("final loss (nats/token)")
    ax.set_title(f"Data and fitted {fit.law} law")
    return ax


def _log_loss_axis(ax):
    """Log y axis with plain tick labels (2, 3, 4 rather than 2 x 10^0): loss spans < 1 decade."""
    from matplotlib.ticker import FuncFormatter

    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)


def _frame(**cols):
    import pandas as pd

    return pd.DataFrame(cols)


def plot_points_residuals(ax, fit, points):
    """Relative residuals (data - fit) / fit of a final-loss fit, against compute, in percent."""
    law = fit.law_object()
    pred = band(fit, _points_inputs(law, points))["loss"]
    y = points["loss"].to_numpy(float)
    C = 6.0 * points["N"].to_numpy(float) * points["D"].to_numpy(float) if "N" in points and "D" in points else points["C"].to_numpy(float)
    r = 100.0 * (y - pred) / pred
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.scatter(C, r, s=14, color=PALETTE[0], zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("residual (data - fit) / fit  [%]")
    rmse = float(np.sqrt(np.mean(r**2)))
    ax.set_title(f"Residuals (RMS {rmse:.2f} %)")
    return ax


def plot_param_intervals(axes, fit, *, names: Sequence[str] | None = None):
    """Bootstrap histograms of the natural-unit parameters, point estimate and interval marked.

    Parameters
    ----------
    axes : sequence of Axes
        One per parameter (extra axes are hidden).
    fit : FitResult
        Needs ``derived_samples`` (or ``samples``) from a bootstrap.
    names : sequence of str, optional
        Which derived quantities to show (default: all scalar ones, up to the
        number of axes).
    """
    axes = list(np.ravel(axes))
    derived = dict(getattr(fit, "derived", {}) or {})
    dsamp = dict(getattr(fit, "derived_samples", {}) or {})
    if not dsamp and getattr(fit, "samples", None) is not None:
        dsamp = {n: np.asarray(fit.samples)[:, i] for i, n in enumerate(fit.param_names)}
        derived = {n: float(v) for n, v in zip(fit.param_names, fit.params)}
    names = list(names) if names is not None else [n for n in dsamp if np.ndim(dsamp[n]) == 1][: len(axes)]
    level = float(getattr(fit, "level", 0.9) or 0.9)
    q = (1 - level) / 2
    for ax, name in zip(axes, names):
        s = np.asarray(dsamp[name], float)
        s = s[np.isfinite(s)]
        if s.size == 0:
            ax.set_visible(False)
            continue
        log = bool(np.all(s > 0) and s.max() / max(s.min(), 1e-300) > 30)
        bins = np.geomspace(s.min(), s.max(), 30) if log else 30
        ax.hist(s, bins=bins, color=PALETTE[0], alpha=0.75)
        lo, hi = np.quantile(s, [q, 1 - q])
        ax.axvspan(lo, hi, color=PALETTE[1], alpha=0.12)
        if name in derived:
            ax.axvline(float(derived[name]), color=PALETTE[1], lw=1.5)
        if log:
            ax.set_xscale("log")
        ax.set_title(f"{name} = {float(derived.get(name, np.median(s))):.4g}  [{lo:.3g}, {hi:.3g}]", fontsize=9)
        ax.set_yticks([])
    for ax in axes[len(names):]:
        ax.set_visible(False)
    return axes


def plot_isoflop(ax, fit, flops: Sequence[float], *, decades: float = 1.0):
    """Predicted loss along iso-FLOP lines against N, compute-optimal point starred."""
    curves = planning.isoflop_curves(fit, flops, decades=decades)
    for k, (C, g) in enumerate(curves.groupby("flops", sort=True)):
        color = PALETTE[k % len(PALETTE)]
        line = g.loc[~g["is_optimum"]].sort_values("N")
        ax.plot(line["N"], line["loss"], color=color, label=f"C = {_sci(C)} FLOPs")
        _band(ax, line["N"], line["loss_lo"], line["loss_hi"], color)
        opt = g.loc[g["is_optimum"]].iloc[0]
        ax.plot([opt["N"]], [opt["loss"]], marker="*", ms=12, color=color, mec="black", mew=0.6, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("predicted final loss (nats/token)")
    ax.set_title("IsoFLOP curves (star = compute-optimal)")
    ax.legend()
    return ax


def plot_frontier(ax, fit, flops_span: tuple[float, float] = (1e18, 1e25), *, quantity: str = "N",
                  published: bool = False, budgets: Sequence[float] = (), n: int = 40):
    """Compute-optimal frontier N_opt(C) (or D_opt(C)) with its band, optionally with published laws.

    Parameters
    ----------
    quantity : {"N", "D", "tokens_per_param"}
    published : bool
        Also draw Hoffmann et al. 2022 and Besiroglu et al. 2024 (Epoch),
        from :data:`scaling.plan.PUBLISHED_CHINCHILLA`.
    budgets : sequence of float
        Budgets to mark with their value.
    """
    C = np.geomspace(flops_span[0], flops_span[1], n)
    plan = planning.compute_optimal(fit, C)
    ax.plot(C, plan[quantity], color=PALETTE[0], label=f"this fit ({fit.law})")
    _band(ax, C, plan[f"{quantity}_lo"], plan[f"{quantity}_hi"], PALETTE[0], _level_text(fit))
    if published:
        for k, (name, p) in enumerate(planning.PUBLISHED_CHINCHILLA.items()):
            out = planning.chinchilla_allocation(**p, flops=C)
            ax.plot(C, out[quantity], color=PALETTE[k + 1], ls="--", lw=1.2, label=name)
    for b in budgets:
        row = planning.compute_optimal(fit, [b]).iloc[0]
        ax.plot([b], [row[quantity]], "o", color=PALETTE[0], mec="black", mew=0.6, zorder=4)
        ax.annotate(_sci(row[quantity]), (b, row[quantity]), textcoords="offset points", xytext=(6, -10), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    label = {"N": "compute-optimal N (parameters)", "D": "compute-optimal D (tokens)",
             "tokens_per_param": "tokens per parameter D/N"}[quantity]
    ax.set_ylabel(label)
    ax.set_title({"N": "Compute-optimal model size", "D": "Compute-optimal data",
                  "tokens_per_param": "Tokens per parameter at the optimum"}[quantity])
    ax.legend()
    return ax


def plot_overtraining(ax, fit, sizes: Sequence[float], *, tokens_per_param: tuple[float, float] = (1.0, 1e4),
                      n: int = 60):
    """Predicted loss against tokens for fixed model sizes (over-training), bands from the bootstrap.

    Each line is one N trained on more and more tokens; the circle marks the
    compute-optimal point on that line (the D for which N is optimal). Left
    of it the model is under-trained for its size, right of it over-trained
    (cheaper to serve; Gadre et al. 2024, arXiv:2403.08540).
    """
    for k, N in enumerate(sizes):
        color = PALETTE[k % len(PALETTE)]
        D = np.geomspace(N * tokens_per_param[0], N * tokens_per_param[1], n)
        df = planning.loss_at(fit, N, D)
        ax.plot(df["D"], df["loss"], color=color, label=f"N = {_sci(N)}")
        _band(ax, df["D"], df["loss_lo"], df["loss_hi"], color)
        d_opt = float(planning.optimal_tokens(fit, [N]).loc[0, "D"])
        if D[0] <= d_opt <= D[-1]:
            l_opt = planning.loss_at(fit, N, d_opt).loc[0, "loss"]
            ax.plot([d_opt], [l_opt], "o", color=color, mec="black", mew=0.6, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("training tokens D")
    ax.set_ylabel("predicted final loss (nats/token)")
    ax.set_title("Over-training: loss vs tokens at fixed N (circle = compute-optimal)")
    ax.legend()
    return ax


# --------------------------------------------------------------------------- loss-curve fits


def plot_curves_fit(ax, fit, dataset, *, fitted_runs: Sequence[str] | None = None, max_points: int = 400):
    """Observed loss curves and the law's predictions; runs not used in the fit are held out.

    Parameters
    ----------
    ax : Axes
    fit : FitResult
        A loss-curve fit.
    dataset : scaling.fitting.dataset.Dataset
        Groups (one per run) built with ``dataset_from_curves`` from the
        curves to show.
    fitted_runs : sequence of str, optional
        Runs the fit used (default ``fit.data_info["runs"]``); others are
        drawn dashed as held-out predictions.
    """
    fitted = set(fitted_runs if fitted_runs is not None else (getattr(fit, "data_info", {}) or {}).get("runs", []))
    for k, g in enumerate(dataset):
        color = PALETTE[k % len(PALETTE)]
        step, y = np.asarray(g.inputs["step"]), np.asarray(g.loss)
        keep = np.unique(np.linspace(0, len(step) - 1, min(max_points, len(step))).round().astype(int))
        pred = band(fit, {**g.inputs})
        held = g.name not in fitted
        ax.plot(step[keep], y[keep], ".", ms=2.5 if len(keep) > 150 else 5, color=color, alpha=0.6)
        ax.plot(step, pred["loss"], color=color, ls="--" if held else "-",
                label=f"{g.name} ({'held out' if held else 'fitted'})")
        _band(ax, step, pred["loss_lo"], pred["loss_hi"], color)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(f"Loss curves: data (dots) and {fit.law} (lines; dashed = held out)")
    _tight_ylim(ax, dataset)
    ax.legend(ncol=2)
    return ax


def _tight_ylim(ax, dataset):
    """Clip the y range to the later 90 % of every curve (the first steps dwarf the rest)."""
    tails = [np.asarray(g.loss)[len(g.loss) // 10:] for g in dataset if len(g.loss)]
    if tails:
        t = np.concatenate(tails)
        lo, hi = float(np.min(t)), float(np.max(t))
        pad = 0.08 * (hi - lo if hi > lo else 1.0)
        ax.set_ylim(lo - pad, hi + pad)


def plot_curve_residuals(ax, fit, dataset, *, fitted_runs: Sequence[str] | None = None):
    """Relative error (prediction - data) / data in percent along each run."""
    fitted = set(fitted_runs if fitted_runs is not None else (getattr(fit, "data_info", {}) or {}).get("runs", []))
    ax.axhline(0.0, color="0.3", lw=0.8)
    for k, g in enumerate(dataset):
        pred = band(fit, {**g.inputs})["loss"]
        r = 100.0 * (pred - np.asarray(g.loss)) / np.asarray(g.loss)
        held = g.name not in fitted
        ax.plot(g.inputs["step"], r, color=PALETTE[k % len(PALETTE)], lw=1.0, ls="--" if held else "-",
                label=f"{g.name}: mean |err| {np.mean(np.abs(r)):.2f} %")
    ax.set_xlabel("step")
    ax.set_ylabel("(prediction - data) / data  [%]")
    ax.set_title("Prediction error along each run")
    ax.legend(ncol=2)
    return ax


def plot_schedules(ax, curves, *, lr_ax=None, highlight: str | None = None):
    """Predicted loss curves of candidate schedules with bands (from :func:`scaling.plan.schedule_curves`).

    Parameters
    ----------
    ax : Axes
        Loss axes.
    curves : pandas.DataFrame
        ``schedule, step, lr, loss, loss_lo, loss_hi``.
    lr_ax : Axes, optional
        If given, the LR schedules are drawn there too.
    highlight : str, optional
        Schedule drawn thicker (e.g. the recommended one).
    """
    for k, (name, g) in enumerate(curves.groupby("schedule", sort=False)):
        color = PALETTE[k % len(PALETTE)]
        lw = 2.6 if name == highlight else 1.3
        ax.plot(g["step"], g["loss"], color=color, lw=lw, label=name)
        _band(ax, g["step"], g["loss_lo"], g["loss_hi"], color)
        if lr_ax is not None:
            lr_ax.plot(g["step"], g["lr"], color=color, lw=lw)
    tail = curves.groupby("schedule")["loss"].apply(lambda s: s.iloc[len(s) // 5:])
    lo, hi = float(tail.min()), float(tail.max())
    pad = 0.1 * (hi - lo if hi > lo else 0.1)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("step")
    ax.set_ylabel("predicted loss (nats/token)")
    ax.set_title("Predicted loss for candidate schedules")
    ax.legend(ncol=2)
    if lr_ax is not None:
        lr_ax.set_xlabel("step")
        lr_ax.set_ylabel("learning rate")
        lr_ax.set_title("Schedules")
    return ax


def plot_schedule_ranking(ax, ranking, *, top: int = 12):
    """Horizontal bars: predicted final loss minus the best's, with paired intervals."""
    r = ranking.head(top).iloc[::-1]
    y = np.arange(len(r))
    d = r["delta"].to_numpy(float) * 1e3
    err = np.vstack([d - r["delta_lo"].to_numpy(float) * 1e3, r["delta_hi"].to_numpy(float) * 1e3 - d])
    err = np.where(np.isfinite(err), np.maximum(err, 0), 0)
    ax.barh(y, d, xerr=err if np.any(err > 0) else None, color=PALETTE[0], alpha=0.85,
            error_kw={"lw": 0.8, "capsize": 2})
    ax.text(0, y[-1], "  best", va="center", ha="left", color=PALETTE[1], fontweight="bold", fontsize=9)
    ax.set_yticks(y, r["schedule"])
    ax.set_xlabel("final loss above the best  [millinats]")
    ax.set_title("Schedule ranking (paired bootstrap intervals)")
    ax.grid(axis="y", visible=False)
    return ax


def plot_wsd_scan(ax, scan):
    """Predicted final loss against the WSD decay fraction (from :func:`scaling.plan.best_wsd_decay`)."""
    x = scan["decay"].to_numpy(float)
    ax.plot(x, scan["final_loss"], marker="o", color=PALETTE[0])
    _band(ax, x, scan["final_loss_lo"], scan["final_loss_hi"], PALETTE[0])
    best = scan.loc[scan["rank"] == 1].iloc[0]
    ax.plot([best["decay"]], [best["final_loss"]], marker="*", ms=13, color=PALETTE[1], mec="black", mew=0.6)
    ax.set_xlabel("WSD decay fraction")
    ax.set_ylabel("predicted final loss (nats/token)")
    ax.set_title(f"Best WSD decay fraction: {best['decay']:.2g}")
    return ax


__all__ = [
    "PALETTE",
    "STYLE",
    "new_axes",
    "plot_curve_residuals",
    "plot_curves_fit",
    "plot_frontier",
    "plot_isoflop",
    "plot_overtraining",
    "plot_param_intervals",
    "plot_points_fit",
    "plot_points_residuals",
    "plot_schedule_ranking",
    "plot_schedules",
    "plot_wsd_scan",
    "style",
]


def plot_law_comparison(axes, table):
    """Two panels from :func:`scaling.compare.compare`: held-out PredE and delta-AIC per law.

    Parameters
    ----------
    axes : pair of matplotlib Axes
    table : pandas.DataFrame
        The comparison table (columns ``law``, ``PredE``, ``WorstE``, ``delta_aic``; one row per law,
        best first). PredE/WorstE are fractions; they are drawn in percent.
    """
    t = table.iloc[::-1]
    y = np.arange(len(t))
    labels = [str(v) for v in t["law"]]
    pred = 100 * t["PredE"].to_numpy(float)
    worst = 100 * t["WorstE"].to_numpy(float)
    ax = axes[0]
    ax.barh(y - 0.2, pred, height=0.4, color=PALETTE[0], label="PredE (mean)")
    ax.barh(y + 0.2, worst, height=0.4, color=PALETTE[1], alpha=0.8, label="WorstE (max)")
    ax.set_yticks(y, labels)
    ax.set_xlabel("relative error on runs not fitted  [%]")
    ax.set_title("Prediction error on held-out runs")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", visible=False)
    ax = axes[1]
    ax.barh(y, t["delta_aic"].to_numpy(float), color=PALETTE[2])
    ax.set_yticks(y, labels)
    ax.set_xlabel("AIC above the best law (fitted data)")
    ax.set_title("Goodness of fit")
    ax.grid(axis="y", visible=False)
    return axes
