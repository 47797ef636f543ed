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

The refits themselves (:func:`refit`) start at the best fit and run the
same damped, saddle-free Newton iteration as the multistart solver, but
drive it lane by lane from numpy: the compiled solver's ``init`` serves as
a batched evaluator of objective, gradient and Hessian, so a lane whose
trial step is rejected pays for its own retry only (inside a compiled
``while_loop`` over a chunk every lane waits for the slowest one's line
search), and a lane stops as soon as its Newton decrement says the next
step cannot gain ``ftol`` (no final confirming step).
"""

from __future__ import annotations

import numpy as np

from scaling._x64 import in_float64
from scaling.errors import FitError
from scaling.fitting.objective import DEFAULT_DELTA
from scaling.fitting.optimize import (CONVERGED_FTOL, CONVERGED_GTOL, MAXITER, NU_MAX, STALLED, BatchResult)
from scaling.fitting.prior import integrated_time
from scaling.fitting.solver import MIN_CHUNK

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

        b = \\lceil 2 \\tau \\rceil

    with ``tau`` from :func:`scaling.fitting.prior.integrated_time`, clipped to ``[1, n // 4]`` so
    that a curve keeps at least 4 blocks. Without residuals: ``ceil(sqrt(n))``.
    """
    if residuals is None:
        return max(1, int(np.ceil(np.sqrt(n or 1))))
    n = np.asarray(residuals).size
    if n < 8:
        return 1
    return int(min(max(1, np.ceil(2.0 * integrated_time(residuals))), max(1, n // 4)))


def _draw_counts(rng: np.random.Generator, m: int, n_resamples: int) -> np.ndarray:
    """Counts of ``m`` draws with replacement from ``m`` items, ``(n_resamples, m)`` float64.

    Multinomial with equal probabilities, drawn as item indices and counted
    (``rng.multinomial`` draws one binomial per item and row, ~4x slower
    for 4,000 x 240).
    """
    if m == 0:
        return np.zeros((n_resamples, 0))
    drawn = rng.integers(0, m, size=(n_resamples, m)) + m * np.arange(n_resamples)[:, None]
    return np.bincount(drawn.reshape(-1), minlength=n_resamples * m).reshape(n_resamples, m).astype(np.float64)


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
        return _draw_counts(rng, n, n_resamples)
    if scheme == "blocks":
        parts = []
        start = 0
        for size in dataset.sizes():
            r = None if residuals is None else np.asarray(residuals)[start:start + size]
            start += size
            length = int(block_size) if block_size else block_length(r, size)
            block_of = np.arange(size) // length
            n_blocks = int(block_of[-1]) + 1 if size else 0
            counts = _draw_counts(rng, n_blocks, n_resamples)
            parts.append(counts[:, block_of])
        return np.concatenate(parts, axis=1).astype(np.float64)
    labels = _group_labels(dataset, scheme)
    n_groups = int(labels.max()) + 1
    if n_groups < 2:
        raise FitError(f"bootstrap_by={by!r} finds only one group; resampling it changes nothing "
                       "(use points or blocks)")
    counts = _draw_counts(rng, n_groups, n_resamples)
    return counts[:, labels].astype(np.float64)


def blind_resamples(law, dataset, counts: np.ndarray) -> np.ndarray:
    """Resamples that cannot determine terms the data do (annealing or size terms): bool ``(B,)``.

    A refit starts at the full fit, so a resample without any point after an LR decrease (a block
    bootstrap that drew none of a WSD run's cooldown blocks), or a group resample of one model size of
    ``lr-annealing-n`` (:func:`scaling.fitting.identifiable.blind_subsets`), would keep the full fit's
    values of those terms and narrow their spread; the fitter leaves such refits out and says how many.

    Parameters
    ----------
    law : Law
    dataset : Dataset
    counts : array, shape (B, n_points)
        Resampling counts in point order (:func:`resampling_weights`).
    """
    from scaling.fitting.identifiable import blind_subsets, seen_by

    return blind_subsets(seen_by(law, dataset), counts)


def percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval of ``samples`` along axis 0, ignoring NaN."""
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.nanpercentile(samples, [tail, 100.0 - tail], axis=0)
    return lo, hi


#: Initial relative damping of a warm-started refit (the multistart solver
#: starts at 1e-3 for far-away starts). A bootstrap optimum is about a
#: standard error away, where a nearly full Newton step is right; 1e-3 of
#: the largest curvature would hold back the weak directions (a, alpha are
#: strongly correlated in Chinchilla) for several iterations. Measured on
#: Epoch's points: 9.6 evaluations per refit at 1e-3, 7.2 at 1e-6 and 1e-7,
#: 8.5 at 1e-9 (more rejected full steps).
WARM_NU = 1e-6

#: The decrement rule of :func:`refit` stops at a predicted gain of this
#: fraction of ``ftol``: the compiled solver stops one step after a measured
#: gain below ``ftol``, whose own gain is far smaller (quadratic
#: convergence), so a rule at ``ftol`` itself would stop short of it.
DECREMENT_RTOL = 1e-2

#: Lanes of one evaluation when at most ``CHUNK`` refits are left (or asked
#: for): the solver's small shape, which the multistart stage compiles anyway.
TAIL_CHUNK = MIN_CHUNK


def _cholesky(A):
    """Cholesky factors of many small symmetric matrices ``(K, P, P)`` at once, and which are PD.

    A column-by-column loop over ``P`` (vectorised over ``K``): for the
    5 x 5 Hessians of a scaling law this is ~10x faster than a batched
    LAPACK call, and a matrix that is not positive definite marks its own
    lane instead of failing the batch.
    """
    k, p, _ = A.shape
    L = np.zeros_like(A)
    pd = np.all(np.isfinite(A), axis=(1, 2))
    for j in range(p):
        s = A[:, j, j] - np.einsum("ki,ki->k", L[:, j, :j], L[:, j, :j])
        pd &= s > 0
        d = np.sqrt(np.where(s > 0, s, 1.0))
        L[:, j, j] = d
        L[:, j + 1:, j] = (A[:, j + 1:, j] - np.einsum("kij,kj->ki", L[:, j + 1:, :j], L[:, j, :j])) / d[:, None]
    return L, pd


def _forward(L, b):
    """``L^{-1} b`` for lower-triangular ``L (K, P, P)``, ``b (K, P)``."""
    y = np.zeros_like(b)
    for j in range(b.shape[1]):
        y[:, j] = (b[:, j] - np.einsum("ki,ki->k", L[:, j, :j], y[:, :j])) / L[:, j, j]
    return y


def _backward(L, y):
    """``L^{-T} y`` for lower-triangular ``L``."""
    x = np.zeros_like(y)
    for j in range(y.shape[1] - 1, -1, -1):
        x[:, j] = (y[:, j] - np.einsum("ki,ki->k", L[:, j + 1:, j], x[:, j + 1:])) / L[:, j, j]
    return x


def _symmetric(H):
    """``(H + H^T) / 2`` with non-finite entries set to 0 (as the compiled solver does)."""
    Hs = 0.5 * (H + np.swapaxes(H, 1, 2))
    return np.where(np.isfinite(Hs), Hs, 0.0)


def _newton_step(theta, g, H, nu, lo, hi):
    """Damped Newton trial points, all lanes at once, projected on the bounds.

    Positive definite ``H``: ``d = -(H + nu s I)^{-1} g`` with ``s`` the
    largest diagonal entry (within a factor ``P`` of the largest
    eigenvalue). Otherwise the saddle-free step of
    :mod:`scaling.fitting.optimize`, ``d = -V diag(1 / (|l| + nu max|l|))
    V^T g`` from ``H = V diag(l) V^T``. ``H`` is symmetric (:func:`_symmetric`).
    """
    p = H.shape[1]
    scale = np.maximum(np.max(np.abs(np.diagonal(H, axis1=1, axis2=2)), axis=1), 1e-300)
    L, pd = _cholesky(H + (nu * scale)[:, None, None] * np.eye(p))
    step = _backward(L, _forward(L, g))
    bad = ~pd
    if bad.any():
        lam, V = np.linalg.eigh(H[bad])
        abs_lam = np.abs(lam)
        top = np.maximum(abs_lam.max(axis=1), 1e-300)
        vg = np.einsum("kij,ki->kj", V, g[bad])
        step[bad] = np.einsum("kij,kj->ki", V, vg / (abs_lam + (nu[bad] * top)[:, None]))
    return np.clip(theta - step, lo, hi)


def _decrement(g, H):
    """Predicted decrease of the undamped Newton step, ``g^T H^{-1} g / 2``; ``inf`` unless ``H`` is PD.

    ``H`` is symmetric (:func:`_symmetric`).
    """
    L, pd = _cholesky(H)
    y = _forward(L, g)
    return np.where(pd, 0.5 * np.einsum("ki,ki->k", y, y), np.inf)


@in_float64
def refit(law, packed, theta, weights, *, delta: float = DEFAULT_DELTA, space: str = "log", bounds=None,
          maxiter: int = 200, ftol: float = 1e-13, gtol: float = 1e-14, nu0: float = WARM_NU,
          progress=None) -> BatchResult:
    """Refit every row of ``weights`` from ``theta`` (bootstrap refits), to the solver's tolerance.

    The iteration is :mod:`scaling.fitting.optimize`'s damped saddle-free
    Newton: accept a trial point if the objective decreases (damping
    ``nu`` x0.1), else retry with ``nu`` x10; stop on an accepted step
    with ``nu <= 1`` that gains less than ``ftol`` relatively, a projected
    gradient below ``gtol``, ``nu > 1e10`` (stationary up to rounding) or
    ``maxiter`` evaluations. One more rule stops a lane one step earlier: a
    positive definite Hessian whose Newton decrement ``g^T H^{-1} g / 2``
    is at most ``DECREMENT_RTOL * ftol * |f|`` with no bound active (the
    next step could not gain that; Boyd & Vandenberghe 2004, Sec. 9.5).
    The refits end as close to their optima as the compiled solver's
    (measured on Epoch's 240 points, 4,000 resamples: both within 4e-7,
    absolute, of a ``ftol = 1e-18`` solve in every parameter; percentile
    intervals of the two agree to 1e-7 relative), in ~7 evaluations per
    refit instead of ~10 iterations plus line searches.

    When every lane starts at the same point with the same free bounds (a
    bootstrap), the first objective, gradient and Hessian of all lanes are
    one matrix product: the summed objective is linear in the weights, so
    the per-point terms at the start (one evaluation per point) serve every
    resample.

    Each evaluation of objective, gradient and Hessian is the compiled
    solver's ``init`` (``scaling.fitting.optimize.compiled(law.fn,
    space).init``), over chunks of lanes sharded on the local devices; the
    step logic is numpy over all active lanes.

    Parameters
    ----------
    law : Law
    packed : tuple
        :func:`scaling.fitting.objective.pack` of the dataset.
    theta : array (P,) or (K, P)
        Start (the best fit), fit space.
    weights : array (K, n_padded)
        Point weights of each refit (resampling counts, 0 on padding).
    delta : float
        Huber threshold (``SQUARED_DELTA`` for least squares).
    space : {"log", "raw"}
    bounds : (lo, hi), arrays (P,) or (K, P), optional
        Box bounds (default the law's).
    maxiter : int
        Objective/gradient/Hessian evaluations per lane at most.
    ftol, gtol : float
        As in :class:`~scaling.fitting.solver.DampedNewton`.
    nu0 : float
        Initial relative damping (:data:`WARM_NU`).
    progress : callable, optional
        ``progress(n_finished, K)`` after each iteration.

    Returns
    -------
    BatchResult
        ``n_iter`` counts evaluations (accepted and rejected trials).
    """
    weights = np.asarray(weights, dtype=np.float64)
    k = weights.shape[0]
    p = law.n_params
    theta = np.array(np.broadcast_to(np.asarray(theta, dtype=np.float64), (k, p)))
    if bounds is None:
        bounds = ([b[0] for b in law.bounds], [b[1] for b in law.bounds])
    lo = np.ascontiguousarray(np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (k, p)))
    hi = np.ascontiguousarray(np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (k, p)))
    evaluate = _Evaluator(law, packed, weights, lo, hi, delta, space)
    theta, f, g, H, bad = _at_start(law, packed, theta, weights, lo, hi, delta, space, evaluate)
    H = _symmetric(H)  # kept symmetric (and finite) from here on
    nu = np.full(k, float(nu0))
    n_iter = np.zeros(k, dtype=np.int64)
    status = np.where(bad, STALLED, MAXITER).astype(np.int64)
    dtol = DECREMENT_RTOL * ftol
    done = bad | _small_decrement(_decrement(g, H), f, theta, g, lo, hi, dtol)
    status[done & ~bad] = CONVERGED_FTOL
    active = np.flatnonzero(~done)
    while active.size:
        a = active
        trial = _newton_step(theta[a], g[a], H[a], nu[a], lo[a], hi[a])
        t2, f2, g2, H2, bad2 = evaluate(a, trial)
        n_iter[a] += 1
        ok = (f2 < f[a]) & ~bad2
        gain = f[a] - f2
        acc = a[ok]
        theta[acc], f[acc], g[acc], H[acc] = t2[ok], f2[ok], g2[ok], _symmetric(H2[ok])
        small_decrease = ok & (nu[a] <= 1.0) & (gain <= ftol * np.abs(f2))
        nu[a] = np.where(ok, np.maximum(nu[a] * 0.1, 1e-12), nu[a] * 10.0)
        pg = _projected(theta[a], g[a], lo[a], hi[a])
        small_grad = ok & (np.max(np.abs(pg), axis=1) <= gtol)
        small_step = np.zeros(a.size, dtype=bool)  # the decrement only changes where a step was taken
        small_step[ok] = _small_decrement(_decrement(g[acc], H[acc]), f[acc], theta[acc], g[acc], lo[acc], hi[acc],
                                          dtol)
        stalled = ~ok & (nu[a] > NU_MAX)
        status[a] = np.select([small_decrease | small_step, small_grad, stalled],
                              [CONVERGED_FTOL, CONVERGED_GTOL, STALLED], MAXITER)
        finished = small_decrease | small_step | small_grad | stalled | (n_iter[a] >= maxiter)
        active = a[~finished]
        if progress is not None:
            progress(k - active.size, k)
    f = np.where(bad, np.inf, f)
    return BatchResult(theta, f, g, n_iter, status)


def _at_start(law, packed, theta, weights, lo, hi, delta, space, evaluate):
    """``(theta, f, g, H, bad)`` of every lane at its start.

    With one start point and one set of bounds without fixed parameters,
    ``f, g, H`` are ``weights @ (per-point terms)``; otherwise (or when a
    per-point term is not finite) each lane is evaluated.
    """
    k, n_padded = weights.shape
    same = (np.all(theta == theta[:1]) and np.all(lo == lo[:1]) and np.all(hi == hi[:1])
            and bool(np.all(lo[0] < hi[0])))
    # the linear path evaluates each weighted point once: worth it with more lanes than points
    real = np.flatnonzero(np.any(weights != 0, axis=0))
    if not same or k <= real.size:
        return evaluate(np.arange(k), theta)
    one_hot = np.zeros((real.size, n_padded))
    one_hot[np.arange(real.size), real] = 1.0
    p = theta.shape[1]
    rows = np.zeros(real.size, dtype=np.int64)  # every point: the start and bounds of lane 0
    point = _Evaluator(law, packed, one_hot, lo[rows], hi[rows], delta, space)
    t_i, f_i, g_i, H_i, bad_i = point(np.arange(real.size), theta[rows])
    if bad_i.any():
        return evaluate(np.arange(k), theta)
    w = weights[:, real]
    f = w @ f_i
    g = w @ g_i
    H = (w @ H_i.reshape(real.size, p * p)).reshape(k, p, p)
    bad = ~(np.isfinite(f) & np.all(np.isfinite(g), axis=1))
    return np.broadcast_to(t_i[0], (k, p)).copy(), np.where(bad, np.inf, f), np.where(bad[:, None], 0.0, g), H, bad


class _Evaluator:
    """Objective, gradient and Hessian of many lanes: the compiled solver's ``init`` over chunks.

    Called with numpy arrays (no per-array device dispatch on one device);
    with several local devices the lanes of a chunk are sharded over them
    (:class:`scaling.fitting.solver._Placement`).
    """

    def __init__(self, law, packed, weights, lo, hi, delta, space):
        from scaling.fitting.optimize import compiled
        from scaling.fitting.solver import CHUNK, _devices, _Placement

        n_dev = self.n_dev = len(_devices())
        self.sizes = []
        for size in sorted({CHUNK, TAIL_CHUNK}, reverse=True):
            place = _Placement(size * n_dev)
            self.sizes.append((size * n_dev, place, place.wrap(compiled(law.fn, space).init), place.data(packed)))
        self.weights, self.lo, self.hi = weights, lo, hi
        self.delta = np.float64(delta)

    def __call__(self, rows, points):
        """``(theta clipped, f, g, H, bad)`` at ``points`` (one row per lane) for lanes ``rows``."""
        # up to CHUNK lanes run in TAIL_CHUNK-lane calls, as the solver does:
        # a few dozen refits then compile nothing new. The program size is
        # chosen per device, as on one device: with n devices every lane
        # runs in the program it runs in alone (bit-identical results), the
        # extra devices taking the rest
        chunk, place, init, packed = self.sizes[-1] if rows.size <= self.sizes[0][0] // self.n_dev else self.sizes[0]
        lane = place.lane if place.n > 1 else (lambda x: x)
        outs = []
        for s0 in range(0, rows.size, chunk):
            part = np.arange(s0, min(s0 + chunk, rows.size))
            pad = np.concatenate([part, np.full(chunk - part.size, part[0])])
            sel = rows[pad]
            out = init(lane(points[pad]), packed, lane(self.weights[sel]), lane(self.lo[sel]), lane(self.hi[sel]),
                       self.delta)
            outs.append([np.asarray(out[i])[: part.size] for i in (0, 1, 2, 3, 6)])
        return [np.concatenate(parts) for parts in zip(*outs)]


def _projected(theta, g, lo, hi):
    """Gradient without the components that push out of an active bound."""
    return np.where(((theta <= lo) & (g > 0)) | ((theta >= hi) & (g < 0)), 0.0, g)


def _small_decrement(decrement, f, theta, g, lo, hi, ftol):
    """Lanes whose Newton decrement is at most ``ftol |f|``, with no bound active."""
    free = np.all(_projected(theta, g, lo, hi) == g, axis=1)
    return free & (decrement <= ftol * np.abs(f))


__all__ = ["DECREMENT_RTOL", "SCHEMES", "TAIL_CHUNK", "WARM_NU", "blind_resamples", "block_length",
           "percentile_interval", "refit", "resampling_weights", "resolve_scheme"]
