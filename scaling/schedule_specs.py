"""Schedules from short text specs (``cosine:peak=3e-4,total=24000``), as the CLI takes them.

:func:`parse_schedule` builds a :mod:`scaling.schedules` schedule from a spec
and checks every number (finite, LRs >= 0, a peak > 0, whole step counts up
to :data:`scaling.schedules.MAX_STEPS`); the grammar is :data:`SPEC_GRAMMAR`
(``scaling schedules --help``). Both are re-exported by :mod:`scaling.schedules`.
"""

from __future__ import annotations

import numpy as np

from scaling.errors import ScalingError
from scaling.schedules import (
    MAX_STEPS,
    Schedule,
    constant,
    cosine,
    cyclic,
    inverse_sqrt,
    multi_step,
    two_stage,
    warmup,
    wsd,
)

__all__ = ["SPEC_GRAMMAR", "parse_schedule"]

SPEC_GRAMMAR = """\
Schedule spec: NAME:key=value,key=value,...   (steps are global optimizer steps, warmup included)

Keys shared by all kinds:
  peak=LR        peak learning rate (required)
  warmup=W       linear warmup from warmup_init (default 0) to peak over steps 0..W (default W=0)
  total=T        last step of the schedule (required by cosine, linear, wsd, multistep, cyclic)

Kinds:
  constant:peak=3e-4,warmup=2160[,total=T]
  cosine:peak=3e-4,final=3e-5,warmup=2160,total=24000           half cosine from peak at W to final at T
  linear:peak=3e-4,final=0,warmup=2160,total=24000              linear decay from peak at W to final at T
  wsd:peak=3e-4,final=3e-5,warmup=2160,total=24000,decay=0.2,shape=exp
        stable at peak, then decay over the last decay*T steps (or decay_steps=4000);
        shape = linear | cosine | 1-sqrt | exp (geometric; needs final > 0)
  multistep:peak=3e-4,warmup=2000,total=100000,at=0.8/0.9,factors=0.316/0.1
        LR = peak*factors[i] from step at[i]*T on (at < 1: fraction of T; else a step)
  twostage:peak=3e-4,low=9e-5,switch=8000,warmup=2160[,total=T]  peak until step switch, then low
  invsqrt:peak=3e-4,warmup=2000[,timescale=W]                   peak*sqrt(tau/(s-W+tau)) after warmup
  cyclic:peak=3e-4,final=3e-5,period=5000,rewarmup=500,warmup=2160,total=24000[,shape=cosine]
        decay over period-rewarmup steps, ramp back to peak over rewarmup steps, repeat

Numbers accept 3e-4, 0.0003, 24000, 24k, 1.5M. Keys are case-sensitive; unknown keys are errors.
Example: scaling predict fit.json --schedule wsd:peak=3e-4,final=3e-5,warmup=2160,total=24000,decay=0.2,shape=exp --out pred.csv
"""

_KINDS = {
    "constant": ({"peak"}, {"warmup", "warmup_init", "total"}),
    "cosine": ({"peak", "total"}, {"final", "warmup", "warmup_init"}),
    "linear": ({"peak", "total"}, {"final", "warmup", "warmup_init"}),
    "wsd": ({"peak", "total"}, {"final", "warmup", "warmup_init", "decay", "decay_steps", "shape"}),
    "multistep": ({"peak", "total", "at", "factors"}, {"warmup", "warmup_init"}),
    "twostage": ({"peak", "low", "switch"}, {"warmup", "warmup_init", "total"}),
    "invsqrt": ({"peak"}, {"warmup", "warmup_init", "timescale", "total"}),
    "cyclic": ({"peak", "period", "total"}, {"final", "rewarmup", "warmup", "warmup_init", "shape"}),
}


def _number(text: str, key: str, spec: str) -> float:
    t = text.strip().lower()
    mult = 1.0
    if t and t[-1] in "km":
        mult = 1e3 if t[-1] == "k" else 1e6
        t = t[:-1]
    try:
        value = float(t) * mult
    except ValueError:
        raise ScalingError(f"schedule spec {spec!r}: {key}={text!r} is not a number; write e.g. {key}=3e-4") from None
    if not np.isfinite(value):
        raise ScalingError(f"schedule spec {spec!r}: {key}={text!r} is not a finite number; write e.g. {key}=3e-4")
    return value


