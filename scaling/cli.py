"""The ``scaling`` command line: a thin shell over the import API.

Each subcommand has an ``_add_<name>(subparsers)`` function that declares its
flags and a ``_run_<name>(args)`` function that does the work. Heavy imports
(jax, matplotlib, lmfit, pandas) happen inside the ``_run_`` functions so that
``scaling --help`` starts fast. User errors (:class:`scaling.errors.ScalingError`)
are printed as one line and exit with status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from scaling.errors import ScalingError

EXIT_USAGE = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scaling",
        description="Fit scaling laws and predict LLM loss curves before you spend compute.",
    )
    parser.add_argument("--version", action="store_true", help="print the package version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


# --------------------------------------------------------------------------- inspect


def _add_inspect(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "inspect",
        help="read training logs or final-loss tables and summarise each run",
        description=(
            "Read loss-curve logs (CSV/TSV, JSONL, W&B history or chart exports, Hugging Face "
            "trainer_state.json, Lightning metrics.csv, TensorBoard) or final-loss tables (N, D, C, "
            "loss) and print, per run: step range, loss points, loss and LR ranges, and a guess of "
            "the schedule shape. FILE may be a file, a folder or a quoted glob."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="log files, folders or glob patterns")
    p.add_argument("--format", metavar="F", help="force a format: csv, tsv, jsonl, wandb, wandb-panel, huggingface (hf), lightning, tensorboard (tb)")
    p.add_argument("--step-col", metavar="C", help="column holding the optimizer step")
    p.add_argument("--loss-col", metavar="C", help="column holding the loss")
    p.add_argument("--lr-col", metavar="C", help="column holding the learning rate")
    p.add_argument("--run-col", metavar="C", help="column holding the run name (several runs per file)")
    p.add_argument("--split", choices=("train", "val"), help="keep only the train or the validation loss")
    p.add_argument("--n-col", metavar="C", help="points tables: column holding N (parameters)")
    p.add_argument("--d-col", metavar="C", help="points tables: column holding D (tokens)")
    p.add_argument("--c-col", metavar="C", help="points tables: column holding C (FLOPs)")
    p.set_defaults(func=_run_inspect)


def _run_inspect(args: argparse.Namespace) -> int:
    from scaling.loaders import detect_table_kind, expand_paths, load, load_points
    from scaling.runs import describe_curves, describe_points

    files = expand_paths(args.files)
    kinds = {p: detect_table_kind(p, format=args.format) for p in files}
    curves = [p for p in files if kinds[p] == "curves"]
    points = [p for p in files if kinds[p] == "points"]
    blocks = []
    if curves:
        table = load(
            curves, format=args.format, step_col=args.step_col, loss_col=args.loss_col,
            lr_col=args.lr_col, run_col=args.run_col, split=args.split,
        )
        blocks.append(describe_curves(table))
    if points:
        table = load_points(
            points, format=args.format, n_col=args.n_col, d_col=args.d_col, c_col=args.c_col,
            loss_col=args.loss_col, run_col=args.run_col,
        )
        blocks.append(describe_points(table))
    print("\n\n".join(blocks))
    return 0


# --------------------------------------------------------------------------- fit

# --------------------------------------------------------------------------- predict

# --------------------------------------------------------------------------- laws / schedules

# --------------------------------------------------------------------------- budget / report


# Order here is the order in ``scaling --help``.
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_inspect,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scaling`` console script; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from scaling import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE if args.command is None and argv else 0
    try:
        return int(args.func(args) or 0)
    except ScalingError as exc:
        print(f"scaling: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scaling: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
