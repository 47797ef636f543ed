"""The point-selection rule: warmup and early transient out, relative to the run, overridable."""

import numpy as np
import pandas as pd
import pytest

from scaling.errors import DataError
from scaling.fitting import dataset_from_curves
from scaling.fitting.selection import (describe, detect_warmup, fit_mask, keep_all_rule, point_reasons,
                                       selection_rule)


def _warmup_then_constant(warmup=300, total=20000, peak=1e-3):
    return np.r_[np.linspace(0.0, peak, warmup + 1), np.full(total - warmup, peak)]


def test_warmup_is_detected_as_the_top_of_the_initial_ramp():
    assert detect_warmup(_warmup_then_constant(300)) == 300
    assert detect_warmup(np.full(100, 1e-3)) == 0
    cosine = 1e-3 * 0.5 * (1 + np.cos(np.pi * np.arange(101) / 100))
    assert detect_warmup(cosine) == 0
    # a log that starts inside warmup, its first value held back to step 0
    held = np.r_[np.full(21, 2e-3), np.linspace(2e-3, 3e-3, 21)[1:], np.full(60, 3e-3)]
    assert detect_warmup(held) == 40


def test_points_inside_warmup_and_at_step_0_are_excluded():
    lr = _warmup_then_constant(300)
    steps = np.array([0, 200, 300, 400, 1000, 20000])
    assert fit_mask(steps, lr).tolist() == [False, False, False, True, True, True]


def test_without_warmup_only_the_step_0_point_and_the_first_percent_of_area_go():
    # issue 11 set B: peak LR from step 0, 33,908 steps; the step-0 point must go,
    # points at step >= 1000 must stay (cutting them was measured to hurt)
    lr = np.full(33909, 6e-4)
    steps = np.array([0, 100, 338, 339, 1000, 33908])
    reason, w = point_reasons(steps, lr)
    assert w == 0
    assert reason.tolist() == [1, 2, 2, 0, 0, 0]  # area(s) = (s + 1) x lr; 1 % of the total = 339.09 x lr


def test_area_cut_is_relative_so_rescaling_the_lr_does_not_change_it():
    lr = _warmup_then_constant(30, 600, 3e-3)
    steps = np.arange(0, 601, 2)
    np.testing.assert_array_equal(fit_mask(steps, lr), fit_mask(steps, 1e3 * lr))


def test_min_and_max_step_override_the_rule():
    lr = _warmup_then_constant(300)
    steps = np.array([0, 100, 200, 400, 5000, 15000])
    rule = selection_rule(min_step=100, max_step=5000)
    assert fit_mask(steps, lr, rule).tolist() == [False, True, True, True, True, False]
    assert fit_mask(steps, lr, keep_all_rule()).all()


def test_bad_rules_are_one_line_errors():
    with pytest.raises(DataError, match="max_step"):
        selection_rule(min_step=10, max_step=5)
    with pytest.raises(DataError, match="unknown point-selection keys"):
        fit_mask(np.array([1]), np.ones(3), {"min_stpe": 3})


def _table():
    rows = []
    lr = _warmup_then_constant(30, 600, 3e-3)
    for step in range(0, 601, 20):
        rows.append({"run": "a", "step": step, "loss": 3.0 + 1.0 / (1 + step), "lr": lr[step]})
    return pd.DataFrame(rows)


def test_dataset_records_rule_and_counts_and_the_fit_keeps_them():
    from scaling.fitting import fit

    ds = dataset_from_curves("lr-annealing", _table())
    sel = ds.info["selection"]
    assert sel["rule"] == selection_rule()
    # steps 0 and 20 are inside the 30-step warmup (the LR log shows it at every 20 steps: top at 40)
    assert sel["runs"]["a"]["warmup"] == 3 and sel["runs"]["a"]["n_kept"] == 28
    assert ds[0].inputs["step"].min() == 60
    assert "28 of 31 points" in describe(sel) and "3 warmup" in describe(sel)
    ds2 = dataset_from_curves("lr-annealing", _table(), min_step=100, max_step=400)
    assert ds2[0].inputs["step"].min() == 100 and ds2[0].inputs["step"].max() == 400
    result = fit("lr-annealing", ds2, progress=False)
    assert result.data_info["selection"]["rule"]["min_step"] == 100
    assert result.data_info["selection"]["runs"]["a"]["below_min_step"] == 5


def test_a_rule_that_leaves_nothing_says_so():
    with pytest.raises(DataError, match="point-selection rule left no loss points"):
        dataset_from_curves("lr-annealing", _table(), min_step=5000)


def test_cli_fit_min_max_step_and_aggregate_reach_the_fit(tmp_path, capsys):
    from scaling.cli import main
    from scaling.fitting import FitResult

    path = tmp_path / "run.csv"
    _table().drop(columns=["run"]).to_csv(path, index=False)
    out = tmp_path / "fit.json"
    rc = main(["fit", str(path), "--law", "lr-annealing", "--min-step", "100", "--max-step", "400",
               "--aggregate", "2", "--out", str(out)])
    assert rc == 0
    result = FitResult.load(out)
    sel = result.data_info["selection"]
    assert sel["rule"]["min_step"] == 100 and sel["rule"]["max_step"] == 400
    assert result.data_info["aggregate"]["option"] == 2 and result.n_points == 8  # 16 points in windows of 2
    assert "points used        = 16 of 31 points: steps >= 100, steps <= 400" in capsys.readouterr().out
    rc = main(["fit", str(path), "--law", "lr-annealing", "--aggregate", "two", "--out", str(out)])
    assert rc != 0 and "--aggregate takes a number" in capsys.readouterr().err
