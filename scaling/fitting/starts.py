"""Start points derived from the data, so that a curve fit does not depend on the LR's or loss's units.

A fixed start grid (``L0`` in 2..4, ``C`` in 0.3..2) is tuned to one paper's
learning rate and loss level: multiply every LR by 10 and ``A`` should be
``10^alpha`` times larger and ``C`` 10 times smaller, so the same grid starts
the solver in a different basin. Here the loss-curve laws are written as

.. math::

    L(s) = L_0 + A\\, x(s; \\phi) - B\\, y(s; \\phi)

with ``x``, ``y`` fixed by the non-linear parameters ``phi`` (``alpha`` and
``lam`` for lr-annealing: ``x = S1^-alpha``, ``y = S2``; ``alpha, C, beta,
gamma`` for multi-power: ``x = S1^-alpha``, ``y = LD``). For each ``phi``
on a small grid of *dimensionless* values the linear coefficients
``(L0, A, B)`` are the bounded least-squares solution on the fitted points
(relative residuals ``(L_hat - L) / L``, variable projection; Golub and
Pereyra 1973). The multi-power ``C`` is gridded in LR-normalised form
``C_n = C * p^(1 - gamma)`` (``p`` the peak LR of the data), since
``C eta^-gamma S_k`` is invariant under ``eta -> p eta`` only so.

The result: starts that transform exactly with the data (``L0`` shifts with
a constant added to every loss, ``A``, ``C`` rescale with the LR), hence
fits whose predictions do not depend on units (``tests/test_invariance.py``).
Laws without a data-derived start use their own grid (:meth:`Law.starts`).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

#: Dimensionless grids of the non-linear parameters.
ALPHA_GRID = (0.2, 0.35, 0.5, 0.7, 1.0)
MPL_GRID = {"alpha": (0.4, 0.6), "Cn": (0.03, 0.15), "beta": (0.6,), "gamma": (0.6,)}


def bounded_lstsq(M: np.ndarray, y: np.ndarray, lo, hi) -> np.ndarray:
    """``argmin ||M x - y||`` subject to ``lo <= x <= hi``, exactly, for a few columns.

    The minimiser of a convex quadratic over a box is the unconstrained
    minimiser on one of its faces: each coordinate is free or held at a
    bound. With ``P <= 4`` columns there are at most ``3^P = 81`` faces, so
    every face is solved (tiny least squares) and the best feasible point is
    kept. Exact, and free of ``scipy.optimize``'s import cost.
    """
    M = np.asarray(M, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    p = M.shape[1]
    best, best_f = None, np.inf
    for states in itertools.product((0, 1, 2), repeat=p):  # 0 free, 1 at lo, 2 at hi
        x = np.where(np.array(states) == 1, lo, np.where(np.array(states) == 2, hi, 0.0))
        if not np.all(np.isfinite(x[np.array(states) != 0])):
            continue
        free = np.array(states) == 0
        rhs = y - M[:, ~free] @ x[~free]
        if free.any():
            x[free] = np.linalg.lstsq(M[:, free], rhs, rcond=None)[0]
        if np.all(x >= lo - 1e-12 * np.abs(lo)) and np.all(x <= hi + 1e-12 * np.abs(hi)):
            f = float(np.sum((M @ x - y) ** 2))
            if f < best_f:
                best, best_f = np.clip(x, lo, hi), f
    return best if best is not None else np.clip(np.zeros(p), lo, hi)


def _linear_coefficients(rows_x, rows_y, loss, lo, hi) -> np.ndarray | None:
    """Bounded least squares for ``(L0, A, B)`` of ``L0 + A x - B y`` on relative residuals."""
    x = np.concatenate(rows_x)
    y = np.concatenate(rows_y)
    w = 1.0 / loss
    M = np.stack([np.ones_like(x), x, -y], axis=1) * w[:, None]
    if not np.all(np.isfinite(M)):
        return None
    scale = np.maximum(np.max(np.abs(M), axis=0), 1e-300)  # column scaling: the solve is not unit-free
    Ms = M / scale
    lo_s, hi_s = np.asarray(lo) * scale, np.asarray(hi) * scale
    if np.max(np.abs(M[:, 2])) == 0.0:  # no annealing information: B starts at its lower bound
        coef = bounded_lstsq(Ms[:, :2], loss * w, lo_s[:2], hi_s[:2])
        return np.r_[coef / scale[:2], lo[2]]
    return bounded_lstsq(Ms, loss * w, lo_s, hi_s) / scale


@functools.lru_cache(maxsize=32)
def _jitted(kind: str, *static):
    """One jitted area / loss-drop function per law option set (eager JAX compiles every op apart)."""
    import jax

    if kind == "areas":
        from scaling.laws.lr_annealing import schedule_areas

        warmup, warmup_steps = static
        return jax.jit(lambda lr, lam: schedule_areas(lr, lam=lam, warmup=warmup, warmup_steps=warmup_steps))
    from scaling.areas import multi_power_ld, warmup_end

    (warmup,) = static

    def ld(lr, step, c, beta, gamma):
        start = 1 if warmup == "repo" else warmup_end(lr) + 1
        return multi_power_ld(lr, step, c, beta, gamma, start=start)

    return jax.jit(ld)


def _lr_annealing_starts(law, dataset) -> np.ndarray:
    from scaling.laws.lr_annealing import LAM_GRID

    fit_lam = law.options.get("lam") == "fit"
    lams = LAM_GRID if fit_lam else (float(law.options.get("lam", 0.999)),)
    loss = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in dataset])
    b = law.bounds
    lo, hi = (b[0][0], b[1][0], b[3][0]), (b[0][1], b[1][1], b[3][1])
    starts = []
    for lam in lams:
        s1s, s2s = [], []
        for g in dataset:
            areas = _jitted("areas", law.options.get("warmup", "real"), law.options.get("warmup_steps"))
            s1, s2 = areas(np.asarray(g.inputs["lr"], dtype=np.float64), np.float64(lam))
            step = np.asarray(g.inputs["step"], dtype=np.int64)
            s1s.append(np.maximum(np.asarray(s1, dtype=np.float64)[step], 1e-12))
            s2s.append(np.asarray(s2, dtype=np.float64)[step])
        for alpha in ALPHA_GRID:
            coef = _linear_coefficients([s ** -alpha for s in s1s], s2s, loss, lo, hi)
            if coef is None:
                continue
            theta = [coef[0], coef[1], alpha, coef[2]] + ([lam] if fit_lam else [])
            starts.append(theta)
    return np.asarray(starts, dtype=np.float64).reshape(-1, law.n_params)


def _multi_power_starts(law, dataset) -> np.ndarray:

    loss = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in dataset])
    peak = max(float(np.max(g.inputs["lr"])) for g in dataset)
    b = law.bounds
    lo = (b[0][0], b[1][0], float(np.exp(b[3][0])))
    hi = (b[0][1], b[1][1], float(np.exp(b[3][1])))
    warmup = law.options.get("warmup", "repo")
    s1s = []
    for g in dataset:
        s1 = np.cumsum(np.asarray(g.inputs["lr"], dtype=np.float64))
        s1s.append(np.maximum(s1[np.asarray(g.inputs["step"], dtype=np.int64)], 1e-12))
    starts = []
    for cn, beta, gamma in itertools.product(MPL_GRID["Cn"], MPL_GRID["beta"], MPL_GRID["gamma"]):
        c = cn * peak ** (gamma - 1.0)
        ld = _jitted("ld", warmup)
        lds = [np.asarray(ld(np.asarray(g.inputs["lr"], dtype=np.float64), np.asarray(g.inputs["step"]),
                             np.float64(c), np.float64(beta), np.float64(gamma)), dtype=np.float64)
               for g in dataset]
        for alpha in MPL_GRID["alpha"]:
            coef = _linear_coefficients([s ** -alpha for s in s1s], lds, loss, lo, hi)
            if coef is None:
                continue
            starts.append([coef[0], coef[1], alpha, np.log(max(coef[2], float(np.exp(b[3][0])))), np.log(c), beta,
                           gamma])
    return np.asarray(starts, dtype=np.float64).reshape(-1, law.n_params)


DATA_STARTS = {"lr-annealing": _lr_annealing_starts, "multi-power": _multi_power_starts}


def default_starts(law, dataset) -> np.ndarray:
    """The fitter's default starts, shape (K, P): data-derived for the curve laws above, else ``law.starts()``.

    Starts are clipped onto the law's bounds. A law whose data-derived
    starts fail (non-finite inputs) falls back to its grid.
    """
    make = DATA_STARTS.get(law.name)
    if make is None or dataset.info.get("kind") != "curves":
        return law.starts()
    with np.errstate(all="ignore"):
        starts = make(law, dataset)
    starts = starts[np.all(np.isfinite(starts), axis=1)] if starts.size else starts
    if starts.shape[0] == 0:
        return law.starts()
    lo = np.array([b[0] for b in law.bounds], dtype=np.float64)
    hi = np.array([b[1] for b in law.bounds], dtype=np.float64)
    return np.clip(starts, lo, hi)


__all__ = ["ALPHA_GRID", "DATA_STARTS", "MPL_GRID", "bounded_lstsq", "default_starts"]
