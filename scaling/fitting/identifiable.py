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

Laws with a per-run size input (``lr-annealing-n``'s model size ``N``,
``kaplan-batch``'s ``N`` and batch size ``B``) have terms only a spread of
that input determines (:data:`SIZE_PARAMS`): a subset whose fitted runs share
one value of it is blind to them in the same way, when the data hold two or
more values.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Parameters of curve laws that only an LR decrease after warmup can identify.
ANNEALING_PARAMS = {
    "lr-annealing": ("C", "lam"),
    "lr-annealing-n": ("C", "gamma"),  # C S2 N^gamma: gamma too acts only through S2
    "multi-power": ("logB", "logC", "beta", "gamma"),
}

#: Per-run size inputs of curve laws and the parameters that only two or more of their values determine
#: (with one value the term is a constant that trades with the others).
SIZE_PARAMS = {
    "lr-annealing-n": {"N": ("B", "beta", "gamma")},  # B N^-beta trades with L0, C N^gamma with C
    "kaplan-batch": {"N": ("log_Nc", "alpha_N"), "B": ("log_Bstar", "alpha_B")},
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


class Seen(NamedTuple):
    """What each point of a data set shows of the terms a subset may be blind to (:func:`seen_by`)."""

    decay: np.ndarray | None  #: :func:`decay_seen`
    #: per size input of :data:`SIZE_PARAMS` with two or more values in the data, its value at each point,
    #: shape (n_points,) (an input with one value determines nothing, so no subset is blind to it)
    sizes: dict


def seen_by(law, dataset) -> Seen:
    """:class:`Seen` of ``dataset`` for ``law`` (the argument of :func:`blind_subsets` and :func:`blind_params`)."""
    sizes = {}
    if dataset.info.get("kind") == "curves":
        for k in SIZE_PARAMS.get(law.name, {}):
            v = np.concatenate([np.broadcast_to(np.asarray(g.inputs[k], dtype=np.float64), np.shape(g.inputs["step"]))
                                for g in dataset])
            if np.unique(v).size >= 2:
                sizes[k] = v
    return Seen(decay_seen(law, dataset), sizes)


def _decay_blind(seen: Seen, fitted: np.ndarray) -> np.ndarray:
    """Per subset (``fitted`` bool (K, n)): no fitted point after an LR decrease, where the data have one."""
    if seen.decay is None or not seen.decay.any():
        return np.zeros(fitted.shape[0], dtype=bool)
    return ~np.any(fitted[:, seen.decay], axis=1)


def _blind_inputs(seen: Seen, fitted: np.ndarray) -> list[str]:
    """Size inputs of :attr:`Seen.sizes` with at most one value among ``fitted`` (bool (n,))."""
    return [k for k, v in seen.sizes.items() if np.unique(v[fitted]).size < 2]


def blind_subsets(seen: Seen, fitted) -> np.ndarray:
    """Which subsets of the points cannot determine terms that all the points do.

    A refit of a subset starts at the full fit, so such a subset keeps the full fit's values of those
    terms: a fold or resample that measures nothing about them. The terms are the annealing terms (no
    fitted point after an LR decrease) and the size terms (:data:`SIZE_PARAMS`; one value of the size
    among the fitted points). Where no point determines a term the full fit holds its start value too,
    and nothing is blind to it.

    Parameters
    ----------
    seen : Seen
        :func:`seen_by` of the data.
    fitted : array, shape (K, n_points)
        Per subset, the points it fits (bool, or resampling counts: > 0 counts as fitted).

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    fitted = np.atleast_2d(np.asarray(fitted)) > 0
    blind = _decay_blind(seen, fitted)
    if seen.sizes:
        blind |= np.array([bool(_blind_inputs(seen, f)) for f in fitted], dtype=bool)
    return blind


def blind_params(law, seen: Seen, fitted) -> tuple[str, ...]:
    """The parameters one subset (``fitted``, bool ``(n_points,)``) misses; see :func:`blind_subsets`."""
    fitted = np.asarray(fitted) > 0
    out = list(_annealing_params(law)) if _decay_blind(seen, fitted[None])[0] else []
    for k in _blind_inputs(seen, fitted):
        out += [p for p in SIZE_PARAMS[law.name][k] if p in law.param_names]
    return tuple(dict.fromkeys(out))


def blind_why(seen: Seen, fitted) -> str:
    """Why a subset is blind (see :func:`blind_params`), as a clause for messages ("" when it is not)."""
    fitted = np.asarray(fitted) > 0
    why = []
    if _decay_blind(seen, fitted[None])[0]:
        why.append("none of its fitted points follows an LR decrease after warmup")
    why += [f"its fitted runs have one value of {k}" for k in _blind_inputs(seen, fitted)]
    return "; ".join(why)


__all__ = ["ANNEALING_PARAMS", "DECAY_REL", "SIZE_PARAMS", "Seen", "blind_params", "blind_subsets", "blind_why",
           "decay_seen", "design_unidentifiable", "seen_by"]
