"""How far a curve prediction reaches beyond the points its fit saw.

A curve fit records the range it was fitted on
(:func:`scaling.fitting.diagnostics.fitted_range`, stored as
``FitResult.data_info["fitted_range"]``); :func:`extrapolation` compares a
predicted schedule with it and returns ``extrapolation`` diagnostics (the
record format of :mod:`scaling.fitting.diagnostics`): a note past 1x the
fitted steps or forward area, a warning past :data:`EXTRAPOLATION_WARN`, and
a warning when the post-warmup LR leaves the fitted range (peak above 1.5x
the largest fitted LR, anneal below half the smallest). Errors of the curve
laws grow with the forward-area extrapolation (Luo et al. 2025's 72k-step
runs, predicted from 24k: ``benchmarks/curves_protocol.py``), and the band's
calibration measures that growth only as far as time splits of the fitted
runs reach.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scaling.fitting.diagnostics import item

#: A prediction beyond this many times the fitted forward area / steps is flagged.
EXTRAPOLATION_WARN = 2.0


def extrapolation(fit, steps, lr) -> dict[str, Any]:
    """How far a prediction reaches beyond what the fit saw.

    Parameters
    ----------
    fit : FitResult
        With ``data_info["fitted_range"]`` (every curve fit has it).
    steps : array of int, shape (n,)
        Steps predicted.
    lr : array, shape (T + 1,)
        The predicted schedule's LR at every step.

    Returns
    -------
    dict
        ``steps_ratio`` (max predicted step / max fitted step),
        ``area_ratio`` (forward area at the last predicted step / the
        largest fitted one), ``lr_range`` (post-warmup LR min and max of the
        prediction up to its last step), ``fitted_lr_range``, and
        ``diagnostics`` (tuple of dicts, code ``extrapolation``).
    """
    from scaling.fitting.selection import detect_warmup

    rng = dict(fit.data_info.get("fitted_range") or {})
    steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    lr = np.asarray(lr, dtype=np.float64).reshape(-1)
    last = int(steps.max()) if steps.size else 0
    seg = lr[detect_warmup(lr): last + 1]
    lr_range = (float(seg.min()), float(seg.max())) if seg.size else (float("nan"), float("nan"))
    out: dict[str, Any] = {"steps_ratio": float("nan"), "area_ratio": float("nan"), "lr_range": lr_range,
                           "fitted_lr_range": (rng.get("lr_min", float("nan")), rng.get("lr_max", float("nan")))}
    notes = []
    if rng.get("max_step"):
        out["steps_ratio"] = last / rng["max_step"]
    if rng.get("max_forward_area"):
        out["area_ratio"] = float(np.sum(lr[: last + 1])) / rng["max_forward_area"]
    ratio = np.nanmax([out["steps_ratio"], out["area_ratio"]]) if rng else float("nan")
    if np.isfinite(ratio) and ratio > EXTRAPOLATION_WARN:
        a_cal = (getattr(fit, "calibration", None) or {}).get("area_ratio_max")
        how = ("the band is not calibrated on held-out points" if a_cal is None else
               f"the band's growth was measured only to {a_cal:.2g}x the fitted forward area (each fitted run's "
               "later part predicted from its start), and schedules this much longer have missed by several "
               "times the band (benchmarks/curves_protocol.py): read it as a lower bound")
        notes.append(item("extrapolation", "warning",
                          f"predicting {out['steps_ratio']:.1f}x the fitted steps ({out['area_ratio']:.1f}x the "
                          f"fitted forward area): errors grow with the extrapolation; {how}"))
    elif np.isfinite(ratio) and ratio > 1.0:
        notes.append(item("extrapolation", "note",
                          f"predicting {out['steps_ratio']:.2f}x the fitted steps ({out['area_ratio']:.2f}x the "
                          "fitted forward area)"))
    flo, fhi = out["fitted_lr_range"]
    (lo, hi), span = lr_range, f"the schedule's LR spans {lr_range[0]:.3g}..{lr_range[1]:.3g} after warmup"
    if np.isfinite(fhi) and np.isfinite(hi) and hi > 1.5 * fhi:
        notes.append(item("extrapolation", "warning",
                          f"{span}: its peak is {hi / fhi:.1f}x the largest fitted LR ({fhi:.3g}); the law has not "
                          "seen this LR range"))
    if np.isfinite(flo) and np.isfinite(lo) and lo < flo / 2.0:
        below = f"{flo / lo:.3g}x below" if lo > 0 else "to 0, below"
        notes.append(item("extrapolation", "warning",
                          f"{span}: it anneals {below} the smallest fitted LR ({flo:.3g}); the law has not seen this "
                          "LR range"))
    out["diagnostics"] = tuple(notes)
    return out


__all__ = ["EXTRAPOLATION_WARN", "extrapolation"]
