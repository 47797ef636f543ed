"""The one compile cache: jitted evaluations of a law, built once per law value.

JAX caches a jitted function's compiled code per input shape, but only for
the *same* Python function object. So every jitted wrapper of a law is made
here, once per law (laws are memoised values, see
:func:`scaling.laws.get_law`), and reused by fit diagnostics, predict,
planning, compare and the report. Inputs (LR arrays, steps, N, D) are
arguments, never closed-over constants, so a new schedule of the same length
reuses the compiled code. The fitter's batched solver is cached the same way
(:func:`scaling.fitting.optimize.compiled`, keyed by the law function).
Laws from :func:`scaling.laws.get_law` also keep their traced programs on disk
(:mod:`scaling._programs`) while the persistent cache is on, so a new
process loads them without tracing.

:func:`enable_persistent_cache` turns on JAX's on-disk compilation cache so a
*new process* (the next ``scaling`` command) reuses code compiled by an
earlier one. The CLI calls it for every subcommand; the import API leaves the
user's JAX configuration alone unless they call it themselves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: law function -> namespace of jitted evaluations
_EVALUATORS: dict[Any, Any] = {}


def cache_dir() -> Path:
    """Folder of the persistent cache: ``$SCALING_CACHE_DIR``, else ``$XDG_CACHE_HOME/scaling/jax``
    (``~/.cache/scaling/jax``)."""
    explicit = os.environ.get("SCALING_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scaling" / "jax"


def enable_persistent_cache() -> Path | None:
    """Switch on JAX's persistent compilation cache in :func:`cache_dir`.

    Every compiled function is stored (no minimum compile time or size), so
    the second ``scaling fit`` of the same law and data shape in a new process
    loads its solver instead of compiling it; the traced programs of registry
    laws are also stored under their own key (:mod:`scaling._programs`),
    which skips tracing and lowering too. ``SCALING_NO_COMPILE_CACHE=1``
    turns this off. Works whether or not jax is imported yet (before import,
    through JAX's environment variables, so ``scaling --help`` stays free of
    jax).

    Returns
    -------
    Path or None
        The cache folder, or None when disabled or not writable.
    """
    if os.environ.get("SCALING_NO_COMPILE_CACHE", "").strip() not in ("", "0"):
        return None
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    settings = {
        "jax_compilation_cache_dir": str(folder),
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_persistent_cache_min_entry_size_bytes": 0,
    }
    from scaling import _programs

    _programs.enable(folder)
    if "jax" in sys.modules:
        import jax

        for key, value in settings.items():
            jax.config.update(key, value)
    else:
        for key, value in settings.items():
            os.environ.setdefault(key.upper(), str(value))
    return folder


def evaluators(law):
    """Jitted evaluations of ``law``, built once per law value.

    Returns a namespace with

    ``point(theta, inputs) -> (n,)``
        the law at one parameter vector;
    ``many(thetas, inputs, batch) -> (S, n)``
        the law at each row of ``thetas`` (``lax.map`` in batches of
        ``batch`` rows, so memory stays ``batch x n``);
    ``jac(theta, inputs) -> (n, P)``
        forward-mode Jacobian with respect to ``theta``;
    ``paired(thetas, inputs) -> (S, M)``
        the law at row ``s`` of ``thetas`` with row ``s`` of every input.
    """
    key = law.fn
    ns = _EVALUATORS.get(key)
    if ns is not None:
        return ns
    import jax

    from scaling._programs import stored
    from scaling.laws import stable_name

    f = law.fn
    name = stable_name(f)

    def keep(jitted, role, static_argnums=()):
        return stored(jitted, None if name is None else f"{name}/evaluate.{role}", static_argnums)

    ns = type("Evaluators", (), {})()
    ns.point = keep(jax.jit(f), "point")
    ns.many = keep(jax.jit(lambda ss, inputs, b: jax.lax.map(lambda th: f(th, inputs), ss, batch_size=b),
                           static_argnums=2), "many", (2,))
    ns.jac = keep(jax.jit(jax.jacfwd(f)), "jac")
    ns.paired = keep(jax.jit(jax.vmap(f, in_axes=(0, 0))), "paired")
    _EVALUATORS[key] = ns
    return ns


__all__ = ["cache_dir", "enable_persistent_cache", "evaluators"]
