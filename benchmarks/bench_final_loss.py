"""Final-loss fitting speed: ours vs a plain scipy loop (and peers, when installed), one run.

Data: Epoch AI's reconstruction of Hoffmann et al.'s Figure 4 points
(``../shared/data/external/chinchilla-epoch/``), 240 points after dropping the
5 highest losses, ``D = C / (6 N)``; the Hoffmann objective (summed Huber,
delta 1e-3, on log loss).

Rows (every number measured in this run, each in its own child process so
peak RSS is per tool):

* **ours, in-process**: ``scaling.fit("chinchilla", ...)`` (VarPro starts +
  damped Newton): first call (compile included), then the median of
  ``--repeats`` warm calls; 4,000 point-bootstrap refits warm.
* **ours, CLI process**: ``scaling fit POINTS.csv --law chinchilla
  --bootstrap 4000`` as a new process, wall time and peak RSS, with an empty
  persistent compile cache and again with it filled.
* **scipy L-BFGS-B**: ``scipy.optimize.minimize(method="L-BFGS-B")`` with an
  analytic gradient (numpy, the LSE form with one shift per point) from each
  of Hoffmann's 4,500 starts, keep the best; one BLAS thread
  (OMP/OPENBLAS/MKL_NUM_THREADS=1). In-process grid time, and the whole
  process (grid only).
* ``chinchilla`` / ``simple-scaling-laws`` (PyPI): listed when importable,
  otherwise "not installed" (they are not dependencies of this project).

Run: ``.venv/bin/python benchmarks/bench_final_loss.py [--repeats 5] [--bootstrap 4000]``
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_EPOCH = Path("data") / "external" / "chinchilla-epoch" / "svg_extracted_data.csv"
# ../shared beside the checkout (/work/main), or two levels up from a git
# worktree (/work/wt/NAME), as tests/_fit_data.py finds it
DATA = next((p / "shared" / _EPOCH for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / _EPOCH).exists()),
            ROOT.parent / "shared" / _EPOCH)
DELTA = 1e-3


def epoch_table(path: Path = DATA):
    """The 240 Epoch points as a DataFrame ``N, D, loss`` (5 highest losses dropped)."""
    import pandas as pd

    df = pd.read_csv(path).rename(columns={"Model Size": "N", "Training FLOP": "C"})
    df = df.sort_values("loss").iloc[:-5].reset_index(drop=True)
    return pd.DataFrame({"N": df["N"], "D": df["C"] / (6.0 * df["N"]), "loss": df["loss"]})


# ---------------------------------------------------------------- children

def child_ours(csv: str, repeats: int, n_boot: int) -> dict:
    import pandas as pd

    from scaling.fitting import dataset_from_points, fit

    ds = dataset_from_points("chinchilla", pd.read_csv(csv))
    t0 = time.perf_counter()
    res = fit("chinchilla", ds)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fit("chinchilla", ds)
        warm.append(time.perf_counter() - t0)
    fit("chinchilla", ds, bootstrap=n_boot, seed=0)  # compile the bootstrap shapes
    boot = []
    for _ in range(max(1, repeats // 2)):
        t0 = time.perf_counter()
        fit("chinchilla", ds, bootstrap=n_boot, seed=0)
        boot.append(time.perf_counter() - t0 - float(np.median(warm)))
    return {"cold": cold, "warm": float(np.median(warm)), "boot": float(np.median(boot)),
            "objective": res.objective, "params": res.params.tolist()}


def baseline_objective(log_n, log_d, log_y):
    """Summed Huber objective on log loss and its analytic gradient (numpy)."""

    def fun(theta):
        a, b, e, alpha, beta = theta
        u = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
        m = u.max(axis=0)
        ex = np.exp(u - m)
        s = ex.sum(axis=0)
        r = m + np.log(s) - log_y
        ar = np.abs(r)
        f = np.where(ar <= DELTA, 0.5 * r * r, DELTA * (ar - 0.5 * DELTA)).sum()
        psi = np.clip(r, -DELTA, DELTA)
        p = ex / s
        g = np.array([psi @ p[0], psi @ p[1], psi @ p[2], -psi @ (p[0] * log_n), -psi @ (p[1] * log_d)])
        return f, g

    return fun


def child_scipy(csv: str) -> dict:
    import pandas as pd
    from scipy.optimize import minimize

    from scaling.laws.chinchilla import START_GRID

    df = pd.read_csv(csv)
    fun = baseline_objective(np.log(df["N"].to_numpy()), np.log(df["D"].to_numpy()), np.log(df["loss"].to_numpy()))
    starts = np.array(list(itertools.product(*(START_GRID[k] for k in ("a", "b", "e", "alpha", "beta")))))
    bounds = [(None, None)] * 3 + [(0.0, 10.0)] * 2
    best_f, best_x = np.inf, None
    t0 = time.perf_counter()
    for x0 in starts:
        res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds)
        if res.fun < best_f:
            best_f, best_x = float(res.fun), res.x
    return {"grid": time.perf_counter() - t0, "objective": best_f, "params": best_x.tolist(), "starts": len(starts)}


# ---------------------------------------------------------------- parent

def _run_child(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB, of exactly this child: ``os.wait4``) and stdout of one child process."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{errors[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--bootstrap", type=int, default=4000)
    ap.add_argument("--skip-baseline", action="store_true", help="skip the scipy loop (about 15-60 s)")
    ap.add_argument("--child", choices=("ours", "scipy"), help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child == "ours":
        print(json.dumps(child_ours(args.csv, args.repeats, args.bootstrap)))
        return 0
    if args.child == "scipy":
        print(json.dumps(child_scipy(args.csv)))
        return 0
    if not DATA.exists():
        print(f"skipped: {DATA} not found (Epoch's Chinchilla points are not available here)")
        return 0

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    one_thread = dict(env, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    me = [sys.executable, str(Path(__file__).resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "epoch_points.csv")
        epoch_table().to_csv(csv, index=False)
        rows = {}

        wall, rss, out = _run_child(me + ["--child", "ours", "--csv", csv, "--repeats", str(args.repeats),
                                          "--bootstrap", str(args.bootstrap)], env)
        rows["ours"] = dict(json.loads(out.strip().splitlines()[-1]), rss=rss)

        cli = [sys.executable, "-m", "scaling.cli", "fit", csv, "--law", "chinchilla", "--bootstrap",
               str(args.bootstrap), "--out", os.path.join(tmp, "fit.json")]
        cache_env = dict(env, SCALING_CACHE_DIR=os.path.join(tmp, "jax-cache"))
        rows["cli_cold"] = dict(zip(("wall", "rss"), _run_child(cli, cache_env)[:2]))
        rows["cli_warm"] = dict(zip(("wall", "rss"), _run_child(cli, cache_env)[:2]))

        if not args.skip_baseline:
            wall, rss, out = _run_child(me + ["--child", "scipy", "--csv", csv], one_thread)
            rows["scipy"] = dict(json.loads(out.strip().splitlines()[-1]), wall=wall, rss=rss)

    ours, cold, warm = rows["ours"], rows["cli_cold"], rows["cli_warm"]
    print(f"Epoch Chinchilla points: 240; Hoffmann objective (summed Huber, delta {DELTA:g}, log loss); "
          f"bootstrap {args.bootstrap}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    table = [["", "one global fit in-process (warm)", f"whole CLI process, fit + {args.bootstrap} bootstraps",
              "peak RSS"]]
    table.append(["ours (VarPro starts + damped Newton)",
                  f"{ours['warm']:.4f} s (cold {ours['cold']:.2f} s); {args.bootstrap} bootstraps {ours['boot']:.2f} s",
                  f"{warm['wall']:.2f} s (empty compile cache: {cold['wall']:.2f} s)",
                  f"{warm['rss']:.0f} MiB (in-process run {ours['rss']:.0f} MiB)"])
    if "scipy" in rows:
        sc = rows["scipy"]
        table.append([f"scipy L-BFGS-B, analytic gradient, {sc['starts']} starts, 1 BLAS thread",
                      f"{sc['grid']:.2f} s", f"{sc['wall']:.2f} s (grid only)", f"{sc['rss']:.0f} MiB"])
    for peer in ("chinchilla", "simple_scaling_laws"):
        found = importlib.util.find_spec(peer) is not None
        table.append([peer.replace("_", "-"), "installed, not timed here" if found else "not installed (skipped)",
                      "-", "-"])
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for k, r in enumerate(table):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print()
    print(f"ours: objective {ours['objective']:.10g}")
    if "scipy" in rows:
        sc = rows["scipy"]
        rel = abs(ours["objective"] - sc["objective"]) / sc["objective"]
        print(f"scipy: objective {sc['objective']:.10g} (relative difference to ours {rel:.1e})")
        print(f"ratios: in-process fit scipy/ours {sc['grid'] / ours['warm']:.0f}x; "
              f"whole process scipy grid / our CLI fit+{args.bootstrap} bootstraps "
              f"{sc['wall'] / warm['wall']:.1f}x (compile cache filled), {sc['wall'] / cold['wall']:.1f}x (empty)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
