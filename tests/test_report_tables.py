"""Report tables: a law option among the derived quantities, and the schedule plan's defaults."""

import numpy as np
import pandas as pd
import pytest

from scaling.laws import get_law

from .test_report import curve_case  # noqa: F401 (the fixture)


def test_a_law_option_among_the_derived_quantities_is_shown_as_fixed_not_as_a_zero_width_interval(curve_case):
    # lr-annealing's lam = 0.999 is set, not fitted: '[0.999, 0.999]' read as a parameter the data pinned
    from scaling.fitting import dataset_from_curves, fit
    from scaling.report.summary import fit_summary_table

    law = get_law("lr-annealing", warmup_steps=50)
    result = fit(law, dataset_from_curves(law, curve_case[1]), progress=False)
    assert "lam" in result.derived and result.fixed_derived == ("lam",)
    lam_line = next(line for line in result.report().splitlines() if line.strip().startswith("lam"))
    assert "fixed: a law option, not fitted" in lam_line and "[" not in lam_line
    row = next(r for r in fit_summary_table(result).rows if r[0] == "lam")
    assert row[1] == "fixed (law option)" and row[4:] == ("", "")
    # fitted, lam is a parameter with an interval like the others
    free = fit(get_law("lr-annealing", lam="fit", warmup_steps=50), dataset_from_curves(law, curve_case[1]),
               progress=False)
    assert free.fixed_derived == () and "lam" in free.intervals


def test_schedule_plan_defaults_take_the_peak_of_any_run_and_the_fits_warmup():
    # a cosine logged every 200 steps never shows its peak; the fit's --warmup-steps is the warmup
    from scaling.fitting import dataset_from_curves
    from scaling.report.build import schedule_defaults

    s = np.arange(0, 50_001, 200)
    cos = np.where(s <= 300, 6e-4 * s / 300, 3e-4 * (1 + np.cos(np.pi * np.clip((s - 300) / 49_700, 0, 1))))
    const = np.where(s <= 300, 6e-4 * s / 300, 6e-4)[s <= 25_000]
    table = pd.concat([pd.DataFrame({"run": "cosine", "step": s, "loss": 3.0, "lr": cos}),
                       pd.DataFrame({"run": "constant", "step": s[s <= 25_000], "loss": 3.0, "lr": const})])
    law = get_law("lr-annealing", warmup_steps=300)
    data = dataset_from_curves(law, table, warmup_steps=300)
    plan = schedule_defaults(data, 300)
    assert plan["steps"] == 50_000 and plan["peak"] == pytest.approx(6e-4, rel=1e-12) and plan["warmup"] == 300
    assert schedule_defaults(data)["warmup"] == 300  # the LR filled with the given warmup tops out at 300


def test_the_report_states_which_points_and_which_loss_the_fit_used(curve_case):
    # issue 11 item 1: the fit, its report and predict state the same rule; a log with both losses says which
    from scaling.fitting import dataset_from_curves, fit
    from scaling.report.build import curve_sections

    val = curve_case[1].assign(split="val")
    train = val.assign(split="train", loss=val["loss"] * 1.01)
    table = pd.concat([train, val], ignore_index=True)
    law = get_law("lr-annealing", warmup_steps=50)
    result = fit(law, dataset_from_curves(law, table, warmup_steps=50), progress=False)
    assert result.data_info["splits"]["cosine"] == {"used": "val", "points": {"train": 60, "val": 60}}
    _, section = curve_sections(result, curves=table)
    (line,) = [b for b in section.blocks if isinstance(b, str) and b.startswith("Points fitted:")]
    n_runs = table["run"].nunique()
    assert (f"Points fitted: {result.n_points} of {60 * n_runs} points: after warmup (W = 50)" in line
            and f"Loss fitted: validation loss (split 'val') of every run; not fitted: {60 * n_runs} training-loss "
                "points (--split train fits them)." in line)


def test_the_fit_sentence_names_the_objective_and_how_the_intervals_were_made(curve_case):
    # a fit without bootstrap has Laplace intervals: the report said "no bootstrap (no intervals)"
    from scaling.fitting import dataset_from_curves, fit
    from scaling.report.summary import fit_metrics_line

    law = get_law("lr-annealing", warmup_steps=50)
    data = dataset_from_curves(law, curve_case[1])
    laplace = fit_metrics_line(fit(law, data, progress=False))
    assert "(huber-log, delta = 0.0001)" in laplace and "Laplace intervals (no bootstrap)" in laplace
    assert "no intervals" not in laplace
    boot = fit_metrics_line(fit(law, data, bootstrap=5, delta=1e-3, seed=0, progress=False))
    assert "(huber-log, delta = 0.001)" in boot and "5 bootstrap resamples" in boot
    lsq = fit_metrics_line(fit(law, data, objective="lsq-log", intervals="profile", progress=False))
    assert "(lsq-log)" in lsq and "profile-likelihood intervals (no bootstrap)" in lsq
