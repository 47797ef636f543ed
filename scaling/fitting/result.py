"""``FitResult``: the immutable outcome of a fit, with exact JSON save/load.

The vocabulary follows lmfit's ``MinimizerResult`` (``params``, ``stderr``,
``covar``, ``nfev``, ``aic``, ``bic``, ``success``, ``message``). Parameters
are in the law's *fit space* (e.g. Chinchilla's ``a = log A``); natural-unit
quantities are in :attr:`FitResult.derived`, each with bootstrap samples and
an interval.

JSON files are plain UTF-8 JSON. Floats are written with Python's shortest
round-trip ``repr`` (``json`` does this), so ``FitResult.load(path)`` gives
back exactly the saved numbers; NaN and infinity are written as the
non-standard tokens ``NaN``/``Infinity`` that Python's ``json`` reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
from pathlib import Path
from typing import Any, Mapping

import numpy as np

FORMAT = "scaling.FitResult/1"


def _frozen_array(x, dtype=np.float64):
    if x is None:
        return None
    a = np.array(x, dtype=dtype, copy=True)
    a.setflags(write=False)
    return a


def _frozen_map(m: Mapping | None) -> Mapping:
    return types.MappingProxyType(dict(m or {}))


def _jsonable(x: Any) -> Any:
    """Turn arrays, mappings, tuples and numpy scalars into JSON-ready values."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return str(x)


