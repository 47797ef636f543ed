"""End to end: `scaling fit` two runs, `scaling predict --lr-from` a third; plus laws/schedules."""

import numpy as np
import pandas as pd
import pytest

from scaling import schedules as sch
from scaling._x64 import float64
from scaling.cli import main
from scaling.laws import get_law

THETA = np.array([2.5, 0.6, 0.45, 0.5])
SPECS = {
    "constant": "constant:peak=3e-4,warmup=300,total=8000",
    "cosine": "cosine:peak=3e-4,final=3e-5,warmup=300,total=8000",
    "wsd": "wsd:peak=3e-4,final=3e-5,warmup=300,total=8000,decay=0.2,shape=1-sqrt",
}


def _write_log(path, spec, seed):
    """A CSV log like a trainer writes: step, lr, loss every 50 steps after warmup."""
    sched, total = sch.parse_schedule(spec)
    lr = sch.schedule_array(sched, total)
    steps = np.arange(350, total + 1, 50)
    with float64():
        loss = np.asarray(get_law("lr-annealing")(THETA, {"lr": lr, "step": steps}))
    loss = loss * np.exp(np.random.default_rng(seed).normal(0, 0.001, steps.size))
    pd.DataFrame({"step": steps, "lr": lr[steps], "loss": loss}).to_csv(path, index=False)
    return loss


@pytest.mark.slow
def test_fit_two_runs_then_predict_the_third_from_its_log(tmp_path, capsys):
    for i, name in enumerate(SPECS):
        _write_log(tmp_path / f"{name}.csv", SPECS[name], i)
    fit_json, pred_csv = tmp_path / "fit.json", tmp_path / "pred.csv"
    assert main(["fit", str(tmp_path / "constant.csv"), str(tmp_path / "cosine.csv"), "--law", "lr-annealing",
                 "--warmup-steps", "300", "--bootstrap", "8", "--out", str(fit_json)]) == 0
    capsys.readouterr()
    assert main(["predict", str(fit_json), "--lr-from", str(tmp_path / "wsd.csv"), "--out", str(pred_csv)]) == 0
    out = capsys.readouterr().out
    assert "PredE" in out and "WorstE" in out and "final " in out and "band" in out
    pred = pd.read_csv(pred_csv)
    # the columns keep their places; in_fit_rule (new) comes last
    assert list(pred.columns) == ["step", "lr", "loss", "loss_lo", "loss_hi", "observed", "in_fit_rule"]
    rel = np.abs(pred["loss"] - pred["observed"]) / pred["observed"]
    assert rel.mean() < 0.002 and rel.max() < 0.006
    assert np.all(pred["loss_lo"] <= pred["loss_hi"])
    # a schedule spec with a step range
    assert main(["predict", str(fit_json), "--schedule", SPECS["cosine"].replace("8000", "16000"),
                 "--steps", "1000:16000:1000", "--out", str(pred_csv)]) == 0
    pred = pd.read_csv(pred_csv)
    assert pred["step"].tolist() == list(range(1000, 16001, 1000)) and "observed" not in pred.columns


