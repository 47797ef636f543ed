"""The on-disk store of traced programs (scaling._programs): a new process loads, never retraces.

Each check runs a fresh Python process on a private cache folder, because
what the store saves is the tracing a *new* process would otherwise redo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# a small Chinchilla fit through the batched solver, then a law evaluation;
# prints how many functions JAX traced and the fitted parameters
SCRIPT = r"""
import json, logging, re, sys
import numpy as np
traced = []
class Count(logging.Handler):
    def emit(self, record):
        msg = record.getMessage()
        m = re.match(r"Finished tracing(?: \+ transforming)? (\S+) for", msg)
        if m:
            traced.append(m.group(1))
logging.getLogger("jax").addHandler(Count())
logging.getLogger("jax").setLevel(logging.WARNING)
import jax
jax.config.update("jax_log_compiles", True)
from scaling._compile import enable_persistent_cache, evaluators
enable_persistent_cache()
import scaling
import pandas as pd
from scaling.fitting.dataset import dataset_from_points
law = scaling.get_law("chinchilla")
N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
truth = np.array([np.log(400.0), np.log(1800.0), 0.34, 0.28, np.log(1.7)])
loss = law(truth, {"N": N, "D": D}) * np.exp(0.002 * np.sin(np.arange(16)))
res = scaling.fit(law, dataset_from_points(law, pd.DataFrame({"N": N, "D": D, "loss": loss})))
ev = evaluators(law).point(res.params, {"N": N, "D": D})
print(json.dumps({"traced": traced, "params": list(map(float, res.params)), "ev": float(np.sum(ev))}))
"""


def _run(cache: Path, **env) -> dict:
    full = {**os.environ, "SCALING_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT), **env}
    # only the session's XLA optimisation level (tests/conftest.py): no forced device count,
    # since the store is off on several devices
    full["XLA_FLAGS"] = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split()
                                 if f.startswith("--xla_backend_optimization_level"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=full, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return cache, _run(cache), _run(cache)


def test_second_process_loads_the_solver_instead_of_tracing_it(two_runs):
    cache, first, second = two_runs
    assert "solve" in first["traced"]
    assert "init" not in first["traced"]  # the first solver iteration evaluates the start (no bootstrap here)
    # the solver and the evaluations are loaded, not traced again
    stored = {"solve", "init", "residuals", "objective", "fgh", "fn"}
    assert stored & set(first["traced"])
    assert not stored & set(second["traced"]), sorted(set(second["traced"]))
    assert any((cache / "exported").glob("*.bin"))


def test_loaded_programs_give_bit_identical_results(two_runs):
    _, first, second = two_runs
    assert second["params"] == first["params"]
    assert second["ev"] == first["ev"]


def test_damaged_entries_are_recompiled_not_trusted(two_runs, tmp_path):
    cache, first, _ = two_runs
    damaged = tmp_path / "cache"
    (damaged / "exported").mkdir(parents=True)
    for entry in (cache / "exported").glob("*.bin"):
        (damaged / "exported" / entry.name).write_bytes(b"not a program")
    again = _run(damaged)
    assert again["params"] == first["params"]
    assert "solve" in again["traced"]  # traced anew instead of loading garbage
    # and the damaged entries were replaced by good ones
    assert all(p.read_bytes() != b"not a program" for p in (damaged / "exported").glob("*.bin"))


def test_store_is_off_with_the_persistent_cache(tmp_path):
    off = _run(tmp_path / "off", SCALING_NO_COMPILE_CACHE="1")
    assert not (tmp_path / "off").exists()
    assert "solve" in off["traced"]


def test_key_covers_the_package_source(monkeypatch):
    from scaling import _programs

    before = _programs._fingerprint()
    monkeypatch.setattr(_programs, "_source_hash", lambda: "edited")
    assert _programs._fingerprint() != before


def test_user_laws_without_a_registry_name_are_not_stored():
    import dataclasses

    import scaling
    from scaling._programs import Stored
    from scaling.fitting.optimize import compiled
    from scaling.laws import stable_name

    law = scaling.get_law("chinchilla")
    assert stable_name(law.fn) is not None
    assert isinstance(compiled(law.fn).run, Stored)
    own = dataclasses.replace(law, fn=lambda theta, inputs: law.fn(theta, inputs))
    assert stable_name(own.fn) is None
    assert not isinstance(compiled(own.fn).run, Stored)
    assert np.isfinite(own(np.zeros(5) + 0.3, {"N": np.array([1e9]), "D": np.array([2e10])})).all()
