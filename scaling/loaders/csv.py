"""Plain CSV / TSV training logs: one row per logged record, header with column names.

Columns are found by alias (see :mod:`scaling.loaders._common`): step
(``step``, ``iter``, ``global_step``, ``_step`` ...), train and validation
loss (``loss``, ``train/loss``, ``val_loss``, ``eval/loss`` ...), LR (``lr``,
``learning_rate``, ``lr-AdamW`` ...), optional run column (``run``). Empty
cells mean "not logged"; a literal ``nan`` cell is read the same way and noted
(it often marks a diverged loss). Only the columns a curve needs are parsed
(see :func:`read_table`), so a wide W&B export costs the memory of its numbers. CRLF line endings and a ``.tsv`` extension or tab
separated header are handled. Rows are numbered as a user sees them: data
row 1 is line 2 of the file.
"""

from __future__ import annotations

import csv as _csv
import re
import warnings
from pathlib import Path

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import (
    NAN_TOKENS,
    ColumnChoice,
    PointColumns,
    Records,
    choose_curve_columns,
    curves_from_records,
    points_from_records,
)
from scaling.runs import ROW


def _where(row: int) -> str:
    return f"row {row} (line {row + 1})"


def header_line(path: Path) -> str:
    """First non-empty line of a text file (for format sniffing), or '' if there is none."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for line in fh:
            if line.strip():
                return line.strip("\r\n")
            break
    return ""


def _first_long_row(path: Path, sep: str) -> str:
    """Describe the first data row with more fields than the header (slow path, errors only)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        rows = _csv.reader(fh, delimiter=sep)
        header = next(rows, [])
        for i, row in enumerate(rows, start=1):
            if len(row) > len(header):
                return f"row {i} (line {i + 1}) has {len(row)} fields but the header has {len(header)}"
    return f"some rows have more fields than the header's {len(header)}"


def check_not_empty(path: Path) -> None:
    """DataError when the file has no bytes or only whitespace."""
    size = path.stat().st_size
    if size == 0 or (size < 4096 and not path.read_bytes().strip()):
        raise DataError(f"{path}: file is empty; export the log again or remove it from the list")


def _header_fields(path: Path, sep: str) -> list[str]:
    head = header_line(path).lstrip("\ufeff")  # pandas drops a UTF-8 byte-order mark too
    try:
        return next(_csv.reader([head], delimiter=sep))
    except (StopIteration, _csv.Error):
        return []


_SCAN_CHUNK = 1 << 24  # bytes per step of the byte scan below
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class _ByteScan:
    """What one pass over a file's bytes (after the header) found."""

    quotes: bool  # a quote character: fields may hide separators, so no lean read
    long_rows: bool  # a line with more separators than the header
    maybe_nan: bool  # the letters "nan" somewhere (a literal NaN cell, or a word like "finance")
    maybe_bool: bool  # "true"/"false" somewhere (pandas would read them as 1/0 under a float dtype)


def _has_long_line(buf: np.ndarray, sep_byte: int, n_fields: int) -> bool:
    """Does a line of `buf` (whole lines) hold n_fields or more separators?

    For each line start, the separator that would be its n_fields-th is found
    by index arithmetic on the sorted separator positions; the line is long
    when that separator comes before the line's end.
    """
    seps = np.flatnonzero(buf == sep_byte)
    if len(seps) < n_fields:
        return False
    ends = np.flatnonzero(buf == 10)
    ends = np.append(ends, len(buf)) if not len(ends) or ends[-1] != len(buf) - 1 else ends
    starts = np.concatenate([[0], ends[:-1] + 1])
    first = np.searchsorted(seps, starts)  # index of each line's first separator
    last = first + (n_fields - 1)  # index of its n_fields-th separator
    ok = last < len(seps)
    return bool(np.any(seps[last[ok]] < ends[ok]))


def _scan_bytes(path: Path, sep: str, n_fields: int) -> _ByteScan:
    """One chunked pass over the file: quote, long-row, NaN and boolean checks.

    pandas ignores extra fields when it reads only some columns, so the lean
    read counts separators per line itself (numpy, no Python loop per line).
    Reads the file once more, in 16 MB blocks.
    """
    quotes = long_rows = maybe_nan = maybe_bool = False
    sep_byte = ord(sep)
    # Plain reads, not mmap: mapped pages would count in the process's RSS.
    with open(path, "rb") as fh:
        fh.readline()  # the header
        rest = b""
        while True:
            block = fh.read(_SCAN_CHUNK)
            if not block and not rest:
                break
            data = rest + block
            cut = data.rfind(b"\n") + 1 if block else len(data)
            if cut == 0:  # no newline yet: one line longer than a chunk
                if block:
                    rest = data
                    continue
                cut = len(data)
            chunk, rest = data[:cut], data[cut:]
            low = chunk.translate(_LOWER)
            quotes = quotes or b'"' in chunk
            maybe_nan = maybe_nan or b"nan" in low
            maybe_bool = maybe_bool or b"true" in low or b"false" in low
            del low
            if not long_rows:
                long_rows = _has_long_line(np.frombuffer(chunk, dtype=np.uint8), sep_byte, n_fields)
            if not block:
                break
    return _ByteScan(quotes, long_rows, maybe_nan, maybe_bool)


