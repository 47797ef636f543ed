"""Kaplan et al. (2020) joint law of final loss in model size and data.

.. math::

    L(N, D) = \\Big[\\Big(\\frac{N_c}{N}\\Big)^{\\alpha_N/\\alpha_D} + \\frac{D_c}{D}\\Big]^{\\alpha_D}

``N`` is the number of non-embedding parameters, ``D`` the number of
training tokens, ``L`` in nats per token. ``N_c`` and ``D_c`` are scales
(parameters, tokens) and ``alpha_N``, ``alpha_D`` the exponents of the
single-variable limits :math:`L(N) = (N_c/N)^{\\alpha_N}` (infinite data)
and :math:`L(D) = (D_c/D)^{\\alpha_D}` (infinite model). There is no
irreducible-loss term.

Fit space: :math:`\\theta = (\\log N_c, \\log D_c, \\alpha_N, \\alpha_D)`,

.. math::

    \\log L = \\alpha_D\\, \\operatorname{LSE}\\Big(\\tfrac{\\alpha_N}{\\alpha_D}(\\log N_c - \\log N),\\;
              \\log D_c - \\log D\\Big).

Kaplan et al.'s fit (their Eq. 1.5, Table 2): ``alpha_N = 0.076``,
``alpha_D = 0.103``, ``N_c = 6.4e13``, ``D_c = 1.8e13``.

References
----------
J. Kaplan et al., "Scaling Laws for Neural Language Models",
arXiv:2001.08361 (2020), Eq. 1.5.

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("kaplan-nd")
>>> theta = np.array([np.log(6.4e13), np.log(1.8e13), 0.076, 0.103])
>>> float(law(theta, {"N": np.array([1e9]), "D": np.array([1e11])})[0])  # doctest: +ELLIPSIS
2.5...
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from scaling.laws.base import Law

PARAM_NAMES = ("log_Nc", "log_Dc", "alpha_N", "alpha_D")


def log_loss(theta, inputs: Mapping[str, Any]):
    """``log L(N, D)`` for ``theta = (log N_c, log D_c, alpha_N, alpha_D)``; shape (n,)."""
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    log_n = jnp.log(jnp.asarray(inputs["N"]))
    log_d = jnp.log(jnp.asarray(inputs["D"]))
    ratio = theta[2] / theta[3]
    return theta[3] * logsumexp(jnp.stack([ratio * (theta[0] - log_n), theta[1] - log_d]), axis=0)


def loss(theta, inputs: Mapping[str, Any]):
    """``L(N, D)`` in nats per token, shape (n,)."""
    import jax.numpy as jnp

    return jnp.exp(log_loss(theta, inputs))


loss.log_fn = log_loss  # type: ignore[attr-defined]


def derived(theta) -> dict[str, Any]:
    """``N_c``, ``D_c``, ``alpha_N``, ``alpha_D`` in natural units (jax-traceable)."""
    import jax.numpy as jnp

    return {"N_c": jnp.exp(theta[0]), "D_c": jnp.exp(theta[1]), "alpha_N": theta[2], "alpha_D": theta[3]}


def make() -> Law:
    """Build the ``kaplan-nd`` law (no options)."""
    return _LAW


_LAW = Law(
    name="kaplan-nd",
    fn=loss,
    param_names=PARAM_NAMES,
    bounds=((-np.inf, np.inf), (-np.inf, np.inf), (1e-4, 5.0), (1e-4, 5.0)),
    start_grid={"log_Nc": tuple(np.log([1e11, 1e13, 1e15]).tolist()),
                "log_Dc": tuple(np.log([1e11, 1e13, 1e15]).tolist()),
                "alpha_N": (0.05, 0.1, 0.3), "alpha_D": (0.05, 0.1, 0.3)},
    inputs=("N", "D"),
    kind="final",
    equation="L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
    citation="Kaplan et al. 2020, arXiv:2001.08361 (Eq. 1.5)",
    derived=derived,
    options={},
)


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Eight sizes 1e6..1e9 x six budgets 1e8..1e11 tokens, Kaplan's Table 2 values (see ``scaling.laws.examples``)."""
    sizes = np.geomspace(1e6, 1e9, 8)
    tokens = np.geomspace(1e8, 1e11, 6)
    n = np.repeat(sizes, tokens.size)
    d = np.tile(tokens, sizes.size)
    return {"N": n, "D": d}, np.array([np.log(6.4e13), np.log(1.8e13), 0.076, 0.103])
