"""The canonical tables: building from arrays, LR reconstruction, ordering rules, bad values."""

import numpy as np
import pandas as pd
import pytest

from scaling.errors import DataError
from scaling.runs import curve_arrays, lr_per_step, make_curves, make_points, summarize_curves


def test_make_curves_has_the_canonical_columns_and_dtypes():
    t = make_curves(run="a", step=[0, 10, 20], loss=[4.0, 3.5, 3.2], lr=[1e-3, 1e-3, 5e-4])
    assert list(t.columns) == ["run", "step", "loss", "lr", "split", "source"]
    assert t["step"].dtype == np.int64
    assert t["loss"].dtype == np.float64 and t["lr"].dtype == np.float64
    assert set(t["split"]) == {"train"} and set(t["source"]) == {"<arrays>"}


def test_make_curves_without_lr_gives_nan_lr():
    t = make_curves(run="a", step=[1, 2], loss=[3.0, 2.9])
    assert t["lr"].isna().all()


def test_make_curves_sorts_unsorted_rows_and_notes_it():
    t = make_curves(run="a", step=[20, 0, 10], loss=[3.2, 4.0, 3.5])
    assert t["step"].tolist() == [0, 10, 20]
    assert t["loss"].tolist() == [4.0, 3.5, 3.2]
    assert any("sorted" in n for n in t.attrs["notes"])


def test_make_curves_keeps_train_and_val_as_splits():
    t = make_curves(run="a", step=[10, 10, 20], loss=[3.0, 3.1, 2.9], split=["train", "val", "train"])
    assert t.loc[t.split == "val", "step"].tolist() == [10]
    assert t.loc[t.split == "train", "step"].tolist() == [10, 20]


def test_make_curves_rejects_unequal_lengths():
    with pytest.raises(DataError, match="equal length"):
        make_curves(run="a", step=[0, 1], loss=[3.0])


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf])
def test_loss_must_be_positive_and_finite(bad):
    with pytest.raises(DataError, match=r"loss must be a positive finite.*index 1, column 'loss'"):
        make_curves(run="a", step=[0, 1], loss=[3.0, bad])


def test_negative_lr_is_an_error_naming_the_row():
    with pytest.raises(DataError, match=r"learning rate must be >= 0.*index 2, column 'lr'"):
        make_curves(run="a", step=[0, 1, 2], loss=[3.0, 2.9, 2.8], lr=[1e-3, 1e-3, -1e-3])


@pytest.mark.parametrize("bad", [-5, 2.5])
def test_step_must_be_a_whole_number_at_least_zero(bad):
    with pytest.raises(DataError, match="step must be a whole number"):
        make_curves(run="a", step=[0, bad], loss=[3.0, 2.9])


def test_resumed_run_keeps_the_later_values_and_notes_it():
    # Logged 0..50, crashed, resumed from the checkpoint at step 30 and ran to 60.
    step = [0, 10, 20, 30, 40, 50, 30, 40, 50, 60]
    loss = [5.0, 4.0, 3.5, 3.3, 3.2, 3.1, 3.31, 3.21, 3.11, 3.0]
    t = make_curves(run="a", step=step, loss=loss)
    assert t["step"].tolist() == [0, 10, 20, 30, 40, 50, 60]
    assert t["loss"].tolist() == [5.0, 4.0, 3.5, 3.31, 3.21, 3.11, 3.0]
    (note,) = [n for n in t.attrs["notes"] if "resumed" in n]
    assert "resumed at step 30" in note and "3 earlier rows" in note


def test_resume_replaces_earlier_rows_the_later_log_did_not_relog():
    # The first attempt logged step 45; the resumed job (from 40) logs only every 10 steps.
    t = make_curves(run="a", step=[0, 10, 20, 30, 40, 45, 40, 50], loss=[5, 4, 3.6, 3.4, 3.3, 3.25, 3.29, 3.2])
    assert t["step"].tolist() == [0, 10, 20, 30, 40, 50]
    assert t.loc[t.step == 40, "loss"].item() == 3.29


def test_steps_restarting_from_the_beginning_are_not_a_resume():
    # Two runs appended in one log: the second starts again at the first logged step.
    with pytest.raises(DataError, match=r"steps go back from 20 to 0 at index 3.*not a resumed run|second run"):
        make_curves(run="a", step=[0, 10, 20, 0, 10, 20], loss=[5, 4, 3, 5.1, 4.1, 3.1])


