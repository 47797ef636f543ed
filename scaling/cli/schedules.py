"""``scaling schedules``: schedule kinds, the spec grammar, and the LR of one spec."""

from __future__ import annotations

import argparse

from scaling.cli.common import positive_int


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``schedules``."""
    from scaling.schedules import SPEC_GRAMMAR

    p = sub.add_parser("schedules", help="list LR schedule kinds and the --schedule spec grammar",
                       description=SPEC_GRAMMAR, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", nargs="?", metavar="SPEC", help="show the LR of this spec at a few steps")
    p.add_argument("--total", type=positive_int, metavar="T", help="last step to show (default: the spec's total=)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the grammar, or the LR of ``SPEC`` at 11 steps and its forward area."""
    from scaling.schedules import SPEC_GRAMMAR

    if not args.spec:
        print(SPEC_GRAMMAR, end="")
        return 0
    import numpy as np

    from scaling.schedules import parse_schedule, schedule_array

    sched, total = parse_schedule(args.spec)
    total = args.total or total or 10_000
    lr = schedule_array(sched, total)
    shown = np.unique(np.linspace(0, total, 11).round().astype(int))
    print(f"{args.spec}\n  step  lr")
    for s in shown:
        print(f"  {s:>8d}  {lr[s]:.6g}")
    print(f"  forward area S1(T) = {lr.sum():.6g}")
    return 0
