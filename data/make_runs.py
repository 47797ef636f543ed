"""Train the small byte-level language models whose logs ship in ``data/``.

Every curve and final-loss point bundled with the project comes from a real
training run made by this script: a decoder-only transformer, byte level
(vocabulary 256), trained with AdamW and global-norm gradient clipping on the
source text of the running interpreter's standard library, on CPU.

The script is importable: the test-suite runs :func:`train` on a tiny
configuration in a few seconds. From the command line::

    python data/make_runs.py --all            # every run, then the derived files
    python data/make_runs.py --curves         # only the loss-curve set
    python data/make_runs.py --grid           # only the final-loss grid
    python data/make_runs.py --derived        # points.csv, trainer_state.json, wandb CSV
    python data/make_runs.py --list           # print the run plan

Runs whose CSV already exists are skipped, so an interrupted generation is
resumed by running the same command again; a run being trained holds a
``<run>.lock`` file (created exclusively), so two processes started with the
same command share the work instead of repeating it.

Step convention (the one the curve laws use): update ``s`` (``s = 1..T``)
applies learning rate ``lr`` of row ``s``; ``train_loss`` of row ``s`` is the
mini-batch loss computed during update ``s`` (on the parameters after ``s-1``
updates); ``val_loss`` of row ``s`` is measured after ``s`` updates;
``tokens`` = tokens seen after ``s`` updates.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import io
import json
import math
import os
import platform
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

HERE = Path(__file__).resolve().parent

# --------------------------------------------------------------------------- corpus

#: Files larger than this are left out, so no single module dominates the corpus.
MAX_FILE_BYTES = 60_000
#: Every ``VAL_EVERY``-th file (by sorted name) is held out for validation.
VAL_EVERY = 10


@dataclass(frozen=True)
class Corpus:
    """Byte streams of the training and validation files.

    Attributes
    ----------
    train, val : np.ndarray of uint8
        Concatenated file bytes (files joined in sorted-name order).
    train_files, val_files : tuple of str
        File names (relative to the standard-library directory).
    sha256 : str
        Hash of ``name\\0bytes\\0`` over all selected files in sorted order.
    python : str
        ``platform.python_version()`` of the interpreter whose library was read.
    """

    train: np.ndarray
    val: np.ndarray
    train_files: tuple[str, ...]
    val_files: tuple[str, ...]
    sha256: str
    python: str
    root: str


def select_corpus_files(root: Path) -> list[Path]:
    """The fixed file list: top-level ``*.py`` of the standard library.

    Sorted by name; files over :data:`MAX_FILE_BYTES` and the platform-specific
    ``_sysconfigdata*`` module are dropped so the selection is stable across
    machines with the same Python version.
    """
    files = sorted(root.glob("*.py"), key=lambda p: p.name)
    return [
        p for p in files
        if p.stat().st_size <= MAX_FILE_BYTES and not p.name.startswith("_sysconfigdata")
    ]


def load_corpus(root: Path | None = None) -> Corpus:
    """Read the corpus and split it by file (every 10th file is validation)."""
    root = Path(root) if root is not None else Path(sysconfig.get_paths()["stdlib"])
    files = select_corpus_files(root)
    if len(files) < VAL_EVERY:
        raise RuntimeError(f"only {len(files)} .py files under {root}; cannot build the corpus")
    digest = hashlib.sha256()
    train_parts, val_parts, train_names, val_names = [], [], [], []
    for i, path in enumerate(files):
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        if i % VAL_EVERY == VAL_EVERY - 1:
            val_parts.append(data)
            val_names.append(path.name)
        else:
            train_parts.append(data)
            train_names.append(path.name)
    return Corpus(
        train=np.frombuffer(b"".join(train_parts), dtype=np.uint8),
        val=np.frombuffer(b"".join(val_parts), dtype=np.uint8),
        train_files=tuple(train_names),
        val_files=tuple(val_names),
        sha256=digest.hexdigest(),
        python=platform.python_version(),
        root=str(root),
    )


# --------------------------------------------------------------------------- schedules


def schedule_lr(kind: str, total_steps: int, *, peak: float, warmup: int, final_frac: float = 0.1,
                decay_frac: float = 0.2, **_: object) -> np.ndarray:
    """Learning rate applied at updates ``1..T`` (index 0 is update 1).

    All schedules warm up linearly from ``peak/warmup`` to ``peak`` over the
    first ``warmup`` updates, then:

    - ``constant``: ``peak``.
    - ``cosine``: ``peak * (f + (1-f) (1 + cos(pi u)) / 2)``, ``u`` the fraction
      of post-warmup updates done, ``f = final_frac``.
    - ``wsd_linear``: ``peak`` until the last ``decay_frac`` of the run, then
      linear to ``final_frac * peak`` at the last update.
    - ``wsd_exp``: as ``wsd_linear`` but geometric (exponential) decay.
    - ``multistep``: ``peak`` for 80 % of the run, ``peak/sqrt(10)`` to 90 %,
      ``peak/10`` after (the 80/10/10 step schedule).
    - ``two_stage``: ``peak`` to mid-run, ``0.3 peak`` after.
    - ``cyclic``: cosine to ``final_frac`` over the first half, then a linear
      re-warmup (``warmup`` updates) to ``peak`` and a second cosine to
      ``final_frac`` over the second half.
    """
    T, W = int(total_steps), int(warmup)
    s = np.arange(1, T + 1, dtype=np.float64)
    warm = peak * np.minimum(s / max(W, 1), 1.0)
    f = final_frac

    def cosine(start: int, end: int, x: np.ndarray) -> np.ndarray:
        u = np.clip((x - start) / max(end - start, 1), 0.0, 1.0)
        return peak * (f + (1 - f) * 0.5 * (1 + np.cos(math.pi * u)))

    if kind == "constant":
        lr = np.full(T, peak)
    elif kind == "cosine":
        lr = cosine(W, T, s)
    elif kind in ("wsd_linear", "wsd_exp"):
        start = T - int(round(decay_frac * T))
        u = np.clip((s - start) / max(T - start, 1), 0.0, 1.0)
        if kind == "wsd_linear":
            lr = peak * (1 - (1 - f) * u)
        else:
            lr = peak * f ** u
    elif kind == "multistep":
        lr = np.where(s <= 0.8 * T, peak, np.where(s <= 0.9 * T, peak / math.sqrt(10), peak / 10))
    elif kind == "two_stage":
        lr = np.where(s <= T // 2, peak, 0.3 * peak)
    elif kind == "cyclic":
        half = T // 2
        first = cosine(W, half, s)
        rewarm = peak * (f + (1 - f) * np.clip((s - half) / max(W, 1), 0.0, 1.0))
        second = cosine(half + W, T, s)
        lr = np.where(s <= half, first, np.where(s <= half + W, rewarm, second))
    else:
        raise ValueError(f"unknown schedule {kind!r}")
    # the warmup multiplies every schedule except the cyclic re-warmup (which is after it)
    lr = np.where(s <= W, np.minimum(warm, lr if kind != "cyclic" else warm), lr)
    return lr.astype(np.float64)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run (saved as the JSON sidecar)."""

    name: str
    d_model: int = 64
    n_layers: int = 2
    head_dim: int = 16
    ctx: int = 128
    batch: int = 16
    steps: int = 600
    schedule: str = "cosine"
    peak_lr: float = 3e-3
    warmup: int = 30
    final_frac: float = 0.1
    decay_frac: float = 0.2
    weight_decay: float = 0.1
    clip: float = 1.0
    b1: float = 0.9
    b2: float = 0.95
    seed: int = 0
    eval_every: int = 20
    val_windows: int = 192
    group: str = "curves"

    @property
    def tokens_per_step(self) -> int:
        return self.batch * self.ctx


