"""Compose a report from fit results: the answer first, then the evidence.

For a final-loss fit (``chinchilla`` and other laws of N and D): the
compute-optimal N, D, tokens per parameter and loss for each budget with
intervals, then the fit summary, data and fitted law, residuals, bootstrap
histograms, iso-FLOP curves and the compute-optimal frontier.

For a loss-curve fit (``lr-annealing``, ``multi-power``): the recommended
schedule for the step budget with its predicted final loss and the gain over
cosine, then the fit summary, fitted vs held-out curves, prediction errors,
bootstrap histograms, predicted curves of the candidate schedules, their
ranking and the WSD decay-fraction scan.

All numbers come from :mod:`scaling.plan` and :mod:`scaling.evaluate`; all drawing from
:mod:`scaling.report.figures`.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from scaling import plan as planning
from scaling.errors import ScalingError
from scaling.fitting.diagnostics import warning_messages
from scaling.progress import Progress
from scaling.report import figures as F
from scaling.report import frames
from scaling.report.document import (FigureItem, Report, Section, Table, fmt, interval, render_figure,
                                     schedule_ranking_table)
from scaling.report.summary import fit_metrics_line, fit_summary_table, points_used


# --------------------------------------------------------------------------- data


def load_data(paths: Sequence[str | Path]) -> tuple[Any, Any]:
    """(curve table or None, points table or None) from files and ``dataset:`` sources of either kind."""
    from scaling.loaders import load, load_points
    from scaling.loaders.for_law import inputs_by_kind

    curve_files, point_files = inputs_by_kind(list(paths))
    curves = load(curve_files) if curve_files else None
    points = load_points(point_files) if point_files else None
    return curves, points


def data_notes(fit, files: Sequence[str], *, drawn: bool = False) -> list[str]:
    """Lines comparing the data files a fit records with the files given to the report.

    A report reads only the files the user names (``--data``); a fit file's
    recorded paths are never opened, so a fit from someone else cannot make a
    report embed local files. A named file whose sha256 differs from the one
    the fit recorded is flagged (the data changed since the fit).
    """
    import hashlib
    import os

    info = getattr(fit, "data_info", {}) or {}
    recorded = {os.path.basename(str(f)): h for f, h in (info.get("file_sha256") or {}).items()}
    notes = []
    for f in files:
        want = recorded.get(os.path.basename(str(f)))
        if not want or not Path(f).is_file():
            continue
        h = hashlib.sha256(Path(f).read_bytes()).hexdigest()
        if h != want:
            notes.append(f"{f} differs from the file the fit used (sha256 changed): the figures show new data")
    if not files and not drawn and info.get("files"):
        notes.append("no --data given: the data are not drawn (the fit records "
                      f"{len(info['files'])} file(s); pass them with --data to draw them)")
    return notes


def _caveat_block(fit, extra: Sequence[str] = ()) -> str | None:
    lines = warning_messages(fit) + list(extra)
    if not lines:
        return None
    return "**Caveats:** " + "; ".join(lines) + "."


def _label(tag: str) -> str:
    """'fit2-' -> ' (fit 2)' for prose; '' stays ''."""
    return f" (fit {tag[3:-1]})" if tag else ""


# --------------------------------------------------------------------------- final-loss fits


def _default_budgets(fit, points) -> list[float]:
    """Budgets inside what the fit saw: the largest fitted compute and 3x it."""
    ranges = (getattr(fit, "data_info", {}) or {}).get("ranges") or {}
    if "C" in ranges:
        cmax = float(ranges["C"][1])
    elif points is not None and len(points):
        cmax = float(np.nanmax(6.0 * points["N"].to_numpy(float) * points["D"].to_numpy(float)))
    else:
        return []
    return [cmax, 3.0 * cmax]


def final_sections(fit, *, points=None, budgets: Sequence[float] = (), published: bool = False,
                   bar: Progress | None = None, tag: str = "") -> tuple[list, Section]:
    """(answer blocks, evidence section) for a final-loss fit.

    The Answer states a compute-optimal allocation only when the fit supports
    it: with warning diagnostics (a parameter at a bound, no convergence,
    an unidentifiable term, ...) or budgets far outside the fitted compute
    range, it says so and why instead of recommending.
    """
    law = fit.law_object()
    answer: list = []
    blocks: list = [fit_metrics_line(fit), fit_summary_table(fit)]
    can_allocate = frames.is_nd_law(law)
    budgets = list(budgets) or _default_budgets(fit, points)
    level = float(getattr(fit, "level", 0.9) or 0.9)
    figs: list[FigureItem] = []
    caveat = _caveat_block(fit)
    if caveat:
        blocks.insert(0, caveat)

    def step(desc):
        if bar is not None:
            bar.set_description(desc)
            bar.update(1)

    plan = None
    if can_allocate and budgets:
        plan = planning.compute_optimal(fit, budgets)
        rows = []
        for r in plan.itertuples(index=False):
            rows.append((fmt(r.flops, ".3g"), interval(r.N, r.N_lo, r.N_hi), interval(r.D, r.D_lo, r.D_hi),
                         interval(r.tokens_per_param, r.tokens_per_param_lo, r.tokens_per_param_hi),
                         interval(r.loss, r.loss_lo, r.loss_hi, ".4g")))
        reasons = warning_messages(fit) + planning.range_warnings(fit, flops=plan["flops"].to_numpy(),
                                                             N=plan["N"].to_numpy(), D=plan["D"].to_numpy())
        best = plan.iloc[0]
        if reasons:
            answer.append(
                f"**No compute-optimal recommendation from `{fit.law}`{_label(tag)}.** The fit does not support "
                "one: " + "; ".join(reasons) + ". The table below is what the fitted law implies, shown as "
                "evidence only."
            )
        else:
            answer.append(
                f"**Compute-optimal plan from `{fit.law}`{_label(tag)}.** With **{fmt(best['flops'], '.3g')} FLOPs**, "
                f"train a **{fmt(best['N'], '.3g')}-parameter** model on **{fmt(best['D'], '.3g')} tokens** "
                f"({fmt(best['tokens_per_param'], '.3g')} tokens per parameter); predicted final loss "
                f"**{interval(best['loss'], best['loss_lo'], best['loss_hi'], '.4g')}** nats/token "
                f"(brackets: {level:.0%} bootstrap interval)."
            )
        answer.append(Table(("FLOPs", "N (params)", "D (tokens)", "D/N", "loss"), tuple(rows),
                            caption=f"Compute-optimal allocation with C = 6ND ({level:.0%} intervals)"))
    elif not can_allocate:
        answer.append(f"`{fit.law}` reads only {', '.join(law.inputs)}: no N/D allocation; see the fitted law below.")
    if points is not None:
        fig, ax = F.new_axes(size=(7.0, 4.4))
        F.plot_points_fit(ax, frames.points_fit(fit, points), law_name=fit.law, level=level)
        figs.append(render_figure(fig, f"{tag}data-and-fit", "Final-loss data and the fitted law"))
        step("data and fit")
        fig, ax = F.new_axes(size=(7.0, 3.2))
        F.plot_points_residuals(ax, frames.points_residuals(fit, points))
        figs.append(render_figure(fig, f"{tag}residuals", "Relative residuals of the fit"))
        step("residuals")
    if getattr(fit, "samples", None) is not None:
        names = [n for n in ("E", "A", "B", "alpha", "beta", "a_N", "b_D") if n in (fit.derived_samples or {})]
        n = len(names) or len(fit.param_names)
        ncols = min(4, n)
        nrows = int(np.ceil(n / ncols))
        fig, axes = F.new_axes(nrows, ncols, size=(3.0 * ncols, 2.3 * nrows))
        F.plot_param_intervals(axes, fit, names=names or None)
        figs.append(render_figure(fig, f"{tag}parameter-intervals",
                                  f"Bootstrap distributions; line = point estimate, shaded = {level:.0%} interval"))
        step("parameter intervals")
    if plan is not None:
        fig, ax = F.new_axes(size=(7.0, 4.4))
        F.plot_isoflop(ax, planning.isoflop_curves(fit, budgets[:5]))
        figs.append(render_figure(fig, f"{tag}isoflop", "Predicted loss along iso-FLOP lines; star = optimum"))
        step("iso-FLOP curves")
        ranges = (getattr(fit, "data_info", {}) or {}).get("ranges") or {}
        fitted_c = tuple(ranges["C"]) if "C" in ranges else None
        lo = min(min(budgets) / 1e3, fitted_c[0] if fitted_c else np.inf)
        hi = max(max(budgets) * 10, lo * 1e4)
        fr = frames.frontier(fit, (lo, hi), budgets=budgets, published=published)
        fig, axes = F.new_axes(1, 2, size=(12.0, 4.2))
        F.plot_frontier(axes[0], fr, quantity="N", law_name=fit.law, level=level, fitted_range=fitted_c)
        F.plot_frontier(axes[1], fr, quantity="D", law_name=fit.law, level=level, fitted_range=fitted_c)
        cap = "Compute-optimal frontier N_opt(C), D_opt(C) with bootstrap bands; grey = fitted compute range"
        if published:
            cap += "; dashed: Hoffmann et al. 2022 and Besiroglu et al. 2024 (Epoch)"
        figs.append(render_figure(fig, f"{tag}frontier", cap))
        step("frontier")
        n0 = float(plan.loc[0, "N"])
        if np.isfinite(n0):
            ot = frames.overtraining(fit, [n0, n0 / 4, n0 / 16])
            fig, ax = F.new_axes(size=(7.5, 4.4))
            F.plot_overtraining(ax, ot)
            what = "; circle = compute-optimal D for that N" if len(ot["optima"]) else ""
            figs.append(render_figure(fig, f"{tag}overtraining",
                                      "Loss vs tokens for the first budget's optimal N and smaller models" + what))
    return answer, Section(f"Evidence: {fit.law} fit{_label(tag)}", tuple(blocks + figs))


# --------------------------------------------------------------------------- loss-curve fits


def schedule_defaults(dataset, warmup_steps: int | None = None) -> dict[str, Any]:
    """Step budget and warmup of the longest run of a curve dataset, and the highest LR of any run.

    The peak is taken over every run: a sparse log of a decaying run may
    never show its peak (a cosine logged every 200 steps first shows it at
    step 400, already decayed). ``warmup_steps`` (the fit's, when it was
    given) replaces the warmup read off the LR.
    """
    longest = max(dataset, key=lambda g: len(g.inputs["lr"]))
    lr = np.asarray(longest.inputs["lr"], float)
    peak = max(float(np.max(np.asarray(g.inputs["lr"], float))) for g in dataset)
    warm = int(warmup_steps) if warmup_steps else int(np.argmax(lr >= np.max(lr) * (1 - 1e-9)))
    return {"steps": len(lr) - 1, "peak": peak, "warmup": warm, "final": None}


def curve_sections(fit, *, curves=None, plan: Mapping[str, Any] | None = None, bar: Progress | None = None,
                   tag: str = "") -> tuple[list, Section]:
    """(answer blocks, evidence section) for a loss-curve fit."""
    from scaling.fitting.dataset import dataset_from_curves
    from scaling.fitting.selection import fitted_aggregate

    law = fit.law_object()
    info = dict(getattr(fit, "data_info", {}) or {})
    level = float(getattr(fit, "level", 0.9) or 0.9)
    answer: list = []
    blocks: list = [fit_metrics_line(fit), fit_summary_table(fit)]
    used = points_used(info)
    if used:
        blocks.insert(1, used)
    figs: list[FigureItem] = []

    def step(desc):
        if bar is not None:
            bar.set_description(desc)
            bar.update(1)

    caveat = _caveat_block(fit)
    if caveat:
        blocks.insert(0, caveat)
    dataset = None
    if curves is not None:
        # averaged as the fit was (per-step logs), so the scored points are the fit's kind of points
        dataset = dataset_from_curves(law, curves, split=info.get("split"), warmup_steps=int(info.get("warmup_steps") or 0),
                                      aggregate=fitted_aggregate(info))
        fitted = info.get("runs") or []
        held = [g.name for g in dataset if g.name not in fitted]
        cf = frames.curves_fit(fit, dataset)
        fig, ax = F.new_axes(size=(9.5, 4.6))
        F.plot_curves_fit(ax, cf, law_name=fit.law)
        figs.append(render_figure(fig, f"{tag}curves-fit",
                                  f"Fitted on {', '.join(fitted) or '?'}; held out: {', '.join(held) or 'none'}; "
                                  f"bands: predictive {level:.0%}; hollow dots: points outside the fit's "
                                  "point-selection rule (warmup, early transient), not scored"))
        step("curves")
        fig, ax = F.new_axes(size=(9.5, 3.4))
        F.plot_curve_residuals(ax, cf)
        figs.append(render_figure(fig, f"{tag}curve-errors", "Relative prediction error along each run (scored points)"))
        step("errors")
        err = frames.curve_errors(cf)
        rows = tuple((r.run, r.role, f"{r.scored}/{r.points}", f"{100 * r.PredE:.3f} %", f"{100 * r.WorstE:.3f} %",
                      f"{100 * r.band:.0f} %", fmt(r.final_observed, ".4f"), fmt(r.final_predicted, ".4f"))
                     for r in err.itertuples(index=False))
        blocks.append(Table(("run", "role", "scored points", "PredE (mean |err|/y)", "WorstE (max)",
                             f"in {level:.0%} band", "final observed", "final predicted"), rows,
                            caption="Prediction error per run, on the points the fit's selection rule keeps"))
    if getattr(fit, "samples", None) is not None:
        names = [n for n in fit.param_names if n in (fit.derived_samples or {})] or None
        n = len(names or fit.param_names)
        fig, axes = F.new_axes(1, n, size=(2.8 * n, 2.4))
        F.plot_param_intervals(axes, fit, names=names)
        figs.append(render_figure(fig, f"{tag}parameter-intervals",
                                  f"Bootstrap distributions; line = point estimate, shaded = {level:.0%} interval"))
        step("parameter intervals")
    plan = {k: v for k, v in dict(plan or {}).items() if v is not None}
    if dataset is not None:
        plan = {**schedule_defaults(dataset, info.get("warmup_steps")), **plan}
    if plan.get("steps") and plan.get("peak"):
        steps, peak, warm = int(plan["steps"]), float(plan["peak"]), int(plan.get("warmup") or 0)
        final = plan.get("final")
        cands = planning.candidate_schedules(steps, peak, final=final, warmup=warm)
        ranking = planning.compare_schedules(fit, cands, steps=steps)
        step("schedule ranking")
        scan = planning.best_wsd_decay(fit, steps=steps, peak=peak, final=final, warmup=warm)
        step("WSD scan")
        top = ranking.iloc[0]
        best_decay = scan.loc[scan["rank"] == 1].iloc[0]
        verdict = planning.recommendation(ranking, fit=fit, steps=steps)
        scan_note = planning.decay_scan_note(scan)
        answer.append(
            f"**Schedule plan from `{fit.law}`{_label(tag)}** for **{steps} steps** at peak LR {peak:g} "
            f"(warmup {warm}): {verdict} Predicted final loss of the top candidate "
            f"{interval(top['final_loss'], top['final_loss_pred_lo'], top['final_loss_pred_hi'], '.4f')} nats/token "
            f"(predictive); "
            f"best WSD decay fraction ({scan['spec'].iloc[0].rsplit('shape=', 1)[1].split(',')[0]} decay) "
            f"{best_decay['decay']:.2g}" + (f" ({scan_note})." if scan_note else ".")
        )
        show = ranking.head(8)
        answer.append(schedule_ranking_table(
            show, caption="Top candidate schedules by predicted final loss (the predictive band of the figure "
                          "below; the difference to the best is a paired parameter interval)"))
        names = list(dict.fromkeys([top["schedule"], "cosine", "multistep 80/10/10", "constant"]))
        sc = planning.schedule_curves(fit, {k: cands[k] for k in names}, steps=steps)
        fig, axes = F.new_axes(1, 2, size=(11.5, 4.2), gridspec_kw={"width_ratios": [2, 1]})
        F.plot_schedules(axes[0], sc, lr_ax=axes[1], highlight=top["schedule"])
        figs.append(render_figure(fig, f"{tag}schedules", f"Predicted loss for candidate schedules (bands: predictive {level:.0%})"))
        fig, axes = F.new_axes(1, 2, size=(11.5, 4.0))
        F.plot_schedule_ranking(axes[0], ranking)
        F.plot_wsd_scan(axes[1], scan)
        figs.append(render_figure(fig, f"{tag}schedule-ranking",
                                  "Left: loss above the best schedule (paired intervals). Right: WSD decay fraction scan"))
        step("schedule figures")
    else:
        answer.append(f"`{fit.law}`{_label(tag)}: give --steps and --peak (or --data with the runs) for a schedule plan.")
    return answer, Section(f"Evidence: {fit.law} fit{_label(tag)}", tuple(blocks + figs))


def schedule_disagreement(tops: Sequence[tuple[str, str | None]]) -> str | None:
    """An Answer line when curve laws rank different schedules first (None when they agree)."""
    named = [(law, top) for law, top in tops if top]
    if len({top for _, top in named}) < 2:
        return None
    # "lowest predicted", not "best": a law's top row is only its point prediction, often within its resolution
    return ("**The fitted laws disagree on the lowest predicted schedule** ("
            + "; ".join(f"`{law}`: {top}" for law, top in named)
            + "): each ranking holds only if its law is right, so these data do not settle the choice; compare "
            "the laws' held-out errors below before acting on either.")


def _top_schedule(answer_blocks) -> str | None:
    """The rank-1 schedule of a curve section's ranking table (None without a plan)."""
    for b in answer_blocks:
        if isinstance(b, Table) and b.columns[:2] == ("rank", "schedule") and b.rows:
            return str(b.rows[0][1])
    return None


