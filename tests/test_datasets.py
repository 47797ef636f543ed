"""The shipped public datasets (scaling.datasets): exact numbers, licences, sources, packaging.

Raw-file comparisons read ../shared/data/external (or ../../shared from a
worktree; skipped when absent); the
rest checks the shipped files against hard-coded counts and values and
against published numbers they must reproduce.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scaling
from scaling.datasets import DATASETS, describe, list_datasets, load_dataset
from scaling.datasets import gadre2024, luo2025
from scaling.errors import DataError
from scaling.runs import curve_arrays

ROOT = Path(__file__).resolve().parents[1]
# ../shared next to the checkout (a git worktree one level deeper looks one more up)
EXTERNAL = next((p / "shared" / "data" / "external" for p in ROOT.parents[:2]
                 if (p / "shared" / "data" / "external").is_dir()), ROOT.parent / "shared" / "data" / "external")
RAW_LUO = EXTERNAL / "multipowerlaw-luo2025" / "loss_curve_repo"
RAW_GADRE = EXTERNAL / "gadre-overtraining" / "exp_data"
DATA = ROOT / "scaling" / "datasets" / "data"
LUO = ("luo2025-25M", "luo2025-100M", "luo2025-400M")
GADRE = ("gadre2024-c4", "gadre2024-rpj", "gadre2024-rw")


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- the list


def test_list_names_six_datasets_with_kind_runs_and_licence():
    table = list_datasets()
    assert list(table["name"]) == [*LUO, *GADRE]
    assert list(table["kind"]) == ["curves"] * 3 + ["points"] * 3
    assert list(table["runs"]) == [9, 9, 9, 34, 35, 35]
    assert set(table["licence"]) == {"MIT"}
    assert all(isinstance(d, str) and "\n" not in d and len(d) < 200 for d in table["description"])


def test_load_dataset_and_list_datasets_are_top_level_names():
    assert scaling.load_dataset is load_dataset and scaling.list_datasets is list_datasets


def test_nothing_from_the_unlicensed_epoch_set_is_shipped():
    names = [p.name for p in DATA.rglob("*")]
    assert not [n for n in names if "svg_extracted" in n or "epoch" in n.lower() or "chinchilla" in n.lower()]
    assert sorted(p.name for p in DATA.iterdir()) == ["gadre2024", "luo2025"]


# --------------------------------------------------------------------------- Luo et al. 2025


# loss rows per schedule, counted in the authors' files
LUO_ROWS = {
    "25M": dict(constant_24000=171, cosine_24000=171, wsdcon_9=95, constant_72000=546, cosine_72000=546,
                wsd_20000_24000=170, wsdld_20000_24000=170, wsdcon_3=95, wsdcon_18=95),
    "100M": dict(constant_24000=171, cosine_24000=171, wsdcon_9=109, constant_72000=546, cosine_72000=546,
                 wsd_20000_24000=171, wsdld_20000_24000=171, wsdcon_3=109, wsdcon_18=109),
}
LUO_ROWS["400M"] = LUO_ROWS["100M"]


@pytest.mark.parametrize("name", LUO)
def test_luo_curves_have_nine_schedules_with_the_files_loss_rows(name):
    size = name.split("-")[1]
    table = load_dataset(name)
    assert list(pd.unique(table["run"])) == list(luo2025.SCHEDULES)
    logged = table[table["loss"].notna()]
    assert logged.groupby("run", sort=False).size().to_dict() == LUO_ROWS[size]
    assert set(table["split"]) == {"val"}
    assert set(table["source"]) == {f"dataset:{name}"}
    assert table.attrs["files"] == [f"dataset:{name}"]
    assert list(table.columns) == ["run", "step", "loss", "lr", "split", "tokens", "params", "source"]
    assert set(table["params"]) == {luo2025.SIZES[size]}
    assert np.array_equal(table["tokens"], table["step"] * 128 * 4096)


@pytest.mark.parametrize("name", LUO)
def test_luo_losses_are_the_shipped_file_values_exactly(name):
    size = name.split("-")[1]
    table = load_dataset(name)
    for schedule in luo2025.SCHEDULES:
        raw = pd.read_csv(DATA / "luo2025" / f"csv_{size[:-1]}" / f"{schedule}.csv")
        rows = table[(table["run"] == schedule) & table["loss"].notna()]
        assert np.array_equal(rows["step"].to_numpy(), raw["step"].to_numpy()), schedule
        assert np.array_equal(rows["loss"].to_numpy(), raw["loss"].to_numpy()), schedule


def test_luo_spot_values_as_printed_in_the_files():
    t = load_dataset("luo2025-25M", run="cosine_24000")
    first = t[t["loss"].notna()].iloc[0]
    assert (int(first["step"]), float(first["loss"])) == (2160, 4.1114)
    t = load_dataset("luo2025-400M/constant_72000")
    last = t[t["loss"].notna()].iloc[-1]
    assert (int(last["step"]), float(last["loss"])) == (71936, 2.7157)
    assert int(t["step"].max()) == 71999


@pytest.mark.skipif(not RAW_LUO.is_dir(), reason="../shared Luo et al. files not present")
def test_luo_shipped_files_are_byte_identical_to_the_authors():
    shipped = sorted(p.relative_to(DATA / "luo2025") for p in (DATA / "luo2025").glob("csv_*/*.csv"))
    raw = sorted(p.relative_to(RAW_LUO) for p in RAW_LUO.glob("csv_*/*.csv"))
    assert shipped == raw and len(shipped) == 27
    for rel in shipped:
        assert (DATA / "luo2025" / rel).read_bytes() == (RAW_LUO / rel).read_bytes(), rel


def test_lr_schedule_hand_values():
    peak, final, w = 3e-4, 3e-5, 2160
    cos = luo2025.lr_schedule("cosine_24000")
    assert cos.shape == (24000,)
    assert cos[0] == 0.0 and cos[1] == pytest.approx(peak / 2159, rel=1e-15) and cos[2159] == peak
    assert cos[w] == peak
    assert cos[23999] == pytest.approx(final + 0.5 * (peak - final) * (1 + np.cos(np.pi * 21839 / 21840)), rel=1e-15)
    wsd = luo2025.lr_schedule("wsd_20000_24000")
    assert wsd[19999] == peak and wsd[22000] == pytest.approx(np.sqrt(peak * final), rel=1e-14)
    ld = luo2025.lr_schedule("wsdld_20000_24000")
    assert ld[22000] == pytest.approx((peak + final) / 2, rel=1e-14)
    con = luo2025.lr_schedule("wsdcon_3")
    assert con.shape == (16000,) and con[7999] == peak and con[8000] == 3 * 1e-5 and con[-1] == 3 * 1e-5
    assert luo2025.lr_schedule("constant_72000").shape == (72000,)
    with pytest.raises(DataError, match="unknown Luo"):
        luo2025.lr_schedule("cosine_x")


@pytest.mark.parametrize("name", LUO)
def test_per_step_lr_of_every_run_is_the_authors_schedule_and_matches_the_files_lr(name):
    size = name.split("-")[1]
    table = load_dataset(name)
    for schedule in luo2025.SCHEDULES:
        lr, step, loss = curve_arrays(table, schedule)
        assert np.array_equal(lr, luo2025.lr_schedule(schedule)), schedule
        raw = pd.read_csv(DATA / "luo2025" / f"csv_{size[:-1]}" / f"{schedule}.csv")
        assert np.abs(lr[raw["step"].to_numpy()] - raw["lr"].to_numpy()).max() < 1e-18, schedule


def test_logged_rows_only_keep_the_exact_lr():
    table = load_dataset("luo2025-100M", run=["wsdcon_9", "cosine_72000"], every_step=False)
    assert table["loss"].notna().all() and len(table) == 109 + 546
    rows = table[table["run"] == "cosine_72000"]
    assert np.array_equal(rows["lr"].to_numpy(), luo2025.lr_schedule("cosine_72000")[rows["step"].to_numpy()])


def test_benchmark_reads_the_shipped_curves_with_the_moved_schedule_logic():
    bench = _bench("multipowerlaw")
    assert bench.TRAIN == luo2025.TRAIN and bench.TEST == luo2025.TEST
    lr, step, loss = bench.read_curve("400", "wsd_20000_24000")
    lr2, step2, loss2 = curve_arrays(load_dataset("luo2025-400M", run="wsd_20000_24000"), "wsd_20000_24000")
    assert np.array_equal(lr, lr2) and np.array_equal(step, step2) and np.array_equal(loss, loss2)


@pytest.mark.slow  # ~12-20 s: compiles the multi-power law
def test_published_multi_power_parameters_reproduce_the_repo_metrics_from_the_dataset():
    """Repo README, 400M, the authors' PARAMS: test-set means R2 0.9978, PredE 0.00168, WorstE 0.00995."""
    from scaling._x64 import float64
    from scaling.laws import get_law
    from scaling.prediction import curve_metrics

    table = scaling.load("dataset:luo2025-400M")
    theta = np.array([2.37474466, 0.65421216, 0.42878731, np.log(523.42464371), np.log(2.02462735),
                      0.59350493, 0.63472457])
    law = get_law("multi-power")
    rows = []
    with float64():
        for schedule in luo2025.TEST:
            lr, step, loss = curve_arrays(table, schedule)
            rows.append(curve_metrics(loss, np.asarray(law(theta, {"lr": lr, "step": step}))))
    assert np.mean([r["R2"] for r in rows]) == pytest.approx(0.9978, abs=5e-5)
    assert np.mean([r["PredE"] for r in rows]) == pytest.approx(0.00168, abs=5e-6)
    assert np.mean([r["WorstE"] for r in rows]) == pytest.approx(0.00995, abs=5e-6)


