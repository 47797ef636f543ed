"""The Chinchilla closed forms: compute-optimal allocation and its inverse (Hoffmann et al. 2022).

.. math::

    G = \\left(\\frac{\\alpha A}{\\beta B}\\right)^{1/(\\alpha+\\beta)}, \\quad
    N_{opt} = G \\left(\\frac{C}{6}\\right)^{a}, \\quad
    D_{opt} = G^{-1} \\left(\\frac{C}{6}\\right)^{b}, \\quad
    a = \\frac{\\beta}{\\alpha+\\beta}, \\; b = \\frac{\\alpha}{\\alpha+\\beta}.

This is the one place these formulas are written; planning
(:mod:`scaling.plan.allocation`) uses them whenever a law is Chinchilla-shaped.
"""

from __future__ import annotations

import numpy as np

CHINCHILLA_KEYS = ("E", "A", "B", "alpha", "beta")


def chinchilla_allocation(E, A, B, alpha, beta, flops) -> dict[str, np.ndarray]:
    """Compute-optimal allocation of a Chinchilla law, in closed form.

    .. math::

        G = \\left(\\frac{\\alpha A}{\\beta B}\\right)^{1/(\\alpha+\\beta)},\\;
        N_{opt} = G (C/6)^{a},\\; D_{opt} = G^{-1} (C/6)^{b},\\;
        a = \\frac{\\beta}{\\alpha+\\beta},\\; b = \\frac{\\alpha}{\\alpha+\\beta}

    (Hoffmann et al. 2022, arXiv:2203.15556, App. A; ``C = 6 N D``).

    Parameters
    ----------
    E, A, B, alpha, beta : float or array
        Natural-unit Chinchilla parameters ``L = E + A/N^alpha + B/D^beta``;
        arrays broadcast against ``flops``.
    flops : float or array
        Training compute C in FLOPs.

    Returns
    -------
    dict
        ``N`` (parameters), ``D`` (tokens), ``tokens_per_param`` (D/N),
        ``loss`` (nats/token at the optimum), ``a``, ``b``, ``G``; numpy
        arrays of the broadcast shape.

    Examples
    --------
    >>> out = chinchilla_allocation(1.69, 406.4, 410.7, 0.34, 0.28, 5.76e23)
    >>> round(float(out["a"]), 2), round(float(out["b"]), 2)
    (0.45, 0.55)
    """
    E, A, B, alpha, beta, flops = (np.asarray(v, dtype=np.float64) for v in (E, A, B, alpha, beta, flops))
    a = beta / (alpha + beta)
    b = alpha / (alpha + beta)
    G = allocation_constant(A, B, alpha, beta)
    N = G * (flops / 6.0) ** a
    D = (flops / 6.0) ** b / G
    loss = E + A * N ** (-alpha) + B * D ** (-beta)
    return {"N": N, "D": D, "tokens_per_param": D / N, "loss": loss, "a": a + 0 * N, "b": b + 0 * N, "G": G + 0 * N}


def chinchilla_loss(E, A, B, alpha, beta, N, D) -> np.ndarray:
    """Chinchilla final loss ``E + A N^-alpha + B D^-beta`` (Hoffmann et al. 2022, Eq. 2), numpy."""
    E, A, B, alpha, beta, N, D = (np.asarray(v, dtype=np.float64) for v in (E, A, B, alpha, beta, N, D))
    return E + A * N ** (-alpha) + B * D ** (-beta)


def allocation_constant(A, B, alpha, beta):
    """``G = (alpha A / (beta B))^(1/(alpha+beta))`` of the closed form (numpy, broadcasting)."""
    return (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))


def flops_where_optimal(A, B, alpha, beta, N):
    """Budget C at which model size N is compute-optimal: ``C = 6 (N / G)^(1/a)``."""
    a = beta / (alpha + beta)
    return 6.0 * (N / allocation_constant(A, B, alpha, beta)) ** (1.0 / a)


def natural_parameters(law, thetas: np.ndarray) -> dict[str, np.ndarray] | None:
    """E, A, B, alpha, beta per row of ``thetas`` if the law is Chinchilla-shaped, else None."""
    if law.kind != "final" or law.derived is None or set(law.inputs) != {"N", "D"}:
        return None
    if not law.name.startswith("chinchilla"):
        return None
    import jax

    from scaling._x64 import float64

    with float64():
        der = jax.vmap(law.derived)(np.asarray(thetas, dtype=np.float64))
        if not all(k in der for k in CHINCHILLA_KEYS):
            return None
        return {k: np.asarray(der[k], dtype=np.float64) for k in CHINCHILLA_KEYS}


__all__ = ["CHINCHILLA_KEYS", "allocation_constant", "chinchilla_allocation", "chinchilla_loss",
           "flops_where_optimal", "natural_parameters"]
