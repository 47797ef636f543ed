"""Laplace (smoothed sandwich) and profile-likelihood intervals."""

import numpy as np
import pytest

from scaling.fitting import dataset_from_points, fit
from scaling.fitting.intervals import derived_intervals, laplace_intervals, smoothed_curvature
from scaling.fitting.objective import resolve_objective
from scaling.laws import get_law

from ._fit_data import CHINCHILLA_TRUE, chinchilla_points


def test_smoothed_curvature_is_one_for_least_squares_and_a_smoothed_indicator_for_huber():
    r = np.random.default_rng(0).normal(0.0, 0.01, 400)
    assert np.all(smoothed_curvature(r, resolve_objective("lsq-log")) == 1.0)
    curv = smoothed_curvature(r, resolve_objective("huber-log", 1e-3))
    assert np.all((curv >= 0) & (curv <= 1))
    # its mean estimates P(|eps| <= delta) = 2 * 0.1 * phi(0) ~ 0.0797 for N(0, 0.01^2)
    assert curv.mean() == pytest.approx(0.0797, abs=0.012)
    # the raw indicator counts a handful of points; the smoothed one is never all zero
    outside = np.array([-0.03, -0.02, -0.012, 0.011, 0.02, 0.035])  # none within delta of zero
    assert np.sum(np.abs(outside) <= 1e-3) == 0
    assert smoothed_curvature(outside, resolve_objective("huber-log")).sum() > 0.01


@pytest.fixture(scope="module")
def chinchilla_ds():
    return dataset_from_points("chinchilla", chinchilla_points(seed=21, noise=0.01))


def test_laplace_errors_do_not_jump_with_the_number_of_points_inside_delta(chinchilla_ds):
    # moving delta a little changes which residuals sit in the quadratic zone;
    # the smoothed bread changes smoothly with it
    se = [fit("chinchilla", chinchilla_ds, delta=d).stderr for d in (1e-3, 1.3e-3)]
    np.testing.assert_allclose(se[0], se[1], rtol=0.3)
    assert np.all(np.isfinite(se[0])) and np.all(se[0] > 0)


def test_profile_intervals_bracket_the_fit_and_cover_the_truth(chinchilla_ds):
    res = fit("chinchilla", chinchilla_ds, intervals="profile")
    lap = fit("chinchilla", chinchilla_ds, intervals="laplace")
    assert res.data_info["intervals"] == "profile"
    for i, name in enumerate(res.param_names):
        lo, hi = res.intervals[name]
        assert lo < res.params[i] < hi
        assert lo <= CHINCHILLA_TRUE[i] <= hi, name
        # same scale as the Laplace interval (both from the same dispersion), not equal
        width, lap_width = hi - lo, np.subtract(*lap.intervals[name][::-1])
        assert 0.5 < width / lap_width < 2.0, name
    assert "profile-likelihood intervals" in res.report()


def test_profile_interval_of_a_linear_least_squares_parameter_is_the_t_interval():
    # power law with E fixed at 0 is linear in (log A, alpha) on log loss: the
    # profile F-test interval is the classical t interval sigma^2 (X^T X)^-1
    from scipy.stats import t as student

    law = get_law("power-law", x="N", fixed_E0=True)
    rng = np.random.default_rng(4)
    n = np.geomspace(1e7, 1e10, 15)
    y = 400.0 * n**-0.3 * np.exp(rng.normal(0, 0.02, n.size))
    import pandas as pd

    res = fit(law, dataset_from_points(law, pd.DataFrame({"N": n, "loss": y})), objective="lsq-log",
              intervals="profile", level=0.9)
    X = np.column_stack([np.ones_like(n), -np.log(n)])
    beta, rss = np.linalg.lstsq(X, np.log(y), rcond=None)[:2]
    s2 = rss[0] / (n.size - 2)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    t = student.ppf(0.95, n.size - 2)
    for i, name in enumerate(res.param_names):
        np.testing.assert_allclose(res.intervals[name], (beta[i] - t * se[i], beta[i] + t * se[i]), rtol=1e-3)


def _derived_toy(t):
    # exp of one parameter, a non-monotone function of one parameter, and one of two parameters
    return {"C": np.exp(t[..., 0]), "sq": t[..., 0] ** 2, "ratio": t[..., 0] / t[..., 1]}


def _jacobian_toy(t, names):
    full = {"C": [np.exp(t[0]), 0.0], "sq": [2 * t[0], 0.0], "ratio": [1 / t[1], -t[0] / t[1] ** 2]}
    return np.array([full[k] for k in names])


def test_derived_interval_of_a_monotone_one_parameter_quantity_is_the_mapped_parameter_interval():
    theta = np.array([0.2, 2.0])
    cov = np.diag([1.0, 0.01])
    z = 1.645
    params = {"logC": (0.2 - 3.0, 0.2 + 3.0), "b": (1.8, 2.2)}  # e.g. a wide, asymmetric profile interval
    out = derived_intervals({k: float(v) for k, v in _derived_toy(theta).items()}, theta, params, cov, z,
                            values=_derived_toy, jacobian=_jacobian_toy)
    # exp maps the interval exactly and stays positive (the delta method gave exp(0.2) -+ 1.645 exp(0.2) < 0)
    np.testing.assert_allclose(out["C"], (np.exp(-2.8), np.exp(3.2)), rtol=1e-12)
    # t^2 is not monotone on [-2.8, 3.2]: delta method, symmetric about the value
    sd = 2 * 0.2 * 1.0
    np.testing.assert_allclose(out["sq"], (0.04 - z * sd, 0.04 + z * sd), rtol=1e-12)
    # two parameters: delta method
    J = np.array([0.5, -0.05])
    sd = np.sqrt(J @ cov @ J)
    np.testing.assert_allclose(out["ratio"], (0.1 - z * sd, 0.1 + z * sd), rtol=1e-12)


def test_fit_maps_log_coefficient_intervals_to_positive_natural_ones(chinchilla_ds):
    res = fit("chinchilla", chinchilla_ds, intervals="profile")
    for log_name, name in (("a", "A"), ("b", "B"), ("e", "E")):
        lo, hi = res.intervals[log_name]
        np.testing.assert_allclose(res.derived_intervals[name], (np.exp(lo), np.exp(hi)), rtol=1e-12)
    for name in ("alpha", "beta"):  # identity: the parameter's own (profile) interval
        np.testing.assert_allclose(res.derived_intervals[name], res.intervals[name], rtol=1e-12)


def test_laplace_intervals_stay_inside_the_laws_box():
    theta = np.array([0.9, 0.2, 5.0])
    cov = np.diag([3.0, 0.3, 1.0]) ** 2
    out = laplace_intervals(("L0", "alpha", "x"), theta, cov, 2.0, ((0.0, 20.0), (0.0, 3.0), (-np.inf, np.inf)))
    assert out["L0"] == (0.0, 0.9 + 6.0)  # 0.9 - 6 would be a negative loss floor
    assert out["alpha"] == (0.0, pytest.approx(0.8))
    assert out["x"] == (3.0, 7.0)  # unbounded: the plain normal interval
