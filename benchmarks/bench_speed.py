"""Compile-once benchmark (issue 10): whole-process CLI cost against a bare JAX process.

One command::

    .venv/bin/python benchmarks/bench_speed.py [--repeats 3]

Measured in the same run, medians over ``--repeats`` interleaved runs:

- baseline: ``python -c "import jax, scipy, pandas"`` plus one jitted op, a
  new process each time (what any JAX tool pays to start);
- ``scaling fit`` of lr-annealing on two 25,000-step runs (constant and
  cosine, loss every 200 steps: 251 points, 4 parameters), a new process, with
  the persistent compilation cache warm (a previous fit ran once first; the
  cold first run is printed too);
- ``scaling predict`` of one 50,000-step run (WSD) from that fit, a new process;
- ``scaling fit`` of two runs of lengths the cache has not seen (24,600 steps,
  123 points each), a new process: curve fits pad their LR arrays and points
  to size buckets (:func:`scaling.fitting.objective.padded_size`), so this
  must cost what the warm fit costs, not a new compile (before the LR arrays
  were padded it took 6.8 s here against 1.9 s warm; a multi-power fit of
  runs of new lengths took 12-14 s more than a warm one);
- in-process: a second fit by law *name* and by law *object* on the same data
  (neither may recompile: the same law value is reused);
- multi-power: if ``benchmarks/bench_multipower.py`` exists it is run and
  its lines printed.

Targets: fit <= 2.0x (same or new run lengths) and predict <= 1.5x the
baseline; name == object.
Each row shows wall and CPU seconds (user + system of the child process)
with both ratios; the wall ratio is the target's measure.
The synthetic runs follow lr-annealing with 0.3 % noise, written to a
temporary folder; the cache lives in a temporary folder too, so nothing of
the user's is touched.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

BASELINE = "import jax, scipy, pandas, jax.numpy as jnp; jax.jit(lambda x: x * 2 + 1)(jnp.ones(3)).block_until_ready()"


def _runs(folder: Path) -> tuple[list[Path], Path]:
    from scaling import schedules as sch
    from scaling.laws import get_law

    law = get_law("lr-annealing")
    theta = np.array([2.8, 0.45, 0.5, 0.35])
    rng = np.random.default_rng(0)
    paths = []
    specs = {"constant": "constant:peak=3e-3,warmup=300,total=25000",
             "cosine": "cosine:peak=3e-3,final=3e-4,warmup=300,total=25000",
             "wsd50k": "wsd:peak=3e-3,final=3e-5,warmup=300,total=50000,decay=0.2,shape=1-sqrt",
             "constant_b": "constant:peak=3e-3,warmup=300,total=24600",
             "cosine_b": "cosine:peak=3e-3,final=3e-4,warmup=300,total=24600"}
    for name, spec in specs.items():
        sched, total = sch.parse_schedule(spec)
        lr = sch.schedule_array(sched, total)
        steps = np.arange(0, total + 1, 200)
        steps = steps[steps > 0]
        loss = law(theta, {"lr": lr, "step": steps}) * np.exp(0.003 * rng.standard_normal(steps.size))
        path = folder / f"{name}.csv"
        lines = ["step,loss,lr"] + [f"{s},{v:.6f},{lr[s]:.6g}" for s, v in zip(steps, loss)]
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths[:2], paths[2], paths[3:]


def _time(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return dt, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _in_process(train: list[Path]) -> tuple[float, float]:
    import scaling
    from scaling.fitting import dataset_from_curves

    table = scaling.load([str(p) for p in train])
    law = scaling.get_law("lr-annealing")
    data = dataset_from_curves(law, table)
    scaling.fit(law, data)  # compiles once
    t0 = time.perf_counter()
    scaling.fit("lr-annealing", data)
    by_name = time.perf_counter() - t0
    t0 = time.perf_counter()
    scaling.fit(law, data)
    by_object = time.perf_counter() - t0
    return by_name, by_object


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train, held, other = _runs(tmp)
        env = {**os.environ, "SCALING_CACHE_DIR": str(tmp / "cache"), "PYTHONPATH": str(ROOT)}
        fit_cmd = [py, "-m", "scaling.cli", "fit", *map(str, train), "--law", "lr-annealing", "--warmup-steps",
                   "300", "--out", str(tmp / "fit.json")]
        pred_cmd = [py, "-m", "scaling.cli", "predict", str(tmp / "fit.json"), "--lr-from", str(held),
                    "--out", str(tmp / "pred.csv")]
        other_cmd = fit_cmd[:4] + list(map(str, other)) + fit_cmd[6:-1] + [str(tmp / "fit_other.json")]
        cold_fit = _time(fit_cmd, env)
        cold_pred = _time(pred_cmd, env)
        new_lengths = _time(other_cmd, env)  # once only: a second run would find its own lengths cached
        base, fits, preds = [], [], []
        for _ in range(args.repeats):
            base.append(_time([py, "-c", BASELINE], env))
            fits.append(_time(fit_cmd, env))
            preds.append(_time(pred_cmd, env))
        b, f, p = ([statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)]
                   for v in (base, fits, preds))
        by_name, by_object = _in_process(train)
    # CPU seconds beside wall seconds: on a shared machine the wall ratio
    # moves with the load of other processes, the CPU ratio much less
    print(f"{'what':<52} {'wall s':>7} {'x base':>7} {'CPU s':>7} {'x base':>7} {'target':>7}")
    rows = [("baseline: import jax, scipy, pandas + 1 jitted op", b, ""),
            ("scaling fit lr-annealing, 2 x 25k steps (cold cache)", cold_fit, ""),
            ("scaling fit lr-annealing, 2 x 25k steps (warm cache)", f, "<= 2.0"),
            ("scaling fit, 2 runs of new lengths (24.6k steps)", new_lengths, "<= 2.0"),
            ("scaling predict, one 50k-step run (cold cache)", cold_pred, ""),
            ("scaling predict, one 50k-step run (warm cache)", p, "<= 1.5")]
    for what, (wall, cpu), target in rows:
        print(f"{what:<52} {wall:7.2f} {wall / b[0]:7.2f} {cpu:7.2f} {cpu / b[1]:7.2f} {target:>7}")
    print(f"{'in-process refit by law name':<52} {by_name:8.3f}")
    print(f"{'in-process refit by law object':<52} {by_object:8.3f} {by_name / by_object:10.2f} {'~1':>8}")
    mp = HERE / "bench_multipower.py"
    if mp.exists():
        print("\nmulti-power (benchmarks/bench_multipower.py):", flush=True)
        subprocess.run([py, str(mp)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
