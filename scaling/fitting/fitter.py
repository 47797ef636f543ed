"""``fit``: many starts at once, keep the best, bootstrap it.

See :mod:`scaling.fitting.objective` for the objective (summed Huber on log
loss) and :mod:`scaling.fitting.optimize` for the batched damped Newton solver.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from typing import Any, Callable

import numpy as np

from scaling._x64 import in_float64
from scaling.errors import FitError
from scaling.fitting import bootstrap as _boot
from scaling.fitting.dataset import Dataset
from scaling.fitting.objective import DEFAULT_DELTA, expand_weights, pack
from scaling.fitting.optimize import MAXITER, STATUS_TEXT, compiled, solve_batch
from scaling.fitting.result import FitResult

#: Relative tolerance for "this start reached the best objective".
AT_BEST_RTOL = 1e-9

#: Huber threshold of the first stage of ``strategy="staged"`` (residuals of
#: log loss are far below 1, so this is least squares).
LSQ_DELTA = 1e3


def _file_sha256(path: str) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None


def _as_dataset(law, data) -> Dataset:
    if isinstance(data, Dataset):
        return data
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        from scaling.fitting.dataset import dataset_from_curves, dataset_from_points

        return dataset_from_points(law, data) if law.kind == "final" else dataset_from_curves(law, data)
    raise FitError(f"fit() takes a Dataset or a pandas DataFrame, not {type(data).__name__}")


class _Progress:
    """A one-line progress counter on stderr, silent when stderr is not a terminal."""

    def __init__(self, label: str, total: int, enabled: bool | None):
        self.label, self.total = label, total
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)

    def __call__(self, done: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{self.label}: {done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _multistart(law, packed, ones, starts, delta, strategy):
    """Local solves from every start; returns (theta, f, n_iter, status) per start and iterations."""
    if strategy == "direct":
        res = solve_batch(law, packed, starts, weights=ones, delta=delta)
        return res.theta, res.f, res.status, int(res.n_iter.sum())
    # staged: least squares from every start (smooth: Newton converges in a
    # few steps), then the Huber objective from each distinct least-squares
    # solution. Starts whose least-squares solutions agree to 1e-7 share
    # one refinement (they are the same point up to the solver's tolerance).
    lsq = solve_batch(law, packed, starts, weights=ones, delta=LSQ_DELTA, maxiter=100, ftol=1e-12, gauss_newton=True)
    ok = np.isfinite(lsq.f)
    key = np.round(lsq.theta / 1e-7)
    key[~ok] = -1e12 * (np.flatnonzero(~ok)[:, None] + 1.0)  # failed starts stay apart
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    reps = lsq.theta[first]
    res = solve_batch(law, packed, reps, weights=ones, delta=delta)
    theta = res.theta[inverse]
    f = np.where(ok, res.f[inverse], np.inf)
    status = res.status[inverse]
    return theta, f, status, int(lsq.n_iter.sum() + res.n_iter.sum())


def _laplace_covar(ns, theta, packed, weights, index, delta):
    """Sandwich covariance ``H^-1 M H^-1`` of the Huber M-estimator.

    ``H`` is the exact Hessian of the summed objective and
    ``M = n/(n-P) * sum_i psi(r_i)^2 grad r_i grad r_i^T`` the spread of the
    per-point gradients (``psi`` = Huber derivative). For independent points
    this is the classical robust covariance (Huber 1967); for points of a
    loss curve it is far too narrow: use the block bootstrap there.
    """
    import jax
    import jax.numpy as jnp

    _, _, H = ns.fgh_jit(jnp.asarray(theta), packed, jnp.asarray(weights), jnp.float64(delta))
    r = np.asarray(ns.residuals_jit(jnp.asarray(theta), packed))[index]
    J = np.asarray(jax.jit(jax.jacfwd(ns.residuals))(jnp.asarray(theta), packed))[index]
    psi = np.clip(r, -delta, delta)
    n, p = J.shape
    G = psi[:, None] * J
    M = G.T @ G * (n / max(n - p, 1))
    Hinv = np.linalg.pinv(np.asarray(H))
    return Hinv @ M @ Hinv


def _derived_fn(law) -> Callable | None:
    if law.derived is None:
        return None
    import jax

    return jax.jit(jax.vmap(law.derived))


@in_float64
def fit(law, data, *, starts=None, delta: float = DEFAULT_DELTA, bootstrap: int = 0,
        bootstrap_by: str = "auto", level: float = 0.9, seed: int | None = 0,
        progress: bool | Callable[[int, int], None] | None = None, strategy: str = "staged",
        block_size: int | None = None) -> FitResult:
    """Fit a law by multistart minimisation of the summed Huber objective; bootstrap it.

    .. math::

        \\hat\\theta = \\arg\\min_\\theta \\sum_i h_\\delta(\\log \\hat L_i(\\theta) - \\log L_i)

    Parameters
    ----------
    law : str or Law
        Registry name or law object.
    data : Dataset or pandas.DataFrame
        From :func:`~scaling.fitting.dataset.dataset_from_points` or
        :func:`~scaling.fitting.dataset.dataset_from_curves`; a DataFrame is
        converted with the builder matching ``law.kind``.
    starts : array (K, P), optional
        Start points in fit space; default the law's start grid
        (``law.starts()``, e.g. Hoffmann's 4,500 for ``chinchilla``), or for
        lr-annealing and multi-power starts derived from the data
        (:func:`scaling.fitting.starts.default_starts`).
    delta : float
        Huber threshold on log loss (1e-3 as in Hoffmann et al. 2022).
    bootstrap : int
        Number of bootstrap refits (0: no bootstrap; Laplace errors only).
    bootstrap_by : {"auto", "points", "groups", "blocks"} or column name
        Resampling scheme (see :mod:`scaling.fitting.bootstrap`); ``"auto"`` is
        ``"points"`` for points tables and ``"blocks"`` for curves.
    level : float
        Confidence level of the reported intervals.
    seed : int or None
        Seed of the resampling (reproducible for a given seed).
    progress : bool or callable, optional
        ``True``/``False`` force the stderr progress line on/off (default:
        only on a terminal); a callable gets ``(done, total)``.
    strategy : {"staged", "direct"}
        ``"direct"`` runs the Huber objective from every start (Hoffmann's
        protocol). ``"staged"`` (default, faster) first takes every start to
        a least-squares optimum, then refines each distinct one on the Huber
        objective; on the Epoch data both reach the same optimum.
    block_size : int, optional
        Block length of the block bootstrap.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> from scaling.fitting import fit, dataset_from_points  # doctest: +SKIP
    >>> result = fit("chinchilla", dataset_from_points("chinchilla", df), bootstrap=1000)  # doctest: +SKIP
    >>> print(result.report())  # doctest: +SKIP
    """
    import jax.numpy as jnp

    from scaling import __version__
    from scaling.laws import get_law

    t0 = time.perf_counter()
    law = get_law(law)
    dataset = _as_dataset(law, data)
    if dataset.n_points <= law.n_params:
        raise FitError(f"law {law.name!r} has {law.n_params} parameters but the data have only "
                       f"{dataset.n_points} points; add data or pick a smaller law")
    if not 0.0 < level < 1.0:
        raise FitError(f"level must be between 0 and 1, not {level!r}")
    if strategy not in ("staged", "direct"):
        raise FitError(f"strategy must be 'staged' or 'direct', not {strategy!r}")
    packed, index, n_padded = pack(dataset, law.kind)
    ns = compiled(law.fn)
    n, p = dataset.n_points, law.n_params
    ones = expand_weights(np.ones(n), index, n_padded)

    if starts is None:  # data-derived for the curve laws (unit-free fits), else the law's grid
        from scaling.fitting.starts import default_starts

        starts = default_starts(law, dataset)
    starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    if starts.shape[1] != p:
        raise FitError(f"starts must have {p} columns ({', '.join(law.param_names)}), not {starts.shape[1]}")
    theta_k, f_k, status_k, nfev = _multistart(law, packed, ones, starts, delta, strategy)
    if not np.any(np.isfinite(f_k)):
        raise FitError(f"law {law.name!r}: the objective is not finite at any start; check the data "
                       "(positive inputs and losses) and the start grid")
    best = int(np.nanargmin(f_k))
    theta = theta_k[best]
    f_best = float(f_k[best])
    n_at_best = int(np.sum(f_k <= f_best + AT_BEST_RTOL * abs(f_best)))
    success = bool(status_k[best] != MAXITER)
    message = STATUS_TEXT[int(status_k[best])]

    r = np.asarray(ns.residuals_jit(jnp.asarray(theta), packed))[index]
    observed = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in dataset])
    predicted = observed * np.exp(r)
    rss = float(np.sum(r * r))
    aic = n * np.log(rss / n) + 2 * p if rss > 0 else -np.inf
    bic = n * np.log(rss / n) + p * np.log(n) if rss > 0 else -np.inf
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    r2 = 1.0 - float(np.sum((observed - predicted) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    rmse = float(np.sqrt(np.mean((observed - predicted) ** 2)))

    derived_fn = _derived_fn(law)
    derived = {}
    if law.derived is not None:
        # evaluated eagerly once: keeps the law's own key order (jit sorts keys)
        derived = {k: float(v) for k, v in law.derived(jnp.asarray(theta)).items()}

    samples = None
    derived_samples: dict[str, np.ndarray] = {}
    intervals: dict[str, tuple] = {}
    derived_intervals: dict[str, tuple] = {}
    boot_info: dict[str, Any] = {}
    if bootstrap and bootstrap > 0:
        scheme = _boot.resolve_scheme(dataset, bootstrap_by)
        rng = np.random.default_rng(seed)
        weights = _boot.resampling_weights(dataset, int(bootstrap), scheme, rng, block_size=block_size,
                                           residuals=r)
        weights = expand_weights(weights, index, n_padded)
        bar = _Progress(f"bootstrap ({scheme})", int(bootstrap), progress if isinstance(progress, bool) else None)
        callback = progress if callable(progress) else None

        def report_progress(done, total):
            bar(done)
            if callback is not None:
                callback(done, total)

        res = solve_batch(law, packed, np.tile(theta, (int(bootstrap), 1)), weights=weights,
                          delta=delta, progress=report_progress)
        bar.close()
        nfev += int(res.n_iter.sum())
        # a refit stopped by the iteration cap is kept (it is close to its
        # optimum and dropping it would bias the intervals); only refits
        # with a non-finite objective are left out
        failed = ~np.isfinite(res.f) | ~np.all(np.isfinite(res.theta), axis=1)
        capped = int(np.sum(res.status == MAXITER))
        samples = np.where(failed[:, None], np.nan, res.theta)
        boot_info = {"n": int(bootstrap), "by": scheme, "failed": int(failed.sum()), "at_iteration_cap": capped,
                     "block_size": block_size}
        lo, hi = _boot.percentile_interval(samples, level)
        intervals = {name: (float(lo[i]), float(hi[i])) for i, name in enumerate(law.param_names)}
        stderr = np.nanstd(samples, axis=0, ddof=1)
        good = samples[~failed]
        covar = np.cov(good, rowvar=False) if good.shape[0] > 1 else None
        if derived_fn is not None:
            dvals = derived_fn(jnp.asarray(np.where(failed[:, None], theta, samples)))
            for k in derived:
                v = np.where(failed, np.nan, np.asarray(dvals[k], dtype=np.float64))
                derived_samples[k] = v
                dlo, dhi = _boot.percentile_interval(v, level)
                derived_intervals[k] = (float(dlo), float(dhi))
        if failed.any():
            message += f"; {int(failed.sum())} of {int(bootstrap)} bootstrap refits failed (left out)"
    else:
        from scipy.stats import norm

        covar = _laplace_covar(ns, theta, packed, ones, index, delta)
        stderr = np.sqrt(np.clip(np.diag(covar), 0.0, None))
        stderr = np.where(np.isfinite(stderr), stderr, np.nan)
        z = float(norm.ppf(0.5 + level / 2.0))
        intervals = {name: (float(theta[i] - z * stderr[i]), float(theta[i] + z * stderr[i]))
                     for i, name in enumerate(law.param_names)}
        if law.derived is not None:
            import jax

            keys = list(derived)
            jac = jax.jacfwd(lambda t: jnp.stack([jnp.asarray(law.derived(t)[k]) for k in keys]))
            Jd = np.asarray(jax.jit(jac)(jnp.asarray(theta)))
            sd = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Jd, covar, Jd), 0.0, None))
            for i, (k, v) in enumerate(derived.items()):  # same order as keys
                derived_intervals[k] = (v - z * sd[i], v + z * sd[i])

    files = [str(f) for f in dataset.info.get("files", [])]
    data_info = {
        "files": files,
        "file_sha256": {f: _file_sha256(f) for f in files if os.path.exists(f)},
        "sha256": dataset.content_hash(),
        "n_points": n,
        "runs": list(dataset.info.get("runs", [g.name for g in dataset])),
        "kind": dataset.info.get("kind"),
        "delta": float(delta),
        "strategy": strategy,
        "bootstrap": boot_info,
    }
    for key in ("split", "warmup_steps", "D_from_C", "target", "selection", "aggregate"):
        if key in dataset.info:
            data_info[key] = dataset.info[key]

    result = FitResult(
        law=law.name, law_options=dict(law.options), param_names=law.param_names, params=theta,
        stderr=stderr, covar=covar, intervals=intervals, level=level, samples=samples, derived=derived,
        derived_samples=derived_samples, derived_intervals=derived_intervals, objective=f_best, n_points=n,
        residuals=r, aic=aic, bic=bic, r2=r2, rmse=rmse, success=success, message=message,
        n_starts=len(starts), n_starts_at_best=n_at_best, nfev=nfev, seconds=time.perf_counter() - t0,
        data_info=data_info, version=__version__, seed=seed,
    )
    from scaling.fitting.diagnostics import finish_fit  # fitted range, diagnostics, band calibration

    return finish_fit(result, law, dataset, packed=packed, index=index, n_padded=n_padded)


__all__ = ["fit"]
