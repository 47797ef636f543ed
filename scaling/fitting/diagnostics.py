"""What a fit cannot vouch for: diagnostics computed on every fit, stored in the result.

Each diagnostic is a small dict ``{"code", "severity", "message"}`` (plus
``"param"`` when it concerns one parameter); ``severity`` is ``"warning"``
(a number the user is likely to rely on is not trustworthy) or ``"note"``.
They are data in :attr:`FitResult.diagnostics` (saved in the fit JSON); the
shells print them (:func:`scaling.fitting.report.fit_report`,
:func:`format_diagnostics`).

Codes
-----
``at_bound``
    A parameter sits on its box bound: the optimum is the bound, not an
    estimate, and its interval means little.
``not_converged``
    The best start stopped at the iteration cap.
``zero_width_interval`` / ``enormous_interval`` / ``undetermined_error``
    The interval has no width (the data did not move the parameter), is
    wider than the value itself (twice the value, or a factor 100 for a
    log-parameter), or the standard error is not finite.
``near_perfect_correlation``
    ``|corr| > 0.999`` between two parameters: the data fix only a
    combination of them.
``not_identifiable``
    The data carry no information on a parameter: its column of the
    Jacobian of the residuals is zero (numerically), or the design cannot
    identify it (annealing parameters from runs whose LR never decreases
    after warmup).
``lack_of_fit``
    The fitted runs miss by far more than the noise: RMS log residual over
    3x the noise level estimated from the high-frequency scatter of the
    residuals (second differences; a smooth misfit cancels in them).
``set_by_prior``
    Quantities of the law's weakly informative prior
    (:mod:`scaling.fitting.prior`) whose posterior sd is over half their
    prior sd: the runs did not determine them, the prior did.
``option_resolved``
    (a note) a law option that the fitted runs decide (lr-annealing's
    ``lam="auto"``, :attr:`scaling.laws.base.Law.for_design`) and what it
    was resolved to, with the law's rule: the fit used ``lam = 0.999``
    because the runs follow one schedule, say, not because it was asked for.
``band_not_calibrated``
    (curve fits, :func:`band_diagnostics`) no
    schedule could be held out to calibrate the predictive band (one run,
    or two whose other run cannot determine a term: time splits only; a
    note), or no fold at all.
``band_one_run_refits``
    (a note, :func:`band_diagnostics`) a fit of two runs: the band is
    calibrated on refits of one run alone (and on time splits).
``calibration_folds_skipped``
    (a note, :func:`band_diagnostics`) calibration folds left out because
    the points they fit cannot determine a parameter (an annealing term
    when no fitted run decays before the held-out points, a size term when
    the fitted runs share one model size): their refits
    would keep the full fit's value and measure no hold-out error.
``extrapolation``
    (predictions, :func:`scaling.fitting.extrapolation.extrapolation`) steps
    or LR far outside the fitted range.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping, Sequence

import numpy as np

from scaling._x64 import in_float64
from scaling.fitting.identifiable import design_unidentifiable


#: Correlation above which two parameters are reported as not separable.
CORREL_MAX = 0.999

#: Lack of fit: RMS log residual above this many noise levels...
LACK_OF_FIT_RATIO = 3.0
#: ...and above this RMS log residual (0.3 %) is a warning (a note below it).
LACK_OF_FIT_WARN = 3e-3

def item(code: str, severity: str, message: str, param: str | None = None) -> dict[str, str]:
    """One diagnostic record."""
    out = {"code": code, "severity": severity, "message": message}
    if param is not None:
        out["param"] = param
    return out


def noise_level(residuals: np.ndarray, sizes: Sequence[int]) -> float:
    """Noise level (log scale) from the high-frequency scatter of residuals.

    .. math::

        \\hat\\sigma^2 = \\frac{1}{6} \\operatorname{mean}\\big(r_{i+1} - 2 r_i + r_{i-1}\\big)^2

    over consecutive points of each group (the second difference of white
    noise of variance ``s^2`` has variance ``6 s^2``; a smooth misfit
    contributes little). NaN when no group has 3 points.
    """
    d2 = []
    start = 0
    for n in sizes:
        r = np.asarray(residuals[start:start + n], dtype=np.float64)
        start += n
        if n >= 3:
            d2.append(r[2:] - 2 * r[1:-1] + r[:-2])
    if not d2:
        return float("nan")
    d2 = np.concatenate(d2)
    return float(np.sqrt(np.mean(d2 * d2) / 6.0))


def fitted_range(dataset) -> dict[str, Any]:
    """Steps, forward area and post-warmup LR range covered by the fitted points of curve data."""
    from scaling.fitting.selection import detect_warmup

    if dataset.info.get("kind") != "curves":
        return {}
    max_step, area, lo, hi = 0, 0.0, np.inf, -np.inf
    for g in dataset:
        lr = np.asarray(g.inputs["lr"], dtype=np.float64)
        steps = np.asarray(g.inputs["step"], dtype=np.int64)
        if steps.size == 0:
            continue
        s = int(steps.max())
        max_step = max(max_step, s)
        area = max(area, float(np.sum(lr[: s + 1])))
        seg = lr[detect_warmup(lr): s + 1]
        if seg.size:
            lo, hi = min(lo, float(seg.min())), max(hi, float(seg.max()))
    return {"max_step": max_step, "max_forward_area": area, "lr_min": lo, "lr_max": hi}


def _jacobian_fd(ns, theta, packed, index, lo, hi) -> np.ndarray:
    """Central-difference Jacobian of the residuals (one-sided at a bound), shape (n, P)."""
    theta = np.asarray(theta, dtype=np.float64)
    cols = []
    for j in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, dn = theta.copy(), theta.copy()
        up[j] = min(theta[j] + h, hi[j])
        dn[j] = max(theta[j] - h, lo[j])
        if up[j] == dn[j]:
            cols.append(np.zeros(index.size))
            continue
        ru = np.asarray(ns.residuals_jit(np.asarray(up, dtype=np.float64), packed))[index]
        rd = np.asarray(ns.residuals_jit(np.asarray(dn, dtype=np.float64), packed))[index]
        cols.append((ru - rd) / (up[j] - dn[j]))
    return np.stack(cols, axis=1)


@in_float64  # called on its own too (as calibrate is): the identifiability checks evaluate the law
def diagnose(result, law, dataset=None, *, packed=None, index=None) -> tuple[dict, ...]:
    """Diagnostics of a fit (see the module docstring for the codes).

    Parameters
    ----------
    result : FitResult
    law : Law
    dataset : Dataset, optional
        The fitted data; needed for the identifiability and design checks.
    packed, index : optional
        ``scaling.fitting.objective.pack(dataset)`` output, reused for the
        Jacobian (computed when omitted).

    Returns
    -------
    tuple of dict
    """
    out: list[dict] = []
    names = list(result.param_names)
    theta = np.asarray(result.params, dtype=np.float64)
    if dataset is not None:
        law = law.resolve(dataset)  # the law the fit used (lr-annealing's lam="auto" resolved)
    lo = np.array([b[0] for b in law.bounds], dtype=np.float64)
    hi = np.array([b[1] for b in law.bounds], dtype=np.float64)
    unseen = design_unidentifiable(law, dataset) if dataset is not None else ()
    at_bound = set(unseen)  # an unseen parameter is reported once, as not identifiable
    for j, name in enumerate(names):
        if name in unseen:
            continue
        span = hi[j] - lo[j] if np.isfinite(hi[j] - lo[j]) else max(1.0, abs(theta[j]))
        tol = 1e-6 * span
        for side, b in (("lower", lo[j]), ("upper", hi[j])):
            if np.isfinite(b) and abs(theta[j] - b) <= tol:
                at_bound.add(name)
                out.append(item("at_bound", "warning",
                                f"{name} = {theta[j]:.6g} sits at its {side} bound {b:g}: the data push it out of "
                                "the law's box, so the value is the bound, not an estimate", name))
    if not result.success:
        out.append(item("not_converged", "warning",
                        f"the best start did not converge ({result.message.split(';')[0]}); treat the parameters "
                        "as approximate" + (" (parameters at a bound are the usual cause)" if at_bound else "")))
    stderr = np.asarray(result.stderr, dtype=np.float64)
    # a parameter the prior sets has the prior's width: set_by_prior reports it once, with the reason
    by_prior = set(((result.data_info or {}).get("prior") or {}).get("set_by_prior_params") or ())
    for j, name in enumerate(names):
        iv = result.intervals.get(name)
        if name in at_bound or name in by_prior:
            continue
        if not np.isfinite(stderr[j]):
            out.append(item("undetermined_error", "warning",
                            f"{name}: the standard error is not finite (the data do not determine it)", name))
            continue
        if iv is None:
            continue
        width = float(iv[1] - iv[0])
        v = abs(theta[j])
        if width <= 1e-6 * max(1.0, v):  # no real data pin a parameter to a millionth
            out.append(item("zero_width_interval", "warning",
                            f"{name}: its interval [{iv[0]:.6g}, {iv[1]:.6g}] has no width: no resample moved "
                            "it, which means the data do not inform it, not that it is exact", name))
        elif (name.startswith("log") and width > np.log(100.0)) or (not name.startswith("log") and width > 2 * v):
            out.append(item("enormous_interval", "warning",
                            f"{name}: its {100 * result.level:g}% interval [{iv[0]:.6g}, {iv[1]:.6g}] is wider "
                            "than the value itself; the data barely constrain it", name))
    correl = result.correl
    if correl is not None:
        pairs = [(names[i], names[j], float(correl[i, j])) for i in range(len(names)) for j in range(i + 1, len(names))
                 if np.isfinite(correl[i, j]) and abs(correl[i, j]) > CORREL_MAX]
        if pairs:
            shown = ", ".join(f"{a}-{b} {c:+.4f}" for a, b, c in pairs)
            out.append({**item("near_perfect_correlation", "warning",
                               f"near-perfect correlations ({shown}): the data fix only combinations of these "
                               "parameters, not each one", pairs[0][0]),
                        "params": list(dict.fromkeys(n for a, b, _ in pairs for n in (a, b)))})
    out += _set_by_prior(result)
    out += _resolved_options(result)
    if dataset is not None:
        out += _identifiability(result, law, dataset, theta, lo, hi, packed, index, at_bound)
        out += _lack_of_fit(result, dataset)
    return tuple(out)


def _set_by_prior(result) -> list[dict]:
    """Quantities of a law's prior that the data hardly narrowed (posterior sd > half the prior sd)."""
    pr = (result.data_info or {}).get("prior") or {}
    names = list(pr.get("set_by_prior") or [])
    if not names:
        return []
    shrink = dict(zip(pr["quantities"], pr["shrink"]))
    shown = ", ".join(f"{q} ({shrink[q]:.2f})" for q in names)
    params = list(pr.get("set_by_prior_params") or [])
    return [{**item("set_by_prior", "warning",
                    f"{shown}: set mostly by the law's prior, not by these runs (posterior sd / prior sd in "
                    f"brackets; prior from {pr['source']}); the intervals of {', '.join(params) or 'these'} are "
                    "about the prior's width, and predictions of schedules unlike the fitted ones rest on it. "
                    "Fit runs with sharper LR drops (WSD, step) to determine them"),
             "quantities": names, "params": params}]


