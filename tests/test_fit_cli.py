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
