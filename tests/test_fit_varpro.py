"""Variable projection starts + the solver object: same optimum as the exhaustive grid, fast."""

import numpy as np
import pytest
from scipy.optimize import nnls

from scaling._x64 import float64
from scaling.fitting import dataset_from_points, fit
from scaling.fitting.objective import expand_weights, pack
from scaling.fitting.optimize import PRUNED, STALLED, compiled
from scaling.fitting.solver import DampedNewton
from scaling.fitting.varpro import nnls_batch, projected_grid, varpro_starts
from scaling.laws import get_law

from ._fit_data import CHINCHILLA_TRUE, EPOCH_CSV, chinchilla_points, epoch_points


def test_active_set_nnls_matches_scipy_nnls():
    rng = np.random.default_rng(0)
    for _ in range(20):
        X = rng.normal(size=(30, 3))
        y = X @ rng.normal(size=3) + rng.normal(scale=0.5, size=30)
        c, sse = nnls_batch(X.T @ X, X.T @ y, np.float64(y @ y))
        ref, rnorm = nnls(X, y)
        np.testing.assert_allclose(c, ref, atol=1e-9)
        assert sse == pytest.approx(rnorm**2, rel=1e-8, abs=1e-10)


def test_projection_recovers_coefficients_exactly_at_the_true_exponents():
    law = get_law("chinchilla")
    n = np.repeat(np.geomspace(1e7, 3e9, 8), 6)
    d = n * np.tile(np.geomspace(2.0, 200.0, 6), 8)
    y = 1.7 + 400.0 * n**-0.35 + 410.0 * d**-0.3  # exponents on the 0.05-step grid
    grid, coef, positions, _ = projected_grid(law.linear, {"N": n, "D": d}, y, np.ones_like(y))
    alpha, beta = grid[0][1][positions[0, 0]], grid[1][1][positions[0, 1]]
    assert (alpha, beta) == pytest.approx((0.35, 0.3))
    np.testing.assert_allclose(coef[tuple(positions[0])], [400.0, 410.0, 1.7], rtol=1e-6)


def test_varpro_starts_are_the_best_grid_points_spread_apart():
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=2))
    starts, info = varpro_starts(law, ds, n_starts=5)
    assert starts.shape == (5, 5) and info["grid_points"] == 1600
    assert info["objective"] == sorted(info["objective"])
    steps = np.round(starts[:, 3:] / 0.05).astype(int)
    for i in range(5):
        for j in range(i):
            assert np.max(np.abs(steps[i] - steps[j])) >= 2


def test_varpro_reaches_the_direct_multistart_optimum_on_synthetic_data():
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=5, noise=0.01))
    quick = fit(law, ds)
    full = fit(law, ds, starts=law.starts()[::9], strategy="direct")
    assert quick.data_info["strategy"] == "varpro"
    assert quick.objective == pytest.approx(full.objective, rel=1e-9)
    np.testing.assert_allclose(quick.params, full.params, rtol=1e-5, atol=1e-6)


def test_solver_object_init_step_terminate_compose_to_solve():
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=1))
    packed, index, n_padded = pack(ds, law.kind)
    w = expand_weights(np.ones(ds.n_points), index, n_padded)
    theta0 = np.tile(CHINCHILLA_TRUE + 0.1, (8, 1))
    solver = DampedNewton(maxiter=50)
    lo = np.tile([b[0] for b in law.bounds], (8, 1))
    hi = np.tile([b[1] for b in law.bounds], (8, 1))
    ww = np.tile(w, (8, 1))
    state = solver.init(law, packed, theta0, ww, lo, hi)
    while not solver.terminate(state).all():
        state = solver.step(law, packed, state, ww, lo, hi)
    by_solve = solver.solve(law, packed, theta0, weights=w)
    np.testing.assert_allclose(np.asarray(state[0]), by_solve.theta, rtol=1e-12)


