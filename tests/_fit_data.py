"""Shared synthetic data for the fitter tests (built here, not read from disk)."""

from pathlib import Path

import numpy as np
import pandas as pd

from scaling._x64 import float64
from scaling.laws import get_law

SHARED = Path(__file__).resolve().parents[2] / "shared"
EPOCH_CSV = SHARED / "data" / "external" / "chinchilla-epoch" / "svg_extracted_data.csv"

CHINCHILLA_TRUE = np.array([np.log(406.4), np.log(410.7), np.log(1.69), 0.34, 0.28])


def chinchilla_points(seed: int = 0, noise: float = 0.01, theta=CHINCHILLA_TRUE) -> pd.DataFrame:
    """A Chinchilla-like design (8 sizes x 6 token budgets) with log-normal loss noise."""
    rng = np.random.default_rng(seed)
    sizes = np.geomspace(1e7, 3e9, 8)
    ratios = np.geomspace(2.0, 200.0, 6)
    n = np.repeat(sizes, ratios.size)
    d = n * np.tile(ratios, sizes.size)
    with float64():
        loss = np.asarray(get_law("chinchilla")(np.asarray(theta), {"N": n, "D": d}))
    loss = loss * np.exp(rng.normal(0.0, noise, loss.size))
    return pd.DataFrame({"run": [f"r{i}" for i in range(n.size)], "N": n, "D": d, "C": 6 * n * d, "loss": loss})


def power_law_points(seed: int = 0, noise: float = 0.003) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = np.geomspace(1e7, 1e10, 30)
    loss = (1.8 + 400.0 * n**-0.34) * np.exp(rng.normal(0.0, noise, n.size))
    return pd.DataFrame({"run": [f"m{i}" for i in range(n.size)], "N": n, "loss": loss})


def epoch_points() -> pd.DataFrame:
    """Epoch's 240 points (5 highest losses dropped), D = C / (6 N)."""
    df = pd.read_csv(EPOCH_CSV).rename(columns={"Model Size": "N", "Training FLOP": "C"})
    df = df.sort_values("loss").iloc[:-5].reset_index(drop=True)
    df["D"] = df["C"] / (6.0 * df["N"])
    return df
