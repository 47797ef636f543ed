"""The schedule-shape guess used by `scaling inspect`, on synthetic LR arrays of each shape."""

import numpy as np
import pytest

from scaling.shape import guess_schedule_shape

T = 10_000
PEAK = 3e-4
STEPS = np.arange(0, T + 1, 50)


def warmup(lr, w=500):
    return np.where(STEPS < w, PEAK * STEPS / w, lr)


def cosine(x, floor=0.1):
    return PEAK * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * x)))


def wsd(decay_start=0.8, form="linear", floor=0.1):
    x = np.clip((STEPS / T - decay_start) / (1 - decay_start), 0, 1)
    y = 1 - (1 - floor) * x if form == "linear" else floor**x
    return PEAK * y


CASES = {
    "constant": (np.full(STEPS.shape, PEAK), "constant"),
    "constant+warmup": (warmup(np.full(STEPS.shape, PEAK)), "constant"),
    "cosine": (cosine(STEPS / T), "cosine"),
    "cosine to zero": (cosine(STEPS / T, floor=0.0), "cosine"),
    "cosine+warmup": (warmup(cosine(np.clip((STEPS - 500) / (T - 500), 0, 1))), "cosine"),
    "linear": (PEAK * (1 - 0.9 * STEPS / T), "linear"),
    "linear+warmup": (warmup(PEAK * (1 - 0.9 * np.clip((STEPS - 500) / (T - 500), 0, 1))), "linear"),
    "wsd linear": (wsd(), "WSD"),
    "wsd exponential+warmup": (warmup(wsd(form="exp")), "WSD"),
    "step": (np.where(STEPS < 6000, PEAK, np.where(STEPS < 8000, 0.3 * PEAK, 0.1 * PEAK)), "step"),
    "inverse sqrt": (PEAK / np.sqrt(1 + STEPS / 100), "other"),
    "exponential": (PEAK * 0.01 ** (STEPS / T), "other"),
    "cyclic": (PEAK * (0.55 + 0.45 * np.cos(2 * np.pi * STEPS / 2500)), "other"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_shape_guess(name):
    lr, expected = CASES[name]
    assert guess_schedule_shape(STEPS, lr).shape == expected


@pytest.mark.parametrize("name", ["constant+warmup", "cosine+warmup", "linear+warmup", "wsd exponential+warmup"])
def test_warmup_is_detected_and_its_end_reported(name):
    guess = guess_schedule_shape(STEPS, CASES[name][0])
    assert guess.warmup_steps == 500
    assert "warmup to step 500" in guess.describe()


def test_a_sparse_log_says_between_which_steps_the_warmup_ended():
    """Issue 11's set A: a 300-step warmup with the LR logged every 200 steps first shows the peak at 400."""
    s = np.arange(0, 25001, 200)
    lr = np.where(s < 300, 6e-4 * s / 300, 6e-4 * 0.5 * (1 + np.cos(np.pi * (s - 300) / 24700)))
    guess = guess_schedule_shape(s, lr)
    assert (guess.shape, guess.warmup_steps, guess.warmup_after) == ("cosine", 400, 200)
    assert guess.describe() == "cosine, warmup ends between steps 200 and 400, to zero"
    dense = guess_schedule_shape(np.arange(0, 25001, 20), np.interp(np.arange(0, 25001, 20), s, lr))
    assert dense.warmup_after is None and "warmup to step 400" in dense.describe()


def test_the_warmup_ends_where_the_fit_says_it_does():
    """Luo et al.'s per-step LR: 2,160 rising steps; the ramp's top is step 2159, within 0.1 % of it from 2157."""
    import jax.numpy as jnp

    from scaling.areas import warmup_end

    lr = np.r_[np.linspace(0, 3e-4, 2160), np.full(5000, 3e-4)]
    steps = np.arange(lr.size)
    assert guess_schedule_shape(steps, lr).warmup_steps == int(warmup_end(jnp.asarray(lr))) == 2159


def test_no_warmup_when_the_log_starts_at_the_peak():
    guess = guess_schedule_shape(STEPS, CASES["cosine"][0])
    assert guess.warmup_steps is None and "no warmup in log" in guess.describe()


def test_wsd_detail_names_the_decay_form():
    assert "linear" in guess_schedule_shape(STEPS, wsd()).detail
    assert "exponential" in guess_schedule_shape(STEPS, wsd(form="exp")).detail
    x = np.clip((STEPS / T - 0.8) / 0.2, 0, 1)
    assert guess_schedule_shape(STEPS, PEAK * (1 - np.sqrt(x))).detail.endswith(", 1-sqrt")  # to zero, as set A's
    sparse = STEPS[::4]  # logged every 200 steps
    assert guess_schedule_shape(sparse, PEAK * (1 - np.sqrt(x[::4]))).detail.endswith(", 1-sqrt")


@pytest.mark.parametrize("form", ["linear", "1-sqrt"])
def test_a_wsd_with_a_90_percent_cooldown_is_still_wsd(form):
    """Set A's longest cooldowns keep the peak for only 10 % of the steps (under the 20 % of a plain WSD)."""
    s = np.arange(0, 25001, 200)
    x = np.clip((s - 2500) / 22500, 0, 1)
    body = 1 - x if form == "linear" else 1 - np.sqrt(x)
    lr = 6e-4 * np.where(s < 300, s / 300, body)
    guess = guess_schedule_shape(s, lr)
    assert (guess.shape, guess.detail) == ("WSD", f"decay after step 2400, {form}")
    # with no stable stretch at all the same decays keep their own names
    assert guess_schedule_shape(s, 6e-4 * (1 - s / 25000)).shape == "linear"
    assert guess_schedule_shape(s, 6e-4 * (1 - np.sqrt(s / 25000))).shape == "other"


def test_a_decay_to_zero_reads_to_zero():
    assert guess_schedule_shape(STEPS, cosine(STEPS / T, floor=0.0)).detail == "to zero"
    assert guess_schedule_shape(STEPS, cosine(STEPS / T)).detail == "to 0.1 x peak"


def test_step_detail_lists_the_drops():
    assert guess_schedule_shape(STEPS, CASES["step"][0]).detail == "2 drops at step 6000, 8000"


def test_unsorted_and_nan_points_are_handled():
    lr = cosine(STEPS / T)
    order = np.random.default_rng(0).permutation(len(STEPS))
    lr_with_gaps = lr[order].copy()
    lr_with_gaps[::7] = np.nan
    assert guess_schedule_shape(STEPS[order], lr_with_gaps).shape == "cosine"


def test_no_lr_is_unknown():
    assert guess_schedule_shape([], []).shape == "unknown"
    assert guess_schedule_shape([0, 1], [np.nan, np.nan]).shape == "unknown"


# A long run logged at every step: per-step changes of a smooth decay are tiny
# (a cosine over 33,908 steps drops by < 5e-5 of the peak per step).
LONG = np.arange(0, 33_909)
LONG_X = LONG / LONG[-1]


@pytest.mark.parametrize(
    "lr, shape",
    [
        (PEAK * 0.5 * (1 + np.cos(np.pi * LONG_X)), "cosine"),
        (PEAK * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * LONG_X))), "cosine"),
        (PEAK * (1 - 0.99 * LONG_X), "linear"),
        (np.where(LONG < 27_000, PEAK, np.where(LONG < 30_500, 0.316 * PEAK, 0.1 * PEAK)), "step"),
    ],
)
def test_decays_logged_at_every_step_are_named_by_their_shape(lr, shape):
    assert guess_schedule_shape(LONG, lr).shape == shape


def test_a_per_step_cosine_from_step_0_is_described_without_garbled_text():
    from scaling.run_summary import describe_curves
    from scaling.runs import make_curves

    lr = PEAK * 0.5 * (1 + np.cos(np.pi * LONG_X))
    t = make_curves(run="cos", step=LONG, loss=3 + 0 * LONG_X, lr=lr)
    line = [ln for ln in describe_curves(t).splitlines() if ln.startswith("cos ")][0]
    assert "cosine, no warmup in log" in line
    assert "drop at step )" not in line and "0 drop" not in line


def test_step_detail_never_reports_zero_drops():
    for lr in (PEAK * (1 - 0.5 * LONG_X), PEAK * 0.5 * (1 + np.cos(np.pi * LONG_X))):
        assert "0 drop" not in guess_schedule_shape(LONG, lr).detail
