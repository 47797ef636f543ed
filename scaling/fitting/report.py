"""Text report of a fit, in the sections of ``lmfit.fit_report``.

Computing is separate from showing (STYLE.md 6): :func:`fit_report` only
reads a :class:`~scaling.fitting.result.FitResult` and returns a string.
"""

from __future__ import annotations

import numpy as np


def _g(x: float, digits: int = 7) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


def _interval(iv) -> str:
    return f"[{_g(iv[0], 6)}, {_g(iv[1], 6)}]" if iv is not None else ""


def objective_text(info) -> str:
    """The objective a fit minimised, as text: ``huber-log, delta = 0.001`` or ``lsq-raw``.

    Parameters
    ----------
    info : mapping
        The fit's ``data_info`` (its ``objective`` and ``delta``; fits saved
        before the option existed read as ``huber-log``).

    Returns
    -------
    str
    """
    name = info.get("objective", "huber-log")
    delta = info.get("delta")
    return f"{name}, delta = {_g(delta, 3)}" if name == "huber-log" and delta is not None else name


def _converged_text(result) -> str:
    """``True: <how it stopped>``, qualified when the data do not determine some parameters."""
    from scaling.fitting.diagnostics import convergence, undetermined_phrase

    conv = convergence(result)
    text = f"{result.success}: {result.message}"
    if conv["undetermined"]:
        text += (f"; {'but ' if result.success else ''}"
                 f"{undetermined_phrase(conv['undetermined'], len(result.param_names))}")
    return text


def fit_report(result, *, min_correl: float = 0.1) -> str:
    """lmfit-style report: fit statistics, variables, derived quantities, correlations.

    Parameters
    ----------
    result : FitResult
    min_correl : float
        Correlations smaller in magnitude are not listed (lmfit's default 0.1).

    Returns
    -------
    str
    """
    info = dict(result.data_info)
    boot = info.get("bootstrap") or {}
    pct = f"{100 * result.level:g}%"
    lines = ["[[Model]]", f"    law: {result.law}"
             + (f" ({', '.join(f'{k}={v}' for k, v in result.law_options.items())})" if result.law_options else "")]
    try:
        law = result.law_object()
        lines.append(f"    {law.equation}")
    except Exception:  # noqa: BLE001 - an unknown law still gets a report
        pass
    files = info.get("files") or []
    lines += [
        "[[Fit Statistics]]",
        f"    # data points      = {result.n_points}",
        f"    # variables        = {len(result.params)}",
        f"    objective          = {_g(result.objective, 10)}   ({objective_text(info)}, summed over points)",
        f"    Akaike info crit   = {_g(result.aic)}",
        f"    Bayesian info crit = {_g(result.bic)}",
        f"    R-squared (loss)   = {_g(result.r2)}",
        f"    RMSE (loss, nats)  = {_g(result.rmse)}",
        f"    starts at best     = {result.n_starts_at_best} of {result.n_starts}"
        f"   (within 1e-9 relative; strategy {info.get('strategy', '?')})",
        f"    Newton iterations  = {result.nfev}",
        f"    time               = {result.seconds:.3f} s",
        f"    converged          = {_converged_text(result)}",
    ]
    if files:
        lines.append(f"    data               = {', '.join(map(str, files))}")
    if boot:
        lines.append(f"    bootstrap          = {boot.get('n', 0)} resamples by {boot.get('by', '?')}"
                     f", seed {result.seed}, {boot.get('failed', 0)} failed")
    if info.get("splits"):
        from scaling.fitting.dataset import describe_splits

        lines.append(f"    loss fitted        = {describe_splits(info['splits'])}")
    if info.get("selection"):
        from scaling.fitting.selection import describe

        lines.append(f"    points used        = {describe(info['selection'])}")
    agg = info.get("aggregate") or {}
    windows = {k: int(v) for k, v in (agg.get("window") or {}).items() if int(v) > 1}
    if windows:
        lines.append("    aggregated         = fitted as means of " + ", ".join(
            f"{w} consecutive points ({run})" for run, w in windows.items())
            + f" [{agg.get('option')}; --aggregate 1 fits every point]")
    pr = info.get("prior") or {}
    if pr:
        lines.append("    prior              = " + ", ".join(
            f"{q} ~ N({m:.3g}, {sd:.3g}^2) -> {v:.3g}" for q, m, sd, v in zip(pr["quantities"], pr["mean"], pr["sd"],
                                                                          pr["value"]))
            + f"  (weight {pr['weight']:.3g}; --prior none fits without it)")
    cal = dict(getattr(result, "calibration", {}) or {})
    if "sigma_log" in cal:
        lines.append(f"    predictive sigma   = {100 * cal['sigma_log']:.3f}% (log scale, {cal.get('method')} on "
                     f"{cal.get('n_points', '?')} held-out points; calibrated at {pct})")
    se_kind = ("bootstrap SD" if result.samples is not None
               else "Laplace (posterior, with the prior)" if pr else "Laplace (smoothed sandwich)")
    method = info.get("intervals") or ("bootstrap" if result.samples is not None else "laplace")
    ci_kind = {"bootstrap": "bootstrap percentile", "laplace": "Laplace (t)",
               "profile": "profile-likelihood"}.get(method, method)
    lines.append(f"[[Variables]]   (stderr: {se_kind}; {pct} {ci_kind} intervals)")
    width = max(len(n) for n in result.param_names)
    for i, name in enumerate(result.param_names):
        v, se = float(result.params[i]), float(result.stderr[i])
        rel = f" ({100 * abs(se / v):.2f}%)" if np.isfinite(se) and v != 0 else ""
        lines.append(f"    {name:<{width}}: {_g(v):>12} +/- {_g(se, 6):<10}{rel:<11} "
                     f"{_interval(result.intervals.get(name))}")
    if result.derived:
        lines.append(f"[[Derived]]   (natural units; {pct} intervals)")
        width = max(len(n) for n in result.derived)
        for name, v in result.derived.items():
            if name in result.fixed_derived:
                lines.append(f"    {name:<{width}}: {_g(v):>12}{'':<16} (fixed: a law option, not fitted)")
                continue
            samples = result.derived_samples.get(name)
            sd = f" +/- {_g(float(np.nanstd(samples, ddof=1)), 6)}" if samples is not None and samples.size > 1 else ""
            lines.append(f"    {name:<{width}}: {_g(v):>12}{sd:<16} {_interval(result.derived_intervals.get(name))}")
    correl = result.correl
    if correl is not None:
        pairs = []
        p = len(result.param_names)
        for i in range(p):
            for j in range(i + 1, p):
                c = correl[i, j]
                if np.isfinite(c) and abs(c) >= min_correl:
                    pairs.append((abs(c), f"    C({result.param_names[i]}, {result.param_names[j]})", c))
        if pairs:
            lines.append(f"[[Correlations]] (unreported correlations are < {min_correl:.3f})")
            width = max(len(x[1]) for x in pairs)
            for _, label, c in sorted(pairs, key=lambda x: -x[0]):
                lines.append(f"{label:<{width}} = {c:+.4f}")
    diagnostics = tuple(getattr(result, "diagnostics", ()) or ())
    if diagnostics:
        from scaling.fitting.diagnostics import format_diagnostics

        n_warn = sum(d.get("severity") == "warning" for d in diagnostics)
        lines.append(f"[[Diagnostics]] ({n_warn} warning{'s' if n_warn != 1 else ''})")
        lines += [f"    {line}" for line in format_diagnostics(diagnostics)]
    return "\n".join(lines)


__all__ = ["fit_report", "objective_text"]