# --------------------------------------------------------------------------- law comparison

COMPARISON_COLUMNS = ("law", "PredE", "WorstE", "delta_aic")


def comparison_section(table) -> tuple[list, Section]:
    """The answer line and evidence section for a law comparison (from ``scaling compare --out``).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per law as returned by :func:`scaling.compare.compare`; needs
        at least ``law``, ``PredE``, ``WorstE`` and ``delta_aic``.
    """
    missing = [c for c in COMPARISON_COLUMNS if c not in table.columns]
    if missing:
        raise ScalingError(f"law comparison table lacks columns {missing}; write it with 'scaling compare ... --out T.csv'")
    if "rank" in table.columns:
        table = table.sort_values("rank")
    best = table.iloc[0]
    how = str(best["eval"]) if "eval" in table.columns else "held-out runs"
    if "n_eval_runs" in table.columns and np.isfinite(float(best["n_eval_runs"])):
        k = int(best["n_eval_runs"])  # a ranking on one held-out run is one run's evidence; say how many
        how += f", {k} held-out run{'s' if k != 1 else ''}"
    line = (f"**Law comparison:** `{best['law']}` ranks first (held-out PredE {100 * float(best['PredE']):.3g} %, "
            f"WorstE {100 * float(best['WorstE']):.3g} %, evaluation: {how}).")
    warned = best.get("warnings") if "warnings" in table.columns else None
    if isinstance(warned, str) and warned:  # tables written before the column existed have none
        line += f" Its fit carries warnings: {warned.rstrip('.')}."
    answer = [line]
    cols = [c for c in ("rank", "law", "n_params", "aic", "delta_aic", "bic", "delta_bic", "eval", "R2", "PredE",
                        "WorstE", "determined", "n_warnings") if c in table.columns]
    blocks: list = [Table.from_frame(table[cols], caption="Each law fitted on the same data; errors on runs not fitted")]
    fig, axes = F.new_axes(1, 2, size=(11.0, 0.6 * len(table) + 2.2))
    F.plot_law_comparison(axes, table)
    blocks.append(render_figure(fig, "law-comparison", "Left: relative error on held-out runs. Right: AIC gap"))
    return answer, Section("Evidence: law comparison", tuple(blocks))


