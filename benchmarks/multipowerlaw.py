"""Multi-power-law benchmark: fit 3 loss curves per model size, predict 6 unseen schedules.

Protocol of Luo et al. (ICLR 2025, arXiv:2503.12811, Table 1 / repo
``src/config.py``) on their public curves (shipped as the datasets
``luo2025-{25M,100M,400M}``, see ``scaling/datasets/data/luo2025/PROVENANCE.md``): per model size
(25M, 100M, 400M) fit on ``constant_24000``, ``cosine_24000``, ``wsdcon_9``;
predict ``constant_72000``, ``cosine_72000``, ``wsd_20000_24000``,
``wsdld_20000_24000``, ``wsdcon_3``, ``wsdcon_18``. The per-step LR is
rebuilt from each file name exactly as the authors' code does
(:func:`scaling.datasets.luo2025.lr_schedule`: linear warmup
``linspace(0, 3e-4, 2160)``, then the schedule). Metrics
per test curve (R2 on raw loss, MAE, RMSE, PredE = mean |y - yhat| / y,
WorstE = max |y - yhat| / y, the signed final-loss error FinalE = (yhat - y) / y
at the last step, and the share of points inside the predicted
90 % band: ``coverage`` for the predictive band, ``cov_par`` for the
parameter-only band), averaged over the 6 curves, plus fit and predict wall
times.

Run (one command, a few minutes on 2 CPU cores)::

    .venv/bin/python benchmarks/multipowerlaw.py                # all sizes and laws
    .venv/bin/python benchmarks/multipowerlaw.py --sizes 25 --laws lr-annealing

Fits use our fitter unchanged (summed Huber, delta 1e-3, on log loss; the
law's start grid; block bootstrap for the band). For ``multi-power`` the fit
uses every ``--mpl-stride``-th training point (default 2) to keep the
O(n sqrt(T)) LD term tractable; predictions and metrics use every point.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from scaling.datasets import DATASETS  # noqa: E402
from scaling.datasets.luo2025 import TEST, TRAIN, read_curve as _read_curve  # noqa: E402

DATA = DATASETS["luo2025-25M"].path
SIZES = ("25", "100", "400")

#: name -> (law, options, bootstrap resamples)
LAW_SETUPS = {
    "lr-annealing": ("lr-annealing", {"lam": 0.999, "warmup": "real"}),
    "lr-annealing/paper": ("lr-annealing", {"lam": 0.999, "warmup": "paper"}),
    "lr-annealing/fit-lam": ("lr-annealing", {"lam": "fit", "warmup": "real"}),
    "multi-power": ("multi-power", {}),
}
DEFAULT_LAWS = ("lr-annealing", "lr-annealing/paper", "multi-power")

PUBLISHED = {  # (PredE, WorstE) from PROVENANCE.md
    ("25", "multi-power (repo re-run)"): (0.00110, 0.00409),
    ("100", "multi-power (repo re-run)"): (0.00142, 0.00583),
    ("400", "multi-power (repo re-run)"): (0.00168, 0.00995),
    ("25", "momentum law (paper)"): (0.0014, 0.0047),
    ("100", "momentum law (paper)"): (0.0022, 0.0094),
    ("400", "momentum law (paper)"): (0.0025, 0.0100),
    ("25", "momentum law, scipy re-fit"): (0.00140, 0.00545),
    ("100", "momentum law, scipy re-fit"): (0.00153, 0.00719),
    ("400", "momentum law, scipy re-fit"): (0.00227, 0.00821),
}


def read_curve(size: str, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lr (T,), step (n,), loss (n,))`` of one shipped curve; the LR is the authors' per-step schedule."""
    return _read_curve(DATA, f"{size}M", name)


