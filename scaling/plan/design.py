"""Experiment design: which next runs (N, D) shrink the compute-optimal interval most, by simulation.

A design is scored by what it would do to the answer we care about, the
compute-optimal model size :math:`N_{opt}(C)` at a target budget, measured by
simulation rather than by a linearised (Fisher-information) formula, which
misleads for the strongly curved, nearly-L1 Chinchilla fit:

1. draw ``n_sim`` parameter vectors ``theta_s`` (the fit's bootstrap
   samples, else the point estimate);
2. for each, simulate the losses of the existing AND the proposed runs from
   the law at ``theta_s`` with log-normal noise of the fit's residual scale
   (common random numbers across the designs compared, so differences are
   not noise);
3. refit each simulated data set (:func:`scaling.fit`; fast for laws with
   linear terms) and compute :math:`\\log N_{opt}(C)`;
4. the score is the width of the central ``level`` interval of those values
   (smaller is better); the existing runs alone give the baseline.

:func:`suggest_runs` adds, greedily, the candidate run that shrinks the
score most until the FLOP budget for new runs (``6 N D`` each) is spent.
"""

from __future__ import annotations

import numpy as np


def _noise_scale(result) -> float:
    """Robust SD of the fit's log residuals (MAD * 1.4826)."""
    r = np.asarray(result.residuals)
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def _simulated_answers(law, thetas, N, D, flops, noise, z, level):
    import pandas as pd

    from scaling.fitting import dataset_from_points, fit
    from scaling.plan.allocation import optimal_allocation

    answers = []
    for theta, eps in zip(thetas, z):
        loss = np.asarray(law(theta, {"N": N, "D": D})) * np.exp(noise * eps[: N.size])
        res = fit(law, dataset_from_points(law, pd.DataFrame({"N": N, "D": D, "loss": loss})), progress=False)
        answers.append(float(np.log(optimal_allocation(law, res.params, flops)["N"][0, 0])))
    answers = np.asarray(answers)
    answers = answers[np.isfinite(answers)]
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(answers, [tail, 100.0 - tail])
    return float(hi - lo)


def score_design(result, existing, proposed, *, flops: float, n_sim: int = 40, level: float = 0.9,
                 seed: int = 0) -> dict:
    """Width of the simulated ``level`` interval of ``log N_opt(flops)`` with and without ``proposed``.

    Parameters
    ----------
    result : FitResult
        The current fit (its law, samples and residual scale are used).
    existing, proposed : array (k, 2)
        ``(N, D)`` of the runs already made and of the runs proposed.
    flops : float
        Target compute budget C (FLOPs) of the question ``N_opt(C)``.
    n_sim : int
        Simulated data sets per design.

    Returns
    -------
    dict
        ``baseline`` and ``with_proposed`` (interval widths in log N),
        ``shrinkage`` (1 - with/baseline) and ``cost_flops`` (sum of 6 N D
        of the proposed runs).
    """
    law = result.law_object()
    existing = np.atleast_2d(np.asarray(existing, dtype=np.float64))
    proposed = np.atleast_2d(np.asarray(proposed, dtype=np.float64)).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    thetas = _draws(result, n_sim, rng)
    z = rng.normal(size=(n_sim, existing.shape[0] + proposed.shape[0]))
    noise = _noise_scale(result)
    base = _simulated_answers(law, thetas, existing[:, 0], existing[:, 1], flops, noise, z, level)
    both = np.concatenate([existing, proposed])
    new = _simulated_answers(law, thetas, both[:, 0], both[:, 1], flops, noise, z, level)
    return {"baseline": base, "with_proposed": new, "shrinkage": 1.0 - new / base,
            "cost_flops": float(np.sum(6.0 * proposed[:, 0] * proposed[:, 1]))}


def _draws(result, n_sim, rng):
    if result.samples is not None:
        good = result.samples[np.all(np.isfinite(result.samples), axis=1)]
        if good.shape[0]:
            return good[rng.integers(0, good.shape[0], n_sim)]
    return np.tile(result.params, (n_sim, 1))


def suggest_runs(result, existing, candidates, *, flops: float, budget_flops: float, n_sim: int = 30,
                 level: float = 0.9, seed: int = 0, max_runs: int = 4) -> dict:
    """Greedy choice of next runs from ``candidates`` within ``budget_flops``.

    Each step scores every affordable candidate added to the runs chosen so
    far (same simulated draws for all, see :func:`score_design`) and keeps
    the one with the narrowest interval of ``log N_opt(flops)``.

    Returns
    -------
    dict
        ``runs`` (array (k, 2) of chosen ``(N, D)``), ``widths`` (interval
        width after each choice, first entry the baseline) and
        ``cost_flops``.
    """
    law = result.law_object()
    existing = np.atleast_2d(np.asarray(existing, dtype=np.float64))
    candidates = np.atleast_2d(np.asarray(candidates, dtype=np.float64))
    rng = np.random.default_rng(seed)
    thetas = _draws(result, n_sim, rng)
    z = rng.normal(size=(n_sim, existing.shape[0] + max_runs))
    noise = _noise_scale(result)
    chosen: list[np.ndarray] = []
    widths = [_simulated_answers(law, thetas, existing[:, 0], existing[:, 1], flops, noise, z, level)]
    spent = 0.0
    for _ in range(max_runs):
        best = None
        for cand in candidates:
            cost = 6.0 * cand[0] * cand[1]
            if spent + cost > budget_flops:
                continue
            runs = np.concatenate([existing] + [c[None] for c in chosen] + [cand[None]])
            w = _simulated_answers(law, thetas, runs[:, 0], runs[:, 1], flops, noise, z, level)
            if best is None or w < best[0]:
                best = (w, cand, cost)
        if best is None or best[0] >= widths[-1]:
            break
        widths.append(best[0])
        chosen.append(best[1])
        spent += best[2]
    return {"runs": np.array(chosen).reshape(-1, 2), "widths": np.array(widths), "cost_flops": spent}


__all__ = ["score_design", "suggest_runs"]
