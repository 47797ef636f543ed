"""``scaling schedule-plan``: rank LR schedules for a step budget by predicted final loss."""

from __future__ import annotations

import argparse

from scaling.cli.common import float_list, load_fit, positive_int, print_warnings


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``schedule-plan`` and its flags."""
    p = sub.add_parser(
        "schedule-plan",
        help="rank LR schedules for a step budget by predicted final loss (from a loss-curve fit)",
        description=(
            "Predict the final loss of cosine, linear, WSD (decay fractions x shapes), multi-step 80/10/10 "
            "and constant schedules with the fitted loss-curve law in FIT.json, rank them with bootstrap "
            "intervals (the 'above best' interval is paired: same samples for every schedule) and scan "
            "the WSD decay fraction."
        ),
    )
    p.add_argument("fit", metavar="FIT.json", help="fit result of a loss-curve law (lr-annealing, multi-power)")
    p.add_argument("--steps", type=positive_int, required=True, metavar="T", help="total optimizer steps (warmup included)")
    p.add_argument("--peak", type=float, required=True, metavar="LR", help="peak learning rate")
    p.add_argument("--final", type=float, metavar="LR", help="final learning rate of the decays (default peak/10)")
    p.add_argument("--warmup", type=int, default=0, metavar="W", help="linear warmup steps (default 0)")
    p.add_argument("--fractions", default="0.1,0.2,0.3", metavar="F,F", help="WSD decay fractions to rank")
    p.add_argument("--shapes", default="linear,1-sqrt,exp", metavar="S,S",
                   help="WSD decay shapes: linear, cosine, 1-sqrt, exp")
    p.add_argument("--scan-shape", default="1-sqrt", metavar="S", help="decay shape for the decay-fraction scan")
    p.add_argument("--schedule", action="append", default=[], metavar="SPEC",
                   help="extra candidate schedule spec (repeatable; see 'scaling schedules --help')")
    p.add_argument("--model-size", type=float, metavar="N", help="model size for laws that read N")
    p.add_argument("--batch-tokens", type=float, metavar="B", help="tokens per step, for laws that read B (kaplan-batch)")
    p.add_argument("--optimise", action="store_true",
                   help="also search a free monotone schedule minimising the predicted final loss "
                        "(Luo et al. 2025); its LRs go to --optimised-out")
    p.add_argument("--optimised-out", metavar="CSV", help="with --optimise: write step,lr of the searched schedule")
    p.add_argument("--out", metavar="CSV", help="also write the ranking as CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Rank the candidates, print the table, the WSD scan and the (qualified) recommendation."""
    from scaling import plan
    from scaling.outputs import check_output_path, write_atomic
    from scaling.report.document import interval, schedule_ranking_table, text_table

    for path in (args.out, args.optimised_out):
        if path:
            check_output_path(path, inputs=[args.fit])
    fit = load_fit(args.fit)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    cands = plan.candidate_schedules(args.steps, args.peak, final=args.final, warmup=args.warmup,
                                     decay_fractions=float_list(args.fractions, "--fractions"), shapes=shapes)
    for k, spec in enumerate(args.schedule):
        cands[f"user {k + 1}"] = spec
    if args.optimise:
        lr = plan.optimal_schedule(fit, steps=args.steps, peak=args.peak, final=args.final or 0.0,
                                   warmup=args.warmup, N=args.model_size)
        cands["optimised (free monotone)"] = lr
    ranking = plan.compare_schedules(fit, cands, steps=args.steps, N=args.model_size, B=args.batch_tokens)
    # after the specs are parsed (in compare_schedules): a bad --schedule is then one error line
    print_warnings(fit)
    if args.optimise and args.optimised_out:
        import numpy as np
        import pandas as pd

        write_atomic(args.optimised_out, pd.DataFrame({"step": np.arange(len(lr)), "lr": lr}).to_csv(index=False))
        print(f"wrote {args.optimised_out}")
    print(text_table(schedule_ranking_table(
        ranking, caption=f"Schedules for {args.steps} steps, peak {args.peak:g} ({fit.law}; "
                         f"[{fit.level:.0%} predictive band, as scaling predict; the difference to "
                         f"the best is a paired parameter interval])")))
    scan = plan.best_wsd_decay(fit, steps=args.steps, peak=args.peak, final=args.final, warmup=args.warmup,
                               shape=args.scan_shape, N=args.model_size, B=args.batch_tokens)
    best = scan.loc[scan["rank"] == 1].iloc[0]
    print()
    print("WSD decay-fraction scan (" + args.scan_shape + "): "
          + ", ".join(f"{d:g}: {v:.4f}" for d, v in zip(scan["decay"], scan["final_loss"])))
    note = plan.decay_scan_note(scan)
    # the predictive band, as the table above shows for the same schedules
    print(f"best WSD decay fraction: {best['decay']:g} (final loss "
          f"{interval(best['final_loss'], best['final_loss_pred_lo'], best['final_loss_pred_hi'], '.4f')}, "
          f"{fit.level:.0%} predictive band)"
          + (f"; {note}" if note else ""))
    print(plan.recommendation(ranking, fit=fit, steps=args.steps))
    if args.out:
        write_atomic(args.out, ranking.to_csv(index=False))
        print(f"wrote {args.out}")
    return 0
