"""FitResult: immutable, exact JSON round trip, lmfit bridge and text report."""

import dataclasses
import json

import numpy as np
import pytest

from scaling.errors import DataError
from scaling.fitting import FitResult, dataset_from_points, fit
from scaling.laws import get_law

from ._fit_data import power_law_points


@pytest.fixture(scope="module")
def result():
    law = get_law("power-law", x="N")
    return fit(law, dataset_from_points(law, power_law_points()), bootstrap=40, seed=7)


@pytest.fixture(scope="module")
def laplace_result():
    law = get_law("power-law", x="N")
    return fit(law, dataset_from_points(law, power_law_points()))


def test_json_round_trip_is_exact(result, tmp_path):
    path = tmp_path / "fit.json"
    result.save(path)
    back = FitResult.load(path)
    assert back == result
    for f in dataclasses.fields(FitResult):
        a, b = getattr(result, f.name), getattr(back, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    assert back.samples.shape == (40, 3)
    assert back.derived_samples["E"].shape == (40,)


def test_save_writes_provenance(result, tmp_path):
    path = tmp_path / "fit.json"
    result.save(path)
    d = json.loads(path.read_text())
    assert d["law"] == "power-law" and d["law_options"] == {"x": "N", "fixed_E0": False}
    assert len(d["data_info"]["sha256"]) == 64
    assert d["version"] and d["seed"] == 7
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write left no temp file


def test_result_is_immutable(result):
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.objective = 0.0
    with pytest.raises(ValueError):
        result.params[0] = 1.0
    with pytest.raises(TypeError):
        result.derived["E"] = 1.0


def test_law_object_rebuilds_the_law(result):
    law = result.law_object()
    assert law.name == "power-law" and dict(law.options) == {"x": "N", "fixed_E0": False}


def test_bootstrap_stderr_is_the_sample_sd(result):
    np.testing.assert_allclose(result.stderr, np.std(result.samples, axis=0, ddof=1), rtol=1e-12)
    lo, hi = result.intervals["alpha"]
    assert lo < result.param("alpha") < hi


def test_laplace_stderr_without_bootstrap(laplace_result):
    assert laplace_result.samples is None
    assert np.all(np.isfinite(laplace_result.stderr)) and np.all(laplace_result.stderr > 0)
    lo, hi = laplace_result.derived_intervals["E"]
    assert lo < laplace_result.derived["E"] < hi


def test_to_lmfit_prints_with_lmfit_fit_report(result):
    import lmfit

    params = result.to_lmfit()
    assert params["alpha"].value == pytest.approx(result.param("alpha"))
    assert params["alpha"].stderr == pytest.approx(result.stderr[1])
    text = lmfit.fit_report(params)
    assert "[[Variables]]" in text and "[[Correlations]]" in text


def test_report_has_lmfit_sections_and_fit_statistics(result):
    text = result.report()
    for section in ("[[Fit Statistics]]", "[[Variables]]", "[[Derived]]", "[[Correlations]]"):
        assert section in text
    for stat in ("# data points", "objective", "Akaike", "Bayesian", "R-squared", "RMSE", "starts at best", "time"):
        assert stat in text


def test_loading_a_non_result_is_a_one_line_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(DataError, match="not a scaling fit result"):
        FitResult.load(path)
