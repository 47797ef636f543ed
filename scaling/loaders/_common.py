"""Shared pieces of the loaders: column aliases, number parsing, frame -> canonical table.

Every format loader reads its file into a pandas frame of *logged records*
(one row per logged record, columns as the logger named them, a position
column :data:`scaling.runs.ROW`), then calls :func:`curves_from_records` or
:func:`points_from_records`, which pick the columns by alias, parse numbers
and hand over to :mod:`scaling.runs` for the checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scaling.errors import DataError
from scaling.runs import ROW, tidy_curves, tidy_points

# Aliases in priority order, compared case-insensitively. The optimizer-step
# names come before W&B's `_step`, which counts wandb.log calls, not steps.
STEP_ALIASES = (
    "step", "global_step", "train/global_step", "trainer/global_step",
    "iter", "iteration", "iterations", "_step",
)
TRAIN_LOSS_ALIASES = (
    "loss", "train_loss", "train/loss", "lm loss", "lm_loss", "train/lm_loss",
    "train_loss_step", "training_loss", "train/loss_step", "train_loss_epoch",
)
VAL_LOSS_ALIASES = (
    "val_loss", "eval_loss", "eval/loss", "validation_loss", "val/loss", "valid_loss",
    "validation/loss", "val_loss_epoch", "lm loss validation", "valid/loss",
)
LR_ALIASES = (
    "lr", "learning_rate", "train/learning_rate", "lr-adamw", "learning-rate", "train_lr",
    "train/lr", "lr-adam", "lr-sgd", "optimizer/lr", "trainer/learning_rate",
)
TOKENS_ALIASES = ("tokens", "consumed_tokens", "num_tokens", "tokens_seen", "num_input_tokens_seen", "train/num_input_tokens_seen")
PARAMS_ALIASES = ("params", "n_params", "num_params")
FLOPS_ALIASES = ("flops", "total_flops", "train/flops")
RUN_ALIASES = ("run", "run_name", "run_id")

POINT_N_ALIASES = ("n", "params", "n_params", "num_params", "parameters", "model size", "model_size", "model_params")
POINT_D_ALIASES = ("d", "tokens", "n_tokens", "num_tokens", "training tokens", "training_tokens", "train_tokens", "data_size")
POINT_C_ALIASES = ("c", "flops", "training flop", "training flops", "training_flops", "compute", "flops_6nd", "train_flops")
POINT_LOSS_ALIASES = ("loss", "final_loss", "val_loss", "eval_loss", "validation_loss", "train_loss", "test_loss")
POINT_RUN_ALIASES = ("run", "run_name", "name", "run_id")

# A Lightning LearningRateMonitor names its column after the optimizer: lr-AdamW, lr-SGD/pg1 ...
_LR_PREFIX = re.compile(r"^lr-[A-Za-z]")


@dataclass(frozen=True)
class ColumnChoice:
    """Column names the user gave explicitly (``--step-col`` etc.), or None."""

    step: str | None = None
    loss: str | None = None
    lr: str | None = None
    run: str | None = None
    split: str | None = None  # "train" or "val": keep only that loss


@dataclass
class Records:
    """One file's logged records before they become a canonical table."""

    frame: pd.DataFrame  # columns as logged + ROW
    source: str  # file name for messages / the source column
    where: Callable[[int], str]  # ROW -> "row 5 (line 6)"
    run: str  # run name when the file has no run column
    step_aliases: Sequence[str] = STEP_ALIASES
    notes: list[str] = field(default_factory=list)
    #: column -> bool mask (aligned with `frame`) of cells that held a literal NaN
    #: token, for readers whose parser turns them into NaN before :func:`to_float` sees them
    nan_cells: dict[str, np.ndarray] = field(default_factory=dict)
    #: every column of the file in order, when `frame` holds only those a curve can use
    #: (see :func:`curve_column_role`); None when `frame` holds them all
    columns: list[str] | None = None

    def column_names(self) -> list[str]:
        """The file's columns (not ROW), in file order, for choosing and for messages."""
        if self.columns is not None:
            return list(self.columns)
        return [c for c in self.frame.columns if c != ROW]