# --------------------------------------------------------------------------- Gadre et al. 2024


def test_gadre_has_104_models_34_35_35_over_the_published_configs():
    models = gadre2024.read_models(DATA / "gadre2024" / "models.csv")
    assert len(models) == 104 and models["name"].is_unique
    assert models["dataset"].value_counts().to_dict() == {"rpj": 35, "rw_original": 35, "c4_original": 34}
    sizes = models.groupby("model")["params"].agg(["first", "nunique", "size"])
    assert sizes["nunique"].eq(1).all()
    assert sizes["first"].to_dict() == {
        "d=96_l=8_h=4": 10_569_312, "d=512_l=8_h=4": 78_914_048, "d=576_l=24_h=8": 153_677_376,
        "d=1024_l=24_h=8": 411_616_256, "open_lm_1b": 1_439_795_200, "open_lm_7b": 6_889_410_560}
    assert sizes["size"].to_dict() == {"d=96_l=8_h=4": 24, "d=512_l=8_h=4": 24, "d=576_l=24_h=8": 24,
                                       "d=1024_l=24_h=8": 23, "open_lm_1b": 6, "open_lm_7b": 3}
    assert list(models.columns) == list(gadre2024.COLUMNS)
    assert models.notna().all().all()


@pytest.mark.parametrize("name, n", [("gadre2024-c4", 34), ("gadre2024-rpj", 35), ("gadre2024-rw", 35)])
def test_gadre_points_are_checked_tables_with_c4_val_loss(name, n):
    pts = scaling.load_points(f"dataset:{name}")
    assert len(pts) == n
    assert list(pts.columns[:6]) == ["run", "N", "D", "C", "loss", "source"]
    assert np.array_equal(pts["C"], 6.0 * pts["N"] * pts["D"])
    assert np.array_equal(pts["loss"], pts["loss_c4_val"])
    assert np.allclose(pts["M"], 20.0 * pts["multiplier"], rtol=1e-6)
    assert pts.attrs["derived"] == {"C": "6 N D"}
    assert pts.attrs["files"] == [f"dataset:{name}"]
    assert all(f"dataset:{name}" in note for note in pts.attrs["notes"])
    assert set(pts["source"]) == {f"dataset:{name}"}