def test_the_first_step_evaluates_the_start_as_init_did_and_a_bad_start_stalls():
    # the solver's start state holds no evaluation; its first iteration lands on the (clipped) start and
    # computes what the compiled `init` computes there, without counting as a Newton iteration
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=1))
    packed, index, n_padded = pack(ds, law.kind)
    w = np.tile(expand_weights(np.ones(ds.n_points), index, n_padded), (4, 1))
    lo = np.tile([b[0] for b in law.bounds], (4, 1))
    hi = np.tile([b[1] for b in law.bounds], (4, 1))
    theta0 = np.tile(CHINCHILLA_TRUE + 0.1, (4, 1))
    theta0[1, 3] = hi[1, 3] + 1.0  # clipped onto its bound
    theta0[2, 0] = np.nan  # the objective cannot be evaluated there
    solver = DampedNewton()
    state = solver.step(law, packed, solver.init(law, packed, theta0, w, lo, hi), w, lo, hi, n_iter=1)
    with float64():
        ref = compiled(law.fn).init(theta0, packed, w, lo, hi, np.float64(1e-3))
    good = [0, 1, 3]
    np.testing.assert_array_equal(np.asarray(state[5])[good], 0)  # no Newton iteration yet
    assert np.asarray(state[0])[1, 3] == hi[1, 3]
    for i in (0, 1, 2, 3):  # theta, f, g, H
        np.testing.assert_allclose(np.asarray(state[i])[good], np.asarray(ref[i])[good], rtol=1e-12, atol=1e-300)
    assert np.asarray(state[6])[2] and np.asarray(state[7])[2] == STALLED and np.asarray(state[1])[2] == np.inf
    res = solver.solve(law, packed, theta0, weights=w[0])
    assert res.status[2] == STALLED and res.f[2] == np.inf and res.n_iter[2] == 0
    assert np.all(np.isfinite(res.f[good])) and np.all(res.n_iter[good] > 0)


def test_equal_bounds_fix_a_parameter():
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=1))
    packed, _, _ = pack(ds, law.kind)
    lo = np.array([b[0] for b in law.bounds])
    hi = np.array([b[1] for b in law.bounds])
    lo[3] = hi[3] = 0.3
    start = CHINCHILLA_TRUE.copy()
    start[3] = 0.3
    res = DampedNewton().solve(law, packed, start[None], weights=None, bounds=(lo, hi))
    assert res.theta[0, 3] == 0.3
    free = DampedNewton().solve(law, packed, start[None])
    assert free.f[0] < res.f[0]  # fixing alpha away from its optimum costs objective
    assert abs(free.theta[0, 3] - 0.3) > 1e-3


def test_pruning_drops_starts_that_cannot_win_but_keeps_the_best():
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=1))
    packed, index, n_padded = pack(ds, law.kind)
    w = expand_weights(np.ones(ds.n_points), index, n_padded)
    starts = law.starts()[::45]
    plain = DampedNewton().solve(law, packed, starts, weights=w)
    pruned = DampedNewton().solve(law, packed, starts, weights=w, prune=True)
    assert np.min(pruned.f) == pytest.approx(np.min(plain.f), rel=1e-12)
    assert np.sum(pruned.status == PRUNED) > 0
    assert pruned.n_iter.sum() < plain.n_iter.sum()


@pytest.mark.skipif(not EPOCH_CSV.exists(), reason="../shared chinchilla-epoch data not available")
def test_epoch_varpro_fit_gives_the_replication_numbers():
    # its speed (tens of milliseconds warm) is measured by benchmarks/bench_final_loss.py, not timed here
    law = get_law("chinchilla")
    res = fit(law, dataset_from_points(law, epoch_points()))
    d = res.derived
    expected = {"A": 477.826, "B": 2143.42, "E": 1.81722, "alpha": 0.34731, "beta": 0.367172}
    for k, v in expected.items():
        assert d[k] == pytest.approx(v, rel=1e-4), k
    assert res.objective == pytest.approx(0.001018274, rel=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not EPOCH_CSV.exists(), reason="../shared chinchilla-epoch data not available")
def test_epoch_varpro_optimum_is_the_exhaustive_4500_start_optimum():
    law = get_law("chinchilla")
    ds = dataset_from_points(law, epoch_points())
    quick = fit(law, ds)
    full = fit(law, ds, starts=law.starts(), strategy="direct")
    assert full.n_starts == 4500
    assert quick.objective <= full.objective * (1 + 1e-10)
    np.testing.assert_allclose(quick.params, full.params, rtol=1e-6)