def test_rows_of_the_same_step_are_merged():
    t = make_curves(run="a", step=[10, 10, 20], loss=[3.0, np.nan, 2.9], lr=[np.nan, 1e-3, 1e-3])
    assert t["step"].tolist() == [10, 20]
    assert t["lr"].tolist() == [1e-3, 1e-3]


def test_rows_that_log_only_the_lr_are_kept_with_nan_loss():
    t = make_curves(run="a", step=[0, 5, 10], loss=[np.nan, 3.0, np.nan], lr=[1e-3, 1e-3, 5e-4])
    assert t["step"].tolist() == [0, 5, 10]
    assert t["loss"].isna().tolist() == [True, False, True]


def test_several_runs_stay_apart_and_in_first_seen_order():
    t = make_curves(run=["b", "a", "b", "a"], step=[0, 0, 1, 1], loss=[3, 4, 2.9, 3.9])
    assert list(pd.unique(t["run"])) == ["b", "a"]


# --------------------------------------------------------------------------- lr_per_step


def _one_run(step, lr, loss=None):
    loss = [3.0] * len(step) if loss is None else loss
    return make_curves(run="r", step=step, loss=loss, lr=lr)


def test_lr_per_step_interpolates_linearly_between_logged_points():
    lr = lr_per_step(_one_run([0, 10], [1.0, 0.0]))
    assert lr.shape == (11,)
    np.testing.assert_allclose(lr, np.linspace(1.0, 0.0, 11))


def test_lr_per_step_holds_the_first_value_backwards_without_warmup():
    lr = lr_per_step(_one_run([5, 10], [2e-3, 1e-3]))
    np.testing.assert_allclose(lr[:6], 2e-3)
    assert lr[10] == pytest.approx(1e-3)


def test_lr_per_step_adds_linear_warmup_when_the_log_starts_after_it():
    lr = lr_per_step(_one_run([100, 200], [1e-3, 1e-3]), warmup_steps=50)
    assert lr.shape == (201,)
    np.testing.assert_allclose(lr[:51], 1e-3 * np.arange(51) / 50)
    np.testing.assert_allclose(lr[50:], 1e-3)


def test_lr_per_step_ramps_to_the_first_point_when_the_log_starts_inside_warmup():
    lr = lr_per_step(_one_run([20, 100], [2e-4, 1e-3]), warmup_steps=100)
    np.testing.assert_allclose(lr[:21], 2e-4 * np.arange(21) / 20)
    np.testing.assert_allclose(lr[100], 1e-3)


def test_a_warmup_between_two_logged_steps_ends_at_its_given_length():
    """Set A of issue 11: a 300-step warmup logged every 200 steps (LR 0, 4e-4, then the peak at 400)."""
    steps = [0, 200, 400, 600]
    lr = lr_per_step(_one_run(steps, [0.0, 4e-4, 6e-4, 6e-4]), warmup_steps=300)
    np.testing.assert_allclose(lr[:301], 6e-4 * np.arange(301) / 300)  # the ramp through the logged 4e-4
    np.testing.assert_allclose(lr[300:], 6e-4)  # at the peak from step 300, not still rising to step 400
    # a decay right after the warmup: the top is kept within the logged range, the decay interpolated
    lr = lr_per_step(_one_run(steps, [0.0, 4e-4, 5.9e-4, 5.5e-4]), warmup_steps=300)
    assert lr[300] == pytest.approx(5.9e-4) and lr.max() == pytest.approx(5.9e-4)
    # without a warmup length the log is interpolated as it is
    assert lr_per_step(_one_run(steps, [0.0, 4e-4, 6e-4, 6e-4]))[300] == pytest.approx(5e-4)


def test_lr_per_step_holds_the_last_logged_value_up_to_the_last_loss_step():
    t = make_curves(run="r", step=[0, 10, 30], loss=[4.0, 3.0, 2.5], lr=[1e-3, 5e-4, np.nan])
    lr = lr_per_step(t)
    assert lr.shape == (31,)
    np.testing.assert_allclose(lr[10:], 5e-4)


