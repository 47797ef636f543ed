"""The byte-level language models behind ``data/``: corpus, LR schedules, model, training loop.

Used by :mod:`make_runs` (the command line and the run plan); see its
docstring for the step convention. A decoder-only transformer (GPT-2 style,
tied embeddings), byte level (vocabulary 256), trained with AdamW and
global-norm gradient clipping on the source text of the running
interpreter's standard library, on CPU. Importable on its own: the
test-suite trains a tiny configuration in seconds.
"""

from __future__ import annotations

import functools
import hashlib
import math
import platform
import sysconfig
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

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
