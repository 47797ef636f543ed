"""The training script behind ``data/`` runs, on a tiny model, in seconds."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_runs.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_runs", module)  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


mr = _load_script()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A small stand-in standard library: 20 python files of real-looking text."""
    root = tmp_path_factory.mktemp("stdlib")
    text = SCRIPT.read_text()
    for i in range(20):
        (root / f"mod{i:02d}.py").write_text(text[i * 800: i * 800 + 4000] or text[:4000])
    (root / "_sysconfigdata__linux.py").write_text("x = 1\n" * 100)
    return mr.load_corpus(root)


def _tiny(**kw):
    base = dict(name="tiny", d_model=16, n_layers=1, head_dim=8, ctx=16, batch=4, steps=40,
                warmup=4, peak_lr=1e-2, eval_every=10, val_windows=8, schedule="cosine")
    base.update(kw)
    return mr.RunConfig(**base)


@pytest.fixture(scope="module")
def tiny_result(corpus):
    return mr.train(_tiny(), corpus)


def test_corpus_splits_every_tenth_file_to_validation(corpus):
    assert len(corpus.val_files) == 2 and len(corpus.train_files) == 18
    assert corpus.val_files == ("mod09.py", "mod19.py")
    assert not any(n.startswith("_sysconfigdata") for n in corpus.train_files + corpus.val_files)


def test_corpus_hash_is_stable(corpus, tmp_path):
    again = mr.load_corpus(Path(corpus.root))
    assert again.sha256 == corpus.sha256 and len(corpus.sha256) == 64


@pytest.mark.parametrize("kind", ["constant", "cosine", "wsd_linear", "wsd_exp", "multistep",
                                  "two_stage", "cyclic"])
def test_every_schedule_warms_up_then_stays_in_range(kind):
    lr = mr.schedule_lr(kind, 200, peak=1.0, warmup=10, final_frac=0.1, decay_frac=0.2)
    assert lr.shape == (200,)
    np.testing.assert_allclose(lr[:10], np.arange(1, 11) / 10)
    assert np.all(lr > 0) and np.all(lr <= 1.0 + 1e-12)


def test_wsd_decays_only_in_its_last_fraction():
    lr = mr.schedule_lr("wsd_linear", 100, peak=2.0, warmup=5, final_frac=0.01, decay_frac=0.2)
    assert np.all(lr[5:80] == 2.0)
    assert lr[-1] == pytest.approx(0.02)
    assert np.all(np.diff(lr[80:]) < 0)


def test_cosine_ends_at_final_fraction():
    lr = mr.schedule_lr("cosine", 100, peak=1.0, warmup=5, final_frac=0.1)
    assert lr[-1] == pytest.approx(0.1)


def test_multistep_drops_at_80_and_90_percent():
    lr = mr.schedule_lr("multistep", 100, peak=1.0, warmup=5)
    assert lr[79] == 1.0 and lr[80] == pytest.approx(10 ** -0.5) and lr[90] == pytest.approx(0.1)


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="unknown schedule"):
        mr.schedule_lr("sawtooth", 10, peak=1.0, warmup=1)


def test_non_embedding_params_exclude_both_embeddings():
    import jax

    cfg = _tiny()
    params = mr.init_params(cfg, jax.random.PRNGKey(0))
    non_emb, total = mr.count_params(params)
    assert total - non_emb == 256 * 16 + 16 * 16
    # 12 d^2 + 13 d per block (qkv, proj, mlp with biases, two layer norms) + final norm
    assert non_emb == 12 * 16 ** 2 + 13 * 16 + 2 * 16


def test_tiny_training_lowers_both_losses(tiny_result):
    rows = tiny_result["rows"]
    vals = [r["val_loss"] for r in rows if r["val_loss"] is not None]
    assert vals[-1] < vals[0] < np.log(256) + 0.5
    assert np.mean([r["train_loss"] for r in rows[-5:]]) < np.mean([r["train_loss"] for r in rows[:5]])


def test_logged_lr_is_the_schedule_applied(tiny_result):
    cfg = _tiny()
    expected = mr.schedule_lr(cfg.schedule, cfg.steps, peak=cfg.peak_lr, warmup=cfg.warmup,
                              final_frac=cfg.final_frac)
    np.testing.assert_allclose([r["lr"] for r in tiny_result["rows"]], expected)


def test_val_loss_is_logged_every_k_steps_and_at_the_end(tiny_result):
    steps = [r["step"] for r in tiny_result["rows"] if r["val_loss"] is not None]
    assert steps == [10, 20, 30, 40]


def test_same_seed_gives_the_same_run(corpus, tiny_result):
    again = mr.train(_tiny(), corpus)
    assert [r["train_loss"] for r in again["rows"]] == [r["train_loss"] for r in tiny_result["rows"]]


def test_written_run_has_csv_columns_and_sidecar(corpus, tmp_path):
    cfg = _tiny(steps=12, eval_every=5, name="w")
    assert mr.run_and_write(cfg, corpus, tmp_path) is True
    with open(tmp_path / "w.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(mr.CSV_COLUMNS)
    assert [r["step"] for r in rows] == [str(s) for s in range(1, 13)]
    assert [r["val_loss"] != "" for r in rows].count(True) == 3  # steps 5, 10, 12
    meta = json.loads((tmp_path / "w.json").read_text())
    assert meta["config"]["steps"] == 12 and meta["tokens"] == 12 * 4 * 16
    assert meta["corpus"]["sha256"] == corpus.sha256
    assert not list(tmp_path.glob("*.lock")) and not list(tmp_path.glob(".*tmp"))


def test_existing_run_is_skipped(corpus, tmp_path):
    (tmp_path / "w.csv").write_text("done\n")
    assert mr.run_and_write(_tiny(name="w"), corpus, tmp_path) is False
    assert (tmp_path / "w.csv").read_text() == "done\n"


def test_run_locked_by_a_live_process_is_skipped(corpus, tmp_path):
    (tmp_path / "w.lock").write_text(str(os.getppid()))
    assert mr.run_and_write(_tiny(name="w"), corpus, tmp_path) is False
    assert not (tmp_path / "w.csv").exists()


def test_derived_files_are_written_from_runs(corpus, tmp_path):
    cfg = _tiny(steps=20, eval_every=10)
    mr.run_and_write(replace(cfg, name="cosine"), corpus, tmp_path / "curves")
    mr.run_and_write(replace(cfg, name="wsd_linear20", schedule="wsd_linear"), corpus, tmp_path / "curves")
    mr.run_and_write(replace(cfg, name="g1", group="grid"), corpus, tmp_path / "grid")
    mr.write_derived(tmp_path)
    with open(tmp_path / "grid" / "points.csv", newline="") as fh:
        points = list(csv.DictReader(fh))
    assert [p["run"] for p in points] == ["g1"]
    assert float(points[0]["C"]) == pytest.approx(6 * float(points[0]["N"]) * float(points[0]["D"]), rel=1e-5)
    state = json.loads((tmp_path / "formats" / "trainer_state.json").read_text())
    assert state["global_step"] == 20
    assert any("eval_loss" in h for h in state["log_history"])
    assert any("learning_rate" in h and "loss" in h for h in state["log_history"])
    with open(tmp_path / "formats" / "wandb_history.csv", newline="") as fh:
        wb = list(csv.DictReader(fh))
    assert {"_step", "_runtime", "_timestamp"} <= set(wb[0])
    assert [int(r["_step"]) for r in wb] == list(range(len(wb)))
