"""Plain CSV / TSV logs and points tables: aliases, flags, folders, globs and every bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling
from scaling.errors import DataError
from scaling.loaders import detect_table_kind, load, load_points

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"


def write(path: Path, text: str, newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_plain_csv_loads_with_file_name_as_run(tmp_path):
    p = write(tmp_path / "cosine.csv", "step,lr,loss\n0,0.001,5.0\n10,0.0009,4.0\n20,0.0005,3.5\n")
    t = load(p)
    assert t["run"].unique().tolist() == ["cosine"]
    assert t["step"].tolist() == [0, 10, 20]
    assert t["lr"].tolist() == [0.001, 0.0009, 0.0005]
    assert set(t["source"]) == {str(p)}


def test_crlf_line_endings_load_the_same(tmp_path):
    text = "step,lr,loss\n0,0.001,5.0\n10,0.001,4.0\n"
    a = load(write(tmp_path / "a.csv", text))
    b = load(write(tmp_path / "b.csv", text, newline="\r\n"))
    pd.testing.assert_frame_equal(a.drop(columns=["run", "source"]), b.drop(columns=["run", "source"]))


def test_input_file_is_not_modified(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n20,3.0\n10,4.0\n")
    before = p.read_bytes()
    load(p)
    assert p.read_bytes() == before


def test_tsv_is_detected_from_the_header(tmp_path):
    t = load(write(tmp_path / "r.txt", "iter\tlm loss\tlearning_rate\n1\t5.0\t1e-4\n2\t4.5\t2e-4\n"))
    assert t["step"].tolist() == [1, 2] and t["lr"].tolist() == [1e-4, 2e-4]


@pytest.mark.parametrize(
    "step,loss,lr",
    [
        ("iteration", "train_loss", "lr"),
        ("global_step", "train/loss", "train/learning_rate"),
        ("Step", "lm loss", "lr-AdamW"),
        ("_step", "loss", "learning-rate"),
        ("iter", "loss", "train_lr"),
    ],
)
def test_column_aliases(tmp_path, step, loss, lr):
    t = load(write(tmp_path / "r.csv", f"{step},{loss},{lr}\n1,4.0,0.1\n2,3.0,0.2\n"))
    assert t["step"].tolist() == [1, 2] and t["loss"].tolist() == [4.0, 3.0] and t["lr"].tolist() == [0.1, 0.2]


@pytest.mark.parametrize("val", ["val_loss", "eval/loss", "validation_loss"])
def test_train_and_val_loss_become_two_splits(tmp_path, val):
    p = write(tmp_path / "r.csv", f"step,loss,{val}\n10,4.0,\n20,3.5,3.6\n30,3.0,\n")
    t = load(p)
    assert t.loc[t.split == "train", "step"].tolist() == [10, 20, 30]
    assert t.loc[t.split == "val", "loss"].tolist() == [3.6]
    v = load(p, split="val")
    assert set(v["split"]) == {"val"} and v["loss"].dropna().tolist() == [3.6]


def test_explicit_columns_override_aliases(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss,my_step,my_loss,eta\n0,9,100,4.0,0.1\n1,9,200,3.0,0.2\n")
    t = load(p, step_col="my_step", loss_col="my_loss", lr_col="eta", split="val")
    assert t["step"].tolist() == [100, 200] and t["loss"].tolist() == [4.0, 3.0]
    assert set(t["split"]) == {"val"}


def test_explicit_column_that_does_not_exist_lists_columns(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,4.0\n")
    with pytest.raises(DataError, match=r"no column 'nope' \(from --loss-col\); columns found: 'step', 'loss'"):
        load(p, loss_col="nope")


def test_run_column_splits_one_file_into_runs(tmp_path):
    p = write(tmp_path / "sweep.csv", "run,step,loss\na,0,4\nb,0,5\na,10,3\nb,10,4\n")
    t = load(p)
    assert t["run"].unique().tolist() == ["a", "b"]
    assert t.loc[t.run == "b", "loss"].tolist() == [5.0, 4.0]


def test_sparse_logging_keeps_what_was_logged(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss,lr\n0,,0.0\n5,4.0,\n10,,1e-3\n15,3.5,\n20,,1e-3\n")
    t = load(p)
    assert t["step"].tolist() == [0, 5, 10, 15, 20]
    assert t["loss"].notna().sum() == 2 and t["lr"].notna().sum() == 3
    lr, step, loss = scaling.curve_arrays(t, "r")
    assert step.tolist() == [5, 15] and lr[5] == pytest.approx(5e-4)


def test_folder_loads_one_run_per_file(tmp_path):
    write(tmp_path / "runs" / "a.csv", "step,loss\n0,4\n")
    write(tmp_path / "runs" / "b.csv", "step,loss\n0,5\n")
    write(tmp_path / "runs" / "README.md", "not a log\n")
    assert load(tmp_path / "runs")["run"].tolist() == ["a", "b"]


def test_glob_and_clashing_names_get_folder_prefix(tmp_path):
    write(tmp_path / "s" / "small" / "cos.csv", "step,loss\n0,4\n")
    write(tmp_path / "s" / "big" / "cos.csv", "step,loss\n0,3\n")
    t = load(str(tmp_path / "s" / "*" / "*.csv"))
    assert sorted(t["run"]) == ["big/cos", "small/cos"]
    assert any("prefixed" in n for n in t.attrs["notes"])


def test_unsorted_rows_are_sorted_and_noted(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss\n20,3\n0,5\n10,4\n"))
    assert t["step"].tolist() == [0, 10, 20] and t["loss"].tolist() == [5, 4, 3]
    assert any("sorted" in n for n in t.attrs["notes"])


def test_resumed_run_keeps_later_values_and_names_the_row(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,loss\n0,5\n10,4\n20,3.5\n10,4.1\n20,3.4\n30,3.2\n"))
    assert t["loss"].tolist() == [5, 4.1, 3.4, 3.2]
    (note,) = [n for n in t.attrs["notes"] if "resumed" in n]
    assert "resumed at step 10 (row 4 (line 5))" in note


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"file not found: .*nope\.csv; check the path"):
        load(tmp_path / "nope.csv")


def test_glob_matching_nothing(tmp_path):
    with pytest.raises(DataError, match="no files match"):
        load(str(tmp_path / "*.csv"))


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    with pytest.raises(DataError, match=r"r\.csv: file is empty"):
        load(write(tmp_path / "r.csv", text))


def test_header_without_rows(tmp_path):
    with pytest.raises(DataError, match=r"r\.csv: no data rows"):
        load(write(tmp_path / "r.csv", "step,loss\n"))


def test_unknown_format(tmp_path):
    p = tmp_path / "r.parquet"
    p.write_bytes(b"PAR1\x00\x01")
    with pytest.raises(DataError, match=r"cannot tell the format \(extension '\.parquet'\); pass --format"):
        load(p)


def test_unknown_format_name():
    with pytest.raises(DataError, match="unknown format 'xls'"):
        load("x.csv", format="xls")


def test_no_step_column_lists_the_columns(tmp_path):
    p = write(tmp_path / "r.csv", "epoch,loss\n0,4\n")
    with pytest.raises(DataError, match=r"r\.csv: no step column .*columns found: 'epoch', 'loss'; name it with --step-col"):
        load(p)


def test_no_loss_column_lists_the_columns(tmp_path):
    p = write(tmp_path / "r.csv", "step,acc\n0,0.4\n")
    with pytest.raises(DataError, match=r"no loss column .*columns found: 'step', 'acc'; name it with --loss-col"):
        load(p)


def test_non_numeric_value_names_row_line_and_column(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,4.0\n10,oops\n")
    with pytest.raises(DataError, match=r"r\.csv: non-numeric value 'oops' at row 2 \(line 3\), column 'loss'"):
        load(p)


@pytest.mark.parametrize("bad", ["0", "-1.5", "inf"])
def test_bad_loss_names_row_and_column(tmp_path, bad):
    p = write(tmp_path / "r.csv", f"step,train_loss\n0,4.0\n10,3.0\n20,{bad}\n")
    with pytest.raises(DataError, match=r"loss must be a positive finite number.*row 3 \(line 4\), column 'train_loss'"):
        load(p)


def test_negative_lr_names_row_and_column(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss,learning_rate\n0,4.0,1e-3\n10,3.0,-1e-3\n")
    with pytest.raises(DataError, match=r"learning rate must be >= 0.*row 2 \(line 3\), column 'learning_rate'"):
        load(p)


def test_blank_lines_do_not_shift_line_numbers(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,4.0\n\n10,x\n")
    with pytest.raises(DataError, match=r"row 3 \(line 4\)"):
        load(p)


def test_backwards_steps_that_are_not_a_resume(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,5\n10,4\n0,5.1\n10,4.1\n")
    with pytest.raises(DataError, match=r"r\.csv: run 'r': steps go back from 10 to 0 at row 3 \(line 4\).*--run-col"):
        load(p)


def test_messages_are_one_line(tmp_path):
    p = write(tmp_path / "r.csv", "epoch,loss\n0,4\n")
    with pytest.raises(DataError) as info:
        load(p)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- points tables


def test_points_csv_with_aliases_derives_the_missing_column(tmp_path):
    p = write(tmp_path / "pts.csv", "name,params,tokens,final_loss\nm1,1e8,2e9,3.2\nm2,1e9,2e10,2.6\n")
    t = load_points(p)
    assert t["run"].tolist() == ["m1", "m2"]
    np.testing.assert_allclose(t["C"], [6 * 1e8 * 2e9, 6 * 1e9 * 2e10])
    assert t.attrs["derived"] == {"C": "6 N D"}


@pytest.mark.parametrize("bad", ["0", "-3e8"])
def test_points_reject_non_positive_sizes(tmp_path, bad):
    p = write(tmp_path / "pts.csv", f"N,D,loss\n1e8,2e9,3.2\n{bad},2e10,2.6\n")
    with pytest.raises(DataError, match=r"pts\.csv: N must be > 0.*row 2 \(line 3\), column 'N'"):
        load_points(p)


def test_points_reject_bad_loss(tmp_path):
    p = write(tmp_path / "pts.csv", "N,D,loss\n1e8,2e9,-3.2\n")
    with pytest.raises(DataError, match=r"loss must be > 0.*row 1 \(line 2\), column 'loss'"):
        load_points(p)


def test_points_need_two_of_n_d_c(tmp_path):
    p = write(tmp_path / "pts.csv", "N,loss\n1e8,3.2\n")
    with pytest.raises(DataError, match=r"needs two of N \(params\), D \(tokens\), C \(FLOPs\); columns found: 'N', 'loss'"):
        load_points(p)


def test_table_kind_tells_curves_from_points(tmp_path):
    assert detect_table_kind(write(tmp_path / "c.csv", "step,loss\n0,4\n")) == "curves"
    assert detect_table_kind(write(tmp_path / "p.csv", "Model Size,Training FLOP,loss\n1e8,1e18,3\n")) == "points"
    assert detect_table_kind(write(tmp_path / "q.csv", "params,tokens,loss\n1e8,1e9,3\n")) == "points"


# --------------------------------------------------------------------------- public data


def test_chinchilla_epoch_points_load_with_derived_tokens():
    path = SHARED / "chinchilla-epoch" / "svg_extracted_data.csv"
    if not path.exists():
        pytest.skip("shared Chinchilla data not present")
    t = load_points(path)
    assert len(t) == 245
    assert t.attrs["derived"] == {"D": "C / (6 N)"}
    # Ranges stated in the data's PROVENANCE.md.
    assert t["N"].min() == pytest.approx(5.73e7, rel=1e-2) and t["N"].max() == pytest.approx(1.62e10, rel=1e-2)
    assert t["D"].min() == pytest.approx(2.45e8, rel=1e-2) and t["D"].max() == pytest.approx(3.18e11, rel=1e-2)
    assert t["loss"].min() == pytest.approx(2.0774, abs=1e-4) and t["loss"].max() == pytest.approx(5.0056, abs=1e-4)
    assert {"x", "y", "color", "hex_color"} <= set(t.columns)


# Data rows per file (wc -l minus the header) of the multi-power-law repo's 27 CSVs.
LUO_ROWS = {
    "constant_24000": 171, "constant_72000": 546, "cosine_24000": 171, "cosine_72000": 546,
    "wsd_20000_24000": 171, "wsdld_20000_24000": 171, "wsdcon_3": 109, "wsdcon_9": 109, "wsdcon_18": 109,
}
LUO_SHAPES = {"constant": "constant", "cosine": "cosine", "wsd": "WSD", "wsdld": "WSD", "wsdcon": "step"}


def test_multipowerlaw_csvs_all_load_with_sane_ranges():
    root = SHARED / "multipowerlaw-luo2025" / "loss_curve_repo"
    if not root.exists():
        pytest.skip("shared multi-power-law data not present")
    files = sorted(root.glob("csv_*/*.csv"))
    assert len(files) == 27
    assert b"\r\n" in files[0].read_bytes()  # the files really are CRLF
    t = load(str(root / "csv_*" / "*.csv"))
    assert t["run"].nunique() == 27
    from scaling.runs import summarize_curves

    summary = summarize_curves(t).set_index("run")
    for f in files:
        run = f"{f.parent.name}/{f.stem}"
        rows = t.loc[t.run == run]
        expected = LUO_ROWS[f.stem]
        if f.parent.name == "csv_25":
            expected = {"wsdcon_3": 95, "wsdcon_9": 95, "wsdcon_18": 95, "wsd_20000_24000": 170, "wsdld_20000_24000": 170}.get(f.stem, expected)
        assert len(rows) == expected, run
        assert rows["step"].iloc[0] in (2160, 2176)
        assert rows["lr"].max() <= 3e-4 + 1e-12 and rows["lr"].min() >= 3e-5 - 1e-9
        assert 2.5 < rows["loss"].min() and rows["loss"].max() < 4.2
        assert rows["loss"].is_monotonic_decreasing or rows["loss"].iloc[-1] < rows["loss"].iloc[0]
        assert summary.loc[run, "shape"] == LUO_SHAPES[f.stem.split("_")[0]], run


def test_optional_tokens_and_params_columns_are_kept(tmp_path):
    t = load(write(tmp_path / "r.csv", "step,train_loss,tokens,params\n1,4.0,2048,1e5\n2,3.9,4096,1e5\n"))
    assert t["tokens"].tolist() == [2048, 4096] and t["params"].tolist() == [1e5, 1e5]
    assert list(t.columns) == ["run", "step", "loss", "lr", "split", "tokens", "params", "source"]


def test_table_kind_of_a_folder_is_the_kind_of_its_files(tmp_path):
    write(tmp_path / "c" / "a.csv", "step,loss\n0,4\n")
    write(tmp_path / "p" / "a.csv", "N,D,loss\n1e8,1e9,3\n")
    assert detect_table_kind(tmp_path / "c") == "curves"
    assert detect_table_kind(tmp_path / "p") == "points"
    write(tmp_path / "c" / "b.csv", "N,D,loss\n1e8,1e9,3\n")
    with pytest.raises(DataError, match="mixes loss-curve logs and final-loss tables"):
        detect_table_kind(tmp_path / "c")


def test_row_with_more_fields_than_the_header(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,4.0\n1,2,3,4\n")
    with pytest.raises(DataError, match=r"row 2 \(line 3\) has 4 fields but the header has 2"):
        load(p)


def test_boolean_cells_are_not_numbers(tmp_path):
    p = write(tmp_path / "r.csv", "step,loss\n0,TRUE\n")
    with pytest.raises(DataError, match=r"non-numeric value 'True' at row 1 \(line 2\), column 'loss'"):
        load(p)


def test_single_column_csv_reports_the_missing_loss(tmp_path):
    with pytest.raises(DataError, match=r"no loss column .*columns found: 'step'"):
        load(write(tmp_path / "r.csv", "step\n0\n1\n"))


def test_binary_file_named_csv(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    with pytest.raises(DataError, match=r"r\.csv: cannot read as CSV"):
        load(p)


def test_tables_record_the_files_read(tmp_path):
    a = write(tmp_path / "a.csv", "step,loss\n0,4\n")
    b = write(tmp_path / "b.csv", "step,loss\n0,5\n")
    assert load(tmp_path).attrs["files"] == [str(a), str(b)]
    p = write(tmp_path / "p" / "pts.csv", "N,D,loss\n1e8,1e9,3\n")
    assert load_points(p).attrs["files"] == [str(p)]
