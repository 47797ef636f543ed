"""Planning functions against closed forms and published numbers (scaling.plan)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from scaling import plan as planning
from scaling.errors import ScalingError
from scaling.laws import get_law
from scaling.laws.base import Law

HOFF = planning.HOFFMANN_ROUNDED
TEX = planning.PUBLISHED_CHINCHILLA["Hoffmann et al. 2022"]
EPOCH = planning.PUBLISHED_CHINCHILLA["Besiroglu et al. 2024 (Epoch)"]
GOPHER_FLOPS = 5.76e23


@dataclasses.dataclass(frozen=True)
class FitLike:
    """The part of FitResult that planning reads (law, point estimate, samples, level)."""

    law: Law
    params: np.ndarray
    samples: np.ndarray | None = None
    level: float = 0.9

    def law_object(self) -> Law:
        return self.law


def chinchilla_theta(p: dict) -> np.ndarray:
    return np.array([math.log(p["A"]), math.log(p["B"]), math.log(p["E"]), p["alpha"], p["beta"]])


def chinchilla_fit(p=TEX, n_samples=0, seed=0) -> FitLike:
    theta = chinchilla_theta(p)
    samples = None
    if n_samples:
        rng = np.random.default_rng(seed)
        samples = theta + rng.normal(0.0, [0.05, 0.05, 0.01, 0.005, 0.005], size=(n_samples, 5))
    return FitLike(get_law("chinchilla"), theta, samples)


def closed_form_D(p, N, target):
    return (p["B"] / (target - p["E"] - p["A"] * N ** (-p["alpha"]))) ** (1.0 / p["beta"])


# --------------------------------------------------------------------------- closed forms


def test_hoffmann_rounded_parameters_give_exponents_045_and_055():
    out = planning.chinchilla_allocation(**HOFF, flops=1e21)
    assert float(out["a"]) == pytest.approx(0.45, abs=0.005)
    assert float(out["b"]) == pytest.approx(0.55, abs=0.005)


def test_hoffmann_tex_parameters_give_40b_at_gopher_compute():
    out = planning.chinchilla_allocation(**TEX, flops=GOPHER_FLOPS)
    assert float(out["N"]) == pytest.approx(4.04e10, rel=0.01)
    assert float(out["tokens_per_param"]) == pytest.approx(58.9, rel=0.01)


def test_epoch_parameters_reproduce_their_allocation():
    out = planning.chinchilla_allocation(**EPOCH, flops=GOPHER_FLOPS)
    assert float(out["a"]) == pytest.approx(0.5126, abs=1e-4)
    assert float(out["N"]) == pytest.approx(7.24e10, rel=0.01)
    assert float(out["D"]) == pytest.approx(1.33e12, rel=0.01)


def test_closed_form_spends_exactly_the_budget():
    flops = np.geomspace(1e18, 1e26, 9)
    out = planning.chinchilla_allocation(**TEX, flops=flops)
    np.testing.assert_allclose(6.0 * out["N"] * out["D"], flops, rtol=1e-12)


def test_closed_form_is_the_minimum_on_the_isoflop_line():
    C = 1e22
    out = planning.chinchilla_allocation(**TEX, flops=C)
    N = float(out["N"]) * np.array([1 / 1.05, 1.0, 1.05])
    L = planning.chinchilla_loss(**TEX, N=N, D=C / (6 * N))
    assert L[1] < L[0] and L[1] < L[2]


def test_published_loss_at_chinchilla_size():
    # PROVENANCE: predicted loss at (70e9, 1.4e12): rounded 1.9366, TeX 1.9208, Epoch 1.9734
    assert float(planning.chinchilla_loss(**HOFF, N=70e9, D=1.4e12)) == pytest.approx(1.9366, abs=1e-4)
    assert float(planning.chinchilla_loss(**TEX, N=70e9, D=1.4e12)) == pytest.approx(1.9208, abs=1e-4)
    assert float(planning.chinchilla_loss(**EPOCH, N=70e9, D=1.4e12)) == pytest.approx(1.9734, abs=1e-4)


# --------------------------------------------------------------------------- compute_optimal


def test_compute_optimal_uses_the_closed_form_for_a_chinchilla_fit():
    plan = planning.compute_optimal(chinchilla_fit(), [GOPHER_FLOPS])
    assert plan.loc[0, "N"] == pytest.approx(4.04e10, rel=0.01)
    assert plan.loc[0, "loss"] == pytest.approx(
        float(planning.chinchilla_allocation(**TEX, flops=GOPHER_FLOPS)["loss"]), rel=1e-12
    )


def test_numeric_minimiser_matches_closed_form():
    fit = chinchilla_fit(n_samples=20)
    flops = [1e19, 1e22, 1e25]
    closed = planning.compute_optimal(fit, flops, method="closed")
    numeric = planning.compute_optimal(fit, flops, method="numeric")
    for col in ("N", "D", "loss", "N_lo", "N_hi"):
        np.testing.assert_allclose(numeric[col], closed[col], rtol=1e-6)


def _chinchilla_in_n_and_m() -> Law:
    """Chinchilla written in (N, M = D/N): not recognised as closed-form, same optimum."""

    def fn(theta, x):
        E, A, B, alpha, beta = theta
        return E + A * x["N"] ** -alpha + B * (x["M"] * x["N"]) ** -beta

    return Law("chin-nm", fn, ("E", "A", "B", "alpha", "beta"), ((0, 10),) * 5,
               {k: (1.0,) for k in ("E", "A", "B", "alpha", "beta")}, ("N", "M"), "final", "", "")


def test_numeric_minimiser_handles_a_law_without_closed_form():
    # Chinchilla written in (N, M = D/N): not recognised as closed-form, same optimum.
    law = _chinchilla_in_n_and_m()
    theta = np.array([TEX[k] for k in ("E", "A", "B", "alpha", "beta")])
    plan = planning.compute_optimal(FitLike(law, theta), [GOPHER_FLOPS])
    assert plan.loc[0, "N"] == pytest.approx(4.04e10, rel=0.01)


def test_intervals_bracket_the_point_estimate():
    plan = planning.compute_optimal(chinchilla_fit(n_samples=200), [1e20, 1e23])
    for col in ("N", "D", "tokens_per_param", "loss"):
        assert np.all(plan[f"{col}_lo"] <= plan[col]) and np.all(plan[col] <= plan[f"{col}_hi"])


def test_no_samples_gives_nan_bounds():
    plan = planning.compute_optimal(chinchilla_fit(), [1e21])
    assert np.isnan(plan.loc[0, "N_lo"]) and np.isnan(plan.loc[0, "N_hi"])


def test_compute_optimal_rejects_a_law_of_compute_only():
    law = get_law("power-law", x="C")
    fit = FitLike(law, law.starts()[0])
    with pytest.raises(ScalingError, match="model size N and data D"):
        planning.compute_optimal(fit, [1e21])


def test_compute_optimal_rejects_non_positive_budget():
    with pytest.raises(ScalingError, match="positive"):
        planning.compute_optimal(chinchilla_fit(), [0.0])


# --------------------------------------------------------------------------- over-training


def test_loss_at_matches_the_law():
    N, D = np.array([1e8, 1e9, 7e10]), np.array([2e9, 1e11, 1.4e12])
    df = planning.loss_at(chinchilla_fit(), N, D)
    np.testing.assert_allclose(df["loss"], planning.chinchilla_loss(**TEX, N=N, D=D), rtol=1e-12)
    np.testing.assert_allclose(df["flops"], 6 * N * D)


def test_tokens_for_target_at_fixed_N_match_closed_form():
    N, target = 1e9, 2.3
    df = planning.compute_for_loss(chinchilla_fit(), target, N=N)
    assert df.loc[0, "D"] == pytest.approx(closed_form_D(TEX, N, target), rel=1e-6)
    assert df.loc[0, "train_flops"] == pytest.approx(6 * N * closed_form_D(TEX, N, target), rel=1e-6)


def test_cheapest_model_for_a_loss_is_compute_optimal():
    C = 1e22
    opt = planning.compute_optimal(chinchilla_fit(), [C])
    df = planning.compute_for_loss(chinchilla_fit(), float(opt.loc[0, "loss"]))
    assert df.loc[0, "total_flops"] == pytest.approx(C, rel=1e-3)
    assert df.loc[0, "N"] == pytest.approx(opt.loc[0, "N"], rel=0.05)


def test_inference_demand_favours_smaller_longer_trained_models():
    fit = chinchilla_fit()
    train_only = planning.compute_for_loss(fit, 2.2)
    served = planning.compute_for_loss(fit, 2.2, inference_tokens=1e13)
    assert served.loc[0, "N"] < train_only.loc[0, "N"]
    assert served.loc[0, "tokens_per_param"] > train_only.loc[0, "tokens_per_param"]


def test_cap_on_model_size_is_respected():
    df = planning.compute_for_loss(chinchilla_fit(), 2.0, max_N=5e9)
    assert df.loc[0, "N"] <= 5e9 * (1 + 1e-12)


def test_unreachable_target_is_nan():
    # E = 1.69: no N, D gets below it
    df = planning.compute_for_loss(chinchilla_fit(n_samples=10), 1.5)
    assert np.isnan(df.loc[0, "N"]) and df.loc[0, "reachable"] == 0.0


def test_isoflop_curve_minimum_is_the_marked_optimum():
    curves = planning.isoflop_curves(chinchilla_fit(), [1e20, 1e22])
    for _, g in curves.groupby("flops"):
        assert g.loc[g["loss"].idxmin(), "N"] == pytest.approx(g.loc[g["is_optimum"], "N"].iloc[0], rel=0.06)
        np.testing.assert_allclose(6 * g["N"] * g["D"], g["flops"], rtol=1e-12)


def test_flops_range_is_log_spaced():
    np.testing.assert_allclose(planning.flops_range("1e19:1e23:5"), [1e19, 1e20, 1e21, 1e22, 1e23])


def test_flops_range_rejects_bad_spec():
    with pytest.raises(ScalingError, match="START:STOP:COUNT"):
        planning.flops_range("1e19-1e23")


# --------------------------------------------------------------------------- schedules


def curve_fit(C=0.3, n_samples=20):
    from scaling.laws import LAWS

    if "lr-annealing" not in LAWS:
        pytest.skip("the lr-annealing law is not registered yet")
    law = get_law("lr-annealing", warmup_steps=0)
    theta = np.array([3.0, 0.5, 0.5, C])
    samples = None
    if n_samples:
        samples = theta * (1 + np.random.default_rng(1).normal(0, 0.02, (n_samples, 4)))
    return FitLike(law, theta, samples)


def test_candidates_cover_cosine_wsd_fractions_and_multistep():
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    assert "cosine" in c and "multistep 80/10/10" in c
    for frac in ("10%", "20%", "30%"):
        assert any(name.startswith(f"wsd {frac}") for name in c)
    from scaling.schedules import parse_schedule

    for spec in c.values():
        assert parse_schedule(spec)[1] == 2000


def test_annealing_beats_constant_when_annealing_helps():
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    ranking = planning.compare_schedules(curve_fit(C=300.0), c)
    assert ranking.loc[0, "delta"] == 0.0
    assert list(ranking["rank"]) == list(range(1, len(c) + 1))
    assert ranking.set_index("schedule").loc["constant", "rank"] > ranking.set_index("schedule").loc["cosine", "rank"]


def test_constant_wins_when_only_forward_area_counts():
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    ranking = planning.compare_schedules(curve_fit(C=0.0, n_samples=0), c)
    assert ranking.loc[0, "schedule"] == "constant"


def test_paired_difference_band_is_narrower_than_the_loss_band():
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    r = planning.compare_schedules(curve_fit(C=300.0), c).iloc[-1]
    assert (r["delta_hi"] - r["delta_lo"]) < (r["final_loss_hi"] - r["final_loss_lo"])


@dataclasses.dataclass(frozen=True)
class CovFitLike(FitLike):
    """A fit with a Laplace covariance and diagnostics, as FitResult carries them."""

    covar: np.ndarray | None = None
    diagnostics: tuple = ()
    param_names: tuple = ("L0", "A", "alpha", "C")
    success: bool = True


def test_laplace_ranking_matches_samples_drawn_from_the_same_normal():
    """Without bootstrap samples the covariance gives the paired gaps and P(best) that samples from N(theta, cov) give."""
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    base = curve_fit(C=300.0, n_samples=0)
    cov = np.diag((0.02 * base.params) ** 2)
    draws = np.random.default_rng(3).multivariate_normal(base.params, cov, size=2000)
    by_samples = planning.compare_schedules(FitLike(base.law, base.params, draws), c).set_index("schedule")
    laplace = planning.compare_schedules(CovFitLike(base.law, base.params, covar=cov), c)
    assert laplace.attrs["uncertainty"] == "laplace" and np.isclose(laplace["p_best"].sum(), 1.0)
    laplace = laplace.set_index("schedule")
    for name in c:
        a, b = laplace.loc[name], by_samples.loc[name]
        width = b["delta_hi"] - b["delta_lo"]
        assert abs(a["delta_lo"] - b["delta_lo"]) <= 0.1 * width + 1e-6
        assert abs(a["delta_hi"] - b["delta_hi"]) <= 0.1 * width + 1e-6
        assert abs(a["p_best"] - b["p_best"]) <= 0.05
    assert planning.compare_schedules(base, c).attrs["uncertainty"] == "none"


def test_no_recommendation_when_the_fit_leaves_a_parameter_undetermined():
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    base = curve_fit(C=300.0)
    clean = CovFitLike(base.law, base.params, base.samples)
    assert planning.recommendation(planning.compare_schedules(clean, c), fit=clean).startswith("recommended:")
    at_bound = ({"code": "at_bound", "severity": "warning", "param": "C", "message": "C = 0 sits at its bound"},)
    blind = CovFitLike(base.law, base.params, base.samples, diagnostics=at_bound)
    text = planning.recommendation(planning.compare_schedules(blind, c), fit=blind)
    assert text.startswith("no recommendation: these runs do not determine C,") and "lowest point prediction" in text
    assert "C = 0 sits at its bound" in text  # and the warning itself, as a caveat


@dataclasses.dataclass(frozen=True)
class CalibratedFitLike(CovFitLike):
    """A fit whose predictive band carries a calibrated held-out scatter (``calibration["sigma_log"]``)."""

    calibration: dict = dataclasses.field(default_factory=dict)


def test_no_recommendation_when_the_gap_is_below_the_fits_held_out_error():
    """A paired interval that excludes 0 is not enough when the law itself misses unseen schedules by more."""
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    base = curve_fit(C=300.0)
    ranking = planning.compare_schedules(CovFitLike(base.law, base.params, base.samples), c)
    gaps = ranking["delta"].to_numpy()
    assert ranking.attrs["resolution"] == 0.0 and gaps[1] > 0  # no calibration, no residuals: nothing unresolved
    # a scatter between the 2nd and 3rd gap: the top two tie, the rest stay beaten
    sigma = 0.5 * (gaps[1] + gaps[2]) / ranking.loc[0, "final_loss"]
    fit = CalibratedFitLike(base.law, base.params, base.samples, calibration={"sigma_log": sigma})
    ranking = planning.compare_schedules(fit, c)
    assert ranking.attrs["resolution"] == pytest.approx(0.5 * (gaps[1] + gaps[2]), rel=1e-12)
    np.testing.assert_array_equal(planning.unresolved(ranking), np.arange(len(ranking)) < 2)
    text = planning.recommendation(ranking, fit=fit)
    top, second, third = ranking["schedule"][:3]
    assert text.startswith(f"no clear winner at this fit's resolution: 2 schedules ({top}, {second}) are predicted "
                           f"within {gaps[1]:.4f} nats of the best")
    assert f"next: {third}, +{gaps[2]:.4f} nats" in text and "lowest point prediction" in text
    below = {"sigma_log": 0.5 * gaps[1] / ranking.loc[0, "final_loss"]}
    small = CalibratedFitLike(base.law, base.params, base.samples, calibration=below)
    assert planning.recommendation(planning.compare_schedules(small, c), fit=small).startswith("recommended:")


def test_a_resolution_from_time_splits_only_is_a_caveat():
    c = planning.candidate_schedules(2000, 3e-4, warmup=100)
    base = curve_fit(C=300.0)
    note = ({"code": "band_not_calibrated", "severity": "note", "message": "time splits only"},)
    two_runs = CovFitLike(base.law, base.params, base.samples, diagnostics=note)
    text = planning.recommendation(planning.compare_schedules(two_runs, c), fit=two_runs)
    assert text.startswith("recommended:") and "come from time splits of the fitted runs only" in text
    note = ({"code": "band_one_run_refits", "severity": "note", "message": "one-run refits"},)
    two_runs = CovFitLike(base.law, base.params, base.samples, diagnostics=note)
    text = planning.recommendation(planning.compare_schedules(two_runs, c), fit=two_runs)
    assert "come from refits of one run alone" in text and "time splits" not in text


def test_the_decay_scan_names_the_fractions_within_the_resolution():
    scan = pd.DataFrame({"decay": [0.1, 0.2, 0.3, 0.5], "delta": [0.004, 0.0, 0.001, 0.02]})
    scan.attrs["resolution"] = 0.005
    expected = "fractions 0.1-0.3 are predicted within the fit's resolution (0.0050 nats) of the best"
    assert planning.decay_scan_note(scan) == expected
    scan.attrs["resolution"] = 0.0005
    assert planning.decay_scan_note(scan) == ""


def test_best_wsd_decay_scans_every_fraction():
    df = planning.best_wsd_decay(curve_fit(C=300.0), steps=2000, peak=3e-4, warmup=100, fractions=[0.1, 0.2, 0.3])
    assert list(df["decay"]) == [0.1, 0.2, 0.3]
    assert (df["rank"] == 1).sum() == 1


def test_schedule_planning_rejects_a_final_loss_fit():
    with pytest.raises(ScalingError, match="loss-curve"):
        planning.compare_schedules(chinchilla_fit(), {"cosine": "cosine:peak=3e-4,total=100"})


def test_free_schedule_search_keeps_the_peak_when_only_forward_area_counts():
    # C = 0: loss falls with the LR area only, so the best monotone schedule never decays
    lr = planning.optimal_schedule(curve_fit(C=0.0, n_samples=0), steps=400, peak=3e-4, warmup=20, knots=8)
    assert lr.shape == (401,)
    np.testing.assert_allclose(lr[20:], 3e-4, rtol=1e-3)


def test_free_schedule_is_monotone_and_beats_cosine():
    fit = curve_fit(C=30.0, n_samples=0)
    lr = planning.optimal_schedule(fit, steps=400, peak=3e-4, final=3e-5, warmup=20, knots=8)
    assert np.all(np.diff(lr[20:]) <= 1e-15) and lr[20:].min() >= 3e-5 * (1 - 1e-9) and lr.max() <= 3e-4
    ranking = planning.compare_schedules(fit, {"free": lr, "cosine": "cosine:peak=3e-4,final=3e-5,warmup=20,total=400"})
    assert ranking.loc[0, "schedule"] == "free"


def test_optimal_tokens_inverts_the_frontier():
    fit = chinchilla_fit(n_samples=10)
    plan = planning.compute_optimal(fit, [1e21, 1e23])
    back = planning.optimal_tokens(fit, plan["N"].to_numpy())
    np.testing.assert_allclose(back["D"], plan["D"], rtol=1e-6)
    assert np.all(back["D_lo"] <= back["D"]) and np.all(back["D"] <= back["D_hi"])


def test_optimal_tokens_numeric_matches_closed_form():
    law = _chinchilla_in_n_and_m()
    theta = np.array([TEX[k] for k in ("E", "A", "B", "alpha", "beta")])
    numeric = planning.optimal_tokens(FitLike(law, theta), [1e9, 4.04e10])
    closed = planning.optimal_tokens(chinchilla_fit(), [1e9, 4.04e10])
    np.testing.assert_allclose(numeric["D"], closed["D"], rtol=2e-3)


def test_kaplan_batch_fits_can_rank_schedules_for_a_batch_size():
    """kaplan-batch reads B (tokens per step): schedule planning passes it through scaling.inputs."""
    from types import SimpleNamespace

    from scaling.laws import get_law
    from scaling.laws.kaplan_batch import example_inputs

    law = get_law("kaplan-batch")
    _, theta = example_inputs(np.random.default_rng(0), law)
    fit = SimpleNamespace(law_object=lambda: law, params=theta, samples=None, covar=None, residuals=None,
                          level=0.9, diagnostics=(), data_info={})
    cands = planning.candidate_schedules(4000, 3e-4, warmup=100)
    small = planning.compare_schedules(fit, cands, steps=4000, N=1e8, B=2.0**19)
    large = planning.compare_schedules(fit, cands, steps=4000, N=1e8, B=2.0**23)
    assert np.all(np.isfinite(small["final_loss"])) and np.all(np.isfinite(large["final_loss"]))
    # a larger batch makes each step worth more tokens: a lower loss after the same steps
    assert float(large["final_loss"].min()) < float(small["final_loss"].min())
    with pytest.raises(Exception, match="batch size"):
        planning.compare_schedules(fit, cands, steps=4000, N=1e8)
