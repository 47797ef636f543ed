"""The law registry: a plain dict of law factories, built by explicit lines.

Every API that takes a law name also takes a :class:`~scaling.laws.base.Law`
object, so users add their own law without touching this dict. Each entry is a
factory ``make(**options) -> Law``; :func:`get_law` resolves a name or passes
a ``Law`` through. One law lives in one small file of this package.
"""

from __future__ import annotations

from typing import Any, Callable

from scaling.errors import ScalingError
from scaling.laws import chinchilla, lr_annealing, lr_annealing_size, multi_power, power_law
from scaling.laws import downstream, encoder_decoder, kaplan_batch, kaplan_nd, lr_sensitivity, overtraining
from scaling.laws.base import Law

# name -> factory(**options) -> Law. Filled by explicit lines below as laws land.
LAWS: dict[str, Callable[..., Law]] = {
    "power-law": power_law.make,
    "chinchilla": chinchilla.make,
    "lr-annealing": lr_annealing.make,
    "multi-power": multi_power.make,
    "lr-annealing-n": lr_annealing_size.make,
    "overtraining": overtraining.make,
    "downstream": downstream.make,
    "kaplan-nd": kaplan_nd.make,
    "kaplan-batch": kaplan_batch.make,
    "encoder-decoder": encoder_decoder.make,
    "lr-sensitivity": lr_sensitivity.make,
}


#: (name, frozen options) -> the one Law value built for them. Laws are values:
#: the compile cache (:mod:`scaling._compile`) is keyed by the law function's
#: identity, so building a new function per call would recompile every time.
_BUILT: dict[tuple, Law] = {}

#: law function -> repr of its (name, frozen options) key, for :func:`stable_name`
_NAMES: dict[Callable, str] = {}


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def get_law(law: str | Law, **options: Any) -> Law:
    """Return the law named ``law`` built with ``options``, or ``law`` itself.

    The same name and (normalised) options always give the *same object*
    (``get_law("lr-annealing") is get_law("lr-annealing")``), so a law is
    compiled at most once per data shape in a process, whether it is passed
    by name or as an object.

    Parameters
    ----------
    law : str or Law
        A registry name (see ``scaling laws``) or a law object.
    **options
        Options passed to the law's factory (e.g. ``x="D"`` for
        ``power-law``); ignored when ``law`` is already a ``Law``.
    """
    if isinstance(law, Law):
        return law
    try:
        factory = LAWS[law]
    except KeyError:
        known = ", ".join(sorted(LAWS)) or "(none registered)"
        raise ScalingError(f"unknown law {law!r}; known laws: {known} (see 'scaling laws')") from None
    try:
        built = factory(**options)
    except TypeError as exc:
        raise ScalingError(f"law {law!r} does not take these options {sorted(options)}: {exc}") from None
    # key on the options the factory recorded (normalised: lam="0.999" and
    # lam=0.999 are one law), so equivalent spellings share one value
    key = (law, _freeze(dict(built.options)))
    value = _BUILT.setdefault(key, built)
    _NAMES.setdefault(value.fn, repr(key))
    return value


def stable_name(fn: Callable) -> str | None:
    """The registry name and options of a law function built by :func:`get_law`, else None.

    The same in every process (unlike ``id(fn)``), so traced programs
    of the law can be stored on disk under it (:mod:`scaling._programs`);
    a user's own ``Law`` has no stable name and is compiled per process.
    """
    return _NAMES.get(fn)


__all__ = ["LAWS", "Law", "get_law", "stable_name"]
