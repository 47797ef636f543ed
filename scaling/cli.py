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


def _add_fit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a scaling law to loss curves or final-loss points; write FIT.json",
        description=(
            "Fit a law (see 'scaling laws') to training logs (loss-curve laws) or to a final-loss "
            "table with N, D or C and loss (final-loss laws): Huber loss on log loss summed over "
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
    p.add_argument("--level", type=float, default=0.9, help="confidence level of intervals (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--split", choices=("train", "val"), help="curves: fit only the train or validation loss")
    p.add_argument("--strategy", choices=("staged", "direct"), default="staged",
                   help="multistart strategy (default staged; direct = Huber from every start)")
    p.add_argument("--delta", type=float, default=1e-3, help="Huber threshold on log loss (default 1e-3)")
    p.add_argument("--format", metavar="F", help="force the input format (see 'scaling inspect --help')")
    p.set_defaults(func=_run_fit)


def _option_value(text: str):
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _law_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ScalingError(f"--law-option {pair!r}: write KEY=VALUE, e.g. --law-option x=D")
        options[key.strip()] = _option_value(value)
    return options


def _load_final_table(files, law, fmt):
    """A final-loss table for ``law``: the points loader, or a plain table with the law's columns.

    The points loader wants two of N, D, C; a one-variable law (``power-law``
    with ``x=N``) only needs its own column and ``loss``, so a CSV/TSV that
    has those is read as it is.
    """
    import pandas as pd

    from scaling.errors import DataError
    from scaling.loaders import load_points

    try:
        return load_points(files, format=fmt)
    except DataError as exc:
        first_error = exc
    frames = []
    for path in files:
        try:
            frame = pd.read_csv(path, sep=None, engine="python")
        except Exception:  # noqa: BLE001 - report the points loader's own message
            raise first_error from None
        if "loss" not in frame.columns or any(name not in frame.columns for name in law.inputs):
            if any(c.lower() in ("step", "iter", "iteration", "global_step") for c in frame.columns):
                raise DataError(f"law {law.name!r} fits final losses but {path} holds loss curves; give it "
                                "a points table (N, D or C, loss) or use a loss-curve law") from None
            raise first_error from None
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.attrs = {"files": [str(p) for p in files]}
    return table


def _load_table_for(law, paths, *, fmt=None, split=None):
    """The table a law fits: a final-loss table for final laws, loss-curve logs for curve laws."""
    from scaling.errors import DataError
    from scaling.loaders import detect_table_kind, expand_paths, load

    files = expand_paths(paths)
    if not files:
        raise DataError("no input files given; pass log files, folders or a points table")
    if law.kind == "final":
        # the points loader, or a plain table with the law's columns (e.g. width, loss)
        return _load_final_table(files, law, fmt)
    if "points" in {detect_table_kind(p, format=fmt) for p in files}:
        raise DataError(f"law {law.name!r} fits loss curves but the input is a final-loss points table; "
                        "give it training logs or use a final-loss law (chinchilla, power-law)")
    return load(files, format=fmt, split=split)


def _run_fit(args: argparse.Namespace) -> int:
    import inspect as _inspect

    from scaling.fitting import dataset_from_curves, dataset_from_points, fit
    from scaling.laws import LAWS, get_law

    options = _law_options(args.law_option)
    factory = LAWS.get(args.law)
    if factory is not None and args.warmup_steps and "warmup_steps" not in options:
        try:
            accepts = "warmup_steps" in _inspect.signature(factory).parameters
        except (TypeError, ValueError):
            accepts = False
        if accepts:
            options["warmup_steps"] = args.warmup_steps
    law = get_law(args.law, **options)
    table = _load_table_for(law, args.files, fmt=args.format, split=args.split)
    if law.kind == "final":
        data = dataset_from_points(law, table)
    else:
        data = dataset_from_curves(law, table, split=args.split, warmup_steps=args.warmup_steps)
    result = fit(law, data, bootstrap=args.bootstrap, bootstrap_by=args.bootstrap_by, level=args.level,
                 seed=args.seed, delta=args.delta, strategy=args.strategy)
    print(result.report())
    result.save(args.out)
    print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------- predict


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="predict a loss curve for an LR schedule from a fitted curve law; write PRED.csv",
        description=(
            "Predict the loss at each step of a schedule from FIT.json (a fit of a loss-curve law such as "
            "lr-annealing or multi-power), with a band. The schedule is a text spec (see 'scaling schedules "
            "--help') or the LR column of another run's log (--lr-from); with --lr-from the prediction is made "
            "at the steps where that log has a loss, the output gets an 'observed' column and the error "
            "metrics (R2, MAE, RMSE, PredE, WorstE, band coverage) are printed."
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
    p.add_argument("--level", type=float, default=0.9, help="central coverage of the band (default 0.9)")
    p.add_argument("--band", choices=("predictive", "parameters"), default="predictive",
                   help="predictive (default): parameter band widened by the fit's residual scatter; "
                        "parameters: bootstrap/Laplace parameter uncertainty only")
    p.add_argument("--out", required=True, metavar="PRED.csv", help="where to write the prediction")
    p.add_argument("--run", metavar="NAME", help="with --lr-from: which run of a multi-run log")
    p.add_argument("--split", choices=("train", "val"), help="with --lr-from: which loss is 'observed'")
    p.add_argument("--warmup-steps", type=int, metavar="W",
                   help="with --lr-from: warmup to fill unlogged LRs (default: the value used in the fit)")
    p.add_argument("--params", type=float, metavar="N", help="model size N, for laws that take it (lr-annealing-n)")
    p.add_argument("--format", metavar="F", help="with --lr-from: force the log format")
    p.set_defaults(func=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    import os
    import tempfile
    from pathlib import Path

    from scaling.errors import DataError
    from scaling.predict import curve_metrics, parse_steps, predict

    result = _load_fit(args.fit_json)
    steps = parse_steps(args.steps) if args.steps else None
    observed = None
    n_param = args.params
    if args.schedule:
        pred = predict(result, args.schedule, steps=steps, level=args.level, N=n_param, band=args.band)
    else:
        from scaling.loaders import load
        from scaling.runs import curve_arrays

        table = load([args.lr_from], format=args.format)
        runs = sorted(table["run"].astype(str).unique())
        run = args.run
        if run is None:
            if len(runs) > 1:
                raise DataError(f"{args.lr_from} holds {len(runs)} runs ({', '.join(runs[:5])}); pick one with --run")
            run = runs[0]
        elif run not in runs:
            raise DataError(f"{args.lr_from}: no run {run!r}; runs: {', '.join(runs[:10])}")
        warmup = args.warmup_steps
        if warmup is None:
            warmup = int((getattr(result, "data_info", None) or {}).get("warmup_steps", 0) or 0)
        lr, logged, loss = curve_arrays(table, run, split=args.split, warmup_steps=warmup)
        if n_param is None and "params" in table.columns:
            sizes = table.loc[table["run"].astype(str) == run, "params"].dropna()
            n_param = float(sizes.iloc[0]) if len(sizes) else None
        if steps is None:
            steps = logged
            observed = loss
        pred = predict(result, lr, steps=steps, level=args.level, N=n_param, band=args.band)
        if observed is not None:
            pred["observed"] = observed
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            pred.to_csv(fh, index=False, float_format="%.10g")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    last = pred.iloc[-1]
    print(f"predicted {len(pred)} steps ({int(pred['step'].iloc[0])}..{int(last['step'])}) with {result.law}; "
          f"final loss {last['loss']:.4f} [{last['loss_lo']:.4f}, {last['loss_hi']:.4f}] ({100 * args.level:.0f}% band)")
    if observed is not None:
        m = curve_metrics(observed, pred["loss"].to_numpy(), lo=pred["loss_lo"].to_numpy(),
                          hi=pred["loss_hi"].to_numpy())
        print(f"vs observed ({len(observed)} points): R2 {m['R2']:.5f}  MAE {m['MAE']:.5f}  RMSE {m['RMSE']:.5f}  "
              f"PredE {100 * m['PredE']:.3f}%  WorstE {100 * m['WorstE']:.3f}%  "
              f"in {100 * args.level:.0f}% band {100 * m['coverage']:.0f}%")
    print(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------- laws / schedules


def _add_laws(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("laws", help="list the registered laws with their formula and inputs",
                       description="List every law of the registry: name, kind, formula, inputs, parameters, paper.")
    p.set_defaults(func=_run_laws)


def _run_laws(args: argparse.Namespace) -> int:
    from scaling.laws import LAWS, get_law

    blocks = []
    for name in LAWS:
        law = get_law(name)
        opts = ", ".join(f"{k}={v}" for k, v in law.options.items())
        blocks.append(
            f"{name}  ({law.kind}; inputs: {', '.join(law.inputs)})\n"
            f"  {law.equation}\n"
            f"  parameters: {', '.join(law.param_names)}" + (f"; options: {opts}" if opts else "") + "\n"
            f"  {law.citation}"
        )
    print("\n\n".join(blocks))
    return 0


def _add_schedules(sub: argparse._SubParsersAction) -> None:
    from scaling.schedules import SPEC_GRAMMAR

    p = sub.add_parser("schedules", help="list LR schedule kinds and the --schedule spec grammar",
                       description=SPEC_GRAMMAR, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", nargs="?", metavar="SPEC", help="show the LR of this spec at a few steps")
    p.add_argument("--total", type=int, metavar="T", help="last step to show (default: the spec's total=)")
    p.set_defaults(func=_run_schedules)


def _run_schedules(args: argparse.Namespace) -> int:
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


# --------------------------------------------------------------------------- budget / report


def _load_fit(path: str):
    """FitResult from a JSON file, or a one-line error."""
    from pathlib import Path

    from scaling.errors import DataError

    if not Path(path).is_file():
        raise DataError(f"fit result {path} not found; make one with 'scaling fit ... --out {path}'")
    from scaling.fitting.result import FitResult

    return FitResult.load(path)


def _float_list(text: str, flag: str) -> list[float]:
    try:
        return [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise ScalingError(f"{flag} {text!r}: write comma-separated numbers, e.g. {flag} 0.1,0.2,0.3") from None


def _add_budget(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "budget",
        help="compute-optimal model size, data and loss for FLOP budgets (from a final-loss fit)",
        description=(
            "For each training budget C (FLOPs, C = 6ND): the compute-optimal model size N, tokens D, "
            "tokens per parameter and predicted loss, with bootstrap intervals from FIT.json (a fit of "
            "chinchilla or another law of N and D). With --target-loss: the compute needed to reach "
            "that loss, at a fixed --n, under a cap --max-n, or counting --inference-tokens."
        ),
    )
    p.add_argument("fit", metavar="FIT.json", help="fit result of a final-loss law of N and D")
    p.add_argument("--flops", type=float, action="append", default=[], metavar="C",
                   help="training budget in FLOPs (repeatable), e.g. --flops 1e21")
    p.add_argument("--flops-range", metavar="START:STOP:COUNT", help="log-spaced budgets, e.g. 1e19:1e23:9")
    p.add_argument("--target-loss", type=float, metavar="L", help="also: compute needed to reach loss L (nats)")
    p.add_argument("--n", type=float, metavar="N", help="with --target-loss: fixed model size (parameters)")
    p.add_argument("--max-n", type=float, metavar="N", help="with --target-loss: largest model size allowed")
    p.add_argument("--inference-tokens", type=float, default=0.0, metavar="T",
                   help="with --target-loss: tokens served at inference (cost 2N per token)")
    p.add_argument("--level", type=float, metavar="P", help="interval level (default: the fit's, e.g. 0.9)")
    p.add_argument("--out", metavar="CSV", help="also write the full table (with bounds) as CSV")
    p.set_defaults(func=_run_budget)


def _run_budget(args: argparse.Namespace) -> int:
    import numpy as np

    from scaling import budget
    from scaling.report.document import Table, fmt, interval, text_table, write_atomic

    flops = list(args.flops)
    if args.flops_range:
        flops += list(budget.flops_range(args.flops_range))
    if not flops and args.target_loss is None:
        raise ScalingError("give at least one --flops C (e.g. --flops 1e21), a --flops-range or a --target-loss")
    fit = _load_fit(args.fit)
    outputs = []
    if flops:
        plan = budget.compute_optimal(fit, np.array(flops), level=args.level)
        level = args.level or fit.level
        rows = tuple((fmt(r.flops, ".3g"), interval(r.N, r.N_lo, r.N_hi), interval(r.D, r.D_lo, r.D_hi),
                      interval(r.tokens_per_param, r.tokens_per_param_lo, r.tokens_per_param_hi),
                      interval(r.loss, r.loss_lo, r.loss_hi, ".4g")) for r in plan.itertuples(index=False))
        print(text_table(Table(("FLOPs", "N (params)", "D (tokens)", "D/N", "loss (nats)"), rows,
                               caption=f"Compute-optimal allocation from {args.fit} ({fit.law}; "
                                       f"[{level:.0%} bootstrap interval])")))
        outputs.append(plan)
    if args.target_loss is not None:
        df = budget.compute_for_loss(fit, args.target_loss, N=args.n, max_N=args.max_n,
                                     inference_tokens=args.inference_tokens, level=args.level)
        r = df.iloc[0]
        if not np.isfinite(r["N"]):
            print(f"\nLoss {args.target_loss:g} is not reachable with this fit"
                  + (f" at N = {args.n:g}" if args.n else "") + " (below the law's floor).")
        else:
            rows = tuple((k, interval(r[k], r[f"{k}_lo"], r[f"{k}_hi"])) for k in
                         ("N", "D", "tokens_per_param", "train_flops", "inference_flops", "total_flops"))
            how = f"fixed N = {args.n:g}" if args.n else (f"N <= {args.max_n:g}" if args.max_n else "N free")
            print()
            print(text_table(Table(("quantity", "value [interval]"), rows,
                                   caption=f"Cheapest way to reach loss {args.target_loss:g} ({how}, "
                                           f"{fmt(args.inference_tokens, 'g')} inference tokens; "
                                           f"reachable in {r['reachable']:.0%} of bootstrap samples)")))
        outputs.append(df)
    if args.out:
        import pandas as pd

        write_atomic(args.out, pd.concat(outputs, ignore_index=True).to_csv(index=False))
        print(f"\nwrote {args.out}")
    return 0


def _add_schedule_plan(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--steps", type=int, required=True, metavar="T", help="total optimizer steps (warmup included)")
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
    p.add_argument("--optimise", action="store_true",
                   help="also search a free monotone schedule minimising the predicted final loss "
                        "(Luo et al. 2025); its LRs go to --optimised-out")
    p.add_argument("--optimised-out", metavar="CSV", help="with --optimise: write step,lr of the searched schedule")
    p.add_argument("--out", metavar="CSV", help="also write the ranking as CSV")
    p.set_defaults(func=_run_schedule_plan)


def _run_schedule_plan(args: argparse.Namespace) -> int:
    from scaling import budget
    from scaling.report.document import Table, fmt, interval, text_table, write_atomic

    fit = _load_fit(args.fit)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    cands = budget.candidate_schedules(args.steps, args.peak, final=args.final, warmup=args.warmup,
                                       decay_fractions=_float_list(args.fractions, "--fractions"), shapes=shapes)
    for k, spec in enumerate(args.schedule):
        cands[f"user {k + 1}"] = spec
    if args.optimise:
        lr = budget.optimal_schedule(fit, steps=args.steps, peak=args.peak, final=args.final or 0.0,
                                     warmup=args.warmup, N=args.model_size)
        cands["optimised (free monotone)"] = lr
        if args.optimised_out:
            import numpy as np
            import pandas as pd

            write_atomic(args.optimised_out, pd.DataFrame({"step": np.arange(len(lr)), "lr": lr}).to_csv(index=False))
            print(f"wrote {args.optimised_out}")
    ranking = budget.compare_schedules(fit, cands, steps=args.steps, N=args.model_size)
    level = fit.level
    rows = tuple((str(r.rank), r.schedule, interval(r.final_loss, r.final_loss_lo, r.final_loss_hi, ".4f"),
                  interval(r.delta, r.delta_lo, r.delta_hi, ".3g"), fmt(r.p_best, ".2f"))
                 for r in ranking.itertuples(index=False))
    print(text_table(Table(("rank", "schedule", "final loss", "above best (paired)", "P(best)"), rows,
                           caption=f"Schedules for {args.steps} steps, peak {args.peak:g} ({fit.law}; "
                                   f"[{level:.0%} bootstrap interval])")))
    scan = budget.best_wsd_decay(fit, steps=args.steps, peak=args.peak, final=args.final, warmup=args.warmup,
                                 shape=args.scan_shape, N=args.model_size)
    best = scan.loc[scan["rank"] == 1].iloc[0]
    print()
    print("WSD decay-fraction scan (" + args.scan_shape + "): "
          + ", ".join(f"{d:g}: {v:.4f}" for d, v in zip(scan["decay"], scan["final_loss"])))
    top = ranking.iloc[0]
    print(f"best WSD decay fraction: {best['decay']:g} (final loss "
          f"{interval(best['final_loss'], best['final_loss_lo'], best['final_loss_hi'], '.4f')})")
    print(f"recommended: {top['schedule']}  ->  {top['spec']}")
    if args.out:
        write_atomic(args.out, ranking.to_csv(index=False))
        print(f"wrote {args.out}")
    return 0


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write an HTML + Markdown report (answer first, then figures) for one or more fits",
        description=(
            "Write DIR/report.html (self-contained, figures embedded), DIR/report.md and DIR/figures/*.png|svg. "
            "The report opens with the answer (compute-optimal N, D and loss for each --budget; the best "
            "schedule for the step budget) and then shows the evidence: fit summary, data and fitted law, "
            "residuals, bootstrap histograms, iso-FLOP curves, the compute-optimal frontier, fitted vs "
            "held-out curves and candidate schedules. Data default to the files recorded in each fit."
        ),
    )
    p.add_argument("fits", nargs="+", metavar="FIT.json", help="fit results (final-loss and/or loss-curve)")
    p.add_argument("--budget", type=float, action="append", default=[], metavar="C",
                   help="FLOP budget to plan for (repeatable; default 10x/100x/1000x the data's largest)")
    p.add_argument("--data", action="append", default=[], metavar="FILE",
                   help="curve logs or points tables to draw (repeatable; default: the fit's own files)")
    p.add_argument("--steps", type=int, metavar="T", help="step budget for the schedule plan (default: longest run)")
    p.add_argument("--peak", type=float, metavar="LR", help="peak LR for the schedule plan (default: the data's)")
    p.add_argument("--final", type=float, metavar="LR", help="final LR of the decays (default peak/10)")
    p.add_argument("--warmup", type=int, metavar="W", help="warmup steps for the schedule plan")
    p.add_argument("--published", action="store_true",
                   help="draw Hoffmann et al. 2022 and Epoch 2024 frontiers for comparison")
    p.add_argument("--title", default="Scaling plan", help="report title")
    p.add_argument("--compare", metavar="TABLE.csv",
                   help="a law-comparison table written by 'scaling compare ... --out TABLE.csv' (adds a section)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=_run_report)


def _read_comparison(path: str):
    import pandas as pd

    from scaling.errors import DataError

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; write it with 'scaling compare FILE... --laws A,B --out {path}'") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a comparison table CSV ({exc}); write it with 'scaling compare ... --out'") from None


def _run_report(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from scaling.report.build import build_report, load_data
    from scaling.report.document import write_report

    fits = [_load_fit(f) for f in args.fits]
    curves, points = load_data(args.data) if args.data else (None, None)
    plan = {"steps": args.steps, "peak": args.peak, "final": args.final, "warmup": args.warmup}
    comparison = _read_comparison(args.compare) if args.compare else None
    rep = build_report(fits, curves=curves, points=points, budgets=args.budget, schedule_plan=plan,
                       published=args.published, title=args.title, comparison=comparison)
    paths = write_report(rep, args.out)
    print(f"report: {paths['html']}")
    print(f"markdown: {paths['markdown']}")
    print(f"figures: {len(paths['figures'])} files in {paths['html'].parent / 'figures'}")
    return 0



# --------------------------------------------------------------------------- compare


def _add_compare(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--level", type=float, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--format", metavar="F", help="force the input format (see 'scaling inspect --help')")
    p.add_argument("--out", metavar="TABLE.csv", help="also write the table as CSV")
    p.set_defaults(func=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from scaling.compare import compare, format_table
    from scaling.fitting.result import write_text_atomic
    from scaling.laws import get_law

    names = [n.strip() for n in args.laws.split(",") if n.strip()]
    if not names:
        raise ScalingError("--laws needs at least one law name, e.g. --laws chinchilla,overtraining")
    shared, per_law = {}, {}
    for pair in args.law_option:
        head, sep, rest = pair.partition(":")
        if sep and "=" not in head:
            per_law.setdefault(head.strip(), {}).update(_law_options([rest]))
        else:
            shared.update(_law_options([pair]))
    options = {n: {**shared, **per_law.get(n, {})} for n in names}
    laws = [get_law(n, **options[n]) for n in names]
    table = _load_table_for(laws[0], args.files, fmt=args.format, split=args.split)
    result = compare(table, laws, holdout=args.holdout or None, loo=False if args.no_loo else None,
                     bootstrap=args.bootstrap, level=args.level, seed=args.seed, split=args.split,
                     warmup_steps=args.warmup_steps, target=args.target)
    print(format_table(result))
    if args.out:
        out = result.copy()
        out["options"] = out["options"].map(lambda o: ";".join(f"{k}={v}" for k, v in o.items()))
        write_text_atomic(args.out, out.to_csv(index=False))
        print(f"wrote {args.out}")
    return 0


# Order here is the order in ``scaling --help``.
_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_inspect,
    _add_fit,
    _add_compare,
    _add_predict,
    _add_laws,
    _add_schedules,
    _add_budget,
    _add_schedule_plan,
    _add_report,
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
