"""Compare scaling laws on the same data: fit quality, hold-out error, parameter intervals.

:func:`compare` fits every law on the same points (the fit set) and returns
one row per law:

* goodness of fit on the fit set: the summed-Huber ``objective`` (each
  law's own, named in ``objective_fn``: its Huber threshold and, for
  multi-power, its prior differ, so it does not rank laws), ``aic``,
  ``bic`` (Gaussian-equivalent, on log residuals, as in
  :class:`~scaling.fitting.FitResult`; comparable because every law sees the
  same points) and ``delta_aic`` / ``delta_bic`` to the best law;
* prediction error on data NOT used in fitting, with Luo et al. (2025)'s
  metrics (``R2`` on raw loss, ``MAE``, ``RMSE``, ``PredE`` = mean relative
  error, ``WorstE`` = max relative error):

  - ``holdout=[RUN, ...]``: those runs are left out of the fit set and
    predicted (for loss curves the natural hold-out is a schedule the fit
    never saw, e.g. a 72k-step cosine run when fitting 24k-step runs);
  - otherwise leave-one-run-out (``loo=True``): each run is dropped in turn,
    the law refitted and the dropped run predicted. The refits start from
    the full-data optimum and run batched as one weighted solve (the held-out
    run gets weight 0), like bootstrap refits, so they cost about one fit.
    A fold whose remaining runs cannot determine a parameter (the annealing
    terms, when only constant-LR runs remain) would keep the value fitted
    with the held-out run, so it is left out of the metrics, ``n_eval_runs``
    counts the folds used, and the row's warnings say which runs and why.
    A "run" is a curve (one group) for loss curves and a row (or the rows
    sharing a ``run`` value) for points tables;

  metrics are computed per held-out run and averaged over runs for curves,
  and pooled over the held-out rows for points tables (one row per run has
  no within-run R2);
* ``params``: every fitted parameter with its ``level`` interval (Laplace,
  or bootstrap with ``bootstrap > 0``).

The table is sorted by the hold-out ``PredE`` (then AIC) and has a ``rank``
column. ``compare(..., return_fits=True)`` also returns the fit results, so a
report can draw the laws over the data.

Examples
--------
>>> from scaling.compare import compare  # doctest: +SKIP
>>> table = compare(curves, ["lr-annealing", "multi-power"], holdout=["cosine_72000"])  # doctest: +SKIP
>>> table[["law", "aic", "PredE", "WorstE"]]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from scaling._x64 import in_float64
from scaling.errors import DataError, ScalingError

METRICS = ("R2", "MAE", "RMSE", "PredE", "WorstE")


def _is_curves(data) -> bool:
    from scaling.fitting.dataset import Dataset

    if isinstance(data, Dataset):
        return data.info.get("kind") == "curves" or len(data) > 1
    return "step" in data.columns


def _build(law, data, *, split, warmup_steps, target) -> Any:
    from scaling.fitting.dataset import Dataset, dataset_from_curves, dataset_from_points

    if isinstance(data, Dataset):
        return data
    if law.kind == "final":
        return dataset_from_points(law, data, target=target)
    return dataset_from_curves(law, data, split=split, warmup_steps=warmup_steps)


def _split_runs(dataset, holdout: Sequence[str]):
    """(fit dataset, held-out dataset) by run name; points tables split by their ``run`` column."""
    from scaling.fitting.dataset import Dataset, Group

    holdout = [str(h) for h in holdout]
    if dataset.info.get("kind") == "curves" or len(dataset) > 1:
        names = [g.name for g in dataset]
        missing = [h for h in holdout if h not in names]
        if missing:
            raise DataError(f"--holdout {missing[0]!r} is not a run of the data; runs are: {', '.join(names)}")
        fit_groups = [g for g in dataset if g.name not in holdout]
        held = [g for g in dataset if g.name in holdout]
        if not fit_groups:
            raise DataError("every run is held out; keep at least one run for fitting")

        def run_column(groups):
            return {"run": np.concatenate([np.full(len(g.loss), g.name, dtype=object) for g in groups])}

        info = {**dataset.info, "runs": [g.name for g in fit_groups]}
        return (Dataset(fit_groups, info=info, columns=run_column(fit_groups)),
                Dataset(held, info={**dataset.info, "runs": [g.name for g in held]}, columns=run_column(held)))
    runs = np.asarray(dataset.columns.get("run", np.array([str(i) for i in range(dataset.n_points)]))).astype(str)
    missing = [h for h in holdout if h not in set(runs)]
    if missing:
        raise DataError(f"--holdout {missing[0]!r} is not in the table's run column (e.g. {runs[0]!r})")
    mask = np.isin(runs, holdout)
    g = dataset[0]

    def take(m):
        inputs = {k: np.asarray(v)[m] for k, v in g.inputs.items()}
        cols = {k: np.asarray(v)[m] for k, v in dataset.columns.items()}
        return Dataset([Group(g.name, inputs, np.asarray(g.loss)[m])], info=dataset.info, columns=cols)

    if mask.all():
        raise DataError("every row is held out; keep some rows for fitting")
    return take(~mask), take(mask)


def _predict(law, theta, dataset) -> list[np.ndarray]:
    from scaling.evaluate import values

    return [values(law, theta, g.inputs)[0] for g in dataset]


def _metrics(observed: Sequence[np.ndarray], predicted: Sequence[np.ndarray], per_run: bool) -> dict[str, float]:
    from scaling.prediction import curve_metrics

    if per_run:
        rows = [curve_metrics(y, p) for y, p in zip(observed, predicted)]
        return {m: float(np.mean([r[m] for r in rows])) for m in METRICS}
    m = curve_metrics(np.concatenate(observed), np.concatenate(predicted))
    return {k: m[k] for k in METRICS}


def _loo_units(dataset) -> tuple[np.ndarray, list[str]]:
    """Per-point unit labels for leave-one-run-out, and the unit names."""
    if dataset.info.get("kind") == "curves" or len(dataset) > 1:
        labels = np.concatenate([np.full(len(g.loss), i) for i, g in enumerate(dataset)])
        return labels, [g.name for g in dataset]
    n = dataset.n_points
    runs = np.asarray(dataset.columns.get("run", np.arange(n))).astype(str)
    names, labels = np.unique(runs, return_inverse=True)
    return labels.reshape(-1), [str(x) for x in names]


def _unseen_by_folds(law, dataset, labels, names) -> dict[str, tuple[tuple[str, ...], str]]:
    """``{held-out run: (parameters the other runs cannot determine, why)}`` for leave-one-run-out.

    A refit starts at the full fit's optimum, so a parameter the remaining runs do not constrain keeps
    the value fitted *with* the held-out run: leaving the only decaying run out of a constant + cosine
    pair would predict it with the annealing term it was fitted on (0.19 % instead of the 2.1 % a fit of
    the constant run alone gives). Such folds are no hold-out test. A parameter no run determines keeps
    its start value in the full fit too, so it leaks nothing.
    """
    from scaling.fitting.identifiable import blind_params, blind_why, seen_by

    seen = seen_by(law, dataset)
    out = {name: (blind_params(law, seen, labels != u), blind_why(seen, labels != u))
           for u, name in enumerate(names)}
    return {name: pw for name, pw in out.items() if pw[0]}


def _leave_one_run_out(law, dataset, result) -> tuple[dict[str, float], int, dict[str, tuple[str, ...]]]:
    """Metrics of leave-one-run-out predictions; refits batched from ``result.params`` with 0/1 weights.

    The refits minimise the fit's own objective: its Huber threshold (each law's own unless ``compare`` was
    given one) and its prior too (:func:`scaling.fitting.prior.as_fitted`). Folds whose remaining runs
    cannot determine a parameter (:func:`_unseen_by_folds`) are left out of the metrics and returned, as
    ``{run: (parameters, why)}``, with the count of failed refits.
    """
    from scaling.fitting import prior as _prior
    from scaling.fitting.objective import expand_weights, fitted_objective, pack
    from scaling.fitting.solver import solve_batch

    labels, names = _loo_units(dataset)
    if len(names) < 2:
        return {m: float("nan") for m in METRICS}, 0, {}
    unseen = _unseen_by_folds(law, dataset, labels, names)
    if len(unseen) == len(names):
        return {m: float("nan") for m in METRICS}, 0, unseen
    folds = [u for u in range(len(names)) if names[u] not in unseen]  # only these are refitted
    weights = np.stack([(labels != u).astype(np.float64) for u in folds])
    # (K, n) weights: refit k gets its own weights (run k at 0), as the fitter's bootstrap refits do
    theta = np.asarray(result.params)
    packed, index, n_padded = pack(dataset, law.kind)
    packed = _prior.as_fitted(packed, result, law, dataset)
    objective = fitted_objective(result.data_info)
    res = solve_batch(law, packed, np.tile(theta, (len(folds), 1)),
                      weights=expand_weights(weights, index, n_padded), delta=objective.threshold,
                      space=objective.space)
    observed = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in dataset])
    obs_runs, pred_runs = [], []
    failed = 0
    for k, u in enumerate(folds):
        th = res.theta[k] if np.isfinite(res.f[k]) else theta
        failed += int(not np.isfinite(res.f[k]))
        pred = np.concatenate(_predict(law, th, dataset))
        obs_runs.append(observed[labels == u])
        pred_runs.append(pred[labels == u])
    per_run = dataset.info.get("kind") == "curves" or len(dataset) > 1
    return _metrics(obs_runs, pred_runs, per_run), failed, unseen


def _format_params(result) -> str:
    parts = []
    for i, name in enumerate(result.param_names):
        lo, hi = result.intervals.get(name, (float("nan"), float("nan")))
        parts.append(f"{name}={result.params[i]:.4g} [{lo:.4g}, {hi:.4g}]")
    return "; ".join(parts)


@in_float64
def compare(data, laws: Sequence[Any], *, holdout: Sequence[str] | None = None, loo: bool | None = None,
            law_options: Mapping[str, Mapping[str, Any]] | None = None, bootstrap: int = 0,
            bootstrap_by: str = "auto", level: float = 0.9, seed: int = 0, split: str | None = None,
            warmup_steps: int = 0, target: str = "loss", delta: float | None = None,
            starts: Mapping[str, Any] | None = None, return_fits: bool = False):
    """Fit each law on the same data; compare AIC/BIC, hold-out error and parameter intervals.

    Parameters
    ----------
    data : pandas.DataFrame or Dataset
        A final-loss points table (``run, N, D, ..., loss``), a canonical
        curve table (``run, step, loss, lr, ...``), or a ready
        :class:`~scaling.fitting.dataset.Dataset` (used as it is for every law).
    laws : sequence of str or Law
        The laws to compare; all of one kind (final-loss or loss-curve).
    holdout : sequence of str, optional
        Runs to leave out of fitting and predict.
    loo : bool, optional
        Leave-one-run-out prediction error on the fit set (default: when no
        ``holdout`` is given).
    law_options : mapping, optional
        ``{law_name: {option: value}}``, e.g. ``{"power-law": {"x": "width"}}``.
    bootstrap, bootstrap_by, level, seed, delta
        Passed to :func:`scaling.fitting.fit` (``bootstrap > 0`` gives bootstrap
        parameter intervals, else Laplace intervals; ``delta=None``: each
        law's own Huber threshold, so AIC/BIC, computed from the squared log
        residuals, stay comparable while the ``objective`` column is each
        law's own).
    split, warmup_steps
        Passed to :func:`~scaling.fitting.dataset.dataset_from_curves`.
    target : str
        Target column of points tables (default ``"loss"``).
    starts : mapping, optional
        ``{law_name: (K, P) array}`` start points (default each law's grid).
    return_fits : bool
        Also return ``{law label: FitResult}``.

    Returns
    -------
    pandas.DataFrame
        One row per law: ``rank``, ``law``, ``options``, ``kind``,
        ``n_params``, ``n_fit``, ``objective``, ``aic``, ``bic``,
        ``delta_aic``, ``delta_bic``, ``fit_rmse``, ``eval`` (``"holdout"``,
        ``"leave-one-run-out"`` or ``"none"``), ``n_eval_runs``, ``R2``,
        ``MAE``, ``RMSE``, ``PredE``, ``WorstE``, ``params``, ``success``,
        ``determined`` (the optimizer converged and the diagnostics leave no
        parameter undetermined, :func:`scaling.fitting.diagnostics.convergence`),
        ``n_warnings`` and ``warnings`` (the fit's warning messages joined
        by ``" | "``), ``seconds`` and ``objective_fn`` (the objective that
        ``objective`` is the value of, e.g. ``"huber-log, delta = 0.0001"``).
        With ``return_fits``, ``(table, fits)``.
    """
    import time

    import pandas as pd

    from scaling.fitting import fit
    from scaling.fitting.diagnostics import convergence, warning_messages
    from scaling.fitting.report import objective_text
    from scaling.laws import get_law

    if not laws:
        raise ScalingError("compare needs at least one law (e.g. --laws chinchilla,overtraining)")
    law_options = dict(law_options or {})
    built = []
    for spec in laws:
        opts = dict(law_options.get(spec, {})) if isinstance(spec, str) else {}
        built.append(get_law(spec, **opts))
    kinds = {law.kind for law in built}
    if len(kinds) > 1:
        raise ScalingError("compare: laws must all be final-loss laws or all loss-curve laws, not a mix "
                           f"({', '.join(f'{law.name}:{law.kind}' for law in built)})")
    do_loo = (not holdout) if loo is None else bool(loo)
    rows, fits = [], {}
    labels_seen: dict[str, int] = {}
    for law in built:
        label = law.name
        if label in labels_seen:  # the same law twice with other options
            labels_seen[label] += 1
            label = f"{law.name}#{labels_seen[label]}"
        else:
            labels_seen[label] = 1
        t0 = time.perf_counter()
        dataset = _build(law, data, split=split, warmup_steps=warmup_steps, target=target)
        fit_set, held = _split_runs(dataset, holdout) if holdout else (dataset, None)
        law_starts = None if starts is None else starts.get(law.name)
        result = fit(law, fit_set, starts=law_starts, bootstrap=bootstrap, bootstrap_by=bootstrap_by, level=level,
                     seed=seed, delta=delta, progress=False)
        law = law.resolve(fit_set)  # as the fit resolved it (lr-annealing's lam="auto"): the refits' law
        fits[label] = result
        per_run = fit_set.info.get("kind") == "curves" or len(fit_set) > 1
        metrics = {m: float("nan") for m in METRICS}
        mode, n_eval = "none", 0
        if held is not None:
            pred = _predict(law, result.params, held)
            metrics = _metrics([np.asarray(g.loss) for g in held], pred, per_run)
            mode, n_eval = "holdout", (len(held) if per_run else held.n_points)
        warned = warning_messages(result)
        if held is None and do_loo:
            metrics, _, unseen = _leave_one_run_out(law, fit_set, result)
            mode, n_eval = "leave-one-run-out", len(_loo_units(fit_set)[1]) - len(unseen)
            warned += [f"leave-one-run-out: without run {run!r} the other runs cannot determine "
                       f"{', '.join(ps)} ({why}), so that refit would keep the values "
                       f"fitted with {run!r}; the run is left out of the hold-out error"
                       + ("" if n_eval else ", which no run remains to measure: hold out a run with --holdout")
                       for run, (ps, why) in unseen.items()]
        rows.append({"law": label, "options": dict(law.options), "kind": law.kind, "n_params": law.n_params,
                     "n_fit": result.n_points, "objective": result.objective, "aic": result.aic, "bic": result.bic,
                     "fit_rmse": result.rmse, "eval": mode, "n_eval_runs": n_eval, **metrics,
                     "params": _format_params(result), "success": result.success,
                     "determined": convergence(result)["determined"], "n_warnings": len(warned),
                     "warnings": WARNING_SEPARATOR.join(warned),
                     "seconds": time.perf_counter() - t0, "objective_fn": objective_text(result.data_info)})
    table = pd.DataFrame(rows)
    table["delta_aic"] = table["aic"] - table["aic"].min()
    table["delta_bic"] = table["bic"] - table["bic"].min()
    key = "PredE" if table["PredE"].notna().any() else "aic"
    table = table.sort_values([key, "aic"], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    cols = ["rank", "law", "options", "kind", "n_params", "n_fit", "objective", "aic", "bic", "delta_aic",
            "delta_bic", "fit_rmse", "eval", "n_eval_runs", *METRICS, "params", "success", "determined",
            "n_warnings", "warnings", "seconds", "objective_fn"]
    table = table[cols]
    return (table, fits) if return_fits else table


def read_comparison(path: str):
    """A comparison table written by ``scaling compare ... --out TABLE.csv``, or a one-line error."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; write it with 'scaling compare FILE... --laws A,B --out {path}'") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a comparison table CSV ({exc}); write it with 'scaling compare ... --out'") from None


#: Joins a fit's warning messages in the table's ``warnings`` column.
WARNING_SEPARATOR = " | "


def format_table(table) -> str:
    """The comparison table as plain text (what ``scaling compare`` prints), each law's warnings after it."""
    out = table.drop(columns=["options", "kind", "params", "warnings"], errors="ignore").copy()
    for c in ("objective", "aic", "bic", "delta_aic", "delta_bic"):
        out[c] = out[c].map(lambda v: f"{v:.4g}")
    for c in ("fit_rmse", "MAE", "RMSE"):
        out[c] = out[c].map(lambda v: f"{v:.5f}")
    out["R2"] = out["R2"].map(lambda v: f"{v:.5f}")
    for c in ("PredE", "WorstE"):
        out[c] = out[c].map(lambda v: f"{100 * v:.3f}%")
    out["seconds"] = out["seconds"].map(lambda v: f"{v:.1f}")
    lines = [out.to_string(index=False), "", "parameters (fit space) with intervals:"]
    for _, row in table.iterrows():
        lines.append(f"  {row['law']}: {row['params']}")
    flagged = [(row["law"], str(row["warnings"]).split(WARNING_SEPARATOR)) for _, row in table.iterrows()
               if isinstance(row.get("warnings"), str) and row["warnings"]]
    if flagged:
        lines += ["", "warnings (each law's fit diagnostics, as 'scaling fit' prints them):"]
        lines += [f"  {law}: warning: {msg}" for law, msgs in flagged for msg in msgs]
    return "\n".join(lines)


__all__ = ["METRICS", "WARNING_SEPARATOR", "compare", "format_table", "read_comparison"]