def test_gadre_spot_values_the_provenance_quotes():
    rpj = load_dataset("gadre2024-rpj")
    big = rpj[rpj["model"] == "open_lm_7b"].iloc[0]
    assert round(float(big["loss"]), 4) == 2.4250 and float(big["M"]) == pytest.approx(20.0, rel=1e-6)
    one = load_dataset("gadre2024-rpj/rpj-open_lm_1b-32.0")
    assert len(one) == 1 and round(float(one["loss"].iloc[0]), 4) == 2.5021


@pytest.mark.slow
def test_gadre_papers_recipe_on_the_shipped_table_gives_the_published_digits():
    """The paper's relative errors (0.7103 %, 0.7320 %, 3.6365 %) from dataset:gadre2024-rpj with our fitter."""
    bench = _bench("gadre_replication")
    out = bench.replicate()  # the shipped table
    paper = out[out["objective"] == "paper"].set_index("quantity")["rel_err_pct"].round(4).to_dict()
    assert paper == {"loss open_lm_1b M=640": 0.7103, "loss open_lm_7b M=20": 0.7320,
                     "err17 open_lm_1b M=640": 3.6365}


@pytest.mark.skipif(not RAW_GADRE.is_dir(), reason="../shared Gadre et al. files not present")
def test_gadre_table_rebuilds_exactly_from_the_authors_json():
    shipped = gadre2024.read_models(DATA / "gadre2024" / "models.csv")
    rebuilt = gadre2024.build_models_table(RAW_GADRE)
    pd.testing.assert_frame_equal(shipped, rebuilt, check_exact=True, check_dtype=False)
    model = json.loads((RAW_GADRE / "models" / "rw_original-d=576_l=24_h=8-4.0.json").read_text())
    c4 = [r["loss"] for r in model["results"] if r["val_data"][0].startswith("training/eval_data/c4_val/")]
    row = load_dataset("gadre2024-rw/rw_original-d=576_l=24_h=8-4.0")
    assert float(row["loss"].iloc[0]) == c4[0]
    assert float(row["N"].iloc[0]) == model["hyperparameters"]["params"]
    assert float(row["D"].iloc[0]) == model["hyperparameters"]["tokens"]


