"""The chinchilla law: values, log form, derived allocation quantities, start grid."""

import numpy as np
import pytest

from scaling._x64 import float64
from scaling.laws import get_law

# Hoffmann et al.'s unrounded Approach-3 values (TeX source, see chinchilla-epoch PROVENANCE.md)
HOFFMANN = np.array([6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083])


def test_loss_equals_E_plus_power_terms():
    law = get_law("chinchilla")
    n = np.array([1e8, 7e10, 3e9])
    d = np.array([2e9, 1.4e12, 5e10])
    a, b, e, alpha, beta = HOFFMANN
    expected = np.exp(e) + np.exp(a) / n**alpha + np.exp(b) / d**beta
    with float64():
        got = np.asarray(law(HOFFMANN, {"N": n, "D": d}))
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_log_form_matches_log_of_loss_even_for_huge_terms():
    law = get_law("chinchilla")
    theta = np.array([400.0, 1.0, 0.0, 0.5, 0.5])  # exp(400 - 0.5 log N) overflows nothing in log form
    with float64():
        log_l = np.asarray(law.fn.log_fn(theta, {"N": np.array([1e9]), "D": np.array([1e10])}))
    assert np.isfinite(log_l).all()
    np.testing.assert_allclose(log_l, 400.0 - 0.5 * np.log(1e9), rtol=1e-12)


def test_predicted_loss_at_chinchilla_70b_matches_provenance():
    with float64():
        got = float(get_law("chinchilla")(HOFFMANN, {"N": np.array([70e9]), "D": np.array([1.4e12])})[0])
    assert got == pytest.approx(1.9208, abs=1e-4)


def test_derived_allocation_matches_provenance_for_hoffmann_values():
    law = get_law("chinchilla")
    with float64():
        d = {k: float(v) for k, v in law.derived(HOFFMANN).items()}
    assert d["a_N"] == pytest.approx(0.4565, abs=1e-4)
    assert d["b_D"] == pytest.approx(1 - 0.4565, abs=1e-4)
    assert d["G"] == pytest.approx(1.300, abs=2e-3)
    assert d["E"] == pytest.approx(1.69337, abs=1e-5)


def test_start_grid_is_hoffmanns_4500():
    law = get_law("chinchilla")
    starts = law.starts()
    assert starts.shape == (4500, 5)
    assert sorted(set(starts[:, 0])) == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    assert sorted(set(starts[:, 3])) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert sorted(set(starts[:, 2])) == [-1.0, -0.5, 0.0, 0.5, 1.0]
