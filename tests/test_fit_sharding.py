"""Batched solves shard over local devices: two forced host devices give the one-device results."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a subprocess with two forced host devices compiles everything again

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, sys
import jax
sys.path.insert(0, {tests!r})
from _fit_data import chinchilla_points
from scaling.fitting import dataset_from_points, fit
from scaling.fitting.solver import _Placement
res = fit("chinchilla", dataset_from_points("chinchilla", chinchilla_points(seed=7)), bootstrap=40, seed=3)
print(json.dumps({{"devices": len(jax.local_devices()), "lanes_on": _Placement(8).n,
                  "params": res.params.tolist(), "samples": res.samples.tolist()}}))
"""


def _run(n_devices: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={n_devices}")
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=str(ROOT / "tests"))], env=env,
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_host_devices_give_the_one_device_fits_and_bootstraps():
    one, two = _run(1), _run(2)
    assert one["devices"] == 1 and two["devices"] == 2
    assert two["lanes_on"] == 2  # the lanes really were sharded
    # bit-identical: every device runs the one-device program on its block of lanes
    assert two["params"] == one["params"]
    assert two["samples"] == one["samples"]
