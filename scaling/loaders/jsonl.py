"""JSON-lines training logs: one JSON object per line (``{"step": 10, "loss": 3.2, "lr": 1e-3}``).

Keys are found by the same aliases as CSV columns; a key missing from a line
means "not logged". Blank lines are skipped; a line that is not a JSON
object is an error naming the line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import ColumnChoice, PointColumns, Records, curves_from_records, points_from_records
from scaling.loaders.csv import check_not_empty
from scaling.runs import ROW


def _where(row: int) -> str:
    return f"line {row}"


def read_jsonl(path: Path, *, run: str) -> Records:
    """Read a JSON-lines file into :class:`Records`; ROW is the 1-based line number."""
    check_not_empty(path)
    records = []
    lines = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {i} is not valid JSON ({exc.msg}); fix or delete that line") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}: line {i} is not a JSON object ({{...}}); each line must be one record")
            records.append(obj)
            lines.append(i)
    frame = pd.DataFrame.from_records(records)
    frame[ROW] = lines
    return Records(frame=frame, source=str(path), where=_where, run=run)


def load_jsonl(path: Path, choice: ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a JSON-lines log."""
    return curves_from_records(read_jsonl(path, run=run), choice)


def load_points_jsonl(path: Path, choice: PointColumns) -> pd.DataFrame:
    """Canonical points table from a JSON-lines final-loss table."""
    return points_from_records(read_jsonl(path, run=path.stem), choice)
