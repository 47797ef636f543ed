"""``scaling demo``: the main job on the shipped published runs (what ``make demo`` runs)."""

from __future__ import annotations

import argparse

from scaling.cli.common import level_value, positive_int


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``demo`` and its flags."""
    p = sub.add_parser(
        "demo",
        help="fit, predict, plan and report on the shipped published runs (Luo et al. 2025, Gadre et al. 2024)",
        description=(
            "Fit lr-annealing and multi-power on the training schedules of one Luo et al. 2025 model size, "
            "predict its held-out schedules, rank schedules for a longer horizon; fit chinchilla and "
            "overtraining on one Gadre et al. 2024 corpus and plan budgets inside its range; write the fits, "
            "OUT/report/ and OUT/summary.json."
        ),
    )
    p.add_argument("--out", default="out", metavar="DIR", help="output folder (default out)")
    p.add_argument("--curves", default="luo2025-25M", metavar="NAME", help="curve dataset (default luo2025-25M)")
    p.add_argument("--points", default="gadre2024-rpj", metavar="NAME", help="final-loss dataset (default gadre2024-rpj)")
    p.add_argument("--curve-laws", default="lr-annealing,multi-power", metavar="A,B", help="curve laws to fit")
    p.add_argument("--final-laws", default="chinchilla,overtraining", metavar="A,B", help="final-loss laws to fit")
    p.add_argument("--horizon", type=positive_int, default=72_000, metavar="T", help="step budget of the schedule plan")
    p.add_argument("--curve-bootstrap", type=int, default=40, metavar="N", help="block-bootstrap refits per curve law")
    p.add_argument("--final-bootstrap", type=int, default=200, metavar="N", help="bootstrap refits per final-loss law")
    p.add_argument("--multi-power-bootstrap", type=int, default=0, metavar="N",
                   help="bootstrap refits for multi-power (default 0: Laplace + held-out calibration; refits cost minutes)")
    p.add_argument("--level", type=level_value, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run :func:`scaling.demo.run_demo` with the flags."""
    from scaling.demo import run_demo

    def names(text):
        return [n.strip() for n in text.split(",") if n.strip()]

    run_demo(args.out, curves=args.curves, points=args.points, curve_laws=names(args.curve_laws),
             final_laws=names(args.final_laws), horizon=args.horizon, curve_bootstrap=args.curve_bootstrap,
             final_bootstrap=args.final_bootstrap, slow_law_bootstrap=args.multi_power_bootstrap, seed=args.seed,
             level=args.level,
             log=lambda line: print(line, flush=True))
    return 0
