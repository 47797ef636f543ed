"""Speed: our Chinchilla fit (4,500-start grid + 4,000-sample bootstrap) vs a plain scipy loop.

Data: Epoch AI's reconstruction of Hoffmann et al.'s Figure 4 points
(``../shared/data/external/chinchilla-epoch/``), 240 points after dropping the
5 highest losses, ``D = C / (6 N)``.

Baseline (what published replications do): ``scipy.optimize.minimize(method=
"L-BFGS-B")`` with an analytic gradient (numpy), summed Huber (delta 1e-3) on
log loss in Hoffmann's log-sum-exp form, looped over Hoffmann's 4,500 starts;
keep the best.

Ours: :func:`scaling.fit` with the same grid, ``strategy="staged"`` (default)
and ``"direct"``, then a 4,000-sample point bootstrap. JIT compilation
happens on the first call; the script times a first (cold, compile included)
and a second (warm) run and prints both.

Run: ``.venv/bin/python benchmarks/bench_chinchilla_speed.py [--baseline-starts K]``
(``--baseline-starts`` times the baseline on every ``4500/K``-th start and
scales up, for a quick look; the default runs all 4,500).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "chinchilla-epoch" / "svg_extracted_data.csv"
DELTA = 1e-3


def load_epoch(path: Path = DATA):
    """The 240 Epoch points as (N, D, loss) arrays (5 highest losses dropped)."""
    import pandas as pd

    df = pd.read_csv(path).rename(columns={"Model Size": "N", "Training FLOP": "C"})
    df = df.sort_values("loss").iloc[:-5]
    n = df["N"].to_numpy(float)
    return n, df["C"].to_numpy(float) / (6.0 * n), df["loss"].to_numpy(float)


def baseline_objective(log_n, log_d, log_y):
    """Summed Huber objective and analytic gradient for scipy (numpy)."""

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
        g = np.array([
            (psi * p[0]).sum(), (psi * p[1]).sum(), (psi * p[2]).sum(),
            -(psi * p[0] * log_n).sum(), -(psi * p[1] * log_d).sum(),
        ])
        return f, g

    return fun


def run_baseline(n, d, y, starts):
    from scipy.optimize import minimize

    fun = baseline_objective(np.log(n), np.log(d), np.log(y))
    best_f, best_x = np.inf, None
    t0 = time.perf_counter()
    for x0 in starts:
        res = minimize(fun, x0, jac=True, method="L-BFGS-B")
        if res.fun < best_f:
            best_f, best_x = float(res.fun), res.x
    return time.perf_counter() - t0, best_f, best_x


def run_ours(n, d, y, *, strategy: str, bootstrap: int):
    import pandas as pd

    from scaling.fitting import dataset_from_points, fit

    df = pd.DataFrame({"N": n, "D": d, "loss": y})
    ds = dataset_from_points("chinchilla", df)
    t0 = time.perf_counter()
    res_grid = fit("chinchilla", ds, strategy=strategy)
    t_grid = time.perf_counter() - t0
    t1 = time.perf_counter()
    fit("chinchilla", ds, strategy=strategy, bootstrap=bootstrap, seed=0, starts=res_grid.params[None, :])
    t_boot = time.perf_counter() - t1
    return t_grid, t_boot, res_grid


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-starts", type=int, default=4500, help="time the baseline on this many starts")
    ap.add_argument("--bootstrap", type=int, default=4000)
    ap.add_argument("--strategies", default="staged,direct")
    args = ap.parse_args(argv)
    if not DATA.exists():
        print(f"data not found: {DATA}", file=sys.stderr)
        return 1
    from scaling.laws import get_law

    n, d, y = load_epoch()
    grid = get_law("chinchilla").starts()
    step = max(1, len(grid) // args.baseline_starts)
    sub = grid[::step]
    t_base, f_base, x_base = run_baseline(n, d, y, sub)
    t_base_full = t_base * len(grid) / len(sub)
    rows = []
    for strategy in args.strategies.split(","):
        cold = run_ours(n, d, y, strategy=strategy, bootstrap=args.bootstrap)
        warm = run_ours(n, d, y, strategy=strategy, bootstrap=args.bootstrap)
        rows.append((strategy, cold, warm))
    print(f"Epoch Chinchilla data: {len(y)} points; grid {len(grid)} starts; bootstrap {args.bootstrap}")
    scaled = "" if len(sub) == len(grid) else f" (timed on {len(sub)} starts, scaled x{len(grid) / len(sub):.1f})"
    print(f"baseline scipy L-BFGS-B loop, grid only : {t_base_full:9.2f} s{scaled}   objective {f_base:.10g}")
    print(f"{'ours':<10} {'run':<5} {'grid s':>8} {'boot s':>8} {'total s':>8} {'x vs baseline':>14} "
          f"{'objective':>16} {'rel diff':>9} {'starts at best':>15}")
    for strategy, cold, warm in rows:
        for label, (tg, tb, res) in (("cold", cold), ("warm", warm)):
            total = tg + tb
            rel = abs(res.objective - f_base) / f_base
            print(f"{strategy:<10} {label:<5} {tg:8.2f} {tb:8.2f} {total:8.2f} {t_base_full / total:14.1f} "
                  f"{res.objective:16.10g} {rel:9.1e} {res.n_starts_at_best:>9}/{res.n_starts}")
    print("cold = first call in the process (JIT compile included); warm = second call (compiled code cached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
