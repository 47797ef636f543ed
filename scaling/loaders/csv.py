"""Plain CSV / TSV training logs: one row per logged record, header with column names.

Columns are found by alias (see :mod:`scaling.loaders._common`): step
(``step``, ``iter``, ``global_step``, ``_step`` ...), train and validation
loss (``loss``, ``train/loss``, ``val_loss``, ``eval/loss`` ...), LR (``lr``,
``learning_rate``, ``lr-AdamW`` ...), optional run column (``run``). Empty
cells mean "not logged". CRLF line endings and a ``.tsv`` extension or tab
separated header are handled. Rows are numbered as a user sees them: data
row 1 is line 2 of the file.
"""

from __future__ import annotations

import csv as _csv
import re
import warnings
from pathlib import Path

import pandas as pd

from scaling.errors import DataError
from scaling.loaders._common import ColumnChoice, PointColumns, Records, curves_from_records, points_from_records
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


def read_table(path: Path, *, sep: str | None = None, run: str) -> Records:
    """Read a delimited file into :class:`Records` (columns as in the file, plus the row number)."""
    check_not_empty(path)
    if sep is None:
        head = header_line(path)
        sep = "\t" if path.suffix.lower() == ".tsv" or ("\t" in head and "," not in head) else ","
    try:
        # Blank lines are kept (as empty rows, dropped below) so that data row i is line i + 1.
        # index_col=False: a row with more fields than the header is an error, not an index.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, sep=sep, skip_blank_lines=False, index_col=False)
    except pd.errors.ParserWarning:
        raise DataError(f"{path}: {_first_long_row(path, sep)}; check the delimiter, or quote fields that contain it") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: file is empty; export the log again or remove it from the list") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if ragged:
            want, line, got = map(int, ragged.groups())
            raise DataError(
                f"{path}: row {line - 1} (line {line}) has {got} fields but the header has {want}; "
                "check the delimiter, or quote fields that contain it"
            ) from None
        raise DataError(f"{path}: cannot read as {'TSV' if sep == chr(9) else 'CSV'} ({msg}); check the file or pass --format") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame[ROW] = range(1, len(frame) + 1)
    data_cols = [c for c in frame.columns if c != ROW]
    frame = frame.loc[frame[data_cols].notna().any(axis=1)]
    return Records(frame=frame, source=str(path), where=_where, run=run)


def load_csv(path: Path, choice: ColumnChoice, *, run: str, sep: str | None = None) -> pd.DataFrame:
    """Canonical curve table from a CSV/TSV log."""
    return curves_from_records(read_table(path, sep=sep, run=run), choice)


def load_points_csv(path: Path, choice: PointColumns) -> pd.DataFrame:
    """Canonical points table from a CSV/TSV final-loss table."""
    return points_from_records(read_table(path, run=path.stem), choice)