# --------------------------------------------------------------------------- sources and errors


def test_dataset_sources_mix_with_files_and_clashing_runs_get_the_dataset_prefix(tmp_path):
    own = tmp_path / "wsdcon_9.csv"
    own.write_text("step,loss,lr\n0,5.0,1e-3\n10,4.0,1e-3\n")
    table = scaling.load(["dataset:luo2025-25M/wsdcon_9", "dataset:luo2025-25M/wsdcon_3", str(own)])
    assert list(pd.unique(table["run"])) == ["luo2025-25M/wsdcon_9", "luo2025-25M/wsdcon_3", "wsdcon_9"]
    assert table.attrs["files"] == ["dataset:luo2025-25M", str(own)]
    assert any("prefixed" in n for n in table.attrs["notes"])
    assert table.loc[table["run"] == "wsdcon_9", "loss"].tolist() == [5.0, 4.0]


def test_two_sizes_load_as_one_table_with_prefixed_runs():
    table = scaling.load(["dataset:luo2025-25M/cosine_24000", "dataset:luo2025-100M/cosine_24000"])
    assert list(pd.unique(table["run"])) == ["luo2025-25M/cosine_24000", "luo2025-100M/cosine_24000"]
    assert table.groupby("run", sort=False)["params"].first().tolist() == [25e6, 101e6]


