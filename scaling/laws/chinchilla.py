"""Chinchilla law: final loss against model size and data, in Hoffmann's log-sum-exp form.

.. math::

    L(N, D) = E + \\frac{A}{N^{\\alpha}} + \\frac{B}{D^{\\beta}}

is fitted, as in Hoffmann et al. (2022, App. D.2), in the log-sum-exp
parameterisation :math:`\\theta = (a, b, e, \\alpha, \\beta)` with
:math:`A = e^a, B = e^b, E = e^e`:

.. math::

    \\log L = \\operatorname{LSE}(a - \\alpha \\log N,\\; b - \\beta \\log D,\\; e).

This keeps every term positive, puts the coefficients on a scale where
Hoffmann's start grid (``a, b`` in ``{0, 5, ..., 25}``, ``e`` in
``{-1, -0.5, ..., 1}``, ``alpha, beta`` in ``{0, 0.5, ..., 2}``: 4,500 starts)
makes sense, and gives the fitter ``log L`` directly (see :func:`log_loss`).

``N`` is the number of (non-embedding) parameters, ``D`` the number of
training tokens; ``L`` is in nats per token.

Derived quantities (natural units) are ``A``, ``B``, ``E``, ``alpha``,
``beta`` and the compute-optimal allocation under :math:`C = 6 N D`:
:math:`N_{opt} = G (C/6)^{a_N}`, :math:`D_{opt} = G^{-1} (C/6)^{b_D}` with
:math:`a_N = \\beta/(\\alpha+\\beta)`, :math:`b_D = \\alpha/(\\alpha+\\beta)`,
:math:`G = (\\alpha A / (\\beta B))^{1/(\\alpha+\\beta)}`.

References
----------
J. Hoffmann et al., "Training Compute-Optimal Large Language Models",
arXiv:2203.15556 (2022), Eq. 2 and App. D.2.
T. Besiroglu et al., "Chinchilla Scaling: A replication attempt",
arXiv:2404.10102 (2024).

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("chinchilla")
>>> theta = np.array([np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28])
>>> float(law(theta, {"N": np.array([70e9]), "D": np.array([1.4e12])})[0])  # doctest: +ELLIPSIS
1.93...
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from scaling.laws.base import Law, LinearTerms

PARAM_NAMES = ("a", "b", "e", "alpha", "beta")

#: Hoffmann et al.'s start grid (App. D.2): 6 * 6 * 5 * 5 * 5 = 4,500 starts.
START_GRID = {
    "a": tuple(np.arange(0.0, 30.0, 5.0).tolist()),
    "b": tuple(np.arange(0.0, 30.0, 5.0).tolist()),
    "e": tuple(np.arange(-1.0, 1.5, 0.5).tolist()),
    "alpha": tuple(np.arange(0.0, 2.5, 0.5).tolist()),
    "beta": tuple(np.arange(0.0, 2.5, 0.5).tolist()),
}

# Exponents are kept non-negative (a negative exponent makes loss grow with
# scale); the log-coefficients are free.
BOUNDS = (
    (-np.inf, np.inf),
    (-np.inf, np.inf),
    (-np.inf, np.inf),
    (0.0, 10.0),
    (0.0, 10.0),
)


def log_loss(theta, inputs: Mapping[str, Any]):
    """``log L(N, D)`` for fit-space ``theta = (a, b, e, alpha, beta)``.

    Parameters
    ----------
    theta : array, shape (5,)
    inputs : mapping with ``"N"`` and ``"D"``, arrays of shape (n,)

    Returns
    -------
    array, shape (n,)
        Log of the loss in nats per token.
    """
    import jax.numpy as jnp

    a, b, e, alpha, beta = theta[0], theta[1], theta[2], theta[3], theta[4]
    log_n = jnp.log(jnp.asarray(inputs["N"]))
    log_d = jnp.log(jnp.asarray(inputs["D"]))
    # Log-sum-exp with ONE shift per parameter vector instead of a per-point
    # max: m bounds every term from above (whatever the signs of alpha, beta),
    # so nothing overflows, and each point costs two exps and one log, not
    # three exps (the fitter evaluates this millions of times).
    u_n = a - jnp.minimum(alpha * jnp.min(log_n), alpha * jnp.max(log_n))
    u_d = b - jnp.minimum(beta * jnp.min(log_d), beta * jnp.max(log_d))
    m = jnp.maximum(jnp.maximum(u_n, u_d), e)
    total = jnp.exp(a - m - alpha * log_n) + jnp.exp(b - m - beta * log_d) + jnp.exp(e - m)
    return m + jnp.log(total)


def loss(theta, inputs: Mapping[str, Any]):
    """``L(N, D) = E + A / N**alpha + B / D**beta`` (nats/token), shape (n,)."""
    import jax.numpy as jnp

    return jnp.exp(log_loss(theta, inputs))


# The fitter works on log L; this attribute lets it skip exp-then-log.
loss.log_fn = log_loss  # type: ignore[attr-defined]


def derived(theta) -> dict[str, Any]:
    """Natural-unit quantities of a fit-space ``theta`` (jax-traceable).

    Returns ``A``, ``B``, ``E``, ``alpha``, ``beta``, the compute-optimal
    exponents ``a_N = beta/(alpha+beta)`` (``N_opt ~ C**a_N``) and
    ``b_D = alpha/(alpha+beta)`` (``D_opt ~ C**b_D``) and the allocation
    constant ``G = (alpha A / (beta B))**(1/(alpha+beta))`` of
    ``N_opt = G (C/6)**a_N``, ``D_opt = (C/6)**b_D / G``.
    """
    import jax.numpy as jnp

    a, b, e, alpha, beta = theta[0], theta[1], theta[2], theta[3], theta[4]
    s = alpha + beta
    log_g = (jnp.log(alpha) + a - jnp.log(beta) - b) / s
    return {
        "A": jnp.exp(a),
        "B": jnp.exp(b),
        "E": jnp.exp(e),
        "alpha": alpha,
        "beta": beta,
        "a_N": beta / s,
        "b_D": alpha / s,
        "G": jnp.exp(log_g),
    }


def _n_term(alpha, inputs):
    return np.asarray(inputs["N"], dtype=np.float64) ** -alpha


def _d_term(beta, inputs):
    return np.asarray(inputs["D"], dtype=np.float64) ** -beta


def _constant(_, inputs):
    return np.ones(np.shape(inputs["N"]))


#: For fixed (alpha, beta), L = A N^-alpha + B D^-beta + E is linear in
#: (A, B, E) >= 0: the fitter's variable projection solves those on this
#: exponent grid (40 x 40 values, step 0.05; Epoch's optimum is alpha, beta ~ 0.35).
LINEAR = LinearTerms(
    terms=(("a", "alpha", _n_term), ("b", "beta", _d_term), ("e", None, _constant)),
    grid={"alpha": tuple(np.linspace(0.05, 2.0, 40).tolist()), "beta": tuple(np.linspace(0.05, 2.0, 40).tolist())},
    log_coefficients=True,
)


def make() -> Law:
    """Build the ``chinchilla`` law (it takes no options)."""
    return _LAW


_LAW = Law(
    name="chinchilla",
    fn=loss,
    param_names=PARAM_NAMES,
    bounds=BOUNDS,
    start_grid=START_GRID,
    inputs=("N", "D"),
    kind="final",
    equation="L(N, D) = E + A/N^alpha + B/D^beta;  log L = LSE(a - alpha log N, b - beta log D, e)",
    citation="Hoffmann et al. 2022, arXiv:2203.15556 (Eq. 2, App. D.2)",
    derived=derived,
    options={},
    linear=LINEAR,
)


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Synthetic inputs and a true ``theta`` for tests (see ``scaling.laws.examples``).

    A Chinchilla-like design: 8 model sizes from 1e7 to 3e9 parameters, each
    trained on 6 token budgets of 2 to 200 tokens per parameter.
    """
    sizes = np.geomspace(1e7, 3e9, 8)
    ratios = np.geomspace(2.0, 200.0, 6)
    n = np.repeat(sizes, ratios.size)
    d = n * np.tile(ratios, sizes.size)
    theta = np.array([np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28])
    return {"N": n, "D": d}, theta
