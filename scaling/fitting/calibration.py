"""Calibrating the predictive band of a curve fit on the fit's own runs.

The question a predictive band answers is "how far off is a prediction of a
schedule the fit has not seen?". The fitted residuals cannot answer it
(they are in-sample), so each fit of curve data is refitted without one of
its runs and the left-out run predicted (leave-one-schedule-out); with a
single run, the run is split and its later part predicted from its earlier
part (fit on points up to 50 % and 75 % of its steps). The held-out log
residuals ``r = log(predicted) - log(observed)`` give

.. math::

    \\sigma_{\\log} = q_{\\ell}(|r|) / z_{\\ell}, \\qquad z_{\\ell} = \\Phi^{-1}\\big(\\tfrac{1 + \\ell}{2}\\big),

the log-scale sigma such that ``exp(+-z sigma)`` covers the fraction
``ell`` (the fit's level) of the held-out points: a band calibrated at the
level it is shown at, also when the errors are not Gaussian.

The refits reuse the packed data with zero weights on the held-out points,
started at the full fit's optimum, in one batched solve: no new compile and
a few Newton iterations each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Fractions of a single run's logged steps fitted before predicting the rest.
SPLIT_FRACTIONS = (0.5, 0.75)


def _folds(dataset) -> tuple[str, list[tuple[str, np.ndarray]]]:
    """``(method, [(label, held-out mask over points)])``."""
    sizes = dataset.sizes()
    n = int(sum(sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    if len(dataset) >= 2:
        folds = []
        for i, g in enumerate(dataset):
            mask = np.zeros(n, dtype=bool)
            mask[offsets[i]:offsets[i + 1]] = True
            folds.append((g.name, mask))
        return "leave-one-schedule-out", folds
    g = dataset[0]
    steps = np.asarray(g.inputs["step"], dtype=np.int64)
    folds = []
    for frac in SPLIT_FRACTIONS:
        cut = int(steps.min() + frac * (steps.max() - steps.min()))
        mask = steps > cut
        if 0 < mask.sum() < mask.size - 3:
            folds.append((f"{g.name} after step {cut}", mask))
    return "split-run", folds


def sigma_from_residuals(r: np.ndarray, level: float) -> float:
    """``q_level(|r|) / z_level`` (see the module docstring); NaN for no residuals."""
    from scipy.stats import norm

    r = np.asarray(r, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return float("nan")
    z = float(norm.ppf(0.5 + level / 2.0))
    return float(np.quantile(np.abs(r), level) / z)


def calibrate(result, law, dataset, *, packed=None, index=None, n_padded=None) -> dict[str, Any]:
    """Held-out calibration of the predictive band of a curve fit.

    Parameters
    ----------
    result : FitResult
        The full fit (its ``params`` start the refits; its ``level`` and
        ``data_info["delta"]`` are used).
    law : Law
    dataset : Dataset
        The fitted curves.
    packed, index, n_padded : optional
        Output of :func:`scaling.fitting.objective.pack` for ``dataset``.

    Returns
    -------
    dict
        ``sigma_log`` (float), ``method`` ("leave-one-schedule-out" or
        "split-run"), ``level``, ``rms_log`` and ``max_abs_log`` of the
        pooled held-out residuals, ``n_points``, and ``folds``: per fold
        ``{"held_out", "n_points", "rms_log", "max_abs_log", "mean_log"}``.
        ``{"method": "none", ...}`` when no fold can be built.
    """
    from scaling.fitting.objective import expand_weights, pack
    from scaling.fitting.optimize import compiled, solve_batch

    import jax.numpy as jnp

    if packed is None or index is None or n_padded is None:
        packed, index, n_padded = pack(dataset, law.kind)
    method, folds = _folds(dataset)
    level = float(result.level)
    if not folds:
        return {"method": "none", "reason": "too few points to hold any out", "level": level}
    masks = np.stack([m for _, m in folds])
    weights = expand_weights((~masks).astype(np.float64), np.asarray(index), int(n_padded))
    theta0 = np.tile(np.asarray(result.params, dtype=np.float64), (len(folds), 1))
    delta = float(result.data_info.get("delta", 1e-3))
    res = solve_batch(law, packed, theta0, weights=weights, delta=delta)
    ns = compiled(law.fn)
    pooled, per = [], []
    for k, (label, mask) in enumerate(folds):
        if not (np.isfinite(res.f[k]) and np.all(np.isfinite(res.theta[k]))):
            per.append({"held_out": label, "n_points": int(mask.sum()), "failed": True})
            continue
        r = np.asarray(ns.residuals_jit(jnp.asarray(res.theta[k]), packed))[index][mask]
        pooled.append(r)
        per.append({"held_out": label, "n_points": int(r.size), "rms_log": float(np.sqrt(np.mean(r * r))),
                    "max_abs_log": float(np.max(np.abs(r))), "mean_log": float(np.mean(r))})
    if not pooled:
        return {"method": "none", "reason": "every held-out refit failed", "level": level, "folds": per}
    r = np.concatenate(pooled)
    return {"method": method, "sigma_log": sigma_from_residuals(r, level), "level": level,
            "rms_log": float(np.sqrt(np.mean(r * r))), "max_abs_log": float(np.max(np.abs(r))),
            "n_points": int(r.size), "folds": per}


__all__ = ["SPLIT_FRACTIONS", "calibrate", "sigma_from_residuals"]
