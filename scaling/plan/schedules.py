"""Schedule choice from a loss-curve fit: candidates, ranking with paired intervals, search.

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

from typing import Any, Mapping, Sequence

import numpy as np

from scaling.errors import ScalingError
from scaling.evaluate import band, covariance, jacobian, parameter_sets, predictive_sigma, stack, values, with_band
from scaling.inputs import curve_inputs


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
    if warmup < round(0.8 * steps) < round(0.9 * steps):  # two distinct drops after the warmup, as the spec parser needs
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


def curve_losses(law, thetas, lr, steps, *, N: float | None = None, B: float | None = None) -> np.ndarray:
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
    return values(law, thetas, curve_inputs(law, lr, steps, N=N, B=B))


def compare_schedules(fit, schedules: Mapping[str, Any], *, steps: int | None = None, level: float | None = None, N=None,
                      B=None):
    """Rank schedules by the final loss a fitted loss-curve law predicts for them.

    Every schedule is evaluated with the point estimate and with every
    bootstrap sample, so besides each schedule's own band the difference to
    the best schedule gets a *paired* interval (the samples move all
    schedules together; the paired interval is what says whether a gain is
    real). Without bootstrap samples the fit's Laplace covariance (the
    posterior's where a prior applies) gives the same quantities,
    linearised (:func:`_laplace_ranking`); ``ranking.attrs["uncertainty"]``
    says which (``"bootstrap"``, ``"laplace"`` or ``"none"``).

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
    B : float, optional
        Batch size (tokens per step) for laws that read ``B`` (``kaplan-batch``).

    Returns
    -------
    pandas.DataFrame
        Sorted best first: ``rank``, ``schedule``, ``spec``, ``final_loss``,
        ``final_loss_lo``, ``final_loss_hi`` (parameter uncertainty only),
        ``final_loss_pred_lo``, ``final_loss_pred_hi`` (the predictive band
        of :func:`scaling.evaluate.band`, the one ``scaling predict`` and the
        report's curves show), ``delta`` (final loss minus the best's),
        ``delta_lo``, ``delta_hi`` (paired), ``p_best`` (share of bootstrap
        samples, or of Laplace draws, in which this schedule is the best; NaN
        without either). ``attrs``: ``uncertainty`` (above) and
        ``resolution``, the best schedule's final loss times its calibrated
        log-scale scatter (:func:`scaling.evaluate.predictive_sigma`), in nats:
        the error of the law itself on an unseen schedule.
    """
    import pandas as pd

    if not schedules:
        raise ScalingError("no schedules to compare")
    law, theta, samples, fit_level = parameter_sets(fit)
    level = fit_level if level is None else float(level)
    thetas = stack(theta, samples)
    # without samples the delta method needs the gradient at each last step: once, for the band and the ranking
    cov = covariance(fit) if samples is None else None
    names, specs, finals, pred_lo, pred_hi, grads, points = [], [], [], [], [], [], []
    for name, sched in schedules.items():
        lr, spec = _lr_array(sched, steps)
        T = len(lr) - 1
        at_T = curve_inputs(law, lr, np.array([T]), N=N, B=B)
        rows = values(law, thetas, at_T)
        finals.append(rows[:, 0])
        jac = jacobian(law, theta, at_T) if cov is not None else None
        grads.append(jac)
        # the band `scaling predict` gives at step T (parameters + calibrated scatter), from the same rows
        pred = band(fit, at_T, level=level, kind="predictive", rows=rows, jac=jac)
        pred_lo.append(float(pred["loss_lo"][0]))
        pred_hi.append(float(pred["loss_hi"][0]))
        points.append(at_T)
        names.append(str(name))
        specs.append(spec)
    F = np.stack(finals, axis=1)  # (1 + S, K)
    best = int(np.nanargmin(F[0]))
    has = samples is not None
    cols: dict[str, Any] = {"schedule": names, "spec": specs}
    cols.update(with_band("final_loss", F, level, has))
    cols["final_loss_pred_lo"], cols["final_loss_pred_hi"] = np.array(pred_lo), np.array(pred_hi)
    cols.update(with_band("delta", F - F[:, [best]], level, has))
    uncertainty = "bootstrap" if has else "none"
    if has:
        winners = np.nanargmin(np.where(np.isfinite(F[1:]), F[1:], np.inf), axis=1)
        cols["p_best"] = np.bincount(winners, minlength=F.shape[1]) / len(winners)
    else:
        cols["p_best"] = np.full(F.shape[1], np.nan)
        laplace = None if cov is None else _laplace_ranking(cov, np.concatenate(grads, axis=0), F[0], best, level)
        if laplace is not None:
            cols.update(laplace)
            uncertainty = "laplace"
    df = pd.DataFrame(cols).sort_values("final_loss", kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.attrs["uncertainty"] = uncertainty
    # the calibrated held-out error of the best schedule's final loss, in nats (see `scaling.plan.verdicts`)
    df.attrs["resolution"] = float(F[0, best] * np.max(predictive_sigma(fit, points[best])))
    return df


#: Draws from the linearised joint normal of the final losses for P(best) without bootstrap samples.
LAPLACE_DRAWS = 4000


def _laplace_ranking(cov, J, point, best: int, level: float) -> dict[str, np.ndarray] | None:
    """Linearised bands, paired gaps and P(best) of K final losses; None where the gradient is not finite.

    With ``J`` (K, P) the law's gradient at each schedule's last step and
    ``Sigma = cov`` the fit's covariance, the final losses are jointly
    ``N(point, J Sigma J^T)``: schedule ``k``'s band is
    ``point_k +- z sqrt(J_k Sigma J_k^T)``, its gap to the best
    ``+- z sqrt((J_k - J_b) Sigma (J_k - J_b)^T)`` (the shared parameter
    uncertainty cancels, as with paired bootstrap samples), and ``p_best``
    the share of :data:`LAPLACE_DRAWS` draws from that normal (seed 0) in
    which it is lowest.
    """
    from scipy.special import ndtri

    if not np.all(np.isfinite(J)):
        return None
    z = float(ndtri(0.5 + level / 2.0))
    point = np.asarray(point, dtype=np.float64)
    sd = np.sqrt(np.maximum(np.einsum("kp,pq,kq->k", J, cov, J), 0.0))
    D = J - J[best]
    sd_gap = np.sqrt(np.maximum(np.einsum("kp,pq,kq->k", D, cov, D), 0.0))
    gap = point - point[best]
    joint = J @ cov @ J.T
    draws = np.random.default_rng(0).multivariate_normal(point, 0.5 * (joint + joint.T), size=LAPLACE_DRAWS,
                                                         method="eigh")
    winners = np.argmin(draws, axis=1)
    return {"final_loss_lo": point - z * sd, "final_loss_hi": point + z * sd, "delta_lo": gap - z * sd_gap,
            "delta_hi": gap + z * sd_gap, "p_best": np.bincount(winners, minlength=point.size) / LAPLACE_DRAWS}


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
    B=None,
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
    df = compare_schedules(fit, scheds, steps=steps, level=level, N=N, B=B)
    df["decay"] = [float(s.rsplit("decay=", 1)[1]) for s in df["spec"]]
    return df.sort_values("decay").reset_index(drop=True)


def schedule_curves(fit, schedules: Mapping[str, Any], *, steps: int | None = None, n_points: int = 200, level=None,
                    N=None, B=None, kind: str = "predictive"):
    """Predicted loss curves (with bands) of several schedules, for plotting.

    Returns
    -------
    pandas.DataFrame
        ``schedule``, ``step``, ``lr``, ``loss``, ``loss_lo``, ``loss_hi`` at
        ``n_points`` steps spread over each run; the band is
        :func:`scaling.evaluate.band` of ``kind`` (the same as ``predict``).
    """
    import pandas as pd

    law, _, _, _ = parameter_sets(fit)
    frames = []
    for name, sched in schedules.items():
        lr, _ = _lr_array(sched, steps)
        T = len(lr) - 1
        at = np.unique(np.linspace(1, T, n_points).round().astype(np.int64))
        # the same band as scaling.prediction and the report: scaling.evaluate.band
        b = band(fit, curve_inputs(law, lr, at, N=N, B=B), level=level, kind=kind)
        frames.append(pd.DataFrame({"schedule": str(name), "step": at, "lr": lr[at], **b}))
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
        :func:`compare_schedules` or :func:`scaling.prediction.predict`.
    """
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize

    from scaling._x64 import float64
    from scaling.schedules import parse_schedule, schedule_array

    law, theta, _, _ = parameter_sets(fit)
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
