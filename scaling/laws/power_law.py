"""Power law plus constant: final loss against one scale variable.

.. math::

    L(x) = E + A\\, x^{-\\alpha}, \\qquad x \\in \\{N, D, C\\}

(the "power law plus constant" of Henighan et al. 2020 and the single-variable
laws of Kaplan et al. 2020). ``x`` is model size ``N`` (parameters), data
``D`` (tokens) or compute ``C`` (FLOPs), chosen with the option ``x``; ``L``
is in nats per token. With ``fixed_E0=True`` the irreducible loss is forced to
zero (Kaplan's pure power law).

Fit space (well conditioned, every term positive, like Chinchilla's LSE
form): :math:`\\theta = (a, \\alpha, e)` with :math:`A = e^a`, :math:`E = e^e`,

.. math::

    \\log L = \\operatorname{LSE}(a - \\alpha \\log x,\\; e),

or :math:`\\theta = (a, \\alpha)` and :math:`\\log L = a - \\alpha \\log x`
when ``fixed_E0=True``.

References
----------
T. Henighan et al., "Scaling Laws for Autoregressive Generative Modeling",
arXiv:2010.14701 (2020). J. Kaplan et al., "Scaling Laws for Neural Language
Models", arXiv:2001.08361 (2020).

Examples
--------
>>> import numpy as np
>>> from scaling.laws import get_law
>>> law = get_law("power-law", x="N")
>>> law.param_names
('a', 'alpha', 'e')
>>> float(law(np.array([np.log(400.0), 0.34, np.log(1.7)]), {"N": np.array([1e9])})[0])  # doctest: +ELLIPSIS
2.04...
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from scaling.errors import ScalingError
from scaling.laws.base import Law

#: The usual scale variables; any other positive numeric column also works (e.g. "width").
_X_CHOICES = ("N", "D", "C")


def _log_loss(theta, inputs: Mapping[str, Any], *, x: str, fixed_e0: bool):
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    log_x = jnp.log(jnp.asarray(inputs[x]))
    power = theta[0] - theta[1] * log_x
    if fixed_e0:
        return power
    return logsumexp(jnp.stack([power, jnp.broadcast_to(theta[2], log_x.shape)]), axis=0)


def _derived(theta, *, fixed_e0: bool) -> dict[str, Any]:
    import jax.numpy as jnp

    out = {"A": jnp.exp(theta[0]), "alpha": theta[1]}
    out["E"] = jnp.zeros_like(theta[0]) if fixed_e0 else jnp.exp(theta[2])
    return out


@functools.lru_cache(maxsize=None)
def make(x: str = "N", fixed_E0: bool = False) -> Law:  # noqa: N803 (option name is the paper's E)
    """Build the ``power-law`` law.

    Parameters
    ----------
    x : str
        The column holding the scale variable: ``"N"`` (parameters), ``"D"``
        (tokens), ``"C"`` (FLOPs) or any other positive numeric column, e.g.
        ``"width"`` for Kaplan's width-only law (``--law-option x=width``).
    fixed_E0 : bool
        Force the irreducible loss ``E`` to 0 (fit ``L = A x**-alpha``).

    Notes
    -----
    Cached per option set, so the same options give the same function object
    and the fitter's compiled code is reused.
    """
    if not isinstance(x, str) or not x.strip():
        raise ScalingError(f"power-law option x must be a column name such as N, D, C or width, not {x!r}")
    fixed_E0 = bool(fixed_E0)
    log_fn = functools.partial(_log_loss, x=x, fixed_e0=fixed_E0)

    def loss(theta, inputs):
        import jax.numpy as jnp

        return jnp.exp(log_fn(theta, inputs))

    loss.log_fn = log_fn  # type: ignore[attr-defined]  # lets the fitter skip exp-then-log
    names = ("a", "alpha") if fixed_E0 else ("a", "alpha", "e")
    grid = {
        "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
        "alpha": (0.05, 0.25, 0.5, 1.0, 1.5),
        "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    }
    bounds = ((-np.inf, np.inf), (0.0, 10.0), (-np.inf, np.inf))[: len(names)]
    equation = f"L({x}) = A {x}^-alpha" if fixed_E0 else f"L({x}) = E + A {x}^-alpha;  log L = LSE(a - alpha log {x}, e)"
    return Law(
        name="power-law",
        fn=loss,
        param_names=names,
        bounds=bounds,
        start_grid={k: grid[k] for k in names},
        inputs=(x,),
        kind="final",
        equation=equation,
        citation="Henighan et al. 2020, arXiv:2010.14701; Kaplan et al. 2020, arXiv:2001.08361",
        derived=functools.partial(_derived, fixed_e0=fixed_E0),
        options={"x": x, "fixed_E0": fixed_E0},
    )


def example_inputs(rng: np.random.Generator, law: Law | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Synthetic inputs and a true ``theta`` for tests (see ``scaling.laws.examples``).

    Forty sizes log-spaced over three decades of the law's ``x`` variable.
    """
    x = (law.options.get("x", "N") if law is not None else "N")
    fixed = bool(law.options.get("fixed_E0", False)) if law is not None else False
    span = {"N": (1e7, 1e10), "D": (1e9, 1e12), "C": (1e17, 1e21)}.get(x, (64.0, 8192.0))
    values = np.geomspace(*span, 40)
    alpha = {"N": 0.34, "D": 0.28, "C": 0.05}.get(x, 0.5)
    a = np.log(1.5) + alpha * np.log(span[0])  # A x^-alpha = 1.5 at the smallest x
    theta = np.array([a, alpha]) if fixed else np.array([a, alpha, np.log(1.8)])
    return {x: values}, theta
