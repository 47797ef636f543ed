"""Each degenerate design gets its diagnostic; a sound fit gets none."""

import dataclasses

import numpy as np
import pytest

from scaling.fitting import Dataset, FitResult, Group, fit
from scaling.fitting.diagnostics import diagnose, noise_level
from scaling.fitting.extrapolation import extrapolation
from scaling.laws import get_law
from scaling.prediction import predict

from .test_invariance import LR_ANNEALING_TRUTH, _data, _lr

LAW = get_law("lr-annealing")


def codes(diags, param=None):
    return {d["code"] for d in diags if param is None or d.get("param") == param}


@pytest.fixture(scope="module")
def sound():
    return fit(LAW, _data(LAW, LR_ANNEALING_TRUTH, noise=2e-3), progress=False)


def test_a_sound_fit_has_no_warnings(sound):
    assert [d for d in sound.diagnostics if d["severity"] == "warning"] == []
    assert sound.success
    # lam = 0.999 was asked for, not decided by the runs: no option_resolved note, nothing recorded
    assert "option_resolved" not in codes(sound.diagnostics) and "resolved_options" not in sound.data_info


def test_constant_lr_runs_only_cannot_identify_C():
    result = fit(LAW, _data(LAW, LR_ANNEALING_TRUTH, noise=2e-3, kinds=("constant",)), progress=False)
    assert "not_identifiable" in codes(result.diagnostics, "C")
    assert "constant-LR runs only" in next(d["message"] for d in result.diagnostics if d.get("param") == "C")
    assert "[not_identifiable]" in result.report()


def test_a_parameter_pushed_out_of_its_box_is_at_bound():
    truth = np.array([2.5, 0.35, 0.45, -0.6])  # loss rises on annealing: C wants to be negative
    result = fit(LAW, _data(LAW, truth, noise=1e-3), progress=False)
    assert result.param("C") == 0.0
    assert "at_bound" in codes(result.diagnostics, "C")


def test_not_converged_is_reported(sound):
    stuck = dataclasses.replace(sound, success=False, message="maximum number of iterations reached")
    d = [x for x in diagnose(stuck, LAW) if x["code"] == "not_converged"]
    assert d and "maximum number of iterations" in d[0]["message"] and d[0]["severity"] == "warning"


def test_zero_width_and_enormous_intervals(sound):
    iv = dict(sound.intervals)
    iv["alpha"] = (sound.param("alpha"),) * 2
    iv["A"] = (-10.0, 10.0)
    diags = diagnose(dataclasses.replace(sound, intervals=iv), LAW)
    assert "zero_width_interval" in codes(diags, "alpha")
    assert "enormous_interval" in codes(diags, "A")
    assert not codes(diags, "L0")


def test_near_perfect_correlation(sound):
    cov = np.diag(np.asarray(sound.stderr) ** 2)
    cov[0, 1] = cov[1, 0] = 0.9999 * sound.stderr[0] * sound.stderr[1]
    diags = diagnose(dataclasses.replace(sound, covar=cov), LAW)
    d = [x for x in diags if x["code"] == "near_perfect_correlation"]
    assert d and "L0-A +0.9999" in d[0]["message"]


def test_noise_level_reads_white_noise_through_a_smooth_misfit():
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 400)
    r = 0.01 * np.sin(3 * x) + 0.002 * rng.standard_normal(400)
    assert noise_level(r, [400]) == pytest.approx(0.002, rel=0.1)


def test_misfit_far_above_the_noise_is_lack_of_fit():
    rng = np.random.default_rng(1)
    groups = []
    steps = np.arange(200, 3001, 50)
    for kind in ("constant", "cosine"):
        lr = _lr(kind)
        y = np.asarray(LAW(LR_ANNEALING_TRUTH, {"lr": lr, "step": steps}))
        y = y * (1 + 0.02 * np.sin(steps / 300.0)) * np.exp(5e-4 * rng.standard_normal(steps.size))  # a wave
        groups.append(Group(kind, {"lr": lr, "step": steps}, y))
    result = fit(LAW, Dataset(groups, info={"kind": "curves"}), progress=False)
    d = [x for x in result.diagnostics if x["code"] == "lack_of_fit"]
    assert d and d[0]["severity"] == "warning"


def test_extrapolation_factor_and_lr_range(sound):
    far = extrapolation(sound, np.arange(200, 9001, 100), _lr("constant", total=9000))
    assert far["steps_ratio"] == pytest.approx(3.0)
    assert far["area_ratio"] > 2.5
    warn = [d["message"] for d in far["diagnostics"] if d["code"] == "extrapolation" and d["severity"] == "warning"]
    a_cal = sound.calibration["area_ratio_max"]
    assert warn and f"measured only to {a_cal:.2g}x the fitted forward area" in warn[0] and "lower bound" in warn[0]
    inside = extrapolation(sound, np.arange(200, 3001, 100), _lr("wsd"))
    assert inside["steps_ratio"] == pytest.approx(1.0) and inside["diagnostics"] == ()
    hot = extrapolation(sound, np.arange(200, 3001, 100), 5 * _lr("wsd"))
    lr_warn = [d["message"] for d in hot["diagnostics"] if "LR range" in d["message"]]
    assert len(lr_warn) == 1 and "its peak is 5.0x the largest fitted LR" in lr_warn[0]
    to_zero = _lr("wsd")
    to_zero[-300:] = np.linspace(to_zero[-300], 0.0, 300)
    cold = extrapolation(sound, np.arange(200, 3001, 100), to_zero)
    lr_warn = [d["message"] for d in cold["diagnostics"] if "LR range" in d["message"]]
    assert len(lr_warn) == 1 and "anneals to 0, below the smallest fitted LR (3e-05)" in lr_warn[0]


