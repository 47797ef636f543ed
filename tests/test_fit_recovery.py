"""Parameter recovery on synthetic data, multistart bookkeeping, reproducibility."""

import numpy as np
import pytest

from scaling.fitting import dataset_from_points, fit
from scaling.fitting.fitter import VARPRO_STARTS
from scaling.laws import get_law

from ._fit_data import CHINCHILLA_TRUE, chinchilla_points, power_law_points


@pytest.fixture(scope="module")
def chinchilla_fit():
    ds = dataset_from_points("chinchilla", chinchilla_points(seed=11, noise=0.005))
    return fit("chinchilla", ds, bootstrap=200, seed=1, level=0.95)


def test_chinchilla_parameters_recovered_within_bootstrap_intervals(chinchilla_fit):
    for name, true in zip(chinchilla_fit.param_names, CHINCHILLA_TRUE):
        lo, hi = chinchilla_fit.intervals[name]
        assert lo <= true <= hi, (name, true, lo, hi)


def test_chinchilla_default_is_varpro_and_reports_starts_at_best(chinchilla_fit):
    assert chinchilla_fit.data_info["strategy"] == "varpro"
    assert chinchilla_fit.n_starts == VARPRO_STARTS
    assert 1 <= chinchilla_fit.n_starts_at_best <= VARPRO_STARTS
    assert chinchilla_fit.success


def test_derived_samples_follow_parameter_samples(chinchilla_fit):
    alpha = chinchilla_fit.samples[:, 3]
    beta = chinchilla_fit.samples[:, 4]
    np.testing.assert_allclose(chinchilla_fit.derived_samples["a_N"], beta / (alpha + beta), rtol=1e-12)


def test_staged_and_direct_strategies_reach_the_same_optimum():
    law = get_law("power-law", x="N")
    ds = dataset_from_points(law, power_law_points(seed=4))
    staged = fit(law, ds, strategy="staged")
    direct = fit(law, ds, strategy="direct")
    assert staged.objective == pytest.approx(direct.objective, rel=1e-9)
    np.testing.assert_allclose(staged.params, direct.params, rtol=1e-5)


def test_power_law_recovered_with_exact_data():
    law = get_law("power-law", x="N")
    df = power_law_points(noise=0.0)
    res = fit(law, dataset_from_points(law, df))
    np.testing.assert_allclose(res.params, [np.log(400.0), 0.34, np.log(1.8)], rtol=1e-6)
    assert res.objective < 1e-18


def test_same_seed_gives_identical_bootstrap():
    law = get_law("power-law", x="N")
    ds = dataset_from_points(law, power_law_points())
    a = fit(law, ds, bootstrap=20, seed=3)
    b = fit(law, ds, bootstrap=20, seed=3)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_custom_starts_are_used():
    law = get_law("power-law", x="N")
    ds = dataset_from_points(law, power_law_points())
    res = fit(law, ds, starts=np.array([[5.0, 0.3, 0.5], [7.0, 0.5, 0.0]]))
    assert res.n_starts == 2
