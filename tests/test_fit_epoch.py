"""Against published numbers: Besiroglu et al. 2024 on Epoch's Chinchilla points (skips without ../shared)."""

import numpy as np
import pytest

from scaling.fitting import dataset_from_points, fit

from ._fit_data import EPOCH_CSV, epoch_points

pytestmark = pytest.mark.skipif(not EPOCH_CSV.exists(), reason="../shared chinchilla-epoch data not available")


@pytest.fixture(scope="module")
def epoch_fit():
    return fit("chinchilla", dataset_from_points("chinchilla", epoch_points()), bootstrap=500, seed=42, level=0.95)


@pytest.mark.slow
def test_default_fit_reproduces_hoffmann_recipe_replication(epoch_fit):
    # default strategy: VarPro starts + Newton; test_fit_varpro checks it
    # against the exhaustive 4,500-start optimum
    d = epoch_fit.derived
    assert d["A"] == pytest.approx(477.84, rel=1e-3)
    assert d["B"] == pytest.approx(2143.86, rel=1e-3)
    assert d["E"] == pytest.approx(1.8172, rel=1e-3)
    assert d["alpha"] == pytest.approx(0.3473, rel=1e-3)
    assert d["beta"] == pytest.approx(0.3672, rel=1e-3)
    assert epoch_fit.objective == pytest.approx(0.00101827, rel=1e-5)
    assert epoch_fit.n_points == 240 and epoch_fit.data_info["strategy"] == "varpro"


@pytest.mark.slow
def test_bootstrap_intervals_close_to_epochs(epoch_fit):
    # Epoch: 4,000 resamples; here 500, so allow for Monte Carlo error in the tails
    expected = {"E": (1.769, 1.871, 0.012), "alpha": (0.317, 0.373, 0.008), "beta": (0.331, 0.415, 0.012),
                "A": (285.0, 744.0, 0.15), "B": (1042.0, 5810.0, 0.25)}
    for name, (lo, hi, tol) in expected.items():
        got_lo, got_hi = epoch_fit.derived_intervals[name]
        if name in ("A", "B"):  # relative tolerance for the log-normal-ish coefficients
            assert got_lo == pytest.approx(lo, rel=tol) and got_hi == pytest.approx(hi, rel=tol), name
        else:
            assert got_lo == pytest.approx(lo, abs=tol) and got_hi == pytest.approx(hi, abs=tol), name


@pytest.mark.slow
def test_allocation_exponent_and_its_sd(epoch_fit):
    a = epoch_fit.derived_samples["a_N"]
    assert epoch_fit.derived["a_N"] == pytest.approx(0.513, abs=0.002)
    assert np.nanstd(a, ddof=1) == pytest.approx(0.020, abs=0.003)
