"""float64 for the fitting path without flipping JAX's global default.

Scaling-law fits need float64: Huber with delta 1e-3 on log loss and
exponents near 0.3 lose their optimum in float32. Turning on
``jax_enable_x64`` globally at import would silently change the dtype of a
user's own JAX code in the same process, so instead every public entry point
that runs JAX math (fitting, prediction, law evaluation) runs inside
:func:`float64`, a context manager that enables x64 only for its duration.
Arrays returned to the user are numpy float64.

If the user has already enabled x64 globally, nothing changes.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable)


@contextlib.contextmanager
def float64() -> Iterator[None]:
    """Run the enclosed JAX code with 64-bit floats enabled, then restore."""
    import jax

    previous = bool(jax.config.read("jax_enable_x64"))
    if previous:
        yield
        return
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def in_float64(func: F) -> F:
    """Decorate a public function so its body runs under :func:`float64`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with float64():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
