"""Learning-rate sensitivity across model sizes (Wortsman et al. 2023).

For each model size ``N`` a sweep of runs at different (peak) learning rates
gives final losses ``L(eta)``. This module

1. fits the ``lr-sensitivity`` law (a parabola in ``log10 eta``,
   :mod:`scaling.laws.lr_sensitivity`) per size with the usual fitter, so the
   optimal LR ``eta_*(N)`` gets a bootstrap interval;
2. fits how the optimum moves with size, a power law
   :math:`\\eta_*(N) = \\eta_{*,0}\\, (N / N_0)^{-\\kappa}` (least squares in
   ``log10``; ``N_0`` is the geometric mean size), with an interval for
   ``kappa`` from pairing the per-size bootstrap replicates;
3. computes Wortsman et al.'s LR sensitivity

   .. math::

       \\mathrm{sens}(N) = \\mathbb{E}_{\\eta}\\big[\\min(L(\\eta), L_0) - L_*\\big],

   the expected excess loss over a range of LRs (``L_0`` caps diverged runs,
   the paper uses the loss at initialisation; ``L_*`` the best loss). It is
   reported twice: ``sensitivity`` from the observed runs (the paper's
   definition: mean over the sweep, or the runs inside ``lr_range``, with
   ``L_*`` the best observed loss among them) and
   ``sensitivity_fit`` from the fitted parabola averaged over a log-uniform
   grid of ``lr_range`` (with a bootstrap interval).

References
----------
M. Wortsman et al., "Small-scale proxies for large-scale Transformer
training instabilities", arXiv:2309.14322 (2023), Sec. 2.2 (LR sensitivity).

Examples
--------
>>> res = lr_sensitivity(df, lr="lr", size="N", bootstrap=200)  # doctest: +SKIP
>>> res.per_size[["N", "eta_star", "eta_star_lo", "eta_star_hi", "sensitivity"]]  # doctest: +SKIP
>>> res.kappa, res.kappa_interval  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np

from scaling.evaluate import quantiles

from scaling.errors import DataError


@dataclasses.dataclass(frozen=True)
class LRSensitivity:
    """Outcome of :func:`lr_sensitivity` (immutable).

    Attributes
    ----------
    per_size : pandas.DataFrame
        One row per size: ``N``, ``n_runs``, ``n_diverged`` (runs with a
        non-finite loss, counted as ``L0``), ``eta_star`` (optimal LR) with
        ``eta_star_lo``/``eta_star_hi`` (``level`` bootstrap interval),
        ``L_star`` (nats), ``k`` (nats per decade squared), ``sensitivity``
        (observed), ``sensitivity_fit`` with ``_lo``/``_hi``.
    kappa : float
        Exponent of ``eta_*(N) = eta0 (N/N0)**-kappa`` (NaN with one size).
    kappa_interval : (float, float)
        ``level`` interval of ``kappa`` from paired bootstrap replicates.
    eta0 : float
        Optimal LR at ``N0``.
    N0 : float
        Reference size (geometric mean of the sizes).
    level : float
    fits : mapping of float to FitResult
        The per-size fits of the ``lr-sensitivity`` law.
    """

    per_size: Any
    kappa: float
    kappa_interval: tuple
    eta0: float
    N0: float
    level: float
    fits: Mapping[float, Any]

    def eta_star_at(self, N):  # noqa: N803
        """Optimal LR predicted by the power law at size(s) ``N``."""
        return self.eta0 * (np.asarray(N, dtype=np.float64) / self.N0) ** (-self.kappa)


#: Relative slack of the ``lr_range`` edges: an LR computed as ``3 * 10**-1``
#: (0.30000000000000004) is inside a range that ends at ``3e-1``.
RANGE_RTOL = 1e-9


def _in_range(lrs, lr_range):
    if lr_range is None:
        return np.ones(lrs.size, bool)
    return (lrs >= lr_range[0] * (1 - RANGE_RTOL)) & (lrs <= lr_range[1] * (1 + RANGE_RTOL))


def _sensitivity_observed(lrs, losses, L0, lr_range):
    """Wortsman et al.'s measure over the runs in ``lr_range``; a diverged run (loss inf/NaN) counts as ``L0``."""
    keep = _in_range(lrs, lr_range)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    if not keep.any() or not np.isfinite(losses[keep]).any():
        return float("nan")
    # L_* is the best loss *within* the range, as in Wortsman et al.'s
    # E_{eta in [a, b]}[min(L(eta), L_0) - min_{eta in [a, b]} L(eta)]
    capped = np.minimum(losses[keep], L0)
    return float(np.mean(capped - np.min(losses[keep])))


def _sensitivity_fit(theta, grid_log10, L0):
    """Expected excess of the fitted parabola over a log10-LR grid; theta (B, 3) -> (B,)."""
    theta = np.atleast_2d(theta)
    curve = theta[:, 0:1] + theta[:, 1:2] * (grid_log10[None, :] - theta[:, 2:3]) ** 2
    return np.mean(np.minimum(curve, L0) - theta[:, 0:1], axis=1)


