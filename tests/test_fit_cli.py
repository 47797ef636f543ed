"""`scaling fit` end to end on a points CSV, and its one-line errors."""

import json

import pytest

from scaling.cli import main

from ._fit_data import chinchilla_points, power_law_points


@pytest.fixture()
def points_csv(tmp_path):
    path = tmp_path / "points.csv"
    power_law_points().to_csv(path, index=False)
    return path


def test_fit_prints_report_and_writes_json(points_csv, tmp_path, capsys):
    out = tmp_path / "fit.json"
    rc = main(["fit", str(points_csv), "--law", "power-law", "--law-option", "x=N", "--bootstrap", "20",
               "--seed", "5", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "[[Variables]]" in text and "bootstrap SD" in text
    d = json.loads(out.read_text())
    assert d["law"] == "power-law" and d["seed"] == 5 and len(d["samples"]) == 20
    assert str(points_csv) in d["data_info"]["files"]
    assert d["data_info"]["file_sha256"][str(points_csv)]


def test_curve_law_on_points_table_is_a_one_line_error(tmp_path, capsys):
    points_csv = tmp_path / "chinchilla.csv"
    chinchilla_points().to_csv(points_csv, index=False)
    rc = main(["fit", str(points_csv), "--law", "lr-annealing", "--out", str(tmp_path / "f.json")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("scaling: error:") and "points table" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_column_is_a_one_line_error(points_csv, tmp_path, capsys):
    rc = main(["fit", str(points_csv), "--law", "chinchilla", "--out", str(tmp_path / "f.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "scaling: error:" in err
    assert not (tmp_path / "f.json").exists()


def test_bad_law_option_is_a_one_line_error(points_csv, tmp_path, capsys):
    rc = main(["fit", str(points_csv), "--law", "power-law", "--law-option", "x", "--out", str(tmp_path / "f.json")])
    assert rc == 2 and "KEY=VALUE" in capsys.readouterr().err


@pytest.mark.parametrize("delta", ["0", "-1e-4", "nan"])
def test_a_bad_huber_delta_is_a_one_line_error_and_writes_nothing(points_csv, tmp_path, capsys, delta):
    out = tmp_path / "f.json"
    rc = main(["fit", str(points_csv), "--law", "power-law", "--law-option", "x=N", f"--delta={delta}",
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("scaling: error: the Huber delta must be a positive number, not ")
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_objective_target_and_intervals_flags_reach_the_fit(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    n = np.geomspace(1e7, 1e10, 12)
    err = 0.3 + 40.0 * n**-0.25
    path = tmp_path / "err.csv"
    pd.DataFrame({"N": n, "loss": 2.0 + 0 * n, "err": err}).to_csv(path, index=False)
    out = tmp_path / "f.json"
    rc = main(["fit", str(path), "--law", "power-law", "--law-option", "x=N", "--target", "err",
               "--objective", "lsq-raw", "--intervals", "profile", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "lsq-raw, summed over points" in text and "profile-likelihood intervals" in text
    d = json.loads(out.read_text())
    assert d["data_info"]["objective"] == "lsq-raw" and d["data_info"]["intervals"] == "profile"
    np.testing.assert_allclose(d["params"], [np.log(40.0), 0.25, np.log(0.3)], rtol=1e-6)


def test_gadre_recipe_through_the_cli(tmp_path, capsys):
    from pathlib import Path

    import numpy as np
    import pandas as pd

    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "gadre-overtraining"
    if not (data / "gadre_models_flat.csv").is_file():
        pytest.skip("../shared gadre-overtraining data not available")
    df = pd.read_csv(data / "gadre_models_flat.csv")
    df = df[df["dataset"] == "rpj"]
    m = df["tokens"] / df["params"]
    small = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")
    rows = (df["model"].isin(small) & np.isclose(m, 20.0)) | ((df["model"] == "d=96_l=8_h=4") & np.isclose(m, 320.0))
    path = tmp_path / "gadre5.csv"
    pd.DataFrame({"N": df["params"][rows], "D": df["tokens"][rows], "loss": df["loss_c4_val"][rows]}).to_csv(
        path, index=False)
    out = tmp_path / "g.json"
    assert main(["fit", str(path), "--law", "overtraining", "--objective", "lsq-raw", "--out", str(out)]) == 0
    d = json.loads(out.read_text())
    # the repository's curve_fit optimum (benchmarks/gadre_replication.py): a, c, b, E
    a, c, e, b = np.exp(d["params"][0]), np.exp(d["params"][1]), np.exp(d["params"][2]), d["params"][3]
    np.testing.assert_allclose([a, b, c, e], [166.21098, -0.2728507, 366.68717, 1.8366484], rtol=1e-6)
    # 1.4B at M = 640: 0.7103 % relative error (published)
    big = df[(df["model"] == "open_lm_1b") & np.isclose(m, 640.0)].iloc[0]
    pred = a * big["params"] ** b + c * 6 ** (b / 2) * big["tokens"] ** b + e
    assert round(100 * abs(pred - big["loss_c4_val"]) / big["loss_c4_val"], 4) == 0.7103


def test_prior_flag_takes_auto_or_none(tmp_path, capsys):
    from pathlib import Path

    curves = Path(__file__).resolve().parents[1] / "data" / "curves"
    args = ["fit", str(curves / "cosine.csv"), str(curves / "constant.csv"), "--law", "lr-annealing", "--split", "val"]
    assert main(args + ["--prior", "none", "--out", str(tmp_path / "f.json")]) == 0
    assert "prior" not in json.loads((tmp_path / "f.json").read_text())["data_info"]  # lr-annealing has none
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(args + ["--prior", "maybe", "--out", str(tmp_path / "g.json")])
    assert e.value.code == 2 and "invalid choice: 'maybe'" in capsys.readouterr().err


@pytest.mark.slow
def test_multi_power_fit_records_its_prior_and_prior_none_drops_it(tmp_path, capsys):
    from pathlib import Path

    curves = Path(__file__).resolve().parents[1] / "data" / "curves"
    args = ["fit", str(curves / "cosine.csv"), str(curves / "constant.csv"), "--law", "multi-power", "--split", "val"]
    assert main(args + ["--out", str(tmp_path / "with.json")]) == 0
    text = capsys.readouterr().out
    assert "prior              = beta ~ N(0.6, 0.3^2)" in text
    info = json.loads((tmp_path / "with.json").read_text())["data_info"]["prior"]
    assert info["quantities"] == ["beta", "gamma", "log C_n"] and info["weight"] > 0
    assert main(args + ["--prior", "none", "--out", str(tmp_path / "without.json")]) == 0
    assert "prior" not in json.loads((tmp_path / "without.json").read_text())["data_info"]
