"""The table a law fits, and the observed curve of one run: loading decisions made once.

The CLI's ``fit``, ``compare`` and ``predict --lr-from`` all need the same
choices (a final-loss table for final laws, loss-curve logs for curve laws; a
helpful line when the two are mixed up; which run of a multi-run log), and
``inspect`` and ``report`` sort mixed inputs by table kind, so they live here,
beside the loaders, and the CLI only calls them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from scaling.errors import DataError


def _load_final_table(files, law, fmt):
    """A final-loss table for ``law``: the points loader, or a plain table with the law's columns.

    The points loader wants two of N, D, C; a one-variable law (``power-law``
    with ``x=N``) only needs its own column and ``loss``, so a CSV/TSV that
    has those is read as it is.
    """
    import pandas as pd

    from scaling.loaders import load_points

    try:
        return load_points(files, format=fmt)
    except DataError as exc:
        first_error = exc
    frames = []
    for path in files:
        try:
            frame = pd.read_csv(path, sep=None, engine="python")
        except Exception:  # noqa: BLE001 - report the points loader's own message
            raise first_error from None
        if "loss" not in frame.columns or any(name not in frame.columns for name in law.inputs):
            if any(c.lower() in ("step", "iter", "iteration", "global_step") for c in frame.columns):
                raise DataError(f"law {law.name!r} fits final losses but {path} holds loss curves; give it "
                                "a points table (N, D or C, loss) or use a loss-curve law") from None
            raise first_error from None
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.attrs = {"files": [str(p) for p in files]}
    return table


def table_for_law(law, paths: Sequence[str], *, fmt: str | None = None, split: str | None = None):
    """The table ``law`` fits: a final-loss table for final laws, loss-curve logs for curve laws.

    Parameters
    ----------
    law : Law
    paths : sequence of str
        Files, folders or globs (as on the command line).
    fmt : str, optional
        Forced input format.
    split : {"train", "val"}, optional
        Curves: keep only this loss.

    Returns
    -------
    pandas.DataFrame
        The canonical points or curves table (``scaling.runs``).
    """
    from scaling.datasets import split_sources
    from scaling.loaders import detect_table_kind, expand_paths, load, load_points

    sources, rest = split_sources(paths)  # shipped datasets: dataset:NAME[/RUN]
    files = expand_paths(rest) if rest else []
    if not files and not sources:
        raise DataError("no input files given; pass log files, folders or a points table")
    if law.kind == "final":
        return load_points([*sources, *files], format=fmt) if sources else _load_final_table(files, law, fmt)
    if "points" in {detect_table_kind(p, format=fmt) for p in files}:
        raise DataError(f"law {law.name!r} fits loss curves but the input is a final-loss points table; "
                        "give it training logs or use a final-loss law (chinchilla, power-law)")
    return load([*sources, *files], format=fmt, split=split)


def inputs_by_kind(paths: Sequence[str], *, fmt: str | None = None) -> tuple[list, list]:
    """The loss-curve inputs and the final-loss points inputs among ``paths``, each in order.

    ``paths`` are files, folders, globs and ``dataset:NAME[/RUN]`` sources (as
    on the command line); files are classified by their columns
    (:func:`scaling.loaders.detect_table_kind`), sources by their dataset.
    Each list can go to :func:`scaling.load` / :func:`scaling.load_points` as
    it is.
    """
    from scaling.datasets import source_kind, split_sources
    from scaling.loaders import detect_table_kind, expand_paths

    sources, rest = split_sources(paths)
    files = expand_paths(rest) if rest else []
    kinds = {p: detect_table_kind(p, format=fmt) for p in files}
    kinds.update({s: source_kind(s) for s in sources})
    items = [*sources, *files]
    return [p for p in items if kinds[p] == "curves"], [p for p in items if kinds[p] == "points"]


def observed_run(path: str, *, run: str | None = None, split: str | None = None, warmup_steps: int = 0,
                 fmt: str | None = None, prefer: str | None = None):
    """One run of a training log as arrays: per-step LR, logged steps and losses, model size.

    Parameters
    ----------
    path : str
        Log file (any supported format).
    run : str, optional
        Which run of a multi-run log (required when it holds several).
    split : {"train", "val"}, optional
        Which loss counts as observed (an error when the run has none of it).
    prefer : {"train", "val"}, optional
        Without ``split``: the split to use when the run logged it (the one
        the fit used, so that a prediction is scored like with like), else
        the default (:func:`scaling.runs.default_split`).
    warmup_steps : int
        Linear-warmup length used to fill unlogged LRs.
    fmt : str, optional
        Forced format.

    Returns
    -------
    lr : ndarray, shape (T + 1,)
        LR at every step ``0..T``.
    steps : ndarray of int, shape (n,)
        Steps with a logged loss.
    loss : ndarray, shape (n,)
        The logged losses (nats).
    n_params : float or None
        The run's model size when the log records it (``params`` column).
    split : str or None
        The split whose loss was returned (None: the log has no splits).
    """
    from scaling.loaders import load
    from scaling.runs import curve_arrays, default_split, loss_splits

    table = load([path], format=fmt)
    runs = sorted(table["run"].astype(str).unique())
    if run is None:
        if len(runs) > 1:
            raise DataError(f"{path} holds {len(runs)} runs ({', '.join(runs[:5])}); pick one with --run")
        run = runs[0]
    elif run not in runs:
        raise DataError(f"{path}: no run {run!r}; runs: {', '.join(runs[:10])}")
    rows = table.loc[table["run"].astype(str) == run]
    counts = loss_splits(rows)
    if counts and split is None:
        split = prefer if counts.get(prefer or "", 0) > 0 else default_split(counts)
    lr, steps, loss = curve_arrays(table, run, split=split, warmup_steps=warmup_steps)
    n_params = None
    if "params" in table.columns:
        sizes = rows["params"].dropna()
        n_params = float(sizes.iloc[0]) if len(sizes) else None
    return np.asarray(lr), np.asarray(steps), np.asarray(loss), n_params, (split if counts else None)


__all__ = ["inputs_by_kind", "observed_run", "table_for_law"]
