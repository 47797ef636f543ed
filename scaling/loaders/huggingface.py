"""Hugging Face ``Trainer`` state: ``trainer_state.json`` (in the output folder or a checkpoint).

``log_history`` is a list of dicts that mixes three kinds of entry:

* training logs: ``{"loss", "learning_rate", "grad_norm", "epoch", "step"}``;
* evaluation logs: ``{"eval_loss", "eval_runtime", ..., "epoch", "step"}``;
* one summary at the end: ``{"train_runtime", "train_loss", "total_flos", ...}``,
  whose ``train_loss`` is the average over the whole run, not a point of the
  curve, so summary entries are skipped (and the skip is noted).

``loss`` becomes the ``train`` split and ``eval_loss`` the ``val`` split. The
run is named after the output folder (the parent of ``checkpoint-*``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import ColumnChoice, Records, curves_from_records, describe_json, parse_json
from scaling.loaders.csv import check_not_empty
from scaling.runs import ROW

_SUMMARY_KEYS = ("train_runtime", "total_flos", "train_samples_per_second")


def _where(row: int) -> str:
    return f"log_history entry {row}"


def load_huggingface(path: Path, choice: ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a ``trainer_state.json``."""
    check_not_empty(path)
    state = parse_json(path.read_text(encoding="utf-8", errors="replace"), what=str(path))
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise DataError(
            f"{path}: holds {describe_json(state)}, with no 'log_history' list; "
            "is this a Hugging Face trainer_state.json? (else pass --format)"
        )
    entries, rows, skipped = [], [], 0
    for i, entry in enumerate(state["log_history"], start=1):
        if not isinstance(entry, dict):
            raise DataError(f"{path}: log_history entry {i} is not an object; the file looks damaged")
        if any(k in entry for k in _SUMMARY_KEYS):
            skipped += 1
            continue
        entries.append(entry)
        rows.append(i)
    frame = pd.DataFrame.from_records(entries)
    frame[ROW] = rows
    notes = [f"{path}: skipped {skipped} end-of-training summary entr{'y' if skipped == 1 else 'ies'} (train_runtime, average train_loss)"] if skipped else []
    rec = Records(frame=frame, source=str(path), where=_where, run=run, notes=notes)
    return curves_from_records(rec, choice)