def _resolved_options(result) -> list[dict]:
    resolved = (result.data_info or {}).get("resolved_options")
    if not resolved:
        return []
    shown = ", ".join(f"{k}={v['asked']!r} -> {v['used']!r}" for k, v in resolved["options"].items())
    rule = resolved.get("rule") or "the law's docstring gives the rule"
    return [item("option_resolved", "note", f"law option resolved from the fitted runs: {shown}; {rule}")]


def _identifiability(result, law, dataset, theta, lo, hi, packed, index, at_bound) -> list[dict]:
    out: list[dict] = []
    flagged = design_unidentifiable(law, dataset)
    for name in flagged:
        out.append(item("not_identifiable", "warning",
                        f"{name} cannot be determined from these runs: no fitted run lowers its LR after warmup "
                        "(constant-LR runs only), so the annealing term is unseen; its value is the start value, "
                        "and predictions of decaying schedules are guesses. Fit a run with a decay (cosine, WSD) "
                        "as well", name))
    try:
        from scaling.fitting.objective import pack
        from scaling.fitting.optimize import compiled

        if packed is None or index is None:
            packed, index, _ = pack(dataset, law.kind)
        J = _jacobian_fd(compiled(law.fn), theta, packed, np.asarray(index), lo, hi)
    except Exception:  # noqa: BLE001 - a diagnostic must never break a fit
        return out
    norms = np.sqrt(np.sum(J * J, axis=0)) * np.maximum(np.abs(theta), 1e-3)
    top = float(np.max(norms)) if norms.size else 0.0
    for j, name in enumerate(result.param_names):
        if name in flagged or name in at_bound:
            continue
        if not np.isfinite(norms[j]) or norms[j] <= 1e-9 * top:
            out.append(item("not_identifiable", "warning",
                            f"{name} does not affect the fitted points (zero sensitivity): the data cannot "
                            "determine it and its value is the start value", name))
    return out


