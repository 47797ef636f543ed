"""Schedule areas used by the loss-curve laws: S1, S2 and the multi-power LD term.

All functions are pure JAX, take the per-step learning rate ``lr`` of shape
``(T + 1,)`` (LR at global steps ``0..T``, index = step) and are jit-able and
differentiable in their scalar parameters.

* :func:`forward_area` -- ``S1(s) = sum_{i=0..s} lr_i`` (Tissue et al. 2024),
  O(T).
* :func:`annealing_momentum` / :func:`annealing_area` -- the momentum form of
  the annealing area ``S2`` of Tissue et al. (2024, arXiv:2408.11029):
  ``m_i = lam m_{i-1} + (lr_{i-1} - lr_i)``, ``S2(s) = sum_{i=1..s} m_i``,
  computed as a blocked linear recurrence (O(T) work, small compiled graph). A re-warmup (LR rising) gives negative ``m`` and S2 shrinks.
* :func:`warmup_end` -- the first post-warmup step of a schedule (detected).
* :func:`multi_power_ld` -- the loss-drop term of the multi-power law of Luo
  et al. (ICLR 2025, arXiv:2503.12811) at the requested steps, on compressed
  drop nodes with a stated error bound (implemented in
  :mod:`scaling.drop_nodes`; :func:`multi_power_ld_direct` is the exact
  double sum).
* :func:`prefix_sum` -- ``cumsum`` with a small compiled graph.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from scaling.drop_nodes import (  # noqa: F401  (re-exported)
    DropNodes,
    multi_power_ld,
    multi_power_ld_direct,
    multi_power_nodes,
    node_layout,
    prefix_sum,
)


def forward_area(lr):
    """Forward area ``S1(s) = sum_{i=0}^{s} lr_i`` at every step.

    Parameters
    ----------
    lr : array, shape (T + 1,)
        LR at global steps ``0..T``.

    Returns
    -------
    array, shape (T + 1,)
        Cumulative LR (units: LR x steps). The inclusive sum matches the
        authors' code of Luo et al. (2025) (``cumsum(lrs)[step]``).
    """
    return prefix_sum(jnp.asarray(lr))


def _momentum_recurrence(lam, d, block: int = 128):
    """``m_i = lam m_{i-1} + d_i`` with ``m_{-1} = 0``, for a scalar ``lam``.

    Blocked so that it compiles small and runs fast under jit, vmap and
    nested differentiation: inside each block of ``block`` steps the
    recurrence is a product with the lower-triangular Toeplitz matrix
    ``lam^(i-j)`` (O(T block) work, vectorised); the carries between blocks
    follow ``c_B = lam^block c_{B-1} + (block end)``, a ``lax.scan`` over
    ``T / block`` blocks. (An associative scan over all T steps gives the same
    numbers but its graph grows with log T and took a minute to compile inside
    the fitter's Hessian.)
    """
    n = d.shape[0]
    b = max(1, min(int(block), n))
    nb = -(-n // b)
    dp = jnp.concatenate([d, jnp.zeros((nb * b - n,), d.dtype)]).reshape(nb, b)
    i = jnp.arange(b)
    expo = i[:, None] - i[None, :]
    lam = jnp.asarray(lam, d.dtype)
    # lam^(i-j) for i >= j; a safe power keeps 0^0 = 1 and the gradient finite.
    toeplitz = jnp.where(expo >= 0, lam ** jnp.maximum(expo, 0), 0.0)
    local = dp @ toeplitz.T  # (nb, b): the recurrence restarted at each block
    lam_b = lam**b

    def step(carry, end):
        new = lam_b * carry + end
        return new, carry  # emit the carry *into* this block

    _, carry_in = jax.lax.scan(step, jnp.zeros((), d.dtype), local[:, -1])
    m = local + carry_in[:, None] * lam ** (i + 1)[None, :]
    return m.reshape(-1)[:n]


def lr_drops(lr, *, start=0):
    """Per-step LR decrease ``d_i = lr_{i-1} - lr_i`` (``d_0 = 0``), shape (T + 1,).

    Drops at steps ``i < start`` are set to zero (``start`` may be traced):
    this is how the real-warmup convention keeps the warmup's LR *rises* out of
    the annealing area.
    """
    d = jnp.concatenate([jnp.zeros((1,), lr.dtype), lr[:-1] - lr[1:]])
    idx = jnp.arange(lr.shape[0])
    return jnp.where(idx >= start, d, 0.0)


def annealing_momentum(lr, lam, *, start=0):
    """Annealing momentum ``m_i = lam m_{i-1} + (lr_{i-1} - lr_i)``, ``m_0 = 0``.

    Parameters
    ----------
    lr : array, shape (T + 1,)
    lam : float or scalar array
        Decay factor lambda in [0, 1) (Tissue et al. use 0.999); may be traced.
    start : int or scalar array
        Drops before this step are ignored (see :func:`lr_drops`).

    Returns
    -------
    array, shape (T + 1,)
    """
    return _momentum_recurrence(lam, lr_drops(lr, start=start))


def annealing_area(lr, lam, *, start=0):
    """Annealing area ``S2(s) = sum_{i=1}^{s} m_i`` at every step, shape (T + 1,).

    .. math::
        m_i = \\lambda m_{i-1} + (\\eta_{i-1} - \\eta_i), \\qquad S_2(s) = \\sum_{i=1}^{s} m_i

    (Tissue et al. 2024, Eq. 4). Units: LR x steps. O(T) work.
    """
    return prefix_sum(annealing_momentum(lr, lam, start=start))


def warmup_end(lr):
    """Last step of the warmup: the first ``i`` with ``lr[i+1] <= lr[i]``.

    Steps ``0..W`` are the initial strictly rising ramp, ``lr[W]`` is its top
    (the peak); LR changes at steps ``> W`` are the schedule proper. This is
    the convention of ``scaling.runs.lr_per_step`` for ``warmup_steps=W``
    (``lr(W) = peak``). ``W = 0`` when the schedule does not start by rising;
    ``W = T`` when it rises throughout. For ``linspace(0, peak, 2160)`` followed
    by ``peak`` this gives 2159. Traceable (returns a scalar int array).
    """
    rises = lr[1:] > lr[:-1]
    return jnp.where(jnp.all(rises), rises.shape[0], jnp.argmin(rises))


__all__ = [
    "annealing_area",
    "annealing_momentum",
    "forward_area",
    "prefix_sum",
    "lr_drops",
    "DropNodes",
    "multi_power_ld",
    "multi_power_ld_direct",
    "multi_power_nodes",
    "node_layout",
    "warmup_end",
]
