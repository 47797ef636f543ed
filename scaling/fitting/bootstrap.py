"""Bootstrap resampling as integer weights on the points of a dataset.

A resample is a vector of counts ``w`` (how many times each point is drawn),
so a refit is the same summed objective with weights ``w``: no data are
copied and all refits run batched (vmapped) from the best fit.

Three schemes:

``"points"``
    Multinomial counts over all points (the classic case bootstrap; default
    for final-loss tables, as in Besiroglu et al. 2024).
``"groups"`` or a column name
    Whole groups are drawn with replacement and every point of a drawn group
    gets its count: the groups of the dataset (runs) when it has several,
    else the distinct model sizes ``N``; with a column name, the distinct
    values of that column (e.g. ``"run"``).
``"blocks"``
    Within each curve, consecutive points are cut into blocks of
    ``block_size`` points and blocks are drawn with replacement, as many as
    the curve has (a non-overlapping block bootstrap; Carlstein 1986).
    Points of one loss curve are strongly correlated, so resampling single
    points would give intervals that are far too narrow. Default for curve
    data. The default block length is sized from the autocorrelation of the
    fit's residuals (:func:`block_length`): about twice their integrated
    autocorrelation time, so a block holds what one independent error
    spans (per-step training loss: a few steps; a smooth misfit: long
    blocks); ``ceil(sqrt(n))`` without residuals.
"""

from __future__ import annotations

import numpy as np

from scaling.errors import FitError

SCHEMES = ("points", "groups", "blocks")


def resolve_scheme(dataset, by: str) -> str:
    """The scheme that ``by`` means for this dataset (``"auto"`` resolved)."""
    if by == "auto":
        return "blocks" if dataset.info.get("kind") == "curves" else "points"
    if by in SCHEMES:
        return by
    if by in dataset.columns:
        return by
    known = ", ".join(list(SCHEMES) + sorted(dataset.columns))
    raise FitError(f"bootstrap_by={by!r} is neither a scheme nor a column of the data; use one of: {known}")


def _group_labels(dataset, by: str) -> np.ndarray:
    if by == "groups":
        if len(dataset) > 1:
            return np.concatenate([np.full(len(g.loss), i) for i, g in enumerate(dataset)])
        if "N" in dataset.columns:
            by = "N"
        else:
            raise FitError("bootstrap_by='groups' on a single group needs model sizes (an 'N' column); "
                           "name a column instead, e.g. --bootstrap-by run")
    values = np.asarray(dataset.columns[by])
    _, labels = np.unique(values.astype(str) if values.dtype.kind == "O" else values, return_inverse=True)
    return labels.reshape(-1)


def block_length(residuals, n: int | None = None) -> int:
    """Block length from the autocorrelation of one curve's residuals.

    .. math::

        b = \\lceil 2 \\tau \\rceil, \\qquad \\tau = 1 + 2 \\sum_{k \\ge 1} \\rho_k

    with the sum stopped at the first non-positive autocorrelation
    ``rho_k`` (the initial-positive-sequence estimate of the integrated
    autocorrelation time; Geyer 1992), clipped to ``[1, n // 4]`` so that a
    curve keeps at least 4 blocks. Without residuals: ``ceil(sqrt(n))``.
    """
    if residuals is None:
        return max(1, int(np.ceil(np.sqrt(n or 1))))
    r = np.asarray(residuals, dtype=np.float64)
    n = r.size
    if n < 8:
        return 1
    r = r - r.mean()
    var = float(np.dot(r, r))
    if var <= 0:
        return 1
    tau = 1.0
    for k in range(1, n // 2):
        rho = float(np.dot(r[:-k], r[k:])) / var
        if rho <= 0:
            break
        tau += 2.0 * rho
    return int(min(max(1, np.ceil(2.0 * tau)), max(1, n // 4)))


def resampling_weights(dataset, n_resamples: int, by: str, rng: np.random.Generator,
                       *, block_size: int | None = None, residuals=None) -> np.ndarray:
    """Integer resampling counts, shape ``(n_resamples, n_points)``.

    Parameters
    ----------
    dataset : Dataset
    n_resamples : int
    by : {"points", "groups", "blocks"} or a column name (``"auto"`` allowed)
    rng : numpy.random.Generator
        Source of randomness (seeded by the caller for reproducibility).
    block_size : int, optional
        Block length for ``"blocks"`` (default: :func:`block_length` of each
        curve's ``residuals``, else ``ceil(sqrt(n))``).
    residuals : array (n_points,), optional
        The fit's residuals in point order, for the default block length.
    """
    scheme = resolve_scheme(dataset, by)
    n = dataset.n_points
    if scheme == "points":
        return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)
    if scheme == "blocks":
        parts = []
        start = 0
        for size in dataset.sizes():
            r = None if residuals is None else np.asarray(residuals)[start:start + size]
            start += size
            length = int(block_size) if block_size else block_length(r, size)
            block_of = np.arange(size) // length
            n_blocks = int(block_of[-1]) + 1 if size else 0
            counts = rng.multinomial(n_blocks, np.full(n_blocks, 1.0 / n_blocks), size=n_resamples)
            parts.append(counts[:, block_of])
        return np.concatenate(parts, axis=1).astype(np.float64)
    labels = _group_labels(dataset, scheme)
    n_groups = int(labels.max()) + 1
    if n_groups < 2:
        raise FitError(f"bootstrap_by={by!r} finds only one group; resampling it changes nothing "
                       "(use points or blocks)")
    counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_resamples)
    return counts[:, labels].astype(np.float64)


def percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval of ``samples`` along axis 0, ignoring NaN."""
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.nanpercentile(samples, [tail, 100.0 - tail], axis=0)
    return lo, hi


__all__ = ["SCHEMES", "block_length", "percentile_interval", "resampling_weights", "resolve_scheme"]
