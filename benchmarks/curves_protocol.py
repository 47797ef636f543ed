"""Leave-schedules-out protocol for the loss-curve laws on every curve set we have.

For each law (``lr-annealing``, ``multi-power``) and each curve set, fit on
some schedules with the default fit (point selection, data-derived starts,
diagnostics, band calibration; no hand-trimming) and predict the others:

``luo-25M``, ``luo-100M``, ``luo-400M``
    Luo et al. (ICLR 2025) public curves (``shared/data/external/
    multipowerlaw-luo2025``): fit ``constant_24000, cosine_24000, wsdcon_9``,
    predict the 6 test curves (their Table 1 protocol, see
    ``benchmarks/multipowerlaw.py``). The CSVs start after warmup. Every
    logged point is fitted, as ``scaling fit`` fits them (``--mpl-stride 2``
    fits multi-power on every second one, as ``benchmarks/multipowerlaw.py``
    does: 0.122 / 0.127 / 0.213 % instead of 0.121 / 0.129 / 0.208 % at
    25M / 100M / 400M, band 100 / 83 / 56 % instead of 100 / 85 / 67 %).
``luo2-25M``, ``luo2-100M``, ``luo2-400M``
    The same curves in the design of issue 11's set A: fit
    ``constant_24000, cosine_24000`` only, predict the other 7 (``wsdcon_9``
    included).
``luo2wsd-*``, ``luo2cw-*`` (25M / 100M / 400M)
    Two more two-run designs on the same curves: ``constant_24000,
    wsd_20000_24000`` (a constant run and its cooldown) and ``cosine_24000,
    wsdcon_9``; predict the other 7.
``luo1-25M``, ``luo1-100M``, ``luo1-400M``
    The design of set B: fit ``cosine_24000`` alone, predict the other 8.
``bundled``
    ``data/curves`` (600/1,200-update CPU runs, validation loss every 20
    updates *including the points inside the 30-update warmup*): fit
    ``constant, cosine``, predict the 8 other schedules.
``synthetic``
    Made here with a known truth that is neither law (lr-annealing with
    ``lam = 0.995`` plus an early transient ``0.8 exp(-s / 60)``), a 100-step
    warmup, per-step *training* loss with 1 % AR(1) noise (rho 0.5), LR
    logged at every step; fit ``constant, cosine``, predict ``wsd``,
    ``two_stage``, ``cyclic`` (a restart: re-warmup to the peak at half-way)
    and ``cosine_long`` (2x the steps), scored against their own noisy
    losses averaged the same way. Fitted on windows of 20 steps
    (``aggregate=20``; see :func:`scaling.fitting.dataset.dataset_from_curves`).
``synthetic-b``
    The design of issue 11's set B with the same truth: one 33,908-step
    cosine run fitted alone, LR at its peak from step 0 (no warmup in the
    log), per-step training loss with 1.1 % AR(1) noise (rho 0.3) and the
    step-0 loss at 10.4; predict a WSD (linear 20 % cooldown) and an
    8-1-1 multi-step run of the same length. Fitted with the default
    aggregation of long logs, and the held-out runs scored as window means
    by the same rule, as ``scaling predict`` scores them.

``synthetic-a``
    The design of issue 11's set A with a truth of the same kind
    (lr-annealing, ``lam = 0.995``, plus an early transient
    ``0.6 exp(-s / 400)``; the step-0 loss at 10.83): validation loss every
    200 steps *including steps 0 and 200 inside the 300-step warmup* (peak
    LR 6e-4), the LR logged at the same steps only, 0.2 % noise; fit a
    constant and a cosine run of 25k steps with ``warmup_steps=300`` (as
    ``scaling fit --warmup-steps 300``), predict 11: WSD cooldowns of 10 /
    20 / 50 / 90 % (linear and 1-sqrt), cosine to 10 % over 15k steps,
    cosine to 0 and a 20 % WSD over 50k steps. The LR of every run is
    filled between its logged steps as ``scaling predict --lr-from`` fills it.

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
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
LAWS = {"lr-annealing": ("lr-annealing", {}), "lr-annealing/fit-lam": ("lr-annealing", {"lam": "fit"}),
        "lr-annealing/lam-auto": ("lr-annealing", {"lam": "auto"}),
        "multi-power": ("multi-power", {})}
DEFAULT_LAWS = ("lr-annealing", "multi-power")
SETS = tuple(f"{d}-{n}M" for d in ("luo", "luo2", "luo1", "luo2wsd", "luo2cw") for n in (25, 100, 400)) + (
    "bundled", "synthetic", "synthetic-b", "synthetic-a")
#: two-run and one-run designs on Luo's curves: luo2 and luo1 are issue 11's held-out sets A (a constant and a cosine
#: run) and B (one cosine run); luo2wsd and luo2cw two more two-run designs
LUO_DESIGNS = {"luo2": ("constant_24000", "cosine_24000"), "luo1": ("cosine_24000",),
               "luo2wsd": ("constant_24000", "wsd_20000_24000"), "luo2cw": ("cosine_24000", "wsdcon_9")}
TARGETS = {  # issue 11 item 6: mean PredE on the Luo protocol
    ("luo-25M", "lr-annealing"): 0.0014, ("luo-100M", "lr-annealing"): 0.0015, ("luo-400M", "lr-annealing"): 0.0022,
    ("luo-25M", "best"): 0.00110, ("luo-100M", "best"): 0.00142, ("luo-400M", "best"): 0.00168,
}
#: issue 11 item 6: WorstE of the best law, the published multi-power law's (repo README, PROVENANCE.md)
WORST_TARGETS = {"luo-25M": 0.00409, "luo-100M": 0.00583, "luo-400M": 0.00995}
#: issue 11 item 5: the calibrated 90 % band covers 80-97 % of the held-out points at each size
BAND_TARGET = (0.80, 0.97)


def _shared() -> Path | None:
    env = os.environ.get("SCALING_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" for p in ROOT.parents] + [Path("/work/shared")]
    for c in candidates:
        if (c / "data" / "external").is_dir():
            return c
    return None


def _mpl_module():
    spec = importlib.util.spec_from_file_location("multipowerlaw_bench", ROOT / "benchmarks" / "multipowerlaw.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    shared = _shared()
    if shared is not None:
        mod.DATA = shared / "data" / "external" / "multipowerlaw-luo2025" / "loss_curve_repo"
    return mod


# ----------------------------------------------------------------------------- curve sets
# each returns (fit dataset builder: law -> Dataset, [(name, lr, steps, observed)] held-out, note)


def luo_set(size: str, stride: int, train: tuple[str, ...] | None = None):
    mpl = _mpl_module()
    if not mpl.DATA.is_dir():
        return None
    train = tuple(train or mpl.TRAIN)
    from scaling.fitting import Dataset, Group
    from scaling.fitting.selection import select_run, selection_rule

    def build(law):
        groups, sel = [], {}
        s = stride if law.name == "multi-power" else 1
        for name in train:
            lr, step, loss = mpl.read_curve(size, name)
            step, loss, sel[name] = select_run(step[::s], loss[::s], lr, selection_rule())
            groups.append(Group(name, {"lr": lr, "step": step}, loss))
        return Dataset(groups, info={"kind": "curves", "runs": list(train),
                                     "selection": {"rule": selection_rule(), "runs": sel}})

    tests = [(name, *mpl.read_curve(size, name)) for name in mpl.TRAIN + mpl.TEST if name not in train]
    return build, tests


def bundled_set():
    from scaling.fitting import dataset_from_curves
    from scaling.loaders import load
    from scaling.runs import curve_arrays

    curves = ROOT / "data" / "curves"
    fit_runs = ("constant", "cosine")
    held = ("wsd_linear10", "wsd_linear20", "wsd_exp20", "multistep", "two_stage", "cyclic", "constant_long",
            "cosine_long")
    table = load([str(curves / f"{r}.csv") for r in fit_runs + held], split="val")

    def build(law):
        return dataset_from_curves(law, table[table["run"].isin(fit_runs)], split="val")

    tests = [(r, *curve_arrays(table, r, split="val")) for r in held]
    return build, tests


SYN_TRUTH = np.array([2.2, 0.5, 0.45, 0.4])  # lr-annealing (L0, A, alpha, C) in units of peak LR 1e-3


def synthetic_lr(kind: str, total: int = 4000, warmup: int = 100, peak: float = 1e-3) -> np.ndarray:
    """Per-step LR of the synthetic runs (index = step)."""
    s = np.arange(total + 1, dtype=np.float64)
    post = np.clip((s - warmup) / (total - warmup), 0.0, 1.0)
    if kind == "constant":
        body = np.full_like(s, peak)
    elif kind in ("cosine", "cosine_long"):
        body = 0.1 * peak + 0.45 * peak * (1 + np.cos(np.pi * post))
    elif kind == "wsd":
        body = np.where(post < 0.8, peak, peak * (1 - 0.99 * (post - 0.8) / 0.2))
    elif kind == "two_stage":
        body = np.where(post < 0.5, peak, 0.3 * peak)
    elif kind == "cyclic":
        half = total // 2
        first = 0.1 * peak + 0.45 * peak * (1 + np.cos(np.pi * np.clip((s - warmup) / (half - warmup), 0, 1)))
        ramp = np.clip((s - half) / warmup, 0, 1)
        second = 0.1 * peak + 0.45 * peak * (1 + np.cos(np.pi * np.clip((s - half - warmup) / (total - half - warmup),
                                                                         0, 1)))
        body = np.where(s <= half, first, np.where(s <= half + warmup, 0.1 * peak + 0.9 * peak * ramp, second))
    else:
        raise ValueError(kind)
    return np.where(s <= warmup, peak * np.maximum(s, 1) / warmup, body)


def synthetic_truth(lr: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The synthetic runs' noise-free loss: lr-annealing (lam 0.995) plus an early transient."""
    from scaling.laws import get_law

    law = get_law("lr-annealing", lam=0.995)
    return np.asarray(law(SYN_TRUTH, {"lr": lr, "step": steps})) + 0.8 * np.exp(-steps / 60.0)


