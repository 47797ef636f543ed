"""Planning with fitted laws: compute-optimal size, over-training, schedule choice.

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
trained far past :math:`D_{opt}`. :func:`compute_for_loss` gives the compute
needed to reach a target loss at a fixed N, under a cap on N, or counting
inference: total cost :math:`6 N D + 2 N D_{inf}` for :math:`D_{inf}` tokens
served (Sardana et al. 2023, "Beyond Chinchilla-Optimal", arXiv:2401.00448).

Schedules
---------
:func:`compare_schedules` ranks learning-rate schedules by the final loss a
fitted loss-curve law (``lr-annealing``, ``multi-power``) predicts for them;
:func:`candidate_schedules` builds the usual candidates (cosine, WSD with
decay fractions 0.1/0.2/0.3 and several decay shapes, multi-step) and
:func:`best_wsd_decay` scans the WSD decay fraction; :func:`optimal_schedule`
searches a free monotone schedule (Luo et al. 2025). Because every schedule is
evaluated with the *same* bootstrap samples, the difference to the best
schedule gets a paired interval, much narrower than the overlap of the
separate bands suggests.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from scaling.errors import ScalingError

# --------------------------------------------------------------------------- published laws

#: Published Chinchilla-form parameters (natural units: L = E + A/N^alpha + B/D^beta,
#: N in parameters, D in tokens, L in nats/token on MassiveText), for comparison plots.
#: Values as listed in ``shared/data/external/chinchilla-epoch/PROVENANCE.md``.
PUBLISHED_CHINCHILLA: dict[str, dict[str, float]] = {
    # Hoffmann et al. 2022, arXiv:2203.15556, Approach 3 (Eq. 10), unrounded TeX values
    # (log A = 6.0073404, log B = 6.0179186, log E = 0.5267228), as used by Epoch AI.
    "Hoffmann et al. 2022": {
        "E": math.exp(0.5267228),
        "A": math.exp(6.0073404),
        "B": math.exp(6.0179186),
        "alpha": 0.33917084,
        "beta": 0.2849083,
    },
    # Besiroglu et al. 2024 (Epoch AI), arXiv:2404.10102, their maximum-likelihood refit
    # of Hoffmann's Figure-4 data (notebook digits).
    "Besiroglu et al. 2024 (Epoch)": {
        "E": 1.81686,
        "A": 482.00572,
        "B": 2085.43420,
        "alpha": 0.34781303,
        "beta": 0.36585412,
    },
}

#: Hoffmann et al. 2022, Eq. 10, as rounded in the paper.
HOFFMANN_ROUNDED: dict[str, float] = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

_CHINCHILLA_KEYS = ("E", "A", "B", "alpha", "beta")

# Search range of the numeric iso-FLOP minimiser, in tokens per parameter D/N.
_RATIO_RANGE = (1e-4, 1e7)


# --------------------------------------------------------------------------- closed forms


def chinchilla_allocation(E, A, B, alpha, beta, flops) -> dict[str, np.ndarray]:
    """Compute-optimal allocation of a Chinchilla law, in closed form.

    .. math::

        G = \\left(\\frac{\\alpha A}{\\beta B}\\right)^{1/(\\alpha+\\beta)},\\;
        N_{opt} = G (C/6)^{a},\\; D_{opt} = G^{-1} (C/6)^{b},\\;
        a = \\frac{\\beta}{\\alpha+\\beta},\\; b = \\frac{\\alpha}{\\alpha+\\beta}

    (Hoffmann et al. 2022, arXiv:2203.15556, App. A; ``C = 6 N D``).

    Parameters
    ----------
    E, A, B, alpha, beta : float or array
        Natural-unit Chinchilla parameters ``L = E + A/N^alpha + B/D^beta``;
        arrays broadcast against ``flops``.
    flops : float or array
        Training compute C in FLOPs.

    Returns
    -------
    dict
        ``N`` (parameters), ``D`` (tokens), ``tokens_per_param`` (D/N),
        ``loss`` (nats/token at the optimum), ``a``, ``b``, ``G``; numpy
        arrays of the broadcast shape.

    Examples
    --------
    >>> out = chinchilla_allocation(1.69, 406.4, 410.7, 0.34, 0.28, 5.76e23)
    >>> round(float(out["a"]), 2), round(float(out["b"]), 2)
    (0.45, 0.55)
    """
    E, A, B, alpha, beta, flops = (np.asarray(v, dtype=np.float64) for v in (E, A, B, alpha, beta, flops))
    a = beta / (alpha + beta)
    b = alpha / (alpha + beta)
    G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    N = G * (flops / 6.0) ** a
    D = (flops / 6.0) ** b / G
    loss = E + A * N ** (-alpha) + B * D ** (-beta)
    return {"N": N, "D": D, "tokens_per_param": D / N, "loss": loss, "a": a + 0 * N, "b": b + 0 * N, "G": G + 0 * N}


def chinchilla_loss(E, A, B, alpha, beta, N, D) -> np.ndarray:
    """Chinchilla final loss ``E + A N^-alpha + B D^-beta`` (Hoffmann et al. 2022, Eq. 2), numpy."""
    E, A, B, alpha, beta, N, D = (np.asarray(v, dtype=np.float64) for v in (E, A, B, alpha, beta, N, D))
    return E + A * N ** (-alpha) + B * D ** (-beta)


# --------------------------------------------------------------------------- fit unpacking


def _unpack(fit: Any):
    """(law, theta (P,), samples (S, P) or None, level) from a FitResult-like object."""
    if not hasattr(fit, "law_object") or not hasattr(fit, "params"):
        raise ScalingError(
            f"expected a fit result (scaling.FitResult or FitResult.load(path)), got {type(fit).__name__}"
        )
    law = fit.law_object()
    theta = np.asarray(fit.params, dtype=np.float64).reshape(-1)
    samples = getattr(fit, "samples", None)
    if samples is not None:
        samples = np.asarray(samples, dtype=np.float64)
        samples = samples[np.all(np.isfinite(samples), axis=1)] if samples.size else None
        if samples is not None and len(samples) == 0:
            samples = None
    level = float(getattr(fit, "level", 0.9) or 0.9)
    return law, theta, samples, level


def _quantiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 (the samples axis), ignoring NaN."""
    q = (1.0 - level) / 2.0
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.nanquantile(values, q, axis=0)
            hi = np.nanquantile(values, 1.0 - q, axis=0)
    return lo, hi


