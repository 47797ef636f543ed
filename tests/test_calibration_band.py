"""The predictive band is calibrated on held-out folds of the fit's own runs (known truth, known noise)."""

import numpy as np
import pytest
from scipy.stats import norm

from scaling.fitting import Dataset, Group, fit
from scaling.fitting.calibration import predictive_sigma, sigma_from_residuals
from scaling.laws import get_law

from .test_invariance import LR_ANNEALING_TRUTH, _lr

LAW = get_law("lr-annealing")
NOISE = 3e-3
STEPS = np.arange(200, 3001, 25)


def _runs(kinds, seed):
    rng = np.random.default_rng(seed)
    out = []
    for kind in kinds:
        lr = _lr(kind)
        y = np.asarray(LAW(LR_ANNEALING_TRUTH, {"lr": lr, "step": STEPS}))
        out.append(Group(kind, {"lr": lr, "step": STEPS}, y * np.exp(NOISE * rng.standard_normal(STEPS.size))))
    return out


@pytest.fixture(scope="module")
def three_runs():
    return fit(LAW, Dataset(_runs(("constant", "cosine", "wsd"), 0), info={"kind": "curves"}), progress=False)


def test_sigma_is_the_level_quantile_over_z():
    r = np.r_[np.full(95, 0.01), np.full(5, 0.05)]
    assert sigma_from_residuals(r, 0.9) == pytest.approx(0.01 / norm.ppf(0.95))


def test_leave_one_schedule_out_recovers_the_noise_level(three_runs):
    cal = three_runs.calibration
    assert cal["method"].startswith("leave-one-schedule-out")
    assert [f["held_out"] for f in cal["folds"]][:3] == ["constant", "cosine", "wsd"]
    # with the law true, held-out errors are the noise plus a little parameter error
    assert NOISE * 0.85 < cal["sigma_log"] < NOISE * 1.5


def test_calibrated_band_covers_about_its_level_on_new_noisy_runs(three_runs):
    z = norm.ppf(0.95)
    inside = []
    for seed in (11, 12, 13):
        for g in _runs(("constant", "cosine", "wsd"), seed):
            yhat = np.asarray(LAW(np.asarray(three_runs.params), g.inputs))
            s = predictive_sigma(three_runs, g.inputs["step"], g.inputs["lr"])
            inside.append(np.abs(np.log(g.loss / yhat)) <= z * s)
    assert 0.8 <= np.mean(np.concatenate(inside)) <= 0.97


def test_one_run_is_calibrated_on_a_split_of_the_run():
    one = fit(LAW, Dataset(_runs(("cosine",), 5), info={"kind": "curves"}), progress=False)
    cal = one.calibration
    assert cal["method"] == "split-run" and len(cal["folds"]) == 2
    assert all(f["kind"] == "time" for f in cal["folds"])
    assert cal["sigma_log"] > 0.5 * NOISE


def test_predictive_sigma_is_flat_inside_the_fitted_area_and_grows_beyond(three_runs):
    cal = dict(three_runs.calibration)
    import dataclasses

    grown = dataclasses.replace(three_runs, calibration={**cal, "growth_per_log_area": 2.0})
    lr = _lr("constant", total=9000)
    s = predictive_sigma(grown, np.array([1000, 3000, 9000]), lr)
    assert s[0] == pytest.approx(cal["sigma_log_in_range"])
    assert s[2] == pytest.approx(cal["sigma_log_in_range"] * (1 + 2.0 * np.log(np.cumsum(lr)[9000] / np.cumsum(lr)[3000])),
                                 rel=1e-9)
    uncal = dataclasses.replace(three_runs, calibration={})
    assert np.isnan(predictive_sigma(uncal, np.array([5]), lr)).all()


