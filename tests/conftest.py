"""Test-session set-up: one persistent JAX compilation cache for every test process.

The fast and slow tiers run as separate pytest processes with two xdist
workers each; JAX's persistent cache (the same one the CLI uses, see
:func:`scaling._compile.enable_persistent_cache`) lets them share compiled
code instead of compiling the same law and shape four times. It lives in the
checkout (``.cache/jax``, git-ignored) unless ``SCALING_CACHE_DIR`` is set,
so a fresh clone starts cold and no user cache is touched.

Test processes (and the CLI subprocesses they start, which inherit the
environment) compile with XLA's CPU backend at optimisation level 0. A cold
test run is mostly compilation of small programs that then run for
milliseconds; level 0 compiles them faster and gives the same numbers (every
test passes either way). Measured on the 2-core machine with an empty cache:
fast tier 422 -> 362 s, slow tier 349 -> 336 s (the 4,500-start varpro test,
the one that runs long, 35 -> 68 s). The CLI, the demo and the benchmarks
keep XLA's default level.
"""

import os
from pathlib import Path

os.environ.setdefault("SCALING_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache" / "jax"))
_FAST_COMPILE = "--xla_backend_optimization_level=0"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_FAST_COMPILE}".strip()

from scaling._compile import enable_persistent_cache  # noqa: E402

enable_persistent_cache()