def _nan_token_cells(path: Path, sep: str, columns: list[str]) -> dict[str, np.ndarray]:
    """Cells of `columns` that hold a literal ``nan`` token (pandas reads them as NaN like an
    empty cell). Called only when the byte scan saw "nan", so the usual file is parsed once."""
    if not columns:
        return {}
    wanted = set(columns)
    text = pd.read_csv(
        path, sep=sep, skip_blank_lines=False, index_col=False, usecols=lambda c: str(c).strip() in wanted,
        dtype=str, keep_default_na=False,
    )
    text.columns = [str(c).strip() for c in text.columns]
    out = {}
    for c in columns:
        if c in text.columns:
            mask = text[c].str.strip().str.lower().isin(NAN_TOKENS).to_numpy()
            if mask.any():
                out[c] = mask
    return out


def read_table(
    path: Path,
    *,
    sep: str | None = None,
    run: str,
    select: Callable[[list[str]], list[str]] | None = None,
    text_columns: Callable[[list[str]], list[str]] | None = None,
) -> Records:
    """Read a delimited file into :class:`Records` (columns as in the file, plus the row number).

    Parameters
    ----------
    select : callable, optional
        ``select(header) -> columns to read``. Only those are parsed, as
        float64 (a text cell falls back to a typed read that names the cell);
        the others are skipped, which keeps the memory of a wide 1e6-row log
        near the size of its numbers. A DataError from `select` (no step or
        loss column) is left for the caller to raise after a full read, so
        messages are the same either way.
    text_columns : callable, optional
        ``text_columns(header) -> columns read as strings`` (run names).
    """
    check_not_empty(path)
    if sep is None:
        head = header_line(path)
        sep = "\t" if path.suffix.lower() == ".tsv" or ("\t" in head and "," not in head) else ","
    usecols = None
    dtype = None
    header = [c.strip() for c in _header_fields(path, sep)]
    scan = _scan_bytes(path, sep, max(len(header), 1))
    # Column selection would hide a row with more fields than the header, and a
    # quoted field may hide separators; a float64 dtype would read TRUE/FALSE as 1/0.
    lean = select is not None and header and len(set(header)) == len(header) and not (scan.quotes or scan.long_rows)
    if lean:
        try:
            wanted = list(select(header))
        except DataError:
            wanted = None
        if wanted:
            text = set(text_columns(header)) if text_columns else set()
            keep = set(wanted)
            usecols = lambda c: str(c).strip() in keep  # noqa: E731 - pandas calls it per header name
            if not scan.maybe_bool:
                raw_names = _header_fields(path, sep)
                dtype = {r: (str if r.strip() in text else np.float64) for r in raw_names if r.strip() in keep}
    frame = _read_csv(path, sep, usecols, dtype)
    frame.columns = [str(c).strip() for c in frame.columns]
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    nan_cells = _nan_token_cells(path, sep, floats) if scan.maybe_nan else {}
    frame[ROW] = np.arange(1, len(frame) + 1)
    data_cols = [c for c in frame.columns if c != ROW]
    rows = frame[data_cols].notna().any(axis=1).to_numpy()
    if not rows.all():
        frame = frame.loc[rows]
        nan_cells = {c: m[rows] for c, m in nan_cells.items()}
    return Records(frame=frame, source=str(path), where=_where, run=run, nan_cells=nan_cells)


def _read_csv(path: Path, sep: str, usecols, dtype) -> pd.DataFrame:
    try:
        # Blank lines are kept (as empty rows, dropped below) so that data row i is line i + 1.
        # index_col=False: a row with more fields than the header is an error, not an index.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                return pd.read_csv(path, sep=sep, skip_blank_lines=False, index_col=False, usecols=usecols, dtype=dtype)
            except ValueError:
                if dtype is None:
                    raise
                # A text cell in a numeric column: read with inferred types so that
                # to_float can name the cell.
                return pd.read_csv(path, sep=sep, skip_blank_lines=False, index_col=False, usecols=usecols)
    except pd.errors.ParserWarning:
        raise DataError(f"{path}: {_first_long_row(path, sep)}; check the delimiter, or quote fields that contain it") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty; export the log again or remove it from the list") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OverflowError) as exc:
        msg = " ".join(str(exc).split())
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if ragged:
            want, line, got = map(int, ragged.groups())
            raise DataError(
                f"{path}: row {line - 1} (line {line}) has {got} fields but the header has {want}; "
                "check the delimiter, or quote fields that contain it"
            ) from None
        if len(msg) > 200:
            msg = msg[:197] + "..."
        raise DataError(f"{path}: cannot read as {'TSV' if sep == chr(9) else 'CSV'} ({msg}); check the file or pass --format") from None


def curve_reader(choice: ColumnChoice, source: str) -> dict:
    """``select``/``text_columns`` arguments of :func:`read_table` for a curve log."""

    def select(header: list[str]) -> list[str]:
        return choose_curve_columns(header, choice, source=source).needed()

    def text(header: list[str]) -> list[str]:
        run = choose_curve_columns(header, choice, source=source).run
        return [run] if run else []

    return {"select": select, "text_columns": text}


def load_csv(path: Path, choice: ColumnChoice, *, run: str, sep: str | None = None) -> pd.DataFrame:
    """Canonical curve table from a CSV/TSV log (only the columns a curve needs are read)."""
    return curves_from_records(read_table(path, sep=sep, run=run, **curve_reader(choice, str(path))), choice)


def load_points_csv(path: Path, choice: PointColumns) -> pd.DataFrame:
    """Canonical points table from a CSV/TSV final-loss table."""
    return points_from_records(read_table(path, run=path.stem), choice)
