"""Noisy per-step training loss: window means, blocks sized from the autocorrelation, a band that follows the noise."""

import numpy as np
import pandas as pd
import pytest

from scaling.fitting import dataset_from_curves, fit
from scaling.fitting.bootstrap import block_length
from scaling.fitting.selection import aggregate_points, aggregation_window
from scaling.laws import get_law

from .test_invariance import LR_ANNEALING_TRUTH, _lr

LAW = get_law("lr-annealing")


def test_window_means_sit_at_the_mean_step():
    steps, loss = aggregate_points(np.arange(1, 11), np.arange(1.0, 11.0), 4)
    assert steps.tolist() == [2, 6, 10]  # 2.5 rounds to even, 6.5 -> 6, last partial window [9, 10] -> 9.5 -> 10
    np.testing.assert_allclose(loss, [2.5, 6.5, 9.5])
    assert aggregation_window(3000, "auto") == 12 and aggregation_window(400, "auto") == 1


def test_block_length_follows_the_autocorrelation():
    rng = np.random.default_rng(0)
    white = rng.standard_normal(2000)
    ar = np.zeros(2000)
    for i in range(1, 2000):
        ar[i] = 0.9 * ar[i - 1] + rng.standard_normal()
    assert block_length(white) <= 3
    assert 25 <= block_length(ar) <= 60  # tau = (1 + 0.9) / (1 - 0.9) = 19
    assert block_length(None, 100) == 10
    assert block_length(np.linspace(-1, 1, 40)) == 10  # a smooth misfit: n // 4


def _per_step_table(noise, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for kind in ("constant", "cosine"):
        lr = _lr(kind)
        steps = np.arange(lr.size)
        y = np.asarray(LAW(LR_ANNEALING_TRUTH, {"lr": lr, "step": steps}))
        rows.append(pd.DataFrame({"run": kind, "step": steps, "lr": lr,
                                  "loss": y * np.exp(noise * rng.standard_normal(steps.size))}))
    return pd.concat(rows, ignore_index=True)


def test_aggregated_fit_of_per_step_loss_recovers_the_truth_and_records_the_window():
    ds = dataset_from_curves(LAW, _per_step_table(0.01), aggregate="auto")
    assert ds.info["aggregate"]["window"] == {"constant": 12, "cosine": 12}
    result = fit(LAW, ds, progress=False)
    assert result.data_info["aggregate"]["window"]["cosine"] == 12
    steps = np.arange(200, 3001, 50)
    truth = np.asarray(LAW(LR_ANNEALING_TRUTH, {"lr": _lr("wsd"), "step": steps}))
    pred = np.asarray(LAW(np.asarray(result.params), {"lr": _lr("wsd"), "step": steps}))
    assert np.max(np.abs(pred / truth - 1)) < 4e-3


@pytest.mark.slow
def test_bootstrap_band_widens_with_the_noise():
    widths = []
    for noise in (0.002, 0.01):
        ds = dataset_from_curves(LAW, _per_step_table(noise, seed=1), aggregate=10)
        result = fit(LAW, ds, progress=False, bootstrap=60, seed=0)
        lo, hi = result.intervals["L0"]
        widths.append(hi - lo)
    assert 2.5 < widths[1] / widths[0] < 10


def test_a_very_long_log_is_averaged_by_default_and_the_fit_says_so():
    import pandas as pd

    from scaling.fitting import dataset_from_curves
    from scaling.fitting.selection import LARGE_RUN_POINTS
    from scaling.laws import get_law

    law = get_law("lr-annealing")
    T = 3 * LARGE_RUN_POINTS
    step = np.arange(1, T + 1)
    lr = np.full(T, 3e-4)
    loss = 2.5 + 0.6 * np.cumsum(lr) ** -0.45
    table = pd.DataFrame({"run": "long", "step": step, "loss": loss, "lr": lr})
    ds = dataset_from_curves(law, table)
    assert ds.n_points < 1000 and ds.info["aggregate"]["window"]["long"] > 1
    every = dataset_from_curves(law, table, aggregate=1)
    assert every.n_points > LARGE_RUN_POINTS
    short = dataset_from_curves(law, table[table["step"] <= LARGE_RUN_POINTS // 2])
    assert "aggregate" not in short.info


def test_calibrated_band_follows_the_noise_of_the_window_means():
    # two per-step runs (the law true) averaged in windows of 12, calibrated on one-run refits and time splits:
    # the held-out sigma is the noise of a window mean, noise / sqrt(12) (white noise), and scales with the noise
    sigmas = []
    for noise in (0.002, 0.01):
        result = fit(LAW, dataset_from_curves(LAW, _per_step_table(noise, seed=2), aggregate=12), progress=False)
        assert result.calibration["method"] == "leave-one-schedule-out+split-run"
        sigmas.append(result.calibration["sigma_log"])
    for noise, sigma in zip((0.002, 0.01), sigmas):
        assert 0.7 < sigma / (noise / np.sqrt(12)) < 1.6, (noise, sigma)
