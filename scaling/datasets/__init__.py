"""Public training runs shipped with the package, loaded as the canonical tables of :mod:`scaling.runs`.

=================  ======  ===========================================================
name               kind    what
=================  ======  ===========================================================
``luo2025-25M``    curves  Luo et al. 2025, 9 LR schedules of a 25M model (run = schedule)
``luo2025-100M``   curves  the same for 100M
``luo2025-400M``   curves  the same for 400M
``gadre2024-c4``   points  Gadre et al. 2024, 34 models trained on C4 (final C4-val loss)
``gadre2024-rpj``  points  35 models trained on RedPajama
``gadre2024-rw``   points  35 models trained on RefinedWeb
=================  ======  ===========================================================

Both sources are MIT-licensed; each folder under ``scaling/datasets/data``
ships its ``LICENSE``, ``CITATION.bib`` and ``PROVENANCE.md`` (source
repository, commit, what was changed). :func:`describe` prints them.

A dataset can stand wherever a file can: ``scaling.load("dataset:luo2025-25M")``,
``scaling.load_points("dataset:gadre2024-rpj")`` or, for one run,
``"dataset:luo2025-400M/cosine_24000"``.

Examples
--------
>>> from scaling.datasets import load_dataset
>>> curves = load_dataset("luo2025-25M", run="wsdcon_9")
>>> int(curves["loss"].notna().sum()), int(curves["step"].max())
(95, 15999)
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from scaling.datasets._registry import DATASETS, DatasetInfo
from scaling.datasets.sources import (
    DATASET_PREFIX,
    is_dataset_source,
    load_sources,
    parse_source,
    source_kind,
    split_sources,
)
from scaling.errors import DataError

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "DATASET_PREFIX",
    "list_datasets",
    "describe",
    "load_dataset",
    "dataset_runs",
    "export_table",
    "is_dataset_source",
    "parse_source",
    "source_kind",
    "split_sources",
    "load_sources",
]


def _info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)} "
                        "(list them with 'scaling datasets' or scaling.datasets.list_datasets())") from None


def list_datasets() -> pd.DataFrame:
    """The shipped datasets, one row each.

    Returns
    -------
    DataFrame
        Columns ``name``, ``kind`` (``"curves"`` or ``"points"``), ``runs``
        (number of runs), ``licence`` (SPDX id), ``description`` (one line).
    """
    return pd.DataFrame(
        [{"name": d.name, "kind": d.kind, "runs": len(dataset_runs(d.name)), "licence": d.licence,
          "description": d.description} for d in DATASETS.values()]
    )


def dataset_runs(name: str) -> list[str]:
    """Run names of a dataset: schedule names (Luo) or model names (Gadre), in table order."""
    info = _info(name)
    if info.folder == "luo2025":
        from scaling.datasets.luo2025 import SCHEDULES

        return list(SCHEDULES)
    from scaling.datasets.gadre2024 import CORPORA, read_models

    models = read_models(info.path / "models.csv")
    return [str(r) for r in models.loc[models["dataset"] == CORPORA[info.part], "name"]]


def _runs(name: str, run: str | Iterable[str] | None) -> list[str]:
    known = dataset_runs(name)
    if run is None:
        return known
    wanted = [run] if isinstance(run, str) else list(run)
    for r in wanted:
        if r not in known:
            shown = ", ".join(known[:9]) + (" ..." if len(known) > 9 else "")
            raise DataError(f"dataset {name!r} has no run {r!r}; runs: {shown} "
                            f"(scaling.datasets.describe({name!r}) lists them all)")
    return wanted


def load_dataset(name: str, run: str | Iterable[str] | None = None, *, every_step: bool = True) -> pd.DataFrame:
    """Load a shipped dataset as a canonical curve or points table.

    Parameters
    ----------
    name : str
        A name of :data:`DATASETS` (see :func:`list_datasets`); ``"NAME/RUN"``
        and a leading ``"dataset:"`` are accepted too.
    run : str or list of str, optional
        Keep only these runs (default: all).
    every_step : bool, default True
        Curve datasets: add an LR-only row (loss NaN) at every unlogged step
        so :func:`scaling.runs.curve_arrays` returns the exact per-step
        schedule the runs were trained with (see
        :func:`scaling.datasets.luo2025.curves_table`). Ignored for points.

    Returns
    -------
    DataFrame
        Curves (``run, step, loss, lr, split, tokens, params, source``) or
        points (``run, N, D, C, loss, source`` + extra columns), built with
        :func:`scaling.runs.make_curves` / :func:`~scaling.runs.make_points`
        so they are checked like user data. ``source`` is ``"dataset:NAME"``;
        ``attrs["files"] = ["dataset:NAME"]`` and ``attrs["notes"]`` says
        what was derived.

    Raises
    ------
    DataError
        Unknown dataset or run.
    """
    parsed = parse_source(name if name.startswith(DATASET_PREFIX) else DATASET_PREFIX + name)
    name, run_in_name = parsed
    if run_in_name is not None:
        if run is not None:
            raise DataError(f"dataset {name!r}: give the run either as {name}/RUN or as run=, not both")
        run = run_in_name
    info = _info(name)
    runs = _runs(name, run)
    source = DATASET_PREFIX + name
    if info.folder == "luo2025":
        from scaling.datasets.luo2025 import curves_table

        table = curves_table(info.path, info.part, runs, source=source, every_step=every_step)
        notes = [f"{source}: loss is the validation loss (Luo et al. 2025, Sec. 5.1); the LR at every step is "
                 "rebuilt from the schedule name as the authors' code does (2160-step linear warmup from 0)"]
    else:
        from scaling.datasets.gadre2024 import DEFAULT_EVAL, points_table, read_models

        models = read_models(info.path / "models.csv")
        table = points_table(models.loc[models["name"].isin(runs)], info.part, source=source)
        notes = [n.replace("<arrays>", source).replace("the file has", "the data has") for n in table.attrs["notes"]]
        notes.append(f"{source}: loss is the final loss on {DEFAULT_EVAL} (the paper's default); "
                     "other evaluation sets are the loss_<set> columns")
    table.attrs["notes"] = notes
    table.attrs["files"] = [source]
    return table


def export_table(name: str, run: str | Iterable[str] | None = None, *, every_step: bool = True) -> pd.DataFrame:
    """A dataset as a flat table that :func:`scaling.load` / :func:`scaling.load_points` read back as it was.

    Parameters
    ----------
    name, run, every_step
        As for :func:`load_dataset`.

    Returns
    -------
    DataFrame
        Curves: one row per run and step, columns ``run, step``, then
        ``train_loss`` / ``val_loss`` (the splits present; NaN on LR-only
        rows), ``lr``, ``tokens``, ``params``. Loading it back gives the same
        runs, losses and per-step LR (``every_step=True``). Points: the
        points table without its ``source`` column.

    Examples
    --------
    >>> export_table("luo2025-25M", run="wsdcon_9").columns.tolist()
    ['run', 'step', 'val_loss', 'lr', 'tokens', 'params']
    """
    table = load_dataset(name, run, every_step=every_step)
    if "step" not in table.columns:  # a points table
        return table.drop(columns=["source"])
    keys = ["run", "step"]
    wide = table[keys].drop_duplicates().reset_index(drop=True)
    for split in sorted(set(table["split"])):
        part = table.loc[table["split"] == split, keys + ["loss"]].rename(columns={"loss": f"{split}_loss"})
        wide = wide.merge(part, on=keys, how="left", sort=False)
    extras = [c for c in ("lr", "tokens", "params", "flops") if c in table.columns]
    per_step = table.groupby(keys, sort=False)[extras].first().reset_index()
    return wide.merge(per_step, on=keys, how="left", sort=False)


def describe(name: str) -> str:
    """Text about a dataset: what it is, licence, citation, provenance, runs and columns.

    Parameters
    ----------
    name : str
        A dataset name (see :func:`list_datasets`).

    Returns
    -------
    str
        Several lines, ready to print; the full provenance notes are in the
        ``PROVENANCE.md`` whose path the text gives.
    """
    info = _info(name)
    lines = [
        f"{info.name} ({info.kind}): {info.description}",
        f"paper:      {info.paper}",
        f"source:     {info.repository} @ {info.commit}",
        f"licence:    {info.licence} ({info.copyright}); notice: {info.path / 'LICENSE'}",
        f"provenance: {info.path / 'PROVENANCE.md'}",
    ]
    runs = dataset_runs(name)
    if info.kind == "curves":
        from scaling.datasets.luo2025 import SIZES, TEST, TOKENS_PER_STEP, TRAIN, lr_schedule, read_curve

        lines += [
            f"columns:    run (schedule), step, loss (validation, nats), lr (per step, exact), split=val, "
            f"tokens = step x {TOKENS_PER_STEP}, params = {SIZES[info.part]:.3g} (non-embedding)",
            f"paper split: fit on {', '.join(TRAIN)}; predict {', '.join(TEST)}",
            f"runs ({len(runs)}):",
        ]
        for r in runs:
            _, step, loss = read_curve(info.path, info.part, r)
            lines.append(f"  {r:<18} {len(step):>3} losses at steps {step[0]}..{step[-1]}, "
                         f"schedule to step {lr_schedule(r).size - 1}, final loss {loss[-1]:.4f}")
    else:
        table = load_dataset(name)
        lines += [
            "columns:    run, N (params incl. embeddings), D (tokens), C = 6ND, loss (final c4_val loss, nats), "
            "model, M = D/N, multiplier = M/20, params_no_embed, lr, wd, warmup, global_bs, lr_cooldown_end, "
            + ", ".join(c for c in table.columns if c.startswith(("loss_", "err_"))),
            f"runs ({len(runs)}): N {table['N'].min():.3g}..{table['N'].max():.3g}, "
            f"D {table['D'].min():.3g}..{table['D'].max():.3g}, D/N {table['M'].min():.3g}..{table['M'].max():.3g}, "
            f"loss {table['loss'].min():.4f}..{table['loss'].max():.4f}",
        ]
        for model, part in table.groupby("model", sort=False):
            ms = ", ".join(f"{m:g}" for m in part["M"])
            lines.append(f"  {model:<16} N = {part['N'].iloc[0]:>13,.0f}  D/N = {ms}")
    citation = (info.path / "CITATION.bib").read_text().strip()
    lines += ["citation:", *("  " + c for c in citation.splitlines())]
    return "\n".join(lines)
