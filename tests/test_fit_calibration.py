"""Calibration, small seeded version of benchmarks/calibration.py (1,000 data sets there)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from calibration import coverage  # noqa: E402


@pytest.mark.slow
def test_nominal_90_percent_intervals_cover_the_truth_about_90_percent():
    # 30 data sets: Monte Carlo SE of a 90% coverage is 5.5 points, so accept 70-100%
    names, cov, _ = coverage(30, 60, noise=0.01, seed=123, verbose=False)
    for method, values in cov.items():
        for name, c in zip(names, values):
            assert 0.70 <= c <= 1.0, (method, name, c)