def _lack_of_fit(result, dataset) -> list[dict]:
    r = np.asarray(result.residuals, dtype=np.float64)
    if r.size < 5:
        return []
    sizes = dataset.sizes()
    sigma = noise_level(r, sizes)
    rms = float(np.sqrt(np.mean(r * r)))
    if not np.isfinite(sigma) or rms <= LACK_OF_FIT_RATIO * max(sigma, 1e-12):
        return []
    worst, start, worst_rms = None, 0, -1.0
    for g, n in zip(dataset, sizes):
        rr = r[start:start + n]
        start += n
        v = float(np.sqrt(np.mean(rr * rr))) if n else 0.0
        if v > worst_rms:
            worst, worst_rms = g.name, v
    severity = "warning" if rms > LACK_OF_FIT_WARN else "note"
    where = f"; worst run {worst!r} {100 * worst_rms:.2f}%" if len(dataset) > 1 else ""
    return [item("lack_of_fit", severity,
                 f"the fitted points miss by {100 * rms:.3f}% RMS (log), {rms / max(sigma, 1e-12):.0f}x the noise "
                 f"level {100 * sigma:.3f}% estimated from their point-to-point scatter{where}: the law does not "
                 "describe these runs to their noise, so expect prediction errors at least this large")]


def warning_messages(fit) -> list[str]:
    """The messages of a fit's diagnostics of severity ``"warning"`` (an entry without a severity counts as one).

    What every shell that qualifies an answer reads: the report's caveats, the
    schedule recommendation, the demo's summary.
    """
    out = []
    for d in getattr(fit, "diagnostics", None) or ():
        if isinstance(d, Mapping):
            if d.get("severity", "warning") == "warning":
                out.append(str(d.get("message", d.get("code", ""))))
        else:
            out.append(str(d))
    return out


