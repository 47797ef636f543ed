"""Traced programs kept on disk under our own key, so a new process skips tracing.

JAX's persistent compilation cache saves XLA's compile, but its key is a hash
of the lowered program, so every new process still *traces* and *lowers* each
function to find it: for the batched Newton solver of a curve law that is
~2 s per ``scaling fit``, most of a warm process. Here a jitted function gets a
stable name (the law's registry name and options, the function's role, e.g.
``"solver.run"``) and the program traced for it is exported
(:mod:`jax.export`: StableHLO, no machine code) and stored under

    sha256(name, argument types and shapes, static arguments, fingerprint)

where the fingerprint is the jax/jaxlib versions, the backend, the float64
mode, ``XLA_FLAGS`` and a hash of this package's source files: editing any
module of ``scaling`` or upgrading jax invalidates every entry. A process that
finds the entry deserialises it (milliseconds) instead of tracing, and JAX's
persistent cache then supplies the compiled code for it. (Storing compiled
executables instead, with ``jax.experimental.serialize_executable``, is not
safe on CPU: an executable that was itself loaded from JAX's cache
re-serialises without its kernels and fails in the next process with
"Function ... not found".)

It is on only where the persistent cache is (:func:`scaling._compile.enable_persistent_cache`,
which the CLI calls), never for traced arguments (a call inside another
jitted function goes through the plain ``jax.jit``), and only on one device
(a sharded call keeps ``jax.jit``'s own handling). Anything that fails here
(an unreadable entry, a program that cannot be serialised) falls back to the
plain jitted function: the cache changes speed, never results. Entries are
only read from the user's own cache folder, with the same trust as JAX's own
persistent cache.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any, Callable

#: folder of stored programs; None while the persistent cache is off
_FOLDER: Path | None = None


def enable(folder: Path | None) -> None:
    """Store and load traced programs in ``folder`` (None turns the store off)."""
    global _FOLDER
    _FOLDER = Path(folder) if folder is not None else None


@functools.lru_cache(maxsize=1)
def _source_hash() -> str:
    # every .py file of the package: an edited law or solver must never load
    # an executable compiled from the old code
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _fingerprint() -> str:
    import jax
    import jaxlib
    import numpy as np

    backend = jax.devices()[0]
    x64 = str(jax.dtypes.canonicalize_dtype(np.float64))
    parts = (jax.__version__, jaxlib.__version__, backend.platform, backend.device_kind,
             getattr(backend.client, "platform_version", ""), x64, os.environ.get("XLA_FLAGS", ""), _source_hash())
    return "|".join(map(str, parts))


@functools.lru_cache(maxsize=1)
def _single_device() -> bool:
    import jax

    return jax.local_device_count() == 1


class Stored:
    """``jitted`` with its traced programs also stored on disk under ``name``.

    Parameters
    ----------
    jitted : jax.jit-wrapped callable
        The function; called as is when the store is off or an argument is
        a tracer.
    name : str
        Stable identity of the function across processes (law registry
        name, options and role); two different functions must never share
        a name.
    static_argnums : tuple of int
        As given to ``jax.jit``: their values enter the key and are not
        passed to the compiled executable.
    """

    def __init__(self, jitted: Callable, name: str, static_argnums: tuple[int, ...] = ()):
        self.jitted = jitted
        self.name = name
        self.static_argnums = tuple(static_argnums)
        self._loaded: dict[Any, Any] = {}
        functools.update_wrapper(self, jitted)

    def lower(self, *args, **kwargs):
        return self.jitted.lower(*args, **kwargs)

    def __call__(self, *args):
        if _FOLDER is None or not _single_device():
            return self.jitted(*args)
        import jax

        dynamic = tuple(a for i, a in enumerate(args) if i not in self.static_argnums)
        leaves, tree = jax.tree_util.tree_flatten(dynamic)
        if any(isinstance(x, jax.core.Tracer) for x in leaves):
            return self.jitted(*args)
        static = tuple(repr(args[i]) for i in self.static_argnums)
        signature = (str(tree), tuple(str(jax.typeof(x)) for x in leaves), static)
        compiled = self._loaded.get(signature)
        if compiled is None:
            compiled = self._load_or_compile(args, signature)
            self._loaded[signature] = compiled
        return compiled(*dynamic)

    def _load_or_compile(self, args, signature):
        import jax
        from jax import export

        digest = hashlib.sha256(repr((self.name, signature, _fingerprint())).encode()).hexdigest()
        path = _FOLDER / "exported" / f"{digest}.bin"
        exported = None
        if path.exists():
            try:
                exported = export.deserialize(bytearray(path.read_bytes()))
            except Exception:  # a damaged or foreign entry: export anew and replace it
                path.unlink(missing_ok=True)
        if exported is None:
            try:
                exported = export.export(self.jitted)(*args)
                blob = exported.serialize()
            except Exception:  # not exportable (e.g. a custom call jax does not keep stable)
                return self.jitted_dynamic(args)
            try:
                from scaling.outputs import write_atomic

                write_atomic(path, bytes(blob))
            except OSError:
                pass
        return jax.jit(exported.call)

    def jitted_dynamic(self, args):
        """The plain jitted function, called with the dynamic arguments only."""
        static = {i: args[i] for i in self.static_argnums}

        def call(*dynamic):
            it = iter(dynamic)
            return self.jitted(*(static[i] if i in static else next(it) for i in range(len(args))))

        return call


def stored(jitted: Callable, name: str | None, static_argnums: tuple[int, ...] = ()) -> Callable:
    """``jitted`` wrapped in :class:`Stored`, or ``jitted`` itself when ``name`` is None
    (a law without a stable identity, e.g. a user's own ``Law`` object)."""
    return jitted if name is None else Stored(jitted, name, static_argnums)


__all__ = ["Stored", "enable", "stored"]
