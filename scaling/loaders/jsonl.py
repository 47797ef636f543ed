"""JSON-lines training logs: one JSON object per line (``{"step": 10, "loss": 3.2, "lr": 1e-3}``).

Keys are found by the same aliases as CSV columns; a key missing from a line
means "not logged". Blank lines are skipped; a line that is not a JSON
object is an error naming the line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import (
    ColumnChoice,
    PointColumns,
    Records,
    curves_from_records,
    describe_json,
    is_wandb_dump,
    parse_json,
    points_from_records,
)
from scaling.loaders.csv import check_not_empty
from scaling.runs import ROW


def _where(row: int) -> str:
    return f"line {row}"


def read_jsonl(path: Path, *, run: str) -> Records:
    """Read a JSON-lines file into :class:`Records`; ROW is the 1-based line number.

    Numbers are parsed as by :func:`scaling.loaders._common.parse_json` (huge
    integers as floats, ``NaN`` tokens flagged). A file that is one JSON
    document rather than JSON lines (a pretty-printed object) is named as such.
    """
    check_not_empty(path)
    records = []
    lines = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = parse_json(line, what=f"{path}: line {i}")
            except DataError:
                if i == 1 or not records:
                    _explain_json_document(path)
                raise
            if not isinstance(obj, dict):
                raise DataError(f"{path}: line {i} is not a JSON object ({{...}}); each line must be one record")
            records.append(obj)
            lines.append(i)
    frame = pd.DataFrame.from_records(records)
    frame[ROW] = lines
    return Records(frame=frame, source=str(path), where=_where, run=run)


def _explain_json_document(path: Path) -> None:
    """Raise a DataError saying what the file holds when it is one JSON document, not JSON lines."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        obj = parse_json(text, what=str(path))
    except DataError:
        return  # not a JSON document either: the line error stands
    if isinstance(obj, dict) and is_wandb_dump(obj):
        hint = "a W&B run dump: pass --format wandb (or name it .json)"
    elif isinstance(obj, dict) and "log_history" in obj:
        hint = "a Hugging Face trainer state: pass --format huggingface"
    else:
        hint = "JSON lines need one record object per line"
    raise DataError(f"{path}: is one JSON document ({describe_json(obj)}), not JSON lines; {hint}")


def load_jsonl(path: Path, choice: ColumnChoice, *, run: str) -> pd.DataFrame:
    """Canonical curve table from a JSON-lines log."""
    return curves_from_records(read_jsonl(path, run=run), choice)


def load_points_jsonl(path: Path, choice: PointColumns) -> pd.DataFrame:
    """Canonical points table from a JSON-lines final-loss table."""
    return points_from_records(read_jsonl(path, run=path.stem), choice)
