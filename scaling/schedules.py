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
:func:`parse_schedule` (in :mod:`scaling.schedule_specs`, re-exported here)
builds a schedule from the short text spec used by the command line (``scaling schedules --help`` prints the grammar,
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


def check_lr(name: str, value: float, *, positive: bool = False) -> float:
    """A learning rate: a finite number >= 0 (> 0 when `positive`), or a ScalingError.

    ``name`` starts the message (e.g. ``"--peak-lr"``), so the CLI can use it to check flags.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ScalingError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        need = "> 0" if positive else ">= 0"
        raise ScalingError(f"{name} must be a finite learning rate {need}, got {value!r}")
    return v


def check_steps(name: str, value, *, minimum: int = 0) -> int:
    """A step count: a whole number in [minimum, MAX_STEPS], or a ScalingError.

    Accepts ints, floats and numeric text (``"24000"``, ``"inf"`` is refused);
    ``name`` starts the message (e.g. ``"--steps"``), so the CLI can check flags with it.
    """
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
    value = check_lr("constant LR", value, positive=True)

    def schedule(step):
        jnp = _jnp()
        return jnp.full(jnp.shape(step), value, dtype=jnp.result_type(float))

    return schedule


def linear(init: float, end: float, steps: int) -> Schedule:
    """Linear ramp from ``init`` at step 0 to ``end`` at step ``steps``, then ``end``.

    .. math:: \\eta(s) = \\eta_0 + (\\eta_1 - \\eta_0)\\,\\min(s / S, 1)
    """
    init, end = check_lr("linear init", init), check_lr("linear end", end)
    steps = check_steps("linear schedule steps", steps, minimum=1)

    def schedule(step):
        jnp = _jnp()
        return init + (end - init) * jnp.clip(_steps(step) / steps, 0.0, 1.0)

    return schedule


def cosine(peak: float, steps: int, *, final: float = 0.0) -> Schedule:
    """Half-cosine decay from ``peak`` to ``final`` over ``steps`` steps, then ``final``.

    .. math:: \\eta(s) = \\eta_f + \\tfrac12(\\eta_p - \\eta_f)(1 + \\cos(\\pi \\min(s/S, 1)))

    Same formula as the cosine runs of Luo et al. (2025) after their warmup.
    """
    peak, final = check_lr("cosine peak", peak, positive=True), check_lr("cosine final", final)
    steps = check_steps("cosine schedule steps", steps, minimum=1)

    def schedule(step):
        return _decay(peak, final, _steps(step) / steps, "cosine")

    return schedule


def wsd(peak: float, steps: int, *, decay_steps: int, final: float = 0.0, shape: str = "linear") -> Schedule:
    """Warmup-stable-decay without the warmup: ``peak`` then a decay over the last ``decay_steps``.

    ``lr(s) = peak`` for ``s < steps - decay_steps``; then a decay of the given
    ``shape`` (``linear``, ``cosine``, ``1-sqrt``, ``exp``) reaching ``final``
    at ``steps``; ``final`` afterwards. Wrap with :func:`warmup` for the "W".
    """
    peak, final = check_lr("wsd peak", peak, positive=True), check_lr("wsd final", final)
    steps = check_steps("wsd steps", steps, minimum=1)
    decay_steps = check_steps("wsd decay_steps", decay_steps, minimum=1)
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
    values = [check_lr(f"multi_step value {i + 1}", v) for i, v in enumerate(values)]
    bounds = [check_steps(f"multi_step boundary {i + 1}", b) for i, b in enumerate(boundaries)]
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
    peak = check_lr("inverse_sqrt peak", peak, positive=True)
    timescale = check_steps("inverse_sqrt timescale", timescale, minimum=1)

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
    peak, final = check_lr("cyclic peak", peak, positive=True), check_lr("cyclic final", final)
    period = check_steps("cyclic period", period, minimum=1)
    rewarmup = check_steps("cyclic rewarmup", rewarmup)
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
    steps = check_steps("warmup steps", steps)
    init = check_lr("warmup init", init)
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
    bounds = [check_steps(f"join boundary {i + 1}", b) for i, b in enumerate(boundaries)]
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
        total_steps = check_steps("total_steps", total_steps)
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


def __getattr__(name: str):
    # The text-spec parser lives in scaling.schedule_specs (which imports the
    # builders above); loaded on first use so that neither module imports the
    # other at import time.
    if name in ("SPEC_GRAMMAR", "parse_schedule"):
        from scaling import schedule_specs

        return getattr(schedule_specs, name)
    raise AttributeError(f"module 'scaling.schedules' has no attribute {name!r}")


__all__ = [
    "DECAY_SHAPES",
    "MAX_STEPS",
    "check_lr",
    "check_steps",
    "Schedule",
    "constant",
    "cosine",
    "cyclic",
    "from_array",
    "inverse_sqrt",
    "join",
    "linear",
    "multi_step",
    "schedule_array",
    "two_stage",
    "warmup",
    "wsd",
]
