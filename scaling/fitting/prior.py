"""A law's weakly informative prior in a curve fit: its weight, its place in the objective, its report.

Some designs cannot determine every parameter of a curve law. Fitted on a
constant and a cosine run only (the design of set A in issue 11), the
multi-power law's drop shape ``(C, beta, gamma)`` is free along a valley
that the two runs do not see the end of: on Luo et al.'s 25M curves the
unpenalised optimum sits at ``beta = 3.06, gamma = 0.17`` and predicts the
7 other schedules with a mean error of 0.41 % (0.13 % with the prior below;
``benchmarks/curves_protocol.py --sets luo2-25M``). A law may therefore
carry a :class:`scaling.laws.base.Prior`, ``q = M theta + c ~ N(mu,
diag(s^2))``, and the fit minimises

.. math::

    f(\\theta) = \\sum_i w_i\\, h_\\delta(r_i) + \\frac{\\lambda}{2}
    \\sum_j \\Big(\\frac{q_j(\\theta) - \\mu_j}{s_j}\\Big)^2,

the MAP estimate under a Gaussian likelihood of log residuals with
variance ``sigma^2`` whose points are correlated along each run: the
negative log posterior times ``sigma^2 tau`` is the data term (Huber is
``r^2 / 2`` for small residuals) plus the penalty with

.. math::

    \\lambda = \\sigma^2\\, \\bar\\tau,

with ``sigma^2`` the mean squared log residual and ``tau`` the runs' mean
integrated autocorrelation time (:func:`integrated_time`):
``n`` smooth, correlated residuals carry the information of ``n / tau``
independent ones. Both are taken at the best data-derived start, before the
fit, so that ``lambda`` is a constant of the objective (the fit's own
residuals are not known yet). The predictions depend on ``lambda`` only
mildly: on Luo's 25M curves, ``lambda`` from 10x to 100x the squared RMS
residual gives a mean PredE of 0.125-0.128 % on their split and 0.128-0.143 %
on the two-run design (0.136 % and 0.41 % without the prior; fitted on every
second point, ``--mpl-stride 2``; on every point, as ``scaling fit`` fits,
the default weight gives 0.121 % and 0.127 %).

The prior's arrays travel with the packed data as one extra block
``(arrays, None)`` (:func:`attach`), so every refit that reuses the packed
data (bootstrap, band calibration, profiles) minimises the same objective,
and ``lambda`` and ``p`` are data, not constants of the compiled programs.
The fit's Laplace covariance is then the posterior's
(:func:`scaling.fitting.intervals.posterior_covariance`). Where the posterior
spread of a quantity stays close to its prior spread, the data did not
determine it: :func:`summary` records it and the ``set_by_prior`` diagnostic
(:mod:`scaling.fitting.diagnostics`) says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scaling._x64 import in_float64

#: Ways a fit can treat a law's prior.
PRIOR_MODES = ("auto", "none")

#: A quantity is "set by the prior" when its posterior sd is above this fraction of its prior sd.
PRIOR_DOMINATED = 0.5


def is_prior_block(block) -> bool:
    """True for the block :func:`attach` appends (its loss slot is None)."""
    return block[1] is None


def data_blocks(packed) -> tuple:
    """The packed data without the prior block."""
    return tuple(b for b in packed if not is_prior_block(b))


def prior_block(packed):
    """The prior block of ``packed``, or None."""
    return next((b[0] for b in packed if is_prior_block(b)), None)


def penalty(theta, packed):
    """``lambda / 2 * sum(((M theta + c - mu) / s)^2)``; 0 without a prior block (traceable).

    The value of :func:`penalty_fgh` (one formula; under ``jit`` the unused
    gradient and Hessian are not computed).
    """
    if prior_block(packed) is None:
        return 0.0
    return penalty_fgh(theta, packed)[0]


def penalty_fgh(theta, packed):
    """Value, gradient and Hessian of the prior's penalty :func:`penalty` (quadratic: the Hessian is exact)."""
    import jax.numpy as jnp

    arrays = prior_block(packed)
    if arrays is None:
        p = theta.shape[-1]
        return 0.0, jnp.zeros((p,), theta.dtype), jnp.zeros((p, p), theta.dtype)
    A = arrays["M"] * arrays["inv_sd"][:, None]
    z = A @ theta + arrays["offset"] * arrays["inv_sd"]
    w = arrays["weight"]
    return 0.5 * w * jnp.sum(z * z), w * (A.T @ z), w * (A.T @ A)


def peak_lr(dataset) -> float:
    """The largest LR of the fitted runs (the prior's unit of LR)."""
    return max(float(np.max(np.asarray(g.inputs["lr"], dtype=np.float64))) for g in dataset)


