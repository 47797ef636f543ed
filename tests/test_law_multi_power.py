"""The multi-power law: formula against a direct double sum, options, published numbers."""

from pathlib import Path

import numpy as np
import pytest

from scaling._x64 import float64
from scaling.errors import ScalingError
from scaling.laws import get_law

# ../shared next to the checkout (also found from a worktree such as /work/wt/<name>)


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
    import importlib.util  # the benchmark reads the curves shipped in scaling/datasets

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


def _long():
    from scaling import schedules as sch

    return sch.schedule_array(sch.warmup(sch.wsd(3e-4, 7600, decay_steps=1600, final=3e-5, shape="exp"), 400), 8000)


def test_law_on_a_long_schedule_is_within_the_ld_bound_of_the_direct_sum():
    # loss error <= B * 1e-6 * (total LR variation) (scaling.areas.multi_power_ld)
    lr, steps = _long(), np.arange(100, 8001, 100)
    with float64():
        got = np.asarray(get_law("multi-power")(THETA, {"lr": lr, "step": steps}))
    tv = np.cumsum(np.abs(np.r_[0.0, np.diff(lr)]))[steps]
    assert np.all(np.abs(got - _direct(THETA, lr, steps)) <= np.exp(THETA[3]) * 1e-6 * tv)


@pytest.mark.slow
def test_batched_exact_hessian_matches_the_direct_sum():
    # the fitter's path: vmap over parameter vectors of jacfwd(grad) of a summed log-loss
    import jax
    import jax.numpy as jnp

    from scaling.areas import forward_area, multi_power_ld_direct

    lr, steps = _long(), np.arange(100, 8001, 100)
    y = np.log(_direct(THETA, lr, steps)) + 1e-3 * np.sin(steps)
    law = get_law("multi-power")

    def direct(theta, inputs):
        ld = multi_power_ld_direct(inputs["lr"], inputs["step"], jnp.exp(theta[4]), theta[5], theta[6])
        return theta[0] + theta[1] * forward_area(inputs["lr"])[inputs["step"]] ** -theta[2] - jnp.exp(theta[3]) * ld

    def objective(fn):
        return lambda th: jnp.sum((jnp.log(fn(th, {"lr": jnp.asarray(lr), "step": jnp.asarray(steps)})) - y) ** 2)

    thetas = np.stack([THETA, THETA + 0.01])
    with float64():
        fast = np.asarray(jax.jit(jax.vmap(jax.jacfwd(jax.grad(objective(law.fn)))))(thetas))
        ref = np.asarray(jax.vmap(jax.jacfwd(jax.grad(objective(direct))))(thetas))
    np.testing.assert_allclose(fast, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())
