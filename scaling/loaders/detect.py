"""Which format is a file in, and is it a loss-curve log or a final-loss points table?

Detection looks at the name first, then at the header (first line or first
JSON record); ``--format`` / ``format=`` overrides it. Formats:

=============== ==============================================================
``csv``         plain CSV (also TSV, sniffed from the header or ``.tsv``)
``tsv``         tab-separated, forced
``jsonl``       one JSON object per line
``wandb``       W&B history export (CSV or JSONL with ``_step``, ``_runtime``,
                ``_timestamp``; sparse rows), or a W&B run dump (one JSON
                document with ``history``, ``config``, ``summary``)
``wandb-panel`` W&B chart ("panel") CSV export: ``"<run> - <metric>"`` columns
                with ``__MIN``/``__MAX`` variants, several runs per file
``huggingface`` Hugging Face ``trainer_state.json`` (``log_history``)
``lightning``   PyTorch Lightning ``CSVLogger`` ``metrics.csv``
``tensorboard`` TensorBoard event file or folder of them (needs ``tbparse``)
=============== ==============================================================
"""

from __future__ import annotations

from pathlib import Path

from scaling.errors import DataError
from scaling.loaders import _common as c

FORMATS = ("csv", "tsv", "jsonl", "wandb", "wandb-panel", "huggingface", "lightning", "tensorboard")
FORMAT_ALIASES = {"hf": "huggingface", "trainer_state": "huggingface", "tb": "tensorboard", "ndjson": "jsonl", "wandb-history": "wandb"}

_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".log", ""}


