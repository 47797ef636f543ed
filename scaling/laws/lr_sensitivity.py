"""Final loss against learning rate at one model size: a parabola in log LR.

.. math::

    L(\\eta) = L_* + k\\, (\\log_{10}\\eta - \\log_{10}\\eta_*)^2

``eta`` is the (peak) learning rate of a run, ``L`` its final loss (nats
per token), ``eta_*`` the optimal learning rate, ``L_*`` the loss there and
``k`` (nats per decade squared) how sharply loss rises away from it.
Wortsman et al. (2023) plot final loss against log LR for each model size
and summarise the curve by the optimal LR and the LR sensitivity; near the
optimum such curves are parabolas in log LR, which is the form fitted here
(fit it on LRs within a few decades of the optimum; diverged runs, whose
loss saturates, belong in :func:`scaling.sensitivity.lr_sensitivity`'s
measured sensitivity, not in the fit). Per-size fits, the power law of
``eta_*`` in ``N`` and the sensitivity measure are in
:mod:`scaling.sensitivity`.

The input column is the option ``x`` (default ``"lr"``): a points table
with one row per run. Fit space: :math:`\\theta = (L_*, k, \\log_{10}\\eta_*)`.

References
----------
M. Wortsman et al., "Small-scale proxies for large-scale Transformer
training instabilities", arXiv:2309.14322 (2023), Sec. 2.2 (LR vs. loss
curves and the LR sensitivity; the parabola is this package's local model of
those curves).

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("lr-sensitivity")
>>> # two decades above eta* = 1e-3: L = 3 + 0.2 * 2**2
>>> float(law(np.array([3.0, 0.2, -3.0]), {"lr": np.array([1e-1])})[0])  # doctest: +ELLIPSIS
3.8...
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from scaling.errors import ScalingError
from scaling.laws.base import Law

PARAM_NAMES = ("L_star", "k", "log10_eta_star")


def _loss(theta, inputs: Mapping[str, Any], *, x: str):
    import jax.numpy as jnp

    u = jnp.log10(jnp.asarray(inputs[x])) - theta[2]
    return theta[0] + theta[1] * u * u


def _derived(theta) -> dict[str, Any]:
    return {"L_star": theta[0], "k": theta[1], "eta_star": 10.0 ** theta[2]}


@functools.lru_cache(maxsize=None)
def make(x: str = "lr") -> Law:
    """Build the ``lr-sensitivity`` law; ``x`` names the learning-rate column."""
    if not isinstance(x, str) or not x:
        raise ScalingError(f"lr-sensitivity option x must be a column name, not {x!r}")
    return Law(
        name="lr-sensitivity",
        fn=functools.partial(_loss, x=x),
        param_names=PARAM_NAMES,
        bounds=((1e-6, 100.0), (0.0, 1e3), (-8.0, 2.0)),
        start_grid={"L_star": (2.0, 4.0), "k": (0.05, 0.5), "log10_eta_star": (-4.0, -3.0, -2.0, -1.0)},
        inputs=(x,),
        kind="final",
        equation=f"L({x}) = L* + k (log10 {x} - log10 eta*)^2",
        citation="Wortsman et al. 2023, arXiv:2309.14322 (Sec. 2.2)",
        derived=_derived,
        options={"x": x},
    )


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Twelve LRs over two decades around 1e-3 (see ``scaling.laws.examples``)."""
    x = law.options.get("x", "lr") if law is not None else "lr"
    return {x: np.geomspace(1e-4, 1e-2, 12)}, np.array([3.0, 0.15, -3.0])
