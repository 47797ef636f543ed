"""Kaplan / Su et al. law of loss against model size, steps and batch size.

.. math::

    L(N, S_{min}) = \\Big(\\frac{N_c}{N}\\Big)^{\\alpha_N} + \\Big(\\frac{S_c}{S_{min}}\\Big)^{\\alpha_S},
    \\qquad S_{min} = \\frac{S}{1 + B_{crit}(L)/B},
    \\qquad B_{crit}(L) = \\frac{B_*}{L^{1/\\alpha_B}}

``N`` is the number of (non-embedding) parameters, ``S`` the number of
optimizer steps taken with batch size ``B`` (tokens per step), ``S_min`` the
number of steps the same progress would take with a very large batch, and
``B_crit(L)`` the critical batch size (tokens) at loss ``L`` (nats/token).
``N_c`` (parameters), ``S_c`` (steps), ``B_*`` (tokens) are scales; ``alpha_N``,
``alpha_S``, ``alpha_B`` exponents. Kaplan et al.'s fit of this law (their
Table 3): ``alpha_N = 0.077``, ``N_c = 6.5e13``, ``alpha_S = 0.76``,
``S_c = 2.1e3``; with the critical batch size of their Eq. 5.3, ``B_* = 2e8``,
``alpha_B = 0.21`` (:data:`scaling.plan.published.KAPLAN_2020_BATCH`, and
:func:`theta_from_constants` to turn them into ``theta``). Their Eq. 1.1 values
``alpha_N = 0.076``, ``N_c = 8.8e13`` belong to the converged-loss law
``L(N)``; with them Appendix B's derived numbers (e.g. 65 % less compute, Eq.
B.14) come out off in the last printed digit. The law assumes a constant
learning rate after warmup (the ``lr`` input is not read).

This is a ``kind="curve"`` law: each training run is one group with
``inputs["step"]`` (n,) integer steps, ``inputs["N"]`` (scalar, the run's
``params``) and ``inputs["B"]`` (scalar, tokens per step, from the run's
``tokens`` column: :func:`scaling.fitting.dataset.dataset_from_curves` fills
it). It predicts a trajectory for any batch size (:func:`trajectory`) and
the critical batch size at a target loss (:func:`critical_batch_size`, or
the derived ``B_crit_at_target`` when built with ``target_loss=...``).
Fitting needs several model sizes and batch sizes (else ``N_c`` and
``alpha_N``, or ``B_*`` and ``alpha_B``, trade off).

The loss is implicit (``B_crit`` depends on ``L``). For fixed ``S, B, N``,
``f(L) = (N_c/N)^alpha_N + (S_c (1 + B_crit(L)/B) / S)^alpha_S`` decreases
in ``L``, so ``h(L) = L - f(L)`` is strictly increasing (``h' > 1``) and has
exactly one root, bracketed by ``L_lo = f(inf)`` (the large-batch loss) and
``L_hi = f(L_lo)``. It is found by safeguarded Newton on that bracket (40
iterations, bisection whenever a Newton step leaves the bracket). Its
derivatives come from the implicit function theorem, ``dL = -dh / h'(L)``
(a ``jax.custom_jvp`` rule that is itself differentiable), so gradients and
the fitter's exact Hessians never differentiate the solver loop: cheaper to
compile and exact at the root.

Fit space: :math:`\\theta = (\\log N_c, \\alpha_N, \\log S_c, \\alpha_S, \\log B_*, \\alpha_B)`.

References
----------
J. Kaplan et al., "Scaling Laws for Neural Language Models",
arXiv:2001.08361 (2020), Eq. 1.6, 5.4 and 5.6. H. Su et al., "Unraveling the
Mystery of Scaling Laws: Part I", arXiv:2403.06563 (2024).

Examples
--------
>>> import numpy as np
>>> from scaling.laws.kaplan_batch import trajectory
>>> from scaling.laws.kaplan_batch import theta_from_constants
>>> from scaling.plan.published import KAPLAN_2020_BATCH
>>> theta = theta_from_constants(**KAPLAN_2020_BATCH)
>>> y = trajectory(theta, N=1e8, B=2 ** 19, steps=[1000, 10000])
>>> bool(y[0] > y[1])
True
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from scaling._x64 import in_float64
from scaling.laws.base import Law

PARAM_NAMES = ("log_Nc", "alpha_N", "log_Sc", "alpha_S", "log_Bstar", "alpha_B")

#: Safeguarded Newton iterations (parameters frozen) before the two live steps.
SOLVE_ITERS = 40


def _fixed_point_map(L, theta, log_s, log_b, log_n):
    """``f(L)`` and ``df/dL`` of the fixed-point map ``L = f(L)`` (elementwise)."""
    import jax.numpy as jnp

    log_nc, a_n, log_sc, a_s, log_bstar, a_b = (theta[i] for i in range(6))
    log_bcrit = log_bstar - jnp.log(L) / a_b
    q = 1.0 + jnp.exp(log_bcrit - log_b)  # 1 + B_crit / B
    s_term = jnp.exp(a_s * (log_sc - log_s + jnp.log(q)))
    # d s_term / dL = a_s s_term / q * dq/dL, with dq/dL = -(q - 1) / (a_b L)
    ds = -a_s * s_term / q * (q - 1.0) / (a_b * L)
    return jnp.exp(a_n * (log_nc - log_n)) + s_term, ds


def _root_impl(theta, log_s, log_b, log_n):
    import jax
    import jax.numpy as jnp

    lo = jnp.exp(theta[1] * (theta[0] - log_n)) + jnp.exp(theta[3] * (theta[2] - log_s))  # f(inf)
    hi = _fixed_point_map(lo, theta, log_s, log_b, log_n)[0]

    def body(_, carry):
        L, lo, hi = carry
        f, df = _fixed_point_map(L, theta, log_s, log_b, log_n)
        h = L - f
        lo = jnp.where(h < 0, L, lo)
        hi = jnp.where(h < 0, hi, L)
        L_new = L - h / (1.0 - df)
        inside = (L_new > lo) & (L_new < hi)
        return jnp.where(inside, L_new, 0.5 * (lo + hi)), lo, hi

    L, _, _ = jax.lax.fori_loop(0, SOLVE_ITERS, body, (0.5 * (lo + hi), lo, hi))
    return L


def _root_jvp(primals, tangents):
    # implicit function theorem on h(L, theta) = L - f(L, theta) = 0:
    # dL = -(dh at fixed L) / (dh/dL); the rule is itself differentiable, so
    # Hessians come out exact without differentiating the solver loop.
    import jax

    L = _root(*primals)
    _, dh = jax.jvp(lambda *args: L - _fixed_point_map(L, *args)[0], primals, tangents)
    dh_dl = 1.0 - _fixed_point_map(L, *primals)[1]
    return L, -dh / dh_dl


_ROOT = None


def _root(theta, log_s, log_b, log_n):
    global _ROOT
    if _ROOT is None:  # built on first use so that importing the law does not import jax
        import jax

        _ROOT = jax.custom_jvp(_root_impl)
        _ROOT.defjvp(_root_jvp)
    return _ROOT(theta, log_s, log_b, log_n)


def solve_loss(theta, step, N, B):  # noqa: N803 (paper's symbols)
    """Loss at ``step`` for a run of size ``N`` with ``B`` tokens per step; shape of ``step``.

    See the module docstring for the solver. ``step`` is floored at 1.
    """
    import jax.numpy as jnp

    log_s = jnp.log(jnp.maximum(jnp.asarray(step, dtype=jnp.float64), 1.0))
    log_b = jnp.broadcast_to(jnp.log(jnp.asarray(B, dtype=jnp.float64)), log_s.shape)
    log_n = jnp.broadcast_to(jnp.log(jnp.asarray(N, dtype=jnp.float64)), log_s.shape)
    return _root(jnp.asarray(theta), log_s, log_b, log_n)


def loss(theta, inputs: Mapping[str, Any]):
    """The law for one run: ``inputs["step"]`` (n,), scalars ``inputs["N"]``, ``inputs["B"]``."""
    return solve_loss(theta, inputs["step"], inputs["N"], inputs["B"])


def theta_from_constants(*, N_c: float, alpha_N: float, S_c: float, alpha_S: float, B_star: float,  # noqa: N803
                         alpha_B: float) -> np.ndarray:
    """Fit-space ``theta`` (6,) from the law's constants in natural units.

    ``N_c`` parameters, ``S_c`` steps, ``B_star`` tokens; e.g.
    ``theta_from_constants(**scaling.plan.published.KAPLAN_2020_BATCH)`` for
    Kaplan et al. (2020)'s Table 3 and Eq. 5.3.
    """
    return np.array([np.log(N_c), alpha_N, np.log(S_c), alpha_S, np.log(B_star), alpha_B], dtype=np.float64)


def critical_batch_size(theta, loss_value):
    """``B_crit(L) = B_* / L**(1/alpha_B)`` in tokens, for fit-space ``theta``."""
    import jax.numpy as jnp

    return jnp.exp(theta[4] - jnp.log(jnp.asarray(loss_value)) / theta[5])


@in_float64
def trajectory(theta, *, N: float, B: float, steps) -> np.ndarray:  # noqa: N803
    """Predicted loss at ``steps`` for a model of ``N`` parameters trained with ``B`` tokens per step.

    Parameters
    ----------
    theta : array (6,)
        Fit-space parameters (e.g. ``FitResult.params``).
    N : float
        Parameters.
    B : float
        Batch size in tokens per step.
    steps : array of int
        Optimizer steps.

    Returns
    -------
    ndarray, float64, shape of ``steps``
    """
    import jax.numpy as jnp

    return np.asarray(solve_loss(jnp.asarray(theta, dtype=jnp.float64), jnp.asarray(steps), N, B))


def _derived(theta, *, target_loss):
    import jax.numpy as jnp

    out = {"N_c": jnp.exp(theta[0]), "alpha_N": theta[1], "S_c": jnp.exp(theta[2]), "alpha_S": theta[3],
           "B_star": jnp.exp(theta[4]), "alpha_B": theta[5]}
    if target_loss is not None:
        out["B_crit_at_target"] = critical_batch_size(theta, target_loss)
    return out


@functools.lru_cache(maxsize=None)
def make(target_loss: float | None = None) -> Law:
    """Build the ``kaplan-batch`` law.

    Parameters
    ----------
    target_loss : float, optional
        If given, the derived quantities include ``B_crit_at_target``, the
        critical batch size (tokens) at this loss, with bootstrap intervals.
    """
    target_loss = None if target_loss is None else float(target_loss)
    return Law(
        name="kaplan-batch",
        fn=loss,
        param_names=PARAM_NAMES,
        bounds=((-np.inf, np.inf), (1e-3, 3.0), (-np.inf, np.inf), (1e-3, 5.0), (-np.inf, np.inf), (1e-2, 5.0)),
        # 8 starts around Kaplan et al.'s values (each start is costly: an implicit solve per point)
        start_grid={"log_Nc": (np.log(1e14),), "alpha_N": (0.076, 0.2), "log_Sc": (np.log(2e3),),
                    "alpha_S": (0.5, 1.0), "log_Bstar": (np.log(1e8),), "alpha_B": (0.21, 0.5)},
        inputs=("step", "N", "B"),
        kind="curve",
        equation="L = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S; S_min = S/(1 + B_crit(L)/B); "
                 "B_crit(L) = B*/L^(1/alpha_B)",
        citation="Kaplan et al. 2020, arXiv:2001.08361 (Eq. 5.6); Su et al. 2024, arXiv:2403.06563",
        derived=functools.partial(_derived, target_loss=target_loss),
        options={"target_loss": target_loss},
    )


def example_inputs(rng: np.random.Generator, law: Law | None = None):
    """Three sizes x two batch sizes, loss every 250 steps to 5,000 (see ``scaling.laws.examples``).

    ``theta`` mixes Kaplan et al.'s Eq. 1.1 ``alpha_N``, ``N_c`` with Table 3's
    ``S_c``, ``alpha_S`` and Eq. 5.3's ``B_*``, ``alpha_B`` (kept as the
    conformance suite's truth; the published set is
    :data:`scaling.plan.published.KAPLAN_2020_BATCH`).
    """
    steps = np.arange(250, 5001, 250)
    groups = []
    for n in (1e7, 1e8, 1e9):
        for b in (2.0 ** 15, 2.0 ** 20):
            groups.append({"lr": np.full(steps[-1] + 1, 1e-3), "step": steps, "N": np.float64(n),
                           "B": np.float64(b)})
    theta = np.array([np.log(8.8e13), 0.076, np.log(2.1e3), 0.76, np.log(2e8), 0.21])
    return groups, theta