def _stack(theta: np.ndarray, samples: np.ndarray | None) -> np.ndarray:
    """Point estimate first, then the bootstrap samples: shape (1 + S, P)."""
    if samples is None:
        return theta[None, :]
    return np.concatenate([theta[None, :], samples], axis=0)


def _natural_chinchilla(law, thetas: np.ndarray) -> dict[str, np.ndarray] | None:
    """E, A, B, alpha, beta per row of ``thetas`` if the law is Chinchilla-shaped, else None."""
    if law.kind != "final" or law.derived is None or set(law.inputs) != {"N", "D"}:
        return None
    if not law.name.startswith("chinchilla"):
        return None
    import jax

    from scaling._x64 import float64

    with float64():
        der = jax.vmap(law.derived)(np.asarray(thetas, dtype=np.float64))
        if not all(k in der for k in _CHINCHILLA_KEYS):
            return None
        return {k: np.asarray(der[k], dtype=np.float64) for k in _CHINCHILLA_KEYS}


def _final_inputs(law, N, D) -> dict[str, Any]:
    """Map (N, D) to the inputs a final-loss law reads (N, D, C = 6ND, M = D/N)."""
    available = {"N": N, "D": D, "C": 6.0 * N * D, "M": D / N}
    missing = [k for k in law.inputs if k not in available]
    if missing:
        raise ScalingError(f"law {law.name!r} reads inputs {missing}; planning knows only N, D, C and M")
    return {k: available[k] for k in law.inputs}


def _needs_allocation(law) -> None:
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


_JITTED: dict[Any, Callable] = {}


def _law_key(law) -> tuple:
    """What identifies a law's function: name, options, equation, inputs, parameters.

    Registry factories build a fresh ``Law`` (and closure) on every
    ``get_law`` call, and ``FitResult.law_object()`` calls it each time, so
    keying compiled functions by object identity would recompile on every
    call; laws with equal keys compute the same function.
    """
    return (law.name, repr(sorted(dict(law.options).items())), law.equation, tuple(law.inputs),
            tuple(law.param_names), law.kind)


