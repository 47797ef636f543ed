"""Replicate Besiroglu et al. (2024) on Epoch's Chinchilla points with ``scaling.fit``.

Prints our point estimate (default: VarPro starts + damped Newton; --strategy direct runs
Hoffmann's 4,500-start grid; summed Huber, delta
1e-3) next to the published replication of Hoffmann's recipe, then the 95 %
bootstrap percentile intervals (4,000 point resamples by default) next to
Epoch's, and the compute-optimal allocation exponent ``a = beta/(alpha+beta)``
with its bootstrap SD.

Data: ``../shared/data/external/chinchilla-epoch/svg_extracted_data.csv``
(not shipped with the project), 240 points after dropping the 5 highest
losses, ``D = C / (6 N)``.

Run: ``.venv/bin/python benchmarks/epoch_replication.py [--bootstrap 4000] [--seed 42]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "chinchilla-epoch" / "svg_extracted_data.csv"

#: Besiroglu et al. 2024, exact replication of Hoffmann's recipe (PROVENANCE.md).
PUBLISHED = {"A": 477.84, "B": 2143.86, "E": 1.8172, "alpha": 0.34731, "beta": 0.36718}
PUBLISHED_OBJECTIVE = 0.00101827
#: Epoch's 95 % bootstrap intervals (4,000 resamples) and allocation exponent.
EPOCH_95 = {"E": (1.769, 1.871), "alpha": (0.317, 0.373), "beta": (0.331, 0.415),
            "A": (285.214, 743.626), "B": (1042.357, 5810.344)}
EPOCH_A = (0.513, 0.020)


def epoch_table(path: Path = DATA):
    import pandas as pd

    df = pd.read_csv(path).rename(columns={"Model Size": "N", "Training FLOP": "C"})
    df = df.sort_values("loss").iloc[:-5].reset_index(drop=True)
    df["D"] = df["C"] / (6.0 * df["N"])
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--strategy", default="auto", choices=("auto", "varpro", "staged", "direct"))
    args = ap.parse_args(argv)
    if not DATA.exists():
        print(f"data not found: {DATA}", file=sys.stderr)
        return 1
    from scaling.fitting import dataset_from_points, fit

    ds = dataset_from_points("chinchilla", epoch_table())
    t0 = time.perf_counter()
    res = fit("chinchilla", ds, bootstrap=args.bootstrap, seed=args.seed, level=0.95, strategy=args.strategy)
    seconds = time.perf_counter() - t0
    print(f"Epoch Chinchilla points: {res.n_points}; grid {res.n_starts} starts ({args.strategy}), "
          f"{res.n_starts_at_best} at best; bootstrap {args.bootstrap} (seed {args.seed}); {seconds:.1f} s")
    print(f"{'':<8} {'ours':>12} {'published':>12} {'rel diff':>9}")
    for name, pub in PUBLISHED.items():
        ours = res.derived[name]
        print(f"{name:<8} {ours:12.6g} {pub:12.6g} {abs(ours - pub) / pub:9.1e}")
    print(f"{'objective':<8} {res.objective:12.8g} {PUBLISHED_OBJECTIVE:12.8g} "
          f"{abs(res.objective - PUBLISHED_OBJECTIVE) / PUBLISHED_OBJECTIVE:9.1e}")
    print()
    print(f"95% bootstrap intervals   {'ours':>22}   {'Epoch':>22}")
    for name, (lo, hi) in EPOCH_95.items():
        olo, ohi = res.derived_intervals[name]
        print(f"{name:<8} {'':<16} ({olo:9.4g}, {ohi:9.4g})   ({lo:9.4g}, {hi:9.4g})")
    a = res.derived_samples["a_N"]
    print()
    print(f"allocation exponent a = beta/(alpha+beta): ours {res.derived['a_N']:.4f} (SD {np.nanstd(a, ddof=1):.4f}); "
          f"Epoch {EPOCH_A[0]:.3f} (SD {EPOCH_A[1]:.3f})")
    from scaling.plan.approach2 import approach2

    df = epoch_table()
    a2 = approach2(df["N"], 6 * df["N"] * df["D"], df["loss"], bin_width=0.1)
    print(f"Approach 2 (iso-FLOP parabolas, runs binned by 0.1 decade of C, {a2['minima']['C'].size} groups): "
          f"a = {a2['a']:.4f} (SE {a2['a_se']:.4f}); Hoffmann's Approach 2: 0.49")
    return 0


if __name__ == "__main__":
    sys.exit(main())
