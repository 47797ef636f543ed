"""The exact small bounded least squares behind the data-derived starts."""

import numpy as np
import pytest


@pytest.mark.parametrize("seed", range(5))
def test_bounded_lstsq_matches_scipy_bvls(seed):
    from scipy.optimize import lsq_linear

    from scaling.fitting.starts import bounded_lstsq

    rng = np.random.default_rng(seed)
    for _ in range(40):
        M = rng.standard_normal((30, 3))
        y = 3 * rng.standard_normal(30)
        lo, hi = np.array([-0.5, 0.0, -1.0]), np.array([0.5, np.inf, 0.2])
        ours = bounded_lstsq(M, y, lo, hi)
        ref = lsq_linear(M, y, bounds=(lo, hi), method="bvls", tol=1e-14).x
        assert np.all(ours >= lo) and np.all(ours <= hi)
        assert np.sum((M @ ours - y) ** 2) <= np.sum((M @ ref - y) ** 2) * (1 + 1e-10)


def test_bounded_lstsq_is_the_unconstrained_solution_inside_the_box():
    from scaling.fitting.starts import bounded_lstsq

    M = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = M @ np.array([0.3, -0.2])
    np.testing.assert_allclose(bounded_lstsq(M, y, [-1, -1], [1, 1]), [0.3, -0.2], atol=1e-12)
    np.testing.assert_allclose(bounded_lstsq(M, y, [-1, 0], [1, 1])[1], 0.0, atol=1e-12)
