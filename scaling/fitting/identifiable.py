"""Which parameters a set of loss curves can determine, from the LR schedules alone.

The annealing terms of the curve laws (lr-annealing's ``C`` and ``lam``,
multi-power's drop ``B, C, beta, gamma``) act only after the LR falls: on
points logged before any LR decrease after warmup they have no effect, so
runs that never decay (constant LR) cannot determine them. The same holds
for any subset of the points: a calibration fold, a leave-one-run-out fold,
a bootstrap resample. Their refits start at the full fit, so such a subset
would keep the full fit's annealing terms and measure nothing about them;
:mod:`scaling.fitting.calibration`, :mod:`scaling.compare` and
:mod:`scaling.fitting.bootstrap` skip it, and the fit's ``not_identifiable``
diagnostic (:mod:`scaling.fitting.diagnostics`) names the terms.
"""

from __future__ import annotations

import numpy as np

#: Parameters of curve laws that only an LR decrease after warmup can identify.
ANNEALING_PARAMS = {
    "lr-annealing": ("C", "lam"),
    "lr-annealing-n": ("C", "gamma"),  # C S2 N^gamma: gamma too acts only through S2
    "multi-power": ("logB", "logC", "beta", "gamma"),
}

#: An LR "decreases" when it falls below its running maximum after warmup by this fraction of its peak.
DECAY_REL = 1e-3


def decay_seen(law, dataset) -> np.ndarray | None:
    """Per point, in the dataset's order: has its run's LR fallen after warmup by the point's step?

    A set of points determines the law's annealing terms only if it holds a point where this is True.

    Parameters
    ----------
    law : Law
    dataset : Dataset

    Returns
    -------
    ndarray of bool, shape (n_points,), or None when the law has no annealing terms or the data are
    not curves.
    """
    from scaling.fitting.selection import detect_warmup

    if dataset.info.get("kind") != "curves" or law.name not in ANNEALING_PARAMS:
        return None
    parts = []
    for g in dataset:
        lr = np.asarray(g.inputs["lr"], dtype=np.float64)
        steps = np.asarray(g.inputs["step"], dtype=np.int64)
        w = detect_warmup(lr)
        post = lr[w:]
        peak = float(np.max(np.abs(lr))) if lr.size else 0.0
        fallen = np.zeros(lr.size, dtype=bool)
        fallen[w:] = np.maximum.accumulate(np.maximum.accumulate(post) - post > DECAY_REL * (peak or 1.0))
        parts.append(fallen[np.clip(steps, 0, max(lr.size - 1, 0))] if lr.size else np.zeros(steps.size, bool))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _annealing_params(law) -> tuple[str, ...]:
    return tuple(p for p in ANNEALING_PARAMS.get(law.name, ()) if p in law.param_names)


def design_unidentifiable(law, dataset) -> tuple[str, ...]:
    """The annealing parameters that ``dataset`` cannot determine: no point comes after an LR decrease.

    Returns the names (empty when some point sees a decrease, or the law has none).
    """
    seen = decay_seen(law, dataset)
    return () if seen is None or seen.any() else _annealing_params(law)


def blind_subsets(seen, fitted) -> np.ndarray:
    """Which subsets of the points cannot determine the annealing terms that all the points do.

    A refit of a subset starts at the full fit, so such a subset keeps the full fit's annealing terms: a
    fold or resample that measures nothing about them. Where no point determines them the full fit holds
    its start value too, and nothing is blind.

    Parameters
    ----------
    seen : ndarray of bool, shape (n_points,), or None
        :func:`decay_seen` of the data.
    fitted : array, shape (K, n_points)
        Per subset, the points it fits (bool, or resampling counts: > 0 counts as fitted).

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    fitted = np.atleast_2d(np.asarray(fitted)) > 0
    if seen is None or not seen.any():
        return np.zeros(fitted.shape[0], dtype=bool)
    return ~np.any(fitted[:, seen], axis=1)


def blind_params(law, seen, fitted) -> tuple[str, ...]:
    """The annealing parameters one subset (``fitted``, bool ``(n_points,)``) misses; see :func:`blind_subsets`."""
    return _annealing_params(law) if blind_subsets(seen, fitted)[0] else ()


__all__ = ["ANNEALING_PARAMS", "DECAY_REL", "blind_params", "blind_subsets", "decay_seen", "design_unidentifiable"]
