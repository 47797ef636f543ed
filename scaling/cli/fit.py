"""``scaling fit``: fit a law to loss curves or final-loss points; write FIT.json."""

from __future__ import annotations

import argparse

from scaling.cli.common import law_options, level_value, print_warnings


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``fit`` and its flags."""
    p = sub.add_parser(
        "fit",
        help="fit a scaling law to loss curves or final-loss points; write FIT.json",
        description=(
            "Fit a law (see 'scaling laws') to training logs (loss-curve laws) or to a final-loss "
            "table with N, D or C and loss (final-loss laws): Huber loss on log loss (or --objective) summed over "
            "points, many starts at once, optional bootstrap. Prints an lmfit-style report and "
            "writes the result as JSON (atomically)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="log files, folders, globs or a points table")
    p.add_argument("--law", required=True, metavar="NAME", help="law name, e.g. chinchilla, power-law")
    p.add_argument("--out", required=True, metavar="FIT.json", help="where to write the fit result")
    p.add_argument("--warmup-steps", type=int, default=0, metavar="W",
                   help="linear warmup length: fills unlogged LRs and is passed to laws that take it")
    p.add_argument("--law-option", action="append", default=[], metavar="KEY=VALUE",
                   help="law option, repeatable (e.g. x=D, fixed_E0=true, lam=0.999)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N", help="number of bootstrap refits (default 0)")
    p.add_argument("--bootstrap-by", default="auto", metavar="HOW",
                   help="points, groups, blocks or a column name (default: points for tables, blocks for curves)")
    p.add_argument("--level", type=level_value, default=0.9, help="confidence level of intervals (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--split", choices=("train", "val"), help="curves: fit only the train or validation loss")
    p.add_argument("--min-step", type=int, default=None, metavar="S",
                   help="curves: fit only steps >= S (replaces the default rule: after warmup and from 1%% of "
                        "the run's forward area on)")
    p.add_argument("--max-step", type=int, default=None, metavar="S", help="curves: fit only steps <= S")
    p.add_argument("--all-points", action="store_true",
                   help="curves: keep every logged point (no warmup/early-transient cut)")
    p.add_argument("--aggregate", default=None, metavar="K|auto",
                   help="curves: fit means of K consecutive logged points (noisy per-step training loss); "
                        "auto: runs of more than 500 points are averaged down to ~250; default: only runs of "
                        "more than 10,000 points (a million-step log fits in seconds); 1: every point")
    p.add_argument("--strategy", choices=("auto", "varpro", "staged", "direct"), default="auto",
                   help="multistart strategy (default auto: varpro for laws with linear terms such as "
                        "chinchilla, else staged; direct = the objective from every start)")
    p.add_argument("--objective", choices=("huber-log", "lsq-raw", "lsq-log"), default="huber-log",
                   help="huber-log: Huber on log loss (Hoffmann et al., default); lsq-raw: least squares "
                        "on the raw loss (Gadre et al.); lsq-log: least squares on log loss")
    p.add_argument("--delta", type=float, default=None,
                   help="Huber threshold on log loss (default: the law's; 1e-4 for lr-annealing, else 1e-3)")
    p.add_argument("--intervals", choices=("auto", "bootstrap", "laplace", "profile"), default="auto",
                   help="parameter intervals: bootstrap percentiles, Laplace (smoothed sandwich) or profile "
                        "likelihood (default: bootstrap with --bootstrap, else laplace)")
    p.add_argument("--prior", choices=("auto", "none"), default="auto",
                   help="auto (default): laws with a weakly informative prior (multi-power: its drop shape "
                        "beta, gamma, C, from published fits) use it on curves, weighted from the data; "
                        "none: the plain objective")
    p.add_argument("--target", default="loss", metavar="COLUMN",
                   help="points tables: the numeric column to fit (default loss; e.g. a downstream error)")
    p.add_argument("--format", metavar="F", help="force the input format (see 'scaling inspect --help')")
    p.set_defaults(func=run)


def _options_for(args) -> dict:
    """Law options from ``--law-option``, plus ``--warmup-steps`` for laws whose factory takes it."""
    import inspect as _inspect

    from scaling.laws import LAWS

    options = law_options(args.law_option)
    factory = LAWS.get(args.law)
    if factory is not None and args.warmup_steps and "warmup_steps" not in options:
        try:
            accepts = "warmup_steps" in _inspect.signature(factory).parameters
        except (TypeError, ValueError):
            accepts = False
        if accepts:
            options["warmup_steps"] = args.warmup_steps
    return options


def run(args: argparse.Namespace) -> int:
    """Load, fit, print the report and diagnostics, save atomically."""
    from scaling.fitting import dataset_from_curves, dataset_from_points, fit
    from scaling.laws import get_law
    from scaling.datasets import split_sources
    from scaling.loaders import expand_paths
    from scaling.loaders.for_law import table_for_law
    from scaling.outputs import check_output_path

    law = get_law(args.law, **_options_for(args))
    check_output_path(args.out, inputs=expand_paths(split_sources(args.files)[1]))
    table = table_for_law(law, args.files, fmt=args.format, split=args.split)
    if law.kind == "final":
        curve_only = [f for f, v in (("--min-step", args.min_step), ("--max-step", args.max_step),
                                     ("--aggregate", args.aggregate), ("--all-points", args.all_points)) if v]
        if curve_only:
            from scaling.errors import DataError

            raise DataError(f"{', '.join(curve_only)} apply to loss curves; law {law.name!r} fits final-loss points "
                            "(drop them)")
        data = dataset_from_points(law, table, target=args.target)
    elif args.target != "loss":
        from scaling.errors import DataError

        raise DataError(f"--target {args.target} applies to final-loss points tables; law {law.name!r} fits "
                        "loss curves (drop --target)")
    else:
        from scaling.fitting.selection import keep_all_rule

        aggregate = args.aggregate
        if aggregate is not None and aggregate != "auto":
            from scaling.errors import DataError

            try:
                aggregate = int(aggregate)
            except ValueError:
                raise DataError(f"--aggregate takes a number of points or 'auto', not {aggregate!r}") from None
        data = dataset_from_curves(law, table, split=args.split, warmup_steps=args.warmup_steps,
                                   selection=keep_all_rule() if args.all_points else None,
                                   min_step=args.min_step, max_step=args.max_step, aggregate=aggregate)
    result = fit(law, data, bootstrap=args.bootstrap, bootstrap_by=args.bootstrap_by, level=args.level,
                 seed=args.seed, objective=args.objective, delta=args.delta, intervals=args.intervals,
                 strategy=args.strategy, prior=args.prior)
    print(result.report())
    print_warnings(result, in_report=True)
    result.save(args.out)
    print(f"wrote {args.out}")
    return 0
