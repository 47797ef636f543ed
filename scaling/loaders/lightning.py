"""PyTorch Lightning ``CSVLogger`` logs (``lightning_logs/version_N/metrics.csv``).

Lightning writes one row per ``log`` flush, so the same ``step`` appears on
several rows: one with ``train_loss``, another with ``val_loss``, another with
``lr-AdamW`` from ``LearningRateMonitor``; the other cells are empty. Rows of
the same step are merged (per column the last logged value wins). The run is
named after the folder (``version_0``) unless a run column exists.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.loaders._common import ColumnChoice, curves_from_records
from scaling.loaders.csv import curve_reader, read_table


def load_lightning(path: Path, choice: ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a Lightning ``metrics.csv``."""
    return curves_from_records(read_table(path, run=run, **curve_reader(choice, str(path))), choice)
