"""A law's inputs from given values: the one place the derived quantities are formed.

Final-loss laws read some of

.. math::

    N \\;(\\text{parameters}), \\quad D \\;(\\text{tokens}), \\quad
    C = 6 N D \\;(\\text{FLOPs; Kaplan et al. 2020}), \\quad M = D / N
    \\;(\\text{tokens per parameter; Gadre et al. 2024}),

and any two of N, D, C give the rest (:func:`complete_ndc`). Loss-curve laws
read ``lr`` (LR at steps ``0..T``), ``step`` (the steps wanted) and, for some,
the model size ``N`` (parameters; ``lr-annealing-n``) or the batch size ``B``
(tokens per step; ``kaplan-batch``, from a log's ``tokens`` column as
tokens / step). Planning, prediction and the report build inputs only here,
so every law (``kaplan-batch`` included) can be used wherever its inputs can
be formed.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from scaling.errors import ScalingError


def complete_ndc(N=None, D=None, C=None) -> dict[str, np.ndarray]:
    """``N``, ``D``, ``C`` and ``M`` from any two of N, D, C (``C = 6ND``), float64 arrays.

    Raises
    ------
    ScalingError
        Fewer than two of N, D, C are given.
    """
    given = {k: v for k, v in (("N", N), ("D", D), ("C", C)) if v is not None}
    if len(given) < 2:
        raise ScalingError(f"need two of N, D and C (C = 6ND); got only {sorted(given) or 'none'}")
    N = None if N is None else np.asarray(N, np.float64)
    D = None if D is None else np.asarray(D, np.float64)
    C = None if C is None else np.asarray(C, np.float64)
    if N is None:
        N = C / (6.0 * D)
    elif D is None:
        D = C / (6.0 * N)
    elif C is None:
        C = 6.0 * N * D
    return {"N": N, "D": D, "C": C, "M": D / N}


def final_inputs(law, **given: Any) -> dict[str, np.ndarray]:
    """The inputs a final-loss ``law`` reads, formed from ``given`` (N, D, C, ... as arrays).

    Columns the law reads directly (``width``, ``N_e``, ...) are passed
    through; ``N``, ``D``, ``C``, ``M`` are completed from any two of N, D, C.

    Examples
    --------
    >>> from scaling.laws import get_law
    >>> sorted(final_inputs(get_law("overtraining"), N=[1e9], D=[2e10]))
    ['M', 'N']
    """
    out: dict[str, np.ndarray] = {}
    ndc = None
    for name in law.inputs:
        if name in given and given[name] is not None:
            out[name] = np.asarray(given[name], np.float64)
            continue
        if name in ("N", "D", "C", "M"):
            if ndc is None:
                ndc = complete_ndc(given.get("N"), given.get("D"), given.get("C"))
            out[name] = ndc[name]
            continue
        raise ScalingError(f"law {law.name!r} reads input {name!r}, which cannot be formed from "
                           f"{sorted(k for k, v in given.items() if v is not None)}")
    return out


def curve_inputs(law, lr, steps, *, N: float | None = None, B: float | None = None) -> dict[str, np.ndarray]:
    """The inputs of a loss-curve ``law``: ``lr`` (T + 1,), ``step`` (n,) and ``N``/``B`` when it reads them.

    Parameters
    ----------
    law : Law
        A ``kind="curve"`` law.
    lr : array, shape (T + 1,)
        LR at every step ``0..T``.
    steps : array of int, shape (n,)
        Steps at which the loss is wanted (``0 <= step <= T``).
    N : float, optional
        Model size in parameters, for laws that read ``N``.
    B : float, optional
        Batch size in tokens per step, for laws that read ``B``.
    """
    if law.kind != "curve":
        raise ScalingError(f"law {law.name!r} is a final-loss law; this needs a loss-curve law "
                           "(e.g. 'scaling fit RUNS.csv --law lr-annealing')")
    lr = np.asarray(lr, np.float64).reshape(-1)
    steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    if steps.size and (steps.min() < 0 or steps.max() > lr.size - 1):
        raise ScalingError(f"steps must lie in 0..{lr.size - 1} (the schedule's last step); "
                           f"got {steps.min()}..{steps.max()}")
    out: dict[str, np.ndarray] = {"lr": lr, "step": steps}
    for name, value, what in (("N", N, "the model size; pass N= (parameters, --params)"),
                              ("B", B, "the batch size; pass B= (tokens per step)")):
        if name in law.inputs:
            if value is None or not np.isfinite(float(value)) or float(value) <= 0:
                raise ScalingError(f"law {law.name!r} reads {what}")
            out[name] = np.float64(value)
    return out


def tokens_per_step(tokens: Mapping[int, float] | np.ndarray, steps: np.ndarray) -> float:
    """Batch size B (tokens per step) from a log's cumulative ``tokens`` at ``steps``: the median ratio."""
    tokens = np.asarray(tokens, np.float64)
    steps = np.asarray(steps, np.float64)
    ok = np.isfinite(tokens) & (steps > 0)
    if not ok.any():
        raise ScalingError("cannot infer tokens per step: no logged 'tokens' at a positive step")
    return float(np.median(tokens[ok] / steps[ok]))


__all__ = ["complete_ndc", "curve_inputs", "final_inputs", "tokens_per_step"]