def integrated_time(r) -> float:
    """Integrated autocorrelation time of one curve's residuals, ``tau = 1 + 2 sum_{k>=1} rho_k``.

    Here for the prior's weight; the block bootstrap sizes its blocks from it
    too (:func:`scaling.fitting.bootstrap.block_length`).

    The sum stops at the first non-positive autocorrelation ``rho_k`` (the
    initial-positive-sequence estimate; Geyer 1992); 1 for fewer than 8
    points or constant residuals. ``n`` residuals carry about the
    information of ``n / tau`` independent ones.
    """
    r = np.asarray(r, dtype=np.float64)
    n = r.size
    if n < 8:
        return 1.0
    r = r - r.mean()
    var = float(np.dot(r, r))
    if var <= 0:
        return 1.0
    tau = 1.0
    for k in range(1, n // 2):
        rho = float(np.dot(r[:-k], r[k:])) / var
        if rho <= 0:
            break
        tau += 2.0 * rho
    return tau


def prior_weight(residuals_by_run) -> float:
    """``lambda = mean(r^2) * mean(tau)`` over the runs' log residuals (module docstring)."""
    runs = [np.asarray(r, dtype=np.float64) for r in residuals_by_run if np.size(r)]
    r = np.concatenate(runs)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return 0.0
    return float(np.mean(r * r) * np.mean([integrated_time(x[np.isfinite(x)]) for x in runs]))


def weight_at_starts(ns, packed, index, dataset, starts, delta: float) -> float:
    """``lambda`` (:func:`prior_weight`) from the log residuals at the start of smallest objective.

    ``ns`` is the law's :func:`scaling.fitting.optimize.compiled` namespace,
    ``packed`` already carries a prior block (of any weight: the residuals
    ignore it, and the compiled residual program is the one the fit reuses).
    """
    from scipy.special import huber  # the objective's h_delta, in numpy (objective.huber is traced JAX)

    best, best_f = None, np.inf
    for theta in np.atleast_2d(np.asarray(starts, dtype=np.float64)):
        r = np.asarray(ns.residuals_jit(theta, packed))[index]
        f = float(np.sum(huber(delta, r))) if np.all(np.isfinite(r)) else np.inf
        if f < best_f:
            best, best_f = r, f
    if best is None:
        return 0.0
    return residual_variance(dataset, best)


def arrays(law, dataset, weight: float) -> dict[str, np.ndarray]:
    """The prior block's arrays for ``law`` on ``dataset`` with weight ``lambda``."""
    pr = law.prior
    M, c = pr.rows(float(np.log(peak_lr(dataset))))
    return {"M": np.asarray(M, dtype=np.float64),
            "offset": np.asarray(c, dtype=np.float64) - np.asarray(pr.mean, dtype=np.float64),
            "inv_sd": 1.0 / np.asarray(pr.sd, dtype=np.float64), "weight": np.float64(weight)}


@in_float64
def attach(packed, law, dataset, weight: float):
    """``packed`` with the prior block appended (replacing one already there)."""
    import jax

    block = ({k: jax.device_put(v) for k, v in arrays(law, dataset, weight).items()}, None)
    return data_blocks(packed) + (block,)


def as_fitted(packed, result, law, dataset):
    """``packed`` with the fit's prior block (same weight) when ``result`` used one, else unchanged.

    For refits of a finished fit on data packed anew (band calibration, leave-one-run-out), so they
    minimise the fit's own objective.
    """
    weight = ((result.data_info or {}).get("prior") or {}).get("weight")
    return packed if weight is None else attach(packed, law, dataset, weight)


def applies(law, dataset, mode: str) -> bool:
    """Whether a fit of ``law`` on ``dataset`` uses the law's prior (curve data, mode "auto")."""
    return mode == "auto" and law.prior is not None and dataset.info.get("kind") == "curves"


def precision(packed) -> np.ndarray | None:
    """The prior precision ``M^T diag(1/s^2) M`` (P, P), or None without a prior block."""
    arrays_ = prior_block(packed)
    if arrays_ is None:
        return None
    A = np.asarray(arrays_["M"]) * np.asarray(arrays_["inv_sd"])[:, None]
    return A.T @ A


def residual_variance(dataset, r) -> float:
    """:func:`prior_weight` of the fit's own log residuals ``r`` (n,), in dataset order."""
    bounds = np.cumsum([0] + [len(g.loss) for g in dataset])
    return prior_weight([np.asarray(r)[a:b] for a, b in zip(bounds[:-1], bounds[1:])])


def summary(law, packed, theta, covar) -> dict[str, Any] | None:
    """The prior as the fit JSON records it, with each quantity's value and posterior/prior sd ratio.

    ``shrink`` = posterior sd / prior sd of each quantity (from ``covar``,
    the fit's :func:`scaling.fitting.intervals.posterior_covariance`): near 1
    the data added nothing, below ``PRIOR_DOMINATED`` (0.5) they narrowed it
    at least twofold. ``set_by_prior`` lists the quantities above it and
    ``set_by_prior_params`` the fit-space parameters they involve.
    """
    arrays_ = prior_block(packed)
    if arrays_ is None:
        return None
    pr = law.prior
    M = np.asarray(arrays_["M"])
    q = M @ np.asarray(theta, dtype=np.float64) + np.asarray(arrays_["offset"]) + np.asarray(pr.mean)
    sd_post = (np.sqrt(np.clip(np.einsum("ij,jk,ik->i", M, covar, M), 0.0, None)) if covar is not None
               else np.full(len(pr.names), np.nan))
    shrink = sd_post / np.asarray(pr.sd)
    set_by = [j for j, v in enumerate(shrink) if np.isfinite(v) and v > PRIOR_DOMINATED]
    params = [n for i, n in enumerate(law.param_names) if any(M[j, i] != 0 for j in set_by)]
    return {"quantities": list(pr.names), "mean": list(pr.mean), "sd": list(pr.sd), "source": pr.source,
            "weight": float(arrays_["weight"]), "value": [float(v) for v in q],
            "posterior_sd": [float(v) for v in sd_post], "shrink": [float(v) for v in shrink],
            "set_by_prior": [pr.names[j] for j in set_by], "set_by_prior_params": params}


__all__ = ["PRIOR_DOMINATED", "PRIOR_MODES", "applies", "arrays", "as_fitted", "attach", "data_blocks",
           "integrated_time", "is_prior_block", "peak_lr", "penalty", "penalty_fgh", "precision", "prior_block",
           "prior_weight", "residual_variance", "summary", "weight_at_starts"]
