"""The training logs shipped in ``data/`` are complete, consistent, and what data/README.md says."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
SCRIPT = DATA / "make_runs.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_runs", module)
    spec.loader.exec_module(module)
    return module


mr = _load_script()
CURVES = {c.name: c for c in mr.curve_plan()}
GRID = {c.name: c for c in mr.grid_plan()}


def _run(folder: str, name: str) -> tuple[pd.DataFrame, dict]:
    return (pd.read_csv(DATA / folder / f"{name}.csv"),
            json.loads((DATA / folder / f"{name}.json").read_text()))


def _readme() -> str:
    return (DATA / "README.md").read_text()


def test_every_planned_run_is_bundled_and_nothing_else():
    assert sorted(p.stem for p in (DATA / "curves").glob("*.csv")) == sorted(CURVES)
    assert sorted(p.stem for p in (DATA / "grid").glob("*.csv") if p.stem != "points") == sorted(GRID)
    assert sorted(p.stem for p in (DATA / "curves").glob("*.json")) == sorted(CURVES)
    assert not list(DATA.rglob("*.lock")) and not list(DATA.rglob(".*.tmp"))


def test_plan_has_the_schedules_and_grid_the_issue_asks_for():
    schedules = {c.schedule for c in CURVES.values()}
    assert {"constant", "cosine", "wsd_linear", "wsd_exp", "multistep", "two_stage", "cyclic"} <= schedules
    decays = {c.decay_frac for c in CURVES.values() if c.schedule == "wsd_linear"}
    assert decays == {0.1, 0.2}
    seeded = {c.schedule for c in CURVES.values() if c.seed != 0}
    assert len(seeded) >= 2
    assert max(c.steps for c in CURVES.values()) >= 2 * mr.CURVE_STEPS
    sizes = {(c.d_model, c.n_layers) for c in GRID.values()}
    budgets = {c.steps for c in GRID.values()}
    assert len(sizes) >= 4 and len(budgets) >= 4 and len(GRID) == len(sizes) * len(budgets)


def test_readme_counts_match_the_files():
    text = _readme()
    assert f"{len(CURVES)} loss-curve runs" in text
    assert f"{len(GRID)} final-loss runs" in text
    for name in list(CURVES) + list(GRID):
        assert f"`{name}`" in text, f"{name} missing from the README table"


def test_readme_states_the_corpus_hash_and_python_version():
    _, meta = _run("curves", "constant")
    text = _readme()
    assert meta["corpus"]["sha256"] in text
    assert f"Python {meta['corpus']['python']}" in text


@pytest.mark.parametrize("folder,name", [("curves", n) for n in CURVES] + [("grid", n) for n in GRID])
def test_run_log_is_complete_and_matches_its_config(folder, name):
    df, meta = _run(folder, name)
    cfg = mr.RunConfig(**meta["config"])
    assert cfg == (CURVES if folder == "curves" else GRID)[name]
    assert list(df.columns) == list(mr.CSV_COLUMNS)
    assert df["step"].tolist() == list(range(1, cfg.steps + 1))
    assert df["tokens"].tolist() == [s * cfg.batch * cfg.ctx for s in range(1, cfg.steps + 1)]
    val_steps = df.loc[df["val_loss"].notna(), "step"].tolist()
    assert val_steps == sorted({*range(cfg.eval_every, cfg.steps + 1, cfg.eval_every), cfg.steps})
    assert (df["params"] == meta["params"]).all() and (df["params_total"] == meta["params_total"]).all()


@pytest.mark.parametrize("folder,name", [("curves", n) for n in CURVES] + [("grid", n) for n in GRID])
def test_logged_lr_is_the_configured_schedule(folder, name):
    df, meta = _run(folder, name)
    c = meta["config"]
    expected = mr.schedule_lr(c["schedule"], c["steps"], peak=c["peak_lr"], warmup=c["warmup"],
                              final_frac=c["final_frac"], decay_frac=c["decay_frac"])
    np.testing.assert_allclose(df["lr"].to_numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("folder,name", [("curves", n) for n in CURVES] + [("grid", n) for n in GRID])
def test_losses_are_finite_in_range_and_fall(folder, name):
    df, meta = _run(folder, name)
    val = df["val_loss"].dropna().to_numpy()
    assert np.isfinite(df["train_loss"]).all() and np.isfinite(val).all()
    assert 0.5 < val.min() and df["train_loss"].max() < np.log(256) + 0.5
    assert val[-1] < val[0]
    assert meta["final_val_loss"] == pytest.approx(val[-1], rel=1e-5)


def test_all_runs_used_one_corpus():
    sidecars = [*(DATA / "curves").glob("*.json"), *(DATA / "grid").glob("*.json")]
    hashes = {json.loads(p.read_text())["corpus"]["sha256"] for p in sidecars}
    manifest = json.loads((DATA / "corpus.json").read_text())
    assert hashes == {manifest["sha256"]}
    assert len(manifest["train_files"]) + len(manifest["val_files"]) == 145


def test_late_annealing_ends_below_constant():
    """The schedule shows in these curves: runs that keep the peak LR and anneal late end below constant."""
    constant = _run("curves", "constant")[1]["final_val_loss"]
    for name in ("wsd_linear10", "wsd_linear20", "wsd_exp20", "multistep"):
        assert _run("curves", name)[1]["final_val_loss"] < constant - 0.02, name


def test_wsd_decay_drops_the_loss_below_the_constant_run_at_the_same_step():
    constant = _run("curves", "constant")[0].set_index("step")["val_loss"].dropna()
    wsd = _run("curves", "wsd_linear20")[0].set_index("step")["val_loss"].dropna()
    start = CURVES["wsd_linear20"].steps * 0.8
    np.testing.assert_allclose(wsd[wsd.index <= start], constant[constant.index <= start], rtol=1e-6)
    assert (constant - wsd)[wsd.index > start].iloc[-1] > 0.03


def test_seed_pairs_agree_to_within_a_few_percent():
    for name in CURVES:
        if name.endswith("_seed1"):
            a = _run("curves", name.removesuffix("_seed1"))[0]["val_loss"].dropna().to_numpy()
            b = _run("curves", name)[0]["val_loss"].dropna().to_numpy()
            assert np.mean(np.abs(a - b) / a) < 0.03, name


def test_points_table_is_the_grid():
    points = pd.read_csv(DATA / "grid" / "points.csv")
    assert sorted(points["run"]) == sorted(GRID)
    np.testing.assert_allclose(points["C"], 6.0 * points["N"] * points["D"], rtol=1e-5)
    for _, p in points.iterrows():
        meta = _run("grid", p["run"])[1]
        assert p["N"] == meta["params"] and p["D"] == meta["tokens"]
        assert p["loss"] == pytest.approx(meta["final_val_loss"], rel=1e-5)


def test_final_loss_falls_with_tokens_at_every_size():
    points = pd.read_csv(DATA / "grid" / "points.csv")
    for _, g in points.groupby("N"):
        assert np.all(np.diff(g.sort_values("D")["loss"].to_numpy()) < 0)


def test_final_loss_falls_with_size_at_the_largest_budget():
    points = pd.read_csv(DATA / "grid" / "points.csv")
    top = points[points["D"] == points["D"].max()].sort_values("N")
    assert np.all(np.diff(top["loss"].to_numpy()) < 0)


def test_hf_trainer_state_is_the_cosine_run():
    state = json.loads((DATA / "formats" / "trainer_state.json").read_text())
    df, _ = _run("curves", "cosine")
    evals = {h["step"]: h["eval_loss"] for h in state["log_history"] if "eval_loss" in h}
    logged = df.dropna(subset=["val_loss"]).set_index("step")["val_loss"]
    assert evals == pytest.approx(logged.to_dict(), rel=1e-5)
    assert state["global_step"] == len(df)


def test_wandb_history_is_the_wsd_run():
    wb = pd.read_csv(DATA / "formats" / "wandb_history.csv")
    df, _ = _run("curves", "wsd_linear20")
    assert wb["_step"].tolist() == list(range(len(wb)))
    ev = wb.dropna(subset=["eval/loss"])
    logged = df.dropna(subset=["val_loss"])
    np.testing.assert_allclose(ev["eval/loss"].to_numpy(), logged["val_loss"].to_numpy())


def test_bundled_data_stays_small():
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 5_000_000


# --------------------------------------------------------------------------- through the project's loaders


def test_curves_load_as_one_canonical_table():
    import scaling

    table = scaling.load(sorted((DATA / "curves").glob("*.csv")))
    assert sorted(table["run"].unique()) == sorted(CURVES)
    assert set(table["split"]) == {"train", "val"}
    val = table[(table["run"] == "constant") & (table["split"] == "val")]
    df, _ = _run("curves", "constant")
    np.testing.assert_allclose(val["loss"].to_numpy(), df["val_loss"].dropna().to_numpy(), rtol=1e-6)


def test_curve_arrays_give_the_lr_of_every_step():
    import scaling
    from scaling.runs import curve_arrays

    table = scaling.load(DATA / "curves" / "wsd_linear20.csv")
    lr, step, loss = curve_arrays(table, "wsd_linear20", split="val")
    df, _ = _run("curves", "wsd_linear20")
    assert lr.shape == (len(df) + 1,)
    np.testing.assert_allclose(lr[1:], df["lr"].to_numpy(), rtol=1e-6)
    assert step.tolist() == df.dropna(subset=["val_loss"])["step"].tolist()


def test_points_load_with_n_d_c():
    import scaling

    points = scaling.load_points(DATA / "grid" / "points.csv")
    assert len(points) == len(GRID)
    np.testing.assert_allclose(points["C"], 6.0 * points["N"] * points["D"], rtol=1e-5)


@pytest.mark.parametrize("name,run", [("trainer_state.json", "cosine"), ("wandb_history.csv", "wsd_linear20")])
def test_other_formats_load_to_the_same_val_curve(name, run):
    import scaling

    table = scaling.load(DATA / "formats" / name)
    val = table[table["split"] == "val"]
    df, _ = _run("curves", run)
    np.testing.assert_allclose(val["loss"].to_numpy(), df["val_loss"].dropna().to_numpy(), rtol=1e-5)
    assert val["step"].tolist() == df.dropna(subset=["val_loss"])["step"].tolist()
