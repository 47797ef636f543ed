"""The predictor: reproduces a known law, bands, steps, long horizons, JSON round trip."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from scaling import schedules as sch
from scaling._x64 import float64
from scaling.errors import ScalingError
from scaling.laws import get_law
from scaling.prediction import curve_metrics, default_steps, parse_steps, predict

THETA = np.array([2.5, 0.6, 0.45, 0.5])


@dataclasses.dataclass
class KnownFit:
    """The parts of a FitResult that predict() reads."""

    law: str = "lr-annealing"
    law_options: dict = dataclasses.field(default_factory=dict)
    params: np.ndarray = dataclasses.field(default_factory=lambda: THETA.copy())
    samples: np.ndarray | None = None
    covar: np.ndarray | None = None
    residuals: np.ndarray | None = None

    def law_object(self):
        return get_law(self.law, **self.law_options)


SPEC = "cosine:peak=3e-4,final=3e-5,warmup=200,total=4000"


def test_prediction_reproduces_the_law_exactly():
    sched, total = sch.parse_schedule(SPEC)
    lr = sch.schedule_array(sched, total)
    steps = np.arange(300, 4001, 100)
    pred = predict(KnownFit(), SPEC, steps=steps)
    with float64():
        expect = np.asarray(get_law("lr-annealing")(THETA, {"lr": lr, "step": steps}))
    assert list(pred.columns) == ["step", "lr", "loss", "loss_lo", "loss_hi", "in_fit_rule"]
    assert pred["in_fit_rule"].all() and not pred.attrs["notes"]  # every step after warmup and transient
    np.testing.assert_array_equal(pred["step"], steps)
    np.testing.assert_allclose(pred["lr"], lr[steps])
    np.testing.assert_allclose(pred["loss"], expect, rtol=1e-13)
    np.testing.assert_allclose(pred["loss_lo"], expect, rtol=1e-13)  # no samples, no covariance


def test_steps_inside_the_warmup_are_marked_as_outside_the_fits_rule():
    """The law was fitted after warmup: from step 1 on, the prediction says where it is extrapolated."""
    pred = predict(KnownFit(), SPEC, steps=np.arange(1, 4001))
    inside = pred["step"] <= 200  # the 200-step warmup (the default rule: after warmup, area >= 1 %)
    assert not pred.loc[inside, "in_fit_rule"].any() and pred.loc[pred["step"] > 400, "in_fit_rule"].all()
    n_out = int((~pred["in_fit_rule"]).sum())
    note = [n for n in pred.attrs["notes"] if "outside the fit's point rule" in n]
    assert len(note) == 1 and note[0].startswith(f"{n_out} of 4000 predicted steps (1..")


def test_step_0_of_a_warmup_from_lr_0_is_left_empty_not_a_huge_loss():
    """The forward area is 0 there and the law infinite; the floor inside the law gave ~1e6 nats."""
    pred = predict(KnownFit(), SPEC, steps=np.arange(0, 401, 100))
    first = pred.iloc[0]
    assert first["step"] == 0 and first["lr"] == 0
    assert np.isnan(first[["loss", "loss_lo", "loss_hi"]].to_numpy(float)).all()
    assert np.isfinite(pred.iloc[1:][["loss", "loss_lo", "loss_hi"]].to_numpy(float)).all()
    assert any(n.startswith("predicted step 0 comes before any LR was applied") for n in pred.attrs["notes"])


def test_callable_array_and_spec_give_the_same_curve():
    sched, total = sch.parse_schedule(SPEC)
    a = predict(KnownFit(), SPEC, steps=[500, 4000])
    b = predict(KnownFit(), sched, steps=[500, 4000], total_steps=total)
    c = predict(KnownFit(), sch.schedule_array(sched, total), steps=[500, 4000])
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-13)
    np.testing.assert_allclose(a["loss"], c["loss"], rtol=1e-13)


def test_band_from_samples_is_the_quantile_of_sample_predictions():
    rng = np.random.default_rng(0)
    samples = THETA * (1 + 0.02 * rng.standard_normal((40, 4)))
    steps = np.array([1000, 4000])
    pred = predict(KnownFit(samples=samples), SPEC, steps=steps, level=0.9)
    sched, total = sch.parse_schedule(SPEC)
    lr = sch.schedule_array(sched, total)
    import jax

    with float64():
        law = get_law("lr-annealing")
        each = np.asarray(jax.jit(jax.vmap(lambda s: law(s, {"lr": lr, "step": steps})))(samples))
    np.testing.assert_allclose(pred["loss_lo"], np.quantile(each, 0.05, axis=0), rtol=1e-12)
    np.testing.assert_allclose(pred["loss_hi"], np.quantile(each, 0.95, axis=0), rtol=1e-12)
    assert np.all(pred["loss_lo"] < pred["loss"]) and np.all(pred["loss"] < pred["loss_hi"])


def test_band_without_samples_uses_the_delta_method():
    cov = np.diag([1e-4, 1e-4, 1e-5, 1e-4])
    pred = predict(KnownFit(covar=cov), SPEC, steps=[4000], level=0.9)
    half = float(pred["loss_hi"].iloc[0] - pred["loss"].iloc[0])
    assert half > 0
    assert float(pred["loss"].iloc[0] - pred["loss_lo"].iloc[0]) == pytest.approx(half)


def test_predictive_band_is_wider_by_the_residual_scatter():
    fit = KnownFit(residuals=np.full(50, 0.01))
    pred = predict(fit, SPEC, steps=[4000], band="predictive", level=0.9)
    ratio = float(pred["loss_hi"].iloc[0] / pred["loss"].iloc[0])
    assert ratio == pytest.approx(np.exp(1.6448536 * 0.01), rel=1e-6)


def test_default_steps_cover_every_step_or_a_stride():
    np.testing.assert_array_equal(default_steps(5), [1, 2, 3, 4, 5])
    big = default_steps(1_000_000)
    assert big[-1] == 1_000_000 and len(big) <= 20_001


def test_parse_steps_range_and_list():
    assert parse_steps("1000:3000:1000").tolist() == [1000, 2000, 3000]
    assert parse_steps("5,10").tolist() == [5, 10]
    with pytest.raises(ScalingError):
        parse_steps("a:b")


def test_steps_past_the_schedule_are_an_error():
    with pytest.raises(ScalingError):
        predict(KnownFit(), SPEC, steps=[5000])


def test_final_loss_law_is_rejected():
    with pytest.raises(ScalingError):
        predict(KnownFit(law="chinchilla", params=np.zeros(5)), SPEC, steps=[10])


def test_million_step_prediction_with_a_band_runs():
    rng = np.random.default_rng(0)
    samples = THETA * (1 + 0.01 * rng.standard_normal((100, 4)))
    spec = "wsd:peak=3e-4,final=3e-5,warmup=2000,total=1000000,decay=0.1,shape=1-sqrt"
    pred = predict(KnownFit(samples=samples), spec)
    assert len(pred) == 20_000 and int(pred["step"].iloc[-1]) == 1_000_000
    assert np.all(np.isfinite(pred[["loss", "loss_lo", "loss_hi"]].to_numpy()))
    assert pred["loss"].iloc[-1] < pred["loss"].iloc[len(pred) // 2]


def test_curve_metrics_by_hand():
    m = curve_metrics([2.0, 4.0], [2.2, 4.0], lo=[1.9, 4.1], hi=[2.1, 4.2])
    assert m["MAE"] == pytest.approx(0.1) and m["RMSE"] == pytest.approx(np.sqrt(0.02))
    assert m["PredE"] == pytest.approx(0.05) and m["WorstE"] == pytest.approx(0.1)
    assert m["R2"] == pytest.approx(1 - 0.04 / 2.0) and m["coverage"] == 0.5


@pytest.mark.slow
def test_fit_result_json_round_trip_predicts_the_same(tmp_path):
    from scaling.fitting import fit
    from scaling.fitting.dataset import Dataset, Group
    from scaling.fitting.result import FitResult
    from scaling.laws.lr_annealing import _example_curves

    law = get_law("lr-annealing")
    with float64():
        groups = [Group(f"r{i}", g, np.asarray(law(THETA, g))) for i, g in enumerate(_example_curves()[:2])]
    result = fit(law, Dataset(groups), progress=False)
    np.testing.assert_allclose(result.params, THETA, rtol=1e-4)
    result.save(tmp_path / "fit.json")
    back = FitResult.load(tmp_path / "fit.json")
    a = predict(result, SPEC, steps=[1000, 4000])
    b = predict(back, SPEC, steps=[1000, 4000])
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_curve_metrics_final_error_is_signed_at_the_last_point():
    m = curve_metrics([2.0, 4.0], [2.2, 3.8])
    assert m["FinalE"] == pytest.approx(-0.05)
    assert curve_metrics([2.0, 4.0], [2.0, 4.4])["FinalE"] == pytest.approx(0.1)


def test_scoring_keeps_the_points_past_the_fits_max_step():
    """A fit to step 5,000 is scored on the whole held-out run, not its first 5,000 steps; warmup stays out."""
    from types import SimpleNamespace

    from scaling.fitting.selection import selection_rule
    from scaling.prediction import compare_observed, scoring_mask

    lr = np.r_[np.linspace(0, 1e-3, 301), np.full(7700, 1e-3)]
    steps = np.arange(0, 8001, 100)
    fit = SimpleNamespace(data_info={"selection": {"rule": selection_rule(warmup_steps=300, max_step=5000),
                                                   "runs": {}}})
    mask, text = scoring_mask(fit, steps, lr)
    assert mask.tolist() == (steps > 300).tolist()
    assert "5000" not in text and "W = 300" in text
    observed = np.linspace(4.0, 3.0, steps.size)
    pred = pd.DataFrame({"step": steps, "lr": lr[steps], "loss": observed * 1.01, "loss_lo": observed,
                         "loss_hi": observed * 1.02})
    m = compare_observed(fit, pred, observed=observed, lr=lr)
    assert m["n_scored"] == int(np.sum(steps > 300)) and m["FinalE"] == pytest.approx(0.01)


def test_a_fit_of_window_means_is_scored_on_window_means():
    """Per-step noise (1 %) would dominate PredE; a fit that averaged its runs scores held-out runs the same way."""
    from types import SimpleNamespace

    from scaling.prediction import compare_observed, scoring_window

    lr = np.full(4001, 1e-3)
    steps = np.arange(1000, 4001)
    truth = 3.0 + 2.0 * (steps / 1000.0) ** -0.5
    observed = truth * np.exp(np.random.default_rng(0).normal(0.0, 0.01, steps.size))
    pred = pd.DataFrame({"step": steps, "lr": lr[steps], "loss": truth, "loss_lo": truth * 0.997,
                         "loss_hi": truth * 1.003})
    plain = SimpleNamespace(data_info={})
    averaged = SimpleNamespace(data_info={"aggregate": {"option": 50, "window": {"a": 50}}})
    assert scoring_window(plain, steps.size) == 1 and scoring_window(averaged, steps.size) == 50
    m1 = compare_observed(plain, pred, observed=observed, lr=lr)
    m50 = compare_observed(averaged, pred, observed=observed, lr=lr)
    assert m1["window"] == 1 and m50["window"] == 50 and m50["n_scored"] == m1["n_scored"]
    assert m1["PredE"] > 0.007 and m1["coverage"] < 0.4  # the noise, not the fit
    assert m50["PredE"] < 0.002 and m50["coverage"] > 0.6
    long_default = SimpleNamespace(data_info={"aggregate": {"option": "default (long runs)", "window": {"a": 135}}})
    assert scoring_window(long_default, 33_600) == 135 and scoring_window(long_default, 5_000) == 1


def test_a_prediction_somewhat_past_the_fit_carries_a_note_and_far_past_a_warning():
    fitted = {"fitted_range": {"max_step": 4000, "max_forward_area": 0.6, "lr_min": 3e-5, "lr_max": 3e-4}}
    fit = dataclasses.replace(KnownFit())
    fit.data_info = fitted
    near = predict(fit, SPEC.replace("4000", "6000"), steps=[1000, 6000])
    assert near.attrs["warnings"] == [] and near.attrs["notes"][0].startswith("predicting 1.50x the fitted steps")
    far = predict(fit, SPEC.replace("4000", "12000"), steps=[1000, 12000])
    assert far.attrs["notes"] == [] and far.attrs["warnings"][0].startswith("predicting 3.0x the fitted steps")
