"""Every schedule's shape, the text spec parser and schedule_array."""

import jax
import numpy as np
import pytest

from scaling import schedules as sch
from scaling.errors import ScalingError


def arr(s, total):
    return sch.schedule_array(s, total)


def test_constant_is_flat():
    assert np.all(arr(sch.constant(3e-4), 10) == 3e-4)


def test_linear_ramps_then_holds():
    lr = arr(sch.linear(0.0, 1.0, 4), 6)
    np.testing.assert_allclose(lr, [0, 0.25, 0.5, 0.75, 1, 1, 1])


def test_cosine_hits_peak_half_and_final():
    lr = arr(sch.cosine(1.0, 100, final=0.1), 120)
    assert lr[0] == pytest.approx(1.0)
    assert lr[50] == pytest.approx(0.55)
    assert lr[100] == pytest.approx(0.1) and lr[120] == pytest.approx(0.1)
    assert np.all(np.diff(lr[:101]) <= 0)


@pytest.mark.parametrize(
    "shape, mid",
    [("linear", 0.55), ("cosine", 0.55), ("1-sqrt", 0.1 + 0.9 * (1 - np.sqrt(0.5))), ("exp", np.sqrt(0.1))],
)
def test_wsd_decay_shapes(shape, mid):
    lr = arr(sch.wsd(1.0, 100, decay_steps=20, final=0.1, shape=shape), 100)
    assert np.all(lr[:81] == pytest.approx(1.0))
    assert lr[90] == pytest.approx(mid)
    assert lr[100] == pytest.approx(0.1)


def test_wsd_exp_needs_positive_final():
    with pytest.raises(ScalingError):
        sch.wsd(1.0, 100, decay_steps=20, final=0.0, shape="exp")


def test_multi_step_80_10_10():
    lr = arr(sch.multi_step([1.0, 0.316, 0.1], [80, 90]), 100)
    assert lr[79] == 1.0 and lr[80] == pytest.approx(0.316) and lr[89] == pytest.approx(0.316)
    assert lr[90] == pytest.approx(0.1) and lr[100] == pytest.approx(0.1)


def test_two_stage_switches_once():
    lr = arr(sch.two_stage(3e-4, 9e-5, 50), 60)
    assert lr[49] == 3e-4 and lr[50] == 9e-5 and lr[60] == 9e-5


def test_inverse_sqrt_quarter_at_fifteen_timescales():
    lr = arr(sch.inverse_sqrt(1.0, 10), 150)
    assert lr[0] == 1.0 and lr[150] == pytest.approx(0.25)


def test_cyclic_rewarmup_rises_back_to_peak():
    lr = arr(sch.cyclic(1.0, 10, final=0.0, rewarmup=2, shape="linear"), 25)
    np.testing.assert_allclose(lr[:8], 1.0 - np.arange(8) / 8)
    assert lr[9] == pytest.approx(0.5)
    assert lr[10] == pytest.approx(1.0) and lr[20] == pytest.approx(1.0)


def test_warmup_ramps_to_wrapped_schedule_and_shifts_it():
    lr = arr(sch.warmup(sch.cosine(1.0, 10, final=0.0), 4), 14)
    np.testing.assert_allclose(lr[:5], [0, 0.25, 0.5, 0.75, 1.0])
    assert lr[9] == pytest.approx(0.5)  # the cosine's midpoint, 5 steps after warmup
    assert lr[14] == pytest.approx(0.0)


def test_join_shifts_each_piece():
    lr = arr(sch.join([sch.constant(1.0), sch.linear(0.5, 0.0, 10)], [5]), 15)
    assert lr[4] == 1.0 and lr[5] == 0.5 and lr[10] == pytest.approx(0.25) and lr[15] == 0.0


def test_from_array_holds_last_value():
    s = sch.from_array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(arr(s, 4), [0, 1, 2, 2, 2])
    np.testing.assert_allclose(sch.schedule_array(s), [0, 1, 2])


def test_from_array_rejects_nan():
    with pytest.raises(ScalingError):
        sch.from_array([1.0, np.nan])


def test_schedules_are_jittable():
    s = sch.warmup(sch.wsd(3e-4, 100, decay_steps=20, final=3e-5, shape="1-sqrt"), 10)
    np.testing.assert_allclose(np.asarray(jax.jit(s)(np.arange(111))), arr(s, 110), rtol=1e-6)


def test_optax_schedule_is_accepted():
    optax = pytest.importorskip("optax")
    s = optax.warmup_cosine_decay_schedule(0.0, 1.0, 10, 110, end_value=0.1)
    lr = arr(s, 110)
    assert lr.shape == (111,) and lr[10] == pytest.approx(1.0) and lr[110] == pytest.approx(0.1)


def test_schedule_array_extends_and_cuts_arrays():
    np.testing.assert_allclose(sch.schedule_array([1.0, 2.0], 3), [1, 2, 2, 2])
    np.testing.assert_allclose(sch.schedule_array([1.0, 2.0, 3.0], 1), [1, 2])


def test_parse_wsd_exp_matches_luo_formula():
    s, total = sch.parse_schedule("wsd:peak=3e-4,final=3e-5,warmup=2160,total=24000,decay_steps=4000,shape=exp")
    lr = arr(s, total)
    steps = np.arange(20000, 24001)
    expect = 3e-4 ** ((24000 - steps) / 4000) * 3e-5 ** ((steps - 20000) / 4000)
    np.testing.assert_allclose(lr[20000:], expect, rtol=1e-12)
    assert np.all(lr[2160:20001] == pytest.approx(3e-4))
    assert lr[1080] == pytest.approx(1.5e-4)