def init_params(cfg: RunConfig, key) -> dict:
    """GPT-2-style parameters; output head tied to the token embedding."""
    import jax
    import jax.numpy as jnp

    d, L = cfg.d_model, cfg.n_layers
    keys = jax.random.split(key, 2 + 4 * L)
    std = 0.02
    # GPT-2 scales the residual projections by 1/sqrt(2L) so deeper nets start stable
    proj_std = std / math.sqrt(2 * L)
    params = {
        "wte": std * jax.random.normal(keys[0], (256, d)),
        "wpe": 0.01 * jax.random.normal(keys[1], (cfg.ctx, d)),
        "ln_f": {"g": jnp.ones(d), "b": jnp.zeros(d)},
        "blocks": [],
    }
    for i in range(L):
        k = keys[2 + 4 * i: 6 + 4 * i]
        params["blocks"].append({
            "ln1": {"g": jnp.ones(d), "b": jnp.zeros(d)},
            "qkv": std * jax.random.normal(k[0], (d, 3 * d)),
            "qkv_b": jnp.zeros(3 * d),
            "proj": proj_std * jax.random.normal(k[1], (d, d)),
            "proj_b": jnp.zeros(d),
            "ln2": {"g": jnp.ones(d), "b": jnp.zeros(d)},
            "fc": std * jax.random.normal(k[2], (d, 4 * d)),
            "fc_b": jnp.zeros(4 * d),
            "out": proj_std * jax.random.normal(k[3], (4 * d, d)),
            "out_b": jnp.zeros(d),
        })
    return params


