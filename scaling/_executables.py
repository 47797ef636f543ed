"""Compiled executables kept on disk under our own key, so a new process skips tracing.

JAX's persistent compilation cache saves XLA's compile, but its key is a hash
of the lowered program, so every new process still *traces* and *lowers* each
function to find it: for the batched Newton solver of a curve law that is
~2 s per ``scaling fit``, most of a warm process. Here a jitted function gets a
stable name (the law's registry name and options, the function's role, e.g.
``"solver.run"``) and every executable compiled for it is stored under

    sha256(name, argument types and shapes, static arguments, fingerprint)

where the fingerprint is the jax/jaxlib versions, the backend, the float64
mode, ``XLA_FLAGS`` and a hash of this package's source files: editing any
module of ``scaling`` or upgrading jax invalidates every entry. A process that
finds the entry deserialises it (milliseconds) instead of tracing.

It is on only where the persistent cache is (:func:`scaling._compile.enable_persistent_cache`,
which the CLI calls), never for traced arguments (a call inside another
jitted function goes through the plain ``jax.jit``), and only on one device
(a sharded call keeps ``jax.jit``'s own handling). Anything that fails here
(an unreadable entry, a program that cannot be serialised) falls back to the
plain jitted function: the cache changes speed, never results. Entries are
only read from the user's own cache folder, with the same trust as JAX's own
persistent cache (loading an executable runs its code).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any, Callable

#: folder of stored executables; None while the persistent cache is off
_FOLDER: Path | None = None


def enable(folder: Path | None) -> None:
    """Store and load executables in ``folder`` (None turns the store off)."""
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
def _usable() -> bool:
    """One local device, and the CPU's LAPACK kernels ready for a loaded executable.

    An executable that calls LAPACK (``eigh`` in the Newton step) crashes the
    process when loaded before jax has initialised its LAPACK handlers, which
    it otherwise does only while lowering such a program (``jax.export``
    initialises them the same way before running a deserialised module).
    Without that hook (a jax that moved it), the store stays off.
    """
    import jax

    if jax.local_device_count() != 1:
        return False
    if jax.devices()[0].platform == "cpu":
        try:
            from jax._src.lax import linalg

            linalg.initialize_lapack()
        except Exception:
            return False
    return True


class Stored:
    """``jitted`` with its executables also stored on disk under ``name``.

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
        if _FOLDER is None or not _usable():
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
        from jax.experimental import serialize_executable as se

        digest = hashlib.sha256(repr((self.name, signature, _fingerprint())).encode()).hexdigest()
        path = _FOLDER / "executables" / f"{digest}.bin"
        if path.exists():
            try:
                payload, in_tree, out_tree = pickle.loads(path.read_bytes())
                return se.deserialize_and_load(payload, in_tree, out_tree)
            except Exception:  # a damaged or foreign entry: compile anew and replace it
                path.unlink(missing_ok=True)
        compiled = self.jitted.lower(*args).compile()
        try:
            blob = pickle.dumps(se.serialize(compiled))
        except Exception:  # not serialisable (e.g. closed-over constants): memory only
            return compiled
        try:
            from scaling.outputs import write_atomic

            write_atomic(path, blob)
        except OSError:
            pass
        return compiled


def stored(jitted: Callable, name: str | None, static_argnums: tuple[int, ...] = ()) -> Callable:
    """``jitted`` wrapped in :class:`Stored`, or ``jitted`` itself when ``name`` is None
    (a law without a stable identity, e.g. a user's own ``Law`` object)."""
    return jitted if name is None else Stored(jitted, name, static_argnums)


__all__ = ["Stored", "enable", "stored"]
