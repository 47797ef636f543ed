"""Learning-rate schedules as pure ``step -> lr`` callables.

A schedule is any function that maps an integer optimizer step (or an array
of steps) to the learning rate used at that step. This is exactly the shape of
an optax schedule, so ``optax.cosine_decay_schedule(...)`` can be passed
anywhere a schedule is accepted here, and the schedules built here can be
handed to optax. All builders return closures of ``jax.numpy`` code: they are
jit-able, vmap-able and accept Python ints or arrays of steps.

Steps are *global* optimizer steps counted from the start of training,
warmup included. :func:`warmup` and :func:`join` shift the step seen by the
wrapped schedule (as ``optax.join_schedules`` does), so a cosine placed after
a 2160-step warmup starts its decay at global step 2160.

The loss-curve laws read a schedule as an array ``lr`` of shape ``(T + 1,)``
(LR at global steps ``0..T``); :func:`schedule_array` makes that array, and
:func:`parse_schedule` builds a schedule from the short text spec used by the
command line (``scaling schedules --help`` prints the grammar,
:data:`SPEC_GRAMMAR`).

Examples
--------
>>> from scaling import schedules as sch
>>> s = sch.warmup(sch.cosine(3e-4, 21840, final=3e-5), 2160)
>>> lr = sch.schedule_array(s, 24000)          # numpy, shape (24001,)
>>> s2 = sch.parse_schedule("wsd:peak=3e-4,final=3e-5,warmup=2160,total=24000,decay=0.2,shape=exp")
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from scaling.errors import ScalingError

Schedule = Callable[[Any], Any]

DECAY_SHAPES = ("linear", "cosine", "1-sqrt", "exp")

#: Longest schedule (in steps) that :func:`schedule_array` and the spec parser
#: accept: an LR array of 1e8 float64 values is 0.8 GB, and the curve laws hold
#: several arrays of that length. The longest published runs are ~1e6 steps.
MAX_STEPS = 100_000_000


def _check_lr(name: str, value: float, *, positive: bool = False) -> float:
    """A learning rate: a finite number >= 0 (> 0 when `positive`), or a ScalingError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ScalingError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        need = "> 0" if positive else ">= 0"
        raise ScalingError(f"{name} must be a finite learning rate {need}, got {value!r}")
    return v


