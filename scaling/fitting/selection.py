"""Which logged points of a loss curve a fit uses (and a prediction is scored on).

A loss-curve law describes training *after* warmup and after the first
transient: the loss at step 0 (the initial loss, ~log(vocab)) and the losses
inside the warmup follow neither ``L0 + A S1^-alpha`` nor the multi-power
form, and because the log-loss objective weighs every point alike, a few
such points (at a forward area 1,000x below the rest) can pull the whole fit
off. The default rule keeps a logged step ``s`` of a run when

.. math::

    s > W \\quad\\text{and}\\quad S_1(s) \\ge f\\, S_1(T),

where ``W`` is the last warmup step (given, or detected from the LR log as
the end of the initial strictly rising ramp, :func:`scaling.areas.warmup_end`;
``W = 0`` without warmup, so the step-0 point is dropped), ``S1`` the forward
area (cumulative LR) and ``T`` the run's last step. The area cut is
*relative* so it scales with the run: ``f = 0.01`` (default) drops the
first ~1 % of a constant-LR run's area (step <= 339 of a 33,908-step run,
where cutting every step below 1,000 was measured to hurt: issue 11, set B),
and never touches runs whose log starts after warmup (the Luo et al. 2025
curves: warmup alone is 9 % of the area of their shortest run).

Measured (lr-annealing with the Huber threshold 1e-3, mean PredE on
held-out schedules, scored on the same points): ``f`` = 0, 0.01, 0.03 give
0.141 / 0.154 / 0.228 % on the Luo 25M / 100M / 400M protocol and 2.99 % on
the bundled curves; ``f = 0.1`` gives 0.139 / 0.152 / 0.227 % and 2.75 %, ``f = 0.2`` 0.149 /
0.147 / 0.214 % and 3.12 %. The larger cuts gain little here and would
cut set B of issue 11 at step ~1,900 of 33,908, where cutting at step 1,000
(5 % of its area) already tripled the error; hence 0.01. On the bundled
runs the warmup cut is what matters (their step-20 point is inside the
30-step warmup).

``min_step`` / ``max_step`` override the lower cut and add an upper one:
with ``min_step`` set, only ``min_step <= s`` (and ``s <= max_step``) is
used, whatever the warmup.

The rule is a plain JSON-ready dict (:func:`selection_rule`), recorded with
the counts of excluded points in ``Dataset.info["selection"]`` and so in
``FitResult.data_info["selection"]``; :func:`fit_mask` applies the same
rule to any ``(steps, lr)``, which is how a prediction is compared with
observed data on the points the fit would have used.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from scaling.errors import DataError

#: Default fraction ``f`` of the run's total forward area below which points are early transient.
MIN_AREA_FRACTION = 0.01

#: Runs with more selected points than this are averaged by default (see :func:`aggregation_window`).
LARGE_RUN_POINTS = 10_000

RULE_KEYS = ("exclude_warmup", "warmup_steps", "min_area_fraction", "min_step", "max_step")


def selection_rule(*, exclude_warmup: bool = True, warmup_steps: int | None = None,
                   min_area_fraction: float = MIN_AREA_FRACTION, min_step: int | None = None,
                   max_step: int | None = None) -> dict[str, Any]:
    """The point-selection rule as a JSON-ready dict (see the module docstring).

    Parameters
    ----------
    exclude_warmup : bool
        Drop steps ``s <= W`` (default True).
    warmup_steps : int or None
        Warmup length ``W``; None detects it per run from the LR log.
    min_area_fraction : float
        ``f``: drop steps whose forward area is below ``f`` times the run's
        total (0 disables).
    min_step, max_step : int or None
        Keep only ``min_step <= s <= max_step``; ``min_step`` replaces the
        warmup and area cuts.

    Returns
    -------
    dict with keys :data:`RULE_KEYS`.
    """
    if min_area_fraction is None or not 0.0 <= float(min_area_fraction) < 1.0:
        raise DataError(f"min_area_fraction must be in [0, 1), not {min_area_fraction!r}")
    if min_step is not None and max_step is not None and int(max_step) < int(min_step):
        raise DataError(f"max_step ({max_step}) is below min_step ({min_step}); no point would be fitted")
    return {
        "exclude_warmup": bool(exclude_warmup),
        "warmup_steps": None if warmup_steps is None else int(warmup_steps),
        "min_area_fraction": float(min_area_fraction),
        "min_step": None if min_step is None else int(min_step),
        "max_step": None if max_step is None else int(max_step),
    }


def keep_all_rule() -> dict[str, Any]:
    """A rule that keeps every logged point (the behaviour before point selection)."""
    return selection_rule(exclude_warmup=False, min_area_fraction=0.0)


def as_rule(rule: Mapping[str, Any] | None) -> dict[str, Any]:
    if rule is None:
        return selection_rule()
    unknown = set(rule) - set(RULE_KEYS)
    if unknown:
        raise DataError(f"unknown point-selection keys {sorted(unknown)}; known: {', '.join(RULE_KEYS)}")
    return selection_rule(**{k: rule[k] for k in RULE_KEYS if k in rule})


def detect_warmup(lr) -> int:
    """Last warmup step ``W`` of a per-step LR array: where the initial rise reaches its top.

    ``W`` is the last step at which the LR rises before it first decreases
    (0 when it never rises before decreasing). Unlike
    :func:`scaling.areas.warmup_end` (which needs a strict rise from step 0)
    this also finds a warmup in logs whose first LR value was held back to
    step 0 (a log starting inside warmup, rebuilt by
    :func:`scaling.runs.lr_per_step`), which would otherwise keep the warmup
    points in the fit.
    """
    lr = np.asarray(lr, dtype=np.float64)
    if lr.size < 2:
        return 0
    d = np.diff(lr)
    falls = np.flatnonzero(d < 0)
    head = d[: falls[0]] if falls.size else d
    rises = np.flatnonzero(head > 0)
    return int(rises[-1] + 1) if rises.size else 0


def point_reasons(steps, lr, rule: Mapping[str, Any] | None = None) -> tuple[np.ndarray, int]:
    """Why each point is excluded: codes per point and the warmup end used.

    Returns
    -------
    reason : ndarray of int8, shape (n,)
        0 kept, 1 warmup (``s <= W``), 2 early transient (area below
        ``f S1(T)``), 3 below ``min_step``, 4 above ``max_step``.
    warmup : int
        ``W`` used for this run.
    """
    rule = as_rule(rule)
    steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    lr = np.asarray(lr, dtype=np.float64).reshape(-1)
    if steps.size and (steps.min() < 0 or steps.max() >= lr.size):
        raise DataError(f"steps must lie in 0..{lr.size - 1} (the LR array's last step); got "
                        f"{steps.min()}..{steps.max()}")
    w = rule["warmup_steps"] if rule["warmup_steps"] is not None else detect_warmup(lr)
    reason = np.zeros(steps.shape, dtype=np.int8)
    if rule["min_step"] is not None:
        reason[steps < rule["min_step"]] = 3
    else:
        if rule["min_area_fraction"] > 0.0 and lr.size:
            area = np.cumsum(lr)
            reason[area[steps] < rule["min_area_fraction"] * area[-1]] = 2
        if rule["exclude_warmup"]:
            reason[steps <= w] = 1
    if rule["max_step"] is not None:
        reason[steps > rule["max_step"]] = 4
    return reason, int(w)


def fit_mask(steps, lr, rule: Mapping[str, Any] | None = None) -> np.ndarray:
    """Boolean mask of the points a fit with ``rule`` uses.

    Parameters
    ----------
    steps : array of int, shape (n,)
        Logged steps of one run.
    lr : array, shape (T + 1,)
        The run's LR at every step ``0..T`` (index = step).
    rule : mapping, optional
        From :func:`selection_rule` or ``FitResult.data_info["selection"]["rule"]``
        (default: the default rule).

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> lr = np.r_[np.linspace(0, 1e-3, 11), np.full(990, 1e-3)]
    >>> fit_mask(np.array([0, 5, 10, 20, 500]), lr).tolist()
    [False, False, False, True, True]
    """
    return point_reasons(steps, lr, rule)[0] == 0


REASON_NAMES = {1: "warmup", 2: "early_transient", 3: "below_min_step", 4: "above_max_step"}


def select_run(steps, loss, lr, rule: Mapping[str, Any] | None = None):
    """Apply the rule to one run: ``(steps, loss, record)`` of the kept points.

    ``record`` holds ``warmup_steps`` (``W`` used), ``n_logged``, ``n_kept``
    and the number excluded per reason.
    """
    steps = np.asarray(steps, dtype=np.int64)
    loss = np.asarray(loss, dtype=np.float64)
    reason, w = point_reasons(steps, lr, rule)
    record: dict[str, Any] = {"warmup_steps": w, "n_logged": int(steps.size), "n_kept": int(np.sum(reason == 0))}
    for code, name in REASON_NAMES.items():
        record[name] = int(np.sum(reason == code))
    keep = reason == 0
    return steps[keep], loss[keep], record


#: ``aggregate="auto"`` aims at about this many points per run.
AUTO_POINTS = 250


def aggregation_window(n_points: int, aggregate) -> int:
    """Window length (in logged points) for ``aggregate``: an int, ``"auto"`` or None (the default).

    ``"auto"`` averages runs of more than ``2 * AUTO_POINTS`` points down to
    about :data:`AUTO_POINTS` (per-step training logs), and leaves sparser
    logs alone. ``None`` does the same only for runs of more than
    :data:`LARGE_RUN_POINTS` points (a million-step log then fits in seconds
    instead of minutes, in a few hundred MB); ``1`` never averages.
    """
    if aggregate is None:
        # the default: logs so long that fitting every point costs minutes and gigabytes (a
        # per-step log of a long run) are averaged as "auto" does; sparser logs are left alone
        return int(np.ceil(n_points / AUTO_POINTS)) if n_points > LARGE_RUN_POINTS else 1
    if aggregate == "auto":
        return int(np.ceil(n_points / AUTO_POINTS)) if n_points > 2 * AUTO_POINTS else 1
    try:
        window = int(aggregate)
    except (TypeError, ValueError):
        raise DataError(f"aggregate must be a window length (int), 'auto' or None, not {aggregate!r}") from None
    if window < 1:
        raise DataError(f"aggregate must be >= 1 logged points, not {window}")
    return window


def fitted_aggregate(data_info: Mapping[str, Any] | None) -> int | str | None:
    """The ``aggregate`` option a curve fit was made with, read back from its ``data_info`` (None: the default)."""
    option = ((data_info or {}).get("aggregate") or {}).get("option")
    return None if option in (None, "default (long runs)") else option


def aggregate_points(steps, loss, window: int):
    """Average consecutive logged points in windows of ``window``: ``(steps, loss)`` of the windows.

    Noisy per-step training loss (~1 % step to step) is fitted better as
    window means: the noise of a mean of ``k`` points is ``~1/sqrt(k)``
    smaller (less for correlated noise), the log-loss objective sees the
    curve instead of the noise, and the fit is ``k`` times cheaper. Each
    window is placed at the mean of its steps (rounded), where a smooth
    curve equals its window mean up to a curvature term of order
    ``(k / s)^2``, negligible once the early transient is excluded. A last
    partial window is kept (its own mean).
    """
    steps = np.asarray(steps, dtype=np.int64)
    loss = np.asarray(loss, dtype=np.float64)
    if window <= 1 or steps.size == 0:
        return steps, loss
    idx = np.arange(steps.size) // int(window)
    counts = np.bincount(idx)
    centre = np.rint(np.bincount(idx, weights=steps.astype(np.float64)) / counts).astype(np.int64)
    return centre, np.bincount(idx, weights=loss) / counts


def describe(selection: Mapping[str, Any]) -> str:
    """One line for reports: the rule and how many points it excluded."""
    rule = selection.get("rule", {})
    runs = selection.get("runs", {})
    n_log = sum(r.get("n_logged", 0) for r in runs.values())
    n_keep = sum(r.get("n_kept", 0) for r in runs.values())
    counts = {name: sum(r.get(name, 0) for r in runs.values()) for name in REASON_NAMES.values()}
    if rule.get("min_step") is not None:
        what = f"steps >= {rule['min_step']}"
    else:
        parts = []
        if rule.get("exclude_warmup", True):
            w = rule.get("warmup_steps")
            parts.append("after warmup" + (f" (W = {w})" if w is not None else " (detected from the LR)"))
        if rule.get("min_area_fraction", 0) > 0:
            parts.append(f"forward area >= {rule['min_area_fraction']:g} x the run's total")
        what = " and ".join(parts) or "all logged steps"
    if rule.get("max_step") is not None:
        what += f", steps <= {rule['max_step']}"
    dropped = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)
    return f"{n_keep} of {n_log} points: {what}" + (f" (excluded: {dropped})" if dropped else "")


__all__ = ["AUTO_POINTS", "MIN_AREA_FRACTION", "aggregate_points", "aggregation_window", "as_rule", "describe", "detect_warmup", "fit_mask",
           "fitted_aggregate", "keep_all_rule", "point_reasons",
           "select_run", "selection_rule"]
