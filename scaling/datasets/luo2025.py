"""Luo et al. (2025): validation-loss curves of 25M/100M/400M models under 9 LR schedules.

The shipped files ``data/luo2025/csv_{25,100,400}/<schedule>.csv`` are the
authors' CSVs byte for byte (header ``step,lr,loss``, one row every 128
steps from the end of warmup). The per-step learning rate is rebuilt from the
schedule name exactly as the authors' data loader does (repo
``src/data_loader.py`` + ``src/lr_schedules.py``): a linear warmup
``linspace(0, 3e-4, 2160)`` then the schedule; :func:`lr_schedule` gives it
and the file's own ``lr`` column agrees with it to 4e-19 at every logged step.

Training setup (paper Table 5): Llama-2 architecture, AdamW, batch 128
sequences x 4096 tokens (:data:`TOKENS_PER_STEP`), peak LR 3e-4, final LR
3e-5, 2160 warmup steps.

Reference: K. Luo, H. Wen, S. Hu, Z. Sun, Z. Liu, M. Sun, K. Lyu, W. Chen,
"A Multi-Power Law for Loss Curve Prediction Across Learning Rate
Schedules", ICLR 2025, arXiv:2503.12811.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scaling.errors import DataError

__all__ = ["PEAK", "FINAL", "WARMUP", "TOKENS_PER_STEP", "SIZES", "SCHEDULES", "TRAIN", "TEST",
           "lr_schedule", "read_curve", "curves_table"]

PEAK, FINAL, WARMUP = 3e-4, 3e-5, 2160
#: 128 sequences x 4096 tokens (paper Table 5)
TOKENS_PER_STEP = 128 * 4096
#: size codename -> non-embedding parameters (paper Table 4, rounded there to 1M)
SIZES = {"25M": 25e6, "100M": 101e6, "400M": 340e6}
#: the 9 schedules, in the order of the paper's split
SCHEDULES = ("constant_24000", "cosine_24000", "wsdcon_9",
             "constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3", "wsdcon_18")
#: the paper's split (Table 6 / repo ``src/config.py``): fit on TRAIN, predict TEST
TRAIN = SCHEDULES[:3]
TEST = SCHEDULES[3:]


def lr_schedule(name: str) -> np.ndarray:
    """Learning rate at every global step of one of the 9 schedules, as the authors build it.

    All start with a linear warmup ``linspace(0, PEAK, WARMUP)`` (steps
    0..2159; note ``lr[2159] = PEAK``), then for ``s >= 2160``:

    .. math::

        \\text{constant}_T:\\ \\eta = \\eta_{max};\\qquad
        \\text{cosine}_T:\\ \\eta = \\eta_{min} + \\tfrac12(\\eta_{max} - \\eta_{min})
            (1 + \\cos(\\pi (s - W) / (T - W)));

        \\text{wsd}_{D,T}:\\ \\eta = \\eta_{max}^{1-p}\\,\\eta_{min}^{p},\\quad
        \\text{wsdld}_{D,T}:\\ \\eta = \\eta_{max} + (\\eta_{min} - \\eta_{max})\\,p,\\quad
        p = \\mathrm{clip}((s - D)/(T - D), 0, 1);

        \\text{wsdcon}_k:\\ \\eta = \\eta_{max}\\ (s < 8000),\\ k \\cdot 10^{-5}\\ (s \\ge 8000),\\ T = 16000

    with :math:`\\eta_{max} = 3\\cdot10^{-4}`, :math:`\\eta_{min} = 3\\cdot10^{-5}`, W = 2160.

    Parameters
    ----------
    name : str
        Schedule (file) name, e.g. ``"cosine_24000"``, ``"wsd_20000_24000"``, ``"wsdcon_9"``.

    Returns
    -------
    ndarray of float64, shape (T,)
        LR at global steps ``0..T-1`` (index = step, warmup included).

    Examples
    --------
    >>> lr = lr_schedule("wsdcon_9")
    >>> lr.shape, float(lr[7999]), float(lr[8000])
    ((16000,), 0.0003, 9e-05)
    """
    kind, *nums = name.split("_")
    try:
        values = [int(n) for n in nums]
    except ValueError:
        values = None
    if kind == "constant" and values and len(values) == 1:
        total = values[0]
        post = np.full(total - WARMUP, PEAK)
    elif kind == "cosine" and values and len(values) == 1:
        total = values[0]
        s = np.arange(WARMUP, total)
        post = FINAL + 0.5 * (PEAK - FINAL) * (1 + np.cos(np.pi * (s - WARMUP) / (total - WARMUP)))
    elif kind in ("wsd", "wsdld") and values and len(values) == 2:
        decay_at, total = values
        s = np.arange(WARMUP, total)
        p = np.clip((s - decay_at) / (total - decay_at), 0.0, 1.0)
        post = PEAK ** (1 - p) * FINAL**p if kind == "wsd" else PEAK + (FINAL - PEAK) * p
    elif kind == "wsdcon" and values and len(values) == 1:
        total = 16000
        s = np.arange(WARMUP, total)
        post = np.where(s < 8000, PEAK, values[0] * 1e-5)
    else:
        raise DataError(f"unknown Luo et al. schedule {name!r}; use one of {', '.join(SCHEDULES)}")
    return np.concatenate([np.linspace(0.0, PEAK, WARMUP), post])


def _file(root: Path, size: str, schedule: str) -> Path:
    return root / f"csv_{size[:-1]}" / f"{schedule}.csv"


def read_curve(root: str | Path, size: str, schedule: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of one curve: ``(lr, step, loss)``.

    Returns
    -------
    lr : ndarray float64, shape (T,)
        :func:`lr_schedule` of the schedule (covers every logged step).
    step : ndarray int64, shape (n,)
        Logged global steps (from 2160 or 2176 on).
    loss : ndarray float64, shape (n,)
        Validation loss at those steps, nats, as in the file.
    """
    df = pd.read_csv(_file(Path(root), size, schedule))
    step = df["step"].to_numpy(np.int64)
    lr = lr_schedule(schedule)
    if step.max() >= lr.size:  # never for the shipped files; keeps the contract if one is extended
        lr = np.concatenate([lr, np.full(step.max() + 1 - lr.size, lr[-1])])
    return lr, step, df["loss"].to_numpy(np.float64)