def _check_steps(name: str, value, *, minimum: int = 0) -> int:
    """A step count: a whole number in [minimum, MAX_STEPS], or a ScalingError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ScalingError(f"{name} must be a whole number of steps, got {value!r}") from None
    if not np.isfinite(v) or v != round(v):
        raise ScalingError(f"{name} must be a whole number of steps, got {value!r}")
    if not minimum <= v <= MAX_STEPS:
        raise ScalingError(f"{name} must be between {minimum} and {MAX_STEPS:,} steps, got {value!r}")
    return int(v)


def _jnp():
    import jax.numpy as jnp

    return jnp


def _steps(step):
    jnp = _jnp()
    return jnp.asarray(step)


def _decay(peak: float, final: float, progress, shape: str):
    """LR at ``progress`` in [0, 1] of a decay from ``peak`` to ``final``.

    Shapes: ``linear``; ``cosine`` (half cosine); ``1-sqrt`` (Hägele et al.
    2024, arXiv:2405.18392: ``final + (peak - final) (1 - sqrt(p))``);
    ``exp`` (geometric: ``peak^(1-p) final^p``, as the WSD runs of Luo et al.
    2025; needs ``final > 0``).
    """
    jnp = _jnp()
    p = jnp.clip(progress, 0.0, 1.0)
    if shape == "linear":
        return peak + (final - peak) * p
    if shape == "cosine":
        return final + (peak - final) * 0.5 * (1.0 + jnp.cos(jnp.pi * p))
    if shape == "1-sqrt":
        return final + (peak - final) * (1.0 - jnp.sqrt(p))
    if shape == "exp":
        return jnp.exp((1.0 - p) * np.log(peak) + p * np.log(final))
    raise ScalingError(f"unknown decay shape {shape!r}; use one of {', '.join(DECAY_SHAPES)}")


def _check_shape(shape: str, final: float) -> None:
    if shape not in DECAY_SHAPES:
        raise ScalingError(f"unknown decay shape {shape!r}; use one of {', '.join(DECAY_SHAPES)}")
    if shape == "exp" and not final > 0:
        raise ScalingError("exponential decay needs final > 0 (geometric interpolation); set final=, e.g. final=3e-5")


def constant(value: float) -> Schedule:
    """Constant LR: ``lr(s) = value`` for every step (``value > 0``)."""
    value = _check_lr("constant LR", value, positive=True)

    def schedule(step):
        jnp = _jnp()
        return jnp.full(jnp.shape(step), value, dtype=jnp.result_type(float))

    return schedule


def linear(init: float, end: float, steps: int) -> Schedule:
    """Linear ramp from ``init`` at step 0 to ``end`` at step ``steps``, then ``end``.

    .. math:: \\eta(s) = \\eta_0 + (\\eta_1 - \\eta_0)\\,\\min(s / S, 1)
    """
    init, end = _check_lr("linear init", init), _check_lr("linear end", end)
    steps = _check_steps("linear schedule steps", steps, minimum=1)

    def schedule(step):
        jnp = _jnp()
        return init + (end - init) * jnp.clip(_steps(step) / steps, 0.0, 1.0)

    return schedule


def cosine(peak: float, steps: int, *, final: float = 0.0) -> Schedule:
    """Half-cosine decay from ``peak`` to ``final`` over ``steps`` steps, then ``final``.

    .. math:: \\eta(s) = \\eta_f + \\tfrac12(\\eta_p - \\eta_f)(1 + \\cos(\\pi \\min(s/S, 1)))

    Same formula as the cosine runs of Luo et al. (2025) after their warmup.
    """
    peak, final = _check_lr("cosine peak", peak, positive=True), _check_lr("cosine final", final)
    steps = _check_steps("cosine schedule steps", steps, minimum=1)

    def schedule(step):
        return _decay(peak, final, _steps(step) / steps, "cosine")

    return schedule


def wsd(peak: float, steps: int, *, decay_steps: int, final: float = 0.0, shape: str = "linear") -> Schedule:
    """Warmup-stable-decay without the warmup: ``peak`` then a decay over the last ``decay_steps``.

    ``lr(s) = peak`` for ``s < steps - decay_steps``; then a decay of the given
    ``shape`` (``linear``, ``cosine``, ``1-sqrt``, ``exp``) reaching ``final``
    at ``steps``; ``final`` afterwards. Wrap with :func:`warmup` for the "W".
    """
    peak, final = _check_lr("wsd peak", peak, positive=True), _check_lr("wsd final", final)
    steps = _check_steps("wsd steps", steps, minimum=1)
    decay_steps = _check_steps("wsd decay_steps", decay_steps, minimum=1)
    _check_shape(shape, final)
    if not 0 < decay_steps <= steps:
        raise ScalingError(f"wsd needs 0 < decay_steps <= steps, got decay_steps={decay_steps}, steps={steps}")
    start = steps - decay_steps

    def schedule(step):
        return _decay(peak, final, (_steps(step) - start) / decay_steps, shape)

    return schedule


def multi_step(values: Sequence[float], boundaries: Sequence[int]) -> Schedule:
    """Piecewise-constant LR: ``values[i]`` on ``[boundaries[i-1], boundaries[i])``.

    ``len(values) == len(boundaries) + 1``. E.g. the 80/10/10 schedule of
    DeepSeek LLM: ``multi_step([p, 0.316 p, 0.1 p], [0.8 T, 0.9 T])``.
    """
    values = [_check_lr(f"multi_step value {i + 1}", v) for i, v in enumerate(values)]
    bounds = [_check_steps(f"multi_step boundary {i + 1}", b) for i, b in enumerate(boundaries)]
    if len(values) != len(bounds) + 1:
        raise ScalingError("multi_step needs one more value than boundaries")
    if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
        raise ScalingError(f"multi_step boundaries must increase, got {bounds}")

    def schedule(step):
        jnp = _jnp()
        idx = jnp.searchsorted(jnp.asarray(bounds), _steps(step), side="right")
        return jnp.asarray(values)[idx]

    return schedule


def two_stage(peak: float, low: float, switch: int) -> Schedule:
    """``peak`` until step ``switch``, then ``low`` (the ``wsdcon`` runs of Luo et al. 2025)."""
    return multi_step([peak, low], [switch])


def inverse_sqrt(peak: float, timescale: int) -> Schedule:
    """Inverse square root decay: ``peak * sqrt(timescale / (s + timescale))``.

    With :func:`warmup` of ``W`` steps and ``timescale=W`` this is the
    Transformer (Vaswani et al. 2017) schedule ``peak * sqrt(W / s)`` after warmup.
    """
    peak = _check_lr("inverse_sqrt peak", peak, positive=True)
    timescale = _check_steps("inverse_sqrt timescale", timescale, minimum=1)

    def schedule(step):
        jnp = _jnp()
        return peak * jnp.sqrt(timescale / (jnp.maximum(_steps(step), 0) + timescale))

    return schedule


def cyclic(peak: float, period: int, *, final: float = 0.0, rewarmup: int = 0, shape: str = "cosine") -> Schedule:
    """Repeated decays with re-warmup (SGDR-style restarts).

    Each cycle of ``period`` steps decays from ``peak`` to ``final`` with the
    given ``shape`` over ``period - rewarmup`` steps, then ramps linearly back
    to ``peak`` over ``rewarmup`` steps (``rewarmup=0``: a jump). The LR rises
    at each restart, which makes the annealing area ``S2`` shrink.
    """
    peak, final = _check_lr("cyclic peak", peak, positive=True), _check_lr("cyclic final", final)
    period = _check_steps("cyclic period", period, minimum=1)
    rewarmup = _check_steps("cyclic rewarmup", rewarmup)
    _check_shape(shape, final)
    if not 0 <= rewarmup < period:
        raise ScalingError(f"cyclic needs 0 <= rewarmup < period, got rewarmup={rewarmup}, period={period}")
    decay_len = period - rewarmup

    def schedule(step):
        jnp = _jnp()
        c = jnp.mod(jnp.maximum(_steps(step), 0), period)
        down = _decay(peak, final, c / decay_len, shape)
        up = final + (peak - final) * (c - decay_len) / max(rewarmup, 1)
        return jnp.where(c < decay_len, down, up)

    return schedule


def warmup(schedule: Schedule, steps: int, *, init: float = 0.0) -> Schedule:
    """Put a linear warmup of ``steps`` steps in front of ``schedule``.

    ``lr(s) = init + (schedule(0) - init) * s / steps`` for ``s < steps``, then
    ``schedule(s - steps)``: the wrapped schedule sees steps counted from the
    end of warmup.
    """
    steps = _check_steps("warmup steps", steps)
    init = _check_lr("warmup init", init)
    if steps == 0:
        return schedule

    def wrapped(step):
        jnp = _jnp()
        s = _steps(step)
        target = schedule(jnp.zeros((), dtype=s.dtype))
        ramp = init + (target - init) * s / steps
        return jnp.where(s < steps, ramp, schedule(jnp.maximum(s - steps, 0)))

    return wrapped


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Join schedules end to end (as ``optax.join_schedules``).

    ``schedules[i]`` is used from global step ``boundaries[i-1]`` on and sees
    the step minus that boundary.
    """
    schedules = list(schedules)
    bounds = [_check_steps(f"join boundary {i + 1}", b) for i, b in enumerate(boundaries)]
    if len(schedules) != len(bounds) + 1:
        raise ScalingError("join needs one more schedule than boundaries")

    def joined(step):
        jnp = _jnp()
        s = _steps(step)
        out = schedules[0](s)
        for b, sched in zip(bounds, schedules[1:]):
            out = jnp.where(s >= b, sched(jnp.maximum(s - b, 0)), out)
        return out

    return joined