def parse_schedule(spec: str) -> tuple[Schedule, int | None]:
    """Build a schedule from a text spec; return ``(schedule, total_steps)``.

    ``total_steps`` is the spec's ``total=`` (``None`` when the kind does not
    need one). The grammar is :data:`SPEC_GRAMMAR` (also ``scaling schedules --help``).

    Examples
    --------
    >>> sched, total = parse_schedule("cosine:peak=3e-4,final=3e-5,warmup=2160,total=24000")
    >>> total
    24000
    """
    if not isinstance(spec, str):
        raise ScalingError(f"schedule spec must be text such as 'cosine:peak=3e-4,total=24000', got {type(spec).__name__}")
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in _KINDS:
        raise ScalingError(
            f"schedule spec {spec!r}: unknown kind {kind!r}; use one of {', '.join(_KINDS)} (see 'scaling schedules --help')"
        )
    required, optional = _KINDS[kind]
    raw: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise ScalingError(f"schedule spec {spec!r}: {item!r} is not key=value")
        if key not in required | optional:
            raise ScalingError(
                f"schedule spec {spec!r}: unknown key {key!r} for {kind}; allowed: {', '.join(sorted(required | optional))}"
            )
        if key in raw:
            raise ScalingError(f"schedule spec {spec!r}: {key}= is given twice; keep one")
        raw[key] = value.strip()
    missing = sorted(required - set(raw))
    if missing:
        raise ScalingError(f"schedule spec {spec!r}: {kind} needs {', '.join(k + '=' for k in missing)}")

    def num(key, default=None):
        return _number(raw[key], key, spec) if key in raw else default

    def lr(key, default=None, *, positive=False):
        v = num(key, default)
        if v is not None and (v < 0 or (positive and v == 0)):
            raise ScalingError(
                f"schedule spec {spec!r}: {key}={raw[key]} must be a learning rate {'> 0' if positive else '>= 0'}"
            )
        return v

    def steps(key, default=None, *, minimum=0):
        v = num(key, default)
        if v is None:
            return None
        if v != round(v) or not minimum <= v <= MAX_STEPS:
            raise ScalingError(
                f"schedule spec {spec!r}: {key}={raw.get(key, v)} must be a whole number of steps "
                f"from {minimum} to {MAX_STEPS:,} (1e8)"
            )
        return int(v)

    peak = lr("peak", positive=True)
    final = lr("final", 0.0)
    if final > peak:
        raise ScalingError(f"schedule spec {spec!r}: final={raw['final']} is above peak={raw['peak']}; a decay ends below its peak")
    w = steps("warmup", 0)
    init = lr("warmup_init", 0.0)
    total = steps("total", minimum=1)
    if total is not None and total <= w:
        raise ScalingError(f"schedule spec {spec!r}: total={total} must exceed warmup={w}")
    shape = raw.get("shape", "cosine" if kind == "cyclic" else "linear")
    if shape in ("exponential", "geometric"):
        shape = "exp"

    if kind == "constant":
        body = constant(peak)
    elif kind == "cosine":
        body = cosine(peak, total - w, final=final)
    elif kind == "linear":
        body = wsd(peak, total - w, decay_steps=total - w, final=final, shape="linear")
    elif kind == "wsd":
        if "decay_steps" in raw:
            dsteps = steps("decay_steps", minimum=1)
        else:
            frac = num("decay", 0.2)
            if not 0 < frac <= 1:
                raise ScalingError(f"schedule spec {spec!r}: decay={frac} must be a fraction in (0, 1]")
            dsteps = max(int(round(frac * total)), 1)
        dsteps = min(dsteps, total - w)
        body = wsd(peak, total - w, decay_steps=dsteps, final=final, shape=shape)
    elif kind == "multistep":
        at = [_number(a, "at", spec) for a in raw["at"].split("/")]
        factors = [_number(f, "factors", spec) for f in raw["factors"].split("/")]
        if len(at) != len(factors):
            raise ScalingError(f"schedule spec {spec!r}: at= and factors= need the same number of /-separated values")
        if any(f < 0 for f in factors):
            raise ScalingError(f"schedule spec {spec!r}: factors={raw['factors']} must be >= 0 (multiples of peak)")
        if any(a <= 0 for a in at):
            raise ScalingError(f"schedule spec {spec!r}: at={raw['at']} must be > 0 (fractions of total, or steps)")
        bounds = [int(round(a * total)) if a < 1 else int(round(a)) for a in at]
        if any(not w < b <= total for b in bounds) or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
            raise ScalingError(
                f"schedule spec {spec!r}: at={raw['at']} gives steps {bounds}; they must increase and lie after "
                f"warmup={w} and up to total={total}"
            )
        body = multi_step([peak] + [peak * f for f in factors], [b - w for b in bounds])
    elif kind == "twostage":
        switch = steps("switch")
        if switch <= w:
            raise ScalingError(f"schedule spec {spec!r}: switch={switch} must come after warmup={w}")
        body = two_stage(peak, lr("low"), switch - w)
    elif kind == "invsqrt":
        tau = steps("timescale", max(w, 1), minimum=1)
        body = inverse_sqrt(peak, tau)
    else:  # cyclic
        period = steps("period", minimum=1)
        rewarm = steps("rewarmup", 0)
        if rewarm >= period:
            raise ScalingError(f"schedule spec {spec!r}: rewarmup={rewarm} must be shorter than period={period}")
        body = cyclic(peak, period, final=final, rewarmup=rewarm, shape=shape)
    return warmup(body, w, init=init), total