def test_predict_states_each_lr_range_fact_once(sound):
    """The LR-range check lives in one place: predict relays it and adds no second wording of it."""
    frame = predict(sound, 5 * _lr("wsd"), steps=np.arange(200, 3001, 100))
    lr_lines = [w for w in frame.attrs["warnings"] if "fitted LR" in w]
    assert len(lr_lines) == 1 and "5.0x the largest fitted LR" in lr_lines[0]


def test_a_band_calibrated_without_leaving_a_schedule_out_says_so():
    """One run: time splits only, so the band has not met a differently shaped schedule (issue 11 item 5)."""
    one = fit(LAW, _data(LAW, LR_ANNEALING_TRUTH, noise=2e-3, kinds=("cosine",)), progress=False)
    assert one.calibration["method"] == "split-run"
    note = next(d for d in one.diagnostics if d["code"] == "band_not_calibrated")
    assert note["severity"] == "note" and "time splits of the 1 run fitted" in note["message"]
    three = fit(LAW, _data(LAW, LR_ANNEALING_TRUTH, noise=2e-3, kinds=("constant", "cosine", "wsd")), progress=False)
    assert three.calibration["method"].startswith("leave-one-schedule-out")
    assert not {"band_not_calibrated", "band_one_run_refits"} & set(codes(three.diagnostics))


def test_a_band_calibrated_on_one_run_refits_says_so(sound):
    """Two runs: each schedule held out is predicted by a refit of the other run alone, a weaker design."""
    assert sound.calibration["method"].startswith("leave-one-schedule-out")
    note = next(d for d in sound.diagnostics if d["code"] == "band_one_run_refits")
    assert note["severity"] == "note" and "refits of one run alone" in note["message"]
    assert "band_not_calibrated" not in codes(sound.diagnostics)


def test_a_band_without_any_fold_falls_back_and_says_so():
    from scaling.fitting.diagnostics import band_diagnostics

    (none,) = band_diagnostics({"method": "none", "reason": "too few points to hold any out"}, 1)
    assert none["severity"] == "note" and "not calibrated (too few points to hold any out)" in none["message"]
    (failed,) = band_diagnostics({"method": "failed", "error": "ValueError: x"}, 3)
    assert failed["severity"] == "warning" and "(ValueError: x)" in failed["message"]


def test_diagnostics_and_calibration_survive_json_exactly(tmp_path):
    result = fit(LAW, _data(LAW, LR_ANNEALING_TRUTH, noise=2e-3, kinds=("constant",)), progress=False)
    assert result.diagnostics and result.calibration["method"] == "split-run"
    path = tmp_path / "fit.json"
    result.save(path)
    back = FitResult.load(path)
    assert back == result
    assert [dict(d) for d in back.diagnostics] == [dict(d) for d in result.diagnostics]
    assert back.calibration["sigma_log"] == result.calibration["sigma_log"]


def test_convergence_of_a_sound_fit_claims_both(sound):
    from scaling.fitting.diagnostics import convergence

    conv = convergence(sound)
    assert conv == {"optimizer": True, "determined": True, "undetermined": [], "text": "yes"}
    line = next(x for x in sound.report().splitlines() if "converged" in x)
    assert line.strip() == f"converged          = True: {sound.message}"
    assert sound.to_dict()["convergence"] == conv


def test_convergence_names_each_undetermined_parameter_once_in_parameter_order(sound):
    from scaling.fitting.diagnostics import convergence, item

    diags = (item("zero_width_interval", "warning", "x", "alpha"), item("at_bound", "warning", "y", "L0"),
             {**item("near_perfect_correlation", "warning", "near-perfect correlations (L0-A +0.9999)", "L0"),
              "params": ["L0", "A"]},
             item("lack_of_fit", "warning", "misses"), item("enormous_interval", "note", "only a note", "C"))
    conv = convergence(dataclasses.replace(sound, diagnostics=diags))
    assert conv["undetermined"] == [n for n in sound.param_names if n in ("L0", "A", "alpha")]
    assert conv["optimizer"] and not conv["determined"]
    assert conv["text"] == (f"yes (optimizer), but the data do not determine 3 of {len(sound.param_names)} "
                            f"parameters ({', '.join(conv['undetermined'])}): see the warnings")


def test_convergence_reads_correlated_pairs_from_the_message_of_older_fits(sound):
    from scaling.fitting.diagnostics import convergence, item

    old = item("near_perfect_correlation", "warning", "near-perfect correlations (L0-A +0.9999, alpha-C -0.9995): "
               "the data fix only combinations", "L0")
    stuck = dataclasses.replace(sound, success=False, diagnostics=(old,))
    conv = convergence(stuck)
    assert set(conv["undetermined"]) == {"L0", "A", "alpha", "C"}
    assert conv["text"].startswith("no (the optimizer stopped before converging); and the data do not determine 4")
    line = next(x for x in stuck.report().splitlines() if "converged" in x)
    assert "= False: " in line and "the data do not determine 4 of" in line and "but" not in line


def test_near_perfect_correlation_records_every_parameter_of_its_pairs(sound):
    cov = np.diag(np.asarray(sound.stderr) ** 2)
    cov[0, 1] = cov[1, 0] = 0.9999 * sound.stderr[0] * sound.stderr[1]
    d = next(x for x in diagnose(dataclasses.replace(sound, covar=cov), LAW) if x["code"] == "near_perfect_correlation")
    assert d["params"] == list(sound.param_names[:2])
