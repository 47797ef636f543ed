"""``fit``: many starts at once, keep the best, bootstrap it.

See :mod:`scaling.fitting.objective` for the objectives (summed Huber on log
loss by default), :mod:`scaling.fitting.varpro` for the start design of laws
with linear terms, :mod:`scaling.fitting.solver` for the batched damped
Newton solver and :mod:`scaling.fitting.intervals` for Laplace and profile
intervals.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time
from typing import Any, Callable

import numpy as np

from scaling._x64 import in_float64
from scaling.errors import FitError
from scaling.fitting import bootstrap as _boot
from scaling.fitting import prior as _prior
from scaling.fitting.dataset import Dataset
from scaling.fitting.intervals import derived_intervals as _derived_intervals
from scaling.fitting.intervals import (laplace_intervals, posterior_covariance, profile_intervals,
                                      residuals_and_jacobian, sandwich_covariance)
from scaling.fitting.objective import SQUARED_DELTA, expand_weights, pack, resolve_objective
from scaling.fitting.optimize import MAXITER, STATUS_TEXT, compiled
from scaling.fitting.result import FitResult
from scaling.fitting.solver import DampedNewton
from scaling.fitting.varpro import has_linear_terms, varpro_starts

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


#: Newton starts taken from the VarPro scan of ``strategy="varpro"``.
VARPRO_STARTS = 6

STRATEGIES = ("auto", "varpro", "staged", "direct")

#: Iteration cap of the least-squares stage of ``"staged"`` (a start
#: improver: its solutions only start the Huber solve).
LSQ_MAXITER = 100
#: The same for the curve laws listed here. On two 25k-step multi-power runs
#: (benchmarks/bench_multipower.py) the stage spent all 100 iterations
#: creeping along the weakly identified (C, beta, gamma) valley (objective
#: 2.13502e-3 after 10 iterations, 2.13215e-3 after 100); the Huber solve
#: from the 10-iteration points then needs 63-68 iterations instead of
#: 183-200 and ends at the same optimum (objective equal to 12 digits), so
#: the fit takes ~45 % less CPU time. Luo et al.'s 25M protocol
#: (benchmarks/curves_protocol.py): same parameters and PredE.
LSQ_MAXITER_CURVE = {"multi-power": 10}
INTERVALS = ("auto", "bootstrap", "laplace", "profile")


def _multistart(law, dataset, packed, ones, starts, objective, strategy):
    """Local solves from every start; returns (theta, f, status, n_iter summed, starts used)."""
    solver = DampedNewton()
    delta, space = objective.threshold, objective.space
    if strategy == "varpro":
        # coarse exponent grid with the coefficients projected out, then the
        # true objective by Newton from the best few; starts that cannot
        # reach the best are dropped between rounds
        starts, _ = varpro_starts(law, dataset, space=space, delta=delta, n_starts=VARPRO_STARTS)
        res = solver.solve(law, packed, starts, weights=ones, delta=delta, space=space, prune=True)
        return res.theta, res.f, res.status, int(res.n_iter.sum()), starts
    if strategy == "direct":
        res = solver.solve(law, packed, starts, weights=ones, delta=delta, space=space)
        return res.theta, res.f, res.status, int(res.n_iter.sum()), starts
    # staged: least squares from every start (smooth: Newton converges in a
    # few steps), then the true objective from each distinct least-squares
    # solution. Starts whose least-squares solutions agree to 1e-7 share
    # one refinement (they are the same point up to the solver's tolerance).
    first_delta = LSQ_DELTA if space == "log" else SQUARED_DELTA
    lsq_maxiter = LSQ_MAXITER_CURVE.get(law.name, LSQ_MAXITER)
    lsq = DampedNewton(maxiter=lsq_maxiter, ftol=1e-12, gauss_newton=True).solve(
        law, packed, starts, weights=ones, delta=first_delta, space=space)
    ok = np.isfinite(lsq.f)
    key = np.round(lsq.theta / 1e-7)
    key[~ok] = -1e12 * (np.flatnonzero(~ok)[:, None] + 1.0)  # failed starts stay apart
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    res = solver.solve(law, packed, lsq.theta[first], weights=ones, delta=delta, space=space)
    theta = res.theta[inverse]
    f = np.where(ok, res.f[inverse], np.inf)
    status = res.status[inverse]
    return theta, f, status, int(lsq.n_iter.sum() + res.n_iter.sum()), starts


def _check_options(law, dataset, level, strategy, intervals, bootstrap):
    if dataset.n_points <= law.n_params:
        raise FitError(f"law {law.name!r} has {law.n_params} parameters but the data have only "
                       f"{dataset.n_points} points; add data or pick a smaller law")
    if not 0.0 < level < 1.0:
        raise FitError(f"level must be between 0 and 1, not {level!r}")
    if law.kind == "curve" and "lr" in law.inputs:
        for g in dataset:
            lr = np.asarray(g.inputs.get("lr", []), dtype=np.float64)
            if not (lr.size and np.all(np.isfinite(lr)) and np.max(lr) > 0):
                raise FitError(f"run {g.name!r}: its learning rate is never positive (or not finite); "
                               f"{law.name!r} needs the run's LR schedule: check the lr column")
    if strategy not in STRATEGIES:
        raise FitError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if strategy == "varpro" and not has_linear_terms(law):
        raise FitError(f"strategy='varpro' needs a law that declares linear terms; {law.name!r} does not "
                       "(use strategy='staged')")
    if intervals not in INTERVALS:
        raise FitError(f"intervals must be one of {', '.join(INTERVALS)}, not {intervals!r}")
    if intervals == "bootstrap" and not bootstrap:
        raise FitError("intervals='bootstrap' needs bootstrap > 0 resamples (e.g. bootstrap=1000)")


@functools.lru_cache(maxsize=64)
def _derived_fns(derived_fn: Callable):
    """Jitted ``derived`` over samples and the Jacobian of its values (cached: compiled once per law)."""
    import jax
    import jax.numpy as jnp

    def stacked(t, keys):
        d = derived_fn(t)
        return jnp.stack([jnp.asarray(d[k]) for k in keys])

    return jax.jit(jax.vmap(derived_fn)), jax.jit(jax.jacfwd(stacked), static_argnums=1)


def _fitted_ranges(dataset, kind: str) -> dict[str, Any]:
    """What a final-loss fit saw, for extrapolation checks: ``ranges`` (min, max) of N, D and C.

    (Curve fits record theirs as ``data_info["fitted_range"]``, see
    :func:`scaling.fitting.diagnostics.fitted_range`.)
    """
    if kind == "curve":
        return {}
    from scaling.inputs import complete_ndc

    given = {k: np.concatenate([np.asarray(g.inputs[k], np.float64).reshape(-1) for g in dataset])
             for k in ("N", "D", "C") if all(k in g.inputs for g in dataset)}
    if "N" in given and "M" in dataset.columns and "D" not in given:
        given["D"] = given["N"] * np.asarray(dataset.columns["M"], np.float64)  # M = D/N (Gadre et al.)
    if len(given) < 2:  # a law of one input (power law in N, width, ...): only its own range is known
        cols = given
    else:
        cols = {k: v for k, v in complete_ndc(**given).items() if k in ("N", "D", "C")}
    ranges = {}
    for k, v in cols.items():
        v = v[np.isfinite(v)]
        if v.size:
            ranges[k] = [float(v.min()), float(v.max())]
    return {"ranges": ranges} if ranges else {}


def _derived_fn(law) -> Callable | None:
    return None if law.derived is None else _derived_fns(law.derived)[0]


def _bootstrap(law, dataset, packed, index, n_padded, theta, objective, n_boot, by, seed, block_size,
               progress, *, residuals=None):
    """Refits from the best fit on resampled weights; returns (samples, info, n_iter, failed mask)."""
    scheme = _boot.resolve_scheme(dataset, by)
    rng = np.random.default_rng(seed)
    # residuals of the fit size the blocks of a block bootstrap (autocorrelation)
    raw = _boot.resampling_weights(dataset, n_boot, scheme, rng, block_size=block_size, residuals=residuals)
    weights = expand_weights(raw, index, n_padded)
    bar = _Progress(f"bootstrap ({scheme})", n_boot, progress if isinstance(progress, bool) else None)
    callback = progress if callable(progress) else None

    def report_progress(done, total):
        bar(done)
        if callback is not None:
            callback(done, total)

    # warm starts: every refit begins at the best fit, with the compiled
    # solver of the fit itself (driven lane by lane, see bootstrap.refit)
    res = _boot.refit(law, packed, theta, weights, delta=objective.threshold, space=objective.space,
                      progress=report_progress)
    bar.close()
    # a refit stopped by the iteration cap is kept (it is close to its
    # optimum and dropping it would bias the intervals); left out are
    # refits with a non-finite objective and resamples that cannot see
    # the annealing terms (they would keep the fit's values)
    failed = ~np.isfinite(res.f) | ~np.all(np.isfinite(res.theta), axis=1)
    blind = _boot.blind_resamples(law, dataset, raw)
    samples = np.where((failed | blind)[:, None], np.nan, res.theta)
    info = {"n": n_boot, "by": scheme, "failed": int(failed.sum()), "blind": int(blind.sum()),
            "at_iteration_cap": int(np.sum(res.status == MAXITER)), "block_size": block_size}
    failed = failed | blind
    return samples, info, int(res.n_iter.sum()), failed


def _fit_statistics(dataset, r, objective, n, p):
    """Predicted values and the goodness-of-fit numbers from residuals in the objective's space."""
    observed = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in dataset])
    predicted = observed * np.exp(r) if objective.space == "log" else observed + r
    rss = float(np.sum(r * r))
    aic = n * np.log(rss / n) + 2 * p if rss > 0 else -np.inf
    bic = n * np.log(rss / n) + p * np.log(n) if rss > 0 else -np.inf
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    r2 = 1.0 - float(np.sum((observed - predicted) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    rmse = float(np.sqrt(np.mean((observed - predicted) ** 2)))
    return aic, bic, r2, rmse


@in_float64
def fit(law, data, *, starts=None, objective: str = "huber-log", delta: float | None = None,
        bootstrap: int = 0, bootstrap_by: str = "auto", intervals: str = "auto", level: float = 0.9,
        seed: int | None = 0, progress: bool | Callable[[int, int], None] | None = None,
        strategy: str = "auto", block_size: int | None = None, prior: str = "auto") -> FitResult:
    """Fit a law by multistart minimisation of a summed objective; bootstrap it.

    .. math::

        \\hat\\theta = \\arg\\min_\\theta \\sum_i h_\\delta(\\log \\hat L_i(\\theta) - \\log L_i)

    (default; see :class:`~scaling.fitting.objective.Objective` for the others).

    Parameters
    ----------
    law : str or Law
        Registry name or law object. A law with an option the fitted runs
        decide (:attr:`Law.for_design`, e.g. lr-annealing's ``lam="auto"``)
        is first resolved for ``data``; the result records the resolved law.
    data : Dataset or pandas.DataFrame
        From :func:`~scaling.fitting.dataset.dataset_from_points` or
        :func:`~scaling.fitting.dataset.dataset_from_curves`; a DataFrame is
        converted with the builder matching ``law.kind``.
    starts : array (K, P), optional
        Start points in fit space; default the law's start grid
        (``law.starts()``, e.g. Hoffmann's 4,500 for ``chinchilla``), for
        lr-annealing and multi-power starts derived from the data
        (:func:`scaling.fitting.starts.default_starts`), or the VarPro scan
        for a law with linear terms.
    objective : {"huber-log", "lsq-raw", "lsq-log"}
        Summed Huber on log loss (Hoffmann et al. 2022; default), least
        squares on the raw loss (Gadre et al. 2024's recipe), or least
        squares on log loss. Saved in ``data_info["objective"]``.
    delta : float, optional
        Huber threshold on log loss; only for ``"huber-log"``. Default: the
        law's ``huber_delta`` where it declares one (``lr-annealing``: 1e-4,
        see :mod:`scaling.laws.lr_annealing`), else 1e-3 as in Hoffmann et
        al. Saved in ``data_info["delta"]``.
    bootstrap : int
        Number of bootstrap refits (0: no bootstrap).
    bootstrap_by : {"auto", "points", "groups", "blocks"} or column name
        Resampling scheme (see :mod:`scaling.fitting.bootstrap`); ``"auto"`` is
        ``"points"`` for points tables and ``"blocks"`` for curves.
    intervals : {"auto", "bootstrap", "laplace", "profile"}
        How ``intervals`` are made: bootstrap percentiles, normal intervals
        from the smoothed sandwich covariance, or profile likelihood (see
        :mod:`scaling.fitting.intervals`); ``"auto"`` is ``"bootstrap"``
        when ``bootstrap > 0`` else ``"laplace"``.
    level : float
        Confidence level of the reported intervals.
    seed : int or None
        Seed of the resampling (reproducible for a given seed).
    progress : bool or callable, optional
        ``True``/``False`` force the stderr progress line on/off (default:
        only on a terminal); a callable gets ``(done, total)``.
    strategy : {"auto", "varpro", "staged", "direct"}
        ``"direct"`` runs the objective from every start (Hoffmann's
        protocol). ``"staged"`` first takes every start to a least-squares
        optimum, then refines each distinct one. ``"varpro"`` (laws that
        declare linear terms, e.g. ``chinchilla``) scans an exponent grid
        with the coefficients solved by non-negative least squares and
        refines the best few (:mod:`scaling.fitting.varpro`). ``"auto"``:
        ``"varpro"`` where possible and no ``starts`` are given, else
        ``"staged"``. On the Epoch data all reach the same optimum.
    block_size : int, optional
        Block length of the block bootstrap.
    prior : {"auto", "none"}
        ``"auto"``: a curve law that carries a weakly informative prior
        (multi-power: its drop shape ``beta, gamma, C``) is fitted with it,
        weighted from the data (:mod:`scaling.fitting.prior`; recorded in
        ``data_info["prior"]``, with the quantities the data left to the
        prior); ``"none"``: the plain objective.

    Returns
    -------
    FitResult
        Fitted with the law :meth:`~scaling.laws.base.Law.resolve` gives for
        the data; an option the runs decided (lr-annealing's ``lam="auto"``)
        is recorded as asked and used in ``data_info["resolved_options"]``
        and said in the ``option_resolved`` note.

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
    asked = get_law(law)
    dataset = _as_dataset(asked, data)
    law = asked.resolve(dataset)  # an option the fitted runs decide (lr-annealing's lam="auto")
    obj = resolve_objective(objective, law.huber_delta if delta is None else delta)
    if strategy == "auto":
        strategy = "varpro" if starts is None and has_linear_terms(law) else "staged"
    if intervals == "auto":
        intervals = "bootstrap" if bootstrap and bootstrap > 0 else "laplace"
    _check_options(law, dataset, level, strategy, intervals, bootstrap)
    if prior not in _prior.PRIOR_MODES:
        raise FitError(f"prior must be one of {', '.join(_prior.PRIOR_MODES)}, not {prior!r}")
    packed, index, n_padded = pack(dataset, law.kind)
    ns = compiled(law.fn, obj.space)
    n, p = dataset.n_points, law.n_params
    ones = expand_weights(np.ones(n), index, n_padded)

    if strategy != "varpro":
        if starts is None:  # data-derived for the curve laws (unit-free fits), else the law's grid
            from scaling.fitting.starts import default_starts

            starts = default_starts(law, dataset)
        starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
        if starts.shape[1] != p:
            raise FitError(f"starts must have {p} columns ({', '.join(law.param_names)}), not {starts.shape[1]}")
    if _prior.applies(law, dataset, prior):
        from scaling.fitting.starts import default_starts

        packed = _prior.attach(packed, law, dataset, 0.0)
        weight = _prior.weight_at_starts(ns, packed, index, dataset,
                                         default_starts(law, dataset) if starts is None else starts, obj.threshold)
        packed = _prior.attach(packed, law, dataset, weight)
    theta_k, f_k, status_k, nfev, starts = _multistart(law, dataset, packed, ones, starts, obj, strategy)
    if not np.any(np.isfinite(f_k)):
        raise FitError(f"law {law.name!r}: the objective is not finite at any start; check the data "
                       "(positive inputs and losses) and the start grid")
    best = int(np.nanargmin(f_k))
    theta = theta_k[best]
    f_best = float(f_k[best])
    n_at_best = int(np.sum(f_k <= f_best + AT_BEST_RTOL * abs(f_best)))
    success = bool(status_k[best] != MAXITER)
    message = STATUS_TEXT[int(status_k[best])]

    r, J = residuals_and_jacobian(ns, theta, packed, index)
    aic, bic, r2, rmse = _fit_statistics(dataset, r, obj, n, p)
    lo_b = np.array([b[0] for b in law.bounds])
    hi_b = np.array([b[1] for b in law.bounds])
    free = (theta > lo_b) & (theta < hi_b)
    precision = _prior.precision(packed)
    if precision is None:
        laplace = sandwich_covariance(r, J, obj, free=free)
    else:
        laplace = posterior_covariance(r, J, obj, precision, _prior.residual_variance(dataset, r), free=free)

    derived_fn = _derived_fn(law)
    derived = {}
    if law.derived is not None:
        # evaluated eagerly once: keeps the law's own key order (jit sorts keys)
        derived = {k: float(v) for k, v in law.derived(jnp.asarray(theta)).items()}

    samples = None
    derived_samples: dict[str, np.ndarray] = {}
    derived_intervals: dict[str, tuple] = {}
    boot_info: dict[str, Any] = {}
    covar = laplace
    stderr = np.sqrt(np.clip(np.diag(covar), 0.0, None))
    if bootstrap and bootstrap > 0:
        samples, boot_info, n_iter, failed = _bootstrap(law, dataset, packed, index, n_padded, theta, obj,
                                                        int(bootstrap), bootstrap_by, seed, block_size, progress,
                                                        residuals=r)
        nfev += n_iter
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
        if boot_info["failed"]:
            message += f"; {boot_info['failed']} of {int(bootstrap)} bootstrap refits failed (left out)"
        if boot_info["blind"]:
            message += (f"; {boot_info['blind']} of {int(bootstrap)} resamples held no point after an LR decrease "
                        "or one model size only (left out: their refits would keep the fit's annealing or size "
                        "terms)")
    stderr = np.where(np.isfinite(stderr), stderr, np.nan)

    z = _normal_quantile(level, n - p)  # of the Laplace and delta-method intervals
    if intervals == "bootstrap":
        lo, hi = _boot.percentile_interval(samples, level)
        param_intervals = {name: (float(lo[i]), float(hi[i])) for i, name in enumerate(law.param_names)}
    elif intervals == "profile":
        param_intervals = profile_intervals(law, packed, ones, theta, f_best, laplace, r, obj, level)
    else:
        param_intervals = laplace_intervals(law.param_names, theta, laplace, z, law.bounds)
    if law.derived is not None and not derived_intervals:
        values, jac = _derived_fns(law.derived)
        derived_intervals = _derived_intervals(derived, theta, param_intervals, laplace, z, values=values,
                                               jacobian=jac)

    files = [str(f) for f in dataset.info.get("files", [])]
    data_info = {
        "files": files,
        "file_sha256": {f: _file_sha256(f) for f in files if os.path.exists(f)},
        "sha256": dataset.content_hash(),
        "n_points": n,
        "runs": list(dataset.info.get("runs", [g.name for g in dataset])),
        "kind": dataset.info.get("kind"),
        "objective": obj.name,
        "delta": None if obj.squared else float(obj.delta),
        "strategy": strategy,
        "intervals": intervals,
        "bootstrap": boot_info,
    }
    prior_info = _prior.summary(law, packed, theta, laplace)
    if prior_info is not None:
        data_info["prior"] = prior_info
    data_info.update(_fitted_ranges(dataset, law.kind))
    resolved = {k: {"asked": v, "used": law.options.get(k)} for k, v in asked.options.items()
                if law.options.get(k) != v}
    if resolved:  # the option_resolved diagnostic says what the runs decided
        data_info["resolved_options"] = {"options": resolved, "rule": asked.design_rule}
    for key in ("split", "splits", "warmup_steps", "D_from_C", "target", "selection", "aggregate"):
        if key in dataset.info:
            data_info[key] = dataset.info[key]

    result = FitResult(
        law=law.name, law_options=dict(law.options), param_names=law.param_names, params=theta,
        stderr=stderr, covar=covar, intervals=param_intervals, level=level, samples=samples, derived=derived,
        derived_samples=derived_samples, derived_intervals=derived_intervals, objective=f_best, n_points=n,
        residuals=r, aic=aic, bic=bic, r2=r2, rmse=rmse, success=success, message=message,
        n_starts=len(starts), n_starts_at_best=n_at_best, nfev=nfev, seconds=time.perf_counter() - t0,
        data_info=data_info, version=__version__, seed=seed,
    )
    from scaling.fitting.diagnostics import finish_fit  # fitted range, diagnostics, band calibration

    return finish_fit(result, law, dataset, packed=packed, index=index, n_padded=n_padded)


def _normal_quantile(level: float, dof: int) -> float:
    """Two-sided quantile for Laplace intervals: Student's t on ``n - P`` degrees of freedom."""
    from scipy.special import stdtrit  # Student's quantile; scipy.stats costs ~0.9 s to import

    return float(stdtrit(max(dof, 1), 0.5 + level / 2.0))


__all__ = ["fit"]
