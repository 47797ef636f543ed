"""JSON-lines training logs: one JSON object per line (``{"step": 10, "loss": 3.2, "lr": 1e-3}``).

Keys are found by the same aliases as CSV columns; a key missing from a line
means "not logged". Blank lines are skipped; a line that is not a JSON
object is an error naming the line.

The file is read in blocks of lines, each block becoming a small frame
that is narrowed to the columns a curve can use before the next block is
read, so memory stays near the size of the numbers, not of a dict per line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import (
    JSON_SPACE,
    ColumnChoice,
    PointColumns,
    Records,
    _cell_float,
    _json_int,
    curve_column_role,
    curves_from_records,
    describe_json,
    is_wandb_dump,
    parse_json,
    points_from_records,
)
from scaling.loaders.csv import check_not_empty
from scaling.runs import ROW

#: Lines per block. Each block's dicts live only while the block is turned into columns.
BLOCK_LINES = 1 << 15
#: One decoder for the whole file, parsing exactly as :func:`parse_json` does
#: (``json.loads`` would build a new decoder for every line).
_SCAN = json.JSONDecoder(parse_int=_json_int, parse_constant=str).scan_once

#: Distinct text values shared at most (a column of unique ids is left as read).
_MAX_SHARED = 1 << 16

Role = Callable[[str], "str | None"]


def _where(row: int) -> str:
    return f"line {row}"


def read_jsonl(path: Path, *, run: str, role: Role | None = None) -> Records:
    """Read a JSON-lines file into :class:`Records`; ROW is the 1-based line number.

    Numbers are parsed as by :func:`scaling.loaders._common.parse_json` (huge
    integers as floats, ``NaN`` tokens flagged). A file that is one JSON
    document rather than JSON lines (a pretty-printed object) is named as such.

    Parameters
    ----------
    role : callable, optional
        ``role(column) -> "number" | "text" | None``, from
        :func:`scaling.loaders._common.curve_column_role`: a "number" column
        is stored as float64 (with its literal NaN cells in
        ``Records.nan_cells``) when all its cells are numbers, a "text" column
        as it was read, and a None column is not stored (its name stays in
        ``Records.columns`` for messages). Without `role` every column is kept
        as read (points tables pass their other columns through).
    """
    check_not_empty(path)
    parts: list[pd.DataFrame] = []
    masks: list[dict[str, np.ndarray]] = []
    lines: list[np.ndarray] = []
    columns: dict[str, None] = {}
    names: dict[str, str] = {}  # one object per distinct text value (run names)
    n_records = 0
    scan = _SCAN
    with open(path, encoding="utf-8", errors="replace") as fh:
        number = 0
        while True:
            block = fh.readlines(1 << 22)  # about 4 MB of text per block
            if not block:
                break
            records, at = [], []
            for line in block:
                number += 1
                text = line.strip(JSON_SPACE)
                try:
                    obj, end = scan(text, 0)
                    if end != len(text):
                        raise ValueError
                except (StopIteration, ValueError, RecursionError):
                    # Blank (by str.strip, as the per-line reader had it) or not one JSON value.
                    if not line.strip():
                        continue
                    obj = _parse_line(line, path, number, first=n_records == 0 and not records)
                if not isinstance(obj, dict):
                    raise DataError(f"{path}: line {number} is not a JSON object ({{...}}); each line must be one record")
                records.append(obj)
                at.append(number)
                if len(records) == BLOCK_LINES:
                    _add_block(records, at, role, parts, masks, lines, columns, names)
                    n_records += len(records)
                    records, at = [], []
            if records:
                _add_block(records, at, role, parts, masks, lines, columns, names)
                n_records += len(records)
    return _records(path, run, parts, masks, lines, columns, n_records, kept_all=role is None)


def _parse_line(line: str, path: Path, number: int, *, first: bool):
    """A line the fast scan refused, parsed as every loader parses JSON: its value, or a
    DataError naming the line (or the whole file, when it is one JSON document)."""
    try:
        return parse_json(line, what=f"{path}: line {number}")
    except DataError:
        if first:
            _explain_json_document(path)
        raise


def _add_block(records, at, role, parts, masks, lines, columns, names) -> None:
    """Turn one block of records into a frame of the columns worth keeping."""
    keys = dict.fromkeys(chain.from_iterable(records))  # first-appearance order, as pandas
    columns.update(keys)
    kept = list(keys) if role is None else [k for k in keys if role(k) is not None]
    if kept:
        frame = pd.DataFrame.from_records(records, columns=kept)
    else:
        frame = pd.DataFrame(index=pd.RangeIndex(len(records)))
    mask: dict[str, np.ndarray] = {}
    for col in kept:
        s = frame[col]
        plain = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if role is not None and role(col) == "number" and not plain:
            packed = _as_floats(s.to_numpy(dtype=object))
            if packed is not None:
                frame[col] = packed[0]
                if packed[1].any():
                    mask[col] = packed[1]
                continue
        if pd.api.types.is_bool_dtype(s):
            # pandas would turn a block of booleans into 0/1 when joining it to a block of
            # numbers; a frame of all the records keeps them (and to_float refuses them).
            # Before the run-name branch: a column can be the run names and the loss at once.
            frame[col] = s.astype(object)
            continue
        if role is not None and role(col) == "text" and not plain and len(names) < _MAX_SHARED:
            # Run names repeat on every line; json makes a new string object each time.
            # One object per distinct name (the values and the dtype are unchanged).
            shared = [names.setdefault(v, v) if type(v) is str else v for v in s.to_numpy(dtype=object)]
            frame[col] = pd.Series(shared, index=frame.index, dtype=s.dtype)
    parts.append(frame)
    masks.append(mask)
    lines.append(np.asarray(at, dtype=np.int64))


def _as_floats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Cells of a column used only as numbers, as (float64 values, literal-NaN mask), read
    cell by cell as :func:`scaling.loaders._common.to_float` would; None when a cell is not
    a number (text, a boolean, nested JSON), so that to_float later names it."""
    out = np.empty(len(values), dtype=float)
    token = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        out[i], token[i], bad = _cell_float(v)
        if bad:
            return None
    return out, token


def _records(path, run, parts, masks, lines, columns, n_records, *, kept_all: bool) -> Records:
    names = [c for c in columns if c != ROW]
    if not parts:
        frame = pd.DataFrame()
        frame[ROW] = np.zeros(0, dtype=np.int64)
        return Records(frame=frame, source=str(path), where=_where, run=run, columns=names)
    frame = pd.concat(parts, ignore_index=True, sort=False) if len(parts) > 1 else parts[0]
    parts.clear()
    nan_cells: dict[str, np.ndarray] = {}
    offset = 0
    for part_mask, part_lines in zip(masks, lines):
        for col, m in part_mask.items():
            nan_cells.setdefault(col, np.zeros(n_records, dtype=bool))[offset : offset + len(m)] = m
        offset += len(part_lines)
    frame[ROW] = np.concatenate(lines)
    return Records(
        frame=frame, source=str(path), where=_where, run=run, nan_cells=nan_cells,
        columns=None if kept_all else names,
    )


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
    """Canonical curve table from a JSON-lines log (only the columns a curve can use are kept)."""
    return curves_from_records(read_jsonl(path, run=run, role=curve_column_role(choice)), choice)


def load_points_jsonl(path: Path, choice: PointColumns) -> pd.DataFrame:
    """Canonical points table from a JSON-lines final-loss table."""
    return points_from_records(read_jsonl(path, run=path.stem), choice)
