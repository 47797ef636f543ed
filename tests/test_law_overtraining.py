"""The overtraining law of Gadre et al. (2024): L(N, M) = a N^b + c 6^(b/2) (M N)^b + E."""

import numpy as np

from scaling._x64 import float64
from scaling.laws import get_law

# the paper repository's RedPajama fit (PROVENANCE.md of gadre-overtraining)
A, B, C, E = 166.211, -0.272851, 366.687, 1.83665
THETA = np.array([np.log(A), np.log(C), np.log(E), B])


def _law_at(n, d):
    with float64():
        return np.asarray(get_law("overtraining")(THETA, {"N": np.asarray(n, float), "D": np.asarray(d, float)}))


def test_loss_matches_the_hand_computed_formula():
    n = np.array([1e7, 1.4e9, 6.9e9])
    m = np.array([20.0, 640.0, 20.0])
    expected = A * n**B + C * 6 ** (B / 2) * (m * n) ** B + E
    np.testing.assert_allclose(_law_at(n, m * n), expected, rtol=1e-13)


def test_hand_value_of_the_7b_prediction():
    # 6.9B at M = 20: 166.211*N^b + 366.687*6^(b/2)*(20N)^b + 1.83665 = 2.44275 (by hand, 6 digits)
    n = 6889410560.0
    assert abs(_law_at([n], [20 * n])[0] - 2.442745) < 5e-6


def test_equals_the_papers_compute_and_multiplier_form():
    # L(C, M) = E + (a' M^eta + c M^-eta) C^-eta with C = 6 N D, eta = -b/2, a' = a 6^eta
    n, m = np.array([1e8, 3e9]), np.array([5.0, 200.0])
    eta = -B / 2
    cmp = 6 * n * (m * n)
    paper = E + (A * 6**eta * m**eta + C * m**-eta) * cmp**-eta
    np.testing.assert_allclose(_law_at(n, m * n), paper, rtol=1e-12)


def test_derived_gives_natural_units_and_eta():
    with float64():
        d = {k: float(v) for k, v in get_law("overtraining").derived(THETA).items()}
    assert np.isclose(d["a"], A) and np.isclose(d["c"], C) and np.isclose(d["E"], E) and d["b"] == B
    assert np.isclose(d["eta"], -B / 2) and np.isclose(d["a_prime"], A * 6 ** (-B / 2))


def test_default_starts_are_the_papers_128():
    starts = get_law("overtraining").starts()
    assert starts.shape == (128, 4)
    assert set(np.round(np.exp(starts[:, 0]))) == {100.0, 300.0, 1000.0, 3000.0}
    assert set(starts[:, 3]) == {-0.1, -0.3}
