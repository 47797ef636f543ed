"""Guess the shape of a learning-rate schedule from logged (step, lr) points.

Used by ``scaling inspect`` to say what kind of schedule a run used, so a
user can check that the log was read right and pick a curve law. Pure numpy;
a heuristic for display, not an input to any fit.

Shapes (after an optional warmup, i.e. a rise from below 90 % of the peak
up to the peak):

``constant``  the LR stays within 0.1 % of its peak.
``step``      piecewise constant: at most 4 drops that make at least 90 %
              of the decrease (e.g. a two-stage schedule, Luo et al. 2025 "WSD-con").
``WSD``       warmup-stable-decay (Hu et al. 2024, arXiv:2404.06395): a
              flat stretch at the peak, then a monotone decay; the decay's form
              (linear, cosine, exponential or 1-sqrt, the cooldown of Hägele et
              al. 2024, arXiv:2405.18392) is in ``detail``. A stretch over at
              least 20 % of the post-warmup steps makes it WSD; a shorter one
              (a 90 % cooldown) only when the whole decay is not ``linear`` or
              ``cosine`` and the part after the stretch fits one of the forms.
``cosine``    :math:`\\eta(x) = \\eta_1 + (\\eta_0 - \\eta_1)(1 + \\cos \\pi x)/2`,
              :math:`x \\in [0, 1]` over the logged decay (Loshchilov & Hutter 2017).
``linear``    :math:`\\eta(x) = \\eta_0 + (\\eta_1 - \\eta_0)\\,x`.
``other``     anything else (inverse square root, exponential, cyclic, rising).
``unknown``   no LR was logged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["ScheduleShape", "guess_schedule_shape", "warmup_phrase"]

_FLAT = 0.999  # within 0.1 % of the peak counts as "at the peak"
_FIT_RMS = 0.02  # a form fits when its RMS error is under 2 % of the peak


@dataclasses.dataclass(frozen=True)
class ScheduleShape:
    """Result of :func:`guess_schedule_shape`.

    Attributes
    ----------
    shape : str
        One of ``constant, step, WSD, cosine, linear, other, unknown``.
    warmup_steps : int or None
        Step at which the logged LR first reaches its peak after a rise from
        below 90 % of it; None when the log shows no warmup (it may have been
        before the first logged step).
    detail : str
        A short human note, e.g. ``"decay from step 20000, exponential"``.
    warmup_after : int or None
        When the log's last point below the peak is more than a tenth of the
        warmup before ``warmup_steps`` (validation-only logs every few hundred
        steps): that step, since the warmup ended somewhere after it; None
        otherwise.
    """

    shape: str
    warmup_steps: int | None
    detail: str
    warmup_after: int | None = None

    def describe(self) -> str:
        """One phrase for a summary line, e.g. ``"cosine, warmup to step 500, to zero"``."""
        parts = [self.shape, warmup_phrase(self.shape, self.warmup_steps, self.warmup_after)]
        if self.detail:
            parts.append(self.detail)
        return ", ".join(p for p in parts if p)


def warmup_phrase(shape: str, warmup_steps: int | None, warmup_after: int | None = None) -> str:
    """What the log shows of the warmup: ``"warmup to step 500"``, ``"warmup ends between steps 200 and 400"``
    (sparse LR log), ``"no warmup in log"``, or ``""`` for an unknown shape."""
    if warmup_steps is not None:
        if warmup_after is not None:
            return f"warmup ends between steps {warmup_after} and {warmup_steps}"
        return f"warmup to step {warmup_steps}"
    return "" if shape == "unknown" else "no warmup in log"


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _decay_form(x: np.ndarray, y: np.ndarray) -> tuple[str, float, bool]:
    """Best of linear / cosine / 1-sqrt / exponential for a decay y(x), x in [0, 1].

    Returns (name, rms, clear) where ``clear`` says the best form's error is
    under half the runner-up's (sparse logging blurs where a WSD decay
    starts, which inflates every form's error alike).
    """
    y0, y1 = y[0], y[-1]
    forms = {
        "linear": y0 + (y1 - y0) * x,
        "cosine": y1 + (y0 - y1) * 0.5 * (1.0 + np.cos(np.pi * x)),
        "1-sqrt": y1 + (y0 - y1) * (1.0 - np.sqrt(x)),
    }
    if y1 > 0:
        forms["exponential"] = y0 ** (1.0 - x) * y1**x
    errs = {k: _rms(v, y) for k, v in forms.items()}
    ranked = sorted(errs, key=errs.get)
    best = ranked[0]
    clear = len(ranked) > 1 and errs[best] < 0.5 * errs[ranked[1]]
    return best, errs[best], clear


def guess_schedule_shape(step: np.ndarray, lr: np.ndarray) -> ScheduleShape:
    """Guess the schedule shape from logged LR values.

    Parameters
    ----------
    step : array-like, shape (n,)
        Steps where the LR was logged (any order; NaN LRs are ignored).
    lr : array-like, shape (n,)
        LR at those steps.

    Returns
    -------
    ScheduleShape

    Examples
    --------
    >>> s = np.arange(0, 1001, 10)
    >>> guess_schedule_shape(s, 1e-3 * 0.5 * (1 + np.cos(np.pi * s / 1000))).shape
    'cosine'
    """
    s = np.asarray(step, dtype=float).ravel()
    v = np.asarray(lr, dtype=float).ravel()
    ok = np.isfinite(s) & np.isfinite(v)
    s, v = s[ok], v[ok]
    if len(v) == 0:
        return ScheduleShape("unknown", None, "no LR logged")
    order = np.argsort(s, kind="stable")
    s, v = s[order], v[order]
    guess = _classify(s, v)
    if guess.warmup_steps is not None:
        # a log gap of over a tenth of the warmup hides where the peak was reached (a 300-step warmup
        # logged every 200 steps first shows the peak at step 400); a finer log pins it well enough
        before = s[s < guess.warmup_steps]
        if before.size and guess.warmup_steps - before[-1] > max(1.0, 0.1 * guess.warmup_steps):
            guess = dataclasses.replace(guess, warmup_after=int(before[-1]))
    return guess


def _classify(s: np.ndarray, v: np.ndarray) -> ScheduleShape:
    """The shape of a sorted, finite, non-empty LR log ``v`` at steps ``s``."""
    peak = float(v.max())
    if peak <= 0:
        return ScheduleShape("other", None, "LR is 0 throughout")
    y = v / peak
    ip = int(np.argmax(y >= _FLAT))
    while 0 < ip < len(y) - 1 and y[ip + 1] > y[ip]:
        # the warmup ends at the top of its strictly rising ramp, as the fit reads it
        # (scaling.areas.warmup_end), not where it first comes within 0.1 % of the peak
        ip += 1
    warmup = None
    if ip > 0:
        rising = bool(np.all(np.diff(y[: ip + 1]) >= -1e-3))
        if y[0] < 0.9 and rising:
            warmup = int(s[ip])
        else:
            return ScheduleShape("other", None, "LR rises after the first logged step")
    ys, xs = y[ip:], s[ip:]
    if ys.min() >= _FLAT:
        return ScheduleShape("constant", warmup, "")
    d = np.diff(ys)
    if np.any(d > 1e-3):
        return ScheduleShape("other", warmup, "LR goes up again after its peak")
    # A step schedule: a few jumps that make (nearly) the whole decrease. Counting
    # only "intervals that drop by more than 1e-4" is not enough: a cosine or
    # linear decay logged at every step of a long run drops by less than that
    # per step, so it would have zero "drops" and look like a step schedule.
    drops = np.flatnonzero(-d > 1e-4)
    total_drop = float(ys[0] - ys[-1])
    if 1 <= len(drops) <= 4 and len(drops) <= 0.1 * len(d) and -d[drops].sum() >= 0.9 * total_drop:
        at = ", ".join(str(int(xs[i + 1])) for i in drops)
        return ScheduleShape("step", warmup, f"{len(drops)} drop{'s' * (len(drops) > 1)} at step {at}")
    if len(ys) < 4:
        return ScheduleShape("other", warmup, "too few LR points to tell")
    x = (xs - xs[0]) / (xs[-1] - xs[0])
    k = int(np.argmax(ys < _FLAT)) - 1  # last index of the flat stretch at the peak
    if x[k] >= 0.2:
        return ScheduleShape("WSD", warmup, f"decay after step {int(xs[k])}, {_tail_form(xs, ys, k) or 'irregular'}")
    name, err, _ = _decay_form(x, ys)
    if name in ("linear", "cosine") and err <= _FIT_RMS:
        # a decay to exactly 0 (cosine to zero) reads "to zero", not "to 0 x peak"
        return ScheduleShape(name, warmup, "to zero" if v[-1] <= 0 else f"to {v[-1] / peak:.3g} x peak")
    # a short stable stretch (a WSD with a 90 % cooldown keeps the peak for 10 % of the
    # steps): the whole decay fits no form, but what follows the stretch may
    tail = _tail_form(xs, ys, k) if k > 0 and len(ys) - k >= 4 else None
    if tail:
        return ScheduleShape("WSD", warmup, f"decay after step {int(xs[k])}, {tail}")
    return ScheduleShape("other", warmup, "monotone decay, not linear or cosine")


def _tail_form(xs: np.ndarray, ys: np.ndarray, k: int) -> str | None:
    """The form of the decay after the flat stretch ending at index ``k``, or None when none fits."""
    name, err, clear = _decay_form((xs[k:] - xs[k]) / (xs[-1] - xs[k]), ys[k:])
    return name if err <= _FIT_RMS or (clear and err <= 3 * _FIT_RMS) else None