#: Warning codes that say the data do not determine a parameter (its value or its interval).
UNDETERMINED_CODES = ("at_bound", "not_identifiable", "undetermined_error", "zero_width_interval",
                      "enormous_interval", "near_perfect_correlation", "set_by_prior")


def convergence(fit) -> dict[str, Any]:
    """What "converged" may claim for a fit: the optimizer's stop, and whether the data determine the parameters.

    The optimizer converging (``fit.success``) says the objective stopped
    decreasing, not that the data pin the parameters down: a fit with
    parameters on their bounds, unidentifiable, or with intervals of no or of
    enormous width also "converges". Read from ``fit.diagnostics``
    (:data:`UNDETERMINED_CODES`, severity warning).

    Returns
    -------
    dict
        ``optimizer`` (bool, = ``fit.success``), ``determined`` (bool: the
        optimizer converged and no parameter is undetermined),
        ``undetermined`` (list of parameter names, in parameter order) and
        ``text`` (one phrase for reports, e.g. ``"yes (optimizer), but the
        data do not determine 2 of 5 parameters (e, beta): see the
        warnings"``).
    """
    names = [str(n) for n in getattr(fit, "param_names", ())]
    flagged: set[str] = set()
    for d in getattr(fit, "diagnostics", None) or ():
        if not isinstance(d, Mapping) or d.get("severity", "warning") != "warning":
            continue
        if d.get("code") in UNDETERMINED_CODES:
            params = d.get("params") or ([d["param"]] if d.get("param") is not None else [])
            if d.get("code") == "near_perfect_correlation" and not d.get("params"):
                # fits saved before "params" was recorded: the pairs are only in the message
                pairs = re.findall(r"(\w+)-(\w+) [+-]\d", str(d.get("message", "")))
                params = [n for pair in pairs for n in pair] or params
            flagged.update(str(p) for p in params)
    undetermined = [n for n in names if n in flagged] + sorted(flagged - set(names))
    optimizer = bool(getattr(fit, "success", False))
    if optimizer:
        text = "yes (optimizer)" if undetermined else "yes"
    else:
        text = "no (the optimizer stopped before converging)"
    if undetermined:
        text += f"{', but' if optimizer else '; and'} {undetermined_phrase(undetermined, len(names))}"
    return {"optimizer": optimizer, "determined": optimizer and not undetermined,
            "undetermined": undetermined, "text": text}


