"""Synthetic inputs for every registered law: the conformance suite's hook.

``EXAMPLES`` maps a law name (as in :data:`scaling.laws.LAWS`) to a function

    ``example_inputs(rng, law) -> (inputs, theta)``

where ``rng`` is a :class:`numpy.random.Generator`, ``law`` the built law
(so an option such as ``x="D"`` can change the design), ``theta`` a
realistic true parameter vector in fit space, shape ``(P,)``, and ``inputs``
either one input mapping (one group: e.g. ``{"N": (n,), "D": (n,)}``) or a
list of them (several groups, e.g. one per training run for curve laws:
``[{"lr": (T+1,), "step": (n,)}, ...]``). The design must be rich enough
that ``theta`` can be recovered from the law's values times log-normal noise
of SD 0.002 (``tests/test_laws_conformance.py`` checks exactly that).

To register a new law's examples, add ONE explicit line below next to the
law's line in ``LAWS``; a law without an entry fails the conformance suite.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from scaling.laws import chinchilla, lr_annealing, lr_annealing_size, multi_power, power_law
from scaling.laws import downstream, encoder_decoder, kaplan_batch, kaplan_nd, lr_sensitivity, overtraining

ExampleFn = Callable[[np.random.Generator, Any], tuple[Any, np.ndarray]]

EXAMPLES: dict[str, ExampleFn] = {
    "power-law": power_law.example_inputs,
    "chinchilla": chinchilla.example_inputs,
    "lr-annealing": lr_annealing.example_inputs,
    "multi-power": multi_power.example_inputs,
    "lr-annealing-n": lr_annealing_size.example_inputs,
    "overtraining": overtraining.example_inputs,
    "downstream": downstream.example_inputs,
    "kaplan-nd": kaplan_nd.example_inputs,
    "kaplan-batch": kaplan_batch.example_inputs,
    "encoder-decoder": encoder_decoder.example_inputs,
    "lr-sensitivity": lr_sensitivity.example_inputs,
}

__all__ = ["EXAMPLES"]
