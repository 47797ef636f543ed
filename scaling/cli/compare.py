"""``scaling compare``: fit several laws on the same data and compare them."""

from __future__ import annotations

import argparse

from scaling.cli.common import law_options, level_value
from scaling.errors import ScalingError


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``compare`` and its flags."""
    p = sub.add_parser(
        "compare",
        help="fit several laws on the same data; compare AIC/BIC, hold-out error and intervals",
        description=(
            "Fit each law on the same data and print one table: goodness of fit on the fitted data (AIC/BIC), "
            "prediction error on runs not used in fitting (--holdout RUN..., or leave-one-run-out when none is "
            "named: R2, MAE, RMSE, PredE = mean relative error, WorstE = max relative error) and every "
            "parameter with its interval. For loss curves hold out a schedule the fit never saw."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="log files, folders, globs or a points table")
    p.add_argument("--laws", required=True, metavar="A,B,C", help="comma-separated law names (see 'scaling laws')")
    p.add_argument("--holdout", nargs="+", default=[], metavar="RUN", help="runs to leave out of fitting and predict")
    p.add_argument("--no-loo", action="store_true", help="skip leave-one-run-out when no --holdout is given")
    p.add_argument("--law-option", action="append", default=[], metavar="[LAW:]KEY=VALUE",
                   help="law option, for one law (power-law:x=width) or all laws (x=width); repeatable")
    p.add_argument("--target", default="loss", metavar="COLUMN",
                   help="points tables: the column fitted (default loss; e.g. err_avg_17 for the downstream law)")
    p.add_argument("--warmup-steps", type=int, default=0, metavar="W", help="curves: linear-warmup length for LR gaps")
    p.add_argument("--split", choices=("train", "val"), help="curves: use only the train or validation loss")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N", help="bootstrap refits per law (default 0: Laplace)")
    p.add_argument("--level", type=level_value, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--format", metavar="F", help="force the input format (see 'scaling inspect --help')")
    p.add_argument("--out", metavar="TABLE.csv", help="also write the table as CSV")
    p.set_defaults(func=run)


def _per_law_options(pairs, names) -> dict:
    shared, per_law = {}, {}
    for pair in pairs:
        head, sep, rest = pair.partition(":")
        if sep and "=" not in head:
            per_law.setdefault(head.strip(), {}).update(law_options([rest]))
        else:
            shared.update(law_options([pair]))
    return {n: {**shared, **per_law.get(n, {})} for n in names}


def run(args: argparse.Namespace) -> int:
    """Fit every law, print the comparison table, optionally save it."""
    from scaling.compare import compare, format_table
    from scaling.laws import get_law
    from scaling.datasets import split_sources
    from scaling.loaders import expand_paths
    from scaling.loaders.for_law import table_for_law
    from scaling.outputs import check_output_path, write_atomic

    names = [n.strip() for n in args.laws.split(",") if n.strip()]
    if not names:
        raise ScalingError("--laws needs at least one law name, e.g. --laws chinchilla,overtraining")
    options = _per_law_options(args.law_option, names)
    laws = [get_law(n, **options[n]) for n in names]
    if args.out:
        check_output_path(args.out, inputs=expand_paths(split_sources(args.files)[1]))
    table = table_for_law(laws[0], args.files, fmt=args.format, split=args.split)
    result = compare(table, laws, holdout=args.holdout or None, loo=False if args.no_loo else None,
                     bootstrap=args.bootstrap, level=args.level, seed=args.seed, split=args.split,
                     warmup_steps=args.warmup_steps, target=args.target)
    print(format_table(result))
    if args.out:
        out = result.copy()
        out["options"] = out["options"].map(lambda o: ";".join(f"{k}={v}" for k, v in o.items()))
        write_atomic(args.out, out.to_csv(index=False))
        print(f"wrote {args.out}")
    return 0
