"""``dataset:NAME[/RUN]`` sources: a shipped dataset named where a file path would go.

The loaders (:func:`scaling.load`, :func:`scaling.load_points`) hand such
strings here; everything else stays a file path. Several sources of one
dataset (``dataset:luo2025-25M/cosine_24000 dataset:luo2025-25M/wsdcon_9``)
load as one table; when runs of different sources share a name (two model
sizes, or a dataset next to the user's own ``cosine_24000.csv``) the
dataset's runs are prefixed with the dataset name (``luo2025-25M/cosine_24000``)
and a note says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from scaling.errors import DataError

__all__ = ["DATASET_PREFIX", "is_dataset_source", "parse_source", "source_kind", "split_sources", "load_sources"]

DATASET_PREFIX = "dataset:"
_CURVE_ORDER = ("run", "step", "loss", "lr", "split", "tokens", "params", "flops", "source")
_POINT_ORDER = ("run", "N", "D", "C", "loss", "source")


def is_dataset_source(path) -> bool:
    """True for a string ``"dataset:..."`` that is not the name of an existing file."""
    return isinstance(path, str) and path.startswith(DATASET_PREFIX) and not Path(path).exists()


def parse_source(text: str) -> tuple[str, str | None]:
    """``"dataset:NAME/RUN"`` -> ``("NAME", "RUN")``; ``"dataset:NAME"`` -> ``("NAME", None)``.

    Raises
    ------
    DataError
        Text that does not start with ``dataset:`` or names no dataset.
    """
    if not text.startswith(DATASET_PREFIX):
        raise DataError(f"{text!r} is not a dataset source; write dataset:NAME or dataset:NAME/RUN")
    name, sep, run = text[len(DATASET_PREFIX):].partition("/")
    if not name:
        raise DataError(f"{text!r} names no dataset; write dataset:NAME, e.g. dataset:luo2025-25M")
    if sep and not run:
        raise DataError(f"{text!r} ends with '/' but names no run; write dataset:{name}/RUN or dataset:{name}")
    return name, (run if sep else None)


def source_kind(text: str) -> str:
    """``"curves"`` or ``"points"``: the table a ``dataset:NAME[/RUN]`` source loads as.

    Raises
    ------
    DataError
        Not a dataset source, or an unknown dataset.
    """
    from scaling.datasets import _info

    return _info(parse_source(text)[0]).kind


def split_sources(paths) -> tuple[list[str], list]:
    """Separate dataset sources from file paths.

    Parameters
    ----------
    paths : str, Path or iterable of them
        What a loader was given.

    Returns
    -------
    sources : list of str
        The ``dataset:...`` strings, in order.
    rest : list
        Everything else (files, folders, globs), in order.
    """
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    sources = [p for p in items if is_dataset_source(p)]
    rest = [p for p in items if not is_dataset_source(p)]
    return sources, rest


def _by_dataset(sources: Iterable[str]) -> dict[str, list[str] | None]:
    """Dataset name -> the runs asked for (None = all), merging repeated names."""
    wanted: dict[str, list[str] | None] = {}
    for text in sources:
        name, run = parse_source(text)
        if name in wanted and wanted[name] is None:
            continue
        if run is None:
            wanted[name] = None
        else:
            runs = wanted.setdefault(name, [])
            if run not in runs:
                runs.append(run)
    return wanted


def load_sources(sources: Iterable[str], *, kind: str, split: str | None = None,
                 with_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load ``dataset:`` sources as one canonical table, optionally joined to a table read from files.

    Parameters
    ----------
    sources : iterable of str
        ``dataset:NAME`` or ``dataset:NAME/RUN`` strings.
    kind : {"curves", "points"}
        The table the caller builds; a dataset of the other kind is an error.
    split : {"train", "val"}, optional
        Curves: keep only that loss (the Luo curves hold validation loss only).
    with_table : DataFrame, optional
        A table the caller loaded from the other (file) inputs; its rows come
        after the datasets' and its attrs are merged.

    Returns
    -------
    DataFrame
        Canonical table; ``attrs["notes"]``, ``attrs["files"]`` (the sources
        then the files) and, for points, ``attrs["derived"]``.

    Raises
    ------
    DataError
        Unknown dataset or run, wrong kind, or a split the dataset lacks.
    """
    from scaling.datasets import DATASETS, load_dataset

    wanted = _by_dataset(sources)
    tables, names = [], []
    for name, runs in wanted.items():
        table = load_dataset(name, runs)
        info = DATASETS[name]
        if info.kind != kind:
            use = "scaling.load_points (a final-loss law)" if info.kind == "points" else "scaling.load (a loss-curve law)"
            raise DataError(f"dataset:{name} is a {'final-loss points' if info.kind == 'points' else 'loss-curve'} "
                            f"table but {'loss curves' if kind == 'curves' else 'a final-loss points table'} "
                            f"were asked for; use {use}")
        if kind == "curves" and split is not None and not (table["split"] == split).any():
            have = ", ".join(sorted(set(table["split"])))
            raise DataError(f"dataset:{name} has no {split} loss (it has: {have}); drop --split or use split={have!r}")
        tables.append(table)
        names.append(name)
    renamed = _prefix_clashing_runs(tables, names, with_table)
    parts = list(tables) + ([with_table] if with_table is not None else [])
    notes = [n for t in parts for n in t.attrs.get("notes", [])] + renamed
    files = [f"dataset:{n}" for n in names] + list(with_table.attrs.get("files", []) if with_table is not None else [])
    attrs = {"notes": notes, "files": files}
    if kind == "points":
        derived: dict[str, str] = {}
        for t in parts:
            derived.update(t.attrs.get("derived", {}))
        attrs["derived"] = derived
    out = pd.concat([t for t in parts if len(t)], ignore_index=True) if len(parts) > 1 else parts[0]
    order = _CURVE_ORDER if kind == "curves" else _POINT_ORDER
    first = [c for c in order if c in out.columns]
    out = out[first + [c for c in out.columns if c not in first]]
    out.attrs = attrs
    return out


def _prefix_clashing_runs(tables: list[pd.DataFrame], names: list[str], other: pd.DataFrame | None) -> list[str]:
    """Prefix every run of a dataset with its name when one of its run names is used by another part.

    All runs of that dataset are renamed, not only the clashing ones, so one
    dataset's runs read alike (``luo2025-25M/wsdcon_3`` next to
    ``luo2025-25M/wsdcon_9``). Returns the notes.
    """
    run_sets = [set(t["run"]) for t in tables] + ([set(other["run"])] if other is not None else [])
    notes = []
    for i, (table, name) in enumerate(zip(tables, names)):
        others = set().union(*(s for j, s in enumerate(run_sets) if j != i))
        clash = sorted(run_sets[i] & others)
        if not clash:
            continue
        attrs = table.attrs
        tables[i] = table.assign(run=name + "/" + table["run"].astype(str))
        tables[i].attrs = attrs
        what = f"run {clash[0]!r} is" if len(clash) == 1 else f"{len(clash)} run names (e.g. {clash[0]!r}) are"
        notes.append(f"dataset:{name}: {what} also used by another input; its runs are prefixed with the "
                     f"dataset name ({clash[0]} -> {name}/{clash[0]})")
    return notes
