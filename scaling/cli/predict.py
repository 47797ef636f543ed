"""``scaling predict``: a loss curve with a band for any schedule, from a curve-law fit."""

from __future__ import annotations

import argparse

from scaling.cli.common import level_value, load_fit, print_warnings


def add(sub: argparse._SubParsersAction) -> None:
    """Register ``predict`` and its flags."""
    p = sub.add_parser(
        "predict",
        help="predict a loss curve for an LR schedule from a fitted curve law; write PRED.csv",
        description=(
            "Predict the loss at each step of a schedule from FIT.json (a fit of a loss-curve law such as "
            "lr-annealing or multi-power), with a band. The schedule is a text spec (see 'scaling schedules "
            "--help') or the LR column of another run's log (--lr-from); with --lr-from the prediction is made "
            "at the steps where that log has a loss, the output gets an 'observed' column and the error "
            "metrics (R2, MAE, RMSE, PredE, WorstE, the signed final-loss error, band coverage) are printed."
        ),
    )
    p.add_argument("fit_json", metavar="FIT.json", help="fit result from 'scaling fit'")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--schedule", metavar="SPEC",
                     help="schedule spec, e.g. cosine:peak=3e-4,final=3e-5,warmup=2160,total=72000")
    src.add_argument("--lr-from", metavar="LOGFILE", help="training log whose LR column is the schedule")
    p.add_argument("--steps", metavar="STEPS",
                   help="START:STOP:STRIDE or a comma list (default: every step up to 20,000 points, "
                        "or the logged steps with --lr-from)")
    p.add_argument("--level", type=level_value, default=0.9, help="central coverage of the band (default 0.9)")
    p.add_argument("--band", choices=("predictive", "parameters"), default="predictive",
                   help="predictive (default): parameter band widened by the fit's calibrated scatter; "
                        "parameters: bootstrap/Laplace parameter uncertainty only")
    p.add_argument("--out", required=True, metavar="PRED.csv", help="where to write the prediction")
    p.add_argument("--run", metavar="NAME", help="with --lr-from: which run of a multi-run log")
    p.add_argument("--split", choices=("train", "val"),
                   help="with --lr-from: which loss is 'observed' (default: the one the fit used, when the log "
                        "has it, else validation loss when logged)")
    p.add_argument("--warmup-steps", type=int, metavar="W",
                   help="with --lr-from: warmup to fill unlogged LRs (default: the value used in the fit)")
    p.add_argument("--params", type=float, metavar="N", help="model size N, for laws that take it (lr-annealing-n)")
    p.add_argument("--format", metavar="F", help="with --lr-from: force the log format")
    p.set_defaults(func=run)


def _fitted_split(result) -> str | None:
    """The split the fit used, when it used one for every run (``data_info["split"]`` or ``["splits"]``)."""
    info = getattr(result, "data_info", None) or {}
    if info.get("split"):
        return str(info["split"])
    used = {rec.get("used") for rec in (info.get("splits") or {}).values()}
    return used.pop() if len(used) == 1 else None


def run(args: argparse.Namespace) -> int:
    """Predict, write PRED.csv atomically, print the final loss and (with --lr-from) the errors."""
    from scaling.outputs import check_output_path, write_atomic
    from scaling.prediction import compare_observed, parse_steps, predict

    check_output_path(args.out, inputs=[args.fit_json] + ([args.lr_from] if args.lr_from else []))
    result = load_fit(args.fit_json)
    steps = parse_steps(args.steps) if args.steps else None
    observed = split = None
    n_param = args.params
    if args.schedule:
        pred = predict(result, args.schedule, steps=steps, level=args.level, N=n_param, band=args.band)
    else:
        from scaling.loaders.for_law import observed_run

        warmup = args.warmup_steps
        if warmup is None:
            warmup = int((getattr(result, "data_info", None) or {}).get("warmup_steps", 0) or 0)
        lr, logged, loss, size, split = observed_run(args.lr_from, run=args.run, split=args.split,
                                                     warmup_steps=warmup, fmt=args.format, prefer=_fitted_split(result))
        n_param = n_param if n_param is not None else size
        if steps is None:
            steps, observed = logged, loss
        pred = predict(result, lr, steps=steps, level=args.level, N=n_param, band=args.band)
        if observed is not None:  # before in_fit_rule, the newer column, so the older ones keep their places
            pred.insert(pred.columns.get_loc("in_fit_rule"), "observed", observed)
    # the fit's own diagnostics before any number they qualify, but after the inputs are read: a bad
    # schedule or log is then the one line of its error, not the end of a list of the fit's notes
    print_warnings(result)
    write_atomic(args.out, pred.to_csv(index=False, float_format="%.10g"))
    last = pred.iloc[-1]
    print(f"predicted {len(pred)} steps ({int(pred['step'].iloc[0])}..{int(last['step'])}) with {result.law}; "
          f"final loss {last['loss']:.4f} [{last['loss_lo']:.4f}, {last['loss_hi']:.4f}] ({100 * args.level:.0f}% band)")
    for line in pred.attrs.get("warnings", ()):
        print(f"warning: {line}")
    for line in pred.attrs.get("notes", ()):
        print(f"note: {line}")
    if observed is not None:
        m = compare_observed(result, pred, lr=lr)
        means = f" as means of {m['window']} consecutive points, like the fit" if m["window"] > 1 else ""
        from scaling.runs import SPLIT_NAMES

        which = f"{SPLIT_NAMES[split]} loss, " if split in SPLIT_NAMES else ""
        print(f"vs observed ({which}{m['n_scored']} of {m['n_points']} points{means}; {m['rule']}): R2 {m['R2']:.5f}  "
              f"MAE {m['MAE']:.5f}  RMSE {m['RMSE']:.5f}  PredE {100 * m['PredE']:.3f}%  "
              f"WorstE {100 * m['WorstE']:.3f}%  final {100 * m['FinalE']:+.3f}%  "
              f"in {100 * args.level:.0f}% band {100 * m['coverage']:.0f}%")
    print(f"wrote {args.out}")
    return 0
