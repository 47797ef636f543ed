"""Over-training law of Gadre et al. (2024): final loss against model size and token multiplier.

.. math::

    L(N, M) = a\\, N^{b} + c\\, 6^{b/2} (M N)^{b} + E, \\qquad M = D / N,

with ``b < 0``. ``N`` is the number of parameters, ``D`` the number of
training tokens, ``M`` the token multiplier (tokens per parameter; 20 is
"Chinchilla-optimal"); ``L`` is in nats per token. Since ``M N = D`` this is
a Chinchilla law with one shared exponent for ``N`` and ``D``; with
``C = 6 N D = 6 M N^2`` it is the paper's form

.. math::

    L(C, M) = E + (a' M^{\\eta} + c\\, M^{-\\eta})\\, C^{-\\eta},
    \\qquad \\eta = -b/2, \\quad a' = a\\, 6^{\\eta}.

Fit space (every term positive, as in Chinchilla's log-sum-exp form):
:math:`\\theta = (\\log a, \\log c, \\log E, b)`,

.. math::

    \\log L = \\operatorname{LSE}(\\log a + b \\log N,\\;
              \\log c + \\tfrac{b}{2}\\log 6 + b \\log D,\\; \\log E).

The inputs are the table's ``N`` and ``D`` columns (``M`` is ``D/N``).
The default start grid is the paper repository's 128 starts
(``a, c`` in {1e2, 3e2, 1e3, 3e3}, ``b`` in {-0.1, -0.3}, ``E`` in
{0, 1, 2, 10}; ``E = 0`` is replaced by ``E = 0.5`` since the fit space is
``log E``).

Derived quantities: ``a``, ``c``, ``b``, ``E``, ``eta = -b/2`` and
``a_prime = a 6**eta``.

References
----------
S. Y. Gadre et al., "Language models scale reliably with over-training and
on downstream tasks", arXiv:2403.08540 (2024), Eq. 4 and the repository
github.com/mlfoundations/scaling (``powlaw_ours``).

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("overtraining")
>>> theta = np.array([np.log(166.211), np.log(366.687), np.log(1.83665), -0.272851])
>>> float(law(theta, {"N": np.array([6889410560.0]), "D": np.array([137788211200.0])})[0])  # doctest: +ELLIPSIS
2.442...
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from scaling.laws.base import Law

PARAM_NAMES = ("log_a", "log_c", "log_E", "b")

START_GRID = {
    "log_a": tuple(np.log([1e2, 3e2, 1e3, 3e3]).tolist()),
    "log_c": tuple(np.log([1e2, 3e2, 1e3, 3e3]).tolist()),
    "log_E": tuple(np.log([0.5, 1.0, 2.0, 10.0]).tolist()),
    "b": (-0.1, -0.3),
}

# b <= 0: loss must not grow with scale; the log-coefficients are free.
BOUNDS = ((-np.inf, np.inf), (-np.inf, np.inf), (-np.inf, np.inf), (-5.0, 0.0))


def log_loss(theta, inputs: Mapping[str, Any]):
    """``log L(N, D)`` for fit-space ``theta = (log a, log c, log E, b)``; shape (n,)."""
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    log_n = jnp.log(jnp.asarray(inputs["N"]))
    log_d = jnp.log(jnp.asarray(inputs["D"]))
    la, lc, le, b = theta[0], theta[1], theta[2], theta[3]
    terms = jnp.stack([la + b * log_n, lc + 0.5 * b * jnp.log(6.0) + b * log_d,
                       jnp.broadcast_to(le, log_n.shape)])
    return logsumexp(terms, axis=0)


def loss(theta, inputs: Mapping[str, Any]):
    """``L = a N**b + c 6**(b/2) D**b + E`` (nats/token), shape (n,)."""
    import jax.numpy as jnp

    return jnp.exp(log_loss(theta, inputs))


loss.log_fn = log_loss  # type: ignore[attr-defined]  # the fitter works on log L


def derived(theta) -> dict[str, Any]:
    """Natural-unit ``a, c, b, E``, ``eta = -b/2`` and ``a_prime = a 6**eta`` (jax-traceable)."""
    import jax.numpy as jnp

    eta = -0.5 * theta[3]
    return {"a": jnp.exp(theta[0]), "c": jnp.exp(theta[1]), "b": theta[3], "E": jnp.exp(theta[2]),
            "eta": eta, "a_prime": jnp.exp(theta[0] + eta * jnp.log(6.0))}


def make() -> Law:
    """Build the ``overtraining`` law (it takes no options)."""
    return _LAW


_LAW = Law(
    name="overtraining",
    fn=loss,
    param_names=PARAM_NAMES,
    bounds=BOUNDS,
    start_grid=START_GRID,
    inputs=("N", "D"),
    kind="final",
    equation="L(N, M) = a N^b + c 6^(b/2) (M N)^b + E, M = D/N;  log L = LSE(log a + b log N, "
             "log c + b/2 log 6 + b log D, log E)",
    citation="Gadre et al. 2024, arXiv:2403.08540 (Eq. 4)",
    derived=derived,
    options={},
)


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Synthetic inputs and a true ``theta`` (see ``scaling.laws.examples``).

    Six sizes from 1e7 to 1.4e9 parameters, each at token multipliers
    M = 5, 20, 80, 320, with the RedPajama fit of the paper's repository.
    """
    sizes = np.geomspace(1e7, 1.4e9, 6)
    mult = np.array([5.0, 20.0, 80.0, 320.0])
    n = np.repeat(sizes, mult.size)
    d = n * np.tile(mult, sizes.size)
    theta = np.array([np.log(166.2), np.log(366.7), np.log(1.84), -0.273])
    return {"N": n, "D": d}, theta
