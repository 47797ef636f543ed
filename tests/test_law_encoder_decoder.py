"""The encoder-decoder law of Ghorbani et al. (2021)."""

import numpy as np
import pytest

from scaling._x64 import float64
from scaling.errors import ScalingError
from scaling.laws import get_law

THETA = np.array([np.log(0.8), 0.3, 0.4, np.log(1.2)])


def test_loss_matches_the_hand_computed_formula():
    ne, nd = np.array([1e8, 1e7, 1e9]), np.array([1e8, 1e9, 1e7])
    with float64():
        got = np.asarray(get_law("encoder-decoder")(THETA, {"N_e": ne, "N_d": nd}))
    np.testing.assert_allclose(got, 0.8 * (1e8 / ne) ** 0.3 * (1e8 / nd) ** 0.4 + 1.2, rtol=1e-13)
    assert np.isclose(got[0], 2.0)  # alpha + L_inf at the reference sizes


def test_reference_sizes_only_rescale_alpha():
    with float64():
        a = np.asarray(get_law("encoder-decoder", Nbar_e=1e8, Nbar_d=1e8)(THETA, {"N_e": np.array([3e8]),
                                                                              "N_d": np.array([2e7])}))
        theta2 = THETA.copy()
        theta2[0] += 0.3 * np.log(1e8 / 1e9) + 0.4 * np.log(1e8 / 1e6)  # alpha' = alpha (Nbar/Nbar')^p
        b = np.asarray(get_law("encoder-decoder", Nbar_e=1e9, Nbar_d=1e6)(theta2, {"N_e": np.array([3e8]),
                                                                              "N_d": np.array([2e7])}))
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_options_are_saved_for_rebuilding():
    law = get_law("encoder-decoder", Nbar_e=5e7, Nbar_d=2e8)
    assert law.options == {"Nbar_e": 5e7, "Nbar_d": 2e8}
    assert get_law("encoder-decoder", **law.options).fn is law.fn


def test_nonpositive_reference_size_is_a_one_line_error():
    with pytest.raises(ScalingError, match="must be positive"):
        get_law("encoder-decoder", Nbar_e=0.0)
