"""The multi-power loss-drop term LD on compressed drop nodes (Luo et al. 2025, Eq. 5).

:func:`multi_power_ld` evaluates

.. math::
    LD(t) = \\sum_{k} (\\eta_{k-1} - \\eta_k)\\, G(\\eta_k^{-\\gamma} S_k(t)), \\quad
    G(x) = 1 - (C x + 1)^{-\\beta}

in ``O(T / 2^levels + levels (2 rho + 2) + 2 rho)`` per step instead of
``O(T)``: the drops are summarised once per LR array on a dyadic tree of step
groups (:func:`multi_power_nodes`, parameter-free), each evaluated step uses a
tree cut of groups far enough from it (:func:`_plan`), and a group's terms are
replaced by a second-order expansion around its centroid whose coefficients
are the group's moments. Derivatives in ``(C, beta, gamma)`` (first and
second order, for the fitter's exact Hessian) are written out by hand
(:func:`_ld_derivs`) and attached with ``jax.custom_jvp``.
:func:`multi_power_ld_direct` is the exact double sum (the reference).
:mod:`scaling.areas` re-exports the public names.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def prefix_sum(x, *, block: int = 64):
    """Inclusive cumulative sum of a 1-D array, as blocked triangular products.

    Same numbers as ``jnp.cumsum`` up to float rounding, but a small graph:
    on CPU ``jnp.cumsum`` lowers to an associative scan whose graph grows
    with ``log2(n)`` and takes about half a second to compile for 25k
    steps, inside every compiled fit. Here each level sums blocks of
    ``block`` values with one matrix product and recurses on the block
    totals (``log_block(n)`` levels, O(n block) work).
    """
    n = x.shape[0]
    if n <= block:
        tri = jnp.asarray(np.triu(np.ones((n, n))), x.dtype)
        return x @ tri
    nb = -(-n // block)
    xp = jnp.concatenate([x, jnp.zeros((nb * block - n,), x.dtype)]).reshape(nb, block)
    inner = xp @ jnp.asarray(np.triu(np.ones((block, block))), x.dtype)
    carry = prefix_sum(inner[:, -1], block=block) - inner[:, -1]  # sum of the blocks before
    return (inner + carry[:, None]).reshape(-1)[:n]



#: LR floor inside ``eta^-gamma`` (an LR of exactly 0 would give 0 * inf).
LR_FLOOR = 1e-30


def _ld_terms(lr, start):
    """Per-drop arrays over ``k = 1..T``: drop ``d_k``, ``log eta_k`` (floored) and ``S_{k-1}``."""
    k = jnp.arange(1, lr.shape[0])
    d = jnp.where(k >= start, lr[:-1] - lr[1:], 0.0)
    lam = jnp.log(jnp.maximum(lr[1:], LR_FLOOR))
    b = prefix_sum(lr)[:-1]
    return d, lam, b


def _g(x, beta):
    return 1.0 - (x + 1.0) ** (-beta)


def multi_power_ld_direct(lr, steps, C, beta, gamma, *, start=1, chunk_elems=2_000_000):
    """The multi-power loss-drop term by its direct double sum, O(n T) (the reference).

    Same arguments and result as :func:`multi_power_ld`; exact up to rounding.
    Work is chunked over the steps (about ``chunk_elems`` terms at a time).
    """
    T = lr.shape[0] - 1
    steps = jnp.asarray(steps)
    n = steps.shape[0]
    if n == 0 or T == 0:
        return jnp.zeros(steps.shape, lr.dtype)
    d, lam, b = _ld_terms(lr, start)
    a = C * jnp.exp(-gamma * lam)
    cs = jnp.cumsum(lr)

    def rows(s):
        # terms with k > t have S_k(t) <= 0, clamped to G(0) = 0
        x = a[None, :] * jnp.maximum(cs[s][:, None] - b[None, :], 0.0)
        return jnp.sum(d[None, :] * _g(x, beta), axis=1)

    return _chunked(rows, steps, T, chunk_elems)


def _chunked(rows, steps, width, chunk_elems):
    n = steps.shape[0]
    c = max(1, min(n, chunk_elems // max(width, 1)))
    if c >= n:
        return rows(steps)
    pad_n = (-n) % c
    padded = jnp.concatenate([steps, jnp.zeros((pad_n,), steps.dtype)]).reshape(-1, c)
    # rematerialised in the backward pass so memory stays at one chunk
    return jax.lax.map(jax.checkpoint(rows), padded).reshape(-1)[:n]


class DropNodes(NamedTuple):
    """Parameter-free summary of a schedule's LR drops on a dyadic tree of step groups.

    Level ``l`` (``0..levels``) splits the drops ``k = 1..T`` (padded with
    zero drops) into groups of ``2^l`` consecutive steps; all levels are
    stored one after the other (``offsets[l]`` is where level ``l`` starts;
    level 0 is the single drops). Rows of ``table`` per group: ``D = sum d_k``,
    the ``|d|``-weighted centroid ``(lam_c, b_c)`` of ``(log eta_k, S_{k-1})``
    and the signed central moments ``M_l = sum d (lam - lam_c)``, ``M_b``,
    ``M_ll``, ``M_lb``, ``M_bb``. Built by :func:`multi_power_nodes`; the
    integer fields are static.
    """

    table: Any  # (8, n_groups): D, lam_c, b_c, M_l, M_b, M_ll, M_lb, M_bb
    cs: Any  # cumsum(lr), shape (T + 1,)
    rho: int
    levels: int
    offsets: tuple


#: Below this many steps the tree is not used: every term is summed exactly (cost T per step).
EXACT_BELOW = 512


def node_layout(T: int, *, rho: int = 8, top: int | None = None) -> tuple[int, int]:
    """Static tree shape for ``T`` drops: ``(levels, top_size)``.

    The top groups have ``2^levels`` steps, the largest power of two not above
    ``top`` (default ``max(sqrt(T), T / 256)``) nor ``T / (2 rho + 1)``: a far group's
    spread in ``log eta`` grows with its size, and the top level costs
    ``T / 2^levels`` terms per evaluated step. ``T <`` :data:`EXACT_BELOW`
    gives ``levels = 0`` (the exact double sum).
    """
    if T < EXACT_BELOW:
        return 0, 1
    if top is None:
        top = max(T**0.5, T / 256.0)
    levels = max(0, int(np.floor(np.log2(max(1.0, min(float(top), T / (2.0 * rho + 1.0)))))))
    return levels, 1 << levels


def multi_power_nodes(lr, *, start=1, rho: int = 8, top: int | None = None) -> DropNodes:
    """Build the drop nodes of a schedule (pure, O(T), jit-able; shapes static in ``T``).

    Within each top group the drops' raw moments about the group's first
    step (``sum d``, ``sum |d|``, ``sum |d| dlam``, ... , ``sum d db^2``) are
    additive, so each level is a pairwise sum of the one below (two ops per
    level: a small graph that compiles fast); the centroids and central
    moments follow in one vectorised step. Local coordinates keep the
    cancellation in the central moments small (float64 relative error
    ~1e-10 even for 1e6-step schedules).

    Parameters
    ----------
    lr : array, shape (T + 1,)
    start : int or scalar int array
        First drop counted (``k >= start``), may be traced.
    rho : int
        Separation: a group of ``2^l`` steps is summarised only when it
        ends at least ``rho 2^l`` steps before the evaluated step and starts
        at least ``rho 2^l`` steps after step 0 (static).
    top : int, optional
        Largest group size (static; see :func:`node_layout`).
    """
    T = lr.shape[0] - 1
    levels, size = node_layout(T, rho=rho, top=top)
    d, lam, b = _ld_terms(lr, start)
    pad = (-T) % size
    n_top = (T + pad) // size
    z = jnp.zeros((pad,), lr.dtype)
    # padding drops are zero; their coordinates continue the last step (finite)
    lam0 = jnp.concatenate([lam, z + lam[-1]]).reshape(n_top, size)
    b0 = jnp.concatenate([b, z + b[-1]]).reshape(n_top, size)
    d0 = jnp.concatenate([d, z]).reshape(n_top, size)
    dl, db = lam0 - lam0[:, :1], b0 - b0[:, :1]  # local coordinates
    a0 = jnp.abs(d0)
    # level 0 (single drops) is its own centroid with zero moments
    zero = jnp.zeros((T + pad,), lr.dtype)
    table0 = jnp.stack([d0.reshape(-1), lam0.reshape(-1), b0.reshape(-1)] + [zero] * 5)
    if levels == 0:
        return DropNodes(table0, prefix_sum(lr), rho=int(rho), levels=0, offsets=(0,))
    # raw local moments of the pairs (level 1), then pairwise sums up the tree
    pair = (lambda v: v.reshape(n_top, -1, 2).sum(-1))  # noqa: E731
    raw = jnp.stack([pair(v) for v in (d0, a0, a0 * dl, a0 * db, d0 * dl, d0 * db, d0 * dl * dl, d0 * dl * db,
                                       d0 * db * db)])
    per_level = [raw.reshape(9, -1)]
    for _ in range(levels - 1):
        raw = raw.reshape(9, n_top, -1, 2).sum(-1)
        per_level.append(raw.reshape(9, -1))
    sizes = [T + pad] + [x.shape[1] for x in per_level]
    offsets = tuple(int(o) for o in np.concatenate([[0], np.cumsum(sizes)[:-1]]))
    D, W, Wl, Wb, S_l, S_b, S_ll, S_lb, S_bb = jnp.concatenate(per_level, axis=1)
    top_of = np.concatenate([np.repeat(np.arange(n_top), s // n_top) for s in sizes[1:]])  # static
    safe = jnp.where(W > 0, W, 1.0)
    cl, cb = jnp.where(W > 0, Wl / safe, 0.0), jnp.where(W > 0, Wb / safe, 0.0)  # centroid offsets
    table = jnp.stack([D, lam0[top_of, 0] + cl, b0[top_of, 0] + cb, S_l - D * cl, S_b - D * cb,
                       S_ll - 2 * cl * S_l + D * cl * cl, S_lb - cl * S_b - cb * S_l + D * cl * cb,
                       S_bb - 2 * cb * S_b + D * cb * cb])
    table = jnp.concatenate([table0, table], axis=1)
    return DropNodes(table, prefix_sum(lr), rho=int(rho), levels=levels, offsets=offsets)


def _layout_columns(nodes: DropNodes):
    """Static description of the candidate terms per evaluated step (numpy, one entry per column).

    Columns: every top-level group, then per lower level ``rho`` groups next
    to step 0 (``j = rho .. 2 rho - 1``) and ``rho + 2`` groups next to ``t``,
    then the exact terms (level-0 groups) ``k <= rho`` and ``t - rho < k <= t``.
    Returns ``(level, kind, r, groups_on_level)``; ``kind`` 0 = top (``j = r``),
    1 = next to step 0 (``j = r``), 2 = next to ``t`` (``j = t // 2^l - 2 rho - 2 + r``),
    3 = exact near 0 (``j = r``), 4 = exact near ``t`` (``j = t - rho + r``).
    """
    rho, L = nodes.rho, nodes.levels
    n_top = nodes.table.shape[1] - nodes.offsets[L]
    lv, kind, r = [np.full(n_top, L)], [np.zeros(n_top, int)], [np.arange(n_top)]
    for level in range(L):
        lv.append(np.full(2 * rho + 2, level))
        kind.append(np.r_[np.ones(rho, int), np.full(rho + 2, 2)])
        r.append(np.r_[np.arange(rho, 2 * rho), np.arange(rho + 2)])
    lv.append(np.zeros(2 * rho, int))
    kind.append(np.r_[np.full(rho, 3), np.full(rho, 4)])
    r.append(np.r_[np.arange(rho), np.arange(rho)])
    lv, kind, r = (np.concatenate(x) for x in (lv, kind, r))
    return lv, kind, r, n_top << (L - lv)


def _plan(nodes: DropNodes, s):
    """Parameter-free data of the terms for steps ``s`` (c,): ``(table[:, idx], S_t - b_c)``, (8, c, K) and (c, K).

    Group ``j`` of level ``l`` (steps ``j 2^l + 1 .. (j+1) 2^l``) is *admissible*
    for ``t`` when ``j >= rho`` and ``(j + 1 + rho) 2^l <= t``; it is used when
    admissible and its parent is not (or it is on the top level). This is a
    cut of the tree: every ``k <= t`` not in the exact windows ``k <= rho``
    and ``t - rho < k <= t`` lies in exactly one used group; per level at most
    ``rho`` groups next to step 0 and ``rho + 1`` next to ``t`` qualify, so a
    static window of candidates holds them. Exact terms are level-0 groups
    (zero moments). Unused columns get zero drop and moments (they add 0).
    """
    rho = nodes.rho
    lv, kind, r, m = _layout_columns(nodes)
    t = s[:, None]
    lv_, m_, r_ = jnp.asarray(lv)[None, :], jnp.asarray(m)[None, :], jnp.asarray(r)[None, :]
    kind_ = jnp.asarray(kind)[None, :]
    j = jnp.where(kind_ == 2, (t >> lv_) - 2 * rho - 2 + r_, jnp.where(kind_ == 4, t - rho + r_, r_))

    def admissible(level, jj):
        return (jj >= rho) & (((jj + 1 + rho) << level) <= t)

    has_parent = jnp.asarray(lv < nodes.levels)[None, :]
    # near-step-0 columns hold every j < 2 rho, so near-t columns keep j >= 2 rho only
    fresh = (kind_ != 2) | (j >= 2 * rho)
    grouped = admissible(lv_, j) & ~(has_parent & admissible(lv_ + 1, j >> 1)) & (j < m_) & fresh
    # exact: k = j + 1 <= t, and the near-t window only k > rho (near 0 holds k <= rho)
    exact = (j < t) & ((kind_ == 3) | (j >= rho))
    use = jnp.where(kind_ >= 3, exact, grouped)
    idx = jnp.asarray(np.asarray(nodes.offsets)[lv])[None, :] + jnp.clip(j, 0, m_ - 1)
    cols = nodes.table[:, idx]  # (8, c, K)
    # unused columns: zero drop and moments; the centroid rows stay (finite)
    keep = use[None] | jnp.asarray([False, True, True] + [False] * 5)[:, None, None]
    cols = jnp.where(keep, cols, 0.0)
    sbar = jnp.maximum(nodes.cs[s][:, None] - cols[2], 0.0)
    return cols, sbar


def _ld_derivs(p3, plan, order: int):
    """LD at the planned steps and its derivatives in ``(log C, beta, gamma)``, by hand.

    Per column the second-order expansion reads ``V = D + w B`` with
    ``u = log C - gamma lam_c + log S`` (``x = e^u``), ``w = (1 + x)^-beta``,
    ``sig = x / (1 + x)`` and
    ``B = -D + beta sig E(gamma) - beta (beta + 1) sig^2 A(gamma) / 2`` where
    ``E`` and ``A`` are quadratics in ``gamma`` whose coefficients are the
    group's moments (``E = p + q + (p^2 + 2 p q) / 2`` and
    ``A = (p + q)^2`` summed with the drops). Returns ``(v,)``, ``(v, J)`` or
    ``(v, J, H)`` for ``order`` 0, 1, 2 with shapes (c,), (c, 3), (c, 3, 3).
    """
    logC, beta, gamma = p3[0], p3[1], p3[2]
    (D, lc, _, Ml, Mb, Mll, Mlb, Mbb), sbar = plan
    pos = sbar > 0
    inv = jnp.where(pos, 1.0 / jnp.where(pos, sbar, 1.0), 0.0)
    # u = log x is the expansion variable; x itself is formed directly (three
    # transcendentals per term: this kernel dominates the run time)
    x = jnp.exp(logC - gamma * lc) * sbar
    sp = jnp.log1p(x)  # log(1 + x)
    sig = x / (1.0 + x)
    w = jnp.exp(-beta * sp)
    e0, e1, e2 = -Mb * inv, Mlb * inv - Ml, 0.5 * Mll
    f0, f1, f2 = Mbb * inv * inv, 2.0 * Mlb * inv, Mll
    E = e0 + gamma * (e1 + gamma * e2)
    A = f0 + gamma * (f1 + gamma * f2)
    bb = beta * (beta + 1.0)
    B = -D + beta * sig * E - 0.5 * bb * sig * sig * A
    V = D + w * B
    if order == 0:
        return (jnp.sum(V, axis=1),)
    s1 = sig * (1.0 - sig)  # d sig / du
    Eg, Ag = e1 + 2.0 * gamma * e2, f1 + 2.0 * gamma * f2
    w_u, w_b = -beta * sig * w, -sp * w
    B_u = beta * s1 * E - bb * sig * s1 * A
    B_b = sig * E - 0.5 * (2.0 * beta + 1.0) * sig * sig * A
    B_g = beta * sig * Eg - 0.5 * bb * sig * sig * Ag
    V_u, V_b, V_g = w_u * B + w * B_u, w_b * B + w * B_b, w * B_g
    t1 = -lc  # du / dgamma
    per_col = [V, V_u, V_b, V_u * t1 + V_g]
    if order == 1:
        # one stacked reduction: a single fused loop over the terms
        sums = jnp.sum(jnp.stack(per_col), axis=-1)
        return sums[0], sums[1:].T
    s2 = s1 * (1.0 - 2.0 * sig)
    w_uu = (beta * beta * sig * sig - beta * s1) * w
    w_ub = (beta * sig * sp - sig) * w
    w_bb = sp * sp * w
    B_uu = beta * s2 * E - bb * (s1 * s1 + sig * s2) * A
    B_ub = s1 * E - (2.0 * beta + 1.0) * sig * s1 * A
    B_ug = beta * s1 * Eg - bb * sig * s1 * Ag
    B_bb = -sig * sig * A
    B_bg = sig * Eg - 0.5 * (2.0 * beta + 1.0) * sig * sig * Ag
    B_gg = beta * sig * 2.0 * e2 - bb * sig * sig * f2
    V_uu = w_uu * B + 2.0 * w_u * B_u + w * B_uu
    V_ub = w_ub * B + w_u * B_b + w_b * B_u + w * B_ub
    V_ug = w_u * B_g + w * B_ug
    V_bb = w_bb * B + 2.0 * w_b * B_b + w * B_bb
    V_bg = w_b * B_g + w * B_bg
    V_gg = w * B_gg
    per_col += [V_uu, V_ub, V_uu * t1 + V_ug, V_bb, V_ub * t1 + V_bg, V_uu * t1 * t1 + 2.0 * V_ug * t1 + V_gg]
    s = jnp.sum(jnp.stack(per_col), axis=-1)
    H = jnp.stack([jnp.stack([s[4], s[5], s[6]], -1), jnp.stack([s[5], s[7], s[8]], -1),
                   jnp.stack([s[6], s[8], s[9]], -1)], axis=-2)
    return s[0], s[1:4].T, H


@jax.custom_jvp
def _ld_vj(p3, plan):
    return _ld_derivs(p3, plan, 1)


@_ld_vj.defjvp
def _ld_vj_jvp(primals, tangents):
    p3, plan = primals
    v, J, H = _ld_derivs(p3, plan, 2)
    dp = tangents[0]
    return (v, J), (J @ dp, H @ dp)


@jax.custom_jvp
def _ld(p3, plan):
    return _ld_derivs(p3, plan, 0)[0]


@_ld.defjvp
def _ld_jvp(primals, tangents):
    # Derivatives in (log C, beta, gamma) by hand: the fitter's exact Hessian
    # (jacfwd of grad over all the law's parameters) then costs one pass over
    # the terms for value, Jacobian and Hessian, instead of reverse mode
    # carrying a tangent per law parameter, and keeps no (n, K) intermediates
    # for a backward pass. (Third derivatives are not provided.)
    p3, plan = primals
    v, J = _ld_vj(p3, plan)
    return v, J @ tangents[0]


def multi_power_ld(lr, steps, C, beta, gamma, *, start=1, nodes: DropNodes | None = None, rho: int = 8,
                   top: int | None = None, chunk_elems=2_000_000):
    """Loss-drop term of the multi-power law at the given steps, on compressed drop nodes.

    .. math::
        LD(t) = \\sum_{k=\\max(1,\\,start)}^{t} (\\eta_{k-1} - \\eta_k)\\,
                G(\\eta_k^{-\\gamma} S_k(t)), \\quad
        S_k(t) = \\sum_{\\tau=k}^{t} \\eta_\\tau, \\quad
        G(x) = 1 - (C x + 1)^{-\\beta}

    (Luo et al. 2025, Eq. 5, without the factor ``B``). The model loss is
    ``L0 + A (S1 + S_W)^-alpha - B LD``. With ``start=1`` every LR change
    counts, including the warmup's rises, as in the authors' code.

    **Method.** Write ``x_k = C eta_k^-gamma (S_t - S_{k-1})`` with ``S`` the
    cumulative LR. The drops are grouped on a dyadic tree of steps (built once
    per LR array, parameter-free: :func:`multi_power_nodes`). For ``t``, the
    terms with ``k <= rho`` or ``k > t - rho`` are summed exactly; every
    other ``k`` falls in exactly one group of ``2^l`` steps that ends
    ``>= rho 2^l`` steps before ``t`` and starts ``>= rho 2^l`` steps after
    step 0 (a tree cut, :func:`_plan`). A group's terms are replaced by
    the second-order Taylor expansion of ``G`` around its centroid
    ``(lam_c, b_c)`` in ``p = -gamma (log eta_k - lam_c)`` and
    ``q = -(S_{k-1} - b_c) / (S_t - b_c)``, whose coefficients are the
    group's signed moments (so mixed-sign drops, rises and noise are handled,
    and a group holding one drop is exact). Cost per step
    ``O(T / 2^levels + levels (2 rho + 2) + 2 rho)``, e.g. 338 terms for
    ``T = 25,000`` instead of 25,000 terms.

    **Error.** Per grouped term the remainder is third order in
    ``(p_k, q_k)``, at most ``|d_k| K(beta) (|p_k| + |q_k|)^3`` with ``K``
    set by the third derivatives of ``g(y) = G(e^y)``. The tree cut keeps
    ``|q_k| <= 1 / (2 rho)`` times the ratio of the group's LR to the LR
    between the group and ``t``; a linear warmup from 0 gives
    ``|p_k| <= gamma / (2 rho)`` (the cut also keeps groups away from step
    0); elsewhere ``|p_k|`` is half the group's spread of ``gamma log eta``,
    small for a smooth schedule since groups hold at most ``top`` steps.
    Stated bound, with the defaults (``rho = 8``, ``top = max(sqrt(T), T / 256)``):
    ``|LD_fast(t) - LD(t)| <= 1e-6 * sum_{k<=t} |eta_{k-1} - eta_k|`` on
    constant+warmup, cosine, WSD (linear, 1-sqrt, exp), multistep,
    two-stage, cyclic with ``final > 0`` and a noisy logged LR (measured
    2e-8 to 7.4e-7 at 8,000 steps), and ``<= 1e-4 *`` that sum for cycles that decay to
    exactly 0 mid-run (LR near 0 inside a far group: ``|p_k|`` large;
    measured 4e-5). ``tests/test_areas.py`` checks both against the exact
    double sum. With ``B ~ 500`` and a peak LR of 3e-4 the first is below
    1e-6 nats of loss. Not covered: the LR falling by orders of magnitude
    between a group with spread-out drops and ``t`` (a decay then a cliff).
    ``T <`` :data:`EXACT_BELOW` steps: exact.

    Parameters
    ----------
    lr : array, shape (T + 1,)
    steps : int array, shape (n,)
        Steps ``t`` at which LD is wanted (``0 <= t <= T``).
    C, beta, gamma : scalars (may be traced)
    start : int or scalar int array
        First ``k`` included (>= 1); ignored when ``nodes`` is given.
    nodes : DropNodes, optional
        Precomputed :func:`multi_power_nodes` of ``lr`` (built when absent).
    rho, top : int
        Tree separation and largest group (static; see :func:`multi_power_nodes`).
    chunk_elems : int
        Steps are evaluated in chunks of about this many nodes (bounded memory).

    Returns
    -------
    array, shape (n,)
        Positive when the LR has decayed.
    """
    lr = jnp.asarray(lr)
    T = lr.shape[0] - 1
    steps = jnp.asarray(steps)
    if steps.shape[0] == 0 or T == 0:
        return jnp.zeros(steps.shape, lr.dtype)
    p3 = jnp.stack([jnp.log(jnp.asarray(C, lr.dtype)), jnp.asarray(beta, lr.dtype), jnp.asarray(gamma, lr.dtype)])
    if nodes is not None:
        return _ld_on_nodes(nodes, steps, p3, chunk_elems)
    # one compiled program per shape, also when called eagerly (op-by-op
    # dispatch of this graph costs seconds); inlined when already under jit
    return _ld_jit(lr, steps, p3, jnp.asarray(start), rho=int(rho), top=top, chunk_elems=int(chunk_elems))


def _ld_on_nodes(nodes, steps, p3, chunk_elems):
    width = len(_layout_columns(nodes)[0])
    return _chunked(lambda s: _ld(p3, _plan(nodes, s)), steps, width, chunk_elems)


@functools.partial(jax.jit, static_argnames=("rho", "top", "chunk_elems"))
def _ld_jit(lr, steps, p3, start, *, rho, top, chunk_elems):
    return _ld_on_nodes(multi_power_nodes(lr, start=start, rho=rho, top=top), steps, p3, chunk_elems)


__all__ = [
    "DropNodes",
    "EXACT_BELOW",
    "LR_FLOOR",
    "multi_power_ld",
    "multi_power_ld_direct",
    "multi_power_nodes",
    "node_layout",
    "prefix_sum",
]