def test_sources_are_told_apart_from_files_and_know_their_kind(tmp_path):
    from scaling.datasets import source_kind, split_sources

    f = tmp_path / "a.csv"
    assert split_sources(["dataset:luo2025-25M/wsdcon_9", f, "runs/*.csv"]) == (["dataset:luo2025-25M/wsdcon_9"],
                                                                                [f, "runs/*.csv"])
    assert split_sources("dataset:gadre2024-rw") == (["dataset:gadre2024-rw"], [])
    assert source_kind("dataset:luo2025-25M/wsdcon_9") == "curves" and source_kind("dataset:gadre2024-rw") == "points"
    with pytest.raises(DataError, match="unknown dataset"):
        source_kind("dataset:nope")


@pytest.mark.parametrize("call, match", [
    (lambda: load_dataset("luo2025-1B"), "unknown dataset 'luo2025-1B'; available: luo2025-25M"),
    (lambda: load_dataset("luo2025-25M", run="cosine"), "has no run 'cosine'"),
    (lambda: load_dataset("luo2025-25M/wsdcon_9", run="wsdcon_3"), "either as"),
    (lambda: scaling.load("dataset:gadre2024-rpj"), "final-loss points table .* use scaling.load_points"),
    (lambda: scaling.load_points("dataset:luo2025-25M"), "loss-curve table .* use scaling.load"),
    (lambda: scaling.load("dataset:luo2025-25M", split="train"), "has no train loss"),
    (lambda: scaling.load("dataset:"), "names no dataset"),
    (lambda: scaling.load("dataset:luo2025-25M/"), "names no run"),
])
def test_bad_dataset_sources_are_one_line_data_errors(call, match):
    with pytest.raises(DataError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- notices and packaging


@pytest.mark.parametrize("name", [*LUO, *GADRE])
def test_describe_gives_citation_licence_provenance_and_runs(name):
    info = DATASETS[name]
    text = describe(name)
    assert text.startswith(f"{name} ({info.kind}): ")
    assert info.commit in text and info.repository in text and info.copyright in text
    assert "citation:" in text and ("@inproceedings" in text or "@article" in text)
    runs = scaling.datasets.dataset_runs(name)
    assert all(r in text for r in runs) if info.kind == "curves" else f"runs ({len(runs)})" in text


@pytest.mark.parametrize("folder", ["luo2025", "gadre2024"])
def test_each_folder_ships_mit_notice_citation_and_provenance_that_agree_with_the_registry(folder):
    info = next(d for d in DATASETS.values() if d.folder == folder)
    licence = (DATA / folder / "LICENSE").read_text()
    assert licence.startswith("MIT License\n\n" + info.copyright + "\n")
    assert "Permission is hereby granted, free of charge" in licence and 'PROVIDED "AS IS"' in licence
    provenance = (DATA / folder / "PROVENANCE.md").read_text()
    assert info.commit in provenance and info.repository in provenance and info.copyright in provenance
    assert "changed" in provenance
    assert (DATA / folder / "CITATION.bib").read_text().lstrip().startswith("@")


def test_wheel_ships_the_data_and_licence_files(tmp_path):
    # Build from a clean copy: a stale build/ or *.egg-info in the checkout would hide missing package-data.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "scaling", src / "scaling", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 and "satisfies the requirement setuptools" in log:
        pytest.skip("no package index to fetch the build backend from")
    assert proc.returncode == 0, log[-2000:]
    # project.license as an SPDX string: no "`project.license` as a TOML table is deprecated"
    assert "BuildBackendWarning" not in log and "deprecated" not in log, log[-2000:]
    names = zipfile.ZipFile(glob.glob(str(tmp_path / "*.whl"))[0]).namelist()
    for folder in ("luo2025", "gadre2024"):
        for f in ("LICENSE", "CITATION.bib", "PROVENANCE.md"):
            assert f"scaling/datasets/data/{folder}/{f}" in names
        assert any(n.endswith(f"licenses/scaling/datasets/data/{folder}/LICENSE") for n in names)
    assert "scaling/datasets/data/gadre2024/models.csv" in names
    assert len([n for n in names if n.startswith("scaling/datasets/data/luo2025/csv_")]) == 27


# --------------------------------------------------------------------------- command line


def test_cli_lists_every_dataset_with_its_licence(capsys):
    from scaling.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("luo2025", "gadre2024"))]
    assert [line.split()[0] for line in lines] == [*LUO, *GADRE]
    assert all(line.split()[3] == "MIT" for line in lines)
    assert "dataset:NAME/RUN" in out


