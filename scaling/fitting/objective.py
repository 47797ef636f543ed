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
of ``(inputs, log_loss)`` per group), so compiled code is reused across fits
of the same law with data of the same shapes.
"""

from __future__ import annotations

from typing import Any, Callable

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

    Padding points (weight 0) let fits of slightly different data sizes reuse
    one compiled solver instead of compiling again.
    """
    if n <= 64:
        return 64
    quantum = 1 << max(0, int(np.floor(np.log2(n))) - 2)
    return int(-(-n // quantum) * quantum)


@in_float64
def pack(dataset, kind: str = "final") -> tuple[tuple, np.ndarray, int]:
    """The dataset as a pytree of float64 arrays, padded with zero-weight points.

    Parameters
    ----------
    dataset : Dataset
    kind : {"final", "curve"}
        The law's kind: for final laws every per-point input is padded, for
        curve laws only ``inputs["step"]`` (the LR array is left alone).

    Returns
    -------
    packed : tuple of (inputs, log_loss) per group
    index : ndarray of int, shape (n,)
        Position of each real point in the flat padded order.
    n_padded : int
        Total length of the flat padded order.
    """
    import jax.numpy as jnp

    packed, index, offset = [], [], 0
    for g in dataset:
        n = len(g.loss)
        size = padded_size(n)
        fill = np.concatenate([np.arange(n), np.full(size - n, n - 1)])
        inputs = {}
        for k, v in g.inputs.items():
            v = np.asarray(v)
            if v.ndim == 1 and (kind == "final" or k == "step") and v.shape[0] == n:
                v = v[fill]
            inputs[k] = jnp.asarray(v) if v.dtype.kind in "iu" else jnp.asarray(v, dtype=jnp.float64)
        log_y = np.log(np.asarray(g.loss, dtype=np.float64))[fill]
        packed.append((inputs, jnp.asarray(log_y)))
        index.append(offset + np.arange(n))
        offset += size
    return tuple(packed), np.concatenate(index), offset


def expand_weights(weights, index: np.ndarray, n_padded: int) -> np.ndarray:
    """Put per-point weights ``(..., n)`` at their padded positions ``(..., n_padded)``; padding gets 0."""
    weights = np.asarray(weights, dtype=np.float64)
    out = np.zeros(weights.shape[:-1] + (n_padded,))
    out[..., index] = weights
    return out


def make_objective(log_fn: Callable):
    """Build ``objective(theta, packed, weights, delta) -> scalar`` and ``residuals(theta, packed) -> (n,)``.

    ``weights`` is a flat ``(n,)`` array over all points in group order;
    ``delta`` is the Huber threshold (a traced scalar, so changing it does not
    recompile). Residuals are ``log L_hat - log L`` (what the Huber function
    sees).
    """
    import jax.numpy as jnp

    def residuals(theta, packed):
        return jnp.concatenate([jnp.atleast_1d(log_fn(theta, inputs)) - log_y for inputs, log_y in packed])

    def objective(theta, packed, weights, delta=DEFAULT_DELTA):
        return jnp.sum(weights * huber(residuals(theta, packed), delta))

    return objective, residuals


__all__ = ["DEFAULT_DELTA", "expand_weights", "huber", "log_fn_of", "make_objective", "pack", "padded_size"]
