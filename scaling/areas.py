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
  et al. (ICLR 2025, arXiv:2503.12811), evaluated only at the requested
  steps, vectorised; far-past terms grouped in blocks so a step costs
  O(sqrt(T)) instead of O(T) (exact double sum with ``block=1``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


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
    return jnp.cumsum(lr)


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
    return jnp.cumsum(annealing_momentum(lr, lam, start=start))


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


def multi_power_ld(lr, steps, C, beta, gamma, *, start=1, block=None, chunk_elems=2_000_000):
    """Loss-drop term of the multi-power law at the given steps.

    .. math::
        LD(t) = \\sum_{k=\\max(1,\\,start)}^{t} (\\eta_{k-1} - \\eta_k)\\,
                G(\\eta_k^{-\\gamma} S_k(t)), \\quad
        S_k(t) = \\sum_{\\tau=k}^{t} \\eta_\\tau, \\quad
        G(x) = 1 - (C x + 1)^{-\\beta}

    (Luo et al. 2025, Eq. 5, without the factor ``B``). The model loss is
    ``L0 + A (S1 + S_W)^-alpha - B LD``. With ``start=1`` every LR change
    counts, including the warmup's rises, as in the authors' code (the warmup
    terms then add a near-constant offset absorbed by ``L0``).

    The direct double sum costs O(n T) for ``n`` steps, too slow to fit with
    (24k-step curves: ~2 s per gradient). So the terms with ``k`` within
    ``4 * block`` steps of ``t`` are summed exactly, and farther ``k`` are
    grouped into blocks of ``block`` steps, each evaluated once at its
    ``|gap|``-weighted mean of ``eta_k^-gamma`` and ``S_{k-1}`` (exact for a
    block with a single LR jump, such as a two-stage schedule). For those
    blocks ``S_k(t)`` varies by at most a quarter within a block. On the
    multi-power-law benchmark curves the largest error is 3e-4 of LD (3e-5
    nats of loss with the published parameters, mostly a constant offset from
    the first warmup block, where ``eta_k`` spans decades) and the published
    test metrics are reproduced to every printed digit. Cost per
    step O(T / block + 5 block); ``block=None`` picks ``sqrt(T / 5)``, and
    ``block=1`` (or T < 2000) gives the exact double sum.

    Parameters
    ----------
    lr : array, shape (T + 1,)
    steps : int array, shape (n,)
        Steps ``t`` at which LD is wanted (``0 <= t <= T``).
    C, beta, gamma : scalars (may be traced)
    start : int or scalar int array
        First ``k`` included (>= 1).
    block : int or None
        Block size for the far terms (static).
    chunk_elems : int
        Work is done in chunks of about this many terms so memory stays
        bounded; the chunk body is rematerialised in the backward pass.

    Returns
    -------
    array, shape (n,)
        Positive when the LR has decayed.
    """
    T = lr.shape[0] - 1
    steps = jnp.asarray(steps)
    n = steps.shape[0]
    if n == 0 or T == 0:
        return jnp.zeros(steps.shape, lr.dtype)
    if block is None:
        block = 1 if T < 2000 else max(8, int(round((T / 5) ** 0.5)))
    block = int(block)
    cs = jnp.cumsum(lr)
    k = jnp.arange(1, T + 1)
    gap = jnp.where(k >= start, lr[:-1] - lr[1:], 0.0)  # eta_{k-1} - eta_k, (T,)
    # C * eta_k^-gamma; an LR of exactly 0 is floored so 0 * inf never appears.
    a = C * jnp.maximum(lr[1:], 1e-30) ** (-gamma)
    b = cs[:-1]  # S_{k-1}: cumsum up to k-1, so S_k(t) = cs[t] - b

    def g_of(x):
        return 1.0 - (x + 1.0) ** (-beta)

    if block <= 1:

        def rows(s):  # (c,) steps -> (c,) LD by the direct sum
            x = a[None, :] * jnp.maximum(cs[s][:, None] - b[None, :], 0.0)
            mask = k[None, :] <= s[:, None]
            return jnp.sum(jnp.where(mask, gap[None, :] * g_of(x), 0.0), axis=1)

        width = T
    else:
        near = 4 * block
        nb = -(-T // block)
        pad = nb * block - T
        gp = jnp.concatenate([gap, jnp.zeros((pad,), gap.dtype)]).reshape(nb, block)
        ap = jnp.concatenate([a, jnp.ones((pad,), a.dtype)]).reshape(nb, block)
        bp = jnp.concatenate([b, jnp.zeros((pad,), b.dtype)]).reshape(nb, block)
        w = jnp.abs(gp)
        wsum = jnp.sum(w, axis=1)
        safe = jnp.where(wsum > 0, wsum, 1.0)
        gsum = jnp.sum(gp, axis=1)
        a_c = jnp.where(wsum > 0, jnp.sum(w * ap, axis=1) / safe, 1.0)
        b_c = jnp.where(wsum > 0, jnp.sum(w * bp, axis=1) / safe, 0.0)
        blk_end = (jnp.arange(nb) + 1) * block  # last k of each block
        n_near = near // block + 1  # blocks summed exactly: the one holding t and 4 before it
        extra = jnp.zeros((n_near, block), gp.dtype)
        # whole rows are gathered (contiguous slices), which is much cheaper
        # than gathering single k, above all in the backward pass
        gp_x, ap_x, bp_x = (jnp.concatenate([v, extra]) for v in (gp, ap, bp))
        kk_row = jnp.arange(block)[None, :] + 1  # k within a block, 1-based

        def rows(s):  # (c,) steps -> (c,) LD, far blocks + exact rows
            cut_blk = jnp.maximum(s - near, 0) // block  # blocks < cut_blk are far
            cs_t = cs[s][:, None]
            xf = a_c[None, :] * jnp.maximum(cs_t - b_c[None, :], 0.0)
            far = jnp.sum(jnp.where(blk_end[None, :] <= (cut_blk * block)[:, None], gsum[None, :] * g_of(xf), 0.0),
                          axis=1)
            idx = cut_blk[:, None] + jnp.arange(n_near)[None, :]  # (c, n_near) block rows
            g_r, a_r, b_r = gp_x[idx], ap_x[idx], bp_x[idx]  # (c, n_near, block)
            kk = idx[:, :, None] * block + kk_row[None]
            xn = a_r * jnp.maximum(cs_t[:, :, None] - b_r, 0.0)
            close = jnp.sum(jnp.where(kk <= s[:, None, None], g_r * g_of(xn), 0.0), axis=(1, 2))
            return far + close

        width = nb + n_near * block

    c = max(1, min(n, chunk_elems // max(width, 1)))
    if c >= n:
        return rows(steps)
    pad_n = (-n) % c
    padded = jnp.concatenate([steps, jnp.zeros((pad_n,), steps.dtype)]).reshape(-1, c)
    out = jax.lax.map(jax.checkpoint(rows), padded).reshape(-1)
    return out[:n]


__all__ = [
    "annealing_area",
    "annealing_momentum",
    "forward_area",
    "lr_drops",
    "multi_power_ld",
    "warmup_end",
]