@pytest.mark.slow
def test_set_a_workflow_logs_from_step_0_with_points_inside_the_warmup(tmp_path, capsys):
    """Issue 11's set A: loss and LR every 200 steps from step 0 (steps 0 and 200 inside a 300-step warmup)."""
    specs = {**SPECS, "wsd90": "wsd:peak=3e-4,final=0,warmup=300,total=8000,decay=0.9,shape=1-sqrt"}
    for i, (name, spec) in enumerate(specs.items()):
        lr = sch.schedule_array(sch.parse_schedule(spec)[0], 8000)
        steps = np.arange(0, 8001, 200)
        with float64():
            loss = np.asarray(get_law("lr-annealing")(THETA, {"lr": lr, "step": np.maximum(steps, 1)}))
        loss = np.minimum(loss, 10.8) * np.exp(np.random.default_rng(i).normal(0, 0.001, steps.size))
        loss[0] = 10.8
        pd.DataFrame({"step": steps, "lr": lr[steps], "loss": loss}).to_csv(tmp_path / f"{name}.csv", index=False)
    fit_json, pred_csv = tmp_path / "fit.json", tmp_path / "pred.csv"
    assert main(["fit", str(tmp_path / "constant.csv"), str(tmp_path / "cosine.csv"), "--law", "lr-annealing",
                 "--warmup-steps", "300", "--out", str(fit_json)]) == 0
    out = capsys.readouterr().out
    assert "excluded: 4 warmup" in out  # steps 0 and 200 of each run
    assert main(["predict", str(fit_json), "--lr-from", str(tmp_path / "wsd90.csv"), "--out", str(pred_csv)]) == 0
    out = capsys.readouterr().out
    pred = pd.read_csv(pred_csv)
    assert np.isnan(pred.loc[0, "loss"]) and not pred.loc[pred["step"] <= 300, "in_fit_rule"].any()
    assert "predicted step 0 comes before any LR was applied" in out
    scored = pred[pred["in_fit_rule"]]
    rel = np.abs(scored["loss"] - scored["observed"]) / scored["observed"]
    assert rel.mean() < 0.002 and rel.max() < 0.006