def find_column(columns: Sequence[str], aliases: Sequence[str]) -> str | None:
    """First column whose lower-cased name is in `aliases`, in alias priority order."""
    lower: dict[str, str] = {}
    for c in columns:
        lower.setdefault(str(c).strip().lower(), c)
    for a in aliases:
        if a in lower:
            return lower[a]
    return None


def explicit_column(columns: Sequence[str], name: str, *, flag: str, source: str) -> str:
    """The column the user named, matched exactly then case-insensitively, or a DataError."""
    if name in columns:
        return name
    found = find_column(columns, (name.strip().lower(),))
    if found is None:
        raise DataError(f"{source}: no column '{name}' (from {flag}); columns found: {list_columns(columns)}")
    return found


def list_columns(columns: Sequence[str]) -> str:
    cols = [str(c) for c in columns if c != ROW]
    shown = ", ".join(repr(c) for c in cols[:30])
    return shown + (f" ... ({len(cols)} in all)" if len(cols) > 30 else "")


#: Cell texts that mean "this value is NaN" (a diverged loss, a logger's NaN), as opposed to
#: an empty cell ("not logged"). Both become NaN; the first kind is noted.
NAN_TOKENS = frozenset({"nan", "-nan", "+nan"})
#: Cell texts that loggers and pandas write for "no value"; read as not logged.
MISSING_TOKENS = frozenset({"", "null", "none", "na", "n/a", "<na>", "#n/a", "nat"})


def _cell_float(v) -> tuple[float, bool, bool]:
    """One cell as (value, is_nan_token, is_bad)."""
    if v is None or v is pd.NA:
        return np.nan, False, False
    if isinstance(v, (bool, np.bool_)):
        return np.nan, False, True  # TRUE/FALSE are not numbers here
    if isinstance(v, (int, np.integer)):
        try:
            return float(v), False, False
        except OverflowError:  # a JSON integer beyond float range
            return (np.inf if v > 0 else -np.inf), False, False
    if isinstance(v, (float, np.floating)):
        return float(v), False, False
    if isinstance(v, str):
        t = v.strip()
        low = t.lower()
        if low in NAN_TOKENS:
            return np.nan, True, False
        if low in MISSING_TOKENS:
            return np.nan, False, False
        try:
            return float(t), False, False
        except ValueError:
            return np.nan, False, True
    return np.nan, False, True  # a list, an object, ...


def to_float(
    frame: pd.DataFrame, col: str, *, source: str, where: Callable[[int], str]
) -> tuple[np.ndarray, np.ndarray]:
    """Column `col` as float64, and where it held a literal NaN token.

    Empty cells (and ``null``/``NA``-style markers) become NaN; a literal
    ``nan``/``NaN`` cell also becomes NaN but is flagged in the returned mask
    so the loader can say so; text, booleans and nested JSON are a DataError
    naming the cell. Numeric columns take the fast path (no Python loop).

    Returns
    -------
    values : ndarray float64, shape (n,)
    nan_token : ndarray bool, shape (n,)
    """
    s = frame[col]
    n = len(s)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan), np.zeros(n, dtype=bool)
    values = np.empty(n, dtype=float)
    token = np.zeros(n, dtype=bool)
    for i, v in enumerate(s.to_numpy(dtype=object)):
        values[i], token[i], bad = _cell_float(v)
        if bad:
            value = str(v)
            if len(value) > 40:
                value = value[:37] + "..."
            raise DataError(
                f"{source}: non-numeric value {value!r} at {where(int(frame[ROW].iloc[i]))}, column '{col}'; "
                "use plain numbers (empty cells are fine for values that were not logged)"
            )
    return values, token


def _json_int(text: str):
    # Python ints are exact but unbounded: 10**400 cannot become a float later, and
    # int() refuses more than 4300 digits. Long ones are read as floats (maybe inf),
    # which the table checks then reject with the row and column.
    return int(text) if len(text) <= 15 else float(text)


