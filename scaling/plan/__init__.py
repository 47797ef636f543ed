"""Planning with fitted laws: compute allocation, over-training, schedule choice.

Pure functions of a fit result and plain numbers, by concern:

- :mod:`scaling.plan.allocation`: compute-optimal N, D and loss, loss at any
  (N, D), iso-FLOP profiles, range checks against the fitted data;
- :mod:`scaling.plan.target_loss`: the cheapest way to a target loss (fixed N, capped N,
  inference counted);
- :mod:`scaling.plan.chinchilla`: the Chinchilla closed forms (one copy);
- :mod:`scaling.plan.schedules`: candidate schedules, ranking with paired
  intervals, WSD decay scan, free-form search;
- :mod:`scaling.plan.verdicts`: what a ranking supports, in words (the
  honest recommendation, the fit's resolution);
- :mod:`scaling.plan.published`: published parameters for comparison.

Every value and band comes from :mod:`scaling.evaluate`.
"""

from scaling.plan.allocation import (compute_optimal, flops_range, isoflop_curves, loss_at,
                                     needs_allocation, optimal_allocation, optimal_tokens, range_warnings)
from scaling.plan.target_loss import compute_for_loss
from scaling.plan.chinchilla import chinchilla_allocation, chinchilla_loss
from scaling.plan.published import HOFFMANN_ROUNDED, PUBLISHED_CHINCHILLA
from scaling.plan.schedules import (best_wsd_decay, candidate_schedules, compare_schedules, curve_losses,
                                    optimal_schedule, schedule_curves)
from scaling.plan.verdicts import decay_scan_note, recommendation, unresolved

__all__ = [
    "HOFFMANN_ROUNDED", "PUBLISHED_CHINCHILLA", "best_wsd_decay", "candidate_schedules", "chinchilla_allocation",
    "chinchilla_loss", "compare_schedules", "compute_for_loss", "compute_optimal", "curve_losses", "decay_scan_note",
    "flops_range", "isoflop_curves", "loss_at", "needs_allocation", "optimal_allocation", "optimal_schedule",
    "optimal_tokens", "range_warnings", "recommendation", "schedule_curves", "unresolved",
]
