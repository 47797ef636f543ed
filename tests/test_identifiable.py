"""Which parameters the LR schedules of a set of curves can determine (scaling.fitting.identifiable)."""

import numpy as np

from scaling.fitting import Dataset, Group
from scaling.fitting.identifiable import (ANNEALING_PARAMS, SIZE_PARAMS, blind_params, blind_subsets, blind_why,
                                          design_unidentifiable, seen_by)
from scaling.laws import LAWS, get_law

STEPS = np.arange(100, 2001, 100)


def _lr(kind: str, total: int = 2000, warmup: int = 50, peak: float = 1e-3) -> np.ndarray:
    s = np.arange(total + 1, dtype=np.float64)
    body = np.full_like(s, peak) if kind == "constant" else peak * (0.1 + 0.45 * (1 + np.cos(np.pi * s / total)))
    return np.where(s <= warmup, peak * np.maximum(s, 1) / warmup, body)


def _curves(kinds, extra=None):
    groups = [Group(f"{k}_{i}", {"lr": _lr(k), "step": STEPS, **(extra or {}).get(i, {})}, np.full(STEPS.size, 3.0))
              for i, k in enumerate(kinds)]
    return Dataset(groups, info={"kind": "curves"})


def test_every_listed_law_exists_and_has_the_listed_parameters():
    # a key that is not a registered law's name (once "lr-annealing-size" for lr-annealing-n) silently
    # switches the rule off for that law
    for name, params in ANNEALING_PARAMS.items():
        assert name in LAWS, name
        law = get_law(name)
        assert law.kind == "curve" and set(params) & set(law.param_names), name


def test_constant_runs_at_two_sizes_cannot_determine_the_size_laws_annealing_terms():
    law = get_law("lr-annealing-n")
    sizes = {0: {"N": np.float64(1e8)}, 1: {"N": np.float64(4e8)}}
    assert design_unidentifiable(law, _curves(("constant", "constant"), sizes)) == ("C", "gamma")
    assert design_unidentifiable(law, _curves(("constant", "cosine"), sizes)) == ()


def test_a_subset_without_a_point_after_a_decrease_is_blind():
    law = get_law("lr-annealing")
    seen = seen_by(law, _curves(("constant", "cosine")))
    assert not seen.decay[:STEPS.size].any() and seen.decay[STEPS.size:].all()
    constant_only = np.r_[np.ones(STEPS.size), np.zeros(STEPS.size)]
    resampled = np.r_[np.zeros(STEPS.size), np.full(STEPS.size, 2)]  # counts: > 0 is fitted
    np.testing.assert_array_equal(blind_subsets(seen, np.stack([constant_only, resampled])), [True, False])
    assert blind_params(law, seen, constant_only) == ("C",) and "LR decrease" in blind_why(seen, constant_only)
    # where no point sees a decrease, the full fit cannot determine the terms either: nothing is blind
    assert not blind_subsets(seen_by(law, _curves(("constant", "constant"))), np.ones((1, 2 * STEPS.size))).any()


def test_a_subset_of_one_model_size_is_blind_to_the_size_terms():
    law = get_law("lr-annealing-n")
    sizes = {0: {"N": np.float64(1e8)}, 1: {"N": np.float64(1e8)}, 2: {"N": np.float64(4e8)}}
    seen = seen_by(law, _curves(("cosine", "cosine", "cosine"), sizes))
    runs = np.repeat(np.arange(3), STEPS.size)
    one_size, both = runs != 2, runs != 1
    assert blind_params(law, seen, one_size) == SIZE_PARAMS["lr-annealing-n"]["N"]
    assert blind_why(seen, one_size) == "its fitted runs have one value of N"
    np.testing.assert_array_equal(blind_subsets(seen, np.stack([one_size, both])), [True, False])
    # one size in the whole data: the fit cannot determine the size terms either, and no subset is blind
    same = seen_by(law, _curves(("cosine", "cosine"), {0: {"N": 1e8}, 1: {"N": 1e8}}))
    assert blind_params(law, same, np.r_[np.ones(STEPS.size), np.zeros(STEPS.size)] > 0) == ()