@dataclasses.dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of :func:`scaling.fit` (immutable).

    Attributes
    ----------
    law : str
        Registry name of the law.
    law_options : mapping
        Options the law was built with; ``get_law(law, **law_options)``
        rebuilds it (see :meth:`law_object`).
    param_names : tuple of str
        Fit-space parameter names, in order.
    params : ndarray, shape (P,)
        Best-fit parameters (fit space).
    stderr : ndarray, shape (P,)
        Standard errors: the bootstrap SD when bootstrapped, else the Laplace
        (sandwich) estimate; NaN where undetermined.
    covar : ndarray, shape (P, P), or None
        Covariance matching ``stderr`` (bootstrap sample covariance, or the
        sandwich covariance).
    intervals : mapping of str to (float, float)
        ``level`` intervals per parameter: bootstrap percentiles, or normal
        intervals ``params +- z * stderr`` without a bootstrap.
    level : float
        Confidence level of the intervals (e.g. 0.9).
    samples : ndarray, shape (B, P), or None
        Bootstrap parameter samples (fit space).
    derived : mapping of str to float
        Natural-unit quantities at ``params`` (e.g. ``A``, ``E``, ``a_N``).
    derived_samples : mapping of str to ndarray (B,)
        ``derived`` evaluated at every bootstrap sample.
    derived_intervals : mapping of str to (float, float)
        ``level`` intervals of the derived quantities (percentile, or delta
        method without a bootstrap).
    objective : float
        Minimum of the summed Huber objective.
    n_points : int
        Number of loss observations fitted.
    residuals : ndarray, shape (n_points,)
        ``log(predicted) - log(observed)`` at ``params``, in point order.
    aic, bic : float
        Gaussian-equivalent information criteria on log residuals, as lmfit:
        ``n log(RSS/n) + 2P`` and ``n log(RSS/n) + P log n``.
    r2, rmse : float
        Coefficient of determination and root-mean-square error of the loss
        itself (nats), not of its log.
    success : bool
        True when the best start converged (the optimizer's stop: it does not
        say that the data determine the parameters; :meth:`to_dict` adds a
        ``convergence`` entry, :func:`scaling.fitting.diagnostics.convergence`,
        that does).
    message : str
        How the best start stopped, plus bootstrap notes.
    n_starts, n_starts_at_best : int
        Number of starts, and how many reached the best objective (within
        1e-9 relative).
    nfev : int
        Newton iterations summed over all starts and refits (each one
        objective, gradient and Hessian evaluation).
    seconds : float
        Wall time of the fit including the bootstrap.
    data_info : mapping
        ``files``, ``file_sha256`` (per file), ``sha256`` (of the fitted
        numbers), ``n_points``, ``runs``, fit settings (``delta``,
        ``strategy``, ``bootstrap``).
    version : str
        Package version that made the fit.
    seed : int or None
        Seed of the bootstrap resampling.
    diagnostics : tuple of mapping
        What the fit cannot vouch for (:mod:`scaling.fitting.diagnostics`):
        each ``{"code", "severity": "warning" | "note", "message"}`` plus
        ``"param"`` when it concerns one parameter.
    calibration : mapping
        Calibration of the predictive band (:mod:`scaling.fitting.calibration`):
        ``sigma_log`` (log-scale predictive sigma to use at ``level``),
        ``method`` and the held-out residual statistics; empty when not
        calibrated.
    """

    law: str
    law_options: Mapping[str, Any]
    param_names: tuple
    params: np.ndarray
    stderr: np.ndarray
    covar: np.ndarray | None
    intervals: Mapping[str, tuple]
    level: float
    samples: np.ndarray | None
    derived: Mapping[str, float]
    derived_samples: Mapping[str, np.ndarray]
    derived_intervals: Mapping[str, tuple]
    objective: float
    n_points: int
    residuals: np.ndarray
    aic: float
    bic: float
    r2: float
    rmse: float
    success: bool
    message: str
    n_starts: int
    n_starts_at_best: int
    nfev: int
    seconds: float
    data_info: Mapping[str, Any]
    version: str
    seed: int | None
    diagnostics: tuple = ()
    calibration: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "law_options", _frozen_map(self.law_options))
        put(self, "param_names", tuple(str(p) for p in self.param_names))
        put(self, "params", _frozen_array(self.params))
        put(self, "stderr", _frozen_array(self.stderr))
        put(self, "covar", _frozen_array(self.covar))
        put(self, "samples", _frozen_array(self.samples))
        put(self, "residuals", _frozen_array(self.residuals))
        put(self, "intervals", _frozen_map({k: (float(v[0]), float(v[1])) for k, v in self.intervals.items()}))
        put(self, "derived", _frozen_map({k: float(v) for k, v in self.derived.items()}))
        put(self, "derived_samples", _frozen_map({k: _frozen_array(v) for k, v in self.derived_samples.items()}))
        put(self, "derived_intervals",
            _frozen_map({k: (float(v[0]), float(v[1])) for k, v in self.derived_intervals.items()}))
        put(self, "data_info", _frozen_map(self.data_info))
        put(self, "level", float(self.level))
        put(self, "objective", float(self.objective))
        put(self, "n_points", int(self.n_points))
        put(self, "success", bool(self.success))
        for name in ("aic", "bic", "r2", "rmse", "seconds"):
            put(self, name, float(getattr(self, name)))
        for name in ("n_starts", "n_starts_at_best", "nfev"):
            put(self, name, int(getattr(self, name)))
        put(self, "seed", None if self.seed is None else int(self.seed))
        put(self, "diagnostics", tuple(_frozen_map(d) for d in (self.diagnostics or ())))
        put(self, "calibration", _frozen_map(self.calibration))

    # ------------------------------------------------------------------ views
    def param(self, name: str) -> float:
        """Best-fit value of one fit-space parameter."""
        return float(self.params[self.param_names.index(name)])

    @property
    def fixed_derived(self) -> tuple[str, ...]:
        """Derived quantities that are law options, set and not estimated (lr-annealing's ``lam``
        unless ``lam="fit"``): reports show them as fixed, without an interval."""
        options = dict(self.law_options or {})
        return tuple(n for n in (self.derived or {}) if n in options and n not in self.param_names)

    def law_object(self):
        """The law, rebuilt as ``get_law(self.law, **self.law_options)``."""
        from scaling.laws import get_law

        return get_law(self.law, **dict(self.law_options))

    @property
    def correl(self) -> np.ndarray | None:
        """Correlation matrix of the parameters (from ``covar``), or None."""
        if self.covar is None:
            return None
        var = np.diag(self.covar)
        sd = np.sqrt(np.where(var > 0, var, np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = self.covar / np.outer(sd, sd)
        # a covariance that is not positive semi-definite (a flat or degenerate fit) gives "correlations"
        # beyond +-1: they are not correlations, so they are reported as unknown
        return np.where(np.abs(corr) <= 1.0 + 1e-9, np.clip(corr, -1.0, 1.0), np.nan)

    # ------------------------------------------------------------------ io
    def to_dict(self) -> dict:
        """A JSON-ready dict of every field (arrays as nested lists)."""
        out = {"format": FORMAT}
        for f in dataclasses.fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        # Derived, for readers of the file: "success" is the optimizer's stop only; this says
        # whether the data determine the parameters too (from the diagnostics; not read back).
        from scaling.fitting.diagnostics import convergence

        out["convergence"] = convergence(self)
        return out

    def to_json(self) -> str:
        """The result as a JSON string (exact round trip)."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=True)

    def save(self, path: str | os.PathLike) -> None:
        """Write the result as JSON to ``path`` atomically."""
        from scaling.outputs import write_atomic

        write_atomic(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "fit result") -> "FitResult":
        """Rebuild a result from :meth:`to_dict` output, after checking it in full.

        Raises
        ------
        FitFileError
            One line naming `source` and the key: see :mod:`scaling.fitting.schema`.
        """
        from scaling.fitting.schema import validate_fit_dict

        validate_fit_dict(d, source=source)
        # fields added later (diagnostics, calibration) have defaults: older files still load
        kw = {f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d}
        p = len(kw["param_names"])
        kw["params"] = np.asarray(kw["params"], dtype=np.float64).reshape(p)
        kw["stderr"] = np.asarray(kw["stderr"], dtype=np.float64).reshape(p)
        if kw["covar"] is not None:
            kw["covar"] = np.asarray(kw["covar"], dtype=np.float64).reshape(p, p)
        if kw["samples"] is not None:
            kw["samples"] = np.asarray(kw["samples"], dtype=np.float64).reshape(-1, p)
        kw["residuals"] = np.asarray(kw["residuals"], dtype=np.float64).reshape(-1)
        kw["derived_samples"] = {k: np.asarray(v, dtype=np.float64).reshape(-1)
                                 for k, v in kw["derived_samples"].items()}
        return cls(**kw)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FitResult":
        """Read a result written by :meth:`save`, checked against :mod:`scaling.fitting.schema`.

        Raises
        ------
        FitFileError
            Unreadable, not JSON, or any field malformed: one line naming the file and the key.
        """
        from scaling.errors import FitFileError

        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise FitFileError(f"cannot read fit result {name!r}: {exc.strerror or exc}; check the path") from None
        except UnicodeDecodeError:
            raise FitFileError(f"{name}: is not a text (UTF-8) file; pass a fit.json written by 'scaling fit'") from None
        try:
            # Integers too long for a float stay exact up to 300 digits, then read as
            # floats (inf), which the schema rejects; int() refuses > 4300 digits.
            d = json.loads(text, parse_int=lambda s: int(s) if len(s) <= 300 else float(s))
        except json.JSONDecodeError as exc:
            raise FitFileError(f"{name!r} is not valid JSON (line {exc.lineno}): re-run 'scaling fit'") from None
        except RecursionError:
            raise FitFileError(f"{name}: nests lists or objects too deeply to read; re-run 'scaling fit'") from None
        return cls.from_dict(d, source=name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FitResult):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ show
    def to_lmfit(self):
        """lmfit ``Parameters`` with values, bounds, stderr and correlations.

        ``lmfit.fit_report(result.to_lmfit())`` prints the variables and
        correlations sections as lmfit would.
        """
        from scaling.fitting.lmfit_bridge import to_lmfit_parameters

        return to_lmfit_parameters(self)

    def report(self, *, min_correl: float = 0.1) -> str:
        """A readable, lmfit-style text report (see :mod:`scaling.fitting.report`)."""
        from scaling.fitting.report import fit_report

        return fit_report(self, min_correl=min_correl)

    def __repr__(self) -> str:
        vals = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.param_names, self.params))
        return f"FitResult(law={self.law!r}, {vals}, objective={self.objective:.6g}, n_points={self.n_points})"


__all__ = ["FORMAT", "FitResult"]
