"""Gadre et al. (2024) over-training replication: predict 1.4B and 6.9B runs from 5 small runs.

Protocol of the paper's repository (``scaling_explorer.ipynb``; see
``../shared/data/external/gadre-overtraining/PROVENANCE.md``): RedPajama
training set (``rpj``), C4 validation loss (``loss_c4_val``). Fit the
``overtraining`` law ``L(N, M) = a N^b + c 6^(b/2) (M N)^b + E`` on 5 runs
(the four small configs at M = 20 plus ``d=96_l=8_h=4`` at M = 320); predict
``open_lm_1b`` at M = 640 and ``open_lm_7b`` at M = 20. Fit the
``downstream`` law ``Err(L) = E' - k exp(-g L)`` (17-task average top-1
error ``err_avg_17``) on the 5 runs plus ``open_lm_1b`` at M = 20 and feed
it the *predicted* loss of the 1.4B M = 640 run.

Two objectives:

* ``paper``: the repository's recipe, unweighted least squares on the raw
  loss/error (``scipy.optimize.curve_fit``, Levenberg-Marquardt) from its
  128-start grid, keeping the smallest ``sqrt(SSR/(n-2))``. Published
  relative errors: 0.7103 %, 0.7320 % (loss), 3.6365 % (error).
* ``ours``: our fitter unchanged (summed Huber, delta 1e-3, on log loss /
  log error; the law's start grid, which is the same 128 starts with
  ``E = 0`` replaced by 0.5).

With 5 points and 4 parameters the fit has one degree of freedom, so the
objective matters: the two give visibly different extrapolations.

Run::

    .venv/bin/python benchmarks/gadre_replication.py
"""

from __future__ import annotations

import itertools
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "external" / "gadre-overtraining" / "gadre_models_flat.csv"
SMALL = ("d=96_l=8_h=4", "d=512_l=8_h=4", "d=576_l=24_h=8", "d=1024_l=24_h=8")
TARGETS = (("open_lm_1b", 640.0), ("open_lm_7b", 20.0))
PUBLISHED = {"loss open_lm_1b M=640": 0.7103, "loss open_lm_7b M=20": 0.7320, "err17 open_lm_1b M=640": 3.6365}


def load_rpj(path: Path = DATA) -> pd.DataFrame:
    """RedPajama rows as a points table: ``run, N, D, M, loss`` (C4 val) and ``err`` (17-task error)."""
    df = pd.read_csv(path)
    df = df[df["dataset"] == "rpj"].copy()
    out = pd.DataFrame({"run": df["name"].astype(str), "model": df["model"].astype(str),
                        "N": df["params"].astype(float), "D": df["tokens"].astype(float),
                        "loss": df["loss_c4_val"].astype(float), "err": df["err_avg_17"].astype(float)})
    out["M"] = out["D"] / out["N"]
    return out.reset_index(drop=True)


def fit_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The paper's 5-run fit set."""
    m20 = table["model"].isin(SMALL) & np.isclose(table["M"], 20.0)
    m320 = (table["model"] == "d=96_l=8_h=4") & np.isclose(table["M"], 320.0)
    return table[m20 | m320]


def row(table: pd.DataFrame, model: str, m: float) -> pd.Series:
    return table[(table["model"] == model) & np.isclose(table["M"], m)].iloc[0]


def _loss_natural(x, a, b, c, e):
    n, m = x
    return a * n**b + c * 6.0 ** (b / 2.0) * (m * n) ** b + e


def _err_natural(loss, e, k, g):
    return e - k * np.exp(-g * loss)


