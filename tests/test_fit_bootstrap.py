"""Bootstrap resampling weights (points, groups, column values, blocks) and the refit driver."""

import numpy as np
import pytest

from scaling._x64 import float64
from scaling.errors import FitError
from scaling.fitting import Dataset, Group, dataset_from_points, fit
from scaling.fitting import bootstrap as boot
from scaling.fitting.bootstrap import refit, resampling_weights
from scaling.fitting.objective import expand_weights, pack
from scaling.fitting.optimize import CONVERGED_FTOL, STALLED
from scaling.fitting.solver import DampedNewton
from scaling.laws import get_law

from ._fit_data import chinchilla_points


def _curves(sizes=(20, 9)):
    return Dataset([Group(f"run{i}", {"step": np.arange(n)}, np.ones(n)) for i, n in enumerate(sizes)],
                   info={"kind": "curves"})


def test_point_resamples_draw_n_points_with_replacement():
    ds = dataset_from_points("chinchilla", chinchilla_points())
    w = resampling_weights(ds, 50, "points", np.random.default_rng(0))
    assert w.shape == (50, ds.n_points)
    assert np.all(w.sum(axis=1) == ds.n_points)
    assert np.all(w == np.round(w)) and w.max() > 1


def test_same_seed_gives_the_same_resamples():
    ds = dataset_from_points("chinchilla", chinchilla_points())
    a = resampling_weights(ds, 5, "auto", np.random.default_rng(42))
    b = resampling_weights(ds, 5, "auto", np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)


def test_groups_on_a_points_table_resample_whole_model_sizes():
    df = chinchilla_points()
    ds = dataset_from_points("chinchilla", df)
    w = resampling_weights(ds, 20, "groups", np.random.default_rng(1))
    for row in w:
        for size in np.unique(df["N"]):
            assert len(set(row[df["N"].to_numpy() == size])) == 1  # one count per model size
        assert row.sum() == len(df)  # 8 sizes x 6 points, 8 draws


def test_column_name_resamples_its_distinct_values():
    df = chinchilla_points()
    df["family"] = np.where(df["N"] > 1e8, "big", "small")
    ds = dataset_from_points("chinchilla", df)
    w = resampling_weights(ds, 10, "family", np.random.default_rng(2))
    big = df["family"].to_numpy() == "big"
    assert all(len(set(row[big])) == 1 and len(set(row[~big])) == 1 for row in w)


def test_blocks_keep_consecutive_steps_together_within_each_curve():
    ds = _curves()
    w = resampling_weights(ds, 30, "blocks", np.random.default_rng(3), block_size=5)
    assert w.shape == (30, 29)
    first = w[:, :20].reshape(30, 4, 5)
    assert np.all(first == first[:, :, :1])  # constant within a block of 5
    assert np.all(first[:, :, 0].sum(axis=1) == 4)  # 4 blocks drawn per curve


def test_auto_is_blocks_for_curves_and_points_for_tables():
    w = resampling_weights(_curves(), 4, "auto", np.random.default_rng(0))
    # default block length ceil(sqrt(20)) = 5 -> steps 0..4 share a count
    assert np.all(w[:, :5] == w[:, :1])


def test_unknown_scheme_is_a_clear_error():
    ds = dataset_from_points("chinchilla", chinchilla_points())
    with pytest.raises(FitError, match="neither a scheme nor a column"):
        resampling_weights(ds, 3, "nonsense", np.random.default_rng(0))


def test_point_counts_are_multinomial():
    # n draws with replacement from n points: P(count = 0) = (1 - 1/n)^n,
    # mean count 1; 2,000 x 50 counts put both within a few SE
    w = resampling_weights(dataset_from_points("chinchilla", chinchilla_points()), 2000, "points",
                           np.random.default_rng(5))
    n = w.shape[1]
    assert w.mean() == pytest.approx(1.0, abs=1e-12)  # every row sums to n
    assert np.mean(w == 0) == pytest.approx((1 - 1 / n) ** n, abs=0.006)
    assert np.var(w) == pytest.approx(1 - 1 / n, abs=0.02)  # multinomial variance n p (1 - p)


# ---------------------------------------------------------------- refits

@pytest.fixture(scope="module")
def problem():
    """Chinchilla on 48 synthetic points: law, packed data, best fit, 100 resample weight rows."""
    law = get_law("chinchilla")
    ds = dataset_from_points(law, chinchilla_points(seed=11))
    best = fit(law, ds)
    packed, index, n_padded = pack(ds, law.kind)
    w = resampling_weights(ds, 100, "points", np.random.default_rng(1))
    return law, packed, best.params, expand_weights(w, index, n_padded), index, n_padded


def test_refits_reach_the_compiled_solvers_optima(problem):
    law, packed, theta, w, _, _ = problem
    ours = refit(law, packed, theta, w)
    ref = DampedNewton().solve(law, packed, np.tile(theta, (len(w), 1)), weights=w)
    assert np.all(np.isin(ours.status, [CONVERGED_FTOL, STALLED]))
    # same optimum: objective equal to rounding, parameters to the solvers' tolerance
    np.testing.assert_allclose(ours.f, ref.f, rtol=1e-12)
    np.testing.assert_allclose(ours.theta, ref.theta, rtol=1e-5, atol=1e-6)
    # the refits do move: resampling changes the optimum by about a standard error
    assert np.median(np.abs(ours.theta[:, 3] - theta[3])) > 1e-3


