"""The files ``data/`` ships: per-run CSV and JSON sidecar, and the files derived from the runs.

Per run (:func:`run_csv_text`, :func:`sidecar`); derived (:func:`write_derived`):
the grid's ``points.csv``, a Hugging Face ``trainer_state.json`` and a W&B
history export rendered from two curve runs, the corpus manifest, and the
README's table of runs. Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lm_training import MAX_FILE_BYTES, VAL_EVERY, Corpus, RunConfig

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- output

CSV_COLUMNS = ("step", "lr", "train_loss", "val_loss", "tokens", "params", "params_total")


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; data files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fmt(x: float | None, digits: int) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def run_csv_text(result: dict) -> str:
    """The per-run CSV: one row per update, ``val_loss`` empty where not measured."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in result["rows"]:
        w.writerow([r["step"], _fmt(r["lr"], 6), _fmt(r["train_loss"], 6), _fmt(r["val_loss"], 6),
                    r["tokens"], result["params"], result["params_total"]])
    return buf.getvalue()


def sidecar(cfg: RunConfig, result: dict, corpus: Corpus) -> dict:
    """Full config plus what the run measured (the JSON sidecar)."""
    import jax
    import optax

    vals = [r["val_loss"] for r in result["rows"] if r["val_loss"] is not None]
    return {
        "run": cfg.name,
        "config": asdict(cfg),
        "params": result["params"],
        "params_total": result["params_total"],
        "tokens": cfg.steps * cfg.tokens_per_step,
        "flops_6ND": 6.0 * result["params"] * cfg.steps * cfg.tokens_per_step,
        "final_val_loss": vals[-1],
        "final_train_loss_mean_last_10": float(np.mean([r["train_loss"] for r in result["rows"][-10:]])),
        "seconds": round(result["seconds"], 1),
        "corpus": {"sha256": corpus.sha256, "python": corpus.python, "n_train_files": len(corpus.train_files),
                   "n_val_files": len(corpus.val_files), "train_bytes": int(len(corpus.train)),
                   "val_bytes": int(len(corpus.val))},
        "versions": {"jax": jax.__version__, "optax": optax.__version__, "numpy": np.__version__},
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpus": os.cpu_count()},
        "step_convention": "row s: lr and train_loss of update s; val_loss after s updates",
    }


# --------------------------------------------------------------------------- derived files


def _read_run(path: Path) -> tuple[list[dict], dict]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    meta = json.loads(path.with_suffix(".json").read_text())
    return rows, meta


