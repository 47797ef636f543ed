"""The batched local solver as a small object: ``init``, ``step``, ``terminate``, ``solve``.

In the shape of optimistix's solvers (``init(fn, y, args) -> state``,
``step(...) -> state``, ``terminate(state) -> done``): a solver is a frozen
value holding its options; the fitter composes it with a law and data. The
numerics are those of :mod:`scaling.fitting.optimize` (damped, saddle-free
Newton with the exact Hessian, or Gauss-Newton), vmapped over lanes of
starts, each lane with its own weights and box bounds (a fixed parameter
is a lane with ``lo == hi``; profile likelihoods use that).

:meth:`DampedNewton.solve` runs rounds of ``round_iters`` iterations; between
rounds, stopped lanes are dropped and the others re-packed into full chunks,
and with ``prune=True`` a lane that cannot catch up with the best objective
seen so far is dropped too. With several local JAX devices the lanes of a
chunk are split into one block per device, each running the one-device
program (:class:`_Placement`); every lane is independent, so the results
are bit-identical to one device.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from scaling._x64 import in_float64
from scaling.fitting.objective import DEFAULT_DELTA
from scaling.fitting.prior import data_blocks
from scaling.fitting.optimize import MAXITER, PRUNED, BatchResult, compiled, start_state

#: Lanes per compiled call for many starts (a final-law grid, bootstrap refits).
CHUNK = 64

#: Lanes per compiled call for at most :data:`CHUNK` starts (a refinement, a
#: curve grid, calibration folds), in as many calls as needed. Only these two
#: shapes: each lane count compiles its own ``run`` (~7 s of XLA for a
#: 4-parameter law here, measured with an ``init`` beside it), and power-of-two
#: counts from 4 to 64 compiled up to five per law and data shape. Small,
#: because a multi-power fit's 4 starts in 8 lanes spent half of every Newton
#: round on padding.
MIN_CHUNK = 4

#: ``prune``: a lane is dropped when its gap to the best objective exceeds
#: this many times its decrease over the last round (Newton's decreases only
#: shrink near an optimum, so it would not close the gap in as many rounds).
PRUNE_FACTOR = 10.0


def _devices():
    import jax

    return jax.local_devices()


class _Placement:
    """Blocks of a chunk's lanes run on every local device, each with its own copy of the data.

    With one device this does nothing. With several, the lanes of a chunk
    are split into one equal block per device and the *one-device* compiled
    program runs on each block, on its own device (the calls are dispatched
    asynchronously, so the devices work at once). Every lane is independent
    and every device runs the same single-device program, so the results are
    bit-identical to one device. (``jax.shard_map`` over a mesh, tried first,
    compiles a slightly different per-device program: last-bit differences
    that move a Huber optimum by ~1e-9 relative.)
    """

    def __init__(self, n_lanes: int):
        devices = _devices()
        self.n = len(devices) if n_lanes % len(devices) == 0 else 1
        self.devices = devices[: self.n]

    def lane(self, x):
        import jax

        if self.n > 1:  # split and placed per device in :meth:`wrap`
            return np.asarray(x)
        # device_put, not jnp.asarray: outside a trace jnp.asarray of a numpy
        # array compiles an identity program per shape (~40 ms each in a new process)
        return jax.device_put(np.asarray(x))

    def data(self, tree):
        """The data for the wrapped function: one copy per device (or ``tree`` itself)."""
        import jax

        return tree if self.n == 1 else tuple(jax.device_put(tree, d) for d in self.devices)

    def wrap(self, fun):
        """``fun(lanes, data, w, lo, hi, *scalars)`` run blockwise, one block of lanes per device."""
        if self.n == 1:
            return fun
        import jax

        def blockwise(lanes, data, w, lo, hi, *scalars):
            size = np.asarray(w).shape[0] // self.n
            outs = []
            for d, device in enumerate(self.devices):
                sl = slice(d * size, (d + 1) * size)

                def put(x, sl=sl, device=device):
                    return jax.device_put(np.asarray(x)[sl], device)

                outs.append(fun(jax.tree_util.tree_map(put, lanes), data[d], put(w), put(lo), put(hi),
                                *(jax.device_put(x, device) for x in scalars)))
            return jax.tree_util.tree_map(lambda *xs: np.concatenate([np.asarray(x) for x in xs]), *outs)

        return blockwise


@dataclasses.dataclass(frozen=True)
class DampedNewton:
    """Batched damped Newton (exact Hessian) or Gauss-Newton local solver.

    Parameters
    ----------
    maxiter : int
        Newton iterations per lane at most.
    ftol : float
        Stop when an accepted near-Newton step decreases the objective by
        less than ``ftol`` relatively.
    gtol : float
        Stop when the projected gradient is below ``gtol`` (max norm).
    round_iters : int
        Iterations per compiled call; stopped lanes are dropped in between.
    gauss_newton : bool
        Use ``J^T diag(w h'') J`` instead of the exact Hessian (positive
        semi-definite: the better model far from a least-squares optimum).

    Examples
    --------
    >>> solver = DampedNewton(maxiter=100)  # doctest: +SKIP
    >>> res = solver.solve(law, packed, starts, weights=w)  # doctest: +SKIP
    """

    maxiter: int = 200
    ftol: float = 1e-13
    gtol: float = 1e-14
    round_iters: int = 10
    gauss_newton: bool = False

    # ------------------------------------------------------------ pieces
    def _run(self, law, space):
        ns = compiled(law.fn, space)
        return ns.run_gn if self.gauss_newton else ns.run

    def init(self, law, packed, theta, weights, lo, hi, *, delta=DEFAULT_DELTA, space="log", place=None):
        """Solver state of lanes starting at ``theta`` (numpy, leading axis = lanes).

        Nothing is evaluated yet: the first :meth:`step` evaluates the start
        (:func:`scaling.fitting.optimize.start_state`); the arguments past
        ``lo`` and ``hi`` are accepted for the optimistix-like signature.
        """
        return list(start_state(theta, np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)))

    @in_float64
    def step(self, law, packed, state, weights, lo, hi, *, delta=DEFAULT_DELTA, space="log", n_iter=None,
             place=None):
        """Advance every lane of a chunk by up to ``n_iter`` (default ``round_iters``) iterations."""
        import jax.numpy as jnp

        run = (place or _Placement(1)).wrap(self._run(law, space))
        n_iter = self.round_iters if n_iter is None else n_iter
        return run(tuple(state), packed, weights, lo, hi, jnp.float64(delta), jnp.int32(n_iter),
                   jnp.float64(self.ftol), jnp.float64(self.gtol))

    def terminate(self, state) -> np.ndarray:
        """Which lanes have stopped (a stopping rule fired, or ``maxiter`` reached)."""
        return np.asarray(state[6]) | (np.asarray(state[5]) >= self.maxiter)

    # ------------------------------------------------------------ driver
    @in_float64
    def solve(self, law, packed, theta0, *, weights=None, delta: float = DEFAULT_DELTA, space: str = "log",
              bounds=None, progress=None, prune: bool = False) -> BatchResult:
        """Run every row of ``theta0`` to a local optimum.

        Parameters
        ----------
        law : Law
        packed : tuple
            :func:`scaling.fitting.objective.pack` of the dataset.
        theta0 : array (K, P)
            Start points (fit space); clipped onto the bounds.
        weights : array (n,) or (K, n), optional
            Point weights (default 1), shared or one row per start
            (bootstrap refits).
        delta : float
            Huber threshold (:data:`~scaling.fitting.objective.SQUARED_DELTA`
            for least squares).
        space : {"log", "raw"}
            Residual space of the objective.
        bounds : (lo, hi), arrays (P,) or (K, P), optional
            Box bounds (default the law's); ``lo == hi`` fixes a parameter.
        progress : callable, optional
            ``progress(n_finished, K)`` after each round.
        prune : bool
            Drop lanes that cannot reach the best objective (status
            ``PRUNED``); for multistart, not for bootstrap refits.
        """
        theta0 = np.atleast_2d(np.asarray(theta0, dtype=np.float64))
        k, p = theta0.shape
        n = int(sum(int(x[1].size) for x in data_blocks(packed)))
        if bounds is None:
            bounds = ([b[0] for b in law.bounds], [b[1] for b in law.bounds])
        lo = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (k, p))
        hi = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (k, p))
        weights = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        weights = np.broadcast_to(weights, (k, n))
        # few starts: MIN_CHUNK-lane calls waste at most 3 padded lanes and
        # share one compiled shape. With several devices each device gets a
        # full chunk of that size, so every device runs the program (and the
        # floating-point order) of the one-device case.
        chunk = MIN_CHUNK if k <= CHUNK else CHUNK
        chunk *= len(_devices())
        place = _Placement(chunk)
        packed = place.data(packed)

        def call(fun, rows_of_state, rows):
            # ``fun`` over ``rows`` (indices into the K starts) in chunks
            outs = []
            for s0 in range(0, rows.size, chunk):
                part = rows[s0:s0 + chunk]
                pad = np.concatenate([np.arange(part.size), np.zeros(chunk - part.size, dtype=np.int64)])
                state = [place.lane(x[s0 + pad]) for x in rows_of_state]
                sel = part[pad]
                out = fun(state, place.lane(weights[sel]), place.lane(lo[sel]), place.lane(hi[sel]))
                outs.append([np.asarray(o)[: part.size] for o in out])
            return [np.concatenate(parts) for parts in zip(*outs)]

        active = np.arange(k)
        state = self.init(law, packed, theta0, weights, lo, hi)
        theta_out, f_out, g_out = state[0].copy(), state[1].copy(), state[2].copy()
        it_out = np.zeros(k, dtype=np.int64)
        status_out = state[7].astype(np.int64)
        while active.size:
            # the first round only evaluates the starts (one iteration from the start state), so that
            # pruning and the rounds after it compare the objective with its value at the start
            first = int(state[5].max()) < 0
            budget = 1 if first else int(max(1, min(self.round_iters, self.maxiter - int(state[5].min()))))
            f_before = state[1]

            def run(st, w, lo_, hi_, budget=budget):
                return self.step(law, packed, tuple(st), w, lo_, hi_, delta=delta, space=space, n_iter=budget,
                                 place=place)

            state = call(run, state, active)
            finished = self.terminate(state)
            if prune:
                f_now = state[1]
                best = min(float(np.min(f_out[~np.isin(np.arange(k), active)], initial=np.inf)),
                           float(np.min(f_now)))
                gap = f_now - best
                hopeless = (gap > PRUNE_FACTOR * (f_before - f_now)) & (gap > 1e-9 * abs(best)) & ~finished
                state[7] = np.where(hopeless, PRUNED, state[7])
                finished = finished | hopeless
            theta, f, g, _, _, it, done, status = state
            idx = active[finished]
            theta_out[idx], f_out[idx], g_out[idx] = theta[finished], f[finished], g[finished]
            it_out[idx], status_out[idx] = it[finished], status[finished]
            active = active[~finished]
            state = [x[~finished] for x in state]
            if progress is not None:
                progress(k - active.size, k)
        return BatchResult(theta_out, f_out, g_out, it_out, status_out)


def solve_batch(law, packed, theta0, *, weights=None, delta: float = DEFAULT_DELTA, maxiter: int = 200,
                ftol: float = 1e-13, gtol: float = 1e-14, round_iters: int = 10, progress=None,
                gauss_newton: bool = False, space: str = "log", bounds=None, prune: bool = False) -> BatchResult:
    """Run the damped Newton solver from every row of ``theta0`` (see :class:`DampedNewton`).

    Kept as a function for callers that want one line; the options are
    those of :class:`~scaling.fitting.solver.DampedNewton` and its
    :meth:`~scaling.fitting.solver.DampedNewton.solve`.
    """
    solver = DampedNewton(maxiter=maxiter, ftol=ftol, gtol=gtol, round_iters=round_iters, gauss_newton=gauss_newton)
    return solver.solve(law, packed, theta0, weights=weights, delta=delta, space=space, bounds=bounds,
                        progress=progress, prune=prune)


__all__ = ["CHUNK", "DampedNewton", "MAXITER", "PRUNED", "solve_batch"]
