"""`scaling inspect`: the per-run summary, the flags, and one-line errors with exit status 2."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scaling.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run(capsys, *argv):
    code = main(["inspect", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def cosine_log(path: Path, *, warmup=100, T=2000, every=20) -> Path:
    s = np.arange(0, T + 1, every)
    lr = np.where(s < warmup, 1e-3 * s / warmup, 1e-3 * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * np.clip((s - warmup) / (T - warmup), 0, 1)))))
    loss = 2.5 + 3.0 * (1 + s) ** -0.3
    rows = "\n".join(f"{a},{b:.6g},{c:.6f}" for a, b, c in zip(s, lr, loss))
    return write(path, "step,lr,loss\n" + rows + "\n")


def test_inspect_prints_ranges_and_schedule_per_run(tmp_path, capsys):
    cosine_log(tmp_path / "runs" / "cos.csv")
    write(tmp_path / "runs" / "flat.csv", "step,lr,loss\n100,0.001,4.0\n200,0.001,3.5\n300,0.001,3.2\n400,0.001,3.1\n")
    code, out, err = run(capsys, tmp_path / "runs")
    assert code == 0 and err == ""
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("cos ", "flat "))}
    assert "0..2000" in lines["cos"] and " 101 " in lines["cos"]
    assert "cosine, warmup ends between steps 80 and 100" in lines["cos"]  # logged every 20 steps
    assert " 0..0.001 " in lines["cos"]  # LR range: 0 at step 0 (warmup) to the 1e-3 peak
    assert "100..400" in lines["flat"] and "3.1000..4.0000" in lines["flat"]
    assert "constant, no warmup in log" in lines["flat"]


def test_inspect_reports_resumes_in_the_summary(tmp_path, capsys):
    p = write(tmp_path / "r.csv", "step,loss\n0,5\n10,4\n20,3.5\n10,4.1\n20,3.4\n30,3.2\n")
    code, out, _ = run(capsys, p)
    assert code == 0
    assert "notes:" in out and "resumed at step 10" in out and "2 earlier rows" in out


def test_inspect_flags_pick_columns_and_split(tmp_path, capsys):
    p = write(tmp_path / "r.csv", "it,a,b,eta\n1,4.0,4.2,0.1\n2,3.0,3.3,0.1\n")
    code, out, _ = run(capsys, p, "--step-col", "it", "--loss-col", "b", "--lr-col", "eta", "--split", "val")
    assert code == 0
    (line,) = [x for x in out.splitlines() if x.startswith("r ")]
    assert " val " in line and "3.3000..4.2000" in line and "1..2" in line


def test_inspect_run_column(tmp_path, capsys):
    p = write(tmp_path / "sweep.csv", "who,step,loss\nx,0,4\ny,0,5\n")
    code, out, _ = run(capsys, p, "--run-col", "who")
    assert code == 0 and "2 runs" in out


def test_inspect_points_table_says_what_was_derived(tmp_path, capsys):
    p = write(tmp_path / "pts.csv", "Model Size,Training FLOP,loss\n1e8,6e18,3.2\n1e9,6e19,2.8\n")
    code, out, _ = run(capsys, p)
    assert code == 0
    assert "2 final-loss points" in out and "(derived: C / (6 N))" in out


def test_inspect_chinchilla_points():
    path = SHARED / "chinchilla-epoch" / "svg_extracted_data.csv"
    if not path.exists():
        pytest.skip("shared Chinchilla data not present")
    out = subprocess.run([sys.executable, "-m", "scaling.cli", "inspect", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "245 final-loss points" in out.stdout


BAD = {
    "missing file": (None, [], r"file not found: .*missing\.csv"),
    "empty file": ("", [], r"file is empty"),
    "unknown format": ("\x00\x01binary", ["--format", "xlsx"], r"unknown format 'xlsx'"),
    "no step column": ("epoch,loss\n0,4\n", [], r"no step column .*columns found: 'epoch', 'loss'"),
    "non-numeric": ("step,loss\n0,4\n1,abc\n", [], r"non-numeric value 'abc' at row 2 \(line 3\), column 'loss'"),
    "loss <= 0": ("step,loss\n0,4\n1,0\n", [], r"loss must be a positive finite number.*row 2 \(line 3\), column 'loss'"),
    "infinite loss": ("step,loss\n0,inf\n", [], r"loss must be a positive finite number.*row 1 \(line 2\)"),
    "negative lr": ("step,loss,lr\n0,4,-0.1\n", [], r"learning rate must be >= 0.*row 1 \(line 2\), column 'lr'"),
    "zero N": ("N,D,loss\n0,1e9,3\n", [], r"N must be > 0.*row 1 \(line 2\), column 'N'"),
    "negative C": ("N,C,loss\n1e8,-1e18,3\n", [], r"C must be > 0.*row 1 \(line 2\), column 'C'"),
    "backwards steps": ("step,loss\n0,5\n10,4\n0,5\n10,4\n", [], r"steps go back from 10 to 0 at row 3 \(line 4\)"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_on_stderr_with_exit_2(tmp_path, capsys, case):
    text, flags, pattern = BAD[case]
    path = tmp_path / ("missing.csv" if text is None else "log.csv")
    if text is not None:
        path.write_text(text)
    code, out, err = run(capsys, path, *flags)
    assert code == 2
    assert out == ""
    assert err.startswith("scaling: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    import re

    assert re.search(pattern, err), err
    assert str(path.name) in err or case == "unknown format"


def test_bad_input_through_the_console_script(tmp_path):
    p = write(tmp_path / "log.csv", "step,loss\n0,4\n1,-2\n")
    script = Path(sys.executable).with_name("scaling")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "scaling.cli"]
    out = subprocess.run([*cmd, "inspect", str(p)], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith("scaling: error: ") and "Traceback" not in out.stderr
    assert "row 2 (line 3), column 'loss'" in out.stderr


def test_multipowerlaw_folder_through_the_cli(capsys):
    root = SHARED / "multipowerlaw-luo2025" / "loss_curve_repo"
    if not root.exists():
        pytest.skip("shared multi-power-law data not present")
    code, out, _ = run(capsys, root / "csv_100")
    assert code == 0 and "9 runs" in out
    assert "WSD, no warmup in log (decay after step 19968, linear)" in out
