"""Figures for fitted scaling laws: one consistent style, every helper takes and returns ``ax``.

Each ``plot_*`` helper draws on an axes the caller owns (``ax``) and returns
it, so figures compose (a notebook cell, a report panel, a README image all
use the same helpers). Helpers only draw: the tables they draw are computed
by :mod:`scaling.report.frames` (from :mod:`scaling.plan` and
:mod:`scaling.evaluate`); :mod:`scaling.report.write` writes files.
Legends sit outside the data, and :func:`colors` gives distinct colours for
any number of runs.

Axes follow the field's habits: model size, data and compute on log axes;
loss on a log axis for final-loss plots (power laws look straight there) and
linear for loss curves against steps. Bands are the fit's bootstrap
percentile intervals (shaded); lines are point estimates.

Examples
--------
>>> from scaling.report import figures as F                   # doctest: +SKIP
>>> fig, ax = F.new_axes()                                      # doctest: +SKIP
>>> from scaling.report import frames                          # doctest: +SKIP
>>> F.plot_frontier(ax, frames.frontier(fit, (1e18, 1e24)))     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import matplotlib
import numpy as np
from cycler import cycler


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


def _level_text(level: float) -> str:
    return f"{float(level):.0%} band"


def colors(n: int) -> list:
    """``n`` distinct colours: :data:`PALETTE` up to 8, ``tab10``/``tab20`` up to 20, then ``turbo`` hues.

    Past 8 runs the Okabe-Ito palette would repeat, so two runs would share a
    colour; matplotlib's categorical maps stay distinct to 20, and beyond
    that hues of ``turbo`` spread by the golden ratio keep neighbours in the
    legend apart.
    """
    if n <= len(PALETTE):
        return list(PALETTE[:n])
    if n <= 20:
        cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
        return [cmap(k) for k in range(n)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(0.05 + 0.9 * ((k * 0.6180339887) % 1.0)) for k in range(n)]


def label(text) -> str:
    """Text from user data (run names, schedule names) made safe for matplotlib: a ``$`` would
    start mathtext and an unbalanced one raises; escaped, it is drawn as a dollar sign."""
    return str(text).replace("$", r"\$")


def legend_outside(ax, **kwargs):
    """A legend to the right of the axes, never over the data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, [label(t) for t in labels], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, **kwargs)
    return ax


# --------------------------------------------------------------------------- final-loss fits


def plot_points_fit(ax, frame, *, law_name: str, level: float = 0.9):
    """Final-loss data and the fitted law (from :func:`scaling.report.frames.points_fit`).

    ``kind == "nd"``: points and one line per model size against C = 6ND,
    coloured by N; ``kind == "one"``: points and the law with its band
    against the law's single input.
    """
    from matplotlib.colors import LogNorm

    pts, lines = frame["points"], frame["lines"]
    if frame["kind"] == "nd":
        sizes = np.sort(pts["N"].unique())
        cmap = matplotlib.colormaps["viridis"]
        norm = LogNorm(sizes.min(), sizes.max() if sizes.max() > sizes.min() else sizes.min() * 10)
        ax.scatter(pts["x"], pts["loss"], c=cmap(norm(pts["N"].to_numpy(float))), s=18, zorder=3,
                   edgecolors="white", linewidths=0.4)
        for n, g in lines.groupby("N", sort=True):
            ax.plot(g["x"], g["loss"], color=cmap(norm(n)), lw=1.2)
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        ax.figure.colorbar(sm, ax=ax, label="model size N (parameters)", pad=0.01)
        ax.set_xlabel("training compute C = 6ND (FLOPs)")
    else:
        ax.scatter(pts["x"], pts["loss"], s=18, color=PALETTE[0], zorder=3, label="data")
        ax.plot(lines["x"], lines["loss"], color=PALETTE[1], label=f"fit: {law_name}")
        _band(ax, lines["x"], lines["loss_lo"], lines["loss_hi"], PALETTE[1], _level_text(level))
        x_name = frame["x_name"]
        ax.set_xlabel({"N": "model size N (parameters)", "D": "tokens D", "C": "compute C (FLOPs)"}.get(x_name, x_name))
        legend_outside(ax)
    ax.set_xscale("log")
    _log_loss_axis(ax)
    ax.set_ylabel("final loss (nats/token)")
    ax.set_title(f"Data and fitted {law_name} law")
    return ax


def _log_loss_axis(ax):
    """Log y axis with plain tick labels (2, 3, 4 rather than 2 x 10^0): loss spans < 1 decade."""
    from matplotlib.ticker import FuncFormatter

    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)


