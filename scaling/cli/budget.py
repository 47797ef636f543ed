"""``scaling budget``: compute-optimal N, D and loss for FLOP budgets, from a final-loss fit."""

from __future__ import annotations

import argparse

from scaling.cli.common import level_value, load_fit, print_warnings
from scaling.errors import ScalingError


def _positive_float(text: str) -> float:
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number, e.g. 1e21") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite positive number, e.g. 1e21")
    return v


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``budget`` and its flags."""
    p = sub.add_parser(
        "budget",
        help="compute-optimal model size, data and loss for FLOP budgets (from a final-loss fit)",
        description=(
            "For each training budget C (FLOPs, C = 6ND): the compute-optimal model size N, tokens D, "
            "tokens per parameter and predicted loss, with bootstrap intervals from FIT.json (a fit of "
            "chinchilla or another law of N and D). With --target-loss: the compute needed to reach "
            "that loss, at a fixed --n, under a cap --max-n, or counting --inference-tokens. Budgets "
            "outside the compute range the fit saw are flagged with how far outside they are."
        ),
    )
    p.add_argument("fit", metavar="FIT.json", help="fit result of a final-loss law of N and D")
    p.add_argument("--flops", type=_positive_float, action="append", default=[], metavar="C",
                   help="training budget in FLOPs (repeatable), e.g. --flops 1e21")
    p.add_argument("--flops-range", metavar="START:STOP:COUNT", help="log-spaced budgets, e.g. 1e19:1e23:9")
    p.add_argument("--target-loss", type=_positive_float, metavar="L", help="also: compute needed to reach loss L (nats)")
    p.add_argument("--n", type=_positive_float, metavar="N", help="with --target-loss: fixed model size (parameters)")
    p.add_argument("--max-n", type=_positive_float, metavar="N", help="with --target-loss: largest model size allowed")
    p.add_argument("--inference-tokens", type=float, default=0.0, metavar="T",
                   help="with --target-loss: tokens served at inference (cost 2N per token)")
    p.add_argument("--level", type=level_value, metavar="P", help="interval level (default: the fit's, e.g. 0.9)")
    p.add_argument("--out", metavar="CSV", help="also write the full table (with bounds) as CSV")
    p.set_defaults(func=run)


def _verdict(fit, ranges) -> None:
    """Say whether the table is a recommendation (the report's rule: no warning, nothing far outside the data)."""
    from scaling.fitting.diagnostics import convergence, warning_messages

    state = convergence(fit)
    if not state["determined"]:
        print(f"\nnot a recommendation: converged {state['text']}; the table is what the fitted law implies, "
              "shown as evidence only")
    elif warning_messages(fit) or ranges:
        print("\nnot a recommendation: the fit or the budgets carry the warnings above; the table is what the "
              "fitted law implies, shown as evidence only")


def run(args: argparse.Namespace) -> int:
    """Print the allocation table (and the target-loss plan), with range warnings."""
    import numpy as np

    from scaling import plan
    from scaling.outputs import check_output_path, write_atomic
    from scaling.report.document import Table, fmt, interval, text_table

    flops = list(args.flops)
    if args.flops_range:
        flops += list(plan.flops_range(args.flops_range))
    if not flops and args.target_loss is None:
        raise ScalingError("give at least one --flops C (e.g. --flops 1e21), a --flops-range or a --target-loss")
    if args.out:
        check_output_path(args.out, inputs=[args.fit])
    fit = load_fit(args.fit)
    print_warnings(fit)
    outputs = []
    if flops:
        table = plan.compute_optimal(fit, np.array(flops), level=args.level)
        level = args.level or fit.level
        rows = tuple((fmt(r.flops, ".3g"), interval(r.N, r.N_lo, r.N_hi), interval(r.D, r.D_lo, r.D_hi),
                      interval(r.tokens_per_param, r.tokens_per_param_lo, r.tokens_per_param_hi),
                      interval(r.loss, r.loss_lo, r.loss_hi, ".4g")) for r in table.itertuples(index=False))
        print(text_table(Table(("FLOPs", "N (params)", "D (tokens)", "D/N", "loss (nats)"), rows,
                               caption=f"Compute-optimal allocation from {args.fit} ({fit.law}; "
                                       f"[{level:.0%} bootstrap interval])")))
        ranges = plan.range_warnings(fit, flops=np.array(flops), N=table["N"].to_numpy(), D=table["D"].to_numpy())
        for line in ranges:
            print(f"warning: {line}")
        _verdict(fit, ranges)
        outputs.append(table)
    if args.target_loss is not None:
        df = plan.compute_for_loss(fit, args.target_loss, N=args.n, max_N=args.max_n,
                                   inference_tokens=args.inference_tokens, level=args.level)
        r = df.iloc[0]
        if not np.isfinite(r["N"]):
            why = df.attrs.get("why") or "below the law's floor"
            print(f"\nNo answer for loss {args.target_loss:g}" + (f" at N = {args.n:g}" if args.n else "")
                  + f": {why}.")
        else:
            rows = tuple((k, interval(r[k], r[f"{k}_lo"], r[f"{k}_hi"])) for k in
                         ("N", "D", "tokens_per_param", "train_flops", "inference_flops", "total_flops"))
            how = f"fixed N = {args.n:g}" if args.n else (f"N <= {args.max_n:g}" if args.max_n else "N free")
            print()
            print(text_table(Table(("quantity", "value [interval]"), rows,
                                   caption=f"Cheapest way to reach loss {args.target_loss:g} ({how}, "
                                           f"{fmt(args.inference_tokens, 'g')} inference tokens; "
                                           f"reachable in {r['reachable']:.0%} of bootstrap samples)")))
            for line in plan.range_warnings(fit, N=np.array([r["N"]]), D=np.array([r["D"]])):
                print(f"warning: {line}")
        outputs.append(df)
    if args.out:
        import pandas as pd

        write_atomic(args.out, pd.concat(outputs, ignore_index=True).to_csv(index=False))
        print(f"\nwrote {args.out}")
    return 0
