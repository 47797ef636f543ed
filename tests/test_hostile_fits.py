"""Hostile fits: text where numbers belong, degenerate data, impossible correlations (issue 13)."""

import numpy as np
import pandas as pd
import pytest

from scaling.errors import DataError


def test_a_text_column_read_by_a_law_option_is_a_one_line_error_naming_the_cell():
    from scaling.fitting import dataset_from_points
    from scaling.laws import get_law

    table = pd.DataFrame({"width": ["64", "128", "wide", "512"], "loss": [3.0, 2.8, 2.7, 2.6]})
    with pytest.raises(DataError, match=r"column 'width' .* row 3 holds 'wide', not a number"):
        dataset_from_points(get_law("power-law", x="width"), table)


def test_the_cli_exits_2_without_a_traceback_on_a_text_column(tmp_path, capsys):
    from scaling.cli import main

    path = tmp_path / "w.csv"
    path.write_text("width,loss\na,3\nb,2.8\nc,2.7\nd,2.6\ne,2.55\n")
    assert main(["fit", str(path), "--law", "power-law", "--law-option", "x=width",
                 "--out", str(tmp_path / "f.json")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not a number" in err and not (tmp_path / "f.json").exists()


def test_correlations_of_a_covariance_that_is_not_positive_semidefinite_are_unknown():
    from dataclasses import replace

    from tests.test_design import _tiny_curve_fit

    fit = _tiny_curve_fit()
    bad = np.diag([1.0, 1.0, 1.0, 1.0])
    bad[0, 1] = bad[1, 0] = 143.7  # what an all-equal-loss fit produced
    corr = replace(fit, covar=bad).correl
    assert np.isnan(corr[0, 1]) and np.all(np.abs(corr[np.isfinite(corr)]) <= 1.0)


def test_all_equal_losses_get_warnings_not_a_clean_report():
    from scaling.fitting import dataset_from_points, fit
    from tests._fit_data import chinchilla_points

    pts = chinchilla_points(seed=1)
    pts["loss"] = 3.0
    res = fit("chinchilla", dataset_from_points("chinchilla", pts))
    codes = {d["code"] for d in res.diagnostics if d["severity"] == "warning"}
    assert codes & {"zero_width_interval", "not_converged", "near_perfect_correlation", "not_identifiable"}
    corr = res.correl
    assert np.all(np.abs(corr[np.isfinite(corr)]) <= 1.0)


# --------------------------------------------------------------------------- "converged" claims no more than the data give


def _undetermined_grid(path):
    """A 16-point grid (4 sizes x 4 token ratios) of losses scaled by 1e6 with 5% noise: the
    optimizer converges, but the data leave beta's interval wider than beta itself."""
    n = np.repeat(np.geomspace(1e7, 1e9, 4), 4)
    d = n * np.tile(np.geomspace(5, 100, 4), 4)
    rng = np.random.default_rng(0)
    rng.normal(0, 0.05, 16)
    loss = 1e6 * (1.69 + 406 * n**-0.34 + 410 * d**-0.28) * np.exp(rng.normal(0, 0.05, 16))
    pd.DataFrame({"N": n, "D": d, "loss": loss}).to_csv(path, index=False)
    return path


def test_converged_is_qualified_in_the_terminal_the_json_and_the_report(tmp_path, capsys):
    import json

    from scaling.cli import main

    data = _undetermined_grid(tmp_path / "grid.csv")
    out = tmp_path / "fit.json"
    assert main(["fit", str(data), "--law", "chinchilla", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    line = next(x for x in printed.splitlines() if x.strip().startswith("converged"))
    assert "True: " in line and "but the data do not determine 1 of 5 parameters (beta): see the warnings" in line
    saved = json.loads(out.read_text())
    assert saved["success"] is True  # the optimizer's stop, unchanged
    assert saved["convergence"]["optimizer"] is True and saved["convergence"]["determined"] is False
    assert saved["convergence"]["undetermined"] == ["beta"]
    from scaling.fitting import FitResult
    from scaling.report.summary import fit_metrics_line

    # The sentence the report prints under its fit summary (the whole report: the slow test below).
    assert "converged: yes (optimizer), but the data do not determine 1 of 5 parameters (beta)" in fit_metrics_line(
        FitResult.load(out))
    # and budget, like the report, does not present the allocation as a recommendation
    assert main(["budget", str(out), "--flops", "1e21"]) == 0
    printed = capsys.readouterr().out
    assert "not a recommendation: converged yes (optimizer), but the data do not determine 1 of 5 parameters (beta)" \
        in printed


@pytest.mark.slow
def test_the_report_qualifies_converged_end_to_end(tmp_path):
    from scaling.cli import main

    data = _undetermined_grid(tmp_path / "grid.csv")
    out = tmp_path / "fit.json"
    assert main(["fit", str(data), "--law", "chinchilla", "--out", str(out)]) == 0
    assert main(["report", str(out), "--data", str(data), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "converged: yes (optimizer), but the data do not determine 1 of 5 parameters (beta)" in md
    assert "converged: yes;" not in md


@pytest.mark.parametrize("law_name", ["multi-power", "lr-annealing"])
def test_a_run_whose_lr_is_never_positive_is_a_one_line_fit_error(law_name):
    from scaling.errors import FitError
    from scaling.fitting import Dataset, Group, fit

    steps = np.arange(100, 2001, 100)
    runs = [Group("zero-lr", {"lr": np.zeros(2001), "step": steps}, 3.0 - 1e-4 * np.arange(steps.size))]
    # before: multi-power raised a ZeroDivisionError in its data-derived starts (0.0 ** negative), lr-annealing
    # fitted the flat line without a word
    with pytest.raises(FitError, match=r"run 'zero-lr': its learning rate is never positive .* check the lr column"):
        fit(law_name, Dataset(runs, info={"kind": "curves"}), progress=False)
