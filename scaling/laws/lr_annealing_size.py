"""LR-annealing law with model size (Tissue et al. 2024, Eq. 7): several sizes fitted jointly.

.. math::

    L(s, N) = L_0 + A\\,S_1(s)^{-\\alpha} + B\\,\\hat N^{-\\beta} - C\\,S_2(s)\\,\\hat N^{\\gamma},
    \\qquad \\hat N = N / 10^9

``S1`` and ``S2`` are the forward and annealing areas of
:mod:`scaling.laws.lr_annealing` (same options ``lam``, ``warmup``,
``warmup_steps``); ``N`` is the parameter count of the run (``inputs["N"]``, a
scalar per curve, from the curve table's ``params`` column). ``N`` is measured
in billions inside the law so that ``B`` and ``C`` are O(1) and start grids
make sense; :attr:`Law.derived` also gives ``B_raw = B * 1e9^beta`` and
``C_raw = C * 1e9^-gamma``, the coefficients for ``N`` in plain parameters.

Reference: H. Tissue, V. Wang, L. Wang, "Scaling Law with Learning Rate
Annealing", arXiv:2408.11029 (2024), Eq. 7.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax.numpy as jnp
import numpy as np

from scaling.errors import ScalingError
from scaling.laws.base import Law
from scaling.laws.lr_annealing import CITATION, schedule_areas

EQUATION = "L(s,N) = L0 + A*S1(s)^-alpha + B*(N/1e9)^-beta - C*S2(s)*(N/1e9)^gamma"
PARAM_NAMES = ("L0", "A", "alpha", "B", "beta", "C", "gamma")
N_UNIT = 1e9


def make(*, lam: float = 0.999, warmup: str = "real", warmup_steps: int | None = None) -> Law:
    """Build the ``lr-annealing-n`` law (options as ``lr-annealing``; ``lam`` is fixed)."""
    if warmup not in ("real", "paper"):
        raise ScalingError(f"lr-annealing-n: warmup must be 'real' or 'paper', not {warmup!r}")
    lam = float(lam)
    if not 0.0 <= lam < 1.0:
        raise ScalingError(f"lr-annealing-n: lam must be in [0, 1), got {lam}")
    if warmup_steps is not None:
        warmup_steps = int(warmup_steps)

    def fn(theta, inputs: Mapping[str, Any]):
        s1, s2 = schedule_areas(inputs["lr"], lam=lam, warmup=warmup, warmup_steps=warmup_steps)
        step = jnp.asarray(inputs["step"])
        n_hat = jnp.asarray(inputs["N"]) / N_UNIT
        a1 = jnp.maximum(s1[step], 1e-12)
        return (theta[0] + theta[1] * a1 ** (-theta[2]) + theta[3] * n_hat ** (-theta[4])
                - theta[5] * s2[step] * n_hat ** theta[6])

    def derived(theta):
        out = {n: theta[i] for i, n in enumerate(PARAM_NAMES)}
        out["B_raw"] = theta[3] * N_UNIT ** theta[4]
        out["C_raw"] = theta[5] * N_UNIT ** (-theta[6])
        return out

    return Law(
        name="lr-annealing-n",
        fn=fn,
        param_names=PARAM_NAMES,
        bounds=((0.0, 20.0), (0.0, 1e3), (0.0, 3.0), (0.0, 1e3), (0.0, 3.0), (0.0, 1e4), (-2.0, 2.0)),
        start_grid={"L0": (1.5, 2.5), "A": (0.5,), "alpha": (0.3, 0.6), "B": (0.2, 1.0), "beta": (0.3,),
                    "C": (0.5,), "gamma": (0.0, 0.3)},
        inputs=("lr", "step", "N"),
        kind="curve",
        equation=EQUATION + f" (lam={lam}); warmup={warmup}",
        citation=CITATION,
        derived=derived,
        options={"lam": lam, "warmup": warmup, "warmup_steps": warmup_steps},
    )


def example_inputs(rng: np.random.Generator, law: Law | None = None):
    """Three sizes (25M, 100M, 400M) x constant and cosine runs of 12k steps (see ``scaling.laws.examples``)."""
    from scaling.laws.lr_annealing import _example_curves

    groups = []
    for n in (25e6, 100e6, 400e6):
        for g in _example_curves()[:2] + _example_curves()[3:]:
            groups.append({**g, "N": np.float64(n)})
    theta = np.array([2.0, 0.5, 0.45, 0.15, 0.3, 0.5, 0.1])
    return groups, theta