def ar1_noise(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) log-noise of ``n`` steps, step-to-step correlation ``rho``, sd ``sd``; 0 at step 0."""
    eps, z = np.zeros(n), rng.standard_normal(n)
    for i in range(1, n):
        eps[i] = rho * eps[i - 1] + np.sqrt(1 - rho * rho) * sd * z[i]
    return eps


def synthetic_set(aggregate: int | None = 20, seed: int = 0):
    import pandas as pd

    from scaling.fitting import dataset_from_curves

    rng = np.random.default_rng(seed)
    from scaling.fitting.selection import aggregate_points

    def noisy(lr):
        steps = np.arange(0, lr.size)
        return steps, synthetic_truth(lr, steps) * np.exp(ar1_noise(rng, steps.size, 0.5, 0.01))

    rows = []
    for kind in ("constant", "cosine"):
        lr = synthetic_lr(kind)
        steps, loss = noisy(lr)
        rows.append(pd.DataFrame({"run": kind, "step": steps, "loss": loss, "lr": lr}))
    table = pd.concat(rows, ignore_index=True)

    def build(law):
        return dataset_from_curves(law, table, aggregate=aggregate)

    tests = []  # held-out runs: new noisy per-step losses, scored as window means like the fitted ones
    for kind, total in (("wsd", 4000), ("two_stage", 4000), ("cyclic", 4000), ("cosine_long", 8000)):
        lr = synthetic_lr(kind, total=total)
        steps, loss = noisy(lr)
        tests.append((kind, lr, *aggregate_points(steps, loss, aggregate or 1)))
    return build, tests


def synthetic_b_set(seed: int = 1):
    """One long per-step run fitted alone (set B's design), two held out; see the module docstring."""
    import pandas as pd

    from scaling.fitting import dataset_from_curves
    from scaling.fitting.selection import aggregate_points, aggregation_window

    total, peak = 33_908, 1e-3
    s = np.arange(total + 1, dtype=np.float64)
    lrs = {"cosine": 0.1 * peak + 0.45 * peak * (1 + np.cos(np.pi * s / total)),
           "wsd": np.where(s < 0.8 * total, peak, peak * (1 - 0.9 * (s - 0.8 * total) / (0.2 * total))),
           "811": np.where(s < 0.8 * total, peak, np.where(s < 0.9 * total, peak / np.sqrt(10), peak / 10))}
    rng = np.random.default_rng(seed)
    steps = np.arange(total + 1)
    runs = {}
    for kind, lr in lrs.items():
        runs[kind] = (np.minimum(synthetic_truth(lr, np.maximum(steps, 1)), 10.4)
                      * np.exp(ar1_noise(rng, steps.size, 0.3, 0.011)))
    table = pd.DataFrame({"run": "cosine", "step": steps, "loss": runs["cosine"], "lr": lrs["cosine"]})

    def build(law):
        return dataset_from_curves(law, table)

    window = aggregation_window(steps.size, None)  # the default for long logs, as the fit averages
    tests = [(kind, lrs[kind], *aggregate_points(steps, runs[kind], window)) for kind in ("wsd", "811")]
    return build, tests


#: set A's warmup (steps), the --warmup-steps its fits are run with
SYN_A_WARMUP = 300


def synthetic_a_set(seed: int = 2):
    """Set A's design (module docstring): sparse validation log, warmup points in, 2 runs fitted, 11 held out."""
    from scaling import schedules as sch
    from scaling.fitting import dataset_from_curves
    from scaling.laws import get_law
    from scaling.runs import curve_arrays

    peak, w = 6e-4, SYN_A_WARMUP
    specs = {"constant_25k": f"constant:peak={peak},warmup={w},total=25000",
             "cosine_25k": f"cosine:peak={peak},final=0,warmup={w},total=25000"}
    for f in (0.1, 0.2, 0.5, 0.9):
        for shape in ("linear", "1-sqrt"):
            specs[f"wsd-{shape}{f:.0%}_25k"] = f"wsd:peak={peak},final=0,warmup={w},total=25000,decay={f},shape={shape}"
    specs.update({"cosine10_15k": f"cosine:peak={peak},final={peak / 10},warmup={w},total=15000",
                  "cosine_50k": f"cosine:peak={peak},final=0,warmup={w},total=50000",
                  "wsd-linear20%_50k": f"wsd:peak={peak},final=0,warmup={w},total=50000,decay=0.2,shape=linear"})
    truth = get_law("lr-annealing", lam=0.995)
    rng = np.random.default_rng(seed)
    rows = []
    for name, spec in specs.items():
        lr = sch.schedule_array(*sch.parse_schedule(spec))
        steps = np.arange(0, lr.size, 200)
        # the truth in units of a 1e-3 peak LR (SYN_TRUTH's), plus the transient; step 0 at ~log(vocab)
        y = np.asarray(truth(np.array([2.9, 0.5, 0.45, 0.4]), {"lr": lr * (1e-3 / peak), "step": np.maximum(steps, 1)}))
        y = np.minimum(y + 0.6 * np.exp(-steps / 400.0), 10.83)
        y[0] = 10.83
        rows.append(pd.DataFrame({"run": name, "step": steps, "loss": y * np.exp(rng.normal(0, 0.002, y.size)),
                                  "lr": lr[steps]}))
    table = pd.concat(rows, ignore_index=True)
    fitted = ("constant_25k", "cosine_25k")

    def build(law):
        return dataset_from_curves(law, table[table["run"].isin(fitted)], warmup_steps=w)

    tests = [(r, *curve_arrays(table, r, warmup_steps=w)) for r in specs if r not in fitted]
    return build, tests


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

    if set_name.startswith("luo"):
        design, size = set_name.split("-")
        made = luo_set(size[:-1], stride, LUO_DESIGNS.get(design))
        if made is None:
            return None
    elif set_name == "bundled":
        made = bundled_set()
    elif set_name == "synthetic-b":
        made = synthetic_b_set()
    elif set_name == "synthetic-a":
        made = synthetic_a_set()
    else:
        made = synthetic_set()
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
