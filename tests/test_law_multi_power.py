"""The multi-power law: formula against a direct double sum, options, published numbers."""

from pathlib import Path

import numpy as np
import pytest

from scaling._x64 import float64
from scaling.errors import ScalingError
from scaling.laws import get_law

SHARED = Path(__file__).resolve().parents[2] / "shared"
MPL_DATA = SHARED / "data" / "external" / "multipowerlaw-luo2025" / "loss_curve_repo"


def _direct(theta, lr, steps, start=1):
    L0, A, alpha, logB, logC, beta, gamma = theta
    B, C = np.exp(logB), np.exp(logC)
    cs = np.cumsum(lr)
    out = []
    for t in steps:
        ld = sum((lr[k - 1] - lr[k]) * (1 - (C * lr[k] ** -gamma * (cs[t] - cs[k - 1]) + 1) ** -beta)
                 for k in range(start, t + 1))
        out.append(L0 + A * cs[t] ** -alpha - B * ld)
    return np.array(out)


THETA = np.array([2.37, 0.65, 0.43, np.log(523.0), np.log(2.0), 0.59, 0.63])


def _short():
    return np.r_[np.linspace(0, 3e-4, 30), np.full(40, 3e-4), np.linspace(3e-4, 3e-5, 50), np.full(21, 9e-5)]


def test_law_equals_direct_double_sum_on_a_short_schedule():
    lr, steps = _short(), np.array([10, 29, 60, 90, 119, 140])
    with float64():
        got = np.asarray(get_law("multi-power")(THETA, {"lr": lr, "step": steps}))
    np.testing.assert_allclose(got, _direct(THETA, lr, steps), rtol=1e-12)


def test_skip_warmup_drops_the_warmup_terms():
    lr, steps = _short(), np.array([60, 90, 140])
    with float64():
        got = np.asarray(get_law("multi-power", warmup="skip")(THETA, {"lr": lr, "step": steps}))
    np.testing.assert_allclose(got, _direct(THETA, lr, steps, start=30), rtol=1e-12)


def test_derived_gives_B_and_C_in_natural_units():
    d = get_law("multi-power").derived(THETA)
    assert float(d["B"]) == pytest.approx(523.0) and float(d["C"]) == pytest.approx(2.0)


def test_bad_warmup_option_is_a_scaling_error():
    with pytest.raises(ScalingError):
        get_law("multi-power", warmup="nope")


def test_published_parameters_reproduce_the_repo_metrics_at_400m():
    if not MPL_DATA.is_dir():
        pytest.skip("../shared multipowerlaw data not present")
    import importlib.util

    spec = importlib.util.spec_from_file_location("mplbench", Path(__file__).resolve().parents[1] / "benchmarks" / "multipowerlaw.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from scaling.prediction import curve_metrics

    theta = np.array([2.37474466, 0.65421216, 0.42878731, np.log(523.42464371), np.log(2.02462735),
                      0.59350493, 0.63472457])
    law = get_law("multi-power")
    rows = []
    with float64():
        for name in bench.TEST:
            lr, step, loss = bench.read_curve("400", name)
            rows.append(curve_metrics(loss, np.asarray(law(theta, {"lr": lr, "step": step}))))
    # repo README, 400M test-set means: R2 0.9978, PredE 0.00168, WorstE 0.00995
    assert np.mean([r["R2"] for r in rows]) == pytest.approx(0.9978, abs=5e-5)
    assert np.mean([r["PredE"] for r in rows]) == pytest.approx(0.00168, abs=5e-6)
    assert np.mean([r["WorstE"] for r in rows]) == pytest.approx(0.00995, abs=5e-6)
