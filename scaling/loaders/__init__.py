"""Read training logs into the canonical tables of :mod:`scaling.runs`.

:func:`load` reads loss-curve logs (CSV/TSV, JSONL, W&B history and chart
exports, Hugging Face ``trainer_state.json``, Lightning ``metrics.csv``,
TensorBoard) into one curve table; :func:`load_points` reads final-loss
tables (N, D, C, loss). Formats are detected (:mod:`scaling.loaders.detect`)
unless ``format=`` is given. Inputs are never modified.

Paths may be files, folders (every log file in it: ``*.csv``, ``*.tsv``,
``*.jsonl``, ``trainer_state.json``, TensorBoard event files; a folder
holding event files is read as one TensorBoard log) or glob patterns
(``"runs/**/*.csv"``). Without a run column each file is one run, named
after the file (``cosine.csv`` -> ``cosine``); runs that would share a name
get their folder prefixed (``csv_25/cosine``).
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from scaling.errors import DataError
from scaling.loaders._common import ColumnChoice, PointColumns
from scaling.loaders.detect import (
    FORMATS,
    detect_format,
    detect_table_kind,
    is_tensorboard_dir,
    normalize_format,
    run_name_from_path,
)

__all__ = ["FORMATS", "load", "load_points", "expand_paths", "detect_format", "detect_table_kind"]

_LOG_PATTERNS = ("*.csv", "*.tsv", "*.jsonl", "*.ndjson", "trainer_state.json")


def expand_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Files (and TensorBoard folders) named by `paths`: files, folders or glob patterns.

    Raises
    ------
    DataError
        A path that does not exist, a pattern that matches nothing, or a
        folder with no log files.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in paths:
        text = str(p)
        path = Path(text).expanduser()
        if path.is_dir():
            out.extend(_folder_files(path))
        elif path.exists():
            out.append(path)
        elif path.is_symlink():
            raise DataError(f"{text}: is a symbolic link to nothing readable ({_link_problem(path)}); fix or remove the link")
        elif any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            # A symlink loop or a dangling link matched by the pattern is neither a
            # file nor a folder; it holds no log, so it is skipped.
            found = [Path(m) for m in matches if Path(m).is_dir() or Path(m).is_file()]
            if not found:
                raise DataError(f"no files match {text!r}; check the pattern (quote it so the shell leaves ** alone)")
            for mp in found:
                out.extend(_folder_files(mp) if mp.is_dir() else [mp])
        else:
            raise DataError(f"file not found: {text}; check the path")
    seen: set[Path] = set()
    unique = []
    for p in out:
        try:
            key = p.resolve()
        except (OSError, RuntimeError):  # a symlink loop on the way (RuntimeError before Python 3.13)
            key = p.absolute()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _link_problem(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "a symlink loop"
    except OSError as exc:
        return exc.strerror or str(exc)
    return "unreadable"


def _folder_files(folder: Path) -> list[Path]:
    """Log files of a folder: its own log files first (a Hugging Face output folder also holds a
    ``runs/`` TensorBoard copy of the same numbers), else the folder as one TensorBoard log,
    else log files one level down (``lightning_logs/version_*/metrics.csv``)."""
    found: list[Path] = []
    for pattern in _LOG_PATTERNS:
        found.extend(folder.glob(pattern))
    found = [f for f in found if f.is_file()]  # drops symlink loops and dangling links
    if not found and is_tensorboard_dir(folder):
        return [folder]
    if not found:
        for pattern in _LOG_PATTERNS:
            found.extend(f for f in folder.glob(f"*/{pattern}") if f.is_file())
    if not found:
        raise DataError(
            f"{folder}: no log files in this folder (looked for {', '.join(_LOG_PATTERNS)} and TensorBoard events)"
        )
    return sorted(set(found))


def _load_one(path: Path, fmt: str | None, choice: ColumnChoice):
    try:
        return _read_one(path, fmt or detect_format(path), choice)
    except OSError as exc:  # permissions, a vanished file, a device ...
        raise DataError(f"{path}: cannot read ({exc.strerror or exc}); check the file's permissions") from None


def _read_one(path: Path, fmt: str, choice: ColumnChoice):
    from scaling.loaders import csv, huggingface, jsonl, lightning, tensorboard, wandb

    run = run_name_from_path(path)
    if fmt == "csv":
        return csv.load_csv(path, choice, run=run)
    if fmt == "tsv":
        return csv.load_csv(path, choice, run=run, sep="\t")
    if fmt == "jsonl":
        return jsonl.load_jsonl(path, choice, run=run)
    if fmt == "wandb":
        return wandb.load_wandb_history(path, choice, run=run)
    if fmt == "wandb-panel":
        return wandb.load_wandb_panel(path, choice)
    if fmt == "huggingface":
        return huggingface.load_huggingface(path, choice, run=run)
    if fmt == "lightning":
        return lightning.load_lightning(path, choice, run=run)
    if fmt == "tensorboard":
        return tensorboard.load_tensorboard(path, choice, run=run)
    raise AssertionError(fmt)  # pragma: no cover - normalize_format guards this


def _disambiguate(tables: list, paths: list[Path]) -> list[str]:
    """Give runs whose names clash across files a folder (or file) prefix; returns notes."""
    import pandas as pd

    named = [t.attrs.get("named_by_file", False) for t in tables]
    names = [list(pd.unique(t["run"])) for t in tables]
    counts: dict[str, int] = {}
    for ns in names:
        for n in ns:
            counts[n] = counts.get(n, 0) + 1
    renamed: list[tuple[str, str]] = []
    for i, (t, path) in enumerate(zip(tables, paths)):
        clash = [n for n in names[i] if counts[n] > 1]
        if not clash:
            continue
        if named[i]:
            parent = path.resolve().parent
            if path.name.lower() in ("metrics.csv", "trainer_state.json") or "tfevents" in path.name:
                parent = parent.parent
            prefix = parent.name
        else:
            prefix = path.stem
        mapping = {n: f"{prefix}/{n}" for n in clash}
        attrs = t.attrs
        tables[i] = t.assign(run=t["run"].replace(mapping))
        tables[i].attrs = attrs
        renamed.extend(mapping.items())
    if not renamed:
        return []
    old, new = renamed[0]
    return [f"{len(renamed)} run names were used by more than one file; prefixed with their folder or file (e.g. {old} -> {new})"]


def load(
    paths,
    *,
    format: str | None = None,
    step_col: str | None = None,
    loss_col: str | None = None,
    lr_col: str | None = None,
    run_col: str | None = None,
    split: str | None = None,
):
    """Load loss-curve logs into one canonical curve table.

    Parameters
    ----------
    paths : str, Path or list of them
        Files, folders or glob patterns (see module docstring), or shipped
        datasets as ``"dataset:NAME"`` / ``"dataset:NAME/RUN"``
        (:mod:`scaling.datasets`; the column options apply to files only).
    format : str, optional
        Force a format: one of :data:`FORMATS` (``csv``, ``tsv``, ``jsonl``,
        ``wandb``, ``wandb-panel``, ``huggingface``, ``lightning``,
        ``tensorboard``; aliases ``hf``, ``tb``). Default: detect per file.
    step_col, loss_col, lr_col, run_col : str, optional
        Column names to use instead of the aliases.
    split : {"train", "val"}, optional
        Keep only that loss (default: keep both when both are logged). With
        `loss_col`, the split that column is labelled with.

    Returns
    -------
    DataFrame
        Canonical curve table (``run, step, loss, lr, split, [tokens, params,
        flops,] source``); ``attrs["notes"]`` lists sorted rows, merged
        resumes, steps logged twice, literal NaN losses, renamed runs and
        skipped summary rows; ``attrs["files"]`` the files read.

    Raises
    ------
    DataError
        One line naming the file, row and column, and how to fix it: also
        for a file with no loss values at all (never an empty table), steps
        above 2^53, unreadable files and symlink loops.

    Examples
    --------
    >>> import scaling
    >>> table = scaling.load("runs/")  # doctest: +SKIP
    >>> lr, step, loss = scaling.curve_arrays(table, "cosine", warmup_steps=500)  # doctest: +SKIP
    """
    import pandas as pd

    if split is not None and split not in ("train", "val"):
        raise DataError(f"unknown split {split!r}; use 'train' or 'val'")
    from scaling.datasets import load_sources, split_sources

    sources, rest = split_sources(paths)
    if sources:  # shipped datasets ("dataset:NAME[/RUN]"); the other inputs are read as files
        table = load(rest, format=format, step_col=step_col, loss_col=loss_col, lr_col=lr_col, run_col=run_col,
                     split=split) if rest else None
        return load_sources(sources, kind="curves", split=split, with_table=table)
    fmt = normalize_format(format) if format else None
    choice = ColumnChoice(step=step_col, loss=loss_col, lr=lr_col, run=run_col, split=split)
    files = expand_paths(paths)
    if not files:
        raise DataError("no input files given; pass log files, folders or glob patterns")
    tables = [_load_one(p, fmt, choice) for p in files]
    notes: list[str] = []
    for t in tables:
        notes.extend(t.attrs.get("notes", []))
    notes.extend(_disambiguate(tables, files))
    out = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    extras = [c for c in ("tokens", "params", "flops") if c in out.columns]
    out = out[["run", "step", "loss", "lr", "split", *extras, "source"]]
    out.attrs = {"notes": notes, "files": [str(p) for p in files]}
    return out


def load_points(
    paths,
    *,
    format: str | None = None,
    n_col: str | None = None,
    d_col: str | None = None,
    c_col: str | None = None,
    loss_col: str | None = None,
    run_col: str | None = None,
):
    """Load final-loss tables (one row per trained model) into one canonical points table.

    Columns are found by alias: N (``N``, ``params``, ``Model Size`` ...),
    D (``D``, ``tokens``, ``Training Tokens`` ...), C (``C``, ``flops``,
    ``Training FLOP``, ``compute`` ...), ``loss``, ``run``/``name``. Two of N,
    D, C are needed; the third is derived with C = 6 N D and noted in
    ``attrs["derived"]`` and ``attrs["notes"]``.

    Parameters
    ----------
    paths : str, Path or list of them
        CSV/TSV/JSONL files, folders or glob patterns, or shipped datasets
        as ``"dataset:NAME"`` / ``"dataset:NAME/RUN"`` (:mod:`scaling.datasets`).
    format : {"csv", "tsv", "jsonl"}, optional
    n_col, d_col, c_col, loss_col, run_col : str, optional
        Column names to use instead of the aliases.

    Returns
    -------
    DataFrame
        ``run, N, D, C, loss, source`` + the file's other columns;
        ``attrs["derived"]``, ``attrs["notes"]`` and ``attrs["files"]`` as for :func:`load`.

    Examples
    --------
    >>> pts = load_points("svg_extracted_data.csv")  # Model Size, Training FLOP, loss  # doctest: +SKIP
    >>> pts.attrs["derived"]  # doctest: +SKIP
    {'D': 'C / (6 N)'}
    """
    import pandas as pd

    from scaling.datasets import load_sources, split_sources
    from scaling.loaders import csv, jsonl

    sources, rest = split_sources(paths)
    if sources:  # shipped datasets ("dataset:NAME[/RUN]"); the other inputs are read as files
        table = load_points(rest, format=format, n_col=n_col, d_col=d_col, c_col=c_col, loss_col=loss_col,
                            run_col=run_col) if rest else None
        return load_sources(sources, kind="points", with_table=table)
    choice = PointColumns(N=n_col, D=d_col, C=c_col, loss=loss_col, run=run_col)
    fmt = normalize_format(format) if format else None
    tables = []
    files = expand_paths(paths)
    if not files:
        raise DataError("no input files given; pass final-loss tables, folders or glob patterns")
    for p in files:
        try:
            f = fmt or detect_format(p)
            if f not in ("csv", "tsv", "jsonl"):
                raise DataError(
                    f"{p}: a {f} log holds loss curves, not a final-loss table; "
                    "use scaling.load, or pass a CSV with two of N, D, C and a loss column"
                )
            reader = jsonl.load_points_jsonl if f == "jsonl" else csv.load_points_csv
            tables.append(reader(p, choice))
        except OSError as exc:
            raise DataError(f"{p}: cannot read ({exc.strerror or exc}); check the file's permissions") from None
    notes: list[str] = []
    derived: dict[str, str] = {}
    for t in tables:
        notes.extend(t.attrs.get("notes", []))
        derived.update(t.attrs.get("derived", {}))
    out = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    out.attrs = {"notes": notes, "derived": derived, "files": [str(p) for p in files]}
    return out
