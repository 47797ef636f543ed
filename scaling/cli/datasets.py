"""``scaling datasets``: the public runs shipped with the package (list, describe, export)."""

from __future__ import annotations

import argparse


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``datasets`` with its actions ``describe`` and ``export``."""
    p = sub.add_parser(
        "datasets",
        help="list the public datasets shipped with the package; describe or export one",
        description=(
            "Public training runs shipped with the package (both MIT-licensed, with their notices): "
            "Luo et al. 2025's loss curves and Gadre et al. 2024's final losses. Without an action, "
            "list them. Any command that reads files also takes dataset:NAME or dataset:NAME/RUN."
        ),
    )
    p.set_defaults(func=run_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    d = actions.add_parser("describe", help="citation, licence, provenance, runs and columns of one dataset",
                           description="Print what a dataset is, where it came from (repository, commit, "
                                       "what was changed), its licence, citation, runs and columns.")
    d.add_argument("name", metavar="NAME", help="dataset name, e.g. luo2025-25M (see 'scaling datasets')")
    d.set_defaults(func=run_describe)
    e = actions.add_parser("export", help="write a dataset as a CSV that 'scaling fit' and the loaders read back",
                           description="Write a dataset (or some of its runs) as one CSV: curves as run, step, "
                                       "val_loss, lr, tokens, params (one row per step, so the LR schedule is "
                                       "exact); points as run, N, D, C, loss and the extra columns.")
    e.add_argument("name", metavar="NAME", help="dataset name, or NAME/RUN for one run")
    e.add_argument("--run", action="append", metavar="RUN", help="keep only this run (repeatable)")
    e.add_argument("--out", required=True, metavar="FILE.csv", help="where to write the CSV")
    e.add_argument("--logged-only", action="store_true",
                   help="curves: only the steps with a logged loss (smaller; the LR between them is lost)")
    e.set_defaults(func=run_export)


def run_list(args: argparse.Namespace) -> int:
    """Print one line per dataset: name, kind, runs, licence, description."""
    from scaling.datasets import list_datasets

    table = list_datasets()
    width = max(len(n) for n in table["name"])
    print(f"{'name':<{width}}  kind    runs  licence  description")
    for r in table.itertuples():
        print(f"{r.name:<{width}}  {r.kind:<6}  {r.runs:>4}  {r.licence:<7}  {r.description}")
    print("\nuse as a file: dataset:NAME or dataset:NAME/RUN (e.g. scaling fit dataset:luo2025-25M/cosine_24000 ...);"
          " more: scaling datasets describe NAME")
    return 0


def run_describe(args: argparse.Namespace) -> int:
    """Print :func:`scaling.datasets.describe`."""
    from scaling.datasets import describe

    print(describe(args.name))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write :func:`scaling.datasets.export_table` as CSV (atomically) and say what was written."""
    from scaling.datasets import export_table
    from scaling.outputs import check_output_path, write_atomic

    path = check_output_path(args.out)
    table = export_table(args.name, args.run, every_step=not args.logged_only)
    write_atomic(path, table.to_csv(index=False))
    runs = table["run"].nunique()
    print(f"wrote {path}: {len(table)} rows, {runs} run{'s' * (runs != 1)} of {args.name}")
    return 0