def write_points(grid_dir: Path) -> Path:
    """``points.csv``: run, N (non-embedding params), D (tokens), C = 6ND, loss (final val)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "N", "D", "C", "loss", "params_total", "d_model", "n_layers", "steps",
                "final_train_loss"])
    for path in sorted(grid_dir.glob("*.json")):
        meta = json.loads(path.read_text())
        cfg = meta["config"]
        N, D = meta["params"], meta["tokens"]
        w.writerow([meta["run"], N, D, f"{6.0 * N * D:.6g}", f"{meta['final_val_loss']:.6g}",
                    meta["params_total"], cfg["d_model"], cfg["n_layers"], cfg["steps"],
                    f"{meta['final_train_loss_mean_last_10']:.6g}"])
    out = grid_dir / "points.csv"
    _atomic_write_text(out, buf.getvalue())
    return out


def write_trainer_state(run_csv: Path, out: Path) -> Path:
    """The run as a Hugging Face ``trainer_state.json`` (train rows every 10 steps, eval rows)."""
    rows, meta = _read_run(run_csv)
    cfg = meta["config"]
    train_bytes = meta["corpus"]["train_bytes"]
    history = []
    t_sum, n_sum = 0.0, 0
    for r in rows:
        s = int(r["step"])
        t_sum += float(r["train_loss"])
        n_sum += 1
        epoch = round(s * cfg["batch"] * cfg["ctx"] / train_bytes, 4)
        # the HF Trainer logs the mean train loss since the previous log, and the LR of that step
        if s % 10 == 0 or s == cfg["steps"]:
            history.append({"epoch": epoch, "learning_rate": float(r["lr"]),
                            "loss": round(t_sum / n_sum, 4), "step": s})
            t_sum, n_sum = 0.0, 0
        if r["val_loss"]:
            history.append({"epoch": epoch, "eval_loss": float(r["val_loss"]), "eval_runtime": 0.5,
                            "eval_samples_per_second": 384.0, "eval_steps_per_second": 12.0, "step": s})
    # A run of a few steps with a warm compile cache can report 0 s; keep the rates finite.
    seconds = max(float(meta["seconds"]), 1e-3)
    history.append({"epoch": round(cfg["steps"] * cfg["batch"] * cfg["ctx"] / train_bytes, 4),
                    "step": cfg["steps"], "total_flos": meta["flops_6ND"], "train_loss": float(np.mean(
                        [float(r["train_loss"]) for r in rows])), "train_runtime": meta["seconds"],
                    "train_samples_per_second": round(cfg["steps"] * cfg["batch"] / seconds, 3),
                    "train_steps_per_second": round(cfg["steps"] / seconds, 3)})
    state = {
        "best_metric": None, "best_model_checkpoint": None,
        "epoch": history[-1]["epoch"], "eval_steps": cfg["eval_every"], "global_step": cfg["steps"],
        "is_hyper_param_search": False, "is_local_process_zero": True, "is_world_process_zero": True,
        "log_history": history, "logging_steps": 10, "max_steps": cfg["steps"], "num_train_epochs": 1,
        "save_steps": cfg["steps"], "total_flos": meta["flops_6ND"], "train_batch_size": cfg["batch"],
        "trial_name": None, "trial_params": None,
    }
    _atomic_write_text(out, json.dumps(state, indent=2) + "\n")
    return out


def write_wandb_history(run_csv: Path, out: Path) -> Path:
    """The run as a W&B history export: ``_step``, ``_runtime``, ``_timestamp``, sparse metric rows.

    Train metrics are logged every 5 steps; eval rows are separate W&B steps
    logged right after, as ``wandb.log`` does when called twice.
    """
    rows, meta = _read_run(run_csv)
    sec_per_step = meta["seconds"] / len(rows)
    t0 = 1_790_000_000.0  # a fixed start time keeps the file reproducible
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["_step", "_runtime", "_timestamp", "train/global_step", "train/loss", "train/learning_rate",
                "eval/loss", "train/tokens"])
    wb_step = 0
    for r in rows:
        s = int(r["step"])
        rt = s * sec_per_step
        if s % 5 == 0:
            w.writerow([wb_step, f"{rt:.3f}", f"{t0 + rt:.3f}", s, r["train_loss"], r["lr"], "", r["tokens"]])
            wb_step += 1
        if r["val_loss"]:
            w.writerow([wb_step, f"{rt + 0.1:.3f}", f"{t0 + rt + 0.1:.3f}", s, "", "", r["val_loss"], r["tokens"]])
            wb_step += 1
    _atomic_write_text(out, buf.getvalue())
    return out


def write_corpus_manifest(corpus: Corpus, out: Path) -> Path:
    """``corpus.json``: Python version, hash, byte counts and the exact file lists."""
    manifest = {
        "python": corpus.python, "sha256": corpus.sha256,
        "selection": f"top-level *.py of the standard library, sorted by name, <= {MAX_FILE_BYTES} bytes, "
                     f"without _sysconfigdata*; every {VAL_EVERY}th file (sorted index {VAL_EVERY - 1}, "
                     f"{2 * VAL_EVERY - 1}, ...) is validation",
        "train_bytes": int(len(corpus.train)), "val_bytes": int(len(corpus.val)),
        "train_files": list(corpus.train_files), "val_files": list(corpus.val_files),
    }
    _atomic_write_text(out, json.dumps(manifest, indent=1) + "\n")
    return out


def runs_table(root: Path = HERE) -> str:
    """Markdown table of every bundled run (for data/README.md)."""
    lines = ["| set | run | d_model x layers | N (non-emb) | N total | steps | tokens | schedule | seed "
             "| final val loss | min val loss | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for folder in ("curves", "grid"):
        metas = [json.loads(p.read_text()) for p in sorted((root / folder).glob("*.json"))]
        for m in metas:
            c = m["config"]
            rows, _ = _read_run((root / folder / m["run"]).with_suffix(".csv"))
            vmin = min(float(r["val_loss"]) for r in rows if r["val_loss"])
            sched = c["schedule"] + (f" ({c['decay_frac']:.0%} decay)" if c["schedule"].startswith("wsd") else "")
            lines.append(f"| {folder} | `{m['run']}` | {c['d_model']}x{c['n_layers']} | {m['params']:,} | "
                         f"{m['params_total']:,} | {c['steps']} | {m['tokens']:,} | {sched} | {c['seed']} | "
                         f"{m['final_val_loss']:.4f} | {vmin:.4f} | {m['seconds']:.0f} |")
    return "\n".join(lines)


def write_derived(root: Path = HERE) -> None:
    """points.csv for the grid and the HF / W&B renderings of two curve runs."""
    if any((root / "grid").glob("*.json")):
        write_points(root / "grid")
    if (root / "curves" / "cosine.csv").exists():
        write_trainer_state(root / "curves" / "cosine.csv", root / "formats" / "trainer_state.json")
    if (root / "curves" / "wsd_linear20.csv").exists():
        write_wandb_history(root / "curves" / "wsd_linear20.csv", root / "formats" / "wandb_history.csv")
