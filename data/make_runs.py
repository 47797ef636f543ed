"""Train the small byte-level language models whose logs ship in ``data/``.

Every curve and final-loss point bundled with the project comes from a real
training run made by this script: a decoder-only transformer, byte level
(vocabulary 256), trained with AdamW and global-norm gradient clipping on the
source text of the running interpreter's standard library, on CPU.

The model, corpus, schedules and training loop are in ``lm_training.py``,
the files written in ``run_files.py``; this script holds the run plan, the
shared-work locks and the command line. It is importable: the test-suite runs
:func:`train` on a tiny configuration in a few seconds. From the command
line::

    python data/make_runs.py --all            # every run, then the derived files
    python data/make_runs.py --curves         # only the loss-curve set
    python data/make_runs.py --grid           # only the final-loss grid
    python data/make_runs.py --derived        # points.csv, trainer_state.json, wandb CSV
    python data/make_runs.py --all --list     # print the run plan (with --curves or --grid: that part)

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
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the sibling modules, also when this file is loaded by path (the tests)
    sys.path.insert(0, str(HERE))

from lm_training import Corpus, RunConfig, count_params, init_params, load_corpus, schedule_lr, train  # noqa: E402
from run_files import (  # noqa: E402
    CSV_COLUMNS, _atomic_write_text, run_csv_text, runs_table, sidecar, write_corpus_manifest, write_derived,
)

#: The script's names, with those of its two modules that the tests and users reach through it.
__all__ = ["CSV_COLUMNS", "CURVE_STEPS", "Corpus", "RunConfig", "count_params", "curve_plan", "grid_plan",
           "init_params", "load_corpus", "main", "run_and_write", "schedule_lr", "train", "write_derived"]


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