def lr_sensitivity(points_df, *, lr: str = "lr", size: str = "N", loss: str = "loss", bootstrap: int = 200,
                   level: float = 0.9, seed: int = 0, lr_range: tuple[float, float] | None = None,
                   L0: float | None = None) -> LRSensitivity:  # noqa: N803
    """Optimal LR per model size with intervals, its power law in ``N``, and LR sensitivity.

    Parameters
    ----------
    points_df : pandas.DataFrame
        One row per run: the LR column ``lr``, the size column ``size`` and
        the final loss column ``loss`` (nats). At least 4 runs per size with
        a finite loss. A diverged run (loss ``inf`` or NaN) needs ``L0``: it
        counts as ``L0`` in the observed sensitivity (the paper's rule) and
        is left out of the parabola fit; the table's ``n_diverged`` says how
        many.
    lr, size, loss : str
        Column names.
    bootstrap : int
        Bootstrap resamples per size (resampling runs).
    level : float
        Interval level.
    seed : int
        Seed of the resampling.
    lr_range : (float, float), optional
        LR range of the sensitivity measure (default: each size's observed
        range); the edges are inclusive to a relative ``1e-9``.
    L0 : float, optional
        Loss cap of the sensitivity measure (Wortsman et al. use the loss at
        initialisation, e.g. ``log(vocab_size)``); default no cap.

    Returns
    -------
    LRSensitivity
    """
    import pandas as pd

    from scaling.fitting import dataset_from_points, fit
    from scaling.laws import get_law

    for col in (lr, size, loss):
        if col not in points_df.columns:
            have = ", ".join(map(str, points_df.columns))
            raise DataError(f"lr_sensitivity needs column {col!r}; the table has: {have}")
    law = get_law("lr-sensitivity", x=lr)
    cap = np.inf if L0 is None else float(L0)
    rows, fits, samples = [], {}, {}
    for n_value, sub in points_df.groupby(size, sort=True):
        sub = sub[[lr, loss]].astype(float).rename(columns={loss: "loss"})
        diverged = ~np.isfinite(sub["loss"].to_numpy())
        if diverged.any() and L0 is None:
            raise DataError(f"size {size}={n_value:g} has {int(diverged.sum())} run(s) with a non-finite loss "
                            "(diverged); pass L0 (the loss at initialisation, e.g. log(vocab size)) to count them "
                            "as L0, as Wortsman et al. do, or remove them")
        finite = sub[~diverged]
        if len(finite) < 4:
            raise DataError(f"size {size}={n_value:g} has {len(finite)} runs with a finite loss; the LR fit needs "
                            "at least 4 LRs per size")
        res = fit(law, dataset_from_points(law, finite), bootstrap=bootstrap, level=level, seed=seed)
        fits[float(n_value)] = res
        lrs, losses = sub[lr].to_numpy(), sub["loss"].to_numpy()
        rng_ = (lrs.min(), lrs.max()) if lr_range is None else lr_range
        grid = np.linspace(np.log10(rng_[0]), np.log10(rng_[1]), 64)
        s_fit = float(_sensitivity_fit(res.params, grid, cap)[0])
        lo = hi = float("nan")
        log_eta_samples = None
        if res.samples is not None:
            good = np.all(np.isfinite(res.samples), axis=1)
            s_samples = _sensitivity_fit(res.samples[good], grid, cap)
            lo, hi = (float(v) for v in quantiles(s_samples, level))
            log_eta_samples = res.samples[:, 2]
        samples[float(n_value)] = log_eta_samples
        eta_lo, eta_hi = (10.0 ** v for v in res.intervals["log10_eta_star"])
        rows.append({"N": float(n_value), "n_runs": len(sub), "n_diverged": int(diverged.sum()), "eta_star": 10.0 ** res.params[2],
                     "eta_star_lo": eta_lo, "eta_star_hi": eta_hi, "L_star": res.params[0], "k": res.params[1],
                     "sensitivity": _sensitivity_observed(lrs, losses, cap, lr_range),
                     "sensitivity_fit": s_fit, "sensitivity_fit_lo": lo, "sensitivity_fit_hi": hi})
    table = pd.DataFrame(rows)
    sizes = table["N"].to_numpy()
    n0 = float(np.exp(np.mean(np.log(sizes))))
    x = np.log10(sizes / n0)
    kappa, eta0, interval = float("nan"), float(10.0 ** np.mean(np.log10(table["eta_star"]))), (float("nan"),) * 2
    if sizes.size >= 2:
        slope, icpt = np.polyfit(x, np.log10(table["eta_star"].to_numpy()), 1)
        kappa, eta0 = float(-slope), float(10.0 ** icpt)
        if all(samples[s] is not None for s in sizes):
            y = np.stack([samples[s] for s in sizes], axis=1)  # (B, sizes): replicate b of every size
            ok = np.all(np.isfinite(y), axis=1)
            xc = x - x.mean()
            slopes = (y[ok] - y[ok].mean(axis=1, keepdims=True)) @ xc / (xc @ xc)
            interval = tuple(float(v) for v in quantiles(-slopes, level))
    return LRSensitivity(per_size=table, kappa=kappa, kappa_interval=interval, eta0=eta0, N0=n0, level=level,
                         fits=fits)


__all__ = ["LRSensitivity", "lr_sensitivity"]