def test_newton_decrement_stop_is_as_tight_as_a_much_stricter_solve(problem):
    law, packed, theta, w, _, _ = problem
    ours = refit(law, packed, theta, w[:20])
    strict = refit(law, packed, theta, w[:20], ftol=1e-20, gtol=0.0)
    assert ours.n_iter.sum() < strict.n_iter.sum()  # it stops earlier...
    np.testing.assert_allclose(ours.f, strict.f, rtol=1e-13)  # ...at the same optimum
    np.testing.assert_allclose(ours.theta, strict.theta, rtol=1e-6, atol=1e-7)


def test_first_evaluation_of_all_resamples_is_one_matrix_product(problem):
    law, packed, theta, w, _, _ = problem
    k, p = len(w), law.n_params
    lo = np.tile([b[0] for b in law.bounds], (k, 1))
    hi = np.tile([b[1] for b in law.bounds], (k, 1))
    start = np.tile(theta, (k, 1))
    with float64():
        evaluate = boot._Evaluator(law, packed, w, lo, hi, 1e-3, "log")
        direct = evaluate(np.arange(k), start)
        linear = boot._at_start(law, packed, start, w, lo, hi, 1e-3, "log", evaluate)
    assert k > np.any(w != 0, axis=0).sum()  # more resamples than points: the linear path is taken
    for a, b in zip(direct[1:4], linear[1:4]):  # f, g, H
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-13)
    assert linear[3].shape == (k, p, p)


def test_refits_with_a_fixed_parameter_keep_it_and_match_the_solver(problem):
    law, packed, theta, w, _, _ = problem
    lo = np.array([b[0] for b in law.bounds])
    hi = np.array([b[1] for b in law.bounds])
    lo[3] = hi[3] = theta[3] + 0.01  # alpha fixed off its optimum: the others must move
    ours = refit(law, packed, theta, w[:10], bounds=(lo, hi))
    ref = DampedNewton().solve(law, packed, np.tile(theta, (10, 1)), weights=w[:10], bounds=(lo, hi))
    assert np.all(ours.theta[:, 3] == lo[3])
    np.testing.assert_allclose(ours.f, ref.f, rtol=1e-12)
    np.testing.assert_allclose(ours.theta, ref.theta, rtol=1e-5, atol=1e-6)


def test_small_matrix_helpers_solve_and_flag_indefinite_lanes():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(50, 5, 5))
    H = A @ np.swapaxes(A, 1, 2) + 0.1 * np.eye(5)
    H[7] = np.diag([1.0, 2.0, -1.0, 3.0, 4.0])  # indefinite
    L, pd = boot._cholesky(H)
    assert not pd[7] and pd.sum() == 49
    g = rng.normal(size=(50, 5))
    x = boot._backward(L, boot._forward(L, g))
    np.testing.assert_allclose(x[pd], np.linalg.solve(H[pd], g[pd][..., None])[..., 0], rtol=1e-9)
    dec = boot._decrement(g, H)
    want = 0.5 * np.einsum("ki,ki->k", g[pd], np.linalg.solve(H[pd], g[pd][..., None])[..., 0])
    np.testing.assert_allclose(dec[pd], want, rtol=1e-9)
    assert dec[7] == np.inf
    # the indefinite lane gets the saddle-free step: |eigenvalues|, here a plain diagonal
    lo, hi = np.full((50, 5), -np.inf), np.full((50, 5), np.inf)
    trial = boot._newton_step(np.zeros((50, 5)), g, H, np.zeros(50), lo, hi)
    np.testing.assert_allclose(trial[7], -g[7] / np.array([1.0, 2.0, 1.0, 3.0, 4.0]), rtol=1e-12)


def test_a_lane_with_a_non_finite_objective_is_reported_not_solved(problem):
    law, packed, theta, w, _, _ = problem
    start = np.tile(theta, (3, 1))
    start[1, 3] = np.nan  # a start the objective cannot be evaluated at
    res = refit(law, packed, start, w[:3])
    assert res.status[1] == STALLED and res.f[1] == np.inf and res.n_iter[1] == 0
    assert np.all(np.isfinite(res.f[[0, 2]]))


def test_a_resample_without_any_point_after_an_lr_decrease_is_left_out_and_counted():
    from scaling.laws.lr_annealing import _example_curves

    law = get_law("lr-annealing")
    constant, _, wsd = _example_curves()[:3]  # the WSD decays over its last 20 % (steps > 9600)
    rng = np.random.default_rng(2)
    with float64():
        groups = [Group(name, c, np.asarray(law(np.array([2.5, 0.6, 0.45, 0.5]), c))
                       * np.exp(rng.normal(0, 5e-4, c["step"].size))) for name, c in (("constant", constant), ("wsd", wsd))]
    data = Dataset(groups, info={"kind": "curves"})
    n0, late = len(groups[0].loss), wsd["step"] > 9600
    counts = np.ones((3, data.n_points))
    counts[1, n0:][late] = 0  # no cooldown point drawn: C and lam unseen
    counts[2, :n0] = 0  # the constant run dropped: the WSD's cooldown still sees C
    np.testing.assert_array_equal(boot.blind_resamples(law, data, counts), [False, True, False])
    # the constant run alone determines no annealing term at all: nothing leaks, nothing is left out
    alone = Dataset(groups[:1], info={"kind": "curves"})
    assert not boot.blind_resamples(law, alone, np.ones((2, n0))).any()
    res = fit(law, data, bootstrap=64, bootstrap_by="blocks", block_size=40, progress=False)
    blind = res.data_info["bootstrap"]["blind"]
    assert blind > 0 and f"{blind} of 64 resamples held no point after an LR decrease" in res.message
    assert np.sum(np.isnan(res.samples[:, 3])) == blind + res.data_info["bootstrap"]["failed"]
