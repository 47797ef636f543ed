"""The cheapest way to reach a target loss: fixed N, a cap on N, or counting inference.

For a final-loss law :math:`L(N, D)` and a target :math:`L^*`, the data needed at
model size N solves :math:`L(N, D) = L^*` (loss falls with D: bisection in
log D); the cost is training :math:`6 N D` plus inference :math:`2 N D_{inf}`
for :math:`D_{inf}` served tokens (Sardana et al. 2023, "Beyond
Chinchilla-Optimal", arXiv:2401.00448), minimised over N on a log grid that is
refined locally. Kept apart from :mod:`scaling.plan.allocation` (the
compute-optimal frontier), whose helpers it uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scaling.errors import ScalingError
from scaling.evaluate import parameter_sets, stack, with_band
from scaling.plan.allocation import law_loss, needs_allocation

# Search ranges: tokens D (bisection in log D) and model size N without a cap.
_TOKEN_RANGE, _SIZE_RANGE = (1.0, 1e22), (1e5, 1e14)


def _tokens_for_loss(law, thetas: np.ndarray, N: np.ndarray, target: float, *, iters: int = 200) -> np.ndarray:
    """Tokens D with L(N, D) = target (bisection in log D; loss falls with D). (S, M) -> (S, M).

    (Chinchilla: :math:`D = (B / (L^* - E - A N^{-\\alpha}))^{1/\\beta}`.) NaN where the target is below
    the loss with 1e22 tokens at that N (the law's floor) or met with one token (the law does not say D).
    """
    lo, hi = np.full(N.shape, np.log(_TOKEN_RANGE[0])), np.full(N.shape, np.log(_TOKEN_RANGE[1]))
    f_lo, f_hi = law_loss(law, thetas, N, np.exp(lo)), law_loss(law, thetas, N, np.exp(hi))
    ok = (f_hi <= target) & (f_lo > target)  # reachable, and not already with one token
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f_mid = law_loss(law, thetas, N, np.exp(mid))
        below = f_mid <= target
        lo, hi, f_lo, f_hi = (np.where(below, a, b) for a, b in ((lo, mid), (mid, hi), (f_lo, f_mid), (f_mid, f_hi)))
        if np.max(hi - lo) < 1e-9:
            break
    # one linear interpolation in the ~1e-9-wide bracket makes D exact to rounding (cost minima need it)
    w = np.clip((f_lo - target) / np.where(f_lo > f_hi, f_lo - f_hi, np.inf), 0.0, 1.0)
    return np.where(ok, np.exp(lo + w * (hi - lo)), np.nan)


def _cost(law, thetas, logN, target, inference_tokens):
    """Total cost 6 N D(N) + 2 N T_inf along rows of log N (S, M); inf where the target is out of reach."""
    D = _tokens_for_loss(law, thetas, np.exp(logN), target)
    cost = np.exp(logN) * (6.0 * D + 2.0 * inference_tokens)
    return np.where(np.isfinite(cost), cost, np.inf), D


def _cheapest_size(law, thetas, target, inference_tokens, lo, hi, *, n_grid, capped, rounds=5, n_local=21):
    """N minimising 6 N D(N) + 2 N T_inf on [lo, hi] (log N) per theta row -> N, D of shape (S,).

    A log grid locates the minimum; ``rounds`` local grids, each spanning the previous one's two
    neighbouring cells at 10x finer steps, refine it. A minimum on the grid's first point, or on
    its last without a cap, belongs to the search range, not the law: NaN. A cap's edge is an answer.
    """
    S = len(thetas)
    grid = np.linspace(lo, hi, n_grid)
    cost, _ = _cost(law, thetas, np.broadcast_to(grid, (S, n_grid)).copy(), target, inference_tokens)
    j = np.argmin(cost, axis=1)
    found = np.isfinite(cost[np.arange(S), j])
    edge = (j == 0) | ((j == n_grid - 1) & (not capped))
    centre, h = grid[j], grid[1] - grid[0]
    for _ in range(rounds):
        local = np.clip(centre[:, None] + h * np.linspace(-1.0, 1.0, n_local)[None, :], lo, hi)
        c_local, _ = _cost(law, thetas, local, target, inference_tokens)
        k = np.argmin(c_local, axis=1)
        centre = np.where(np.isfinite(c_local[np.arange(S), k]), local[np.arange(S), k], centre)
        h = h * 2.0 / (n_local - 1)
    _, D = _cost(law, thetas, centre[:, None], target, inference_tokens)
    ok = found & ~edge & np.isfinite(D[:, 0])
    return np.where(ok, np.exp(centre), np.nan), np.where(ok, D[:, 0], np.nan)


def compute_for_loss(fit, target_loss: float, *, N: float | None = None, max_N: float | None = None,
                     inference_tokens: float = 0.0, level: float | None = None, n_grid: int = 401):
    """Cheapest way to reach a target loss: fixed N, a cap on N, or counting inference.

    For a fixed model size N the data needed solves :math:`L(N, D) = L^*`
    (for Chinchilla :math:`D = (B / (L^* - E - A N^{-\\alpha}))^{1/\\beta}`).
    Without ``N`` the model size minimising the total cost :math:`6 N D(N) + 2 N D_{inf}`
    (training plus :math:`2N` FLOPs per served token, Sardana et al. 2023,
    arXiv:2401.00448) is searched on a log grid over N, then refined locally.
    Without inference or cap this is the compute-optimal model for that loss;
    serving tokens moves it to a smaller N trained on more tokens.

    Parameters
    ----------
    fit : FitResult
        Final-loss fit of N and D.
    target_loss : float
        Loss to reach (nats/token).
    N : float, optional
        Fix the model size instead of searching it.
    max_N : float, optional
        Largest model size allowed in the search (e.g. what the serving hardware holds).
    inference_tokens : float
        Tokens the model will process at inference over its lifetime.
    level : float, optional
        Interval level (default: the fit's).
    n_grid : int
        Grid points over log N in the search (1e5 .. max_N or 1e14).

    Returns
    -------
    pandas.DataFrame
        One row: ``target_loss``, ``N``, ``D``, ``tokens_per_param``, ``train_flops``,
        ``inference_flops``, ``total_flops``, each with ``_lo``/``_hi`` over bootstrap
        samples, and ``reachable``: the share of samples with a determined answer
        (the bounds are over those). NaN (never a search bound) where the target is
        out of reach (below the law's floor for that N), D would lie outside
        1..1e22 tokens, or the cheapest N is on the edge of the search range (1e5,
        or 1e14 without a cap: the fit does not determine it); ``attrs["why"]``
        then says which, in one line.
    """
    import pandas as pd

    law, theta, samples, fit_level = parameter_sets(fit)
    level = fit_level if level is None else float(level)
    needs_allocation(law)
    target, T = float(target_loss), float(inference_tokens)
    if not np.isfinite(T) or T < 0:
        raise ScalingError(f"inference_tokens must be a finite number >= 0, not {inference_tokens!r}")
    thetas = stack(theta, samples)
    if N is not None:
        if not (np.isfinite(float(N)) and float(N) > 0):
            raise ScalingError(f"model size N must be a positive number, not {N!r}")
        Nb = np.full(len(thetas), float(N))
        Db = _tokens_for_loss(law, thetas, Nb[:, None], target)[:, 0]
    else:
        top = float(max_N) if max_N is not None else _SIZE_RANGE[1]
        if top <= _SIZE_RANGE[0]:
            raise ScalingError(f"max_N={top:g} is too small; give a cap above {_SIZE_RANGE[0]:g} parameters")
        Nb, Db = _cheapest_size(law, thetas, target, T, np.log(_SIZE_RANGE[0]), np.log(top), n_grid=n_grid,
                                capped=max_N is not None)
    ok = np.isfinite(Nb) & np.isfinite(Db)
    Nb, Db = np.where(ok, Nb, np.nan), np.where(ok, Db, np.nan)
    values = {"N": Nb, "D": Db, "tokens_per_param": Db / Nb, "train_flops": 6.0 * Nb * Db,
              "inference_flops": 2.0 * Nb * T, "total_flops": 6.0 * Nb * Db + 2.0 * Nb * T}
    cols: dict[str, Any] = {"target_loss": np.array([target])}
    for name, v in values.items():
        band = with_band(name, v[:, None], level, samples is not None)
        cols.update({k: np.atleast_1d(x) for k, x in band.items()})
    # Share of bootstrap samples with a determined answer: the bounds above are over those only.
    cols["reachable"] = np.array([float(np.mean(ok[1:])) if samples is not None else float(ok[0])])
    df = pd.DataFrame(cols)
    if not ok[0]:  # why the point estimate has no answer (attrs["why"], one line for the shells to print)
        at = float(N) if N is not None else top
        floor = law_loss(law, thetas[:1], np.array([[at]]), np.array([[_TOKEN_RANGE[1]]]))[0, 0] > target
        df.attrs["why"] = (f"loss {target:g} is below the law's floor at N = {at:.3g}" if floor else
                           f"loss {target:g} is reached with under one token at N = {at:.3g}" if N is not None else
                           f"the cheapest N for loss {target:g} is on the edge of the search range ("
                           f"{_SIZE_RANGE[0]:.3g}..{top:.3g} parameters): the fit does not determine it")
    return df


__all__ = ["compute_for_loss"]
