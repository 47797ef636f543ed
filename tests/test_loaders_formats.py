"""Each log format in its real layout: JSONL, W&B history and chart exports, HF trainer_state,
Lightning metrics.csv. The fixtures are written here, small, in the layouts the tools produce."""

import json
from pathlib import Path

import numpy as np
import pytest

from scaling.errors import DataError
from scaling.loaders import detect_format, load


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- JSONL


def test_jsonl_with_missing_keys_and_blank_lines(tmp_path):
    p = write(
        tmp_path / "run7.jsonl",
        '{"step": 0, "lr": 0.0}\n\n{"step": 10, "loss": 4.0, "lr": 0.001}\n{"step": 20, "val_loss": 3.9}\n',
    )
    assert detect_format(p) == "jsonl"
    t = load(p)
    assert t["run"].unique().tolist() == ["run7"]
    assert t.loc[t.split == "train", "step"].tolist() == [0, 10]
    assert t.loc[t.split == "val", "loss"].tolist() == [3.9]


def test_jsonl_bad_line_names_the_line(tmp_path):
    p = write(tmp_path / "r.jsonl", '{"step": 0, "loss": 4.0}\n{"step": 1, "loss": \n')
    with pytest.raises(DataError, match=r"r\.jsonl: line 2 is not valid JSON"):
        load(p)


def test_jsonl_non_numeric_value_names_the_line(tmp_path):
    p = write(tmp_path / "r.jsonl", '{"step": 0, "loss": 4.0}\n\n{"step": 1, "loss": "n/a?"}\n')
    with pytest.raises(DataError, match=r"non-numeric value 'n/a\?' at line 3, column 'loss'"):
        load(p)


# --------------------------------------------------------------------------- W&B history


WANDB_HISTORY = """_runtime,_step,_timestamp,train/epoch,train/global_step,train/learning_rate,train/loss,eval/loss,eval/runtime
12.1,0,1716900000.1,0.01,10,0.0001,4.5,,
24.0,1,1716900012.0,0.02,20,0.0002,4.0,,
24.9,2,1716900012.9,0.02,20,,,4.1,3.2
36.2,3,1716900024.2,0.03,30,0.0002,3.6,,
"""


def test_wandb_history_uses_global_step_not_wandb_step(tmp_path):
    p = write(tmp_path / "wandb_export_2024.csv", WANDB_HISTORY)
    assert detect_format(p) == "wandb"
    t = load(p)
    assert t.loc[t.split == "train", "step"].tolist() == [10, 20, 30]
    assert t.loc[t.split == "train", "lr"].tolist() == [1e-4, 2e-4, 2e-4]
    assert t.loc[t.split == "val", ["step", "loss"]].values.tolist() == [[20, 4.1]]


def test_wandb_history_falls_back_to_wandb_step(tmp_path):
    text = '{"_step": 0, "_runtime": 1.0, "_timestamp": 1.7e9, "loss": 4.0, "_wandb": {"runtime": 1}}\n' \
           '{"_step": 1, "_runtime": 2.0, "_timestamp": 1.7e9, "lr": 0.001}\n' \
           '{"_step": 2, "_runtime": 3.0, "_timestamp": 1.7e9, "loss": 3.5}\n'
    p = write(tmp_path / "wandb-history.jsonl", text)
    assert detect_format(p) == "wandb"
    t = load(p)
    assert t["step"].tolist() == [0, 1, 2]
    assert t["run"].unique().tolist() == [tmp_path.name]  # generic file name -> folder name


# --------------------------------------------------------------------------- W&B chart (panel) export


WANDB_PANEL = (
    '"Step","cosine-1b - train/loss","cosine-1b - train/loss__MIN","cosine-1b - train/loss__MAX",'
    '"wsd-1b - train/loss","wsd-1b - train/loss__MIN","wsd-1b - train/loss__MAX"\n'
    "0,10.9,10.8,11.0,10.95,10.9,11.0\n"
    "100,5.1,5.0,5.2,,,\n"
    "200,4.2,4.1,4.3,4.25,4.2,4.3\n"
)


