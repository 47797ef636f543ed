"""compute_for_loss against hand-computed values: fixed N, free N, inference-aware N, search edges.

The law is Chinchilla, L = E + A N^-alpha + B D^-beta, with Hoffmann et al.'s
(2022) published constants, held by a fit-like stand-in (no fitting). The
expected values are computed here, independently of :mod:`scaling.plan`:

- at fixed N the tokens solve L(N, D) = L* in closed form,
  D(N) = (B / (L* - E - A N^-alpha))^(1/beta);
- with N free the cheapest model minimises the total cost
  6 N D(N) + 2 N T_inf (Sardana et al. 2023, arXiv:2401.00448), found here
  with scipy's bounded scalar minimiser on the closed-form D(N), and checked
  against the first-order condition
  6 D (1 - alpha A N^-alpha / (beta R)) + 2 T_inf = 0, R = L* - E - A N^-alpha.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from scaling import plan
from scaling.laws import get_law

P = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}  # Hoffmann et al. 2022, Eq. 10


from tests.test_plan import FitLike  # noqa: E402  (the shared stand-in for a fit result)


def fit_like(p=P, samples=None) -> FitLike:
    # the chinchilla law's fit space is (log A, log B, log E, alpha, beta)
    theta = np.array([math.log(p["A"]), math.log(p["B"]), math.log(p["E"]), p["alpha"], p["beta"]])
    return FitLike(get_law("chinchilla"), theta, samples)


def tokens_needed(N, target, p=P):
    """Closed form D(N) with L(N, D) = target; inf where N alone cannot get below it."""
    R = target - p["E"] - p["A"] * N ** (-p["alpha"])
    return (p["B"] / R) ** (1.0 / p["beta"]) if R > 0 else math.inf


def cheapest(target, T=0.0, p=P):
    """N, D minimising 6 N D(N) + 2 N T, by scipy on log N over the N where the target is reachable."""
    from scipy.optimize import minimize_scalar

    n_floor = (p["A"] / (target - p["E"])) ** (1.0 / p["alpha"])  # below it no D reaches the target

    def log_cost(logN):
        N = math.exp(logN)
        return math.log(6.0 * N * tokens_needed(N, target, p) + 2.0 * N * T)

    res = minimize_scalar(log_cost, bounds=(math.log(n_floor) + 1e-6, math.log(1e16)), method="bounded",
                          options={"xatol": 1e-12, "maxiter": 2000})
    assert res.success
    N = math.exp(res.x)
    return N, tokens_needed(N, target, p)


def first_order_residual(N, D, target, T, p=P):
    """d cost / dN divided by 6D at (N, D(N)): zero at the cheapest N."""
    R = target - p["E"] - p["A"] * N ** (-p["alpha"])
    return (1.0 - p["alpha"] * p["A"] * N ** (-p["alpha"]) / (p["beta"] * R)) + 2.0 * T / (6.0 * D)


# --------------------------------------------------------------------------- (i) fixed N


@pytest.mark.parametrize("N, target", [(1e8, 2.6), (1e9, 2.3), (7e10, 1.95)])
def test_fixed_size_tokens_solve_the_law_in_closed_form(N, target):
    df = plan.compute_for_loss(fit_like(), target, N=N)
    D = tokens_needed(N, target)
    assert df.loc[0, "D"] == pytest.approx(D, rel=1e-12)
    assert df.loc[0, "N"] == N
    assert df.loc[0, "train_flops"] == pytest.approx(6.0 * N * D, rel=1e-6)
    assert df.loc[0, "inference_flops"] == 0.0


def test_fixed_size_counts_two_flops_per_parameter_per_served_token():
    N, T = 1e9, 3e12
    df = plan.compute_for_loss(fit_like(), 2.3, N=N, inference_tokens=T)
    assert df.loc[0, "inference_flops"] == pytest.approx(2.0 * N * T, rel=1e-12)
    assert df.loc[0, "total_flops"] == pytest.approx(6.0 * N * tokens_needed(N, 2.3) + 2.0 * N * T, rel=1e-6)


def test_fixed_size_below_its_floor_is_nan():
    # at N = 1e8 the loss never gets below E + A N^-alpha = 1.69 + 406.4 / 1e8^0.34 ~ 2.04
    df = plan.compute_for_loss(fit_like(), 2.0, N=1e8)
    assert np.isnan(df.loc[0, "D"]) and df.loc[0, "reachable"] == 0.0
    assert df.attrs["why"] == "loss 2 is below the law's floor at N = 1e+08"


def test_below_the_floor_of_every_size_is_said_to_be_the_floor_not_an_edge():
    df = plan.compute_for_loss(fit_like(), 1.6)  # E = 1.69: no N, D gets there
    assert np.isnan(df.loc[0, "N"]) and df.attrs["why"] == "loss 1.6 is below the law's floor at N = 1e+14"


def test_a_target_met_with_one_token_is_not_determined_not_the_search_bound():
    # L(N, 1 token) = E + A N^-alpha + B ~ 412.4 at N = 1e9: a target of 500 needs "less than one token"
    df = plan.compute_for_loss(fit_like(), 500.0, N=1e9)
    assert np.isnan(df.loc[0, "D"]) and df.attrs["why"] == "loss 500 is reached with under one token at N = 1e+09"


def test_an_answer_carries_no_why():
    assert "why" not in plan.compute_for_loss(fit_like(), 2.2).attrs


# --------------------------------------------------------------------------- (ii) free N, training only


@pytest.mark.parametrize("target", [2.6, 2.2, 2.0])
def test_cheapest_size_for_a_loss_matches_a_fine_numeric_minimisation(target):
    N, D = cheapest(target)
    df = plan.compute_for_loss(fit_like(), target)
    assert df.loc[0, "N"] == pytest.approx(N, rel=1e-3)
    assert df.loc[0, "D"] == pytest.approx(D, rel=1e-3)
    assert df.loc[0, "total_flops"] == pytest.approx(6.0 * N * D, rel=1e-6)
    assert abs(first_order_residual(df.loc[0, "N"], df.loc[0, "D"], target, 0.0)) < 1e-3


def test_cheapest_size_for_a_loss_is_on_the_compute_optimal_frontier():
    # the compute-optimal point at C reaches L_opt(C); the cheapest model for L_opt(C) is that point
    C = 1e22
    opt = plan.chinchilla_allocation(**P, flops=C)
    df = plan.compute_for_loss(fit_like(), float(opt["loss"]))
    assert df.loc[0, "N"] == pytest.approx(float(opt["N"]), rel=1e-3)
    assert df.loc[0, "D"] == pytest.approx(float(opt["D"]), rel=1e-3)
    assert df.loc[0, "total_flops"] == pytest.approx(C, rel=1e-6)


# --------------------------------------------------------------------------- (iii) with inference


@pytest.mark.parametrize("T", [1e12, 1e13, 1e14])
def test_serving_tokens_moves_the_optimum_to_a_smaller_model_trained_longer(T):
    target = 2.2
    N0, D0 = cheapest(target)
    N, D = cheapest(target, T)
    assert N < N0 and D > D0  # the hand-computed optimum itself moves that way
    train_only = plan.compute_for_loss(fit_like(), target)
    served = plan.compute_for_loss(fit_like(), target, inference_tokens=T)
    assert served.loc[0, "N"] == pytest.approx(N, rel=1e-3)
    assert served.loc[0, "D"] == pytest.approx(D, rel=1e-3)
    assert served.loc[0, "N"] < train_only.loc[0, "N"] * (1 - 1e-2)
    assert served.loc[0, "D"] > train_only.loc[0, "D"] * (1 + 1e-2)
    assert served.loc[0, "inference_flops"] == pytest.approx(2.0 * N * T, rel=1e-3)
    assert served.loc[0, "total_flops"] == pytest.approx(6.0 * N * D + 2.0 * N * T, rel=1e-6)
    assert abs(first_order_residual(served.loc[0, "N"], served.loc[0, "D"], target, T)) < 1e-3


def test_counting_inference_never_costs_less_than_the_same_plan_without_it():
    target, T = 2.2, 1e13
    served = plan.compute_for_loss(fit_like(), target, inference_tokens=T)
    # the training-only optimum, charged for serving, is dearer than the inference-aware optimum
    N0, D0 = cheapest(target)
    assert served.loc[0, "total_flops"] < 6.0 * N0 * D0 + 2.0 * N0 * T


# --------------------------------------------------------------------------- (iv) search edges


def test_optimum_below_the_search_range_is_not_determined_not_1e5():
    # a loss this high is cheapest with ~2.6e4 parameters (scipy), below the 1e5 search floor
    target = 30.0
    assert cheapest(target)[0] < 1e5
    df = plan.compute_for_loss(fit_like(), target)
    assert np.isnan(df.loc[0, "N"]) and np.isnan(df.loc[0, "D"]) and np.isnan(df.loc[0, "total_flops"])
    assert df.loc[0, "reachable"] == 0.0
    assert df.attrs["why"] == ("the cheapest N for loss 30 is on the edge of the search range "
                               "(1e+05..1e+14 parameters): the fit does not determine it")


def test_inference_pushing_the_optimum_below_the_search_range_is_not_determined():
    # without serving the cheapest model for L* = 10 has ~9.6e5 parameters; serving 1e16 tokens
    # pushes it to ~9.5e4 (towards the size where L* needs infinite data), below the search floor
    target, T = 10.0, 1e16
    assert cheapest(target)[0] > 1e5 > cheapest(target, T)[0]
    assert np.isfinite(plan.compute_for_loss(fit_like(), target).loc[0, "N"])
    df = plan.compute_for_loss(fit_like(), target, inference_tokens=T)
    assert np.isnan(df.loc[0, "N"]) and df.loc[0, "reachable"] == 0.0


def test_optimum_above_the_search_range_is_not_determined_but_a_cap_is_an_answer():
    target = 1.7005  # 5e-4 above E: the cheapest model is far beyond 1e14 parameters
    assert cheapest(target)[0] > 1e14
    assert np.isnan(plan.compute_for_loss(fit_like(), target).loc[0, "N"])
    capped = plan.compute_for_loss(fit_like(), 2.1, max_N=1e9)  # unconstrained optimum ~6.7e9 (above the cap)
    assert cheapest(2.1)[0] > 1e9
    assert capped.loc[0, "N"] == pytest.approx(1e9, rel=1e-12)
    assert capped.loc[0, "D"] == pytest.approx(tokens_needed(1e9, 2.1), rel=1e-6)


def test_samples_whose_optimum_is_on_an_edge_do_not_enter_the_interval():
    # two samples: one is the point estimate, one has E so high the target is out of reach
    theta = fit_like().params
    bad = theta.copy()
    bad[2] = math.log(2.5)
    fit = fit_like(samples=np.stack([theta, theta, bad, bad]))
    df = plan.compute_for_loss(fit, 2.2)
    assert df.loc[0, "reachable"] == pytest.approx(0.5)
    N, _ = cheapest(2.2)
    assert df.loc[0, "N"] == pytest.approx(N, rel=1e-3)
    assert df.loc[0, "N_lo"] == pytest.approx(N, rel=1e-3) and df.loc[0, "N_hi"] == pytest.approx(N, rel=1e-3)
