"""Encoder-decoder law of Ghorbani et al. (2021): loss against encoder and decoder sizes.

.. math::

    L(N_e, N_d) = \\alpha \\Big(\\frac{\\bar N_e}{N_e}\\Big)^{p_e}
                  \\Big(\\frac{\\bar N_d}{N_d}\\Big)^{p_d} + L_\\infty

``N_e``, ``N_d`` are the encoder and decoder parameter counts (non-embedding),
``L`` the per-token cross-entropy (nats) of a translation model, ``p_e`` and
``p_d`` the exponents for scaling each part and ``L_inf`` the irreducible
loss. ``alpha`` is the reducible loss of a model with ``N_e = Nbar_e`` and
``N_d = Nbar_d``.

The reference sizes ``Nbar_e`` and ``Nbar_d`` are fixed *options*, not
parameters: only ``alpha * Nbar_e**p_e * Nbar_d**p_d`` is identifiable, so
fitting them with ``alpha`` would leave a flat direction. Choose them near
the middle of the data (default 1e8 each, so ``alpha`` is the reducible loss
of a 100M + 100M model); changing them rescales ``alpha`` only.

The input columns are ``N_e`` and ``N_d``. Fit space:
:math:`\\theta = (\\log\\alpha, p_e, p_d, \\log L_\\infty)`,

.. math::

    \\log L = \\operatorname{LSE}(\\log\\alpha + p_e \\log(\\bar N_e/N_e)
              + p_d \\log(\\bar N_d/N_d),\\; \\log L_\\infty).

References
----------
B. Ghorbani et al., "Scaling Laws for Neural Machine Translation",
arXiv:2109.07740 (2021), Eq. 2.

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("encoder-decoder")
>>> theta = np.array([np.log(0.8), 0.3, 0.4, np.log(1.2)])
>>> float(law(theta, {"N_e": np.array([1e8]), "N_d": np.array([1e8])})[0])  # doctest: +ELLIPSIS
2.0...
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from scaling.errors import ScalingError
from scaling.laws.base import Law

PARAM_NAMES = ("log_alpha", "p_e", "p_d", "log_L_inf")


def _log_loss(theta, inputs: Mapping[str, Any], *, nbar_e: float, nbar_d: float):
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    le = jnp.log(nbar_e) - jnp.log(jnp.asarray(inputs["N_e"]))
    ld = jnp.log(nbar_d) - jnp.log(jnp.asarray(inputs["N_d"]))
    power = theta[0] + theta[1] * le + theta[2] * ld
    return logsumexp(jnp.stack([power, jnp.broadcast_to(theta[3], power.shape)]), axis=0)


def _derived(theta) -> dict[str, Any]:
    import jax.numpy as jnp

    return {"alpha": jnp.exp(theta[0]), "p_e": theta[1], "p_d": theta[2], "L_inf": jnp.exp(theta[3])}


@functools.lru_cache(maxsize=None)
def make(Nbar_e: float = 1e8, Nbar_d: float = 1e8) -> Law:  # noqa: N803 (the paper's symbols)
    """Build the ``encoder-decoder`` law.

    Parameters
    ----------
    Nbar_e, Nbar_d : float
        Reference encoder and decoder sizes (parameters), fixed; see the
        module docstring.
    """
    try:
        nbar_e, nbar_d = float(Nbar_e), float(Nbar_d)
    except (TypeError, ValueError):
        raise ScalingError(f"encoder-decoder: Nbar_e and Nbar_d must be numbers, not {Nbar_e!r}, {Nbar_d!r}") from None
    if not (nbar_e > 0 and nbar_d > 0 and np.isfinite(nbar_e) and np.isfinite(nbar_d)):
        raise ScalingError(f"encoder-decoder: Nbar_e and Nbar_d must be positive, got {nbar_e}, {nbar_d}")
    log_fn = functools.partial(_log_loss, nbar_e=nbar_e, nbar_d=nbar_d)

    def loss(theta, inputs):
        import jax.numpy as jnp

        return jnp.exp(log_fn(theta, inputs))

    loss.log_fn = log_fn  # type: ignore[attr-defined]
    return Law(
        name="encoder-decoder",
        fn=loss,
        param_names=PARAM_NAMES,
        bounds=((-np.inf, np.inf), (0.0, 5.0), (0.0, 5.0), (-np.inf, np.inf)),
        start_grid={"log_alpha": (-2.0, -0.5, 1.0), "p_e": (0.1, 0.3, 0.8), "p_d": (0.1, 0.3, 0.8),
                    "log_L_inf": (-1.0, 0.0, 1.0)},
        inputs=("N_e", "N_d"),
        kind="final",
        equation=f"L(N_e, N_d) = alpha (Nbar_e/N_e)^p_e (Nbar_d/N_d)^p_d + L_inf  "
                 f"(Nbar_e={nbar_e:g}, Nbar_d={nbar_d:g})",
        citation="Ghorbani et al. 2021, arXiv:2109.07740 (Eq. 2)",
        derived=_derived,
        options={"Nbar_e": nbar_e, "Nbar_d": nbar_d},
    )


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """An 8 x 8 grid of encoder and decoder sizes 1e7..1e9 (see ``scaling.laws.examples``).

    (With a 6 x 6 grid the fitter's Laplace intervals came out about 4x too
    narrow at noise SD 0.002: few residuals fall inside Huber's quadratic zone.)
    """
    sizes = np.geomspace(1e7, 1e9, 8)
    ne = np.repeat(sizes, sizes.size)
    nd = np.tile(sizes, sizes.size)
    return {"N_e": ne, "N_d": nd}, np.array([np.log(0.8), 0.3, 0.4, np.log(1.2)])
