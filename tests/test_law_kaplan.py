"""Kaplan et al. (2020) laws: L(N, D) and the batch-size law L(N, S_min) of Kaplan / Su et al."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling._x64 import float64
from scaling.fitting import Dataset, Group, dataset_from_curves, fit
from scaling.laws import get_law
from scaling.laws.kaplan_batch import critical_batch_size, solve_loss, trajectory

ND_THETA = np.array([np.log(6.4e13), np.log(1.8e13), 0.076, 0.103])
KB_THETA = np.array([np.log(8.8e13), 0.076, np.log(2.1e3), 0.76, np.log(2e8), 0.21])


def test_kaplan_nd_matches_the_hand_computed_formula():
    n, d = np.array([1e9, 1e6]), np.array([1e11, 1e12])
    with float64():
        got = np.asarray(get_law("kaplan-nd")(ND_THETA, {"N": n, "D": d}))
    expected = ((6.4e13 / n) ** (0.076 / 0.103) + 1.8e13 / d) ** 0.103
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    # by hand: (6.4e4^0.737864 + 180)^0.103 = (3518.09 + 180)^0.103 = 2.33078
    assert abs(got[0] - 2.33078) < 1e-5


def test_kaplan_nd_reduces_to_the_single_variable_limits():
    with float64():
        law = get_law("kaplan-nd")
        big_d = float(law(ND_THETA, {"N": np.array([1e8]), "D": np.array([1e30])})[0])
        big_n = float(law(ND_THETA, {"N": np.array([1e30]), "D": np.array([1e10])})[0])
    assert np.isclose(big_d, (6.4e13 / 1e8) ** 0.076, rtol=1e-9)
    assert np.isclose(big_n, (1.8e13 / 1e10) ** 0.103, rtol=1e-9)


def test_kaplan_batch_solves_its_fixed_point():
    steps = np.array([100.0, 1000.0, 30000.0])
    loss = trajectory(KB_THETA, N=1e8, B=2.0**19, steps=steps)
    bcrit = 2e8 / loss ** (1 / 0.21)
    s_min = steps / (1 + bcrit / 2.0**19)
    np.testing.assert_allclose(loss, (8.8e13 / 1e8) ** 0.076 + (2.1e3 / s_min) ** 0.76, rtol=1e-12)


def test_kaplan_batch_large_batch_limit_is_the_plain_step_law():
    loss = trajectory(KB_THETA, N=1e8, B=1e30, steps=[5000])
    assert np.isclose(loss[0], (8.8e13 / 1e8) ** 0.076 + (2.1e3 / 5000) ** 0.76, rtol=1e-12)


def test_kaplan_batch_smaller_batches_need_more_steps():
    small, large = (trajectory(KB_THETA, N=1e8, B=b, steps=[2000])[0] for b in (2.0**15, 2.0**22))
    assert small > large


def test_critical_batch_size_at_a_target_loss():
    with float64():
        got = float(critical_batch_size(KB_THETA, 3.0))
        law = get_law("kaplan-batch", target_loss=3.0)
        derived = float(law.derived(jnp.asarray(KB_THETA))["B_crit_at_target"])
    assert np.isclose(got, 2e8 / 3.0 ** (1 / 0.21), rtol=1e-12) and np.isclose(derived, got)


def test_kaplan_batch_gradient_and_hessian_match_finite_differences():
    # derivatives come from the implicit function theorem, not the solver loop
    with float64():
        def f(t):
            return jnp.sum(solve_loss(t, jnp.array([300.0, 3000.0]), 1e8, 2.0**17))

        t0 = jnp.asarray(KB_THETA)
        grad = jax.jit(jax.grad(f))
        g = np.asarray(grad(t0))
        h = np.asarray(jax.jit(jax.hessian(f))(t0))
        eps = 1e-5
        eye = np.eye(6)
        g_fd = np.array([(f(t0 + eps * eye[i]) - f(t0 - eps * eye[i])) / (2 * eps) for i in range(6)])
        h_fd = np.stack([(grad(t0 + eps * eye[i]) - grad(t0 - eps * eye[i])) / (2 * eps)
                         for i in range(6)])
    np.testing.assert_allclose(g, g_fd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(h, h_fd, rtol=1e-4, atol=1e-6)


def test_curve_dataset_reads_batch_size_from_tokens_per_step():
    import pandas as pd

    steps = np.arange(100, 1100, 100)
    df = pd.DataFrame({"run": "r", "step": steps, "loss": 4.0 - steps / 1e3, "lr": 1e-3,
                       "tokens": steps * 2.0**18, "params": 1e8})
    data = dataset_from_curves(get_law("kaplan-batch"), df)
    assert data[0].inputs["B"] == 2.0**18 and data[0].inputs["N"] == 1e8


@pytest.mark.slow
def test_kaplan_batch_fit_recovers_batch_parameters():
    law = get_law("kaplan-batch")
    rng = np.random.default_rng(0)
    steps = np.arange(250, 5001, 250)
    groups = []
    for n in (1e7, 1e8, 1e9):
        for b in (2.0**15, 2.0**20):
            y = trajectory(KB_THETA, N=n, B=b, steps=steps) * np.exp(rng.normal(0, 0.002, steps.size))
            groups.append(Group(f"{n:g}-{b:g}", {"lr": np.full(5001, 1e-3), "step": steps, "N": np.float64(n),
                                                 "B": np.float64(b)}, y))
    res = fit(law, Dataset(groups, info={"kind": "curves"}), level=0.99)
    for name in ("alpha_S", "log_Bstar", "alpha_B"):
        i = law.param_names.index(name)
        lo, hi = res.intervals[name]
        assert lo <= KB_THETA[i] <= hi, name


def test_predict_gives_a_trajectory_for_any_batch_size():
    from types import SimpleNamespace

    from scaling.prediction import predict

    fake_fit = SimpleNamespace(law_object=lambda: get_law("kaplan-batch"), params=KB_THETA, samples=None,
                               covar=None, residuals=None)
    steps = np.array([500, 2000])
    lr = np.full(2001, 1e-3)
    for b in (2.0**16, 2.0**21):
        pred = predict(fake_fit, lr, steps=steps, N=1e8, B=b, band="parameters")
        np.testing.assert_allclose(pred["loss"], trajectory(KB_THETA, N=1e8, B=b, steps=steps), rtol=1e-12)
