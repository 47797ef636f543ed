"""Evaluating a fitted law: values over many parameter vectors, bands and intervals.

This is the only place where a law is evaluated with its uncertainty.
``predict``, planning (:mod:`scaling.plan`), ``compare`` and the report call
these functions and nothing else, so one fit shows one band everywhere.

Parameter vectors
    A fit gives a point estimate :math:`\\hat\\theta` (P,) and, with a
    bootstrap, samples :math:`\\theta^{(s)}` (S, P). :func:`parameter_sets`
    returns both; :func:`values` evaluates the law at each row.

Bands
    The *parameter* band at level :math:`1-\\alpha` is the
    :math:`\\alpha/2, 1-\\alpha/2` quantile of :math:`L(\\theta^{(s)})` over the
    samples; without samples, the delta method
    :math:`L \\pm z\\sqrt{J\\,\\Sigma\\,J^\\top}` with the fit's covariance.
    The *predictive* band widens it by :math:`\\exp(\\pm z\\,\\sigma)` where
    :math:`\\sigma` is the log-scale predictive scatter: the fit's calibrated
    value (``fit.calibration``, from leave-one-schedule-out refits, growing
    with the forward area predicted beyond the fitted runs) when present,
    else the RMS log residual of the fit.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from scaling.errors import ScalingError

BAND_KINDS = ("predictive", "parameters")


def parameter_sets(fit) -> tuple[Any, np.ndarray, np.ndarray | None, float]:
    """``(law, theta (P,), samples (S, P) or None, level)`` of a fit result.

    Samples with any non-finite entry (failed bootstrap refits) are dropped.
    """
    if not hasattr(fit, "law_object") or not hasattr(fit, "params"):
        raise ScalingError(f"expected a fit result (scaling.FitResult or FitResult.load(path)), "
                           f"got {type(fit).__name__}")
    law = fit.law_object()
    theta = np.asarray(fit.params, dtype=np.float64).reshape(-1)
    samples = getattr(fit, "samples", None)
    if samples is not None:
        samples = np.asarray(samples, dtype=np.float64)
        samples = samples[np.all(np.isfinite(samples), axis=1)] if samples.ndim == 2 and samples.size else None
        if samples is not None and len(samples) < 2:
            samples = None
    level = float(getattr(fit, "level", 0.9) or 0.9)
    return law, theta, samples, level


def stack(theta: np.ndarray, samples: np.ndarray | None) -> np.ndarray:
    """Point estimate first, then the samples: shape ``(1 + S, P)``."""
    theta = np.asarray(theta, dtype=np.float64).reshape(1, -1)
    return theta if samples is None else np.concatenate([theta, np.asarray(samples, np.float64)], axis=0)


def quantiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval over axis 0 (the samples axis), ignoring NaN."""
    q = (1.0 - float(level)) / 2.0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(values, q, axis=0), np.nanquantile(values, 1.0 - q, axis=0)


def with_band(name: str, rows: np.ndarray, level: float, has_samples: bool) -> dict[str, np.ndarray]:
    """``{name, name_lo, name_hi}`` from a ``(1 + S, ...)`` stack (row 0 = the point estimate).

    Bounds are the percentile interval of rows ``1:`` (NaN without samples).
    """
    point = rows[0]
    if has_samples:
        lo, hi = quantiles(rows[1:], level)
    else:
        lo = hi = np.full_like(point, np.nan)
    return {name: point, f"{name}_lo": lo, f"{name}_hi": hi}


