"""Variable projection start design for laws linear in non-negative coefficients.

For a law that declares :class:`~scaling.laws.base.LinearTerms`, e.g.
Chinchilla's

.. math::

    L(N, D) = A N^{-\\alpha} + B D^{-\\beta} + E,

the coefficients ``c = (A, B, E)`` for FIXED exponents ``lambda = (alpha,
beta)`` minimise a weighted least-squares problem in closed form

.. math::

    \\hat c(\\lambda) = \\arg\\min_{c \\ge 0} \\sum_i w_i (\\Phi(\\lambda) c - y)_i^2

(variable projection: Golub & Pereyra 1973; non-negativity as in Lawson &
Hanson's NNLS). With ``w_i = 1`` this is exactly least squares on raw loss;
with ``w_i = 1 / y_i^2`` it is relative least squares, the first-order
approximation of least squares on LOG loss. The Huber-on-log objective
(Hoffmann et al. 2022) is not least squares at all, so VarPro is not exact
there: it only ranks the grid. Every grid point ``lambda`` gets the
projected coefficients, the TRUE objective is evaluated at ``(c(lambda),
lambda)``, and the best few, spread over the grid, are handed to the damped
Newton solver on the true objective (:func:`scaling.fitting.fitter.fit`).

All of it is numpy (a 40 x 40 exponent grid and 240 points cost a few
milliseconds); nothing here compiles.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

#: Coefficients that NNLS sets to zero get this fraction of the loss scale
#: instead, so that ``log c`` stays finite (Newton can still take them down).
COEF_FLOOR = 1e-8


def _flat_inputs(dataset) -> tuple[dict, np.ndarray]:
    keys = dataset[0].inputs.keys()
    inputs = {k: np.concatenate([np.atleast_1d(np.asarray(g.inputs[k], dtype=np.float64)) for g in dataset])
              for k in keys}
    y = np.concatenate([np.asarray(g.loss, dtype=np.float64) for g in dataset])
    return inputs, y


def nnls_batch(G: np.ndarray, b: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative least squares from normal equations, many small problems at once.

    Solves ``min_{c >= 0} c^T G c - 2 b^T c + yy`` for each leading index by
    enumerating the active sets (``2^J - 1`` of them; exact for the ``J <=
    ~5`` coefficients of a scaling law): the constrained optimum is the best
    feasible unconstrained solution on some subset of free coefficients.

    Parameters
    ----------
    G : array (..., J, J)
        Gram matrices ``Phi^T W Phi``.
    b : array (..., J)
        ``Phi^T W y``.
    yy : array (...)
        ``y^T W y``.

    Returns
    -------
    c : array (..., J)
        Non-negative coefficients.
    sse : array (...)
        Weighted sum of squared residuals at ``c``.
    """
    j = G.shape[-1]
    lead = G.shape[:-2]
    best_c = np.zeros(lead + (j,))
    best_sse = np.array(yy, dtype=np.float64, copy=True)  # c = 0 is always feasible
    # scale columns to unit diagonal: the Gram of N^-alpha, D^-beta and 1
    # spans many orders of magnitude
    d = np.sqrt(np.maximum(np.diagonal(G, axis1=-2, axis2=-1), 1e-300))
    Gs = G / (d[..., :, None] * d[..., None, :])
    bs = b / d
    for size in range(1, j + 1):
        for subset in itertools.combinations(range(j), size):
            idx = np.array(subset)
            Gss = Gs[..., idx[:, None], idx[None, :]]
            bss = bs[..., idx]
            # a tiny ridge on the unit-diagonal system: collinear columns (an
            # exponent of 0 makes N^-alpha constant) stay solvable
            cs = np.linalg.solve(Gss + 1e-12 * np.eye(size), bss[..., None])[..., 0]
            sse = yy - 2 * np.einsum("...i,...i->...", cs, bss) + np.einsum("...i,...ij,...j->...", cs, Gss, cs)
            ok = np.all(cs >= 0.0, axis=-1) & (sse < best_sse)
            c_full = np.zeros(lead + (j,))
            c_full[..., idx] = cs / d[..., idx]
            best_c = np.where(ok[..., None], c_full, best_c)
            best_sse = np.where(ok, sse, best_sse)
    return best_c, best_sse