def normalize_format(name: str) -> str:
    """Canonical format name for `name` (``hf`` -> ``huggingface`` ...) or a DataError."""
    key = name.strip().lower()
    key = FORMAT_ALIASES.get(key, key)
    if key not in FORMATS:
        raise DataError(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
    return key


def is_tensorboard_dir(path: Path) -> bool:
    return path.is_dir() and next(path.rglob("*tfevents*"), None) is not None


def _first_json(path: Path) -> dict | None:
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                whole, obj = c.json_document(line, what=f"{path}: line 1")
                return obj if whole and isinstance(obj, dict) else None
    return None


def header_columns(path: Path) -> list[str]:
    """Column names of a CSV/TSV/JSONL file (first line / first record), best effort."""
    from scaling.loaders.csv import header_line

    if path.suffix.lower() in (".jsonl", ".ndjson"):
        first = _first_json(path)
        return list(first) if first else []
    head = header_line(path)
    sep = "\t" if "\t" in head and "," not in head else ","
    import csv as _csv

    try:
        return [col.strip() for col in next(_csv.reader([head], delimiter=sep))]
    except StopIteration:
        return []


def _is_panel(cols: list[str]) -> bool:
    metric_cols = [x for x in cols if " - " in x]
    return bool(metric_cols) and (
        any(x.endswith(("__MIN", "__MAX")) for x in metric_cols) or len(metric_cols) == len(cols) - 1
    )


def detect_format(path: Path) -> str:
    """Guess the format of one file or folder (see the module table)."""
    path = Path(path)
    if path.is_dir():
        if is_tensorboard_dir(path):
            return "tensorboard"
        raise DataError(f"{path}: is a folder with no TensorBoard event files; pass the files in it")
    name = path.name.lower()
    suffix = path.suffix.lower()
    if "tfevents" in name:
        return "tensorboard"
    if name == "trainer_state.json":
        return "huggingface"
    if suffix in (".jsonl", ".ndjson"):
        cols = header_columns(path)
        if not cols:
            # Not one record per line: maybe one pretty-printed JSON document.
            kind = _document_kind(path)
            if kind is not None:
                return kind
        return "wandb" if "_step" in cols and ("_runtime" in cols or "_timestamp" in cols) else "jsonl"
    if suffix == ".json":
        from scaling.loaders.csv import check_not_empty

        check_not_empty(path)
        whole, obj = c.json_document(path.read_text(encoding="utf-8", errors="replace"), what=str(path))
        if not whole:
            # Maybe JSON lines saved as .json.
            if _first_json(path) is not None:
                return "jsonl"
            raise DataError(f"{path}: is not valid JSON nor JSON lines; check the file, or pass --format")
        kind = _document_kind(path, obj)
        if kind is not None:
            return kind
        raise DataError(
            f"{path}: cannot tell the format: it holds {c.describe_json(obj)}, no log format read here (a Hugging Face "
            "trainer_state.json has 'log_history', a W&B run dump has 'history'); export the log as "
            "CSV or JSON lines, or pass --format"
        )
    if suffix in _TEXT_SUFFIXES:
        from scaling.loaders.csv import check_not_empty

        check_not_empty(path)
        head = _text_head(path)
        if head.lstrip().startswith("{"):
            return "jsonl"
        if "," not in head and "\t" not in head and suffix not in (".csv", ".tsv"):
            return _unknown(path)
        cols = header_columns(path)
        if _is_panel(cols):
            return "wandb-panel"
        if "_step" in cols and ("_runtime" in cols or "_timestamp" in cols):
            return "wandb"
        if name == "metrics.csv" and "step" in cols and "epoch" in cols:
            return "lightning"
        return "tsv" if suffix == ".tsv" else "csv"
    return _unknown(path)


def _document_kind(path: Path, obj=None) -> str | None:
    """"huggingface" / "wandb" for a JSON document of those kinds, else None."""
    if obj is None:
        whole, obj = c.json_document(path.read_text(encoding="utf-8", errors="replace"), what=str(path))
        if not whole:
            return None
    if isinstance(obj, dict) and "log_history" in obj:
        return "huggingface"
    if c.is_wandb_dump(obj):
        return "wandb"
    return None


def _text_head(path: Path) -> str:
    from scaling.loaders.csv import header_line

    return header_line(path)


def _unknown(path: Path) -> str:
    raise DataError(
        f"{path}: cannot tell the format (extension '{path.suffix or 'none'}'); "
        f"pass --format with one of {', '.join(FORMATS)}"
    )


def detect_table_kind(path: Path | str, *, format: str | None = None) -> str:
    """``"curves"`` or ``"points"``; see :func:`_table_kind`. Unreadable files are a DataError."""
    try:
        return _table_kind(path, format=format)
    except OSError as exc:  # permissions, a vanished file, a device ...
        raise DataError(f"{exc.filename or path}: cannot read ({exc.strerror or exc}); check the file's permissions") from None


def _table_kind(path: Path | str, *, format: str | None = None) -> str:
    """``"curves"`` for a training-log file, ``"points"`` for a final-loss table.

    A CSV/TSV/JSONL file is a points table when it has no step column but
    has a loss column and at least two of N / D / C (``params``,
    ``Model Size``, ``tokens``, ``flops``, ``Training FLOP`` ...). Every
    other format (W&B, Hugging Face, Lightning, TensorBoard) holds curves.
    A folder or glob pattern gets the kind its files share (a DataError when
    they mix both kinds).
    """
    path = Path(path)
    if (path.is_dir() and not is_tensorboard_dir(path)) or not path.exists():
        # A folder or a glob: the kind its files share.
        from scaling.loaders import expand_paths

        files = [p for p in expand_paths([str(path)]) if p != path]
        kinds = {_table_kind(p, format=format) for p in files} or {"curves"}
        if len(kinds) > 1:
            raise DataError(f"{path}: mixes loss-curve logs and final-loss tables; pass them separately")
        return kinds.pop()
    fmt = normalize_format(format) if format else detect_format(path)
    if fmt not in ("csv", "tsv", "jsonl"):
        return "curves"
    cols = header_columns(path)
    if c.has_any(cols, c.STEP_ALIASES):
        return "curves"
    sizes = sum(c.has_any(cols, a) for a in (c.POINT_N_ALIASES, c.POINT_D_ALIASES, c.POINT_C_ALIASES))
    return "points" if sizes >= 2 and c.has_any(cols, c.POINT_LOSS_ALIASES) else "curves"


# Names that say nothing about the run; the run is then named after the folder.
_GENERIC_STEMS = {"metrics", "trainer_state", "history", "wandb-history", "wandb_history", "log", "logs", "events", "train", "loss"}


def run_name_from_path(path: Path) -> str:
    """Run name for a file without a run column: its stem, or its folder for generic names.

    ``runs/cosine.csv`` -> ``cosine``; ``out/lightning_logs/version_0/metrics.csv`` ->
    ``version_0``; ``out/my-run/checkpoint-500/trainer_state.json`` -> ``my-run``.
    """
    path = Path(path).resolve() if not Path(path).is_absolute() else Path(path)
    if path.is_dir():
        return path.name
    stem = path.name.split(".tfevents")[0] if "tfevents" in path.name else path.stem
    if stem.lower() in _GENERIC_STEMS or "tfevents" in path.name:
        parent = path.parent
        if parent.name.startswith("checkpoint-") and parent.parent.name:
            parent = parent.parent
        return parent.name or stem
    return stem
