"""Multi-power law of Luo et al. (ICLR 2025): loss along a run from its LR schedule.

.. math::

    L(t) = L_0 + A\\,(S_1(t) + S_W)^{-\\alpha} - B\\,LD(t), \\qquad
    LD(t) = \\sum_{k=1}^{t} (\\eta_{k-1} - \\eta_k)\\,G(\\eta_k^{-\\gamma} S_k(t)),

    S_k(t) = \\sum_{\\tau=k}^{t} \\eta_\\tau, \\qquad G(x) = 1 - (C x + 1)^{-\\beta}

``S1 + S_W`` is the forward area including warmup (``cumsum(lr)[t]``), ``L0``
(nats) the loss at infinite area, ``A, alpha`` the power-law gain, ``B`` the
scale of the loss drop from LR decreases and ``C, beta, gamma`` how fast a
drop is realised. LD is evaluated only at the requested steps, on compressed
drop nodes built from the LR array inside the call (no extra inputs):
``O(sqrt(T))`` terms per step instead of ``T``, within ``1e-6`` of the drops'
total variation of the exact double sum on common schedules, exact for
``T < 512`` (:func:`scaling.areas.multi_power_ld`, bound and method there).

Fit space: ``theta = (L0, A, alpha, log B, log C, beta, gamma)`` (``B`` is in
the hundreds while the rest are O(1), so the logs keep the optimiser's steps
balanced); :attr:`Law.derived` gives ``B`` and ``C`` in natural units.

Option ``warmup``: ``"repo"`` (default) counts every LR change including the
warmup's rises, exactly as the authors' code does (their published parameters
reproduce their numbers only this way; the warmup adds a near-constant offset
absorbed by ``L0``); ``"skip"`` counts only changes after warmup
(detected by :func:`scaling.areas.warmup_end`), the paper's written form.
On Luo et al.'s split ``"skip"`` predicts no better (mean PredE 0.120 / 0.139
/ 0.219 % at 25M / 100M / 400M against 0.121 / 0.129 / 0.208 % with
``"repo"``, both with the prior, every point), though its 400M ``L0`` (2.52)
is the paper's Table 7 value, not the repo convention's offset one (2.32-2.34).

Prior: fits of curves carry a weakly informative Gaussian prior on the drop
shape, ``beta ~ N(0.6, 0.3^2)``, ``gamma ~ N(0.6, 0.2^2)`` and the
LR-normalised ``log C_n = log C + (1 - gamma) log p ~ N(log 0.03, 1.5^2)``
(``p`` the peak LR of the data), centred in the range of the authors'
published fits (:data:`PRIOR`, weighted from the data by
:mod:`scaling.fitting.prior`). A constant and a cosine run do not determine
the shape: without it the fit of Luo's 25M constant + cosine runs ends at
``beta = 3.06, gamma = 0.17`` and predicts their 7 other schedules with a
mean error of 0.41 % (0.13 % with it; ``benchmarks/curves_protocol.py``,
sets ``luo2-*``). ``fit(..., prior="none")`` fits without it.

Reference: K. Luo, H. Wen, S. Hu, Z. Sun, Z. Liu, M. Sun, K. Lyu, W. Chen,
"A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules",
ICLR 2025, arXiv:2503.12811, Eq. 5; code github.com/thu-yao-01-luo/MultiPowerLaw.
"""

from __future__ import annotations

from typing import Any, Mapping

import jax.numpy as jnp
import numpy as np

from scaling.areas import forward_area, multi_power_ld, warmup_end
from scaling.errors import ScalingError
from scaling.laws.base import Law, Prior

EQUATION = (
    "L(t) = L0 + A*(S1(t)+S_W)^-alpha - B*sum_k (lr_(k-1)-lr_k)*G(lr_k^-gamma*S_k(t)), "
    "S_k(t) = sum_(tau=k..t) lr_tau, G(x) = 1-(C*x+1)^-beta"
)
CITATION = (
    "K. Luo et al., A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules, "
    "ICLR 2025, arXiv:2503.12811"
)
PARAM_NAMES = ("L0", "A", "alpha", "logB", "logC", "beta", "gamma")

#: Published fits of Luo et al. (repo README and paper Table 7, 25M-400M): beta 0.41-0.88, gamma 0.52-0.66 and
#: C_n = C p^(1-gamma) (p = 3e-4, their peak LR) 0.0045-0.11; the prior is centred in those ranges and wide
#: enough to hold all of them (``log C_n`` within 1.3 sd).
PRIOR_MEAN = (0.6, 0.6, float(np.log(0.03)))
PRIOR_SD = (0.3, 0.2, 1.5)


def _prior_rows(log_peak: float):
    """``q = (beta, gamma, log C_n) = M theta + c`` with ``log C_n = logC + (1 - gamma) log p``."""
    M = np.zeros((3, len(PARAM_NAMES)))
    M[0, 5] = 1.0
    M[1, 6] = 1.0
    M[2, 4] = 1.0
    M[2, 6] = -log_peak
    return M, np.array([0.0, 0.0, log_peak])


PRIOR = Prior(names=("beta", "gamma", "log C_n"), mean=PRIOR_MEAN, sd=PRIOR_SD, rows=_prior_rows,
              source="published multi-power fits of Luo et al. (ICLR 2025): repo README parameters and paper "
                     "Table 7, 25M-400M")


def make(*, warmup: str = "repo") -> Law:
    """Build the ``multi-power`` law (see the module docstring)."""
    if warmup not in ("repo", "skip"):
        raise ScalingError(f"multi-power: warmup must be 'repo' or 'skip', not {warmup!r}")

    def fn(theta, inputs: Mapping[str, Any]):
        lr = jnp.asarray(inputs["lr"])
        step = jnp.asarray(inputs["step"])
        start = 1 if warmup == "repo" else warmup_end(lr) + 1
        s1 = jnp.maximum(forward_area(lr)[step], 1e-12)
        ld = multi_power_ld(lr, step, jnp.exp(theta[4]), theta[5], theta[6], start=start)
        return theta[0] + theta[1] * s1 ** (-theta[2]) - jnp.exp(theta[3]) * ld

    def derived(theta):
        out = {n: theta[i] for i, n in enumerate(PARAM_NAMES)}
        out["B"] = jnp.exp(theta[3])
        out["C"] = jnp.exp(theta[4])
        return out

    return Law(
        name="multi-power",
        fn=fn,
        param_names=PARAM_NAMES,
        bounds=((0.0, 20.0), (0.0, 1e3), (0.0, 3.0), (-5.0, 12.0), (-8.0, 8.0), (0.01, 5.0), (0.0, 2.0)),
        start_grid={
            "L0": (2.5, 3.5),
            "A": (0.5,),
            "alpha": (0.5,),
            "logB": (5.0, 6.5),
            "logC": (-1.0, 1.0),
            "beta": (0.6,),
            "gamma": (0.6,),
        },
        inputs=("lr", "step"),
        kind="curve",
        equation=EQUATION + f"; warmup={warmup}",
        citation=CITATION,
        derived=derived,
        options={"warmup": warmup},
        prior=PRIOR,
    )


def example_inputs(rng, law: Law | None = None):
    """Four 12k-step runs (constant, cosine, WSD, two-stage), loss every 200 steps, and the authors' 400M parameters.

    See ``scaling.laws.examples``; parameters from the MultiPowerLaw repository's README.
    """

    from scaling.laws.lr_annealing import _example_curves

    theta = np.array([2.37474466, 0.65421216, 0.42878731, np.log(523.42464371), np.log(2.02462735),
                      0.59350493, 0.63472457])
    return _example_curves(every=200), theta
