"""Building datasets from points and curve tables, and the one-line errors for bad input."""

import numpy as np
import pandas as pd
import pytest

from scaling.errors import DataError
from scaling.fitting import dataset_from_curves, dataset_from_points
from scaling.fitting.selection import keep_all_rule
from scaling.laws import get_law

from ._fit_data import chinchilla_points


def test_points_become_one_group_with_the_law_inputs():
    df = chinchilla_points()
    ds = dataset_from_points("chinchilla", df)
    assert len(ds) == 1 and ds.n_points == len(df)
    assert set(ds[0].inputs) == {"N", "D"}
    np.testing.assert_array_equal(ds[0].loss, df["loss"].to_numpy())
    assert "run" in ds.columns


def test_missing_D_is_derived_from_C_and_N():
    df = chinchilla_points().drop(columns=["D"])
    ds = dataset_from_points("chinchilla", df)
    np.testing.assert_allclose(ds[0].inputs["D"], df["C"] / (6 * df["N"]), rtol=1e-15)
    assert ds.info["D_from_C"] == "D = C / (6 N)"


def test_missing_input_column_names_the_column():
    df = chinchilla_points().drop(columns=["D", "C"])
    with pytest.raises(DataError, match="needs column 'D'"):
        dataset_from_points("chinchilla", df)


def test_non_positive_loss_names_the_row():
    df = chinchilla_points()
    df.loc[3, "loss"] = 0.0
    with pytest.raises(DataError, match="row 3"):
        dataset_from_points("chinchilla", df)


def test_content_hash_changes_with_the_numbers():
    df = chinchilla_points()
    a = dataset_from_points("chinchilla", df).content_hash()
    df.loc[0, "loss"] *= 1.0001
    assert dataset_from_points("chinchilla", df).content_hash() != a


def _curves():
    rows = []
    for run, peak in (("cos", 1e-3), ("const", 5e-4)):
        for step in range(0, 101, 10):
            lr = peak * (0.5 * (1 + np.cos(np.pi * step / 100)) if run == "cos" else 1.0)
            rows.append({"run": run, "step": step, "loss": 3.0 - 0.005 * step, "lr": lr, "params": 1e8})
    return pd.DataFrame(rows)


def test_curves_become_one_group_per_run_with_lr_per_step():
    law = get_law("lr-annealing")
    ds = dataset_from_curves(law, _curves(), selection=keep_all_rule())
    assert [g.name for g in ds] == ["cos", "const"]
    g = ds[0]
    assert g.inputs["lr"].shape == (101,)
    np.testing.assert_array_equal(g.inputs["step"], np.arange(0, 101, 10))
    assert ds.info["kind"] == "curves"


def test_curves_drop_the_step_0_point_by_default_and_record_it():
    ds = dataset_from_curves("lr-annealing", _curves())
    np.testing.assert_array_equal(ds[0].inputs["step"], np.arange(10, 101, 10))
    assert ds.info["selection"]["runs"]["cos"]["warmup"] == 1
    assert ds.info["selection"]["runs"]["cos"]["n_kept"] == 10


def test_final_law_on_curves_and_curve_law_on_points_are_clear_errors():
    with pytest.raises(DataError, match="final-loss law"):
        dataset_from_curves("chinchilla", _curves())
    with pytest.raises(DataError, match="loss-curve law"):
        dataset_from_points("lr-annealing", chinchilla_points())
