"""``scaling inspect``: summarise training logs or final-loss tables."""

from __future__ import annotations

import argparse


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``inspect`` and its flags."""
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the files and print one summary block per table kind."""
    from scaling.loaders import load, load_points
    from scaling.loaders.for_law import inputs_by_kind
    from scaling.run_summary import describe_curves, describe_points

    curves, points = inputs_by_kind(args.files, fmt=args.format)  # files and dataset:NAME[/RUN] sources
    blocks = []
    if curves:
        table = load(curves, format=args.format, step_col=args.step_col, loss_col=args.loss_col,
                     lr_col=args.lr_col, run_col=args.run_col, split=args.split)
        blocks.append(describe_curves(table))
    if points:
        table = load_points(points, format=args.format, n_col=args.n_col, d_col=args.d_col, c_col=args.c_col,
                            loss_col=args.loss_col, run_col=args.run_col)
        blocks.append(describe_points(table))
    print("\n\n".join(blocks))
    return 0
