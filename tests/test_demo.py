"""``scaling demo``: bad input fails fast in one line; ``out/summary.json`` keeps its contract."""

import json

import pytest

from scaling.cli import main


def test_an_output_path_that_is_a_file_is_refused_before_any_fit(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["demo", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "is a file" in err and err.count("\n") == 1
    assert target.read_text() == "x"


def test_an_unknown_dataset_is_a_one_line_error(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "o"), "--curves", "luo2025-7B"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "luo2025-7B" in err and not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.slow
def test_summary_json_has_the_documented_shape(tmp_path):
    from scaling.demo import run_demo

    run_demo(tmp_path, curve_laws=["lr-annealing"], final_laws=["chinchilla"], horizon=30_000,
             curve_bootstrap=8, final_bootstrap=20, log=lambda line: None)
    summary = json.loads((tmp_path / "summary.json").read_text())
    curves = summary["curves"]["lr-annealing"]
    assert curves["fit_on"] == ["constant_24000", "cosine_24000", "wsdcon_9"]
    assert len(curves["held_out"]) == 6
    for run, m in curves["held_out"].items():
        assert 0 < m["PredE"] < 0.5, run  # percent: the bar for the demo
        assert m["WorstE"] >= m["PredE"] and 0.0 <= m["band"] <= 1.0
    final = summary["final"]["chinchilla"]
    assert set(final["params"]) >= {"E", "A", "B", "alpha", "beta"} and isinstance(final["warnings"], list)
    assert "recommendation" in summary["plan"]["schedule"] and summary["plan"]["compute"]["budgets"]
    assert summary["plan"]["schedule"]["resolution"] > 0  # the calibrated held-out error the verdict is read against
    assert (tmp_path / "report" / "report.html").exists() and (tmp_path / "fit_chinchilla.json").exists()