def count_params(params: dict) -> tuple[int, int]:
    """``(non_embedding, total)`` parameter counts.

    Non-embedding excludes the token embedding (tied with the output head)
    and the position embedding, as in Kaplan et al. (2020).
    """
    import jax

    total = sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(params))
    emb = int(np.prod(params["wte"].shape)) + int(np.prod(params["wpe"].shape))
    return total - emb, total


def _layer_norm(x, p):
    import jax.numpy as jnp

    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + 1e-5) * p["g"] + p["b"]


def forward(params: dict, tokens, cfg: RunConfig):
    """Logits ``(B, T, 256)`` for byte tokens ``(B, T)``."""
    import jax
    import jax.numpy as jnp

    B, T = tokens.shape
    H = cfg.d_model // cfg.head_dim
    x = params["wte"][tokens] + params["wpe"][:T]
    mask = jnp.tril(jnp.ones((T, T), dtype=bool))
    for blk in params["blocks"]:
        h = _layer_norm(x, blk["ln1"])
        q, k, v = jnp.split(h @ blk["qkv"] + blk["qkv_b"], 3, axis=-1)
        q, k, v = (a.reshape(B, T, H, cfg.head_dim) for a in (q, k, v))
        att = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(cfg.head_dim)
        att = jax.nn.softmax(jnp.where(mask, att, -1e9), axis=-1)
        y = jnp.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, T, cfg.d_model)
        x = x + y @ blk["proj"] + blk["proj_b"]
        h = _layer_norm(x, blk["ln2"])
        x = x + jax.nn.gelu(h @ blk["fc"] + blk["fc_b"]) @ blk["out"] + blk["out_b"]
    x = _layer_norm(x, params["ln_f"])
    return x @ params["wte"].T


def loss_fn(params: dict, batch, cfg: RunConfig):
    """Mean next-byte cross-entropy in nats; ``batch`` is ``(B, ctx+1)``."""
    import jax
    import jax.numpy as jnp

    logits = forward(params, batch[:, :-1], cfg)
    logp = jax.nn.log_softmax(logits, axis=-1)
    nll = -jnp.take_along_axis(logp, batch[:, 1:, None], axis=-1)[..., 0]
    return nll.mean()


def make_optimizer(cfg: RunConfig):
    """Clip -> Adam -> decoupled weight decay on matrices; the LR is applied in the step.

    Applying ``-lr`` ourselves (instead of an optax schedule inside the
    optimiser) guarantees the logged LR is exactly the one used, and keeps
    one compiled step for every schedule.
    """
    import jax
    import optax

    def decay_mask(params):
        return jax.tree_util.tree_map(lambda x: x.ndim >= 2, params)

    return optax.chain(
        optax.clip_by_global_norm(cfg.clip),
        optax.scale_by_adam(b1=cfg.b1, b2=cfg.b2, eps=1e-8),
        optax.add_decayed_weights(cfg.weight_decay, mask=decay_mask),
    )


def _val_windows(val: np.ndarray, cfg: RunConfig) -> np.ndarray:
    """Fixed held-out windows, evenly spaced over the validation stream."""
    n = cfg.val_windows
    starts = np.linspace(0, len(val) - cfg.ctx - 2, n).astype(np.int64)
    return np.stack([val[s: s + cfg.ctx + 1] for s in starts]).astype(np.int32)


def _shape_key(cfg: RunConfig) -> RunConfig:
    """The part of a config that the compiled step depends on (schedule, seed, length do not)."""
    return replace(cfg, name="", steps=0, schedule="", peak_lr=0.0, warmup=0, final_frac=0.0,
                   decay_frac=0.0, seed=0, eval_every=0, group="")