def test_lr_per_step_without_lr_values_says_how_to_fix():
    with pytest.raises(DataError, match="no learning-rate values.*--lr-col"):
        lr_per_step(make_curves(run="r", step=[0, 1], loss=[3.0, 2.0]))


def test_lr_per_step_rejects_several_runs():
    t = make_curves(run=["a", "b"], step=[0, 0], loss=[3.0, 3.0], lr=[1e-3, 1e-3])
    with pytest.raises(DataError, match="2 runs"):
        lr_per_step(t)


# --------------------------------------------------------------------------- curve_arrays


def test_curve_arrays_defaults_to_val_loss_when_the_run_has_it():
    t = make_curves(
        run="a", step=[0, 10, 10, 20, 20], loss=[5, 4, 4.2, 3, 3.3],
        lr=[1e-3] * 5, split=["train", "train", "val", "train", "val"],
    )
    lr, step, loss = curve_arrays(t, "a")
    assert step.tolist() == [10, 20] and loss.tolist() == [4.2, 3.3]
    assert lr.shape == (21,)
    _, step, loss = curve_arrays(t, "a", split="train")
    assert step.tolist() == [0, 10, 20] and loss.tolist() == [5, 4, 3]


def test_curve_arrays_skips_lr_only_rows_and_returns_typed_arrays():
    t = make_curves(run="a", step=[0, 5, 10], loss=[np.nan, 3.0, 2.9], lr=[0.0, 1e-3, 1e-3])
    lr, step, loss = curve_arrays(t, "a", warmup_steps=0)
    assert step.dtype == np.int64 and loss.dtype == np.float64 and lr.dtype == np.float64
    assert step.tolist() == [5, 10]
    assert lr[0] == 0.0 and lr[5] == pytest.approx(1e-3)


def test_curve_arrays_unknown_run_lists_the_runs():
    t = make_curves(run="a", step=[0], loss=[3.0], lr=[1e-3])
    with pytest.raises(DataError, match="no run named 'b'; runs in the table: 'a'"):
        curve_arrays(t, "b")


def test_curve_arrays_missing_split_says_which_exist():
    t = make_curves(run="a", step=[0], loss=[3.0], lr=[1e-3])
    with pytest.raises(DataError, match="no val loss.*train"):
        curve_arrays(t, "a", split="val")


# --------------------------------------------------------------------------- points


def test_make_points_derives_d_from_c_and_n_and_says_so():
    t = make_points(N=[1e8, 1e9], C=[6e18, 1.2e20], loss=[3.1, 2.7])
    np.testing.assert_allclose(t["D"], [1e10, 2e10])
    assert t.attrs["derived"] == {"D": "C / (6 N)"}
    assert any("D derived" in n for n in t.attrs["notes"])


def test_make_points_derives_c_and_n():
    assert make_points(N=[2.0], D=[3.0], loss=[1.0])["C"].item() == 36.0
    assert make_points(D=[3.0], C=[36.0], loss=[1.0])["N"].item() == 2.0


def test_make_points_keeps_given_columns_and_extras():
    t = make_points(N=[1.0], D=[2.0], C=[99.0], loss=[1.5], run=["x"], lr=[3e-4])
    assert t["C"].item() == 99.0 and t.attrs["derived"] == {}
    assert list(t.columns) == ["run", "N", "D", "C", "loss", "source", "lr"]


def test_make_points_needs_two_of_n_d_c():
    with pytest.raises(DataError, match="two of N"):
        make_points(N=[1e8], loss=[3.0])


@pytest.mark.parametrize("key", ["N", "D", "loss"])
@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_make_points_rejects_non_positive_values(key, bad):
    kw = {"N": [1e8, 1e9], "D": [1e9, 1e10], "loss": [3.0, 2.5]}
    kw[key] = [kw[key][0], bad]
    with pytest.raises(DataError, match=rf"{key} must be > 0.*index 1"):
        make_points(**kw)


def test_summary_reports_ranges_and_shape():
    s = np.arange(0, 1001, 10)
    lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * s / 1000))
    t = make_curves(run="a", step=s, loss=4 - s / 1000, lr=lr)
    row = summarize_curves(t).iloc[0]
    assert (row.step_min, row.step_max, row.n_loss) == (0, 1000, 101)
    assert row.loss_min == pytest.approx(3.0) and row.lr_max == pytest.approx(1e-3)
    assert row["shape"] == "cosine"