def test_two_runs_leave_out_the_run_the_other_can_predict_and_split_both():
    # leaving the constant run out refits the cosine alone (it determines every term); leaving the cosine out
    # would refit the constant alone, which cannot determine C (it would keep the full fit's): skipped
    two = fit(LAW, Dataset(_runs(("constant", "cosine"), 7), info={"kind": "curves"}), progress=False)
    cal = two.calibration
    assert cal["method"] == "leave-one-schedule-out+split-run"
    assert [(f["held_out"], f["kind"], bool(f.get("skipped"))) for f in cal["folds"]] == [
        ("constant", "schedule", False), ("cosine", "schedule", True),
        ("every run after 50% of its steps", "time", False), ("every run after 75% of its steps", "time", False)]
    assert cal["folds"][1]["unseen"] == ["C"]
    assert cal["folds"][0]["n_points"] == STEPS.size
    # the law true: the one-run refit predicts the constant run to about the noise
    assert NOISE * 0.7 < cal["sigma_log"] < NOISE * 2.0
    codes = [d["code"] for d in two.diagnostics]
    assert "band_one_run_refits" in codes and "calibration_folds_skipped" in codes
    assert "band_not_calibrated" not in codes


def test_each_fold_records_whether_its_refit_converged(three_runs):
    folds = three_runs.calibration["folds"]
    # lr-annealing with the law true: every refit from the full optimum converges in a few Newton steps
    assert all(f["refit_converged"] for f in folds)
    assert all(0 < f["refit_iterations"] < 50 for f in folds)


def test_fold_refits_from_the_full_optimum_reach_the_folds_own_optimum(three_runs):
    # the refits start at the full fit's optimum (no new compile): they must not stay near it, biased towards the
    # held-out points; refits from each fold's own data-derived starts find no lower objective
    from scaling.fitting.calibration import _folds
    from scaling.fitting.objective import expand_weights, pack
    from scaling.fitting.solver import solve_batch
    from scaling.fitting.starts import default_starts

    data = Dataset(_runs(("constant", "cosine", "wsd"), 0), info={"kind": "curves"})
    packed, index, n_padded = pack(data, LAW.kind)
    folds = _folds(data)
    sizes = np.cumsum([0] + data.sizes())
    for (label, _, mask), rec in zip(folds, three_runs.calibration["folds"]):
        kept = [Group(g.name, {**g.inputs, "step": g.inputs["step"][~mask[a:b]]}, g.loss[~mask[a:b]])
                for g, a, b in zip(data, sizes[:-1], sizes[1:]) if (~mask[a:b]).any()]
        starts = default_starts(LAW, Dataset(kept, info={"kind": "curves"}))[:4]
        w = expand_weights(np.tile((~mask).astype(np.float64), (len(starts), 1)), index, n_padded)
        own = solve_batch(LAW, packed, starts, weights=w)
        assert rec["held_out"] == label
        assert rec["refit_objective"] <= np.nanmin(own.f) * (1 + 1e-9)
        assert rec["refit_objective"] > 0


@pytest.mark.parametrize("objective", ["lsq-log", "lsq-raw"])
def test_fold_refits_minimise_the_fits_own_objective(objective):
    # a least-squares fit has no Huber delta (data_info["delta"] is None): calibration once failed on it, and
    # refitted the folds with Huber on log loss whatever the fit's objective
    from scaling.fitting.calibration import _folds
    from scaling.fitting.objective import expand_weights, pack, resolve_objective
    from scaling.fitting.solver import solve_batch

    data = Dataset(_runs(("constant", "cosine", "wsd"), 0), info={"kind": "curves"})
    result = fit(LAW, data, objective=objective, progress=False)
    assert not [d for d in result.diagnostics if d["code"] == "band_not_calibrated"]
    cal = result.calibration
    assert cal["method"].startswith("leave-one-schedule-out") and np.isfinite(cal["sigma_log"])
    obj = resolve_objective(objective)
    packed, index, n_padded = pack(data, LAW.kind)
    masks = np.stack([m for _, _, m in _folds(data)])
    w = expand_weights((~masks).astype(np.float64), index, n_padded)
    own = solve_batch(LAW, packed, np.tile(result.params, (len(masks), 1)), weights=w, delta=obj.threshold,
                      space=obj.space)
    np.testing.assert_allclose([f["refit_objective"] for f in cal["folds"]], own.f, rtol=1e-9)