def undetermined_phrase(undetermined: Sequence[str], n_params: int) -> str:
    """``"the data do not determine 2 of 5 parameters (e, beta): see the warnings"``."""
    return (f"the data do not determine {len(undetermined)} of {n_params} parameters "
            f"({', '.join(undetermined)}): see the warnings")


def format_diagnostics(diagnostics) -> list[str]:
    """One line per diagnostic: ``WARNING [code] message`` or ``note [code] message``."""
    return [f"{'WARNING' if d.get('severity') == 'warning' else 'note'} [{d.get('code')}] {d.get('message')}"
            for d in diagnostics]


def band_diagnostics(calibration: Mapping[str, Any], n_runs: int) -> list[dict[str, str]]:
    """Notes on how the predictive band of a curve fit of ``n_runs`` runs was calibrated.

    ``[]`` when schedules were held out with at least two runs left to fit
    (:data:`scaling.fitting.calibration.MIN_RUNS_FULL` runs or more). With
    two runs the held-out schedules were predicted by refits of one run
    alone, a weaker design than the fit (on the 2-run sets of
    ``benchmarks/curves_protocol.py`` such 90 % bands held 52 to 100 % of the
    held-out points): a ``band_one_run_refits`` note. With one run only time
    splits exist: they measure how the error grows along the fitted
    schedule, not the error on a differently shaped one (39 to 100 % on the
    1-run sets): a ``band_not_calibrated`` note. Without any fold the band
    falls back to the in-sample scatter: a note, or a warning when
    :func:`scaling.fitting.calibration.calibrate` raised (``method "failed"``).

    Parameters
    ----------
    calibration : mapping
        ``FitResult.calibration`` (``{"method": ..., "reason" or "error": ...}``).
    n_runs : int
        Fitted runs.
    """
    from scaling.fitting.calibration import MIN_RUNS_FULL, MIN_RUNS_LOSO

    method = str(calibration.get("method", "none"))
    skipped = [f for f in calibration.get("folds") or () if f.get("skipped")]
    out = [] if not skipped or method == "none" else [item(
        "calibration_folds_skipped", "note",
        "the band's calibration left out " + "; ".join(
            f"the fold holding out {f['held_out']} (the points it fits cannot determine {', '.join(f['unseen'])}: "
            f"{f.get('why') or 'none of its fitted points follows an LR decrease after warmup'})" for f in skipped)
        + ": their refits would keep the full fit's values of these parameters")]
    runs = f"{n_runs} run{'s' if n_runs != 1 else ''}"
    if "leave-one-schedule-out" in method:
        if n_runs >= MIN_RUNS_FULL:
            return out
        return out + [item("band_one_run_refits", "note",
                     f"the predictive band of this {n_runs}-run fit is calibrated on refits of one run alone, each "
                     "predicting a run left out, and on time splits: a one-run refit is a weaker design than the "
                     "fit, which can under- or overstate its error on a differently shaped schedule (on the "
                     "2-run sets of benchmarks/curves_protocol.py such 90% bands held 52-100% of the held-out "
                     f"points); fit {MIN_RUNS_FULL} or more schedules to calibrate it")]
    if method == "split-run":
        return out + [item("band_not_calibrated", "note",
                     f"the predictive band is calibrated on time splits of the {runs} fitted (no schedule could be "
                     f"left out: that needs {MIN_RUNS_LOSO} or more runs, and the runs left to fit must determine "
                     "every term the fit does): it measures how the error grows along these schedules, not "
                     "the error of predicting a differently shaped one, which it can under- or overstate (on the "
                     "1-run sets of benchmarks/curves_protocol.py such 90% bands held 39-100% "
                     f"of the held-out points); fit {MIN_RUNS_FULL} or more schedules to calibrate it")]
    why = calibration.get("reason") or calibration.get("error") or "no held-out fold"
    return [item("band_not_calibrated", "warning" if method == "failed" else "note",
                 f"the predictive band is not calibrated ({why}): it is the parameter band widened by the fit's "
                 "RMS log residual, an in-sample scatter that understates the error on unseen schedules")]


