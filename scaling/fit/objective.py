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


def pack(dataset) -> tuple:
    """The dataset as a pytree of float64 arrays: ``((inputs, log_loss), ...)``."""
    import jax.numpy as jnp

    packed = []
    for g in dataset:
        inputs = {}
        for k, v in g.inputs.items():
            v = np.asarray(v)
            inputs[k] = jnp.asarray(v) if v.dtype.kind in "iu" else jnp.asarray(v, dtype=jnp.float64)
        packed.append((inputs, jnp.asarray(np.log(np.asarray(g.loss, dtype=np.float64)))))
    return tuple(packed)


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


__all__ = ["DEFAULT_DELTA", "huber", "log_fn_of", "make_objective", "pack"]