def _prepared(inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    out = {}
    for k, v in inputs.items():
        arr = np.asarray(v)
        out[k] = arr.astype(np.int64) if k == "step" else arr.astype(np.float64)
    return out


def values(law, thetas, inputs: Mapping[str, Any], *, batch: int = 64) -> np.ndarray:
    """The law at every row of ``thetas`` for shared ``inputs``: shape ``(S, n)``, float64.

    Parameters
    ----------
    law : Law
    thetas : array, shape (S, P) or (P,)
        Parameter vectors in the law's fit space.
    inputs : mapping
        The law's inputs: final laws ``N``, ``D``, ... of shape (n,); curve
        laws ``lr`` (T + 1,) and ``step`` (n,) (+ ``N``, ``B`` scalars).
    batch : int
        Rows evaluated at once (memory ``batch x n``).
    """
    from scaling._compile import evaluators
    from scaling._x64 import float64

    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    with float64():
        out = evaluators(law).many(thetas, _prepared(inputs), max(1, min(int(batch), len(thetas))))
        return np.asarray(out, dtype=np.float64)


def values_paired(law, thetas, inputs: Mapping[str, Any]) -> np.ndarray:
    """The law at row ``s`` of ``thetas`` with row ``s`` of each input: ``(S, M)`` from ``(S, M)`` inputs.

    Used where every parameter vector has its own points (the compute-optimal
    search moves along each sample's own iso-FLOP line).
    """
    from scaling._compile import evaluators
    from scaling._x64 import float64

    with float64():
        out = evaluators(law).paired(np.atleast_2d(np.asarray(thetas, np.float64)), _prepared(inputs))
        return np.asarray(out, dtype=np.float64)


def covariance(fit) -> np.ndarray | None:
    """The fit's parameter covariance ``(P, P)`` (Laplace; the posterior's with a prior), or None if unusable."""
    cov = getattr(fit, "covar", None)
    if cov is None:
        return None
    cov = np.asarray(cov, dtype=np.float64)
    P = np.asarray(fit.params).size
    return cov if cov.shape == (P, P) and np.all(np.isfinite(cov)) else None


def jacobian(law, theta, inputs: Mapping[str, Any]) -> np.ndarray:
    """``dL/dtheta`` of the law at ``theta`` (P,) and each point of ``inputs``: shape ``(n, P)``, float64."""
    from scaling._compile import evaluators
    from scaling._x64 import float64

    with float64():
        return np.asarray(evaluators(law).jac(np.asarray(theta, np.float64), _prepared(inputs)), dtype=np.float64)


def predictive_sigma(fit, inputs: Mapping[str, Any] | None = None):
    """Log-scale predictive scatter of a fit (see the module docstring); 0 when unknown.

    For a curve fit with a calibration the scatter grows with the forward
    area predicted beyond the fitted runs
    (:func:`scaling.fitting.calibration.predictive_sigma`, an array over
    ``inputs["step"]``); otherwise one number: the calibrated
    ``sigma_log``, else the RMS log residual of the fit.
    """
    cal = getattr(fit, "calibration", None) or {}
    if isinstance(cal, Mapping) and cal.get("sigma_log") is not None:
        if inputs is not None and "lr" in inputs and "step" in inputs and hasattr(fit, "data_info"):
            from scaling.fitting.calibration import predictive_sigma as curve_sigma

            s = np.asarray(curve_sigma(fit, inputs["step"], inputs["lr"]), dtype=np.float64)
            if np.all(np.isfinite(s)):
                return np.maximum(s, 0.0)
        sigma = float(cal["sigma_log"])
        if np.isfinite(sigma) and sigma >= 0:
            return sigma
    resid = getattr(fit, "residuals", None)
    resid = np.asarray(resid if resid is not None else [], dtype=np.float64)
    resid = resid[np.isfinite(resid)]
    return float(np.sqrt(np.mean(resid**2))) if resid.size > 1 else 0.0


def band(fit, inputs: Mapping[str, Any], *, level: float | None = None, kind: str = "predictive",
         batch: int = 64, rows: np.ndarray | None = None, jac: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """A fitted law at ``inputs`` with its band: ``{"loss", "loss_lo", "loss_hi"}``, each (n,).

    Parameters
    ----------
    fit : FitResult
    inputs : mapping
        The law's inputs (see :func:`values`).
    level : float, optional
        Central coverage (default: the fit's level).
    kind : {"predictive", "parameters"}
        See the module docstring.
    batch : int
        Samples evaluated at once.
    rows : array (1 + S, n), optional
        The law at ``stack(theta, samples)`` and ``inputs``, when the caller
        has it already (:func:`values`); not evaluated again.
    jac : array (n, P), optional
        :func:`jacobian` at the point estimate and ``inputs``, when the
        caller has it already (the delta-method band without samples).

    Returns
    -------
    dict
        ``loss`` at the point estimate; ``loss_lo``/``loss_hi`` the band
        (equal to ``loss`` when the fit carries no uncertainty at all).
    """
    from scipy.special import ndtri  # the normal quantile; scipy.stats costs ~0.9 s to import

    if kind not in BAND_KINDS:
        raise ScalingError(f"band must be 'predictive' or 'parameters', not {kind!r}")
    law, theta, samples, fit_level = parameter_sets(fit)
    level = fit_level if level is None else float(level)
    if not 0.0 < level < 1.0:
        raise ScalingError(f"level must lie strictly between 0 and 1, got {level}")
    z = float(ndtri(0.5 + level / 2.0))
    if rows is None:
        rows = values(law, stack(theta, samples), inputs, batch=batch)
    rows = np.asarray(rows, dtype=np.float64)
    point = rows[0]
    lo = hi = point
    if samples is not None:
        good = rows[1:][np.all(np.isfinite(rows[1:]), axis=1)]
        if len(good) > 1:
            lo, hi = quantiles(good, level)
    else:
        cov = covariance(fit)
        if cov is not None:
            jac = jacobian(law, theta, inputs) if jac is None else np.asarray(jac, dtype=np.float64)
            sd = np.sqrt(np.maximum(np.einsum("np,pq,nq->n", jac, cov, jac), 0.0))
            lo, hi = point - z * sd, point + z * sd
    if kind == "predictive":
        s = predictive_sigma(fit, inputs)
        lo, hi = lo * np.exp(-z * s), hi * np.exp(z * s)
    return {"loss": point, "loss_lo": np.minimum(lo, point), "loss_hi": np.maximum(hi, point)}


__all__ = ["BAND_KINDS", "band", "covariance", "jacobian", "parameter_sets", "predictive_sigma", "quantiles",
           "stack", "values", "values_paired", "with_band"]