def paper_loss_fit(fit_set: pd.DataFrame) -> tuple[float, float, float, float]:
    """``(a, b, c, E)`` by the repository's recipe: curve_fit from 128 starts, best sqrt(SSR/(n-2))."""
    from scipy.optimize import curve_fit

    x = (fit_set["N"].to_numpy(), fit_set["M"].to_numpy())
    y = fit_set["loss"].to_numpy()
    best, best_score = None, np.inf
    for a, c, b, e in itertools.product((1e2, 3e2, 1e3, 3e3), (1e2, 3e2, 1e3, 3e3), (-0.1, -0.3), (0, 1, 2, 10)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p, _ = curve_fit(_loss_natural, x, y, p0=[a, b, c, e], maxfev=10000)
        except (RuntimeError, ValueError):
            continue
        score = np.sqrt(np.sum((_loss_natural(x, *p) - y) ** 2) / (len(y) - 2))
        if np.isfinite(score) and score < best_score:
            best, best_score = p, score
    return tuple(float(v) for v in best)


def paper_error_fit(losses: np.ndarray, errors: np.ndarray) -> tuple[float, float, float]:
    """``(E', k, g)`` by least squares on the raw error (curve_fit, LM)."""
    from scipy.optimize import curve_fit

    p, _ = curve_fit(_err_natural, losses, errors, p0=[0.9, 1.0, 0.5], maxfev=10000)
    return tuple(float(v) for v in p)


def replicate(path: Path = DATA) -> pd.DataFrame:
    """Both objectives; one row per (objective, quantity): actual, predicted, relative error in %."""
    from scaling._x64 import float64
    from scaling.fitting import dataset_from_points, fit
    from scaling.laws import get_law

    table = load_rpj(path)
    fs = fit_rows(table)
    err_set = pd.concat([fs, table[(table["model"] == "open_lm_1b") & np.isclose(table["M"], 20.0)]])
    rows = []

    # the repository's recipe
    a, b, c, e = paper_loss_fit(fs)
    ep, k, g = paper_error_fit(err_set["loss"].to_numpy(), err_set["err"].to_numpy())
    for model, m in TARGETS:
        r = row(table, model, m)
        pred = _loss_natural((r["N"], m), a, b, c, e)
        rows.append(("paper", f"loss {model} M={m:g}", r["loss"], pred))
    r = row(table, "open_lm_1b", 640.0)
    pred_loss = _loss_natural((r["N"], 640.0), a, b, c, e)
    rows.append(("paper", "err17 open_lm_1b M=640", r["err"], _err_natural(pred_loss, ep, k, g)))
    params = {"paper": f"a={a:.6g} b={b:.6g} c={c:.6g} E={e:.6g}; E'={ep:.4g} k={k:.4g} g={g:.4g}"}

    # our fitter, default objective (Huber on log)
    law = get_law("overtraining")
    res = fit(law, dataset_from_points(law, fs), progress=False)
    dlaw = get_law("downstream", x="loss")
    dres = fit(dlaw, dataset_from_points(dlaw, err_set, target="err"), progress=False)
    with float64():
        for model, m in TARGETS:
            r = row(table, model, m)
            pred = float(law(res.params, {"N": np.array([r["N"]]), "D": np.array([r["D"]])})[0])
            rows.append(("ours", f"loss {model} M={m:g}", r["loss"], pred))
        r = row(table, "open_lm_1b", 640.0)
        pred_loss = float(law(res.params, {"N": np.array([r["N"]]), "D": np.array([r["D"]])})[0])
        pred_err = float(dlaw(dres.params, {"loss": np.array([pred_loss])})[0])
    rows.append(("ours", "err17 open_lm_1b M=640", r["err"], pred_err))
    d = res.derived
    params["ours"] = (f"a={d['a']:.6g} b={d['b']:.6g} c={d['c']:.6g} E={d['E']:.6g}; "
                      f"E'={dres.params[0]:.4g} k={dres.params[1]:.4g} g={dres.params[2]:.4g}")
    out = pd.DataFrame(rows, columns=["objective", "quantity", "actual", "predicted"])
    out["rel_err_pct"] = 100.0 * np.abs(out["predicted"] - out["actual"]) / out["actual"]
    out["published_pct"] = out["quantity"].map(PUBLISHED)
    out.attrs["params"] = params
    return out


def main(argv=None) -> int:
    if not DATA.is_file():
        print(f"skipped: {DATA} not found (Gadre et al.'s public data are not available here)")
        return 0
    out = replicate()
    print("Gadre et al. 2024 replication (RedPajama, C4 val loss, 17-task error); relative errors in %")
    print(out.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for name, text in out.attrs["params"].items():
        print(f"  {name}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