def test_cli_describe_prints_the_api_text_and_unknown_names_exit_2(capsys):
    from scaling.cli import main

    assert main(["datasets", "describe", "luo2025-100M"]) == 0
    assert capsys.readouterr().out.strip() == describe("luo2025-100M")
    assert main(["datasets", "describe", "luo2025-1B"]) == 2
    assert "unknown dataset 'luo2025-1B'" in capsys.readouterr().err


def test_cli_export_round_trips_through_the_loaders(tmp_path, capsys):
    from scaling.cli import main

    out = tmp_path / "wsd.csv"
    assert main(["datasets", "export", "luo2025-100M/wsd_20000_24000", "--out", str(out)]) == 0
    assert "24000 rows, 1 run" in capsys.readouterr().out
    back = scaling.load(str(out))
    ref = load_dataset("luo2025-100M", run="wsd_20000_24000")
    for a, b in zip(curve_arrays(back, "wsd_20000_24000"), curve_arrays(ref, "wsd_20000_24000")):
        assert np.array_equal(a, b)
    assert set(back["split"]) == {"val"} and set(back["params"]) == {101e6}
    pts_file = tmp_path / "c4.csv"
    assert main(["datasets", "export", "gadre2024-c4", "--out", str(pts_file)]) == 0
    pts = scaling.load_points(str(pts_file))
    ref = load_dataset("gadre2024-c4")
    assert list(pts["run"]) == list(ref["run"])
    for col in ("N", "D", "C", "loss", "err_avg_17"):
        assert np.array_equal(pts[col], ref[col]), col


def test_docstring_examples_run():
    import doctest

    import scaling.datasets.luo2025

    for module in (scaling.datasets, scaling.datasets.luo2025):
        failed, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert tried > 0 and failed == 0, module.__name__


def test_report_and_inspect_take_dataset_sources_like_files(tmp_path, capsys):
    """The README's tour: `scaling report FIT --data dataset:NAME` (it said 'file not found: dataset:...')."""
    from scaling.cli import main
    from scaling.report.build import load_data

    curves, points = load_data(["dataset:luo2025-25M/cosine_24000", "dataset:gadre2024-rpj"])
    assert set(curves["run"]) == {"cosine_24000"} and len(points) == 35
    fit_json = tmp_path / "chin.json"
    assert main(["fit", "dataset:gadre2024-rpj", "--law", "chinchilla", "--out", str(fit_json)]) == 0
    assert main(["report", str(fit_json), "--data", "dataset:gadre2024-rpj", "--budget", "1e21",
                 "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    # the data were read: the figures of the data and of the residuals are drawn only from --data
    assert {"data-and-fit.png", "residuals.png"} <= {p.name for p in (tmp_path / "r" / "figures").iterdir()}
    assert main(["inspect", "dataset:gadre2024-rpj", "dataset:luo2025-25M/wsdcon_9"]) == 0
    out = capsys.readouterr().out
    assert "wsdcon_9" in out and "final-loss points" in out
    # a bad source is one line and exit 2, before any report is written
    for bad, says in (("dataset:nope", "unknown dataset 'nope'"), ("dataset:luo2025-25M/nope", "has no run 'nope'")):
        assert main(["report", str(fit_json), "--data", bad, "--out", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("scaling: error:") and says in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "bad").exists()  # not even an empty folder is left behind