def curves_table(root: str | Path, size: str, schedules, *, source: str, every_step: bool = True) -> pd.DataFrame:
    """Canonical curve table of one model size (``split="val"``, run = schedule name).

    Parameters
    ----------
    root : path
        The ``luo2025`` data folder.
    size : {"25M", "100M", "400M"}
    schedules : sequence of str
        Schedules (runs) to include.
    source : str
        Value of the ``source`` column, e.g. ``"dataset:luo2025-25M"``.
    every_step : bool, default True
        Add an LR-only row (``loss`` NaN) at every unlogged step ``0..T-1`` so
        that :func:`scaling.runs.curve_arrays` / :func:`~scaling.runs.lr_per_step`
        return the authors' per-step schedule exactly (warmup included, and
        to the schedule's last step, past the last logged loss). False keeps
        only the logged rows (their ``lr`` is still the exact schedule value).

    Returns
    -------
    DataFrame
        ``run, step, loss, lr, split, tokens, params, source`` built with
        :func:`scaling.runs.make_curves`; ``tokens = step * TOKENS_PER_STEP``,
        ``params`` = the size's non-embedding parameter count.
    """
    from scaling.runs import make_curves

    runs, steps, losses, lrs = [], [], [], []
    for schedule in schedules:
        lr, step, loss = read_curve(root, size, schedule)
        if every_step:
            all_steps = np.arange(lr.size, dtype=np.int64)
            full = np.full(lr.size, np.nan)
            full[step] = loss
            step, loss, lr_rows = all_steps, full, lr
        else:
            lr_rows = lr[step]
        runs.append(np.full(step.size, schedule, dtype=object))
        steps.append(step)
        losses.append(loss)
        lrs.append(lr_rows)
    step = np.concatenate(steps)
    table = make_curves(run=np.concatenate(runs), step=step, loss=np.concatenate(losses), lr=np.concatenate(lrs),
                        split="val", tokens=step.astype(float) * TOKENS_PER_STEP, params=SIZES[size])
    table["source"] = source
    return table