def plot_points_residuals(ax, frame):
    """Relative residuals (from :func:`scaling.report.frames.points_residuals`) against compute, in percent."""
    r = frame["residual_pct"].to_numpy(float)
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.scatter(frame["C"], r, s=14, color=PALETTE[0], zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("residual (data - fit) / fit  [%]")
    ax.set_title(f"Residuals (RMS {float(np.sqrt(np.mean(r**2))):.2f} %)")
    return ax


def plot_param_intervals(axes, fit, *, names: Sequence[str] | None = None):
    """Bootstrap histograms of the natural-unit parameters stored in the fit, estimate and interval marked.

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
    fixed = set(getattr(fit, "fixed_derived", ()))  # a law option has no spread to draw
    names = (list(names) if names is not None
             else [n for n in dsamp if np.ndim(dsamp[n]) == 1 and n not in fixed][: len(axes)])
    recorded = {**dict(getattr(fit, "intervals", {}) or {}), **dict(getattr(fit, "derived_intervals", {}) or {})}
    for ax, name in zip(axes, names):
        s = np.asarray(dsamp[name], float)
        s = s[np.isfinite(s)]
        if s.size == 0:
            ax.set_visible(False)
            continue
        log = bool(np.all(s > 0) and s.max() / max(s.min(), 1e-300) > 30)
        bins = np.geomspace(s.min(), s.max(), 30) if log else 30
        ax.hist(s, bins=bins, color=PALETTE[0], alpha=0.75)
        lo, hi = recorded.get(name, (np.nan, np.nan))  # the fit's own interval, not recomputed here
        if np.isfinite(lo) and np.isfinite(hi):
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


def plot_isoflop(ax, curves):
    """Predicted loss along iso-FLOP lines against N, compute-optimal point starred
    (``curves`` from :func:`scaling.plan.isoflop_curves`)."""
    groups = list(curves.groupby("flops", sort=True))
    for color, (C, g) in zip(colors(len(groups)), groups):
        line = g.loc[~g["is_optimum"]].sort_values("N")
        ax.plot(line["N"], line["loss"], color=color, label=f"C = {_sci(C)} FLOPs")
        _band(ax, line["N"], line["loss_lo"], line["loss_hi"], color)
        opt = g.loc[g["is_optimum"]].iloc[0]
        ax.plot([opt["N"]], [opt["loss"]], marker="*", ms=12, color=color, mec="black", mew=0.6, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("predicted final loss (nats/token)")
    ax.set_title("IsoFLOP curves (star = compute-optimal)")
    legend_outside(ax)
    return ax


def plot_frontier(ax, frame, *, quantity: str = "N", law_name: str = "", level: float = 0.9,
                  fitted_range: tuple[float, float] | None = None):
    """Compute-optimal frontier N_opt(C) (or D_opt(C)) with its band (from :func:`scaling.report.frames.frontier`).

    Parameters
    ----------
    quantity : {"N", "D", "tokens_per_param"}
    fitted_range : (float, float), optional
        The compute range of the fitted data, shaded so extrapolation is visible.
    """
    fr = frame["frontier"]
    if fitted_range is not None:
        ax.axvspan(*fitted_range, color="0.85", alpha=0.5, lw=0, label="fitted compute range")
    ax.plot(fr["flops"], fr[quantity], color=PALETTE[0], label=f"this fit ({law_name})")
    _band(ax, fr["flops"], fr[f"{quantity}_lo"], fr[f"{quantity}_hi"], PALETTE[0], _level_text(level))
    for k, (name, df) in enumerate(frame["published"].items()):
        ax.plot(df["flops"], df[quantity], color=PALETTE[k + 1], ls="--", lw=1.2, label=name)
    marks = frame.get("marks")
    if marks is not None:
        for r in marks.itertuples(index=False):
            v = getattr(r, quantity)
            ax.plot([r.flops], [v], "o", color=PALETTE[0], mec="black", mew=0.6, zorder=4)
            ax.annotate(_sci(v), (r.flops, v), textcoords="offset points", xytext=(6, -10), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel({"N": "compute-optimal N (parameters)", "D": "compute-optimal D (tokens)",
                   "tokens_per_param": "tokens per parameter D/N"}[quantity])
    ax.set_title({"N": "Compute-optimal model size", "D": "Compute-optimal data",
                  "tokens_per_param": "Tokens per parameter at the optimum"}[quantity])
    legend_outside(ax)
    return ax


def plot_overtraining(ax, frame):
    """Predicted loss against tokens for fixed model sizes; circle = each size's compute-optimal point
    (from :func:`scaling.report.frames.overtraining`)."""
    groups = list(frame["lines"].groupby("size", sort=False))
    for color, (N, df) in zip(colors(len(groups)), groups):
        ax.plot(df["D"], df["loss"], color=color, label=f"N = {_sci(N)}")
        _band(ax, df["D"], df["loss_lo"], df["loss_hi"], color)
        opt = frame["optima"].loc[frame["optima"]["size"] == N]
        if len(opt):
            ax.plot(opt["D"], opt["loss"], "o", ms=7, color=color, mec="black", mew=0.8, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("training tokens D")
    ax.set_ylabel("predicted final loss (nats/token)")
    circle = " (circle = compute-optimal)" if len(frame["optima"]) else ""
    ax.set_title("Over-training: loss vs tokens at fixed N" + circle)
    legend_outside(ax)
    return ax


# --------------------------------------------------------------------------- loss-curve fits


def plot_curves_fit(ax, curves, *, law_name: str = "", max_points: int = 400):
    """Observed loss curves (dots) and the law's predictions with bands
    (``curves`` from :func:`scaling.report.frames.curves_fit`; dashed = held out;
    hollow dots = points outside the fit's point-selection rule)."""
    runs = list(curves.groupby("run", sort=False))
    for color, (run, g) in zip(colors(len(runs)), runs):
        keep = np.unique(np.linspace(0, len(g) - 1, min(max_points, len(g))).round().astype(int))
        sub = g.iloc[keep]
        held = g["role"].iloc[0] != "fitted"
        ms = 2.5 if len(keep) > 150 else 5
        used = sub[sub["scored"]]
        ax.plot(used["step"], used["observed"], ".", ms=ms, color=color, alpha=0.6)
        out = sub[~sub["scored"]]
        if len(out):
            ax.plot(out["step"], out["observed"], "o", ms=ms, mfc="none", color=color, alpha=0.6)
        ax.plot(g["step"], g["loss"], color=color, ls="--" if held else "-", label=f"{run} ({g['role'].iloc[0]})")
        _band(ax, g["step"], g["loss_lo"], g["loss_hi"], color)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(label(f"Loss curves: data (dots) and {law_name} (lines; dashed = held out)"))
    _tight_ylim(ax, curves)
    legend_outside(ax)
    return ax


def _tight_ylim(ax, curves):
    """Clip the y range to the scored points (the warmup's first losses dwarf the rest)."""
    s = curves[curves["scored"]] if curves["scored"].any() else curves
    lo, hi = float(s["observed"].min()), float(s["observed"].max())
    pad = 0.08 * (hi - lo if hi > lo else 1.0)
    ax.set_ylim(lo - pad, hi + pad)


def plot_curve_residuals(ax, curves):
    """Relative error (prediction - data) / data in percent along each run, on the scored points."""
    ax.axhline(0.0, color="0.3", lw=0.8)
    runs = list(curves.groupby("run", sort=False))
    for color, (run, g) in zip(colors(len(runs)), runs):
        g = g[g["scored"]]
        if not len(g):
            continue
        r = 100.0 * (g["loss"] - g["observed"]) / g["observed"]
        held = g["role"].iloc[0] != "fitted"
        ax.plot(g["step"], r, color=color, lw=1.0, ls="--" if held else "-",
                label=f"{run}: mean |err| {np.mean(np.abs(r)):.2f} %")
    ax.set_xlabel("step")
    ax.set_ylabel("(prediction - data) / data  [%]")
    ax.set_title("Prediction error along each run")
    legend_outside(ax)
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
    groups = list(curves.groupby("schedule", sort=False))
    for color, (name, g) in zip(colors(len(groups)), groups):
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
    if lr_ax is not None:
        lr_ax.set_xlabel("step")
        lr_ax.set_ylabel("learning rate")
        lr_ax.set_title("Schedules")
        # one legend for both panels, right of the LR panel (the loss panel's lines carry the labels)
        handles, labels = ax.get_legend_handles_labels()
        lr_ax.legend(handles, [label(t) for t in labels], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                     borderaxespad=0.0)
    else:
        legend_outside(ax)
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
    ax.set_yticks(y, [label(v) for v in r["schedule"]])
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
    "colors",
    "legend_outside",
    "new_axes",
    "plot_law_comparison",
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
    labels = [label(v) for v in t["law"]]
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