def projected_grid(linear, inputs: dict, y: np.ndarray, weights: np.ndarray, keep: int = 200):
    """VarPro over the whole exponent grid.

    Returns
    -------
    grid : list of (name, values)
        The nonlinear parameters and their grid values (axis order).
    coef : array (m_1, ..., m_q, J)
        Non-negative coefficients at every grid point.
    positions : array of int (k, q)
        Grid indices of the ``keep`` points with the smallest weighted
        squared error, best first.
    pred : array (k, n)
        The law's prediction at those points.
    """
    names = list(linear.grid)
    values = [np.asarray(linear.grid[k], dtype=np.float64) for k in names]
    shape = tuple(v.size for v in values)
    q = len(names)
    axes, cols = [], []  # per term: grid axis (None: constant) and values (m, n)
    for _, nonlinear, basis in linear.terms:
        if nonlinear is None:
            axes.append(None)
            cols.append(np.asarray(basis(None, inputs), dtype=np.float64).reshape(1, -1))
        else:
            axes.append(names.index(nonlinear))
            cols.append(np.stack([np.asarray(basis(v, inputs), dtype=np.float64) for v in values[axes[-1]]]))

    def on_grid(arr, arr_axes):
        # put an array whose dims follow ``arr_axes`` onto the full grid shape
        arr_axes = [a for a in arr_axes if a is not None]
        if len(arr_axes) == 2 and arr_axes[0] > arr_axes[1]:
            arr, arr_axes = arr.T, arr_axes[::-1]
        full = [1] * q
        for a in arr_axes:
            full[a] = shape[a]
        return np.broadcast_to(np.reshape(arr, full), shape)

    # Gram entries by matrix products over the points, each placed on the
    # grid axes it depends on (never a (grid, n, J) array)
    j = len(cols)
    G = np.empty(shape + (j, j))
    b = np.empty(shape + (j,))
    for r in range(j):
        wr = cols[r] * weights
        b[..., r] = on_grid(wr @ y, [axes[r]])
        for c in range(r, j):
            m = wr @ cols[c].T  # (m_r, m_c)
            if axes[r] is not None and axes[r] == axes[c]:
                entry = on_grid(np.diagonal(m), [axes[r]])
            elif axes[r] is None:
                entry = on_grid(m.reshape(-1), [axes[c]])
            elif axes[c] is None:
                entry = on_grid(m.reshape(-1), [axes[r]])
            else:
                entry = on_grid(m, [axes[r], axes[c]])
            G[..., r, c] = G[..., c, r] = entry
    yy = float(np.sum(weights * y * y)) * np.ones(shape)
    coef, sse = nnls_batch(G, b, yy)
    # the prediction only where the least-squares fit is among the best
    # ``keep``: ranking by the true objective needs no more (and the full
    # (grid, n) array would cost more than everything else here)
    flat = np.argsort(sse, axis=None)[:keep]
    pos = np.unravel_index(flat, shape)
    pred = np.zeros((flat.size, y.size))
    for k in range(j):
        rows = cols[k][0][None, :] if axes[k] is None else cols[k][pos[axes[k]]]
        pred += coef[pos + (k,)][:, None] * rows
    positions = np.stack(pos, axis=1)
    return list(zip(names, values)), coef, positions, pred


def _objective_values(pred: np.ndarray, y: np.ndarray, space: str, delta: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(pred) - np.log(y) if space == "log" else pred - y
    a = np.abs(r)
    h = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return np.where(np.all(np.isfinite(r), axis=-1), np.sum(h, axis=-1), np.inf)


def varpro_starts(law, dataset, *, space: str = "log", delta: float = 1e-3, n_starts: int = 6,
                  spread: int = 1) -> tuple[np.ndarray, dict]:
    """Start points for the Newton solver from a VarPro scan of the exponent grid.

    Parameters
    ----------
    law : Law
        A law with ``law.linear`` set.
    dataset : Dataset
    space : {"log", "raw"}
        Residual space of the objective: ``"log"`` ranks by the objective on
        ``log L`` (coefficients by relative least squares, ``w = 1/y^2``),
        ``"raw"`` on ``L`` itself (coefficients by plain least squares).
    delta : float
        Huber threshold of the objective that ranks the grid (a huge value:
        least squares).
    n_starts : int
        How many grid points to return.
    spread : int
        Chosen grid points are at least ``spread + 1`` grid steps apart in
        some exponent (so the starts cover separate basins, not one).

    Returns
    -------
    starts : array (k, P)
        Fit-space start points, best-ranked first.
    info : dict
        ``grid_points`` (number scanned) and ``objective`` (the true
        objective at each returned start).
    """
    linear = law.linear
    inputs, y = _flat_inputs(dataset)
    weights = 1.0 / (y * y) if space == "log" else np.ones_like(y)
    grid, coef, positions, pred = projected_grid(linear, inputs, y, weights)
    scale = np.abs(y).mean()
    f = _objective_values(np.where(pred > 0, pred, np.nan) if space == "log" else pred, y, space, delta)
    chosen: list[tuple[int, ...]] = []
    chosen_f: list[float] = []
    for i in np.argsort(f):
        if not np.isfinite(f[i]) or len(chosen) >= n_starts:
            break
        pos = tuple(int(p) for p in positions[i])
        if all(max(abs(p - q) for p, q in zip(pos, c)) > spread for c in chosen):
            chosen.append(pos)
            chosen_f.append(float(f[i]))
    names = list(law.param_names)
    starts = np.zeros((len(chosen), len(names)))
    for k, pos in enumerate(chosen):
        for (name, values), p in zip(grid, pos):
            starts[k, names.index(name)] = values[p]
        for j, (coef_name, nonlinear, basis) in enumerate(linear.terms):
            # the coefficient's natural scale: it multiplies a column whose
            # mean size is typical; a zero becomes a small positive value
            col = np.asarray(basis(None if nonlinear is None else starts[k, names.index(nonlinear)], inputs))
            floor = COEF_FLOOR * scale / max(float(np.mean(np.abs(col))), 1e-300)
            c = max(float(coef[pos + (j,)]), floor)
            starts[k, names.index(coef_name)] = np.log(c) if linear.log_coefficients else c
    lo = np.array([b[0] for b in law.bounds])
    hi = np.array([b[1] for b in law.bounds])
    starts = np.clip(starts, lo, hi)
    return starts, {"grid_points": int(coef[..., 0].size), "objective": chosen_f}


def has_linear_terms(law, names: Sequence[str] | None = None) -> bool:
    """Whether the law declares a linear-in-coefficients structure usable here."""
    return getattr(law, "linear", None) is not None and law.kind == "final"


__all__ = ["has_linear_terms", "nnls_batch", "projected_grid", "varpro_starts"]
