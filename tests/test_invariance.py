"""Curve fits do not depend on units: LR x 10 or a constant added to every loss change nothing else.

The starts are derived from the data (scaling.fitting.starts), so the fit of
rescaled data is the rescaled fit; predictions agree to the solver's tolerance.
"""

import numpy as np
import pytest

from scaling.fitting import Dataset, Group, fit
from scaling.laws import get_law


def _lr(kind, total=3000, warmup=100, peak=3e-4):
    s = np.arange(total + 1, dtype=np.float64)
    body = {"constant": np.full_like(s, peak),
            "cosine": 3e-5 + 0.5 * (peak - 3e-5) * (1 + np.cos(np.pi * np.clip((s - warmup) / (total - warmup), 0, 1))),
            "wsd": np.where(s < 0.8 * total, peak, peak * (1 - 0.9 * (s - 0.8 * total) / (0.2 * total)))}[kind]
    return np.where(s <= warmup, peak * s / warmup, body)


def _data(law, theta, *, lr_scale=1.0, shift=0.0, noise=0.0, seed=0, kinds=("constant", "cosine")):
    rng = np.random.default_rng(seed)
    groups = []
    steps = np.arange(200, 3001, 100)
    for kind in kinds:
        lr = _lr(kind)
        y = np.asarray(law(theta, {"lr": lr, "step": steps})) * np.exp(noise * rng.standard_normal(steps.size))
        groups.append(Group(kind, {"lr": lr * lr_scale, "step": steps}, y + shift))
    return Dataset(groups, info={"kind": "curves"})


def _predict(law, result, lr_scale=1.0):
    steps = np.arange(200, 3001, 50)
    return np.asarray(law(np.asarray(result.params), {"lr": _lr("wsd") * lr_scale, "step": steps}))


LR_ANNEALING_TRUTH = np.array([2.5, 0.35, 0.45, 0.6])


def test_lr_annealing_lr_times_10_changes_predictions_below_1e6():
    law = get_law("lr-annealing")
    base = fit(law, _data(law, LR_ANNEALING_TRUTH, noise=2e-3), progress=False)
    scaled = fit(law, _data(law, LR_ANNEALING_TRUTH, noise=2e-3, lr_scale=10.0), progress=False)
    p0, p1 = _predict(law, base), _predict(law, scaled, 10.0)
    assert np.max(np.abs(p1 / p0 - 1)) < 1e-6
    # the parameters transform as the units say: A x 10^alpha, C / 10
    alpha = base.param("alpha")
    assert scaled.param("A") == pytest.approx(base.param("A") * 10**alpha, rel=1e-5)
    assert scaled.param("C") == pytest.approx(base.param("C") / 10, rel=1e-5)


def test_lr_annealing_constant_added_to_losses_shifts_only_L0():
    law = get_law("lr-annealing")
    base = fit(law, _data(law, LR_ANNEALING_TRUTH), progress=False)
    shifted = fit(law, _data(law, LR_ANNEALING_TRUTH, shift=0.7), progress=False)
    p0, p1 = _predict(law, base), _predict(law, shifted)
    assert np.max(np.abs((p1 - 0.7) / p0 - 1)) < 1e-6
    assert shifted.param("L0") == pytest.approx(base.param("L0") + 0.7, rel=1e-6)
    np.testing.assert_allclose(shifted.params[1:], base.params[1:], rtol=1e-5)


@pytest.mark.slow
def test_lr_annealing_lr_times_10_with_fitted_momentum():
    law = get_law("lr-annealing", lam="fit")
    truth = np.r_[LR_ANNEALING_TRUTH, 0.995]
    base = fit(law, _data(law, truth, noise=2e-3, kinds=("constant", "cosine", "wsd")), progress=False)
    scaled = fit(law, _data(law, truth, noise=2e-3, lr_scale=10.0, kinds=("constant", "cosine", "wsd")),
                 progress=False)
    assert np.max(np.abs(_predict(law, scaled, 10.0) / _predict(law, base) - 1)) < 1e-6