#: The whitespace json.loads skips around and between values (str.strip would skip more).
JSON_SPACE = " \t\n\r"


def parse_json(text: str, *, what: str):
    """Parse JSON text the way every loader does, or raise a DataError about `what`.

    ``NaN``/``Infinity`` tokens come back as the strings ``"NaN"``/``"Infinity"``
    (:func:`to_float` reads them and flags NaN); integers of more than 15 digits
    come back as floats; nesting too deep for Python's parser is a DataError, not
    a RecursionError.
    """
    import json

    try:
        return json.loads(text, parse_int=_json_int, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise DataError(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); fix or delete it") from None
    except RecursionError:
        raise DataError(f"{what} nests arrays or objects too deeply to read; a log holds flat records") from None


def json_document(text: str, *, what: str):
    """``(True, value)`` when `text` is one JSON document, ``(False, None)`` when it is not
    (e.g. JSON lines); nesting too deep to parse is a DataError."""
    import json

    try:
        return True, json.loads(text, parse_int=_json_int, parse_constant=str)
    except json.JSONDecodeError:
        return False, None
    except RecursionError:
        raise DataError(f"{what} nests arrays or objects too deeply to read; a log holds flat records") from None


def is_wandb_dump(obj) -> bool:
    """Is this parsed JSON a W&B run dump (an object with a ``history`` list or table)?

    Here rather than in :mod:`scaling.loaders.wandb` because the JSONL
    reader asks it too, to say what a JSON document holds.
    """
    return isinstance(obj, dict) and isinstance(obj.get("history"), (list, dict))


def describe_json(obj) -> str:
    """A few words on what a JSON value holds, for "not this format" messages."""
    if isinstance(obj, dict):
        keys = [str(k) for k in list(obj)[:8]]
        more = f" ... ({len(obj)} in all)" if len(obj) > 8 else ""
        return f"one JSON object with keys {', '.join(repr(k) for k in keys)}{more}" if keys else "an empty JSON object"
    if isinstance(obj, list):
        kinds = sorted({type(x).__name__ for x in obj[:100]})
        return f"a JSON array of {len(obj)} item{'s' * (len(obj) != 1)}" + (f" ({', '.join(kinds)})" if kinds else "")
    return f"a single JSON {type(obj).__name__}"


def _split_of(name: str) -> str:
    low = name.lower()
    return "val" if any(k in low for k in ("val", "eval", "valid", "test")) else "train"


@dataclass(frozen=True)
class CurveColumns:
    """Which input columns a curve table is built from."""

    step: str
    loss: Mapping[str, str]  # split -> column
    numeric: Mapping[str, str]  # key ("step", "loss:train", "lr", "tokens" ...) -> column
    run: str | None

    def needed(self) -> list[str]:
        """Every column read (so a loader can skip the others)."""
        cols = list(dict.fromkeys(self.numeric.values()))
        return cols + ([self.run] if self.run is not None and self.run not in cols else [])


def choose_curve_columns(
    cols: Sequence[str], choice: ColumnChoice, *, source: str, step_aliases: Sequence[str] = STEP_ALIASES
) -> CurveColumns:
    """Pick the step / loss / LR / run / extra columns of a log by alias or by the user's names.

    Raises
    ------
    DataError
        No step column, no loss column (or none of the chosen split), or an
        explicit name that is not a column.
    """
    cols = [c for c in cols if c != ROW]
    src = source

    def pick(explicit: str | None, aliases: Sequence[str], flag: str) -> str | None:
        if explicit is not None:
            return explicit_column(cols, explicit, flag=flag, source=src)
        return find_column(cols, aliases)

    step_col = pick(choice.step, step_aliases, "--step-col")
    if step_col is None:
        sizes = sum(has_any(cols, a) for a in (POINT_N_ALIASES, POINT_D_ALIASES, POINT_C_ALIASES))
        hint = " (this looks like a final-loss table: use scaling.load_points)" if sizes >= 2 else ""
        raise DataError(
            f"{src}: no step column (looked for {', '.join(step_aliases)}); columns found: "
            f"{list_columns(cols)}; name it with --step-col{hint}"
        )
    if choice.loss is not None:
        col = explicit_column(cols, choice.loss, flag="--loss-col", source=src)
        loss_cols = {choice.split or _split_of(col): col}
    else:
        loss_cols = {}
        for split, aliases in (("train", TRAIN_LOSS_ALIASES), ("val", VAL_LOSS_ALIASES)):
            col = find_column(cols, aliases)
            if col is not None:
                loss_cols[split] = col
        if choice.split is not None:
            if choice.split not in loss_cols:
                aliases = TRAIN_LOSS_ALIASES if choice.split == "train" else VAL_LOSS_ALIASES
                raise DataError(
                    f"{src}: no {choice.split} loss column (looked for {', '.join(aliases)}); "
                    f"columns found: {list_columns(cols)}; name it with --loss-col"
                )
            loss_cols = {choice.split: loss_cols[choice.split]}
    if not loss_cols:
        raise DataError(
            f"{src}: no loss column (looked for {', '.join(TRAIN_LOSS_ALIASES + VAL_LOSS_ALIASES)}); "
            f"columns found: {list_columns(cols)}; name it with --loss-col"
        )
    lr_col = pick(choice.lr, LR_ALIASES, "--lr-col")
    if lr_col is None:
        lr_col = next((c for c in cols if _LR_PREFIX.match(str(c))), None)
    run_col = pick(choice.run, RUN_ALIASES, "--run-col")

    num = {"step": step_col, **{f"loss:{s}": c for s, c in loss_cols.items()}}
    if lr_col is not None:
        num["lr"] = lr_col
    for key, aliases in (("tokens", TOKENS_ALIASES), ("params", PARAMS_ALIASES), ("flops", FLOPS_ALIASES)):
        c = find_column(cols, aliases)
        if c is not None and c not in num.values():
            num[key] = c
    return CurveColumns(step=step_col, loss=loss_cols, numeric=num, run=run_col)


def curve_column_role(choice: ColumnChoice, step_aliases: Sequence[str] = STEP_ALIASES) -> Callable[[str], str | None]:
    """``role(column)``: how :func:`choose_curve_columns` could use a column of a curve log.

    ``"text"`` for a possible run column, ``"number"`` for a possible step,
    loss, LR, tokens, params or FLOPs column, None for a column no choice can
    pick. A reader may skip None columns and store "number" columns as
    float64; it must mirror choose_curve_columns (aliases compared
    case-insensitively after stripping, explicit names likewise, the
    ``lr-<optimizer>`` prefix).
    """
    numeric = {a.strip().lower() for a in (*step_aliases, *TRAIN_LOSS_ALIASES, *VAL_LOSS_ALIASES, *LR_ALIASES,
                                          *TOKENS_ALIASES, *PARAMS_ALIASES, *FLOPS_ALIASES)}
    numeric |= {n.strip().lower() for n in (choice.step, choice.loss, choice.lr) if n is not None}
    text = {a.strip().lower() for a in RUN_ALIASES} | ({choice.run.strip().lower()} if choice.run is not None else set())

    def role(col: str) -> str | None:
        low = str(col).strip().lower()
        if low in text:
            return "text"
        if low in numeric or _LR_PREFIX.match(str(col)):
            return "number"
        return None

    return role


def _rows_text(where: Callable[[int], str], rows: np.ndarray) -> str:
    shown = ", ".join(where(int(r)) for r in rows[:3])
    return shown + (f" ... ({len(rows)} in all)" if len(rows) > 3 else "")


def curves_from_records(rec: Records, choice: ColumnChoice) -> pd.DataFrame:
    """Pick step/loss/lr/run columns of one file's records and build the canonical table."""
    f = rec.frame
    cols = rec.column_names()
    src = rec.source
    if len(f) == 0:
        raise DataError(f"{src}: no data rows (columns found: {list_columns(cols)}); the log is empty")
    chosen = choose_curve_columns(cols, choice, source=src, step_aliases=rec.step_aliases)
    num = dict(chosen.numeric)
    raw: dict = {}
    notes = list(rec.notes)
    for key, c in num.items():
        raw[key], token = to_float(f, c, source=src, where=rec.where)
        if c in rec.nan_cells:
            token = token | rec.nan_cells[c]
        if token.any() and (key.startswith("loss:") or key == "lr"):
            what = "loss" if key != "lr" else "learning rate"
            hint = " (a NaN loss usually means the run diverged there)" if key != "lr" else ""
            notes.append(
                f"{src}: column '{c}' holds a literal NaN {what} in {int(token.sum())} row{'s' * (int(token.sum()) != 1)} "
                f"({_rows_text(rec.where, f[ROW].to_numpy()[token])}); read as not logged{hint}"
            )
    run_col = chosen.run
    if run_col is not None:
        runs = f[run_col]
        empty = runs.isna() | (runs.astype("str").str.strip() == "")
        logged = np.zeros(len(f), dtype=bool)
        for key in num:
            if key != "step":
                logged |= ~np.isnan(raw[key])
        bad = empty.to_numpy() & logged
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{src}: empty run name at {rec.where(int(f[ROW].iloc[i]))}, column '{run_col}'; fill it in")
        raw["run"] = runs.astype("str").str.strip().to_numpy()
    else:
        raw["run"] = pd.Categorical.from_codes(np.zeros(len(f), dtype=np.int8), [rec.run])
    raw[ROW] = f[ROW].to_numpy()
    names = {key: str(c) for key, c in num.items()}
    out = tidy_curves(
        pd.DataFrame(raw, copy=False),
        loss_columns={s: f"loss:{s}" for s in chosen.loss},
        source=src,
        where=rec.where,
        names=names,
    )
    out.attrs["notes"] = notes + out.attrs.get("notes", [])
    out.attrs["named_by_file"] = run_col is None
    return out


@dataclass(frozen=True)
class PointColumns:
    """Explicit column names for a points table, or None to use aliases."""

    N: str | None = None
    D: str | None = None
    C: str | None = None
    loss: str | None = None
    run: str | None = None


def points_from_records(rec: Records, choice: PointColumns) -> pd.DataFrame:
    """Pick run/N/D/C/loss columns of a points file and build the canonical points table."""
    f = rec.frame
    cols = rec.column_names()
    src = rec.source
    if len(f) == 0:
        raise DataError(f"{src}: no data rows (columns found: {list_columns(cols)}); the table is empty")
    chosen: dict[str, str | None] = {}
    for key, aliases, flag in (
        ("N", POINT_N_ALIASES, "--n-col"),
        ("D", POINT_D_ALIASES, "--d-col"),
        ("C", POINT_C_ALIASES, "--c-col"),
        ("loss", POINT_LOSS_ALIASES, "--loss-col"),
        ("run", POINT_RUN_ALIASES, "--run-col"),
    ):
        explicit = getattr(choice, key)
        if explicit is not None:
            chosen[key] = explicit_column(cols, explicit, flag=flag, source=src)
        else:
            c = find_column(cols, aliases)
            chosen[key] = c if c not in chosen.values() else None
    frame = f
    numeric = {k: c for k, c in chosen.items() if c is not None and k != "run"}
    if numeric:
        frame = f.assign(**{c: to_float(f, c, source=src, where=rec.where)[0] for c in numeric.values()})
    stem = Path(src).stem if src != "<arrays>" else "row"
    out = tidy_points(frame, columns=chosen, source=src, where=rec.where, default_run=lambda r: f"{stem}/{r}")
    out.attrs["notes"] = rec.notes + out.attrs.get("notes", [])
    return out


def has_any(columns: Sequence[str], aliases: Sequence[str]) -> bool:
    return find_column(columns, aliases) is not None
