"""Batched multistart optimiser: damped Newton with the exact Hessian, many starts at once.

Scaling laws have few parameters (``P <= ~8``), so the exact ``P x P``
Hessian of the summed objective costs a handful of extra passes and gives
Newton's fast final convergence, which plain gradient methods lack on the
nearly-L1 Huber objective (``delta = 1e-3`` puts most log residuals in the
linear part). Each iteration:

1. eigen-decompose the Hessian ``H = V diag(l) V^T`` (it may be indefinite
   far from the optimum);
2. take the damped, saddle-free Newton step
   ``d = -V diag(1 / (|l| + nu * max|l|)) V^T g`` (Levenberg-Marquardt damping
   ``nu`` on the absolute eigenvalues);
3. project the trial point onto the box bounds (clip);
4. accept it if the objective decreased (then ``nu`` shrinks x0.3), else
   reject it and grow ``nu`` x10.

A start stops when an accepted near-Newton step (``nu <= 1``) decreases the
objective by less than ``ftol`` relatively, when the projected gradient is
below ``gtol``, when ``nu`` exceeds ``1e10`` (no descent possible: a
stationary point up to rounding), or after ``maxiter`` iterations.

Rejected trial points cost one objective evaluation each (the damping is
backtracked with objective values only); gradient and Hessian are computed
once per accepted step. A Gauss-Newton variant (``H = J^T diag(w h'') J``,
positive semi-definite) serves least-squares stages far from the optimum.
It is a program of its own: picking the Hessian with a traced flag
(``lax.cond``) in one program saved ~1 s of compile per curve fit but made
every multi-power iteration ~30 % slower (measured: two 25k-step runs,
4.7 -> 6.4 s per fit), as the law's parameter-free work (the drop nodes)
inside a conditional branch is no longer hoisted out of the Newton loop.

The loop is a ``lax.while_loop`` vmapped over a chunk of starts (each
with its own weight vector and box bounds, so bootstrap refits and profile
refits with a fixed parameter use the same code), jit-compiled once per law,
residual space, data shape and chunk size. The driver that runs it in
rounds, drops stopped starts and shards lanes over devices is
:class:`scaling.fitting.solver.DampedNewton`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from scaling.fitting.objective import log_fn_of, make_objective
from scaling.fitting.prior import penalty_fgh

# status codes of a start
CONVERGED_FTOL = 0
CONVERGED_GTOL = 1
MAXITER = 2
STALLED = 3
PRUNED = 4
STATUS_TEXT = {
    CONVERGED_FTOL: "relative decrease below ftol",
    CONVERGED_GTOL: "projected gradient below gtol",
    MAXITER: "maximum number of iterations reached",
    STALLED: "no further decrease possible (stationary up to rounding)",
    PRUNED: "dropped early: could not reach the best objective of the batch",
}

NU_MAX = 1e10


class BatchResult(NamedTuple):
    """Outcome of a batch of local solves (numpy arrays, one row per start)."""

    theta: np.ndarray  # (K, P)
    f: np.ndarray  # (K,)
    grad: np.ndarray  # (K, P)
    n_iter: np.ndarray  # (K,) Newton iterations (= objective/gradient/Hessian evaluations)
    status: np.ndarray  # (K,) status codes above


def _fixed_masked(g, H, lo, hi):
    """Gradient and Hessian with the fixed coordinates (``lo == hi``) taken out.

    A fixed coordinate gets a zero gradient and a decoupled unit-scale
    diagonal entry, so the Newton step leaves it alone; with no fixed
    coordinate both are returned unchanged (the numerics of a free fit).
    """
    import jax.numpy as jnp

    free = lo < hi
    both = free[:, None] & free[None, :]
    diag = jnp.max(jnp.where(free, jnp.abs(jnp.diagonal(H)), 0.0))
    H = jnp.where(both, H, jnp.where(jnp.eye(H.shape[0], dtype=bool), jnp.maximum(diag, 1e-300), 0.0))
    return jnp.where(free, g, 0.0), H


#: Damping of a start state's first iteration, the one that only evaluates the start
#: (:func:`start_state`); an accepted step divides it by 10, so the first real
#: Newton step is damped by 1e-3 relatively, as after :func:`_make_init`'s state.
NU_START = 1e-2


def start_state(theta, lo, hi) -> tuple:
    """Solver states (numpy, leading axis = lanes) whose first ``run`` iteration evaluates the start.

    The state holds ``f = inf``, ``g = 0``, ``H = 0`` and the iteration count
    -1: that iteration's step is zero, so it lands on ``clip(theta, lo, hi)``,
    is accepted wherever the objective is finite there (a lane where it is not
    stops as "stalled", as a bad start did) and computes the objective,
    gradient and Hessian there; the count is then 0, as after ``init``. So a
    fit compiles no ``init`` program of its own for either Hessian (two
    fewer programs per law, data shape and lane count, ~1 s of XLA each).
    """
    theta = np.clip(np.asarray(theta, dtype=np.float64), lo, hi)
    k, p = theta.shape
    return (theta, np.full(k, np.inf), np.zeros((k, p)), np.zeros((k, p, p)), np.full(k, NU_START),
            np.full(k, -1, dtype=np.int32), np.zeros(k, dtype=bool), np.full(k, MAXITER, dtype=np.int32))


def _make_init(fgh):
    """``init(theta, ...)``: the solver state at a start point (``lo``, ``hi`` per lane); the bootstrap's
    evaluation of objective, gradient and Hessian (:mod:`scaling.fitting.bootstrap`)."""
    import jax.numpy as jnp

    def init(theta, packed, w, lo, hi, delta):
        theta = jnp.clip(theta, lo, hi)
        f, g, H = fgh(theta, packed, w, delta)
        g, H = _fixed_masked(g, H, lo, hi)
        bad = ~(jnp.isfinite(f) & jnp.all(jnp.isfinite(g)))
        f = jnp.where(bad, jnp.inf, f)
        g = jnp.where(bad, 0.0, g)
        return (theta, f, g, H, jnp.float64(1e-3), jnp.int32(0), bad, jnp.int32(jnp.where(bad, STALLED, MAXITER)))

    return init


def _make_solve(fgh, objective):
    """``solve(state, ...)``: damped Newton iterations from a state (see the module docstring)."""
    import jax
    import jax.numpy as jnp

    def solve(state, packed, w, lo, hi, delta, maxiter, ftol, gtol):
        """Continue one start for up to ``maxiter`` more Newton iterations."""

        def cond(s):
            return (~s[6]) & (s[5] < s[8])

        def body(s):
            theta, f, g, H, nu, it, done, status, stop_at = s
            Hs = 0.5 * (H + H.T)
            Hs = jnp.where(jnp.isfinite(Hs), Hs, 0.0)
            lam, V = jnp.linalg.eigh(Hs)
            abs_lam = jnp.abs(lam)
            scale = jnp.maximum(jnp.max(abs_lam), 1e-300)
            vg = V.T @ g

            def trial_point(nu_):
                return jnp.clip(theta - V @ (vg / (abs_lam + nu_ * scale)), lo, hi)

            # Backtrack on the damping with objective values only (cheap);
            # the gradient and Hessian are computed once, at the accepted point.
            def ls_cond(c):
                nu_, f_try, tries = c
                return (~(f_try < f)) & (nu_ <= NU_MAX)

            def ls_body(c):
                nu_, _, tries = c
                nu_ = jnp.where(tries == 0, nu_, nu_ * 10.0)
                f_try = objective(trial_point(nu_), packed, w, delta)
                f_try = jnp.where(jnp.isfinite(f_try), f_try, jnp.inf)
                return nu_, f_try, tries + 1

            nu_acc, f2, _ = jax.lax.while_loop(ls_cond, ls_body, (nu, jnp.inf, jnp.int32(0)))
            ok = f2 < f
            trial = trial_point(nu_acc)
            f2b, g2, H2 = fgh(trial, packed, w, delta)
            g2, H2 = _fixed_masked(g2, H2, lo, hi)
            ok = ok & jnp.all(jnp.isfinite(g2))
            new_theta = jnp.where(ok, trial, theta)
            new_f = jnp.where(ok, f2b, f)
            new_g = jnp.where(ok, g2, g)
            new_H = jnp.where(ok, H2, H)
            new_nu = jnp.maximum(nu_acc * 0.1, 1e-12)
            # projected gradient: components pushing out of an active bound do not count
            at_lo = (new_theta <= lo) & (new_g > 0)
            at_hi = (new_theta >= hi) & (new_g < 0)
            pg = jnp.where(at_lo | at_hi, 0.0, new_g)
            small_decrease = ok & (nu_acc <= 1.0) & ((f - f2) <= ftol * jnp.abs(f2))
            # a start the objective cannot be evaluated at keeps f = inf and g = 0: stalled, not converged
            small_grad = (jnp.max(jnp.abs(pg)) <= gtol) & jnp.isfinite(new_f)
            stalled = ~ok
            new_status = jnp.where(
                small_decrease, CONVERGED_FTOL,
                jnp.where(small_grad, CONVERGED_GTOL, jnp.where(stalled, STALLED, MAXITER)),
            ).astype(jnp.int32)
            new_done = small_decrease | small_grad | stalled
            return (new_theta, new_f, new_g, new_H, new_nu, it + 1, new_done, new_status, stop_at)

        theta, f, g, H, nu, it, done, status = state
        out = jax.lax.while_loop(cond, body, (theta, f, g, H, nu, it, done, status, it + maxiter))
        return out[:8]

    return solve


def compiled(law_fn, space: str = "log"):
    """Compiled solver pieces for one law function and residual space (cached by identity).

    Returns a namespace with ``objective(theta, packed, w, delta)``,
    ``residuals(theta, packed)``, ``fgh(theta, packed, w, delta) -> (f, g, H)``
    (plain and jitted), ``run`` (exact Hessian) and ``run_gn``
    (Gauss-Newton) from a state (:func:`start_state` for a start point), and
    ``init`` (the exact state at a point: the bootstrap's evaluator), each
    vmapped over a chunk of starts with one weight vector per start.
    """
    # one cache key however ``space`` is passed (compiled(f) is compiled(f, "log"))
    return _compiled(law_fn, str(space))


@functools.lru_cache(maxsize=64)
def _compiled(law_fn, space: str):
    import jax
    import jax.numpy as jnp

    class _Law:  # log_fn_of only reads .fn
        fn = law_fn

    objective, residuals = make_objective(log_fn_of(_Law), space, fn=law_fn)

    def fgh(theta, packed, w, delta):
        def grad_aux(t):
            f, g = jax.value_and_grad(objective)(t, packed, w, delta)
            return g, (f, g)

        H, (f, g) = jax.jacfwd(grad_aux, has_aux=True)(theta)
        return f, g, H

    def fgh_gn(theta, packed, w, delta):
        # Gauss-Newton: H = J^T diag(w h''(r)) J, PSD, no residual curvature;
        # the better model far from the optimum of a least-squares stage.
        r = residuals(theta, packed)
        J = jax.jacfwd(residuals)(theta, packed)
        a = jnp.abs(r)
        inq = a <= delta
        f = jnp.sum(w * jnp.where(inq, 0.5 * r * r, delta * (a - 0.5 * delta)))
        g = J.T @ (w * jnp.clip(r, -delta, delta))
        H = J.T @ ((w * inq)[:, None] * J)
        fp, gp, Hp = penalty_fgh(theta, packed)  # a law's prior, when the packed data carry one
        return f + fp, g + gp, H + Hp

    from scaling._programs import stored
    from scaling.laws import stable_name

    name = stable_name(law_fn)

    def keep(fun, role):
        # on disk under the law's registry name (a new process skips tracing)
        return stored(jax.jit(fun), None if name is None else f"{name}/{space}/solver.{role}")

    def batched(fun, role):
        # vmapped over a chunk of starts (state, weights and bounds per
        # lane): one compiled shape per law, data shape and chunk size
        return keep(jax.vmap(fun, in_axes=(0, None, 0, 0, 0) + (None,) * (fun.__code__.co_argcount - 5)), role)

    ns = type("Compiled", (), {})()
    ns.objective = objective
    ns.residuals = residuals
    ns.fgh = fgh
    ns.objective_jit = keep(objective, "objective")
    ns.residuals_jit = keep(residuals, "residuals")
    ns.fgh_jit = keep(fgh, "fgh")
    ns.jacobian_jit = keep(jax.jacfwd(residuals), "jacobian")
    ns.init = batched(_make_init(fgh), "init")
    ns.run = batched(_make_solve(fgh, objective), "run")
    ns.run_gn = batched(_make_solve(fgh_gn, objective), "run_gn")
    return ns


__all__ = ["BatchResult", "MAXITER", "PRUNED", "STATUS_TEXT", "compiled"]
