"""scaling: fit scaling laws and predict LLM loss curves.

The public import API is re-exported here lazily, so ``import scaling`` (and
``scaling --help``) stays fast: jax, pandas, matplotlib and lmfit load only
when a name that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute"; extended as features land.
_EXPORTS: dict[str, str] = {
    "ScalingError": "scaling.errors:ScalingError",
    "Law": "scaling.laws.base:Law",
    "get_law": "scaling.laws:get_law",
    "LAWS": "scaling.laws:LAWS",
    "fit": "scaling.fitting:fit",
    "FitResult": "scaling.fitting:FitResult",
    "load": "scaling.loaders:load",
    "load_points": "scaling.loaders:load_points",
    "load_dataset": "scaling.datasets:load_dataset",
    "list_datasets": "scaling.datasets:list_datasets",
    "make_curves": "scaling.runs:make_curves",
    "make_points": "scaling.runs:make_points",
    "lr_per_step": "scaling.runs:lr_per_step",
    "curve_arrays": "scaling.runs:curve_arrays",
    "compute_optimal": "scaling.plan:compute_optimal",
    "compute_for_loss": "scaling.plan:compute_for_loss",
    "loss_at": "scaling.plan:loss_at",
    "candidate_schedules": "scaling.plan:candidate_schedules",
    "compare_schedules": "scaling.plan:compare_schedules",
    "best_wsd_decay": "scaling.plan:best_wsd_decay",
    "schedule_curves": "scaling.plan:schedule_curves",
    "band": "scaling.evaluate:band",
    "build_report": "scaling.report:build_report",
    "write_report": "scaling.report:write_report",
    "predict": "scaling.prediction:predict",
    "parse_schedule": "scaling.schedules:parse_schedule",
    "schedule_array": "scaling.schedules:schedule_array",
    "compare_laws": "scaling.compare:compare",
    "lr_sensitivity": "scaling.sensitivity:lr_sensitivity",
}


def __getattr__(name: str) -> Any:
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'scaling' has no attribute {name!r}") from None
    module_name, attr = target.split(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = ["__version__", *_EXPORTS]