def test_calibration_records_how_far_beyond_the_fitted_area_it_held_out(three_runs):
    cal = three_runs.calibration
    # the time split fits every run up to half its steps: the constant run's area there is the largest fitted,
    # and its last point (twice the area) the largest held out
    lr = _lr("constant")
    half = STEPS[STEPS <= STEPS.min() + 0.5 * (STEPS.max() - STEPS.min())].max()
    assert cal["area_ratio_max"] == pytest.approx(np.cumsum(lr)[STEPS.max()] / np.cumsum(lr)[half], rel=1e-12)
    assert cal["area_ratio_max"] > 1.5


def test_calibrate_called_on_its_own_runs_in_float64(three_runs):
    import warnings

    import jax

    from scaling.fitting.calibration import calibrate

    data = Dataset(_runs(("constant", "cosine", "wsd"), 0), info={"kind": "curves"})
    assert not jax.config.read("jax_enable_x64")  # the caller's JAX default is float32
    with warnings.catch_warnings():
        # JAX warns when float64 is requested but truncated to float32: the refits must not run in float32
        warnings.simplefilter("error", UserWarning)
        cal = calibrate(three_runs, LAW, data)
    assert cal["sigma_log"] == pytest.approx(three_runs.calibration["sigma_log"], rel=1e-9)
    assert not jax.config.read("jax_enable_x64")


def test_time_splits_ahead_of_every_decay_are_skipped_not_leaked():
    # a WSD run decaying over its last 20 %: both time splits fit only its constant-LR stretch, so their refits
    # would keep the full fit's C and "predict" the decay to the noise; the band says it is uncalibrated
    res = fit(LAW, Dataset(_runs(("wsd",), 3), info={"kind": "curves"}), progress=False)
    cal = res.calibration
    assert cal["method"] == "none" and "determines C" in cal["reason"]
    assert [f["skipped"] and f["unseen"] for f in cal["folds"]] == [["C"], ["C"]]
    note = next(d for d in res.diagnostics if d["code"] == "band_not_calibrated")
    assert "determines C" in note["message"]
    # with a constant run next to it, the WSD run alone predicts the constant one: that fold alone is kept
    both = fit(LAW, Dataset(_runs(("constant", "wsd"), 3), info={"kind": "curves"}), progress=False)
    kept = [f["held_out"] for f in both.calibration["folds"] if not f.get("skipped")]
    assert kept == ["constant"] and both.calibration["method"] == "leave-one-schedule-out"
    assert np.isfinite(both.calibration["sigma_log"])


def test_a_schedule_fold_that_leaves_only_constant_runs_is_skipped_and_noted():
    groups = _runs(("constant", "constant", "cosine"), 4)
    groups[1] = groups[1]._replace(name="constant_b")
    res = fit(LAW, Dataset(groups, info={"kind": "curves"}), progress=False)
    folds = res.calibration["folds"]
    assert [f["held_out"] for f in folds][:3] == ["constant", "constant_b", "cosine"]
    assert folds[2]["skipped"] and folds[2]["unseen"] == ["C"]
    assert not any(f.get("skipped") for f in folds[:2] + folds[3:])
    assert res.calibration["method"].startswith("leave-one-schedule-out")
    note = next(d for d in res.diagnostics if d["code"] == "calibration_folds_skipped")
    assert "holding out cosine" in note["message"] and note["severity"] == "note"


def test_a_fold_that_leaves_one_model_size_is_skipped():
    # lr-annealing-n: a refit of runs of one size cannot determine the size terms and would keep the full fit's
    sizes = (1e8, 1e8, 4e8)
    groups = [g._replace(inputs={**g.inputs, "N": np.float64(n)})
              for g, n in zip(_runs(("constant", "cosine", "wsd"), 7), sizes)]
    res = fit(get_law("lr-annealing-n"), Dataset(groups, info={"kind": "curves"}), progress=False)
    folds = {f["held_out"]: f for f in res.calibration["folds"]}
    assert folds["wsd"]["skipped"] and folds["wsd"]["unseen"] == ["B", "beta", "gamma"]
    assert folds["wsd"]["why"] == "its fitted runs have one value of N"
    assert not folds["constant"].get("skipped") and not folds["cosine"].get("skipped")
    note = next(d for d in res.diagnostics if d["code"] == "calibration_folds_skipped")
    assert "holding out wsd" in note["message"] and "one value of N" in note["message"]
