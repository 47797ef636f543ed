"""``scaling report``: an HTML + Markdown report (answer first, then the evidence)."""

from __future__ import annotations

import argparse

from scaling.cli.common import load_fit, positive_int


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``report`` and its flags."""
    p = sub.add_parser(
        "report",
        help="write an HTML + Markdown report (answer first, then figures) for one or more fits",
        description=(
            "Write DIR/report.html (self-contained, figures embedded), DIR/report.md and DIR/figures/*.png|svg. "
            "The report opens with the answer (compute-optimal N, D and loss for each --budget; the best "
            "schedule for the step budget), qualified by the fits' diagnostics, and then shows the evidence: "
            "fit summary, data and fitted law, residuals, bootstrap histograms, iso-FLOP curves, the "
            "compute-optimal frontier, fitted vs held-out curves and candidate schedules. Only the data "
            "files named with --data are read (a fit file never makes the report read other files)."
        ),
    )
    p.add_argument("fits", nargs="+", metavar="FIT.json", help="fit results (final-loss and/or loss-curve)")
    p.add_argument("--budget", type=float, action="append", default=[], metavar="C",
                   help="FLOP budget to plan for (repeatable; default: inside the data's range)")
    p.add_argument("--data", action="append", default=[], metavar="FILE",
                   help="curve logs or points tables to draw, or dataset:NAME[/RUN] (repeatable)")
    p.add_argument("--steps", type=positive_int, metavar="T", help="step budget for the schedule plan (default: longest run)")
    p.add_argument("--peak", type=float, metavar="LR", help="peak LR for the schedule plan (default: the data's)")
    p.add_argument("--final", type=float, metavar="LR", help="final LR of the decays (default peak/10)")
    p.add_argument("--warmup", type=int, metavar="W", help="warmup steps for the schedule plan")
    p.add_argument("--published", action="store_true",
                   help="draw Hoffmann et al. 2022 and Epoch 2024 frontiers for comparison")
    p.add_argument("--title", default="Scaling plan", help="report title")
    p.add_argument("--compare", metavar="TABLE.csv",
                   help="a law-comparison table written by 'scaling compare ... --out TABLE.csv' (adds a section)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the report from the fits and the --data files, write it atomically."""
    import matplotlib

    matplotlib.use("Agg")
    from scaling.compare import read_comparison
    from scaling.datasets import split_sources
    from scaling.loaders import expand_paths
    from scaling.outputs import check_output_path
    from scaling.report.build import build_report, load_data
    from scaling.report.write import write_report

    data_files = expand_paths(split_sources(args.data)[1]) if args.data else []  # dataset: sources are no files
    check_output_path(args.out, inputs=list(args.fits) + data_files, folder=True)
    fits = [load_fit(f) for f in args.fits]
    curves, points = load_data(args.data) if args.data else (None, None)
    schedule_plan = {"steps": args.steps, "peak": args.peak, "final": args.final, "warmup": args.warmup}
    comparison = read_comparison(args.compare) if args.compare else None
    rep = build_report(fits, curves=curves, points=points, budgets=args.budget, schedule_plan=schedule_plan,
                       published=args.published, title=args.title, comparison=comparison,
                       data_files=data_files)
    paths = write_report(rep, args.out)
    print(f"report: {paths['html']}")
    print(f"markdown: {paths['markdown']}")
    print(f"figures: {len(paths['figures'])} files in {paths['html'].parent / 'figures'}")
    return 0