@functools.lru_cache(maxsize=None)
def _compiled(key: RunConfig):
    """Optimizer, jitted update and jitted validation loss for one model shape.

    Cached so that the runs of one size in a process share one compilation;
    the LR is an argument, so every schedule uses the same compiled update.
    """
    import jax

    cfg = key
    opt = make_optimizer(cfg)

    @jax.jit
    def step(params, opt_state, batch, lr):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch, cfg)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = jax.tree_util.tree_map(lambda p, u: p - lr * u, params, updates)
        return params, opt_state, loss

    @jax.jit
    def val_loss(params, windows):
        chunks = windows.reshape(-1, cfg.batch, cfg.ctx + 1)
        return jax.lax.map(lambda b: loss_fn(params, b, cfg), chunks).mean()

    return opt, step, val_loss


def train(cfg: RunConfig, corpus: Corpus, *, progress: Callable[[str], None] | None = None) -> dict:
    """Train one model; return ``{"rows": [...], "params": N, "params_total": ..., "seconds": ...}``.

    Each row is ``dict(step, lr, train_loss, val_loss, tokens)``; ``val_loss``
    is ``None`` except every ``eval_every`` updates and at the last update.
    """
    import jax
    import jax.numpy as jnp

    lrs = schedule_lr(cfg.schedule, cfg.steps, peak=cfg.peak_lr, warmup=cfg.warmup,
                      final_frac=cfg.final_frac, decay_frac=cfg.decay_frac)
    params = init_params(cfg, jax.random.PRNGKey(cfg.seed))
    n_non_emb, n_total = count_params(params)
    opt, step, val_loss = _compiled(_shape_key(cfg))
    opt_state = opt.init(params)

    windows = jnp.asarray(_val_windows(corpus.val, cfg))
    if windows.shape[0] % cfg.batch:
        raise ValueError("val_windows must be a multiple of batch")
    # data order depends on the seed only, so schedules with one seed see the same batches
    rng = np.random.default_rng(10_000 + cfg.seed)
    hi = len(corpus.train) - cfg.ctx - 1
    offsets = np.arange(cfg.ctx + 1)
    rows = []
    t0 = time.perf_counter()
    for s in range(1, cfg.steps + 1):
        starts = rng.integers(0, hi, size=cfg.batch)
        batch = jnp.asarray(corpus.train[starts[:, None] + offsets].astype(np.int32))
        lr = float(lrs[s - 1])
        params, opt_state, loss = step(params, opt_state, batch, jnp.float32(lr))
        row = {"step": s, "lr": lr, "train_loss": float(loss), "val_loss": None,
               "tokens": s * cfg.tokens_per_step}
        if s % cfg.eval_every == 0 or s == cfg.steps:
            row["val_loss"] = float(val_loss(params, windows))
            if progress is not None:
                progress(f"{cfg.name} step {s}/{cfg.steps} lr {lr:.2e} "
                         f"train {row['train_loss']:.4f} val {row['val_loss']:.4f}")
        if not math.isfinite(row["train_loss"]):
            raise FloatingPointError(f"{cfg.name}: loss is not finite at step {s}")
        rows.append(row)
    return {"rows": rows, "params": n_non_emb, "params_total": n_total,
            "seconds": time.perf_counter() - t0}


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _acquire(lock: Path) -> bool:
    """Create ``lock`` exclusively; a lock left by a dead process (same machine) is taken over."""
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            owner = int(lock.read_text() or "0")
        except (OSError, ValueError):
            return False
        if owner and not _pid_alive(owner):
            lock.unlink(missing_ok=True)
            return _acquire(lock)
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