# --------------------------------------------------------------------------- whole report


def build_report(fits: Sequence[Any], *, curves=None, points=None, budgets: Sequence[float] = (),
                 schedule_plan: Mapping[str, Any] | None = None, published: bool = False,
                 title: str = "Scaling plan", progress: bool | None = None, comparison=None,
                 data_files: Sequence[str] = ()) -> Report:
    """Compose a :class:`~scaling.report.document.Report` from one or more fit results.

    Parameters
    ----------
    fits : sequence of FitResult
    curves, points : pandas.DataFrame, optional
        Canonical curve / points tables to draw against the fits. Only these
        are drawn: the files a fit records are never opened (a fit file from
        someone else must not make a report embed local files).
    budgets : sequence of float
        FLOP budgets for final-loss fits (default: the largest fitted compute
        and 3x it, inside what the data can check).
    schedule_plan : mapping, optional
        ``steps``, ``peak``, ``final``, ``warmup`` for loss-curve fits
        (default: read off the longest run in the data).
    published : bool
        Draw Hoffmann's and Epoch's frontiers for comparison.
    progress : bool, optional
        Force the progress bar on/off (default: on a TTY only).
    comparison : pandas.DataFrame, optional
        A law-comparison table (:func:`scaling.compare.compare`, or the CSV
        of ``scaling compare --out``) drawn as its own section.
    data_files : sequence of str
        The files ``curves``/``points`` were read from, to check them against
        the sha256 each fit recorded.
    """
    if not fits:
        raise ScalingError("no fit results to report on; pass FIT.json files")
    answer: list = []
    sections: list[Section] = []
    tops: list[tuple[str, str | None]] = []  # (law, best schedule) per curve fit
    n_steps = sum(8 for _ in fits)
    with Progress(n_steps, "report", enabled=progress) as bar:
        for k, fit in enumerate(fits):
            tag = f"fit{k + 1}-" if len(fits) > 1 else ""  # figure-name prefix
            law = fit.law_object()
            c, p = curves, points
            drawn = (c if law.kind == "curve" else p) is not None
            for note in data_notes(fit, data_files, drawn=drawn):
                answer.append(f"Note{_label(tag)}: {note}.")
            if law.kind == "final":
                a, s = final_sections(fit, points=p, budgets=budgets, published=published, bar=bar, tag=tag)
            else:
                a, s = curve_sections(fit, curves=c, plan=schedule_plan, bar=bar, tag=tag)
                tops.append((fit.law, _top_schedule(a)))
            answer += a
            sections.append(s)
    line = schedule_disagreement(tops)
    if line:
        answer.insert(0, line)
    if comparison is not None:
        a, s = comparison_section(comparison)
        answer += a
        sections.append(s)
    from scaling import __version__

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    footer = (f"Made by scaling {__version__} on {stamp}. Intervals are bootstrap percentile intervals from the "
              "fit results; C = 6ND. Regenerate with `scaling report`.")
    return Report(title, tuple(answer), tuple(sections), footer)


__all__ = ["build_report", "comparison_section", "curve_sections", "final_sections", "fit_summary_table", "load_data", "schedule_defaults"]
