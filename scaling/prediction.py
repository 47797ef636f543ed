"""Predict a loss curve for any LR schedule from a fitted curve law, with a band.

:func:`predict` takes a fit result of a curve law (``lr-annealing``,
``multi-power``, ...) and a schedule never seen in fitting (a ``step -> lr``
callable, an optax schedule, a text spec such as
``"cosine:peak=3e-4,final=3e-5,warmup=2160,total=72000"``, or an LR array
taken from another run's log) and returns, at each requested step, the LR,
the predicted loss and a band. :func:`curve_metrics` scores a prediction
against observed losses. Nothing here refits: the law and its parameters come
from the fit result.

Cost: the schedule is materialised once as an array of ``T + 1`` LRs; the law
is evaluated only at the requested steps. For ``lr-annealing`` the areas cost
O(T) and the band O(B n) for ``B`` bootstrap samples and ``n`` steps, so a
1,000,000-step prediction takes seconds. Samples are processed in batches
(``lax.map``) so a law whose areas depend on the parameters (``lam="fit"``)
never holds more than ``batch x T`` numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scaling._x64 import in_float64
from scaling.errors import ScalingError

#: Default number of output points when ``steps`` is not given.
DEFAULT_POINTS = 20_000


def default_steps(total_steps: int, *, points: int = DEFAULT_POINTS) -> np.ndarray:
    """Every step ``1..T`` when ``T <= points``, else a regular stride that ends at ``T``."""
    if total_steps < 1:
        raise ScalingError(f"the schedule has no steps to predict (total {total_steps})")
    stride = max(1, -(-total_steps // points))
    return np.unique(np.r_[np.arange(stride, total_steps + 1, stride), total_steps]).astype(np.int64)


def parse_steps(text: str) -> np.ndarray:
    """Parse a ``--steps`` value: ``START:STOP:STRIDE`` (STOP included when on the grid) or ``a,b,c``.

    Examples
    --------
    >>> parse_steps("1000:3000:500").tolist()
    [1000, 1500, 2000, 2500, 3000]
    >>> parse_steps("100,200").tolist()
    [100, 200]
    """
    t = text.strip()
    try:
        if ":" in t:
            parts = [int(float(p)) for p in t.split(":")]
            if len(parts) == 2:
                parts.append(1)
            start, stop, stride = parts
            if stride <= 0 or stop < start:
                raise ValueError
            if (stop - start) // stride + 1 > 10_000_000:
                raise ScalingError(f"--steps {text!r} asks for {(stop - start) // stride + 1:,} steps; at most "
                                   "10,000,000 (use a larger stride)")
            out = np.arange(start, stop + 1, stride)
        else:
            out = np.array([int(float(p)) for p in t.split(",") if p.strip()])
    except (ValueError, OverflowError):  # OverflowError: int(float("inf"))
        raise ScalingError(f"--steps {text!r}: write START:STOP:STRIDE (e.g. 1000:72000:500) or a comma list "
                           "of whole finite step numbers") from None
    if out.size > 10_000_000:
        raise ScalingError(f"--steps {text!r} asks for {out.size:,} steps; at most 10,000,000 (use a stride)")
    if out.size == 0 or np.any(out < 0):
        raise ScalingError(f"--steps {text!r}: needs at least one step, all >= 0")
    return out.astype(np.int64)


def _lr_and_total(schedule, steps, total_steps):
    from scaling.schedules import parse_schedule, schedule_array

    if isinstance(schedule, str):
        schedule, spec_total = parse_schedule(schedule)
        total_steps = total_steps if total_steps is not None else spec_total
    if callable(schedule):
        if total_steps is None and getattr(schedule, "lr_array", None) is not None:
            total_steps = len(schedule.lr_array) - 1
        if total_steps is None and steps is not None:
            total_steps = int(np.max(steps))
        if total_steps is None:
            raise ScalingError("predict: give steps= or total_steps= for a schedule callable (or 'total=' in the spec)")
        lr = schedule_array(schedule, int(total_steps))
    else:
        lr = np.asarray(schedule, dtype=np.float64).reshape(-1)
        if total_steps is not None:
            lr = schedule_array(lr, int(total_steps))
    if lr.size < 2:
        raise ScalingError("predict: the LR schedule needs at least 2 steps")
    if not np.all(np.isfinite(lr)):
        raise ScalingError("predict: the LR array has NaN/inf; fill unlogged steps first (scaling.lr_per_step)")
    return lr


def _curve_law(fit):
    law = fit.law_object() if hasattr(fit, "law_object") else None
    if law is None:
        raise ScalingError("predict: expected a FitResult (from scaling.fit or FitResult.load)")
    if law.kind != "curve":
        raise ScalingError(f"predict: law {law.name!r} predicts final losses, not curves; use a curve law such as lr-annealing")
    return law


def extrapolation_lines(fit, steps, lr) -> tuple[list[str], list[str]]:
    """``(warnings, notes)`` for a prediction beyond the fitted runs.

    The messages of :func:`scaling.fitting.extrapolation.extrapolation`
    (steps and forward area predicted over fitted: a note from 1x, a warning
    past 2x; a warning for a peak LR above 1.5x the largest fitted one or an
    anneal below half the smallest), split by severity.
    """
    from scaling.fitting.extrapolation import extrapolation

    if not (getattr(fit, "data_info", None) or {}).get("fitted_range"):
        return [], []  # the fit does not record what it saw (a hand-made fit-like object)
    found = extrapolation(fit, steps, lr).get("diagnostics", ())
    warnings = [d["message"] for d in found if d.get("severity") == "warning"]
    notes = [d["message"] for d in found if d.get("severity") == "note"]
    return warnings, notes


def extrapolation_warnings(fit, steps, lr) -> list[str]:
    """The warning lines of :func:`extrapolation_lines`."""
    return extrapolation_lines(fit, steps, lr)[0]


@in_float64
def predict(fit, schedule_or_lr_array, *, steps=None, level: float = 0.9, total_steps: int | None = None,
            N: float | None = None, band: str = "predictive", batch: int = 64, B: float | None = None) -> Any:
    """Predicted loss curve with a band for a schedule.

    Parameters
    ----------
    fit : FitResult
        A fit of a curve law (``fit.law_object()``, ``fit.params``, and
        optionally ``fit.samples`` (B, P) and ``fit.covar`` (P, P)).
    schedule_or_lr_array : callable, str or array-like
        ``step -> lr`` (ours or optax's), a text spec (see
        ``scaling schedules --help``), or LRs at steps ``0..T``, shape (T + 1,).
    steps : array-like of int, optional
        Steps to predict. Default: every step ``1..T`` up to 20,000 points, a
        regular stride beyond (:func:`default_steps`).
    level : float
        Central coverage of the band (0.9 -> 5 % and 95 % quantiles).
    total_steps : int, optional
        ``T`` for a callable schedule (default: the spec's ``total=`` or
        ``max(steps)``); for an array, cut or extend (holding the last LR).
    N : float, optional
        Model size for laws that read ``inputs["N"]`` (``lr-annealing-n``).
    B : float, optional
        Batch size in tokens per step for laws that read ``inputs["B"]``
        (``kaplan-batch``: a trajectory for any batch size).
    band : {"predictive", "parameters"}
        ``"parameters"``: parameter uncertainty only (below).
        ``"predictive"`` (default): that band widened by ``exp(+-z sigma)``,
        ``sigma`` the fit's held-out calibrated log-scale sigma, growing with
        the forward area predicted beyond the fitted runs
        (:func:`scaling.evaluate.predictive_sigma`; the RMS log residual for a
        fit without calibration), so it also covers the error of predicting an
        unseen schedule. Coverage on held-out schedules:
        ``benchmarks/curves_protocol.py``.
    batch : int
        Bootstrap samples evaluated at once (memory ``batch x T`` at most).

    Returns
    -------
    pandas.DataFrame
        Columns ``step`` (int), ``lr``, ``loss`` (the point prediction at
        ``fit.params``, nats), ``loss_lo``, ``loss_hi``, ``in_fit_rule``
        (bool: the step passes the fit's point-selection rule,
        :func:`scoring_mask`; False inside the warmup and the early transient,
        where the law is extrapolated and ``attrs["notes"]`` says so). Steps
        before any LR was applied (forward area 0, e.g. step 0 of a warmup
        from LR 0) get NaN in ``loss``, ``loss_lo`` and ``loss_hi``: a
        power law in the area is infinite there.

        Band: with bootstrap samples (``fit.samples``, from refits on
        resampled runs/blocks of steps) the ``(1 - level)/2`` and
        ``(1 + level)/2`` quantiles of the law evaluated at every sample
        (vmapped in batches). Without samples, the Laplace/delta method:
        ``loss +- z sqrt(diag(J Cov J^T))`` with ``J = d loss / d theta``
        (forward-mode) and ``Cov = fit.covar``; with neither, the band is the
        point prediction. These are parameter-uncertainty bands; ``band=
        "predictive"`` adds the fit's residual scatter.

    Examples
    --------
    >>> pred = predict(fit, "cosine:peak=3e-4,final=3e-5,warmup=2160,total=72000",
    ...                steps=np.arange(2200, 72001, 100))                       # doctest: +SKIP
    """
    import pandas as pd

    from scaling.evaluate import band as law_band
    from scaling.inputs import curve_inputs

    if not 0.0 < level < 1.0:
        raise ScalingError(f"predict: level must be in (0, 1), got {level}")
    law = _curve_law(fit)
    if steps is not None:
        steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    lr = _lr_and_total(schedule_or_lr_array, steps, total_steps)
    T = lr.size - 1
    if steps is None:
        steps = default_steps(T)
    if steps.size == 0:
        raise ScalingError("predict: no steps requested")
    inputs = curve_inputs(law, lr, steps, N=N, B=B)
    out = law_band(fit, inputs, level=level, kind=band, batch=batch)
    # before any LR has been applied (step 0 of a warmup from LR 0) the forward area is 0 and a
    # power law in it is infinite: the finite number the law's floor gives there (~1e6 nats) is not
    # a loss, so it is left empty rather than written for someone to plot
    no_area = (np.cumsum(lr)[steps] <= 0) if "lr" in law.inputs else np.zeros(steps.shape, bool)
    if no_area.any():
        out = {k: np.where(no_area, np.nan, np.asarray(v, dtype=np.float64)) for k, v in out.items()}
    frame = pd.DataFrame({"step": steps, "lr": lr[steps], **out})
    frame.attrs["warnings"], frame.attrs["notes"] = extrapolation_lines(fit, steps, lr)
    keep, rule = scoring_mask(fit, steps, lr)
    frame["in_fit_rule"] = keep
    if no_area.any():
        first = ", ".join(map(str, steps[no_area][:3])) + (", ..." if no_area.sum() > 3 else "")
        which = f"step {first} comes" if no_area.sum() == 1 else f"{int(no_area.sum())} steps ({first}) come"
        frame.attrs["notes"].append(f"predicted {which} before any LR was applied (forward area 0), where the "
                                    "law has no finite value: left empty (NaN)")
    if not keep.all():
        # the law was fitted after the warmup and the early transient: before that it is extrapolated,
        # often to nonsense (a power law in the forward area diverges as the area goes to 0)
        out_steps = steps[~keep]
        frame.attrs["notes"].append(
            f"{out_steps.size} of {steps.size} predicted steps ({out_steps.min()}..{out_steps.max()}) are outside "
            f"the fit's point rule ({rule}): the law is extrapolated there, not validated (column in_fit_rule)")
    return frame


def scoring_mask(fit, steps, lr) -> tuple[np.ndarray, str]:
    """Which observed points a prediction is scored on: the fit's own point-selection rule.

    Returns ``(mask, rule)``: the points a fit of these data would have used
    (warmup and early transient excluded, by the rule recorded in
    ``fit.data_info["selection"]``; :mod:`scaling.fitting.selection`), so
    "vs observed" compares like with like; ``rule`` describes it. The
    rule's upper cut ``max_step`` is left out: it chooses the training
    data, it does not say where the law holds, and the points past it are
    the ones a prediction is made for (a fit to step 15,000 scored on a
    50,000-step run would otherwise be scored on its first 15,000 steps
    only); :func:`extrapolation_warnings` says how far they reach.
    """
    from scaling.fitting.selection import as_rule, describe, fit_mask

    selection = (getattr(fit, "data_info", None) or {}).get("selection") or {}
    rule = dict(as_rule(selection.get("rule")), max_step=None)
    mask = fit_mask(np.asarray(steps, dtype=np.int64), np.asarray(lr, np.float64), rule)
    # describe() leads with "<kept> of <logged> points: "; here only the rule itself is wanted
    text = describe({"rule": rule, "runs": {}}).split(": ", 1)[-1] if selection \
        else "the default point-selection rule"
    return np.asarray(mask, bool), text


def compare_observed(fit, pred, *, observed=None, lr=None) -> dict[str, float]:
    """Error metrics of a prediction (``pred`` from :func:`predict`) against observed losses.

    ``lr`` is the per-step LR of the observed run (``0..T``; default: held
    between the predicted steps). Scored on the points :func:`scoring_mask`
    keeps and, when the fit averaged its runs' points in windows (per-step
    training loss, :func:`scaling.fitting.selection.aggregate_points`), as
    window means chosen by the same rule (:func:`scoring_window`): the fit
    and its band describe the mean loss, and per-step points would score
    the step-to-step noise instead (a 1 % noisy log puts PredE near 0.9 %
    and half the points outside the band whatever the fit). Returns
    :func:`curve_metrics` plus ``n_scored`` (logged points scored),
    ``n_points``, ``window`` (1: every point) and ``rule``.
    """
    from scaling.fitting.selection import aggregate_points

    y = np.asarray(pred["observed"] if observed is None else observed, np.float64)
    steps = pred["step"].to_numpy()
    if lr is None:
        lr_full = np.zeros(int(steps.max()) + 1)
        lr_full[steps] = pred["lr"].to_numpy()
        lr = _filled(lr_full, steps)
    mask, rule = scoring_mask(fit, steps, lr)
    # (a step with no forward area has no predicted value, see predict(); it cannot be scored)
    mask = np.asarray(mask, bool) & np.isfinite(y) & np.isfinite(pred["loss"].to_numpy(np.float64))
    if not mask.any():
        raise ScalingError("no observed point is left to score after the fit's point-selection rule "
                           f"({rule}); pass --steps to choose points")
    cols = [y[mask]] + [pred[c].to_numpy()[mask] for c in ("loss", "loss_lo", "loss_hi")]
    window = scoring_window(fit, int(mask.sum()))
    if window > 1:
        cols = [aggregate_points(steps[mask], c, window)[1] for c in cols]
    m = curve_metrics(cols[0], cols[1], lo=cols[2], hi=cols[3])
    m.update(n_scored=int(mask.sum()), n_points=int(y.size), window=window, rule=rule)
    return m


def scoring_window(fit, n_points: int) -> int:
    """Window (in logged points) a held-out run of ``n_points`` scored points is averaged in: the fit's rule.

    The fit's aggregation option (``fit.data_info["aggregate"]``: the
    default for long runs, ``"auto"`` or a window length; see
    :func:`scaling.fitting.selection.aggregation_window`) applied to the
    held-out run; 1 when the fit did not average.
    """
    from scaling.fitting.selection import aggregation_window, fitted_aggregate

    info = getattr(fit, "data_info", None) or {}
    if not info.get("aggregate"):
        return 1
    return aggregation_window(int(n_points), fitted_aggregate(info))


def _filled(lr_full, steps):
    # LR known only at the predicted steps: hold it between them (only used to find the warmup)
    idx = np.searchsorted(steps, np.arange(lr_full.size), side="right") - 1
    return lr_full[steps[np.clip(idx, 0, steps.size - 1)]]


def curve_metrics(observed, predicted, *, lo=None, hi=None) -> dict[str, float]:
    """Error of a predicted curve against observed losses.

    Returns ``R2`` (on raw loss), ``MAE``, ``RMSE``, ``PredE = mean(|y - yhat| / y)``,
    ``WorstE = max(|y - yhat| / y)`` (Luo et al. 2025's metrics), the signed
    final-loss error ``FinalE = (yhat - y) / y`` at the last point (negative:
    predicted too low; the points are taken in step order) and, when a band
    is given, ``coverage`` = fraction of observed points inside ``[lo, hi]``.
    """
    y = np.asarray(observed, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    err = y - p
    rel = np.abs(err) / np.abs(y)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    out = {
        "R2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "MAE": float(np.mean(np.abs(err))),
        "RMSE": float(np.sqrt(np.mean(err**2))),
        "PredE": float(np.mean(rel)),
        "WorstE": float(np.max(rel)),
        "FinalE": float((p[-1] - y[-1]) / y[-1]),
    }
    if lo is not None and hi is not None:
        out["coverage"] = float(np.mean((y >= np.asarray(lo)) & (y <= np.asarray(hi))))
    return out


__all__ = ["compare_observed", "curve_metrics", "default_steps", "extrapolation_lines", "extrapolation_warnings", "parse_steps", "predict",
           "scoring_mask", "scoring_window"]
