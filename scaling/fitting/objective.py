"""The fit objective: Huber loss on log loss, SUMMED over points, optionally weighted.

.. math::

    f(\\theta; w) = \\sum_i w_i\\, h_\\delta\\big(\\log \\hat L_i(\\theta) - \\log L_i\\big),
    \\qquad
    h_\\delta(r) = \\begin{cases} r^2/2 & |r| \\le \\delta \\\\
                                 \\delta(|r| - \\delta/2) & |r| > \\delta \\end{cases}

with :math:`\\delta = 10^{-3}` by default (Hoffmann et al. 2022, App. D.2;
``scipy.special.huber`` has the same definition). The weights :math:`w_i`
are 1 for a plain fit and integer resampling counts in a bootstrap.

Why a sum and not a mean: the gradient of a mean is ``1/n`` times smaller,
so an optimiser with absolute tolerances (scipy's L-BFGS-B defaults) stops
far from the optimum. Besiroglu et al. (2024) traced Hoffmann's published
Chinchilla estimates to exactly this; ``tests/test_fit_objective.py`` keeps a
regression test for it.

Data enter the compiled functions as arguments (a *packed* dataset: a tuple
of ``(inputs, log_loss)`` blocks), so compiled code is reused across fits
of the same law with data of the same shapes. Groups whose padded inputs
have the same shapes (runs of one length, the usual case) form one *stacked*
block with a leading run axis, evaluated by one ``vmap`` of the law: the
traced program holds one copy of the law however many runs are fitted
(a cold fit of lr-annealing-n on nine 12k-step runs: 46 s with one copy
per run, 20 s stacked).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import numpy as np

from scaling._x64 import in_float64

DEFAULT_DELTA = 1e-3


def huber(r, delta: float):
    """Huber function ``h_delta(r)``, elementwise (same as ``scipy.special.huber``)."""
    import jax.numpy as jnp

    a = jnp.abs(r)
    return jnp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def log_fn_of(law) -> Callable[[Any, Any], Any]:
    """``log L(theta, inputs)`` for a law.

    A law function may carry an attribute ``log_fn`` computing ``log L``
    directly (Chinchilla's log-sum-exp form does); otherwise the log of
    ``law.fn`` is taken.
    """
    direct = getattr(law.fn, "log_fn", None)
    if direct is not None:
        return direct
    fn = law.fn

    def log_loss(theta, inputs):
        import jax.numpy as jnp

        return jnp.log(fn(theta, inputs))

    return log_loss


def padded_size(n: int) -> int:
    """Size a group of ``n`` points is padded to: at most ~25% more, at least 64.

    Padding points (weight 0), and the padded LR arrays of curve laws, let
    fits of slightly different data sizes or run lengths reuse one compiled
    solver instead of compiling again.
    """
    if n <= 64:
        return 64
    quantum = 1 << max(0, int(np.floor(np.log2(n))) - 2)
    return int(-(-n // quantum) * quantum)


@in_float64
def pack(dataset, kind: str = "final") -> tuple[tuple, np.ndarray, int]:
    """The dataset as a pytree of float64 arrays, padded with zero-weight points.

    Groups are padded to :func:`padded_size`; groups whose padded inputs then
    have identical keys, shapes and dtypes are stacked into one block (leading
    axis = group), in order of first appearance.

    Parameters
    ----------
    dataset : Dataset
    kind : {"final", "curve"}
        The law's kind: for final laws every per-point input is padded, for
        curve laws ``inputs["step"]`` (with its last step) and the per-step
        ``inputs["lr"]``, to :func:`padded_size` of its length by repeating
        its last LR: a law evaluated at the run's steps sees the same LR
        history (the areas are causal), and fits of runs of other lengths in
        the same size bucket reuse the compiled solver.

    Returns
    -------
    packed : tuple of (inputs, log_loss) per block
        ``log_loss`` has shape ``(size,)`` for a single group and
        ``(k, size)`` for a stack of ``k`` groups (whose inputs then carry the
        same leading axis ``k``).
    index : ndarray of int, shape (n,)
        Position of each real point, in dataset order, in the flat padded
        order (blocks one after another, a stack row by row).
    n_padded : int
        Total length of the flat padded order.
    """
    import jax

    blocks: dict[tuple, list[tuple[int, dict, np.ndarray]]] = {}
    for i, g in enumerate(dataset):
        n = len(g.loss)
        size = padded_size(n)
        fill = np.concatenate([np.arange(n), np.full(size - n, n - 1)])
        inputs = {}
        for k, v in g.inputs.items():
            v = np.asarray(v)
            if v.ndim == 1 and (kind == "final" or k == "step") and v.shape[0] == n:
                v = v[fill]
            elif kind == "curve" and k == "lr" and v.ndim == 1 and v.size:
                # runs of any length share a compiled solver: the LR array is extended to a
                # padded size by holding its last value (no LR change, so no annealing or drop)
                v = np.concatenate([v, np.full(padded_size(v.size) - v.size, v[-1])])
            inputs[k] = v if v.dtype.kind in "iu" else v.astype(np.float64)
        log_y = np.log(np.asarray(g.loss, dtype=np.float64))[fill]
        key = tuple(sorted((k, v.shape, v.dtype.str) for k, v in inputs.items())) + (size,)
        blocks.setdefault(key, []).append((i, inputs, log_y))
    packed, starts, offset = [], {}, 0
    for members in blocks.values():
        if len(members) == 1:
            _, inputs, log_y = members[0]
        else:
            inputs = {k: np.stack([m[1][k] for m in members]) for k in members[0][1]}
            log_y = np.stack([m[2] for m in members])
        size = members[0][2].shape[0]
        for row, (i, _, _) in enumerate(members):
            starts[i] = offset + row * size
        offset += size * len(members)
        # device_put, not jnp.asarray: outside a trace the latter compiles
        # an identity program per shape (~40 ms each in a new process)
        packed.append(({k: jax.device_put(v) for k, v in inputs.items()}, jax.device_put(log_y)))
    index = [starts[i] + np.arange(len(g.loss)) for i, g in enumerate(dataset)]
    return tuple(packed), np.concatenate(index), offset


def block_values(fn: Callable, theta, inputs, log_y):
    """``fn(theta, inputs)`` of one packed block, flat ``(size,)`` or ``(k * size,)``.

    A stacked block (``log_y.ndim == 2``) is evaluated by one ``vmap`` over its
    leading group axis (one copy of the law in the traced program).
    """
    import jax
    import jax.numpy as jnp

    if log_y.ndim == 2:
        return jax.vmap(fn, in_axes=(None, 0))(theta, inputs).reshape(-1)
    return jnp.atleast_1d(fn(theta, inputs))


def expand_weights(weights, index: np.ndarray, n_padded: int) -> np.ndarray:
    """Put per-point weights ``(..., n)`` at their padded positions ``(..., n_padded)``; padding gets 0."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.zeros(weights.shape[:-1] + (n_padded,))
    out[..., index] = weights
    return out


#: Threshold that makes :func:`huber` plain least squares (``r^2/2``) for
#: any residual a fit can have; finite, because ``jnp.where`` differentiates
#: both branches and ``inf * 0`` would poison the gradient with NaN.
SQUARED_DELTA = 1e100

#: objective name -> (residual space, Huber or squared)
OBJECTIVES = {
    "huber-log": ("log", "huber"),
    "lsq-log": ("log", "squared"),
    "lsq-raw": ("raw", "squared"),
}


@dataclasses.dataclass(frozen=True)
class Objective:
    """What is minimised: a loss on residuals in log or raw space.

    .. math::

        f(\\theta; w) = \\sum_i w_i\\, \\rho(r_i), \\qquad
        r_i = \\log \\hat L_i - \\log L_i \\;(\\text{log}) \\text{ or }
        \\hat L_i - L_i \\;(\\text{raw})

    with :math:`\\rho = h_\\delta` (Huber) or :math:`r^2/2` (least squares).

    ``"huber-log"`` (default) is Hoffmann et al.'s (2022) objective,
    ``"lsq-raw"`` Gadre et al.'s (2024) recipe (``scipy.optimize.curve_fit``
    on the loss itself), ``"lsq-log"`` least squares on log loss.

    Attributes
    ----------
    name : {"huber-log", "lsq-log", "lsq-raw"}
    delta : float or None
        Huber threshold (only for ``"huber-log"``).
    """

    name: str = "huber-log"
    delta: float | None = DEFAULT_DELTA

    @property
    def space(self) -> str:
        """``"log"`` or ``"raw"``: where residuals are taken."""
        return OBJECTIVES[self.name][0]

    @property
    def squared(self) -> bool:
        """True for least squares (no Huber threshold)."""
        return OBJECTIVES[self.name][1] == "squared"

    @property
    def threshold(self) -> float:
        """The ``delta`` the compiled Huber function gets (huge for least squares)."""
        return SQUARED_DELTA if self.squared else float(self.delta)

    def describe(self) -> str:
        """One line for reports, e.g. ``huber-log (delta = 0.001)``."""
        return f"{self.name} (delta = {self.delta:g})" if not self.squared else self.name


def resolve_objective(objective: "str | Objective" = "huber-log", delta: float | None = None) -> Objective:
    """An :class:`Objective` from a name (and optional Huber ``delta``), checked.

    Raises
    ------
    FitError
        Unknown name, or a non-positive ``delta``.
    """
    from scaling.errors import FitError

    if isinstance(objective, Objective):
        return objective
    if objective not in OBJECTIVES:
        raise FitError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    if OBJECTIVES[objective][1] == "squared":
        return Objective(objective, None)
    delta = DEFAULT_DELTA if delta is None else float(delta)
    if not (np.isfinite(delta) and delta > 0):
        raise FitError(f"the Huber delta must be a positive number, not {delta!r}")
    return Objective(objective, delta)


def fitted_objective(info: Mapping[str, Any]) -> Objective:
    """The :class:`Objective` a fit minimised, from its ``data_info`` (refits minimise the same one).

    Parameters
    ----------
    info : mapping
        ``FitResult.data_info``: its ``objective`` name (fits saved before
        the option read as ``"huber-log"``) and Huber ``delta``.

    Returns
    -------
    Objective
    """
    return resolve_objective(info.get("objective", "huber-log"), info.get("delta"))


def make_objective(log_fn: Callable, space: str = "log", fn: Callable | None = None):
    """Build ``objective(theta, packed, weights, delta) -> scalar`` and ``residuals(theta, packed) -> (n,)``.

    ``weights`` is a flat ``(n,)`` array over all points in group order
    (the prior block that :func:`scaling.fitting.prior.attach` may append
    adds its penalty to the objective and nothing to the residuals);
    ``delta`` is the Huber threshold (a traced scalar, so changing it does not
    recompile; :data:`SQUARED_DELTA` for least squares). Residuals are
    ``log L_hat - log L`` for ``space="log"`` and ``L_hat - L`` for
    ``space="raw"`` (``fn``, the law itself, gives ``L_hat`` there, so a
    law whose prediction may be negative, like a downstream error, is fine;
    default ``exp(log_fn)``).
    """
    import jax.numpy as jnp

    from scaling.fitting.prior import data_blocks, penalty

    if space == "log":
        def residuals(theta, packed):
            return jnp.concatenate([block_values(log_fn, theta, inputs, log_y) - log_y.reshape(-1)
                                    for inputs, log_y in data_blocks(packed)])
    elif space == "raw":
        def predict(theta, inputs):
            return fn(theta, inputs) if fn is not None else jnp.exp(log_fn(theta, inputs))

        def residuals(theta, packed):
            # the packed data hold log L; exp(log L) is L to one rounding
            return jnp.concatenate([block_values(predict, theta, inputs, log_y) - jnp.exp(log_y.reshape(-1))
                                    for inputs, log_y in data_blocks(packed)])
    else:
        raise ValueError(f"space must be 'log' or 'raw', not {space!r}")

    def objective(theta, packed, weights, delta=DEFAULT_DELTA):
        # plus a law's prior when the packed data carry one (scaling.fitting.prior)
        return jnp.sum(weights * huber(residuals(theta, packed), delta)) + penalty(theta, packed)

    return objective, residuals


__all__ = ["DEFAULT_DELTA", "OBJECTIVES", "Objective", "SQUARED_DELTA", "block_values", "expand_weights",
           "fitted_objective", "huber", "log_fn_of", "make_objective", "pack", "padded_size", "resolve_objective"]
