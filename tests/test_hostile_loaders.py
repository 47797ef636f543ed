"""Hostile inputs to the loaders: nothing crashes, nothing changes silently.

Each test names a class of problem found by fuzzing (issue "Hostile inputs"):
a one-line DataError naming file, row and column where they apply, or a note
in ``attrs["notes"]`` for every change the loader makes. No JAX here.
"""

import builtins
import io
import os
from pathlib import Path

import numpy as np
import pytest

from scaling.cli import main
from scaling.errors import DataError
from scaling.loaders import detect_table_kind, load, load_points
from scaling.runs import MAX_LR_STEPS, curve_arrays, lr_per_step, make_curves


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def notes(table) -> str:
    return " | ".join(table.attrs["notes"])


# --------------------------------------------------------------------------- silent changes


@pytest.mark.parametrize("value", ["1e19", "9223372036854775808", "18446744073709551616", "1" + "0" * 30])
def test_steps_beyond_two_to_the_53_are_refused_not_wrapped(tmp_path, value):
    p = write(tmp_path / "r.csv", f"step,loss\n0,3.0\n{value},2.0\n")
    with pytest.raises(DataError, match=r"r\.csv: step is too large .* at row 2 \(line 3\), column 'step'; .*--step-col"):
        load(p)


def test_huge_integer_steps_in_json_lines_are_refused(tmp_path):
    p = write(tmp_path / "r.jsonl", '{"step": 0, "loss": 3}\n{"step": 9007199254740994, "loss": 2}\n')
    with pytest.raises(DataError, match=r"step is too large .* at line 2, column 'step'"):
        load(p)


def test_make_curves_refuses_huge_steps_too():
    with pytest.raises(DataError, match="step is too large"):
        make_curves(run="r", step=[0, 1e19], loss=[3.0, 2.0])


