"""TensorBoard event files (``events.out.tfevents.*``) or folders of them.

Read with the optional ``tbparse`` package (``pip install 'scaling-toolkit[tensorboard]'``),
imported only when a TensorBoard log is loaded. Scalar tags are matched by
the usual aliases (``train/loss``, ``loss``, ``eval/loss``, ``lr``,
``train/learning_rate`` ...); the event step is the optimizer step. A folder
with event files in several sub-folders gives one run per sub-folder
(TensorBoard's own convention); otherwise the run is named after the folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import ColumnChoice, Records, curves_from_records
from scaling.runs import ROW, merge_notes


def _reader():
    try:
        from tbparse import SummaryReader
    except ImportError:
        raise DataError(
            "reading TensorBoard logs needs the optional 'tbparse' package: "
            "pip install 'scaling-toolkit[tensorboard]' (or export the scalars to CSV)"
        ) from None
    return SummaryReader


def load_tensorboard(path: Path, choice: ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a TensorBoard event file or log folder."""
    SummaryReader = _reader()
    try:
        with warnings.catch_warnings():
            # tbparse uses pandas API that pandas 3 deprecates; not the user's concern.
            warnings.simplefilter("ignore", category=FutureWarning)
            warnings.simplefilter("ignore", category=DeprecationWarning)
            scalars = SummaryReader(str(path), extra_columns={"dir_name"}).scalars
    except Exception as exc:  # tbparse raises many kinds on damaged files
        raise DataError(f"{path}: cannot read TensorBoard events ({' '.join(str(exc).split())}); check the file") from None
    if scalars is None or len(scalars) == 0:
        raise DataError(f"{path}: no scalar summaries in the TensorBoard log; log loss with add_scalar / tf.summary.scalar")
    if "dir_name" not in scalars.columns:
        scalars = scalars.assign(dir_name="")
    tables = []
    for sub_dir, part in scalars.groupby("dir_name", sort=True):
        # One row per step, one column per tag; the position is the event step.
        wide = part.pivot_table(index="step", columns="tag", values="value", aggfunc="last", dropna=False).reset_index()
        wide.columns = [str(x) for x in wide.columns]
        wide[ROW] = wide["step"].to_numpy(dtype=np.int64)
        # An event holds a value: a NaN there was logged as NaN (a diverged loss), unlike
        # the NaN the pivot leaves where a tag has no event at that step.
        logged_nan = part.loc[part["value"].isna()]
        nan_cells = {
            str(tag): wide["step"].isin(rows["step"]).to_numpy() for tag, rows in logged_nan.groupby("tag")
        }
        name = Path(sub_dir).name if sub_dir else run
        rec = Records(frame=wide, source=str(path), where=lambda r: f"event step {r}", run=name, nan_cells=nan_cells)
        sub_choice = ColumnChoice(step="step", loss=choice.loss, lr=choice.lr, run=None, split=choice.split)
        tables.append(curves_from_records(rec, sub_choice))
    out = pd.concat(tables, ignore_index=True)
    out.attrs["notes"] = merge_notes(tables)
    out.attrs["named_by_file"] = True
    return out