def _cached(kind: str, law, build: Callable[[], Callable]) -> Callable:
    key = (kind, _law_key(law))
    fn = _JITTED.get(key)
    if fn is None:
        if len(_JITTED) > 64:
            _JITTED.clear()
        fn = _JITTED[key] = build()
    return fn


def _loss_fn(law):
    """Jitted ``(thetas (S, P), N (S, M), D (S, M)) -> loss (S, M)`` for a final-loss law.

    Cached per law (see :func:`_law_key`) so the golden-section loop compiles
    once per shape.
    """
    import jax

    def build():
        def one(theta, N, D):
            return law.fn(theta, _final_inputs(law, N, D))

        return jax.jit(jax.vmap(one))

    return _cached("pairs", law, build)


def _eval_loss(law, thetas: np.ndarray, N: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Law loss for each theta row at matching rows of N, D (both (S, M)); float64 numpy."""
    from scaling._x64 import float64

    with float64():
        out = _loss_fn(law)(np.asarray(thetas, np.float64), np.asarray(N, np.float64), np.asarray(D, np.float64))
        return np.asarray(out, dtype=np.float64)


def law_band(fit, inputs: Mapping[str, Any], *, level: float | None = None) -> dict[str, np.ndarray]:
    """Evaluate a fitted law at ``inputs`` with its point estimate and every bootstrap sample.

    Works for both kinds of law (final-loss inputs such as ``N``, ``D``, ``C``
    of shape (n,); curve inputs ``lr`` (T+1,) and ``step`` (n,)).

    Returns
    -------
    dict
        ``loss`` (n,) from the point estimate and ``loss_lo``, ``loss_hi`` (n,),
        the percentile interval over the samples (NaN without samples).
    """
    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    L = _eval_inputs(law, _stack(theta, samples), inputs)
    return _with_band("loss", L, level, samples is not None)


def _eval_inputs(law, thetas: np.ndarray, inputs: Mapping[str, Any]) -> np.ndarray:
    """``law.fn`` for each row of ``thetas`` at shared ``inputs``: (S, n), float64 numpy."""
    import jax

    from scaling._x64 import float64

    fn = _cached("shared", law, lambda: jax.jit(jax.vmap(lambda th, inp: law.fn(th, inp), in_axes=(0, None))))
    prepared = {}
    for k, v in inputs.items():
        arr = np.asarray(v)
        prepared[k] = arr.astype(np.int64) if k == "step" else arr.astype(np.float64)
    with float64():
        out = fn(np.atleast_2d(np.asarray(thetas, np.float64)), prepared)
        return np.asarray(out, dtype=np.float64)


# --------------------------------------------------------------------------- allocation on arrays


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
    _needs_allocation(law)
    if method not in ("auto", "closed", "numeric"):
        raise ValueError(f"method must be 'auto', 'closed' or 'numeric', not {method!r}")
    nat = _natural_chinchilla(law, thetas) if method != "numeric" else None
    if method == "closed" and nat is None:
        raise ScalingError(f"law {law.name!r} has no Chinchilla closed form; use method='numeric'")
    if nat is not None:
        out = chinchilla_allocation(*(nat[k][:, None] for k in _CHINCHILLA_KEYS), flops[None, :])
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
        return _eval_loss(law, thetas, N.reshape(S, K * M), D.reshape(S, K * M)).reshape(S, K, M)

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


# --------------------------------------------------------------------------- planning on fit results


def _with_band(name: str, values: np.ndarray, level: float, has_samples: bool) -> dict[str, np.ndarray]:
    """{name: point, name_lo, name_hi} from a (1 + S, ...) stack (row 0 = point estimate)."""
    point = values[0]
    if has_samples:
        lo, hi = _quantiles(values[1:], level)
    else:
        lo = hi = np.full_like(point, np.nan)
    return {name: point, f"{name}_lo": lo, f"{name}_hi": hi}


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

    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    flops = np.atleast_1d(np.asarray(flops, dtype=np.float64))
    out = optimal_allocation(law, _stack(theta, samples), flops, method=method)
    cols: dict[str, np.ndarray] = {"flops": flops}
    for name in ("N", "D", "tokens_per_param", "loss"):
        cols.update(_with_band(name, out[name], level, samples is not None))
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

    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    if law.kind != "final":
        raise ScalingError(f"law {law.name!r} is a loss-curve law; loss_at needs a final-loss law of N and D")
    N, D = np.broadcast_arrays(np.asarray(N, np.float64), np.asarray(D, np.float64))
    N, D = N.reshape(-1), D.reshape(-1)
    if np.any(N <= 0) or np.any(D <= 0):
        raise ScalingError("model size N and tokens D must be positive")
    thetas = _stack(theta, samples)
    S = len(thetas)
    L = _eval_loss(law, thetas, np.broadcast_to(N, (S, len(N))), np.broadcast_to(D, (S, len(D))))
    cols = {"N": N, "D": D, "tokens_per_param": D / N, "flops": 6.0 * N * D}
    cols.update(_with_band("loss", L, level, samples is not None))
    return pd.DataFrame(cols)


def _tokens_for_loss(law, thetas: np.ndarray, N: np.ndarray, target: float, *, iters: int = 200) -> np.ndarray:
    """Tokens D with L(N, D) = target (bisection in log D; loss falls with D). (S, M) -> (S, M).

    NaN where the target is below the loss reachable with infinite data at that N.
    """
    S, M = N.shape
    lo = np.full((S, M), np.log(1e3))
    hi = np.full((S, M), np.log(1e18))
    L_hi = _eval_loss(law, thetas, N, np.exp(hi))
    L_lo = _eval_loss(law, thetas, N, np.exp(lo))
    reachable = L_hi <= target
    already = L_lo <= target
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        below = _eval_loss(law, thetas, N, np.exp(mid)) <= target
        hi = np.where(below, mid, hi)
        lo = np.where(below, lo, mid)
        if np.max(hi - lo) < 1e-9:
            break
    D = np.exp(0.5 * (lo + hi))
    D = np.where(already, np.exp(np.log(1e3)), D)
    return np.where(reachable, D, np.nan)


def compute_for_loss(
    fit,
    target_loss: float,
    *,
    N: float | None = None,
    max_N: float | None = None,
    inference_tokens: float = 0.0,
    level: float | None = None,
    n_grid: int = 401,
):
    """Cheapest way to reach a target loss: fixed N, a cap on N, or counting inference.

    For a fixed model size N the data needed solves :math:`L(N, D) = L^*`; the
    cost is training :math:`6 N D` plus inference :math:`2 N D_{inf}` for
    ``inference_tokens`` served tokens (Sardana et al. 2023,
    arXiv:2401.00448). Without ``N`` the model size minimising the total cost
    is searched on a log grid (at most ``max_N``); with ``inference_tokens=0``
    and no cap this is the compute-optimal model for that loss.

    Parameters
    ----------
    fit : FitResult
        Final-loss fit of N and D.
    target_loss : float
        Loss to reach (nats/token).
    N : float, optional
        Fix the model size instead of searching it.
    max_N : float, optional
        Largest model size allowed in the search (e.g. what fits on the
        serving hardware).
    inference_tokens : float
        Tokens the model will process at inference over its lifetime.
    level : float, optional
        Interval level (default: the fit's).
    n_grid : int
        Grid points over log N in the search (1e5 .. max_N or 1e14).

    Returns
    -------
    pandas.DataFrame
        One row: ``target_loss``, ``N``, ``D``, ``tokens_per_param``,
        ``train_flops``, ``inference_flops``, ``total_flops``, each with
        ``_lo``/``_hi`` over bootstrap samples, and ``reachable``: the share
        of samples for which the target can be reached (the bounds are over
        those). NaN where the target is not reachable (below the law's floor
        for that N).
    """
    import pandas as pd

    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    _needs_allocation(law)
    thetas = _stack(theta, samples)
    S = len(thetas)
    if N is not None:
        Ngrid = np.full((S, 1), float(N))
    else:
        top = float(max_N) if max_N is not None else 1e14
        if top <= 1e5:
            raise ScalingError(f"max_N={top:g} is too small; give a cap above 1e5 parameters")
        Ngrid = np.broadcast_to(np.geomspace(1e5, top, n_grid), (S, n_grid)).copy()
    D = _tokens_for_loss(law, thetas, Ngrid, float(target_loss))
    cost = 6.0 * Ngrid * D + 2.0 * Ngrid * float(inference_tokens)
    cost_masked = np.where(np.isfinite(cost), cost, np.inf)
    j = np.argmin(cost_masked, axis=1)
    rows = np.arange(S)
    Nb, Db = Ngrid[rows, j], D[rows, j]
    ok = np.isfinite(cost_masked[rows, j])
    Nb, Db = np.where(ok, Nb, np.nan), np.where(ok, Db, np.nan)
    values = {
        "N": Nb,
        "D": Db,
        "tokens_per_param": Db / Nb,
        "train_flops": 6.0 * Nb * Db,
        "inference_flops": 2.0 * Nb * float(inference_tokens),
    }
    values["total_flops"] = values["train_flops"] + values["inference_flops"]
    cols: dict[str, Any] = {"target_loss": np.array([float(target_loss)])}
    for name, v in values.items():
        band = _with_band(name, v[:, None], level, samples is not None)
        cols.update({k: np.atleast_1d(x) for k, x in band.items()})
    # Share of bootstrap samples for which the target is reachable at all: the
    # bounds above are over those samples only.
    cols["reachable"] = np.array([float(np.mean(ok[1:])) if samples is not None else float(ok[0])])
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

    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    _needs_allocation(law)
    N = np.atleast_1d(np.asarray(N, dtype=np.float64))
    thetas = _stack(theta, samples)
    nat = _natural_chinchilla(law, thetas)
    if nat is not None:
        # closed form: N = G (C/6)^a  =>  C/6 = (N/G)^(1/a), D = (C/6) / N
        a = nat["beta"] / (nat["alpha"] + nat["beta"])
        G = (nat["alpha"] * nat["A"] / (nat["beta"] * nat["B"])) ** (1.0 / (nat["alpha"] + nat["beta"]))
        c6 = (N[None, :] / G[:, None]) ** (1.0 / a[:, None])
        lo = hi = np.log(6.0 * c6)
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
    cols.update(_with_band("D", D, level, samples is not None))
    cols.update(_with_band("tokens_per_param", D / N[None, :], level, samples is not None))
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

    law, theta, samples, fit_level = _unpack(fit)
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


# --------------------------------------------------------------------------- schedules


def candidate_schedules(
    steps: int,
    peak: float,
    *,
    final: float | None = None,
    warmup: int = 0,
    decay_fractions: Sequence[float] = (0.1, 0.2, 0.3),
    shapes: Sequence[str] = ("linear", "1-sqrt", "exp"),
) -> dict[str, str]:
    """The usual schedules for a run of ``steps`` steps, as text specs.

    Cosine to ``final``; linear decay to ``final``; WSD (warmup-stable-decay,
    Hu et al. 2024, arXiv:2404.06395; Hägele et al. 2024, arXiv:2405.18392)
    with each decay fraction and decay shape; multi-step with drops to 31.6 %
    and 10 % of peak at 80 % and 90 % of training (DeepSeek LLM, Bi et al.
    2024, arXiv:2401.02954); and constant LR as a reference.

    Parameters
    ----------
    steps : int
        Total optimizer steps T (warmup included).
    peak : float
        Peak learning rate.
    final : float, optional
        Final learning rate of the decays (default ``peak / 10``).
    warmup : int
        Linear warmup steps in front of every schedule.
    decay_fractions : sequence of float
        WSD decay lengths as fractions of ``steps``.
    shapes : sequence of str
        WSD decay shapes (see :data:`scaling.schedules.DECAY_SHAPES`);
        ``exp`` is skipped when ``final`` is 0.

    Returns
    -------
    dict of str to str
        Name -> schedule spec (``scaling schedules --help`` grammar), e.g.
        ``"wsd 20% 1-sqrt" -> "wsd:peak=0.0003,final=3e-05,...,decay=0.2,shape=1-sqrt"``.
    """
    steps, warmup = int(steps), int(warmup)
    if steps <= warmup or steps < 2:
        raise ScalingError(f"--steps {steps} must exceed --warmup {warmup}")
    if not peak > 0:
        raise ScalingError(f"peak learning rate must be positive, got {peak}")
    final = peak / 10.0 if final is None else float(final)
    if not 0 <= final <= peak:
        raise ScalingError(f"final learning rate {final:g} must lie in [0, peak={peak:g}]")
    common = f"peak={peak:g},warmup={warmup},total={steps}"
    out = {
        "cosine": f"cosine:{common},final={final:g}",
        "linear": f"linear:{common},final={final:g}",
    }
    for frac in decay_fractions:
        for shape in shapes:
            if shape == "exp" and final <= 0:
                continue
            out[f"wsd {frac:.0%} {shape}"] = f"wsd:{common},final={final:g},decay={frac:g},shape={shape}"
    out["multistep 80/10/10"] = f"multistep:{common},at=0.8/0.9,factors=0.316/0.1"
    out["constant"] = f"constant:{common}"
    return out


def _lr_array(schedule, steps: int | None) -> tuple[np.ndarray, str]:
    """(LR at global steps 0..T, spec text or '') from a spec, a callable or an array."""
    from scaling.schedules import parse_schedule, schedule_array

    if isinstance(schedule, str):
        sched, total = parse_schedule(schedule)
        total = steps if steps is not None else total
        if total is None:
            raise ScalingError(f"schedule {schedule!r} has no total=; add total=STEPS or pass --steps")
        return schedule_array(sched, int(total)), schedule
    if callable(schedule):
        if steps is None:
            raise ScalingError("a schedule given as a function needs steps= (the last step)")
        return schedule_array(schedule, int(steps)), ""
    lr = np.asarray(schedule, dtype=np.float64).reshape(-1)
    if steps is not None and len(lr) < int(steps) + 1:
        raise ScalingError(f"LR array has {len(lr)} entries; need steps + 1 = {int(steps) + 1}")
    return (lr if steps is None else lr[: int(steps) + 1]), ""


def curve_losses(law, thetas, lr, steps, *, N: float | None = None) -> np.ndarray:
    """Loss of a curve law for every parameter vector: shape (S, n).

    Parameters
    ----------
    law : Law
        A ``kind="curve"`` law.
    thetas : array, shape (S, P)
        Fit-space parameter vectors (point estimate and/or bootstrap samples).
    lr : array, shape (T + 1,)
        LR at global steps 0..T.
    steps : array of int, shape (n,)
        Steps at which the loss is wanted (<= T).
    N : float, optional
        Model size, for laws that read ``N``.
    """
    if law.kind != "curve":
        raise ScalingError(
            f"law {law.name!r} is a final-loss law; schedule planning needs a loss-curve fit "
            "(e.g. 'scaling fit RUNS.csv --law lr-annealing')"
        )
    inputs: dict[str, Any] = {"lr": np.asarray(lr, np.float64), "step": np.asarray(steps, dtype=np.int64)}
    if "N" in law.inputs:
        if N is None:
            raise ScalingError(f"law {law.name!r} reads the model size; pass N= (parameters)")
        inputs["N"] = np.float64(N)
    return _eval_inputs(law, thetas, inputs)


def compare_schedules(fit, schedules: Mapping[str, Any], *, steps: int | None = None, level: float | None = None, N=None):
    """Rank schedules by the final loss a fitted loss-curve law predicts for them.

    Every schedule is evaluated with the point estimate and with every
    bootstrap sample, so besides each schedule's own band the difference to
    the best schedule gets a *paired* interval (the samples move all
    schedules together; the paired interval is what says whether a gain is
    real).

    Parameters
    ----------
    fit : FitResult
        A fit of a loss-curve law (``lr-annealing``, ``multi-power``, ...).
    schedules : mapping of str to spec / callable / LR array
        Candidates by name, e.g. from :func:`candidate_schedules`.
    steps : int, optional
        Step budget T: the final loss is the loss at step T (required for
        callables; overrides a spec's ``total=``).
    level : float, optional
        Interval level (default: the fit's).
    N : float, optional
        Model size for laws that read ``N``.

    Returns
    -------
    pandas.DataFrame
        Sorted best first: ``rank``, ``schedule``, ``spec``, ``final_loss``,
        ``final_loss_lo``, ``final_loss_hi``, ``delta`` (final loss minus the
        best's), ``delta_lo``, ``delta_hi`` (paired), ``p_best`` (share of
        bootstrap samples in which this schedule is the best; NaN without).
    """
    import pandas as pd

    if not schedules:
        raise ScalingError("no schedules to compare")
    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    thetas = _stack(theta, samples)
    names, specs, finals = [], [], []
    for name, sched in schedules.items():
        lr, spec = _lr_array(sched, steps)
        T = len(lr) - 1
        finals.append(curve_losses(law, thetas, lr, np.array([T]), N=N)[:, 0])
        names.append(str(name))
        specs.append(spec)
    F = np.stack(finals, axis=1)  # (1 + S, K)
    best = int(np.nanargmin(F[0]))
    has = samples is not None
    cols: dict[str, Any] = {"schedule": names, "spec": specs}
    cols.update(_with_band("final_loss", F, level, has))
    cols.update(_with_band("delta", F - F[:, [best]], level, has))
    if has:
        winners = np.nanargmin(np.where(np.isfinite(F[1:]), F[1:], np.inf), axis=1)
        cols["p_best"] = np.bincount(winners, minlength=F.shape[1]) / len(winners)
    else:
        cols["p_best"] = np.full(F.shape[1], np.nan)
    df = pd.DataFrame(cols).sort_values("final_loss", kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def best_wsd_decay(
    fit,
    *,
    steps: int,
    peak: float,
    final: float | None = None,
    warmup: int = 0,
    shape: str = "1-sqrt",
    fractions: Sequence[float] | None = None,
    level: float | None = None,
    N=None,
):
    """Scan the WSD decay fraction and return the predicted final loss for each.

    Parameters
    ----------
    fit : FitResult
        A loss-curve fit.
    steps, peak, final, warmup : see :func:`candidate_schedules`.
    shape : str
        Decay shape.
    fractions : sequence of float, optional
        Decay fractions to try (default 0.05, 0.1, ..., 0.6 and 1.0).

    Returns
    -------
    pandas.DataFrame
        As :func:`compare_schedules`, with a ``decay`` column, sorted by decay
        fraction; the row with ``rank == 1`` is the best fraction.
    """
    if fractions is None:
        fractions = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0]
    final = peak / 10.0 if final is None else float(final)
    common = f"peak={peak:g},warmup={int(warmup)},total={int(steps)},final={final:g},shape={shape}"
    scheds = {f"wsd {f:g} {shape}": f"wsd:{common},decay={f:g}" for f in fractions}
    df = compare_schedules(fit, scheds, steps=steps, level=level, N=N)
    df["decay"] = [float(s.rsplit("decay=", 1)[1]) for s in df["spec"]]
    return df.sort_values("decay").reset_index(drop=True)


def schedule_curves(fit, schedules: Mapping[str, Any], *, steps: int | None = None, n_points: int = 200, level=None, N=None):
    """Predicted loss curves (with bands) of several schedules, for plotting.

    Returns
    -------
    pandas.DataFrame
        ``schedule``, ``step``, ``lr``, ``loss``, ``loss_lo``, ``loss_hi`` at
        ``n_points`` steps spread over each run.
    """
    import pandas as pd

    law, theta, samples, fit_level = _unpack(fit)
    level = fit_level if level is None else float(level)
    thetas = _stack(theta, samples)
    frames = []
    for name, sched in schedules.items():
        lr, _ = _lr_array(sched, steps)
        T = len(lr) - 1
        at = np.unique(np.linspace(1, T, n_points).round().astype(np.int64))
        L = curve_losses(law, thetas, lr, at, N=N)
        cols = {"schedule": str(name), "step": at, "lr": lr[at]}
        cols.update(_with_band("loss", L, level, samples is not None))
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def optimal_schedule(
    fit,
    *,
    steps: int,
    peak: float,
    final: float = 0.0,
    warmup: int = 0,
    knots: int = 32,
    N: float | None = None,
    maxiter: int = 300,
):
    """Search a free monotone LR schedule minimising the predicted final loss.

    After a linear warmup to ``peak`` the LR is piecewise linear through
    ``knots`` equally spaced knots, non-increasing by construction:

    .. math::

        \\eta_k = \\eta_{final} + (\\eta_{peak} - \\eta_{final}) \\prod_{j \\le k} \\sigma(z_j),
        \\qquad k = 1..K,

    and :math:`z` minimises the fitted law's loss at step T (point
    estimate) with L-BFGS-B and JAX gradients, started from cosine. Luo et
    al. (ICLR 2025, arXiv:2503.12811, Sec. 5) optimise the schedule under
    the multi-power law this way and find WSD-like shapes that beat cosine.

    Parameters
    ----------
    fit : FitResult
        A loss-curve fit (``multi-power`` or ``lr-annealing``).
    steps, peak, final, warmup : see :func:`candidate_schedules` (``final``
        is the lower bound of the LR here, default 0).
    knots : int
        Number of free knots K after warmup.
    N : float, optional
        Model size, for laws that read ``N``.
    maxiter : int
        L-BFGS-B iterations.

    Returns
    -------
    lr : ndarray, shape (steps + 1,)
        The optimised schedule (LR at global steps 0..T); pass it to
        :func:`compare_schedules` or :func:`scaling.predict.predict`.
    """
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize

    from scaling._x64 import float64
    from scaling.schedules import parse_schedule, schedule_array

    law, theta, _, _ = _unpack(fit)
    if law.kind != "curve":
        raise ScalingError(f"law {law.name!r} is a final-loss law; schedule search needs a loss-curve fit")
    T, W, K = int(steps), int(warmup), int(knots)
    if T <= W + K:
        raise ScalingError(f"--steps {T} must exceed warmup + knots = {W + K}")
    if not 0 <= final < peak:
        raise ScalingError(f"final LR {final:g} must lie in [0, peak={peak:g})")
    head = schedule_array(parse_schedule(f"constant:peak={peak:g},warmup={W},total={T}")[0], T)[: W + 1]
    knot_steps = np.linspace(W, T, K + 1)
    tail_steps = np.arange(W, T + 1, dtype=np.float64)
    extra = {} if "N" not in law.inputs else {"N": np.float64(N if N is not None else np.nan)}
    if "N" in law.inputs and N is None:
        raise ScalingError(f"law {law.name!r} reads the model size; pass N=")

    def lr_of(z):
        m = jnp.cumprod(jax.nn.sigmoid(z))
        knot_lr = jnp.concatenate([jnp.array([peak]), final + (peak - final) * m])
        tail = jnp.interp(tail_steps, knot_steps, knot_lr)
        return jnp.concatenate([jnp.asarray(head[:-1]), tail])

    def objective(z):
        return law.fn(jnp.asarray(theta), {"lr": lr_of(z), "step": jnp.array([T]), **extra})[0]

    # start from cosine: m_k = cos-fraction at knot k, z_k = logit(m_k / m_{k-1})
    frac = 0.5 * (1 + np.cos(np.pi * np.arange(1, K + 1) / K))
    frac = np.clip(frac, 1e-3, 1.0)
    ratio = np.clip(frac / np.concatenate([[1.0], frac[:-1]]), 1e-6, 1 - 1e-6)
    z0 = np.log(ratio / (1 - ratio))
    with float64():
        vg = jax.jit(jax.value_and_grad(objective))

        def fun(z):
            v, g = vg(jnp.asarray(z))
            return float(v), np.asarray(g, dtype=np.float64)

        res = minimize(fun, z0, jac=True, method="L-BFGS-B", bounds=[(-30.0, 30.0)] * K,
                       options={"maxiter": int(maxiter)})
        return np.asarray(lr_of(jnp.asarray(res.x)), dtype=np.float64)


__all__ = [
    "HOFFMANN_ROUNDED",
    "PUBLISHED_CHINCHILLA",
    "best_wsd_decay",
    "candidate_schedules",
    "chinchilla_allocation",
    "chinchilla_loss",
    "compare_schedules",
    "compute_for_loss",
    "compute_optimal",
    "curve_losses",
    "flops_range",
    "isoflop_curves",
    "law_band",
    "loss_at",
    "optimal_allocation",
    "optimal_schedule",
    "optimal_tokens",
    "schedule_curves",
]