def test_predict_with_a_bad_spec_is_a_one_line_error(tmp_path, capsys):
    fit_json = tmp_path / "fit.json"
    fit_json.write_text("{}")
    code = main(["predict", str(tmp_path / "missing.json"), "--schedule", "cosine:peak=1", "--out",
                 str(tmp_path / "p.csv")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("scaling: error:") and "\n" not in err


def test_laws_lists_the_curve_laws(capsys):
    assert main(["laws"]) == 0
    out = capsys.readouterr().out
    for name in ("lr-annealing", "multi-power", "lr-annealing-n"):
        assert name in out
    assert "arXiv:2408.11029" in out and "arXiv:2503.12811" in out


def test_schedules_prints_the_grammar_and_a_spec(capsys):
    assert main(["schedules"]) == 0
    assert "wsd:" in capsys.readouterr().out
    assert main(["schedules", "cosine:peak=3e-4,final=3e-5,warmup=100,total=1000"]) == 0
    out = capsys.readouterr().out
    assert "1000" in out and "3e-05" in out


def test_steps_inf_or_too_many_is_a_one_line_error():
    from scaling.errors import ScalingError
    from scaling.prediction import parse_steps

    for text in ("inf", "0:inf:1", "1:1e12:1", "nan"):
        with pytest.raises(ScalingError, match="--steps"):
            parse_steps(text)


def test_predict_prints_the_fits_own_warnings(tmp_path, capsys):
    """A fit of one constant-LR run cannot determine C; predicting a cosine from it says so (issue 11 item 4)."""
    _write_log(tmp_path / "constant.csv", SPECS["constant"], 0)
    fit_json = tmp_path / "fit.json"
    assert main(["fit", str(tmp_path / "constant.csv"), "--law", "lr-annealing", "--warmup-steps", "300",
                 "--out", str(fit_json)]) == 0
    capsys.readouterr()
    assert main(["predict", str(fit_json), "--schedule", SPECS["cosine"], "--out", str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err
    assert "warning: C cannot be determined from these runs" in err
    # a bad input is still the one line of its error, not the end of the fit's warnings
    for cmd in (["predict", str(fit_json), "--schedule", "cosine:peak=oops", "--out", str(tmp_path / "q.csv")],
                ["schedule-plan", str(fit_json), "--steps", "8000", "--peak", "3e-4", "--schedule", "cosine:peak=oops"]):
        assert main(cmd) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("scaling: error: schedule spec 'cosine:peak=oops'") and "\n" not in err, cmd


def test_fit_lists_its_diagnostics_once_and_counts_them_on_stderr(tmp_path, capsys):
    """The report on stdout holds every message; stderr counts them by code instead of repeating them."""
    _write_log(tmp_path / "constant.csv", SPECS["constant"], 0)
    assert main(["fit", str(tmp_path / "constant.csv"), "--law", "lr-annealing", "--warmup-steps", "300",
                 "--out", str(tmp_path / "fit.json")]) == 0
    out, err = capsys.readouterr()
    message = "C cannot be determined from these runs"
    assert out.count(message) == 1 and message not in err
    line = [x for x in err.splitlines() if x.startswith("diagnostics: ")]
    assert len(line) == 1 and "not_identifiable" in line[0] and "[[Diagnostics]]" in line[0]


def _write_train_val_log(path, spec, seed, val_every=100):
    """A W&B-style export: per-step training loss (1 % noise) and a validation loss every ``val_every`` steps."""
    sched, total = sch.parse_schedule(spec)
    lr = sch.schedule_array(sched, total)
    steps = np.arange(total + 1)
    with float64():
        clean = np.asarray(get_law("lr-annealing")(THETA, {"lr": lr, "step": np.maximum(steps, 1)}))
    rng = np.random.default_rng(seed)
    val = np.where(steps % val_every == 0, clean * np.exp(rng.normal(0, 0.001, steps.size)), np.nan)
    pd.DataFrame({"_step": steps, "train/lr": lr, "train/loss": clean * np.exp(rng.normal(0, 0.01, steps.size)),
                  "eval/loss": val}).to_csv(path, index=False)


def test_fit_and_predict_say_which_loss_they_used_and_score_like_with_like(tmp_path, capsys):
    """A log with training and validation loss: the fit names the split it fitted (validation by default) and
    what it left; a fit of the training loss is scored against the training loss of the predicted log."""
    import json

    specs = {k: v.replace("8000", "3000") for k, v in SPECS.items()}
    for i, (name, spec) in enumerate(specs.items()):
        _write_train_val_log(tmp_path / f"{name}.csv", spec, i)
    logs = [str(tmp_path / "constant.csv"), str(tmp_path / "cosine.csv")]
    assert main(["fit", *logs, "--law", "lr-annealing", "--warmup-steps", "300", "--out", str(tmp_path / "v.json")]) == 0
    out = capsys.readouterr().out
    assert ("loss fitted        = validation loss (split 'val') of every run; not fitted: 6002 training-loss "
            "points (--split train fits them)") in out
    splits = json.loads((tmp_path / "v.json").read_text())["data_info"]["splits"]
    assert splits["constant"] == {"used": "val", "points": {"train": 3001, "val": 31}}
    assert main(["predict", str(tmp_path / "v.json"), "--lr-from", str(tmp_path / "wsd.csv"),
                 "--out", str(tmp_path / "pv.csv")]) == 0
    assert "vs observed (validation loss, " in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "pv.csv")) == 31
    assert main(["fit", *logs, "--law", "lr-annealing", "--warmup-steps", "300", "--split", "train",
                 "--out", str(tmp_path / "t.json")]) == 0
    assert "loss fitted        = training loss (split 'train') of every run" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "t.json"), "--lr-from", str(tmp_path / "wsd.csv"),
                 "--out", str(tmp_path / "pt.csv")]) == 0
    assert "vs observed (training loss, " in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "pt.csv")) == 3001  # every training-loss step, not the 31 validation ones
    # a split the log does not have: one line that says what it has, no output written
    pd.read_csv(tmp_path / "wsd.csv").drop(columns="eval/loss").to_csv(tmp_path / "train_only.csv", index=False)
    assert main(["predict", str(tmp_path / "v.json"), "--lr-from", str(tmp_path / "train_only.csv"), "--split", "val",
                 "--out", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("scaling: error:") and "\n" not in err
    assert "has no val loss (it has: train); pick another split" in err and not (tmp_path / "bad.csv").exists()
