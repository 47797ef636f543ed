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


def test_prefix_sum_equals_cumsum():
    x = np.random.default_rng(0).random(5000)
    for n in (1, 64, 65, 5000):
        np.testing.assert_allclose(areas.prefix_sum(x[:n]), np.cumsum(x[:n]), rtol=1e-13)


@pytest.mark.parametrize("start", [1, 20])
def test_multi_power_ld_is_the_direct_double_sum_on_a_short_schedule(start):
    # below EXACT_BELOW steps every term is summed exactly
    lr = _short_schedule()
    steps = np.array([0, 5, 19, 49, 60, 89, 95, 100])
    got = np.asarray(areas.multi_power_ld(lr, steps, 2.0, 0.6, 0.6, start=start))
    ref = [_ld_direct(lr, int(t), 2.0, 0.6, 0.6, start) for t in steps]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(areas.multi_power_ld_direct(lr, steps, 2.0, 0.6, 0.6, start=start), ref,
                               rtol=1e-10, atol=1e-15)


# One length and one set of steps for every family, so the compiled code is shared.
T_LONG, W_LONG = 8000, 400
STEPS_LONG = np.unique(np.r_[np.linspace(1, T_LONG, 90).astype(int), 2, 17, 401, 402, 4001, T_LONG - 1])


def _families():
    from scaling import schedules as sch

    post = T_LONG - W_LONG

    def arr(s):
        return sch.schedule_array(sch.warmup(s, W_LONG), T_LONG)

    cos = arr(sch.cosine(3e-4, post, final=3e-5))
    rng = np.random.default_rng(0)
    return {
        "constant+warmup": arr(sch.constant(3e-4)),
        "cosine": cos,
        "wsd linear": arr(sch.wsd(3e-4, post, decay_steps=1600, final=0.0, shape="linear")),
        "wsd 1-sqrt": arr(sch.wsd(3e-4, post, decay_steps=1600, final=0.0, shape="1-sqrt")),
        "wsd exp": arr(sch.wsd(3e-4, post, decay_steps=1600, final=3e-6, shape="exp")),
        "multistep": arr(sch.multi_step([3e-4, 1e-4, 3e-5, 1e-5], [2000, 4000, 6000])),
        "two-stage": arr(sch.two_stage(3e-4, 9e-5, post // 2)),
        "cyclic": arr(sch.cyclic(3e-4, 1600, final=3e-5, rewarmup=160)),
        "cyclic jump": arr(sch.cyclic(3e-4, 1600, final=3e-5)),
        "noisy logged": cos * (1.0 + 0.01 * rng.standard_normal(cos.size)),
        "cyclic to 0": arr(sch.cyclic(3e-4, 1600, final=0.0)),
    }


def _tv(lr, steps):
    return np.cumsum(np.abs(np.r_[0.0, lr[:-1] - lr[1:]]))[steps]


@pytest.mark.parametrize("name", list(_families()))
@pytest.mark.parametrize("warmup", ["repo", "skip"])
def test_multi_power_ld_is_within_its_stated_bound_of_the_exact_sum(name, warmup):
    # the bound stated in multi_power_ld's docstring: 1e-6 of the drops' total
    # variation, 1e-4 for cycles that decay to exactly 0
    lr = _families()[name]
    start = 1 if warmup == "repo" else int(areas.warmup_end(lr)) + 1
    C, beta, gamma = 2.02462735, 0.59350493, 0.63472457  # published 400M
    exact = np.asarray(areas.multi_power_ld_direct(lr, STEPS_LONG, C, beta, gamma, start=start))
    fast = np.asarray(areas.multi_power_ld(lr, STEPS_LONG, C, beta, gamma, start=start))
    bound = (1e-4 if name == "cyclic to 0" else 1e-6) * _tv(lr, STEPS_LONG)
    assert np.all(np.abs(fast - exact) <= bound), np.max(np.abs(fast - exact) / _tv(lr, STEPS_LONG))
    # a real LD to compare (a constant LR after warmup has none: then both are 0)
    assert np.max(np.abs(exact)) > 1e-6 or (name == "constant+warmup" and warmup == "skip")


def test_tree_cut_counts_every_drop_exactly_once():
    # sum of the used drop masses over the cut telescopes to lr[start-1] - lr[t]
    from scaling.drop_nodes import _plan

    lr = _families()["noisy logged"]
    for start in (1, 401):
        nodes = areas.multi_power_nodes(lr, start=start)
        cols, _ = _plan(nodes, np.asarray(STEPS_LONG))
        want = np.where(STEPS_LONG >= start, lr[start - 1] - lr[STEPS_LONG], 0.0)
        np.testing.assert_allclose(np.asarray(cols[0]).sum(axis=1), want, rtol=1e-9, atol=1e-15)


@pytest.mark.slow
def test_multi_power_ld_derivatives_match_the_exact_sum():
    # gradient and Hessian in (log C, beta, gamma), through the custom JVP,
    # against autodiff of the exact double sum; also under vmap over parameters
    import jax
    import jax.numpy as jnp

    lr = _families()["wsd exp"]
    steps = STEPS_LONG

    def f(fn):
        return lambda p: jnp.sum(jnp.sin(3e3 * fn(lr, steps, jnp.exp(p[0]), p[1], p[2])))

    p = jnp.asarray([0.7, 0.59, 0.63])
    fast, exact = f(areas.multi_power_ld), f(areas.multi_power_ld_direct)
    np.testing.assert_allclose(jax.grad(fast)(p), jax.grad(exact)(p), rtol=1e-4)
    h_fast = jax.jit(jax.jacfwd(jax.grad(fast)))(p)
    np.testing.assert_allclose(h_fast, jax.hessian(exact)(p), rtol=1e-4, atol=1e-6 * np.abs(h_fast).max())
    np.testing.assert_allclose(jax.hessian(fast)(p), h_fast, rtol=1e-10)  # reverse-over-forward agrees
    ps = jnp.stack([p, p + 0.05, p - 0.05])
    np.testing.assert_allclose(jax.vmap(fast)(ps), [fast(q) for q in ps], rtol=1e-12)


def test_multi_power_ld_chunked_equals_unchunked():
    lr = _families()["cosine"]
    a = areas.multi_power_ld(lr, STEPS_LONG, 2.0, 0.6, 0.6)
    b = areas.multi_power_ld(lr, STEPS_LONG, 2.0, 0.6, 0.6, chunk_elems=5000)
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_node_layout_is_exact_for_short_runs_and_sqrt_sized_for_long_ones():
    from scaling.drop_nodes import EXACT_BELOW

    assert areas.node_layout(EXACT_BELOW - 1) == (0, 1)
    assert areas.node_layout(25_000) == (7, 128)  # sqrt(T) = 158 -> 128
    assert areas.node_layout(1_000_000) == (11, 2048)  # T / 256 = 3906 -> 2048