def run_and_write(cfg: RunConfig, corpus: Corpus, out_dir: Path, *, log=print) -> bool:
    """Train ``cfg`` unless ``out_dir/<name>.csv`` exists or another process holds its lock."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{cfg.name}.csv"
    if csv_path.exists():
        return False
    lock = out_dir / f"{cfg.name}.lock"
    if not _acquire(lock):
        log(f"skip {cfg.name}: locked by another process ({lock})")
        return False
    try:
        log(f"start {cfg.name}: d={cfg.d_model} L={cfg.n_layers} steps={cfg.steps} {cfg.schedule} seed={cfg.seed}")
        result = train(cfg, corpus, progress=log)
        _atomic_write_text(out_dir / f"{cfg.name}.json", json.dumps(sidecar(cfg, result, corpus), indent=1) + "\n")
        _atomic_write_text(csv_path, run_csv_text(result))
        log(f"done {cfg.name}: {result['seconds']:.0f} s, final val {result['rows'][-1]['val_loss']:.4f}")
        return True
    finally:
        lock.unlink(missing_ok=True)


# --------------------------------------------------------------------------- run plan

#: Model used for the loss-curve set.
CURVE_MODEL = dict(d_model=64, n_layers=2)
CURVE_STEPS = 600
#: Sizes (d_model, n_layers) and budgets (updates) of the final-loss grid.
GRID_SIZES = ((24, 1), (32, 2), (48, 2), (64, 3))
GRID_STEPS = (100, 200, 400, 800)


def curve_plan() -> list[RunConfig]:
    """The loss-curve set: 8 schedules, 2 longer runs (2x), a second seed for two schedules."""
    T = CURVE_STEPS
    base = RunConfig(name="", steps=T, group="curves", **CURVE_MODEL)
    specs = [
        ("constant", dict(schedule="constant")),
        ("cosine", dict(schedule="cosine", final_frac=0.1)),
        ("wsd_linear10", dict(schedule="wsd_linear", decay_frac=0.1, final_frac=0.01)),
        ("wsd_linear20", dict(schedule="wsd_linear", decay_frac=0.2, final_frac=0.01)),
        ("wsd_exp20", dict(schedule="wsd_exp", decay_frac=0.2, final_frac=0.01)),
        ("multistep", dict(schedule="multistep")),
        ("two_stage", dict(schedule="two_stage")),
        ("cyclic", dict(schedule="cyclic", final_frac=0.1)),
        ("constant_long", dict(schedule="constant", steps=2 * T)),
        ("cosine_long", dict(schedule="cosine", final_frac=0.1, steps=2 * T)),
        ("constant_seed1", dict(schedule="constant", seed=1)),
        ("cosine_seed1", dict(schedule="cosine", final_frac=0.1, seed=1)),
    ]
    return [replace(base, name=name, **kw) for name, kw in specs]


def grid_plan() -> list[RunConfig]:
    """The final-loss grid: every size x every budget, cosine to 10 % sized to the budget."""
    plans = []
    for d, L in GRID_SIZES:
        for T in GRID_STEPS:
            plans.append(RunConfig(
                name=f"d{d}_L{L}_T{T}", d_model=d, n_layers=L, steps=T, schedule="cosine",
                final_frac=0.1, warmup=max(10, T // 20), eval_every=max(10, T // 20), group="grid",
                head_dim=8 if d % 16 else 16,
            ))
    return plans


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


# --------------------------------------------------------------------------- CLI


def _log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} [{os.getpid()}] {msg}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--all", action="store_true", help="curves, grid, then derived files")
    p.add_argument("--curves", action="store_true")
    p.add_argument("--grid", action="store_true")
    p.add_argument("--derived", action="store_true")
    p.add_argument("--list", action="store_true", help="print the plan and exit")
    p.add_argument("--table", action="store_true", help="print the markdown table of bundled runs and exit")
    p.add_argument("--only", nargs="*", default=None, help="run names to train (default: all in the set)")
    p.add_argument("--out", type=Path, default=HERE, help="output root (default: data/)")
    p.add_argument("--reverse", action="store_true", help="walk the plan from the end (for a 2nd worker)")
    args = p.parse_args(argv)
    # one XLA thread per process: the machine is shared, and two single-threaded
    # workers (--reverse for the second) use 2 cores better than one threaded one
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    log = _log
    plan: list[tuple[RunConfig, Path]] = []
    if args.all or args.curves:
        plan += [(c, args.out / "curves") for c in curve_plan()]
    if args.all or args.grid:
        plan += [(c, args.out / "grid") for c in grid_plan()]
    if args.only:
        plan = [(c, d) for c, d in plan if c.name in set(args.only)]
    if args.table:
        print(runs_table(args.out))
        return 0
    if args.list:
        for c, d in plan:
            print(f"{d.name}/{c.name}: d={c.d_model} L={c.n_layers} T={c.steps} {c.schedule} seed={c.seed}")
        return 0
    if args.reverse:
        plan = plan[::-1]
    if plan:
        corpus = load_corpus()
        log(f"corpus: python {corpus.python}, {len(corpus.train_files)}+{len(corpus.val_files)} files, "
            f"{len(corpus.train)}+{len(corpus.val)} bytes, sha256 {corpus.sha256[:16]}")
        t0 = time.time()
        for cfg, out_dir in plan:
            run_and_write(cfg, corpus, out_dir, log=log)
        log(f"plan finished in {time.time() - t0:.0f} s")
    if args.all or args.derived:
        write_corpus_manifest(load_corpus(), args.out / "corpus.json")
        write_derived(args.out)
        log("derived files written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
