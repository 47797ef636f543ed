"""The downstream law Err(L) = E' - k exp(-g L) and fitting a non-loss target column."""

import numpy as np
import pandas as pd
import pytest

from scaling._x64 import float64
from scaling.errors import DataError
from scaling.fitting import dataset_from_points, fit
from scaling.laws import get_law

THETA = np.array([0.857, 2.206, 0.7146])  # the paper repository's 17-task fit


def test_error_matches_the_hand_computed_formula():
    loss = np.array([2.5, 3.0, 5.0])
    with float64():
        got = np.asarray(get_law("downstream")(THETA, {"loss": loss}))
    np.testing.assert_allclose(got, 0.857 - 2.206 * np.exp(-0.7146 * loss), rtol=1e-13)
    # by hand: 0.857 - 2.206 * exp(-1.7865) = 0.857 - 2.206 * 0.167546 = 0.487394
    assert abs(got[0] - 0.487394) < 2e-6


def test_input_column_is_an_option():
    law = get_law("downstream", x="loss_c4_val")
    assert law.inputs == ("loss_c4_val",) and law.options == {"x": "loss_c4_val"}


def test_dataset_target_column_is_what_gets_fitted():
    df = pd.DataFrame({"loss": [3.0, 4.0, 5.0, 6.0], "err": [0.6, 0.7, 0.75, 0.8]})
    data = dataset_from_points(get_law("downstream"), df, target="err")
    np.testing.assert_array_equal(data[0].loss, df["err"].to_numpy())
    np.testing.assert_array_equal(data[0].inputs["loss"], df["loss"].to_numpy())
    assert data.info["target"] == "err"


def test_missing_target_column_is_a_one_line_error():
    df = pd.DataFrame({"loss": [3.0, 4.0, 5.0, 6.0]})
    with pytest.raises(DataError, match="no target column 'err_avg_17'"):
        dataset_from_points(get_law("downstream"), df, target="err_avg_17")


def test_fit_recovers_the_error_law_from_noisy_errors():
    rng = np.random.default_rng(0)
    loss = np.linspace(2.2, 6.0, 30)
    err = (0.857 - 2.206 * np.exp(-0.7146 * loss)) * np.exp(rng.normal(0, 0.002, loss.size))
    law = get_law("downstream")
    res = fit(law, dataset_from_points(law, pd.DataFrame({"loss": loss, "err": err}), target="err"), level=0.99)
    assert res.data_info["target"] == "err"
    for i, name in enumerate(law.param_names):
        lo, hi = res.intervals[name]
        assert lo <= THETA[i] <= hi, name
