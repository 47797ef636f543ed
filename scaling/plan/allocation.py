"""Compute-optimal size, data and loss from a final-loss fit; over-training and inference.

Everything here is a pure function of a fit result (its law, point estimate
and bootstrap ``samples``) and of plain numbers; nothing is refitted, nothing
is printed or plotted (the CLI and :mod:`scaling.report` do that). Intervals
are percentile intervals over the bootstrap samples, computed by running the
same planning math on every sample at once (vectorised over samples).

Compute-optimal allocation
--------------------------
With training compute :math:`C = 6 N D` (Kaplan et al. 2020) and a final-loss
law :math:`L(N, D)`, the compute-optimal model size and data are

.. math::

    N_{opt}(C) = \\arg\\min_{N} L\\left(N, \\frac{C}{6N}\\right),
    \\qquad D_{opt}(C) = \\frac{C}{6 N_{opt}(C)} .

For Chinchilla, :math:`L = E + A N^{-\\alpha} + B D^{-\\beta}` (Hoffmann et
al. 2022, arXiv:2203.15556, Eq. 4 and App. A), this has the closed form

.. math::

    G = \\left(\\frac{\\alpha A}{\\beta B}\\right)^{1/(\\alpha+\\beta)}, \\quad
    N_{opt} = G \\left(\\frac{C}{6}\\right)^{a}, \\quad
    D_{opt} = G^{-1} \\left(\\frac{C}{6}\\right)^{b}, \\quad
    a = \\frac{\\beta}{\\alpha+\\beta}, \\; b = \\frac{\\alpha}{\\alpha+\\beta}.

Laws without a closed form are minimised numerically along the iso-FLOP line
(a log-spaced grid in tokens per parameter, then golden-section refinement).

Over-training and inference
---------------------------
:func:`loss_at` gives the predicted loss for any (N, D), e.g. a fixed N
trained far past :math:`D_{opt}`. :func:`scaling.plan.target_loss.compute_for_loss` gives the compute
needed to reach a target loss at a fixed N, under a cap on N, or counting
inference: total cost :math:`6 N D + 2 N D_{inf}` for :math:`D_{inf}` tokens
served (Sardana et al. 2023, "Beyond Chinchilla-Optimal", arXiv:2401.00448).

See :mod:`scaling.plan.schedules` for schedule choice.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from scaling.errors import ScalingError
from scaling.evaluate import parameter_sets, stack, values_paired, with_band
from scaling.inputs import final_inputs
from scaling.plan.chinchilla import CHINCHILLA_KEYS, chinchilla_allocation, flops_where_optimal, natural_parameters

# Search range of the numeric iso-FLOP minimiser, in tokens per parameter D/N.
_RATIO_RANGE = (1e-4, 1e7)


def law_loss(law, thetas, N, D):
    """Law loss for each theta row at matching rows of N, D (both (S, M)); float64 numpy."""
    N, D = np.asarray(N, np.float64), np.asarray(D, np.float64)
    return values_paired(law, thetas, final_inputs(law, N=N, D=D))


def needs_allocation(law) -> None:
    if law.kind != "final":
        raise ScalingError(
            f"law {law.name!r} is a loss-curve law; compute-optimal planning needs a final-loss law "
            "of N and D (e.g. fit 'chinchilla' on a points table)"
        )
    ins = set(law.inputs)
    if not ({"N", "D"} <= ins or {"N", "M"} <= ins):
        raise ScalingError(
            f"law {law.name!r} reads only {sorted(ins)}; compute-optimal allocation needs a law of both "
            "model size N and data D (e.g. 'chinchilla')"
        )


def optimal_allocation(law, thetas, flops, *, method: str = "auto") -> dict[str, np.ndarray]:
    """Compute-optimal N, D and loss for every parameter vector and budget.

    .. math::

        N_{opt}(C) = \\arg\\min_N L(N, C / (6N)), \\quad D_{opt} = C / (6 N_{opt})

    Parameters
    ----------
    law : Law
        A final-loss law of ``N`` and ``D`` (or ``N`` and ``M = D/N``).
    thetas : array, shape (S, P) or (P,)
        Parameter vectors in the law's fit space (a point estimate and/or
        bootstrap samples).
    flops : float or array, shape (K,)
        Training budgets C in FLOPs.
    method : {"auto", "closed", "numeric"}
        ``"closed"`` uses the Chinchilla closed form (law must be Chinchilla
        shaped), ``"numeric"`` minimises along the iso-FLOP line, ``"auto"``
        picks the closed form when it applies.

    Returns
    -------
    dict
        ``N``, ``D``, ``tokens_per_param``, ``loss``: arrays of shape (S, K).
        Numeric solutions that hit the search edge (tokens per parameter
        outside 1e-4..1e7) are NaN.
    """
    thetas = np.atleast_2d(np.asarray(thetas, dtype=np.float64))
    flops = np.atleast_1d(np.asarray(flops, dtype=np.float64))
    if np.any(~np.isfinite(flops)) or np.any(flops <= 0):
        raise ScalingError("FLOP budgets must be positive finite numbers, e.g. --flops 1e21")
    needs_allocation(law)
    if method not in ("auto", "closed", "numeric"):
        raise ValueError(f"method must be 'auto', 'closed' or 'numeric', not {method!r}")
    nat = natural_parameters(law, thetas) if method != "numeric" else None
    if method == "closed" and nat is None:
        raise ScalingError(f"law {law.name!r} has no Chinchilla closed form; use method='numeric'")
    if nat is not None:
        out = chinchilla_allocation(*(nat[k][:, None] for k in CHINCHILLA_KEYS), flops[None, :])
        return {k: out[k] for k in ("N", "D", "tokens_per_param", "loss")}
    return _numeric_allocation(law, thetas, flops)


def _numeric_allocation(law, thetas: np.ndarray, flops: np.ndarray, *, n_grid: int = 221, n_golden: int = 60):
    """Minimise L(N, C/6N) over log tokens-per-parameter: grid, then golden section."""
    S, K = len(thetas), len(flops)
    # Parametrise by u = log(D/N): N = sqrt(C / (6 e^u)), D = N e^u; the line is covered
    # uniformly in log N and the search range is the same for every budget.
    lo, hi = np.log(_RATIO_RANGE[0]), np.log(_RATIO_RANGE[1])
    grid = np.linspace(lo, hi, n_grid)
    logc6 = np.log(flops / 6.0)

    def nd(u):  # u (S, K, M) -> N, D
        logN = 0.5 * (logc6[None, :, None] - u)
        return np.exp(logN), np.exp(logN + u)

    def loss(u):
        N, D = nd(u)
        M = u.shape[-1]
        return law_loss(law, thetas, N.reshape(S, K * M), D.reshape(S, K * M)).reshape(S, K, M)

    u = np.broadcast_to(grid, (S, K, n_grid))
    L = loss(u)
    L = np.where(np.isfinite(L), L, np.inf)
    i = np.argmin(L, axis=-1)
    edge = (i == 0) | (i == n_grid - 1)
    step = grid[1] - grid[0]
    a = grid[np.clip(i - 1, 0, n_grid - 1)]
    b = grid[np.clip(i + 1, 0, n_grid - 1)]
    # golden-section search on [a, b], vectorised over (S, K)
    r = (math.sqrt(5.0) - 1.0) / 2.0
    c = b - r * (b - a)
    d = a + r * (b - a)
    fc = loss(c[..., None])[..., 0]
    fd = loss(d[..., None])[..., 0]
    for _ in range(n_golden):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new = np.where(left, b - r * (b - a), a + r * (b - a))
        fnew = loss(new[..., None])[..., 0]
        d, fd, c, fc = (
            np.where(left, c, new),
            np.where(left, fc, fnew),
            np.where(left, new, d),
            np.where(left, fnew, fd),
        )
        if np.all(np.abs(b - a) < 1e-10 * step):
            break
    u_opt = 0.5 * (a + b)
    N, D = nd(u_opt[..., None])
    N, D = N[..., 0], D[..., 0]
    L_opt = loss(u_opt[..., None])[..., 0]
    bad = edge | ~np.isfinite(L_opt)
    N, D, L_opt = (np.where(bad, np.nan, v) for v in (N, D, L_opt))
    return {"N": N, "D": D, "tokens_per_param": D / N, "loss": L_opt}


def compute_optimal(fit, flops, *, level: float | None = None, method: str = "auto"):
    """Compute-optimal model size, data and loss for one or more FLOP budgets.

    For each budget C: :math:`N_{opt}(C)`, :math:`D_{opt}(C) = C/(6N_{opt})`,
    tokens per parameter :math:`D_{opt}/N_{opt}` and the predicted loss there,
    each with a percentile interval over the fit's bootstrap samples (the
    optimum is recomputed for every sample). See the module docstring for the
    Chinchilla closed form used when it applies.

    Parameters
    ----------
    fit : FitResult
        A fit of a final-loss law of ``N`` and ``D`` (e.g. ``chinchilla``).
    flops : float or sequence of float
        Training budgets C in FLOPs.
    level : float, optional
        Interval level (default: the fit's level, e.g. 0.9 -> 5-95 %).
    method : {"auto", "closed", "numeric"}
        See :func:`optimal_allocation`.

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``flops``, ``N``, ``N_lo``, ``N_hi``, ``D``,
        ``D_lo``, ``D_hi``, ``tokens_per_param`` (+ ``_lo``/``_hi``),
        ``loss`` (+ ``_lo``/``_hi``). Bounds are NaN when the fit has no
        bootstrap samples.

    Examples
    --------
    >>> plan = compute_optimal(fit, [1e21, 1e22])            # doctest: +SKIP
    >>> plan[["flops", "N", "D", "loss"]]                      # doctest: +SKIP
    """
    import pandas as pd

    law, theta, samples, fit_level = parameter_sets(fit)
    level = fit_level if level is None else float(level)
    flops = np.atleast_1d(np.asarray(flops, dtype=np.float64))
    out = optimal_allocation(law, stack(theta, samples), flops, method=method)
    cols: dict[str, np.ndarray] = {"flops": flops}
    for name in ("N", "D", "tokens_per_param", "loss"):
        cols.update(with_band(name, out[name], level, samples is not None))
    return pd.DataFrame(cols)


def loss_at(fit, N, D, *, level: float | None = None):
    """Predicted final loss at any model size N and data D (e.g. over-trained models).

    .. math::  L(N, D), \\qquad C = 6 N D

    ``N`` and ``D`` broadcast against each other, so ``loss_at(fit, 1e9,
    np.geomspace(2e10, 2e12, 20))`` is the loss of a 1B model trained on
    more and more tokens (Gadre et al. 2024, arXiv:2403.08540, call D/N the
    token multiplier M).

    Returns
    -------
    pandas.DataFrame
        ``N``, ``D``, ``tokens_per_param``, ``flops`` (= 6ND), ``loss``,
        ``loss_lo``, ``loss_hi`` (bounds over bootstrap samples; NaN without).
    """
    import pandas as pd

    law, theta, samples, fit_level = parameter_sets(fit)
    level = fit_level if level is None else float(level)
    if law.kind != "final":
        raise ScalingError(f"law {law.name!r} is a loss-curve law; loss_at needs a final-loss law of N and D")
    N, D = np.broadcast_arrays(np.asarray(N, np.float64), np.asarray(D, np.float64))
    N, D = N.reshape(-1), D.reshape(-1)
    if np.any(N <= 0) or np.any(D <= 0):
        raise ScalingError("model size N and tokens D must be positive")
    thetas = stack(theta, samples)
    S = len(thetas)
    L = law_loss(law, thetas, np.broadcast_to(N, (S, len(N))), np.broadcast_to(D, (S, len(D))))
    cols = {"N": N, "D": D, "tokens_per_param": D / N, "flops": 6.0 * N * D}
    cols.update(with_band("loss", L, level, samples is not None))
    return pd.DataFrame(cols)




def optimal_tokens(fit, N, *, level: float | None = None):
    """Tokens for which model size N is compute-optimal: D with N_opt(6 N D) = N.

    The inverse of the frontier: train N on fewer tokens and it is
    under-trained, on more and it is over-trained. Closed form for
    Chinchilla; otherwise N_opt(C) is computed on a log grid of budgets and
    inverted by interpolation (N_opt grows with C); for the point estimate
    and every sample.

    Returns
    -------
    pandas.DataFrame
        ``N``, ``D``, ``D_lo``, ``D_hi``, ``tokens_per_param`` (+ bounds),
        ``flops`` (= 6ND at the point estimate).
    """
    import pandas as pd

    law, theta, samples, fit_level = parameter_sets(fit)
    level = fit_level if level is None else float(level)
    needs_allocation(law)
    N = np.atleast_1d(np.asarray(N, dtype=np.float64))
    thetas = stack(theta, samples)
    nat = natural_parameters(law, thetas)
    if nat is not None:
        lo = hi = np.log(flops_where_optimal(nat["A"][:, None], nat["B"][:, None], nat["alpha"][:, None],
                                             nat["beta"][:, None], N[None, :]))
    else:
        # N_opt(C) on one log grid of budgets for all samples, then invert by interpolation
        # in log-log space (N_opt is increasing in C).
        grid = np.linspace(np.log(6 * N.min() ** 2 * 1e-4), np.log(6 * N.max() ** 2 * 1e7), 400)
        n_opt = np.log(optimal_allocation(law, thetas, np.exp(grid))["N"])
        lo = np.stack([np.interp(np.log(N), np.where(np.isfinite(r), r, -np.inf), grid, left=np.nan, right=np.nan)
                       for r in n_opt])
        hi = lo
    D = np.exp(0.5 * (lo + hi)) / (6 * N[None, :])
    cols: dict[str, Any] = {"N": N}
    cols.update(with_band("D", D, level, samples is not None))
    cols.update(with_band("tokens_per_param", D / N[None, :], level, samples is not None))
    cols["flops"] = 6 * N * cols["D"]
    return pd.DataFrame(cols)


def isoflop_curves(fit, flops, *, n_points: int = 41, decades: float = 1.0):
    """Predicted loss along iso-FLOP lines around the compute-optimal size.

    For each budget C, N runs log-uniformly over ``decades`` on each side of
    :math:`N_{opt}(C)` and :math:`D = C/(6N)` (Hoffmann et al. 2022, Approach
    2 plots these "IsoFLOP profiles").

    Returns
    -------
    pandas.DataFrame
        ``flops``, ``N``, ``D``, ``loss``, ``loss_lo``, ``loss_hi``,
        ``is_optimum`` (True on one extra row per budget at N_opt).
    """
    import pandas as pd

    law, theta, samples, fit_level = parameter_sets(fit)
    flops = np.atleast_1d(np.asarray(flops, dtype=np.float64))
    opt = optimal_allocation(law, theta[None, :], flops)
    frames = []
    for k, C in enumerate(flops):
        n_opt = opt["N"][0, k]
        if not np.isfinite(n_opt):
            continue
        Ns = np.geomspace(n_opt / 10**decades, n_opt * 10**decades, n_points)
        Ns = np.append(Ns, n_opt)
        df = loss_at(fit, Ns, C / (6.0 * Ns), level=fit_level)
        df["flops"] = C  # exact, so rows group by budget (6ND differs in the last bit)
        df["is_optimum"] = np.arange(len(Ns)) == len(Ns) - 1
        frames.append(df[["flops", "N", "D", "loss", "loss_lo", "loss_hi", "is_optimum"]])
    if not frames:
        raise ScalingError("no finite compute-optimal point for these budgets; check the fit")
    return pd.concat(frames, ignore_index=True)


def flops_range(spec: str) -> np.ndarray:
    """Parse ``"1e19:1e23:9"`` into 9 log-spaced budgets from 1e19 to 1e23 FLOPs."""
    parts = str(spec).split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ScalingError(f"bad FLOP range {spec!r}; write START:STOP:COUNT, e.g. 1e19:1e23:9") from None
    if not (0 < lo < hi) or n < 2:
        raise ScalingError(f"bad FLOP range {spec!r}; need 0 < START < STOP and COUNT >= 2")
    return np.geomspace(lo, hi, n)


def range_warnings(fit, *, flops=None, N=None, D=None, factor: float = 3.0) -> list[str]:
    """Lines saying how far a plan lies outside what the fit saw (empty when inside).

    Parameters
    ----------
    fit : FitResult
        Its ``data_info["ranges"]`` holds the fitted ``[min, max]`` of N, D
        and C (recorded by the fitter).
    flops, N, D : arrays, optional
        The planned budgets, model sizes and token counts.
    factor : float
        Values within ``factor`` of the fitted range are not flagged
        (a short extrapolation is what a scaling law is for).

    Returns
    -------
    list of str
        e.g. ``"C = 1e+24 is 1.2e+03x beyond the largest fitted C (8.1e+20)"``.
    """
    ranges = (getattr(fit, "data_info", None) or {}).get("ranges") or {}
    out = []
    for name, vals in (("C", flops), ("N", N), ("D", D)):
        if vals is None or name not in ranges:
            continue
        lo, hi = (float(x) for x in ranges[name])
        for v in np.atleast_1d(np.asarray(vals, np.float64)):
            if not np.isfinite(v):
                continue
            if v > hi * factor:
                out.append(f"{name} = {v:.3g} is {v / hi:.3g}x beyond the largest fitted {name} ({hi:.3g}): "
                           "an extrapolation the data cannot check")
            elif v < lo / factor:
                out.append(f"{name} = {v:.3g} is {lo / v:.3g}x below the smallest fitted {name} ({lo:.3g})")
    return out