def test_parse_cosine_matches_luo_formula():
    s, total = sch.parse_schedule("cosine:peak=3e-4,final=3e-5,warmup=2160,total=24k")
    steps = np.arange(2160, 24001)
    expect = 3e-5 + 0.5 * 2.7e-4 * (1 + np.cos(np.pi * (steps - 2160) / (24000 - 2160)))
    np.testing.assert_allclose(arr(s, total)[2160:], expect, rtol=1e-12)


def test_parse_decay_fraction_of_total():
    s, total = sch.parse_schedule("wsd:peak=1,final=0,total=100,decay=0.2")
    lr = arr(s, total)
    assert lr[80] == 1.0 and lr[90] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "spec",
    [
        "constant:peak=3e-4,warmup=100",
        "linear:peak=3e-4,final=3e-5,total=1000,warmup=100",
        "multistep:peak=3e-4,total=1000,at=0.8/0.9,factors=0.316/0.1",
        "twostage:peak=3e-4,low=9e-5,switch=500,warmup=100",
        "invsqrt:peak=3e-4,warmup=100",
        "cyclic:peak=3e-4,final=3e-5,period=300,rewarmup=50,total=1000,warmup=100",
    ],
)
def test_parse_every_kind_gives_positive_lr_after_warmup(spec):
    s, total = sch.parse_schedule(spec)
    lr = arr(s, total or 1000)
    assert np.all(lr[100:] > 0) and lr[100] == pytest.approx(3e-4)


def test_parse_multistep_levels():
    s, total = sch.parse_schedule("multistep:peak=1,total=100,at=0.8/0.9,factors=0.5/0.1")
    lr = arr(s, total)
    assert lr[79] == 1 and lr[80] == 0.5 and lr[95] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "spec",
    ["nope:peak=1", "cosine:peak=1", "cosine:peak=1,total=10,bogus=2", "cosine:peak=x,total=10", "wsd:peak=1,total=10,shape=odd"],
)
def test_parse_errors_are_one_line_scaling_errors(spec):
    with pytest.raises(ScalingError) as info:
        sch.parse_schedule(spec)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- hostile specs


@pytest.mark.parametrize(
    "spec, match",
    [
        ("constant:peak=-0.003", r"peak=-0.003 must be a learning rate > 0"),
        ("constant:peak=0", r"peak=0 must be a learning rate > 0"),
        ("constant:peak=nan", r"peak='nan' is not a finite number"),
        ("cosine:peak=inf,total=100", r"peak='inf' is not a finite number"),
        ("cosine:peak=1e-3,total=inf", r"total='inf' is not a finite number"),
        ("cosine:peak=1e-3,total=1e30", r"total=1e30 must be a whole number of steps from 1 to 100,000,000"),
        ("cosine:peak=1e-3,total=1e400", r"total='1e400' is not a finite number"),
        ("constant:peak=1e-3,warmup=nan", r"warmup='nan' is not a finite number"),
        ("constant:peak=1e-3,warmup=2.5", r"warmup=2.5 must be a whole number of steps"),
        ("cosine:peak=1e-3,final=-1e-4,total=100", r"final=-1e-4 must be a learning rate >= 0"),
        ("cosine:peak=1e-3,final=2e-3,total=100", r"final=2e-3 is above peak=1e-3"),
        ("constant:peak=1e-3,peak=2e-3", r"peak= is given twice"),
        ("multistep:peak=1e-3,total=100,at=0.9/0.5,factors=0.3/0.1", r"they must increase"),
        ("multistep:peak=1e-3,total=100,at=0.5,factors=-1", r"factors=-1 must be >= 0"),
        ("cyclic:peak=1e-3,total=100,period=10,rewarmup=10", r"rewarmup=10 must be shorter than period=10"),
        ("twostage:peak=1e-3,low=-1,switch=50", r"low=-1 must be a learning rate >= 0"),
        ("wsd:peak=1e-3,total=100,shape=bogus", r"unknown decay shape 'bogus'"),
    ],
)
def test_hostile_specs_are_one_line_errors(spec, match):
    with pytest.raises(ScalingError, match=match) as info:
        sch.parse_schedule(spec)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: sch.constant(-0.003), "constant LR must be a finite learning rate > 0"),
        (lambda: sch.cosine(float("nan"), 100), "cosine peak must be a finite learning rate > 0"),
        (lambda: sch.cosine(1e-3, float("inf")), "cosine schedule steps must be a whole number of steps"),
        (lambda: sch.warmup(sch.constant(1e-3), 10**12), "warmup steps must be between 0 and 100,000,000"),
        (lambda: sch.schedule_array(sch.constant(1e-3), 10**12), "total_steps must be between 0 and 100,000,000"),
        (lambda: sch.schedule_array(sch.constant(1e-3), float("inf")), "total_steps must be a whole number of steps"),
        (lambda: sch.multi_step([1e-3, -1.0], [10]), "multi_step value 2 must be a finite learning rate >= 0"),
    ],
)
def test_builders_refuse_nonsense_before_allocating(build, match):
    with pytest.raises(ScalingError, match=match):
        build()


def test_a_spec_that_is_not_text_is_an_error():
    with pytest.raises(ScalingError, match="schedule spec must be text"):
        sch.parse_schedule(None)
