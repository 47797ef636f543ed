"""Leave-schedules-out protocol for the loss-curve laws on every curve set we have.

For each law (``lr-annealing``, ``multi-power``) and each curve set, fit on
some schedules with the default fit (point selection, data-derived starts,
diagnostics, band calibration; no hand-trimming) and predict the others. The sets (``luo-*``: Luo et al.'s split at 25M / 100M / 400M; ``luo2-*`` and ``luo1-*``: the
designs of issue 11's held-out sets A and B on the same curves; ``luo2wsd-*``, ``luo2cw-*``: two more
two-run designs; ``bundled``, ``synthetic``, ``synthetic-b``, ``synthetic-a``) are described, and built,
in ``benchmarks/curve_sets.py``.

Per held-out curve, on the points the fit's rule would use
(:func:`scaling.prediction.scoring_mask`): PredE = mean |y - yhat| / y,
WorstE = max |y - yhat| / y, |final error| = |y - yhat| / y at the last step, ``late_bias`` = the
mean signed ``(yhat - y) / y`` over the last third of the points (per curve: negative means predicted too
low late in the run, the long-horizon error no fold of the fitted runs shows), and the share
of points inside the 90 % calibrated band (parameter band x
``exp(+-z sigma)``, ``sigma`` from
:func:`scaling.fitting.calibration.predictive_sigma`: the held-out sigma,
growing with the forward-area extrapolation; ``cov_rms`` with the RMS fit
residual instead, as ``scaling.predict`` does today). Set-level coverage
is pooled over points; set-level PredE, WorstE and |final error| are
means over the held-out curves, as Luo et al. (2025, Table 1) average
theirs (their repo's per-curve 400M WorstE values average to the
published 0.995 %), and ``WorstE_max`` is the worst curve's. The Luo sets (3 fitted runs) are calibrated by
leave-one-schedule-out plus a time split, the two-run sets by refits of one run predicting the other
(where that run determines every term) plus two time splits, the one-run sets by two time splits
(see :mod:`scaling.fitting.calibration`);
the summary line counts the calibration refits stopped at the iteration
cap, times the calibration step alone (``cal_s``: the refits, compiled
already), and says how far off the band is: ``sigma_x90``, the factor on the
calibrated sigma that would make the band cover 90 % (1 = calibrated, above
1 too narrow), and the largest forward-area ratio the calibration held out
(``area_cal``) next to the largest the predictions reach (``area_pred``).
``--folds`` prints every fold (held-out RMS and bias, refit iterations).

    .venv/bin/python benchmarks/curves_protocol.py                       # everything
    .venv/bin/python benchmarks/curves_protocol.py --sets luo-25M bundled --laws lr-annealing
    .venv/bin/python benchmarks/curves_protocol.py --sets luo-100M --laws multi-power --folds
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
from curve_sets import SETS, SYN_A_WARMUP, build_set  # benchmarks/ (the script's folder)

LAWS = {"lr-annealing": ("lr-annealing", {}), "lr-annealing/fit-lam": ("lr-annealing", {"lam": "fit"}),
        "lr-annealing/lam-auto": ("lr-annealing", {"lam": "auto"}),
        "multi-power": ("multi-power", {})}
DEFAULT_LAWS = ("lr-annealing", "multi-power")
TARGETS = {  # issue 11 item 6: mean PredE on the Luo protocol
    ("luo-25M", "lr-annealing"): 0.0014, ("luo-100M", "lr-annealing"): 0.0015, ("luo-400M", "lr-annealing"): 0.0022,
    ("luo-25M", "best"): 0.00110, ("luo-100M", "best"): 0.00142, ("luo-400M", "best"): 0.00168,
}
#: issue 11 item 6: WorstE of the best law, the published multi-power law's (repo README, PROVENANCE.md)
WORST_TARGETS = {"luo-25M": 0.00409, "luo-100M": 0.00583, "luo-400M": 0.00995}
#: issue 11 item 5: the calibrated 90 % band covers 80-97 % of the held-out points at each size
BAND_TARGET = (0.80, 0.97)


# ----------------------------------------------------------------------------- protocol


def score(result, law, tests, z: float):
    """Per-curve metrics of a fit's predictions on held-out curves (scored on the fit's rule).

    Returns the rows and, per curve, ``(y, lo, hi, sigma)`` (parameter band and calibrated sigma) for
    :func:`sigma_factor`.
    """
    from scaling.fitting.calibration import predictive_sigma
    from scaling.prediction import predict, scoring_mask

    sigma_rms = float(np.sqrt(np.mean(np.asarray(result.residuals) ** 2)))
    a_fit = float((result.data_info.get("fitted_range") or {}).get("max_forward_area") or np.nan)
    rows, bands = [], []
    for name, lr, steps, y in tests:
        keep, _ = scoring_mask(result, steps, lr)
        steps, y = np.asarray(steps)[keep], np.asarray(y)[keep]
        par = predict(result, lr, steps=steps, level=result.level, band="parameters")
        yhat, lo, hi = (np.asarray(par[k], dtype=np.float64) for k in ("loss", "loss_lo", "loss_hi"))
        signed = (yhat - y) / y
        rel = np.abs(signed)
        inside = lambda s: (y >= lo * np.exp(-z * s)) & (y <= hi * np.exp(z * s))  # noqa: E731
        sigma_cal = predictive_sigma(result, steps, lr)
        bands.append((y, lo, hi, sigma_cal))
        rows.append({"curve": name, "PredE": float(rel.mean()), "WorstE": float(rel.max()), "FinalE": float(rel[-1]),
                     # signed mean error over the last third of the points: a long-horizon bias, not noise
                     "late_bias": float(signed[-max(1, signed.size // 3):].mean()),
                     "coverage": float(np.mean(inside(sigma_cal))) if np.all(np.isfinite(sigma_cal)) else np.nan,
                     "cov_rms": float(np.mean(inside(sigma_rms))), "n": int(y.size),
                     "area_ratio": float(np.max(np.cumsum(lr)[steps])) / a_fit})
    return rows, bands


def sigma_factor(bands, z: float, target: float) -> float:
    """The factor on the calibrated sigma that would make the band cover ``target`` of the pooled points.

    1 means calibrated; above 1 the band is too narrow. Coverage grows with the factor, so bisection on a log
    scale; NaN without a calibrated sigma.
    """
    if not all(np.all(np.isfinite(b[3])) for b in bands):
        return float("nan")

    def coverage(m):
        inside = [(y >= lo * np.exp(-z * m * s)) & (y <= hi * np.exp(z * m * s)) for y, lo, hi, s in bands]
        return float(np.mean(np.concatenate(inside)))

    lo, hi = 1e-3, 1e3
    if coverage(hi) < target:
        return float("inf")
    for _ in range(50):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if coverage(mid) < target else (lo, mid)
    return float(hi)


def run(set_name: str, law_key: str, *, stride: int, bootstrap: int):
    from scipy.stats import norm

    from scaling.fitting import fit
    from scaling.fitting.calibration import calibrate
    from scaling.laws import get_law

    made = build_set(set_name, stride)
    if made is None:
        return None
    build, tests = made
    name, options = LAWS[law_key]
    if set_name == "synthetic-a" and name == "lr-annealing":
        options = {**options, "warmup_steps": SYN_A_WARMUP}  # what `scaling fit --warmup-steps 300` sets
    law = get_law(name, **options)
    data = build(law)
    t0 = time.perf_counter()
    result = fit(law, data, progress=False, bootstrap=bootstrap, bootstrap_by="blocks" if bootstrap else "auto")
    fit_s = time.perf_counter() - t0
    # the calibration step alone, run again on the fitted result (compiled already: its refits' cost)
    t0 = time.perf_counter()
    calibrate(result, law, data)
    cal_s = time.perf_counter() - t0
    z = float(norm.ppf(0.5 + result.level / 2))
    rows, bands = score(result, law, tests, z)
    for r in rows:
        r.update({"set": set_name, "law": law_key})
    return result, rows, fit_s, cal_s, sigma_factor(bands, z, result.level)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--laws", nargs="+", default=list(DEFAULT_LAWS), choices=list(LAWS))
    ap.add_argument("--mpl-stride", type=int, default=1,
                    help="fit multi-power on every k-th point of Luo's curves (default 1: every point, as `scaling fit`)")
    ap.add_argument("--bootstrap", type=int, default=0, help="block-bootstrap refits (0: Laplace parameter band)")
    ap.add_argument("--folds", action="store_true",
                    help="print the calibration's folds (held-out RMS, refit iterations)")
    args = ap.parse_args(argv)
    from scaling.fitting.diagnostics import format_diagnostics

    per, summary = [], []
    for set_name in args.sets:
        for law_key in args.laws:
            out = run(set_name, law_key, stride=args.mpl_stride, bootstrap=args.bootstrap)
            if out is None:
                print(f"[{set_name}] skipped: data not found")
                break
            result, rows, fit_s, cal_s, factor = out
            per += rows
            df = pd.DataFrame(rows)
            cal = result.calibration or {}
            s = {"set": set_name, "law": law_key, "PredE": df.PredE.mean(), "WorstE": df.WorstE.mean(),
                 "WorstE_max": df.WorstE.max(),
                 "FinalE": df.FinalE.abs().mean(), "coverage": np.average(df.coverage, weights=df.n),
                 "cov_rms": np.average(df.cov_rms, weights=df.n),
                 "sigma_cal": cal.get("sigma_log", np.nan), "sigma_x90": factor,
                 "area_cal": cal.get("area_ratio_max", np.nan), "area_pred": df.area_ratio.max(),
                 "fit_s": fit_s, "cal_s": cal_s,
                 "warnings": sum(d["severity"] == "warning" for d in result.diagnostics)}
            folds = (result.calibration or {}).get("folds", [])
            capped = sum(not f.get("refit_converged", True) for f in folds)
            summary.append(s)
            print(f"[{set_name} {law_key}] PredE {100 * s['PredE']:.3f}% WorstE {100 * s['WorstE']:.3f}% "
                  f"|final| {100 * s['FinalE']:.3f}% band {100 * s['coverage']:.0f}% (rms band "
                  f"{100 * s['cov_rms']:.0f}%) sigma_cal {100 * s['sigma_cal']:.3f}% ({len(folds)} folds, {capped} refits at "
                  f"the iteration cap) fit {fit_s:.1f}s (calibration {cal_s:.1f}s) sigma x{factor:.2f} for "
                  f"{100 * result.level:.0f}% coverage, growth measured to {s['area_cal']:.2f}x the fitted area, "
                  f"predicted to {s['area_pred']:.2f}x  "
                  + " ".join(f"{k}={v:.4g}" for k, v in zip(result.param_names, result.params)), flush=True)
            for line in format_diagnostics(result.diagnostics):
                print("    " + line)
            if args.folds:
                for f in folds:
                    if f.get("failed"):
                        print(f"    fold {f['held_out']}: refit failed")
                        continue
                    if f.get("skipped"):
                        print(f"    fold {f['held_out']}: skipped, its fitted part cannot determine "
                              f"{', '.join(f['unseen'])}")
                        continue
                    print(f"    fold {f['held_out']:<34} {f['n_points']:4d} points, RMS {100 * f['rms_log']:.3f}% "
                          f"mean {100 * f['mean_log']:+.3f}%, refit {f['refit_iterations']} iterations"
                          f"{'' if f['refit_converged'] else ' (cap)'}")
    if not summary:
        return 0
    table = pd.DataFrame(summary)
    fmt = table.copy()
    for c in ("PredE", "WorstE", "WorstE_max", "FinalE", "sigma_cal"):
        fmt[c] = fmt[c].map(lambda v: f"{100 * v:.3f}%")
    for c in ("coverage", "cov_rms"):
        fmt[c] = fmt[c].map(lambda v: f"{100 * v:.0f}%")
    for c in ("fit_s", "cal_s"):
        fmt[c] = fmt[c].map(lambda v: f"{v:.1f}")
    for c in ("sigma_x90", "area_cal", "area_pred"):
        fmt[c] = fmt[c].map(lambda v: f"{v:.2f}")
    print("\nMean over held-out curves (WorstE: each curve's max, averaged as Luo et al. do; WorstE_max: the largest "
          "of them; coverage, pooled over points: calibrated 90% band; "
          "cov_rms: RMS-residual band; sigma_x90: factor on the calibrated sigma that would cover 90%; area_cal / "
          "area_pred: largest forward-area ratio held out by the calibration / reached by the predictions; "
          "cal_s: the calibration step alone)")
    print(fmt.to_string(index=False))
    checks = []
    for (set_name, which), target in TARGETS.items():
        sel = table[table.set == set_name]
        if which != "best":
            sel = sel[sel.law == which]
        if len(sel):
            got = float(sel.PredE.min())
            checks.append(f"  {set_name:<9} {which:<13} PredE {100 * got:.3f}% target <= {100 * target:.3f}% "
                          f"{'met' if got <= target else 'MISSED'}")
            if which == "best" and set_name in WORST_TARGETS:
                best = sel.loc[sel.PredE.idxmin()]
                w = WORST_TARGETS[set_name]
                checks.append(f"  {set_name:<9} {'best WorstE':<13} WorstE {100 * best.WorstE:.3f}% ({best.law}) "
                              f"target <= {100 * w:.3f}% {'met' if best.WorstE <= w else 'MISSED'}")
    lo, hi = BAND_TARGET
    for _, row in table[table.set.isin([k for k, _ in TARGETS])].iterrows():
        checks.append(f"  {row.set:<9} {row.law + ' band':<13} covers {100 * row.coverage:.1f}% target "
                      f"{100 * lo:.0f}-{100 * hi:.0f}% {'met' if lo <= row.coverage <= hi else 'MISSED'}")
    if checks:
        print("\nIssue 11 targets")
        print("\n".join(checks))
    print("\nPer curve")
    pc = pd.DataFrame(per)[["set", "law", "curve", "n", "PredE", "WorstE", "FinalE", "late_bias", "coverage",
                            "cov_rms"]]
    for c in ("PredE", "WorstE", "FinalE"):
        pc[c] = pc[c].map(lambda v: f"{100 * v:.3f}%")
    pc["late_bias"] = pc["late_bias"].map(lambda v: f"{100 * v:+.3f}%")
    for c in ("coverage", "cov_rms"):
        pc[c] = pc[c].map(lambda v: f"{100 * v:.0f}%")
    print(pc.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
