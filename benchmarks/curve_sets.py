"""The curve sets of ``benchmarks/curves_protocol.py``: which runs each fits and which it predicts.

:func:`build_set` returns ``(build, tests)``: ``build(law)`` gives the fitted runs as a
:class:`scaling.fitting.Dataset` (the default point selection, no hand-trimming) and ``tests`` the
held-out curves as ``[(name, lr per step, logged steps, observed loss)]``; None when the shared
data are absent.

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
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SETS = tuple(f"{d}-{n}M" for d in ("luo", "luo2", "luo1", "luo2wsd", "luo2cw") for n in (25, 100, 400)) + (
    "bundled", "synthetic", "synthetic-b", "synthetic-a")
#: two-run and one-run designs on Luo's curves: luo2 and luo1 are issue 11's held-out sets A (a constant and a cosine
#: run) and B (one cosine run); luo2wsd and luo2cw two more two-run designs
LUO_DESIGNS = {"luo2": ("constant_24000", "cosine_24000"), "luo1": ("cosine_24000",),
               "luo2wsd": ("constant_24000", "wsd_20000_24000"), "luo2cw": ("cosine_24000", "wsdcon_9")}


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
# each returns (build: law -> Dataset of the fitted runs, [(name, lr, steps, observed)] held out)


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


def build_set(set_name: str, stride: int = 1):
    """``(build, tests)`` of one set of :data:`SETS` (module docstring); None without the shared data.

    ``stride`` fits multi-power on every k-th point of Luo's curves.
    """
    if set_name.startswith("luo"):
        design, size = set_name.split("-")
        return luo_set(size[:-1], stride, LUO_DESIGNS.get(design))
    return {"bundled": bundled_set, "synthetic-b": synthetic_b_set, "synthetic-a": synthetic_a_set,
            "synthetic": synthetic_set}[set_name]()
