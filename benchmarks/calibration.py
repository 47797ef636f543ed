"""Calibration: do nominal 90 % bootstrap intervals cover the truth 90 % of the time?

Simulates ``--datasets`` (default 200) data sets from a known Chinchilla law
(Hoffmann et al.'s unrounded Approach-3 values), each a Chinchilla-like design
of 8 model sizes (1e7..3e9 parameters) x 6 token budgets (2..200 tokens per
parameter) with log-normal loss noise of SD ``--noise`` (default 0.01, about
the scatter of the Epoch points around their fit). Each data set is fitted
with :func:`scaling.fit` (default VarPro strategy) three times, once per
interval method: bootstrap percentiles (``--bootstrap`` point resamples,
default 200), Laplace (smoothed sandwich, Student t) and profile likelihood
(:mod:`scaling.fitting.intervals`). The script prints, per method and
parameter, how often the nominal 90 % interval contains the true value.
Target: 88-92 % for every parameter; with the default 1,000 data sets the
Monte Carlo SE of a coverage is 0.95 points.

Run: ``.venv/bin/python benchmarks/calibration.py [--datasets 1000] [--bootstrap 200] [--methods laplace,profile]``
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


METHODS = ("bootstrap", "laplace", "profile")


def coverage(n_datasets: int, n_boot: int, noise: float, seed: int, level: float = 0.9, verbose: bool = True,
             methods=METHODS):
    """Fraction of data sets whose ``level`` interval covers the truth, per method and parameter.

    Returns
    -------
    names : tuple of str
    cov : dict of method -> array (P,)
    seconds : float
    """
    from scaling.fitting import dataset_from_points, fit
    from scaling.laws import get_law

    law = get_law("chinchilla")
    rng = np.random.default_rng(seed)
    hits = {m: np.zeros((n_datasets, len(TRUE)), dtype=bool) for m in methods}
    t0 = time.perf_counter()
    for k in range(n_datasets):
        ds = dataset_from_points(law, simulate(rng, noise))
        boot_seed = int(rng.integers(2**31))
        for m in methods:
            res = fit(law, ds, bootstrap=n_boot if m == "bootstrap" else 0, intervals=m, seed=boot_seed,
                      level=level, progress=False)
            for i, name in enumerate(law.param_names):
                lo, hi = res.intervals[name]
                hits[m][k, i] = lo <= TRUE[i] <= hi
        if verbose and sys.stderr.isatty():
            sys.stderr.write(f"\r{k + 1}/{n_datasets} data sets ({time.perf_counter() - t0:.0f} s)")
    if verbose and sys.stderr.isatty():
        sys.stderr.write("\n")
    return law.param_names, {m: h.mean(axis=0) for m, h in hits.items()}, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=int, default=1000)
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated: bootstrap, laplace, profile")
    args = ap.parse_args(argv)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    names, cov, seconds = coverage(args.datasets, args.bootstrap, args.noise, args.seed, methods=methods)
    se = np.sqrt(0.9 * 0.1 / args.datasets)
    print(f"{args.datasets} simulated Chinchilla data sets (48 points, log noise SD {args.noise}), "
          f"{args.bootstrap} point resamples for the bootstrap; {seconds:.0f} s")
    print(f"coverage of nominal 90% intervals (Monte Carlo SE {100 * se:.1f} points; target 88-92%):")
    print(f"  {'':<6} " + " ".join(f"{m:>10}" for m in methods))
    for i, name in enumerate(names):
        cells = []
        for m in methods:
            c = cov[m][i]
            cells.append(f"{100 * c:9.1f}{'' if 0.88 <= c <= 0.92 else '*'}")
        print(f"  {name:<6} " + " ".join(cells))
    print("  (* outside 88-92%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
