"""W&B run dumps: one JSON document with config, summary and a history of rows or of columns."""

import json
from pathlib import Path

import pandas as pd
import pytest

from scaling.errors import DataError
from scaling.loaders import detect_format, load

STEPS = [0, 100, 200, 300]
TRAIN = [5.0, 4.0, 3.5, 3.2]
LR = [1e-3, 1e-3, 5e-4, 1e-4]
VAL = {100: 4.2, 300: 3.4}


def rows():
    out = []
    for i, (s, loss, lr) in enumerate(zip(STEPS, TRAIN, LR)):
        out.append({"_step": i, "_runtime": 1.5 * i, "train/global_step": s, "train/loss": loss, "train/learning_rate": lr})
        if s in VAL:
            out.append({"_step": i, "train/global_step": s, "eval/loss": VAL[s]})
    return out


def dump(path: Path, history, **extra) -> Path:
    doc = {"config": {"learning_rate": 1e-3, "warmup_steps": 0}, "summary": {"train/loss": 3.2, "_step": 3},
           "history": history, **extra}
    path.write_text(json.dumps(doc, indent=2))
    return path


def frame():
    return pd.DataFrame.from_records(rows())


LAYOUTS = {
    "records": lambda: rows(),
    "list": lambda: {k: [None if pd.isna(v) else v for v in col] for k, col in frame().to_dict(orient="list").items()},
    "dict": lambda: {k: {str(i): (None if pd.isna(v) else v) for i, v in col.items()} for k, col in frame().to_dict().items()},
    "split": lambda: {"columns": list(frame().columns),
                      "data": [[None if pd.isna(v) else v for v in r] for r in frame().itertuples(index=False)]},
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_history_layout_gives_the_same_curves(tmp_path, layout):
    p = dump(tmp_path / "run-abc.json", LAYOUTS[layout]())
    assert detect_format(p) == "wandb"
    t = load(p)
    train = t[t.split == "train"]
    assert train["step"].tolist() == STEPS and train["loss"].tolist() == TRAIN and train["lr"].tolist() == LR
    val = t[t.split == "val"]
    assert dict(zip(val["step"], val["loss"])) == VAL
    assert set(t["run"]) == {"run-abc"}


def test_the_train_val_choice_applies(tmp_path):
    p = dump(tmp_path / "d.json", rows())
    assert set(load(p, split="val")["split"]) == {"val"}
    assert load(p, split="train")["loss"].tolist() == TRAIN


def test_the_run_is_named_after_the_dump_name(tmp_path):
    t = load(dump(tmp_path / "d.json", rows(), name="cosine-124M"))
    assert set(t["run"]) == {"cosine-124M"}


def test_a_pretty_printed_dump_saved_as_jsonl_is_read_too(tmp_path):
    p = dump(tmp_path / "d.jsonl", rows())
    assert detect_format(p) == "wandb"
    assert load(p)[lambda t: t.split == "train"]["loss"].tolist() == TRAIN


def test_forced_wandb_format_on_a_dump(tmp_path):
    p = dump(tmp_path / "d.json", rows())
    assert load(p, format="wandb")["step"].nunique() == 4


@pytest.mark.parametrize(
    "history, match",
    [
        ([1, 2], r"history row 1 is a single JSON int, not an object"),
        ({"train/loss": [1.0, 2.0], "_step": [0]}, r"history columns differ in length \('_step' has 1 values, 'train/loss' has 2\)"),
        ({"train/loss": 3.0}, r"history column 'train/loss' is a single JSON float"),
        ({"columns": ["a"], "data": [[1, 2]]}, r"history 'columns'/'data' do not form a table"),
        ([], r"the run dump's history is empty"),
    ],
)
def test_malformed_histories_are_named(tmp_path, history, match):
    with pytest.raises(DataError, match=match):
        load(dump(tmp_path / "d.json", history))


def test_a_json_document_of_no_known_kind_says_what_it_holds(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"config": {}, "summary": {"loss": 3.0}}))
    with pytest.raises(DataError, match=r"it holds one JSON object with keys 'config', 'summary'.*a W&B run dump has 'history'"):
        load(p)


def test_a_valid_json_document_under_jsonl_format_is_not_called_invalid_json(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps({"history": rows()}, indent=2))
    with pytest.raises(DataError, match=r"is one JSON document \(one JSON object with keys 'history'\), not JSON lines; a W&B run dump"):
        load(p, format="jsonl")
