"""Test-session set-up: one persistent JAX compilation cache for every test process.

The fast and slow tiers run as separate pytest processes with two xdist
workers each; JAX's persistent cache (the same one the CLI uses, see
:func:`scaling._compile.enable_persistent_cache`) lets them share compiled
code instead of compiling the same law and shape four times. It lives in the
checkout (``.cache/jax``, git-ignored) unless ``SCALING_CACHE_DIR`` is set,
so a fresh clone starts cold and no user cache is touched.
"""

import os
from pathlib import Path

os.environ.setdefault("SCALING_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache" / "jax"))

from scaling._compile import enable_persistent_cache  # noqa: E402

enable_persistent_cache()
