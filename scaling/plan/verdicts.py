"""What a schedule ranking supports, in words: the recommendation and its resolution.

A ranking from :func:`scaling.plan.schedules.compare_schedules` orders
schedules by predicted final loss with paired intervals. Those intervals
move with the fitted parameters only. The law's own error on a schedule it
has not seen (the calibrated held-out scatter of
:mod:`scaling.fitting.calibration`, leave-one-schedule-out) is usually
larger than the gap between similar schedules, so a recommendation needs
both: a paired interval that separates the top schedule, and a gap larger
than that scatter (:func:`unresolved`). A fit whose diagnostics leave a
parameter undetermined recommends nothing (:func:`recommendation`).
"""

from __future__ import annotations

import numpy as np


def unresolved(ranking) -> np.ndarray:
    """Rows whose point prediction is within the fit's resolution of the best's, the best included.

    ``delta < ranking.attrs["resolution"]`` (see :func:`scaling.plan.schedules.compare_schedules`);
    only the best row when the resolution is unknown.

    Parameters
    ----------
    ranking : pandas.DataFrame
        From :func:`scaling.plan.schedules.compare_schedules` or :func:`scaling.plan.schedules.best_wsd_decay`.

    Returns
    -------
    ndarray of bool, shape (len(ranking),)
    """
    delta = np.asarray(ranking["delta"], dtype=np.float64)
    return (delta <= 0.0) | (delta < float(ranking.attrs.get("resolution", np.nan)))


#: P(best) below this and the ranking does not single out one schedule.
DECISIVE_P_BEST = 0.5


def recommendation(ranking, *, fit=None, steps: int | None = None) -> str:
    """One honest sentence on what a schedule ranking supports.

    The top schedule is recommended only when the ranking separates it: its
    paired gap to the runner-up excludes 0 (``delta_lo > 0`` for rank 2) or
    its share of bootstrap samples (or Laplace draws) in which it is best
    (``p_best``) is at least :data:`DECISIVE_P_BEST`, and the fit's
    diagnostics leave no parameter undetermined
    (:func:`scaling.fitting.diagnostics.convergence`: at a bound, set by a
    prior, unidentifiable ...; otherwise the sentence says which and gives
    the lowest point prediction instead), and no other schedule's point
    prediction is within the fit's resolution of the top's:
    ``ranking.attrs["resolution"]``, the calibrated held-out scatter of the
    top's final loss in nats (:func:`scaling.evaluate.predictive_sigma`
    times the loss; leave-one-schedule-out shows the law misplacing whole
    schedules by that much, which the paired interval, moving with the
    parameters only, cannot see). Otherwise the sentence names the
    schedules the data cannot separate. Without samples or a
    covariance no uncertainty is known and the sentence says so. Fit diagnostics (a
    ``diagnostics`` entry of severity ``"warning"``, and the
    ``band_not_calibrated`` or ``band_one_run_refits`` note of a fit of fewer
    than 3 runs) and a step
    budget beyond the fitted runs are named as caveats.

    Parameters
    ----------
    ranking : pandas.DataFrame
        From :func:`scaling.plan.schedules.compare_schedules` (sorted best first).
    fit : FitResult, optional
        For its diagnostics and the steps it was fitted on.
    steps : int, optional
        The planned step budget.
    """
    top = ranking.iloc[0]
    from scaling.fitting.diagnostics import convergence, warning_messages

    caveats = warning_messages(fit)
    notes = {d.get("code") for d in (getattr(fit, "diagnostics", None) or ()) if d.get("severity") == "note"}
    if "band_not_calibrated" in notes:
        caveats.append("the band and the resolution come from time splits of the fitted runs only (no schedule "
                       "could be held out)")
    if "band_one_run_refits" in notes:
        caveats.append("the band and the resolution come from refits of one run alone predicting the other")
    undetermined = convergence(fit)["undetermined"] if fit is not None else []
    fitted_max = ((getattr(fit, "data_info", None) or {}).get("fitted_range") or {}).get("max_step") if fit is not None else None
    if steps is not None and fitted_max:
        factor = float(steps) / float(fitted_max)
        if factor > 1.5:
            caveats.append(f"the plan is for {int(steps)} steps, {factor:.1f}x the longest fitted run")
    tail = f" Caveats: {'; '.join(caveats)}." if caveats else ""
    if len(ranking) < 2:
        return f"recommended: {top['schedule']} (the only candidate).{tail}"
    p = float(top.get("p_best", np.nan))
    if not np.isfinite(p):
        return (f"best predicted: {top['schedule']} -> {top['spec']}; the fit has neither bootstrap samples nor "
                f"a usable covariance, so the ranking carries no uncertainty (refit with --bootstrap N).{tail}")
    source = ", Laplace, linearised" if ranking.attrs.get("uncertainty") == "laplace" else ""
    second_lo = float(ranking.iloc[1].get("delta_lo", np.nan))
    if p >= DECISIVE_P_BEST or (np.isfinite(second_lo) and second_lo > 0):
        if undetermined:
            # the ranking is a function of the parameters: one the runs leave open undermines it
            return (f"no recommendation: these runs do not determine {', '.join(undetermined)}, and the ranking "
                    f"rests on them; lowest point prediction: {top['schedule']}  ->  {top['spec']} (P(best) "
                    f"{p:.2f}{source}, given the values the fit settled on).{tail}")
        resolution = float(ranking.attrs.get("resolution", np.nan))
        close = unresolved(ranking)
        near = ranking.loc[close].iloc[1:]
        if len(near):
            # the paired interval moves with the parameters only; the held-out scatter is the law's own error
            shown = [str(top["schedule"])] + near["schedule"].astype(str).tolist()
            names = ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")
            rest = ranking.loc[~close]
            beats = (f"; together they beat the rest (next: {rest.iloc[0]['schedule']}, "
                     f"+{float(rest.iloc[0]['delta']):.4f} nats)" if len(rest) else "")
            return (f"no clear winner at this fit's resolution: {len(shown)} schedules ({names}) are predicted within "
                    f"{float(near['delta'].max()):.4f} nats of the best, less than the {resolution:.4f}-nat error "
                    f"of this fit's final loss on a schedule it has not seen (its calibrated held-out scatter; "
                    f"P(best) {p:.2f}{' (Laplace, linearised)' if source else ''} counts parameter "
                    f"noise only){beats}. Any of them is supported; "
                    f"lowest point prediction: {top['schedule']}.{tail}")
        return f"recommended: {top['schedule']}  ->  {top['spec']} (P(best) {p:.2f}{source}).{tail}"
    tied = ranking.loc[ranking["delta_lo"] <= 0, "schedule"].astype(str).tolist()[:6]
    return (f"no clear winner: the data cannot separate {', '.join(tied)} (P(best) of the top "
            f"{p:.2f}{source}; paired intervals include 0). Any of them is supported; "
            f"lowest point prediction: {top['schedule']}.{tail}")


def decay_scan_note(scan) -> str:
    """The WSD decay fractions within the fit's resolution of the best one, as a clause ("" when only the best).

    Parameters
    ----------
    scan : pandas.DataFrame
        From :func:`scaling.plan.schedules.best_wsd_decay`.
    """
    near = np.asarray(scan["decay"], dtype=np.float64)[unresolved(scan)]
    if near.size < 2:
        return ""
    return (f"fractions {near.min():g}-{near.max():g} are predicted within the fit's resolution "
            f"({float(scan.attrs['resolution']):.4f} nats) of the best")


__all__ = ["DECISIVE_P_BEST", "decay_scan_note", "recommendation", "unresolved"]
