"""Regenerate the README figures from the bundled data: ``make figures``.

Runs the real pipeline through the public API:

1. load the bundled training logs (``data/curves/*.csv``), fit the
   ``lr-annealing`` law on two runs (``cosine`` and ``constant``, validation
   loss) with a small block bootstrap, and draw fitted vs held-out curves;
2. rank candidate schedules for the same step budget and scan the WSD decay
   fraction;
3. fit ``chinchilla`` on the bundled final-loss grid (``data/grid/points.csv``)
   with a point bootstrap and draw the data, iso-FLOP curves, the
   compute-optimal frontier next to the published laws (Hoffmann et al. 2022,
   Besiroglu et al. 2024) and loss against tokens at fixed model sizes.

Writes ``figures/*.png`` (atomically) and prints what it wrote. The report
screenshot ``figures/report_screenshot.png`` comes from the browser test
(``tests/test_report_browser.py``).

Usage: ``python figures/make_figures.py [--bootstrap B] [--out DIR]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
FIT_RUNS = ("cosine", "constant")


def save(fig, path: Path) -> None:
    import io

    from scaling.outputs import write_atomic

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight", facecolor="white")
    write_atomic(path, buf.getvalue())
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def curve_figures(out: Path, bootstrap: int) -> None:
    import scaling
    from scaling import plan as planning
    from scaling.fitting import dataset_from_curves, fit
    from scaling.report import figures as F
    from scaling.report.build import schedule_defaults

    files = sorted((ROOT / "data" / "curves").glob("*.csv"))
    if not files:
        print("no data/curves/*.csv: skipping the loss-curve figures", file=sys.stderr)
        return
    curves = scaling.load(files)
    law = scaling.get_law("lr-annealing")
    train = curves[curves["run"].isin(FIT_RUNS)]
    t = time.perf_counter()
    res = fit(law, dataset_from_curves(law, train, split="val"), bootstrap=bootstrap, seed=0)
    print(f"lr-annealing fit on {', '.join(FIT_RUNS)}: {time.perf_counter() - t:.1f} s, objective {res.objective:.6g}")
    everything = dataset_from_curves(law, curves, split="val")

    fig, ax = F.new_axes(size=(8.0, 4.6))
    F.plot_curves_fit(ax, res, everything)
    save(fig, out / "curves_fit.png")

    plan = schedule_defaults(everything)
    cands = planning.candidate_schedules(plan["steps"], plan["peak"], warmup=plan["warmup"])
    ranking = planning.compare_schedules(res, cands, steps=plan["steps"])
    scan = planning.best_wsd_decay(res, steps=plan["steps"], peak=plan["peak"], warmup=plan["warmup"])
    top = ranking.iloc[0]["schedule"]
    show = list(dict.fromkeys([top, "cosine", "wsd 20% 1-sqrt", "multistep 80/10/10", "constant"]))
    sc = planning.schedule_curves(res, {k: cands[k] for k in show}, steps=plan["steps"])
    fig, axes = F.new_axes(1, 2, size=(11.5, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    F.plot_schedules(axes[0], sc, lr_ax=axes[1], highlight=top)
    save(fig, out / "schedules.png")
    fig, axes = F.new_axes(1, 2, size=(11.5, 4.0))
    F.plot_schedule_ranking(axes[0], ranking)
    F.plot_wsd_scan(axes[1], scan)
    save(fig, out / "schedule_ranking.png")


def final_loss_figures(out: Path, bootstrap: int) -> None:
    import numpy as np

    import scaling
    from scaling.fitting import fit
    from scaling.report import figures as F

    path = ROOT / "data" / "grid" / "points.csv"
    if not path.exists():
        print(f"no {path.relative_to(ROOT)}: skipping the final-loss figures", file=sys.stderr)
        return
    points = scaling.load_points(path)
    t = time.perf_counter()
    res = fit("chinchilla", points, bootstrap=bootstrap, seed=0)
    print(f"chinchilla fit on {len(points)} points: {time.perf_counter() - t:.1f} s, objective {res.objective:.6g}")
    cmax = float(np.max(6 * points["N"] * points["D"]))
    budgets = [cmax * 10, cmax * 100, cmax * 1000]

    fig, ax = F.new_axes(size=(7.0, 4.4))
    F.plot_points_fit(ax, res, points)
    save(fig, out / "chinchilla_fit.png")
    fig, ax = F.new_axes(size=(7.0, 4.4))
    F.plot_isoflop(ax, res, budgets)
    save(fig, out / "isoflop.png")
    fig, axes = F.new_axes(1, 2, size=(11.0, 4.2))
    span = (cmax / 10, 1e24)
    F.plot_frontier(axes[0], res, span, quantity="N", published=True, budgets=budgets[:1])
    F.plot_frontier(axes[1], res, span, quantity="D", published=True, budgets=budgets[:1])
    save(fig, out / "frontier.png")
    n0 = float(scaling.compute_optimal(res, budgets[:1]).loc[0, "N"])
    fig, ax = F.new_axes(size=(7.0, 4.4))
    F.plot_overtraining(ax, res, [n0, n0 / 4, n0 / 16])
    save(fig, out / "overtraining.png")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples per fit (default 100)")
    p.add_argument("--out", type=Path, default=ROOT / "figures", help="output folder (default figures/)")
    args = p.parse_args(argv)
    curve_figures(args.out, args.bootstrap)
    final_loss_figures(args.out, args.bootstrap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