def run_size(size: str, setup: str, *, bootstrap: int, mpl_stride: int, seed: int):
    """Fit one law on one size; return (summary row, per-curve rows, fit seconds)."""
    from scaling.fitting import fit
    from scaling.fitting.dataset import Dataset, Group
    from scaling.laws import get_law
    from scaling.prediction import curve_metrics, predict

    law_name, options = LAW_SETUPS[setup]
    law = get_law(law_name, **options)
    stride = mpl_stride if law_name == "multi-power" else 1
    groups = []
    for name in TRAIN:
        lr, step, loss = read_curve(size, name)
        groups.append(Group(name, {"lr": lr, "step": step[::stride]}, loss[::stride]))
    data = Dataset(groups, info={"files": [str(DATA / f"csv_{size}" / f"{n}.csv") for n in TRAIN], "kind": "curves"})
    t0 = time.perf_counter()
    result = fit(law, data, bootstrap=bootstrap, bootstrap_by="blocks" if bootstrap else "auto", seed=seed,
                 progress=False)
    fit_s = time.perf_counter() - t0
    rows = []
    t0 = time.perf_counter()
    for name in TEST:
        lr, step, loss = read_curve(size, name)
        pred = predict(result, lr, steps=step, level=0.9, band="predictive")
        m = curve_metrics(loss, pred["loss"], lo=pred["loss_lo"], hi=pred["loss_hi"])
        par = predict(result, lr, steps=step, level=0.9, band="parameters")
        m["cov_par"] = curve_metrics(loss, par["loss"], lo=par["loss_lo"], hi=par["loss_hi"])["coverage"]
        rows.append({"size": size, "law": setup, "curve": name, **m})
    pred_s = time.perf_counter() - t0
    per = pd.DataFrame(rows)
    summary = {"size": size, "law": setup, **per.drop(columns=["size", "law", "curve", "FinalE"]).mean().to_dict(),
               "|FinalE|": float(per["FinalE"].abs().mean()),
               "fit_s": fit_s, "predict_s": pred_s, "starts_at_best": f"{result.n_starts_at_best}/{result.n_starts}",
               "params": " ".join(f"{k}={v:.4g}" for k, v in zip(result.param_names, result.params))}
    return summary, per


def _fmt_table(df: pd.DataFrame, pct=("PredE", "WorstE", "|FinalE|", "coverage", "cov_par")) -> str:
    out = df.copy()
    for c in out.columns:
        if c in pct:
            out[c] = out[c].map(lambda v: f"{100 * v:.3f}%" if c not in ("coverage", "cov_par") else f"{100 * v:.0f}%")
        elif c == "FinalE":  # signed: negative is predicted too low
            out[c] = out[c].map(lambda v: f"{100 * v:+.3f}%")
        elif c == "R2":
            out[c] = out[c].map(lambda v: f"{v:.5f}")
        elif c in ("MAE", "RMSE"):
            out[c] = out[c].map(lambda v: f"{v:.5f}")
        elif c in ("fit_s", "predict_s"):
            out[c] = out[c].map(lambda v: f"{v:.1f}")
    return out.to_string(index=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    ap.add_argument("--laws", nargs="+", default=list(DEFAULT_LAWS), choices=list(LAW_SETUPS))
    ap.add_argument("--bootstrap", type=int, default=30, help="block-bootstrap refits for the band (lr-annealing)")
    ap.add_argument("--mpl-bootstrap", type=int, default=0, help="bootstrap refits for multi-power (slow; 0 = Laplace band)")
    ap.add_argument("--mpl-stride", type=int, default=2, help="fit multi-power on every k-th training point")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (the public curves of Luo et al. 2025 are not available here)")
        return 0
    summaries, per_curve = [], []
    for size in args.sizes:
        for setup in args.laws:
            b = args.mpl_bootstrap if setup == "multi-power" else args.bootstrap
            s, per = run_size(size, setup, bootstrap=b, mpl_stride=args.mpl_stride, seed=args.seed)
            summaries.append(s)
            per_curve.append(per)
            print(f"[{size}M {setup}] PredE {100 * s['PredE']:.3f}% WorstE {100 * s['WorstE']:.3f}% "
                  f"R2 {s['R2']:.5f} band {100 * s['coverage']:.0f}% fit {s['fit_s']:.1f}s "
                  f"predict {s['predict_s']:.1f}s  {s['params']}", flush=True)
            print(_fmt_table(per) + "\n", flush=True)
    summary = pd.DataFrame(summaries)
    print("\nTest-set averages over the 6 held-out curves (coverage / cov_par = share of points in the "
          "predictive / parameter-only 90% band)")
    print(_fmt_table(summary[["size", "law", "R2", "MAE", "RMSE", "PredE", "WorstE", "|FinalE|", "coverage", "cov_par", "fit_s",
                              "predict_s", "starts_at_best"]]))
    print("\nPublished (PredE / WorstE), from PROVENANCE.md")
    for (size, name), (pe, we) in PUBLISHED.items():
        if size in args.sizes:
            print(f"  {size:>3}M  {name:<28} {100 * pe:.3f}% / {100 * we:.3f}%")
    print("\nPer curve")
    print(_fmt_table(pd.concat(per_curve, ignore_index=True)))
    print("\nFitted parameters")
    for s in summaries:
        print(f"  {s['size']:>3}M {s['law']:<22} {s['params']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