def from_array(lrs) -> Schedule:
    """Schedule from an LR array indexed by global step (e.g. a log's LR column).

    Steps past the end hold the last value; negative steps read index 0.
    NaNs are rejected: fill gaps first (``scaling.runs.lr_per_step`` does).
    """
    arr = np.asarray(lrs, dtype=np.float64).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ScalingError("from_array needs a non-empty LR array without NaN/inf; fill unlogged steps first")

    def schedule(step):
        jnp = _jnp()
        idx = jnp.clip(_steps(step), 0, arr.size - 1).astype(int)
        return jnp.asarray(arr)[idx]

    schedule.lr_array = arr  # lets schedule_array skip re-evaluation
    return schedule


def schedule_array(schedule, total_steps: int | None = None) -> np.ndarray:
    """The LR at global steps ``0..total_steps``: float64 array of shape ``(total_steps + 1,)``.

    Parameters
    ----------
    schedule : callable or array-like
        A schedule (``step -> lr``, ours or optax's) or an LR array indexed by
        step. Arrays are cut or extended (last value held) to the length.
    total_steps : int, optional
        ``T``; required for callables, defaults to ``len(array) - 1`` for arrays.
    """
    from scaling._x64 import float64

    if total_steps is not None:
        total_steps = _check_steps("total_steps", total_steps)
    if not callable(schedule):
        arr = np.asarray(schedule, dtype=np.float64).reshape(-1)
        if arr.size == 0:
            raise ScalingError("empty LR array")
        if total_steps is None:
            return arr.copy()
        if total_steps + 1 <= arr.size:
            return arr[: total_steps + 1].copy()
        return np.concatenate([arr, np.full(total_steps + 1 - arr.size, arr[-1])])
    if total_steps is None:
        given = getattr(schedule, "lr_array", None)
        if given is None:
            raise ScalingError("schedule_array needs total_steps for a schedule callable")
        return np.array(given, dtype=np.float64)
    with float64():
        import jax.numpy as jnp

        out = np.asarray(schedule(jnp.arange(total_steps + 1)), dtype=np.float64)
    return np.broadcast_to(out, (total_steps + 1,)).copy()


# ----------------------------------------------------------------------------- text specs

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


__all__ = [
    "DECAY_SHAPES",
    "MAX_STEPS",
    "SPEC_GRAMMAR",
    "Schedule",
    "constant",
    "cosine",
    "cyclic",
    "from_array",
    "inverse_sqrt",
    "join",
    "linear",
    "multi_step",
    "parse_schedule",
    "schedule_array",
    "two_stage",
    "warmup",
    "wsd",
]