def finish_fit(result, law, dataset, *, packed=None, index=None, n_padded=None):
    """The fitter's last step: record the fitted range, the diagnostics and the band calibration.

    Called once at the end of :func:`scaling.fitting.fit`; returns a new
    :class:`FitResult` (the fields ``diagnostics`` and ``calibration`` and
    ``data_info["fitted_range"]`` filled in).
    """
    data_info = dict(result.data_info)
    if dataset.info.get("kind") == "curves":
        data_info["fitted_range"] = fitted_range(dataset)
    result = dataclasses.replace(result, data_info=data_info)
    calibration: Mapping[str, Any] = {}
    diagnostics = diagnose(result, law, dataset, packed=packed, index=index)
    if dataset.info.get("kind") == "curves" and not dataset.info.get("calibration_fold"):
        from scaling.fitting.calibration import calibrate

        try:
            calibration = calibrate(result, law, dataset, packed=packed, index=index, n_padded=n_padded)
        except Exception as exc:  # noqa: BLE001 - calibration is an extra; the fit stands without it
            calibration = {"method": "failed", "error": f"{type(exc).__name__}: {exc}"}
        diagnostics = tuple(diagnostics) + tuple(band_diagnostics(calibration, len(dataset)))
    return dataclasses.replace(result, diagnostics=diagnostics, calibration=calibration)


__all__ = ["UNDETERMINED_CODES", "band_diagnostics", "convergence", "diagnose", "finish_fit", "fitted_range",
           "format_diagnostics", "item", "noise_level", "undetermined_phrase", "warning_messages"]