def test_a_step_logged_twice_with_different_values_is_noted_and_the_later_kept(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,3.0\n10,2.5\n10,2.4\n20,2.0\n")
    t = load(p)
    assert t["loss"].tolist() == [3.0, 2.4, 2.0]
    assert "1 step logged twice with different values (e.g. step 10 at row 2 (line 3) and row 3 (line 4))" in notes(t)
    assert "kept the later value" in notes(t)


def test_a_repeated_identical_row_is_noted(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss\n0,3.0\n10,2.5\n10,2.5\n"))
    assert t["loss"].tolist() == [3.0, 2.5]
    assert "1 step logged twice with the same values" in notes(t)


def test_rows_of_one_step_that_log_different_columns_are_merged_with_a_note(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss,val_loss\n10,2.5,\n10,,2.7\n"))
    assert len(t) == 2
    assert "merged into one row each" in notes(t)


def test_a_restart_that_jumps_back_is_noted_as_a_resume_not_merged_silently(tmp_path):
    # A run that diverged after step 30 and was restarted from its step-20 checkpoint.
    t = load(write(tmp_path / "r.csv", "step,loss\n0,3.0\n10,2.5\n20,2.3\n30,9.0\n20,2.3\n30,2.2\n40,2.1\n"))
    assert t["loss"].tolist() == [3.0, 2.5, 2.3, 2.2, 2.1]
    assert "resumed at step 20" in notes(t) and "2 earlier rows at steps 20..30 replaced" in notes(t)


def test_a_clean_log_has_no_notes(tmp_path):
    assert load(write(tmp_path / "r.csv", "step,loss\n0,3.0\n10,2.5\n")).attrs["notes"] == []


def test_a_literal_nan_loss_is_noted_with_count_and_rows(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss\n0,3.0\n10,nan\n20,NaN\n30,\n40,2.0\n"))
    assert t["step"].tolist() == [0, 40]
    note = notes(t)
    assert "column 'loss' holds a literal NaN loss in 2 rows (row 2 (line 3), row 3 (line 4))" in note
    assert "diverged" in note


def test_an_empty_cell_is_not_a_nan_note(tmp_path):
    assert load(write(tmp_path / "r.csv", "step,loss,lr\n0,3.0,\n10,,1e-3\n")).attrs["notes"] == []


def test_a_nan_token_in_json_lines_is_noted(tmp_path):
    t = load(write(tmp_path / "r.jsonl", '{"step": 0, "loss": 3.0}\n{"step": 1, "loss": NaN}\n{"step": 2, "loss": null}\n'))
    assert t["step"].tolist() == [0]
    assert "holds a literal NaN loss in 1 row (line 2)" in notes(t)


def test_a_nan_in_a_text_column_of_the_file_does_not_make_a_note(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss,comment\n0,3.0,nan\n10,2.5,banana\n"))
    assert t.attrs["notes"] == []


# --------------------------------------------------------------------------- crashes become DataErrors


def test_json_integers_beyond_float_range_are_a_data_error(tmp_path):
    p = write(tmp_path / "r.jsonl", '{"step": 1, "loss": 1' + "0" * 400 + "}\n")
    with pytest.raises(DataError, match=r"loss must be a positive finite number .* at line 1, column 'loss'"):
        load(p)
    p = write(tmp_path / "s.jsonl", '{"step": 1' + "0" * 5000 + ', "loss": 2}\n')
    with pytest.raises(DataError, match="step"):
        load(p)


@pytest.mark.parametrize("name", ["r.jsonl", "trainer_state.json", "dump.json"])
def test_deeply_nested_json_is_a_data_error(tmp_path, name):
    deep = "[" * 100_000 + "]" * 100_000
    body = {"r.jsonl": '{"step": 1, "loss": ' + deep + "}\n", "trainer_state.json": '{"log_history": ' + deep + "}",
            "dump.json": '{"history": ' + deep + "}"}[name]
    with pytest.raises(DataError, match="nests arrays or objects too deeply"):
        load(write(tmp_path / name, body))


def test_nested_values_in_a_column_are_named(tmp_path):
    p = write(tmp_path / "r.jsonl", '{"step": 0, "loss": [3.0]}\n')
    with pytest.raises(DataError, match=r"non-numeric value '\[3.0\]' at line 1, column 'loss'"):
        load(p)


def test_folders_and_globs_with_symlink_loops(tmp_path):
    root = tmp_path / "runs"
    write(root / "sub" / "a.csv", "step,loss\n0,3.0\n")
    (root / "self").symlink_to("self")  # a link to itself
    (root / "sub" / "up").symlink_to("..")  # a cycle through the parent
    (root / "gone.csv").symlink_to("missing.csv")
    assert load(root).attrs["files"] == [str(root / "sub" / "a.csv")]
    assert load(str(root / "**")).attrs["files"] == [str(root / "sub" / "a.csv")]
    with pytest.raises(DataError, match="self: is a symbolic link to nothing readable"):
        load(root / "self")
    with pytest.raises(DataError, match="gone.csv: is a symbolic link to nothing readable"):
        load(root / "gone.csv")


def _deny_reads(monkeypatch, target: Path) -> Path:
    """Make every open of ``target`` fail with EACCES (chmod does not stop root, so open is patched)."""
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).name == target.name:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)
    return target


@pytest.fixture
def unreadable(monkeypatch, tmp_path):
    """A CSV file whose reads fail with EACCES."""
    return _deny_reads(monkeypatch, write(tmp_path / "locked.csv", "step,loss\n0,3.0\n"))


def test_an_unreadable_file_is_a_data_error_in_load_and_kind_detection(unreadable):
    with pytest.raises(DataError, match=r"locked\.csv: cannot read \(Permission denied\)"):
        load(unreadable)
    with pytest.raises(DataError, match=r"locked\.csv: cannot read \(Permission denied\)"):
        detect_table_kind(unreadable)
    with pytest.raises(DataError, match="cannot read"):
        load_points(unreadable)


def test_inspect_of_an_unreadable_file_exits_2_with_one_line(unreadable, capsys):
    assert main(["inspect", str(unreadable)]) == 2
    err = capsys.readouterr().err
    assert "cannot read (Permission denied)" in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("body", ["step,loss,tokens\n0,,3\n1,,5\n", "step,loss,flops\n0,,1e9\n"])
def test_a_log_without_loss_values_is_a_data_error_not_zero_rows(tmp_path, body):
    with pytest.raises(DataError, match=r"no loss values in 'loss' \(the rows log only '(tokens|flops)'\)"):
        load(write(tmp_path / "r.csv", body))


def test_points_with_text_numbers_name_the_cell(tmp_path):
    p = write(tmp_path / "pts.csv", "N,D,loss\nnp.float64(6.8e9),1e10,2.5\n1e9,1e10,2.6\n")
    with pytest.raises(DataError, match=r"pts\.csv: non-numeric value 'np.float64\(6.8e9\)' at row 1 \(line 2\), column 'N'"):
        load_points(p)


def test_steps_around_1e12_are_refused_before_allocating(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss,lr\n0,3.0,1e-3\n1000000000000,2.0,1e-3\n"))
    with pytest.raises(DataError, match=r"run 'r': last step 1,000,000,000,000 is beyond the 100,000,000 steps"):
        curve_arrays(t, "r")
    one = make_curves(run="x", step=[0, MAX_LR_STEPS + 1], loss=[3.0, 2.0], lr=[1e-3, 1e-3])
    with pytest.raises(DataError, match="--step-col"):
        lr_per_step(one)


def test_a_json_document_is_described_not_called_invalid_json_lines(tmp_path):
    p = write(tmp_path / "r.jsonl", '{\n  "step": [0, 1],\n  "loss": [3, 2]\n}\n')
    with pytest.raises(DataError, match=r"is one JSON document \(one JSON object with keys 'step', 'loss'\), not JSON lines"):
        load(p)
    p = write(tmp_path / "a.json", "[1, 2, 3]")
    with pytest.raises(DataError, match=r"cannot tell the format: it holds a JSON array of 3 items \(int\)"):
        load(p)


# --------------------------------------------------------------------------- memory


def test_a_wide_csv_reads_only_the_columns_a_curve_needs(tmp_path, monkeypatch):
    import pandas as pd

    seen = {}
    real = pd.read_csv

    def spy(*args, **kwargs):
        frame = real(*args, **kwargs)
        seen["columns"] = list(frame.columns)
        seen["dtypes"] = set(map(str, frame.dtypes))
        return frame

    monkeypatch.setattr(pd, "read_csv", spy)
    extra = ",".join(f"junk{i}" for i in range(20))
    rows = "\n".join(f"{s},{3 - s / 100},1e-3,{','.join(['text'] * 20)}" for s in range(50))
    t = load(write(tmp_path / "r.csv", f"step,loss,lr,{extra}\n{rows}\n"))
    assert seen["columns"] == ["step", "loss", "lr"] and seen["dtypes"] == {"float64"}
    assert len(t) == 50 and np.allclose(t["loss"], 3 - np.arange(50) / 100)


def test_the_lean_read_still_finds_rows_with_too_many_fields(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss,x\n0,4.0,a\n1,2,3,4\n")
    with pytest.raises(DataError, match=r"row 2 \(line 3\) has 4 fields but the header has 3"):
        load(p)


def test_a_nan_in_a_wandb_chart_export_is_noted_for_its_run(tmp_path):
    p = write(tmp_path / "chart.csv", 'Step,a - train/loss,a - train/loss__MIN,b - train/loss\n0,3.0,3.0,3.1\n10,nan,nan,2.9\n')
    t = load(p)
    assert t.loc[t.run == "a", "step"].tolist() == [0]
    assert "column 'train/loss' holds a literal NaN loss in 1 row (row 2 (line 3))" in notes(t)


def test_a_byte_order_mark_does_not_hide_the_step_column(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("\ufeffstep,loss,junk\n0,3.0,x\n10,nan,y\n".encode("utf-8"))
    t = load(p)
    assert t["step"].tolist() == [0] and "literal NaN loss in 1 row" in notes(t)


def test_a_named_pipe_is_refused_instead_of_blocking(tmp_path):
    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="is not a regular file"):
        load(fifo)
    write(tmp_path / "real.csv", "step,loss\n0,3.0\n")
    assert load(tmp_path).attrs["files"] == [str(tmp_path / "real.csv")]  # a folder's pipe is skipped


# --------------------------------------------------------------------------- memory: the JSONL block reader


def test_jsonl_keeps_only_the_columns_a_curve_can_use_as_float64(tmp_path):
    from scaling.loaders._common import ColumnChoice, curve_column_role
    from scaling.loaders.jsonl import read_jsonl

    lines = ['{"step": %d, "loss": %s, "lr": 0.001, "note": "text %d", "grad_norm": 1.5}' % (i, "NaN" if i == 2 else 3 - i / 10, i)
             for i in range(5)]
    rec = read_jsonl(write(tmp_path / "r.jsonl", "\n".join(lines) + "\n"), run="r", role=curve_column_role(ColumnChoice()))
    # The text and unused columns are not stored; their names stay for messages.
    assert [c for c in rec.frame.columns if not c.startswith("__")] == ["step", "loss", "lr"]
    assert rec.column_names() == ["step", "loss", "lr", "note", "grad_norm"]
    # The literal NaN does not make the loss an object column: float64 plus a mask.
    assert rec.frame["loss"].dtype == np.float64
    assert rec.nan_cells["loss"].tolist() == [False, False, True, False, False]


def test_jsonl_messages_still_list_the_unstored_columns(tmp_path):
    p = write(tmp_path / "r.jsonl", '{"iteration_count": 1, "loss": 3, "note": "x"}\n')
    with pytest.raises(DataError, match=r"no step column .*columns found: 'iteration_count', 'loss', 'note'"):
        load(p)


def test_jsonl_literal_nan_in_a_later_block_is_noted_with_its_line(tmp_path, monkeypatch):
    from scaling.loaders import jsonl

    monkeypatch.setattr(jsonl, "BLOCK_LINES", 2)
    body = "".join('{"step": %d, "loss": %s}\n' % (i, "NaN" if i == 4 else 3.0) for i in range(6))
    t = load(write(tmp_path / "r.jsonl", body))
    assert "holds a literal NaN loss in 1 row (line 5)" in notes(t)
    assert t["step"].tolist() == [0, 1, 2, 3, 5]


def test_jsonl_a_boolean_in_a_later_block_is_refused_not_read_as_zero(tmp_path, monkeypatch):
    from scaling.loaders import jsonl

    monkeypatch.setattr(jsonl, "BLOCK_LINES", 1)
    p = write(tmp_path / "r.jsonl", '{"step": 0, "loss": 3.0}\n{"step": 1, "loss": false}\n')
    with pytest.raises(DataError, match=r"non-numeric value 'False' at line 2, column 'loss'"):
        load(p)


def test_a_one_line_wandb_dump_saved_as_jsonl_is_still_a_dump(tmp_path):
    import json

    doc = {"name": "cosine", "history": [{"_step": 0, "_runtime": 1, "train/loss": 4.0}, {"_step": 1, "_runtime": 2, "train/loss": 3.0}]}
    p = write(tmp_path / "wandb-history.jsonl", json.dumps(doc) + "\n")
    t = load(p, format="wandb")
    assert t["loss"].tolist() == [4.0, 3.0] and set(t["run"]) == {"cosine"}


def test_a_wandb_jsonl_history_is_not_read_whole_to_look_for_a_dump(tmp_path, monkeypatch):
    p = write(tmp_path / "wandb-history.jsonl",
              '{"_step": 0, "_runtime": 1, "train/loss": 4.0}\n{"_step": 1, "_runtime": 2, "train/loss": 3.0}\n')
    monkeypatch.setattr(Path, "read_text", lambda *a, **k: pytest.fail("read whole"))
    assert load(p)["loss"].tolist() == [4.0, 3.0]


def test_an_unreadable_jsonl_log_is_a_data_error(monkeypatch, tmp_path):
    target = _deny_reads(monkeypatch, write(tmp_path / "locked.jsonl", '{"step": 0, "loss": 3.0}\n'))
    for fmt in (None, "jsonl", "wandb"):
        with pytest.raises(DataError, match=r"locked\.jsonl: cannot read \(Permission denied\)"):
            load(target, format=fmt)


def test_jsonl_run_names_share_one_object_per_name(tmp_path, monkeypatch):
    from scaling.loaders import jsonl
    from scaling.loaders._common import ColumnChoice, curve_column_role

    monkeypatch.setattr(jsonl, "BLOCK_LINES", 3)
    body = "".join('{"run": "%s", "step": %d, "loss": 3.0}\n' % ("cosine-124M" if i % 2 else "wsd-124M", i // 2)
                   for i in range(10))
    rec = jsonl.read_jsonl(write(tmp_path / "r.jsonl", body), run="r", role=curve_column_role(ColumnChoice()))
    values = rec.frame["run"].to_numpy(dtype=object)
    assert len({id(v) for v in values}) == 2 and values[1] == "cosine-124M"
    assert load(tmp_path / "r.jsonl")["run"].value_counts().to_dict() == {"wsd-124M": 5, "cosine-124M": 5}
