"""S1, S2 and the multi-power LD term against hand-computed values and direct sums."""

import numpy as np
import pytest

from scaling import areas
from scaling._x64 import float64


@pytest.fixture(autouse=True)
def _x64():
    with float64():
        yield


def test_forward_area_is_inclusive_cumsum():
    np.testing.assert_allclose(areas.forward_area(np.array([0.0, 1.0, 2.0, 2.0])), [0, 1, 3, 5])


def test_annealing_area_by_hand_for_a_step_decay():
    # lr 4,4,2,2,2 -> drops d = 0,0,2,0,0; lam = 0.5 -> m = 0,0,2,1,0.5; S2 = 0,0,2,3,3.5
    lr = np.array([4.0, 4.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(areas.annealing_momentum(lr, 0.5), [0, 0, 2, 1, 0.5])
    np.testing.assert_allclose(areas.annealing_area(lr, 0.5), [0, 0, 2, 3, 3.5])


def test_annealing_area_shrinks_at_a_rewarmup():
    # decay 4->2 then re-warmup 2->4: d = 0,2,0,-2,0; lam=0.5 -> m = 0,2,1,-1.5,-0.75
    lr = np.array([4.0, 2.0, 2.0, 4.0, 4.0])
    m = areas.annealing_momentum(lr, 0.5)
    np.testing.assert_allclose(m, [0, 2, 1, -1.5, -0.75])
    s2 = np.asarray(areas.annealing_area(lr, 0.5))
    np.testing.assert_allclose(s2, [0, 2, 3, 1.5, 0.75])
    assert s2[3] < s2[2]


def test_annealing_area_start_ignores_warmup_rises():
    lr = np.array([0.0, 1.0, 2.0, 2.0, 1.0])
    np.testing.assert_allclose(areas.annealing_area(lr, 0.0, start=3), [0, 0, 0, 0, 1])
    np.testing.assert_allclose(areas.annealing_area(lr, 0.0), [0, -1, -2, -2, -1])


def test_annealing_area_matches_a_python_loop_on_a_long_schedule():
    rng = np.random.default_rng(0)
    lr = np.abs(rng.normal(1e-3, 3e-4, 5000))
    m, ref = 0.0, []
    total = 0.0
    for i in range(lr.size):
        m = 0.999 * m + (lr[i - 1] - lr[i] if i else 0.0)
        total += m
        ref.append(total)
    np.testing.assert_allclose(areas.annealing_area(lr, 0.999), ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "lr, w",
    [(np.r_[np.linspace(0, 1, 5), np.ones(3)], 4), (np.ones(6), 0), (np.r_[1.0, 0.5, 0.2], 0), (np.arange(4.0), 3)],
)
def test_warmup_end_detects_the_rising_ramp(lr, w):
    assert int(areas.warmup_end(lr)) == w


def _ld_direct(lr, t, C, beta, gamma, start=1):
    cs = np.cumsum(lr)
    total = 0.0
    for k in range(max(1, start), t + 1):
        s_k = cs[t] - cs[k - 1]
        total += (lr[k - 1] - lr[k]) * (1 - (C * lr[k] ** -gamma * s_k + 1) ** -beta)
    return total


def _short_schedule():
    return np.r_[np.linspace(1e-5, 3e-4, 20), np.full(30, 3e-4), np.linspace(3e-4, 3e-5, 40), np.full(11, 9e-5)]


@pytest.mark.parametrize("start", [1, 20])
def test_multi_power_ld_equals_direct_double_sum(start):
    lr = _short_schedule()
    steps = np.array([0, 5, 19, 49, 60, 89, 95, 100])
    got = np.asarray(areas.multi_power_ld(lr, steps, 2.0, 0.6, 0.6, start=start))
    ref = [_ld_direct(lr, int(t), 2.0, 0.6, 0.6, start) for t in steps]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-15)


def test_multi_power_ld_chunked_equals_unchunked():
    lr = _short_schedule()
    steps = np.arange(0, 101, 3)
    a = areas.multi_power_ld(lr, steps, 2.0, 0.6, 0.6, block=1)
    b = areas.multi_power_ld(lr, steps, 2.0, 0.6, 0.6, block=1, chunk_elems=250)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_multi_power_ld_blocked_is_close_to_exact_on_a_long_schedule():
    W, T = 2160, 24000
    s = np.arange(W, T + 1)
    lr = np.r_[np.linspace(0, 3e-4, W), 3e-5 + 0.5 * 2.7e-4 * (1 + np.cos(np.pi * (s - W) / (T - W)))]
    steps = np.arange(2176, T, 1024)
    exact = np.asarray(areas.multi_power_ld(lr, steps, 2.0, 0.59, 0.63, block=1))
    fast = np.asarray(areas.multi_power_ld(lr, steps, 2.0, 0.59, 0.63))
    # 5e-4 of LD; times B ~ 500 this is < 1e-4 nats of loss.
    assert np.max(np.abs(fast - exact)) < 5e-4 * np.max(np.abs(exact))
