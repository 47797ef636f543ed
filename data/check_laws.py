"""How well the loss-curve laws predict the bundled curves, measured with the project's own CLI.

For each law: ``scaling fit`` on two runs (``constant`` and ``cosine``, validation loss), then
``scaling predict FIT.json --lr-from data/curves/<run>.csv`` for every other schedule, and the
PredE / WorstE of each prediction (Luo et al. 2025: mean and max of ``|y - yhat| / y`` over the
logged validation steps). Also the seed noise floor: the same metrics between the two seeds of
one schedule, i.e. the error a perfect law could not beat.

    python data/check_laws.py --out /tmp/law_check     # prints a markdown table
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
FIT_RUNS = ("constant", "cosine")
HELD_OUT = ("wsd_linear10", "wsd_linear20", "wsd_exp20", "multistep", "two_stage", "cyclic",
            "constant_long", "cosine_long")
SEED_PAIRS = (("constant", "constant_seed1"), ("cosine", "cosine_seed1"))
LAWS = {
    "lr-annealing": ["--law", "lr-annealing"],
    "lr-annealing (lam fitted)": ["--law", "lr-annealing", "--law-option", "lam=fit"],
    "multi-power": ["--law", "multi-power"],
}


def _scaling(*args: str) -> None:
    exe = Path(sys.executable).with_name("scaling")
    subprocess.run([str(exe), *args], check=True, stdout=subprocess.DEVNULL)


def errors(observed: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """(PredE, WorstE, relative error at the last step)."""
    rel = np.abs(observed - predicted) / observed
    return float(rel.mean()), float(rel.max()), float(rel[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the fits and predictions")
    p.add_argument("--laws", nargs="*", default=list(LAWS))
    p.add_argument("--min-step", type=int, default=0,
                   help="fit and score only validation losses from this step on (copies with earlier "
                        "val_loss cells emptied go to --out; the LR column is kept whole)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    curves = HERE / "curves"
    if args.min_step:
        trimmed = args.out / f"curves_from_{args.min_step}"
        trimmed.mkdir(exist_ok=True)
        for path in curves.glob("*.csv"):
            df = pd.read_csv(path)
            df.loc[df["step"] < args.min_step, "val_loss"] = np.nan
            df.to_csv(trimmed / path.name, index=False)
        curves = trimmed
    lines = ["| law | held-out run | PredE | WorstE | error at last step |", "|---|---|---|---|---|"]
    for law in args.laws:
        tag = law.split()[0] + ("-lamfit" if "lam" in law else "") + (f"-from{args.min_step}" if args.min_step else "")
        fit = args.out / f"fit_{tag}.json"
        if not fit.exists():
            _scaling("fit", *[str(curves / f"{r}.csv") for r in FIT_RUNS], *LAWS[law], "--split", "val",
                     "--out", str(fit))
        rows = []
        for run in HELD_OUT:
            if not (curves / f"{run}.csv").exists():
                lines.append(f"| {law} | {run} | (run missing) | | |")
                continue
            pred = args.out / f"pred_{tag}_{run}.csv"
            _scaling("predict", str(fit), "--lr-from", str(curves / f"{run}.csv"), "--split", "val",
                     "--out", str(pred))
            df = pd.read_csv(pred)
            pe, we, last = errors(df["observed"].to_numpy(), df["loss"].to_numpy())
            rows.append((pe, we))
            lines.append(f"| {law} | {run} | {pe:.2%} | {we:.2%} | {last:.2%} |")
        pe_mean = np.mean([r[0] for r in rows])
        we_max = np.max([r[1] for r in rows])
        lines.append(f"| {law} | **all held-out** | **{pe_mean:.2%}** (mean) | **{we_max:.2%}** (max) | |")
    for a, b in SEED_PAIRS:
        if not (curves / f"{b}.csv").exists():
            continue
        ya = pd.read_csv(curves / f"{a}.csv")["val_loss"].dropna().to_numpy()
        yb = pd.read_csv(curves / f"{b}.csv")["val_loss"].dropna().to_numpy()
        pe, we, last = errors(ya, yb)
        lines.append(f"| seed noise floor | {a} vs {b} | {pe:.2%} | {we:.2%} | {last:.2%} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