def test_wandb_panel_export_gives_one_run_per_column_group(tmp_path):
    p = write(tmp_path / "loss_chart.csv", WANDB_PANEL)
    assert detect_format(p) == "wandb-panel"
    t = load(p)
    assert t["run"].unique().tolist() == ["cosine-1b", "wsd-1b"]
    assert t.loc[t.run == "cosine-1b", "loss"].tolist() == [10.9, 5.1, 4.2]  # __MIN/__MAX ignored
    assert t.loc[t.run == "wsd-1b", "step"].tolist() == [0, 200]


def test_wandb_panel_with_lr_metric(tmp_path):
    p = write(
        tmp_path / "chart.csv",
        '"Step","a - train/loss","a - train/learning_rate"\n0,5.0,0.0\n10,4.0,0.001\n',
    )
    t = load(p)
    assert t["lr"].tolist() == [0.0, 0.001]


def test_wandb_panel_bad_value_names_the_column(tmp_path):
    p = write(tmp_path / "chart.csv", '"Step","a - loss","a - loss__MIN"\n0,5.0,5.0\n10,-4.0,4.0\n')
    with pytest.raises(DataError, match=r"chart\.csv: loss must be a positive.*row 2 \(line 3\), column 'loss'"):
        load(p)


# --------------------------------------------------------------------------- Hugging Face


def trainer_state(tmp_path: Path, log_history: list, *, where: str = "out/llama-60m/checkpoint-30") -> Path:
    state = {
        "best_metric": None, "best_model_checkpoint": None, "epoch": 1.0, "eval_steps": 10,
        "global_step": 30, "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": log_history, "logging_steps": 10,
        "max_steps": 30, "num_train_epochs": 1, "save_steps": 30, "total_flos": 1.2e15,
        "train_batch_size": 8, "trial_name": None, "trial_params": None,
    }
    return write(tmp_path / where / "trainer_state.json", json.dumps(state, indent=2))


HF_LOG = [
    {"epoch": 0.33, "grad_norm": 1.9, "learning_rate": 4e-05, "loss": 3.91, "step": 10},
    {"epoch": 0.33, "eval_loss": 3.85, "eval_runtime": 1.2, "eval_samples_per_second": 80.1, "eval_steps_per_second": 10.0, "step": 10},
    {"epoch": 0.67, "grad_norm": 1.5, "learning_rate": 2e-05, "loss": 3.52, "step": 20},
    {"epoch": 0.67, "eval_loss": 3.50, "eval_runtime": 1.2, "eval_samples_per_second": 80.3, "eval_steps_per_second": 10.0, "step": 20},
    {"epoch": 1.0, "grad_norm": 1.4, "learning_rate": 0.0, "loss": 3.40, "step": 30},
    {"epoch": 1.0, "step": 30, "total_flos": 1.2e15, "train_loss": 3.61, "train_runtime": 12.3,
     "train_samples_per_second": 19.5, "train_steps_per_second": 2.4},
]


def test_huggingface_trainer_state_splits_train_eval_and_skips_summary(tmp_path):
    p = trainer_state(tmp_path, HF_LOG)
    assert detect_format(p) == "huggingface"
    t = load(p)
    assert t["run"].unique().tolist() == ["llama-60m"]
    train = t.loc[t.split == "train"]
    assert train["step"].tolist() == [10, 20, 30]
    assert train["loss"].tolist() == [3.91, 3.52, 3.40]  # not the summary's average 3.61
    assert train["lr"].tolist() == [4e-05, 2e-05, 0.0]
    assert t.loc[t.split == "val", "loss"].tolist() == [3.85, 3.50]
    assert any("summary" in n for n in t.attrs["notes"])


def test_huggingface_bad_entry_is_named(tmp_path):
    log = [dict(e) for e in HF_LOG]
    log[2]["loss"] = -1.0
    p = trainer_state(tmp_path, log)
    with pytest.raises(DataError, match=r"trainer_state\.json: loss must be a positive.*log_history entry 3, column 'loss'"):
        load(p)


