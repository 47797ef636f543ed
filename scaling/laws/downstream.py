"""Downstream-error law of Gadre et al. (2024): average top-1 error against loss.

.. math::

    \\mathrm{Err}(L) = E' - k\\, e^{-\\gamma L}

``L`` is a model's loss (nats per token, e.g. C4 validation loss) and
``Err`` its average top-1 error over a set of downstream tasks (a fraction
in (0, 1)). ``E'`` is the error approached as the loss grows (a chance-like
ceiling), ``k`` and ``gamma`` (``g`` below) set how fast error falls as the
loss drops. Chained with a loss law (e.g. ``overtraining``) it predicts
downstream error from ``N`` and ``D`` by feeding it the *predicted* loss.

This is a ``kind="final"`` law whose input is a loss column and whose
*target* is the error column: build its data with
``dataset_from_points(law, df, target="err_avg_17")`` (the fitter's
objective is then Huber on ``log Err``). The input column is the option
``x`` (default ``"loss"``).

Fit space is natural units: :math:`\\theta = (E', k, g)`, all positive.

References
----------
S. Y. Gadre et al., "Language models scale reliably with over-training and
on downstream tasks", arXiv:2403.08540 (2024), Eq. 5.

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("downstream")
>>> float(law(np.array([0.857, 2.206, 0.7146]), {"loss": np.array([2.5])})[0])  # doctest: +ELLIPSIS
0.48...
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from scaling.errors import ScalingError
from scaling.laws.base import Law

PARAM_NAMES = ("E_prime", "k", "g")


def _error(theta, inputs: Mapping[str, Any], *, x: str):
    import jax.numpy as jnp

    loss = jnp.asarray(inputs[x])
    return theta[0] - theta[1] * jnp.exp(-theta[2] * loss)


def _derived(theta) -> dict[str, Any]:
    return {"E_prime": theta[0], "k": theta[1], "g": theta[2]}


@functools.lru_cache(maxsize=None)
def make(x: str = "loss") -> Law:
    """Build the ``downstream`` law.

    Parameters
    ----------
    x : str
        Name of the input column holding the loss (default ``"loss"``).

    Notes
    -----
    Cached per option, so the fitter's compiled code is reused.
    """
    if not isinstance(x, str) or not x:
        raise ScalingError(f"downstream option x must be a column name, not {x!r}")
    return Law(
        name="downstream",
        fn=functools.partial(_error, x=x),
        param_names=PARAM_NAMES,
        bounds=((1e-6, 10.0), (0.0, 1e4), (0.0, 20.0)),
        start_grid={"E_prime": (0.6, 0.9, 1.2), "k": (0.5, 2.0, 8.0), "g": (0.3, 0.7, 1.5)},
        inputs=(x,),
        kind="final",
        equation=f"Err({x}) = E' - k exp(-g {x})",
        citation="Gadre et al. 2024, arXiv:2403.08540 (Eq. 5)",
        derived=_derived,
        options={"x": x},
    )


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Losses from 2.2 to 6 nats and the paper repository's 17-task fit (see ``scaling.laws.examples``)."""
    x = law.options.get("x", "loss") if law is not None else "loss"
    return {x: np.linspace(2.2, 6.0, 30)}, np.array([0.857, 2.206, 0.7146])
