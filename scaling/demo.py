"""The main job on real published runs, in one process: fit, predict held-out runs, plan, report.

:func:`run_demo` is what ``make demo`` (``scaling demo``) runs:

1. **Loss curves** (Luo et al. 2025, a model size of ``luo2025-*``): fit each
   curve law (``lr-annealing``, ``multi-power``) on the paper's training
   schedules, predict its held-out test schedules from their LR alone and score
   them (PredE, WorstE, share of points inside the predictive band) on the
   points the fit's own point-selection rule keeps.
2. **Schedule plan** with the law that predicted the held-out runs best, for a
   longer horizon than any fitted run (ranked with paired bootstrap
   intervals; the recommendation says when the data cannot separate
   schedules, when their gap is below the fit's calibrated held-out error
   (``"resolution"``, nats) and how far the horizon extrapolates).
3. **Final losses** (Gadre et al. 2024, one corpus of ``gadre2024-*``): fit
   ``chinchilla`` and ``overtraining``; plan the compute-optimal allocation at
   budgets inside the data's compute range.
4. Write the fits, ``report/report.html`` + ``report.md`` and ``summary.json``::

       {"curves": {"<law>": {"fit_on": [...], "held_out": {"<run>": {"PredE": %, "WorstE": %,
                                                                    "band": share 0-1}}, ...}},
        "final": {"<law>": {"params": {...}, "warnings": [...]}},
        "plan": {"schedule": {"recommendation": str, "resolution": nats, "ranking": [...], ...},
                 "compute": {...}}}

One process means every law compiles once (the CLI's persistent cache makes a
second run faster still). The equivalent CLI commands are in the README.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from scaling.fitting.diagnostics import warning_messages

CURVE_LAWS = ("lr-annealing", "multi-power")
FINAL_LAWS = ("chinchilla", "overtraining")


def _clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    return x


def _natural(fit) -> dict[str, float]:
    return {k: float(v) for k, v in (fit.derived or {}).items() if np.ndim(v) == 0}


def curve_job(table, law_name: str, train: Sequence[str], test: Sequence[str], *, bootstrap: int, seed: int,
              level: float):
    """Fit one curve law on ``train`` runs, predict and score every ``test`` run.

    Returns
    -------
    fit : FitResult
    entry : dict
        ``fit_on``, ``held_out`` (per run ``PredE``/``WorstE`` in percent,
        ``band`` share, ``n_scored``), ``mean_PredE``, ``params``, ``warnings``.
    """
    from scaling.fitting import dataset_from_curves, fit
    from scaling.laws import get_law
    from scaling.prediction import compare_observed, predict
    from scaling.runs import curve_arrays

    law = get_law(law_name)
    data = dataset_from_curves(law, table[table["run"].isin(list(train))], split="val")
    res = fit(law, data, bootstrap=bootstrap, seed=seed, level=level)
    held = {}
    for run in test:
        lr, steps, loss = curve_arrays(table, run, split="val")
        pred = predict(res, lr, steps=steps, level=level)
        m = compare_observed(res, pred, observed=loss, lr=lr)
        held[run] = {"PredE": 100 * m["PredE"], "WorstE": 100 * m["WorstE"], "band": m["coverage"],
                     "n_scored": m["n_scored"], "final_loss_error": 100 * abs(m["FinalE"]),
                     "warnings": list(pred.attrs.get("warnings", ()))}
    entry = {"fit_on": list(train), "held_out": held,
             "mean_PredE": float(np.mean([v["PredE"] for v in held.values()])),
             "params": _natural(res), "warnings": warning_messages(res)}
    return res, entry


def schedule_job(fit, *, steps: int, peak: float, warmup: int, final: float | None = None) -> dict[str, Any]:
    """Rank the usual candidate schedules for ``steps`` with ``fit``; the honest recommendation."""
    from scaling import plan

    cands = plan.candidate_schedules(steps, peak, final=final, warmup=warmup)
    ranking = plan.compare_schedules(fit, cands, steps=steps)
    top = ranking.head(6)
    return {"law": fit.law, "steps": steps, "peak": peak, "warmup": warmup,
            "recommendation": plan.recommendation(ranking, fit=fit, steps=steps),
            "resolution": float(ranking.attrs["resolution"]),
            "ranking": [{"schedule": r.schedule, "final_loss": r.final_loss, "lo": r.final_loss_lo,
                         "hi": r.final_loss_hi, "pred_lo": r.final_loss_pred_lo, "pred_hi": r.final_loss_pred_hi,
                         "above_best": r.delta, "p_best": r.p_best}
                        for r in top.itertuples(index=False)]}


def final_job(points, law_name: str, *, bootstrap: int, seed: int, level: float):
    """Fit one final-loss law; its natural-unit parameters with intervals and its warnings."""
    from scaling.fitting import dataset_from_points, fit
    from scaling.laws import get_law

    law = get_law(law_name)
    res = fit(law, dataset_from_points(law, points), bootstrap=bootstrap, seed=seed, level=level)
    intervals = {k: list(v) for k, v in (res.derived_intervals or {}).items()}
    return res, {"params": _natural(res), "intervals": intervals, "warnings": warning_messages(res),
                 "R2": res.r2, "n_points": res.n_points}


def compute_job(fit, budgets: Sequence[float]) -> dict[str, Any]:
    """Compute-optimal allocation at ``budgets`` with intervals and range warnings."""
    from scaling import plan

    table = plan.compute_optimal(fit, list(budgets))
    warn = plan.range_warnings(fit, flops=table["flops"].to_numpy(), N=table["N"].to_numpy(), D=table["D"].to_numpy())
    rows = [{k: getattr(r, k) for k in ("flops", "N", "N_lo", "N_hi", "D", "D_lo", "D_hi", "tokens_per_param",
                                         "loss", "loss_lo", "loss_hi")} for r in table.itertuples(index=False)]
    supported = not warn and not warning_messages(fit)
    return {"law": fit.law, "budgets": rows, "warnings": warn + warning_messages(fit), "supported": supported}


def run_demo(out_dir: str | Path = "out", *, curves: str = "luo2025-25M", points: str = "gadre2024-rpj",
             curve_laws: Sequence[str] = CURVE_LAWS, final_laws: Sequence[str] = FINAL_LAWS,
             horizon: int = 72_000, curve_bootstrap: int = 40, final_bootstrap: int = 200,
             slow_law_bootstrap: int = 0, seed: int = 0,
             level: float = 0.9, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the demo and write its outputs under ``out_dir``; returns the summary.

    Parameters
    ----------
    out_dir : path
        Output folder: ``fit_<law>.json`` per law, ``report/``, ``summary.json``.
    curves, points : str
        Shipped dataset names (``scaling datasets``).
    curve_laws, final_laws : sequence of str
        Laws to fit.
    horizon : int
        Step budget of the schedule plan (longer than the fitted runs).
    curve_bootstrap, final_bootstrap : int
        Bootstrap refits (block bootstrap for curves).
    slow_law_bootstrap : int
        Refits for ``multi-power``, whose refits cost minutes on two cores;
        with 0 its band comes from the Laplace covariance widened by the
        held-out calibration, and the schedule plan uses the best law that
        has bootstrap samples (paired intervals need them).
    seed : int
        Seed of every resampling (the run is reproducible).
    level : float
        Interval and band level.
    log : callable
        Where progress lines go.
    """
    from scaling.datasets import load_dataset
    from scaling.datasets.luo2025 import TEST, TRAIN, lr_schedule
    from scaling.outputs import check_output_path, write_atomic
    from scaling.report.build import build_report
    from scaling.report.write import write_report

    out = check_output_path(out_dir, folder=True, flag="--out")
    summary: dict[str, Any] = {"curves": {}, "final": {}, "plan": {}, "datasets": {"curves": curves, "points": points}}
    table = load_dataset(curves)
    fits, curve_fits = [], {}
    for name in curve_laws:
        log(f"fitting {name} on {curves}: {', '.join(TRAIN)}")
        boot = slow_law_bootstrap if name == "multi-power" else curve_bootstrap
        res, entry = curve_job(table, name, TRAIN, TEST, bootstrap=boot, seed=seed, level=level)
        res.save(out / f"fit_{name}.json")
        summary["curves"][name] = entry
        curve_fits[name] = res
        fits.append(res)
        for run, m in entry["held_out"].items():
            log(f"  held out {run:<18} PredE {m['PredE']:.3f} %  WorstE {m['WorstE']:.3f} %  in band {m['band']:.0%}")
        for w in entry["warnings"]:
            log(f"  warning: {w}")
    # the plan prefers bootstrap samples (paired intervals and P(best) without linearising the law); among
    # laws that have them, the one that predicted the held-out schedules best
    with_samples = [k for k in summary["curves"] if curve_fits[k].samples is not None] or list(summary["curves"])
    best = min(with_samples, key=lambda k: summary["curves"][k]["mean_PredE"])
    lr = lr_schedule(TRAIN[0])
    peak, warm = float(np.max(lr)), int(np.argmax(lr >= np.max(lr) * (1 - 1e-12)))
    log(f"ranking schedules for {horizon} steps with {best}")
    summary["plan"]["schedule"] = schedule_job(curve_fits[best], steps=horizon, peak=peak, warmup=warm,
                                               final=peak / 10)
    log("  " + summary["plan"]["schedule"]["recommendation"])
    pts = load_dataset(points)
    for name in final_laws:
        log(f"fitting {name} on {points} ({len(pts)} models)")
        res, entry = final_job(pts, name, bootstrap=final_bootstrap, seed=seed, level=level)
        res.save(out / f"fit_{name}.json")
        summary["final"][name] = entry
        fits.append(res)
        for w in entry["warnings"]:
            log(f"  warning: {w}")
    chin = fits[len(curve_laws) + list(final_laws).index("chinchilla")] if "chinchilla" in final_laws else None
    if chin is not None:
        cmax = float((chin.data_info.get("ranges") or {}).get("C", [np.nan, np.nan])[1])
        budgets = [cmax / 10.0, cmax]
        summary["plan"]["compute"] = compute_job(chin, budgets)
    log("writing the report")
    rep = build_report(fits, curves=table, points=pts, budgets=budgets if chin is not None else (),
                       schedule_plan={"steps": horizon, "peak": peak, "warmup": warm, "final": peak / 10},
                       title=f"Scaling plan on published runs ({curves}, {points})", progress=False)
    paths = write_report(rep, out / "report")
    summary["report"] = {"html": str(paths["html"]), "markdown": str(paths["markdown"])}
    write_atomic(out / "summary.json", json.dumps(_clean(summary), indent=2) + "\n")
    log(f"wrote {out / 'summary.json'} and {paths['html']}")
    return _clean(summary)


__all__ = ["compute_job", "curve_job", "final_job", "run_demo", "schedule_job"]
