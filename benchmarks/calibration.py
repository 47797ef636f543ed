"""Calibration: do nominal 90 % bootstrap intervals cover the truth 90 % of the time?

Simulates ``--datasets`` (default 200) data sets from a known Chinchilla law
(Hoffmann et al.'s unrounded Approach-3 values), each a Chinchilla-like design
of 8 model sizes (1e7..3e9 parameters) x 6 token budgets (2..200 tokens per
parameter) with log-normal loss noise of SD ``--noise`` (default 0.01, about
the scatter of the Epoch points around their fit). Each data set is fitted
with :func:`scaling.fit` (a 30-start subset of Hoffmann's grid) and
``--bootstrap`` point resamples (default 200); the script prints, per
parameter, how often the 90 % percentile interval contains the true value.
Target: 85-95 % for every parameter.

Run: ``.venv/bin/python benchmarks/calibration.py [--datasets 200] [--bootstrap 200]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

TRUE = np.array([6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083])


def simulate(rng: np.random.Generator, noise: float):
    """One synthetic Chinchilla data set as a points DataFrame."""
    import pandas as pd

    from scaling._x64 import float64
    from scaling.laws import get_law

    sizes = np.geomspace(1e7, 3e9, 8)
    ratios = np.geomspace(2.0, 200.0, 6)
    n = np.repeat(sizes, ratios.size)
    d = n * np.tile(ratios, sizes.size)
    with float64():
        loss = np.asarray(get_law("chinchilla")(TRUE, {"N": n, "D": d}))
    return pd.DataFrame({"N": n, "D": d, "loss": loss * np.exp(rng.normal(0.0, noise, loss.size))})


def coverage(n_datasets: int, n_boot: int, noise: float, seed: int, level: float = 0.9, verbose: bool = True):
    """Fraction of data sets whose ``level`` interval covers the truth, per parameter."""
    from scaling.fitting import dataset_from_points, fit
    from scaling.laws import get_law

    law = get_law("chinchilla")
    starts = law.starts()[::150]
    rng = np.random.default_rng(seed)
    hits = np.zeros((n_datasets, len(TRUE)), dtype=bool)
    t0 = time.perf_counter()
    for k in range(n_datasets):
        res = fit(law, dataset_from_points(law, simulate(rng, noise)), starts=starts, bootstrap=n_boot,
                  seed=int(rng.integers(2**31)), level=level)
        for i, name in enumerate(law.param_names):
            lo, hi = res.intervals[name]
            hits[k, i] = lo <= TRUE[i] <= hi
        if verbose and sys.stderr.isatty():
            sys.stderr.write(f"\r{k + 1}/{n_datasets} data sets ({time.perf_counter() - t0:.0f} s)")
    if verbose and sys.stderr.isatty():
        sys.stderr.write("\n")
    return law.param_names, hits.mean(axis=0), time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    names, cov, seconds = coverage(args.datasets, args.bootstrap, args.noise, args.seed)
    se = np.sqrt(0.9 * 0.1 / args.datasets)
    print(f"{args.datasets} simulated Chinchilla data sets (48 points, log noise SD {args.noise}), "
          f"{args.bootstrap} point resamples each; {seconds:.0f} s")
    print(f"coverage of nominal 90% percentile intervals (Monte Carlo SE {100 * se:.1f} points):")
    for name, c in zip(names, cov):
        flag = "ok" if 0.85 <= c <= 0.95 else "OUT OF 85-95%"
        print(f"  {name:<6} {100 * c:5.1f}%  {flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
