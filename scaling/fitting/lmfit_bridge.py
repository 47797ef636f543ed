"""Convert a :class:`~scaling.fitting.result.FitResult` to lmfit ``Parameters``.

lmfit users can then print our fits with ``lmfit.fit_report(params)`` or
reuse the values as starting points of an lmfit model. Parameters are in the
law's fit space; lmfit names must be Python identifiers, so other characters
become ``_``.
"""

from __future__ import annotations

import re

import numpy as np


def lmfit_name(name: str) -> str:
    """A valid lmfit parameter name for ``name``."""
    out = re.sub(r"\W", "_", name)
    return out if out and not out[0].isdigit() else f"p_{out}"


def to_lmfit_parameters(result):
    """lmfit ``Parameters`` with value, bounds, stderr and correlations set.

    Parameters
    ----------
    result : FitResult

    Returns
    -------
    lmfit.Parameters
    """
    import lmfit

    law = result.law_object()
    params = lmfit.Parameters()
    names = [lmfit_name(n) for n in result.param_names]
    for i, name in enumerate(names):
        lo, hi = law.bounds[i]
        value = float(result.params[i])
        params.add(name, value=value, min=float(lo), max=float(hi), vary=True)
        stderr = float(result.stderr[i])
        params[name].stderr = stderr if np.isfinite(stderr) else None
    correl = result.correl
    if correl is not None:
        for i, name in enumerate(names):
            params[name].correl = {
                other: float(correl[i, j]) for j, other in enumerate(names) if j != i and np.isfinite(correl[i, j])
            }
    return params


__all__ = ["lmfit_name", "to_lmfit_parameters"]