def test_json_without_log_history_is_an_unknown_format(tmp_path):
    p = write(tmp_path / "config.json", '{"hidden_size": 512}')
    with pytest.raises(DataError, match="cannot tell the format"):
        load(p)


def test_huggingface_output_folder_is_found(tmp_path):
    trainer_state(tmp_path, HF_LOG, where="out/run-a")
    write(tmp_path / "out" / "run-a" / "config.json", '{"hidden_size": 512}')
    t = load(tmp_path / "out" / "run-a")
    assert t["run"].unique().tolist() == ["run-a"]


# --------------------------------------------------------------------------- Lightning


LIGHTNING = """epoch,lr-AdamW,step,train_loss,val_loss
0,0.001,0,,
0,,0,5.0,
0,,9,4.0,
0,,9,,4.2
0,0.0009,10,,
1,,19,3.5,
1,,19,,3.7
"""


def test_lightning_metrics_rows_of_one_step_are_merged(tmp_path):
    p = write(tmp_path / "lightning_logs" / "version_0" / "metrics.csv", LIGHTNING)
    assert detect_format(p) == "lightning"
    t = load(tmp_path / "lightning_logs")  # folder one level above the file
    assert t["run"].unique().tolist() == ["version_0"]
    train = t.loc[t.split == "train"]
    assert train["step"].tolist() == [0, 9, 10, 19]
    assert train["loss"].isna().tolist() == [False, False, True, False]
    assert train.loc[train.step == 0, "lr"].item() == 0.001
    assert t.loc[t.split == "val", ["step", "loss"]].values.tolist() == [[9, 4.2], [19, 3.7]]


def test_lightning_versions_get_distinct_names(tmp_path):
    for v in ("version_0", "version_1"):
        write(tmp_path / "lightning_logs" / v / "metrics.csv", LIGHTNING)
    t = load(str(tmp_path / "lightning_logs" / "*" / "metrics.csv"))
    assert t["run"].unique().tolist() == ["version_0", "version_1"]


def test_format_override(tmp_path):
    p = write(tmp_path / "log.dat", "step,loss\n0,4.0\n")
    with pytest.raises(DataError, match="cannot tell the format"):
        load(p)
    assert load(p, format="csv")["loss"].tolist() == [4.0]


def test_mixed_formats_in_one_folder(tmp_path):
    write(tmp_path / "a.csv", "step,loss,lr\n0,4.0,0.001\n")
    write(tmp_path / "b.jsonl", '{"step": 0, "loss": 5.0, "lr": 0.002}\n')
    t = load(tmp_path)
    assert t["run"].tolist() == ["a", "b"]
    np.testing.assert_allclose(t["lr"], [0.001, 0.002])


def test_folder_prefers_its_own_logs_over_a_tensorboard_copy(tmp_path):
    # A Hugging Face output folder holds trainer_state.json and runs/<date>/events.out.tfevents.*
    trainer_state(tmp_path, HF_LOG, where="out/run-a")
    events = tmp_path / "out" / "run-a" / "runs" / "Jan01"
    events.mkdir(parents=True)
    (events / "events.out.tfevents.1.host.0.0").write_bytes(b"")
    t = load(tmp_path / "out" / "run-a")
    assert set(t["source"]) == {str(tmp_path / "out" / "run-a" / "trainer_state.json")}


def test_points_table_passed_to_load_gets_a_hint(tmp_path):
    p = write(tmp_path / "pts.csv", "params,tokens,loss\n1e8,1e9,3.0\n")
    with pytest.raises(DataError, match="looks like a final-loss table: use scaling.load_points"):
        load(p)


def test_wandb_panel_without_values(tmp_path):
    p = write(tmp_path / "chart.csv", '"Step","a - loss"\n1,\n2,\n')
    with pytest.raises(DataError, match="chart export has no values"):
        load(p)
