"""Tests for optlib.schedules. Expected values are worked out by hand in the comments."""

import copy
import math
import pickle

import numpy as np
import pytest

from optlib.schedules import (
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    step_decay,
    warmup_cosine,
)

ALL_SCHEDULES = [
    constant(0.1),
    step_decay(0.1, drop=0.5, every=10),
    exponential_decay(0.1, gamma=0.9),
    cosine_decay(0.1, total_steps=100, lr_min=0.001),
    warmup_cosine(0.1, warmup_steps=10, total_steps=100, lr_min=0.001, lr_start=0.01),
]
IDS = [s.name for s in ALL_SCHEDULES]


# --------------------------------------------------------------- the step convention


@pytest.mark.parametrize(
    "schedule",
    [
        constant(0.01),
        step_decay(0.01, drop=0.1, every=1),
        exponential_decay(0.01, gamma=0.5),
        cosine_decay(0.01, total_steps=1),
        cosine_decay(0.01, total_steps=1000, lr_min=0.001),
        warmup_cosine(0.01, warmup_steps=0, total_steps=10),
    ],
    ids=lambda s: repr(s),
)
def test_convention_value_at_t0_is_the_base_rate(schedule):
    # t = 0 is the very first update: the schedule must give the rate it was built with,
    # exactly, whatever its other arguments (no hidden initial_lr elsewhere).
    assert schedule(0) == 0.01


def test_convention_after_T_updates_means_t_equals_T():
    # After total_steps = 4 updates (t = 4) the cosine has reached its end.
    s = cosine_decay(1.0, total_steps=4, lr_min=0.25)
    assert s(3) > 0.25
    assert s(4) == 0.25


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_returns_python_float(schedule):
    assert type(schedule(0)) is float
    assert type(schedule(np.int64(5))) is float
    assert type(schedule(np.uint8(5))) is float


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_vectorized_equals_scalar(schedule):
    steps = np.arange(0, 150)
    values = schedule(steps)
    assert isinstance(values, np.ndarray)
    assert values.dtype == np.float64
    assert values.shape == steps.shape
    assert values.tolist() == [schedule(int(t)) for t in steps]


def test_vectorized_keeps_shape_and_accepts_other_integer_dtypes():
    s = cosine_decay(0.1, total_steps=10)
    steps = np.array([[0, 5], [10, 20]], dtype=np.int32)
    values = s(steps)
    assert values.shape == (2, 2)
    assert values[0, 0] == 0.1 and values[1, 0] == 0.0 and values[1, 1] == 0.0
    assert s(np.array([], dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_calling_does_not_change_the_schedule(schedule):
    # No hidden state: evaluating out of order or twice gives the same numbers.
    first = [schedule(t) for t in (0, 50, 7, 0, 120)]
    second = [schedule(t) for t in (0, 50, 7, 0, 120)]
    assert first == second
    assert first[0] == first[3]


# --------------------------------------------------------------- values


def test_constant():
    s = constant(0.3)
    assert s(0) == 0.3
    assert s(10**6) == 0.3


def test_step_decay_boundaries():
    s = step_decay(0.8, drop=0.5, every=10)
    assert s(0) == 0.8
    assert s(9) == 0.8  # t = every - 1: not dropped yet
    assert s(10) == 0.4  # t = every: first drop
    assert s(19) == 0.4
    assert s(20) == 0.2
    assert s(35) == 0.1  # 35 // 10 = 3 drops: 0.8 / 8


def test_step_decay_default_arguments():
    s = step_decay(1.0)
    assert s(9) == 1.0
    assert s(10) == 0.5


def test_exponential_decay_by_hand():
    s = exponential_decay(2.0, gamma=0.5)
    assert s(0) == 2.0
    assert s(1) == 1.0
    assert s(3) == 0.25  # 2 * 0.5**3
    s = exponential_decay(0.1, gamma=0.9)
    assert s(3) == pytest.approx(0.1 * 0.9 * 0.9 * 0.9, rel=1e-12)  # 0.0729


def test_exponential_decay_gamma_one_is_constant():
    assert exponential_decay(0.1, gamma=1)(1000) == 0.1


def test_cosine_decay_values():
    s = cosine_decay(0.1, total_steps=100, lr_min=0.02)
    assert s(0) == 0.1
    # Middle: cos(pi / 2) = 0, so the rate is the average of lr and lr_min.
    assert s(50) == pytest.approx(0.06, abs=1e-15)
    # A quarter of the way: (1 + cos(pi/4)) / 2 = (1 + sqrt(2)/2) / 2 ~ 0.853553
    w = (1 + math.sqrt(2) / 2) / 2
    assert s(25) == pytest.approx(0.02 + 0.08 * w, rel=1e-12)
    assert s(100) == 0.02  # exactly lr_min at t = total_steps
    assert s(101) == 0.02
    assert s(10**6) == 0.02


def test_cosine_decay_reaches_zero_exactly():
    s = cosine_decay(0.1, total_steps=7)
    assert s(7) == 0.0
    assert s(6) > 0.0


def test_cosine_decay_is_non_increasing():
    values = cosine_decay(0.1, total_steps=1000, lr_min=0.001)(np.arange(1200))
    assert np.all(np.diff(values) <= 0)
    assert values.min() == 0.001 and values.max() == 0.1


def test_cosine_decay_lr_min_equal_to_lr_is_constant():
    s = cosine_decay(0.1, total_steps=10, lr_min=0.1)
    assert [s(t) for t in range(15)] == pytest.approx([0.1] * 15, rel=1e-15)
    assert s(0) == s(10) == 0.1


def test_warmup_cosine_key_points():
    s = warmup_cosine(0.1, warmup_steps=10, total_steps=110, lr_min=0.01, lr_start=0.02)
    assert s(0) == 0.02  # lr_start
    assert s(5) == pytest.approx(0.06, abs=1e-15)  # half-way up: (0.02 + 0.1) / 2
    assert s(10) == 0.1  # peak exactly at t = warmup_steps
    assert s(60) == pytest.approx(0.055, abs=1e-15)  # half-way down: (0.1 + 0.01) / 2
    assert s(110) == 0.01  # lr_min exactly at t = total_steps
    assert s(500) == 0.01


def test_warmup_cosine_defaults_start_and_end_at_zero():
    s = warmup_cosine(1.0, warmup_steps=4, total_steps=8)
    assert s(0) == 0.0
    assert s(1) == 0.25
    assert s(4) == 1.0
    assert s(8) == 0.0


def test_warmup_cosine_monotone():
    s = warmup_cosine(0.1, warmup_steps=50, total_steps=500, lr_min=0.001, lr_start=0.0)
    values = s(np.arange(600))
    warm, decay = values[:51], values[50:]
    assert np.all(np.diff(warm) > 0)  # strictly rising during warm-up
    assert np.all(np.diff(decay) <= 0)  # never rising after it
    assert values.max() == 0.1 == values[50]


def test_warmup_cosine_after_warmup_matches_shifted_cosine_decay():
    w = warmup_cosine(0.1, warmup_steps=20, total_steps=120, lr_min=0.005)
    c = cosine_decay(0.1, total_steps=100, lr_min=0.005)
    for t in (20, 21, 45, 70, 119, 120, 200):
        assert w(t) == pytest.approx(c(t - 20), rel=1e-12, abs=1e-15)


def test_warmup_cosine_zero_warmup_is_cosine_decay():
    w = warmup_cosine(0.1, warmup_steps=0, total_steps=50, lr_start=0.0)
    c = cosine_decay(0.1, total_steps=50)
    steps = np.arange(60)
    np.testing.assert_allclose(w(steps), c(steps), rtol=1e-12, atol=1e-15)
    assert w(0) == 0.1


# --------------------------------------------------------------- repr and identity


@pytest.mark.parametrize(
    "schedule, text",
    [
        (constant(0.1), "constant(lr=0.1)"),
        (step_decay(0.1), "step_decay(lr=0.1, drop=0.5, every=10)"),
        (exponential_decay(0.1, 0.99), "exponential_decay(lr=0.1, gamma=0.99)"),
        (cosine_decay(0.1, total_steps=1000), "cosine_decay(lr=0.1, total_steps=1000, lr_min=0.0)"),
        (
            warmup_cosine(0.1, 10, 100),
            "warmup_cosine(lr=0.1, warmup_steps=10, total_steps=100, lr_min=0.0, lr_start=0.0)",
        ),
    ],
)
def test_repr_is_readable_and_round_trips(schedule, text):
    assert repr(schedule) == text
    namespace = {
        "constant": constant,
        "step_decay": step_decay,
        "exponential_decay": exponential_decay,
        "cosine_decay": cosine_decay,
        "warmup_cosine": warmup_cosine,
    }
    again = eval(text, namespace)
    assert again == schedule
    assert hash(again) == hash(schedule)
    steps = np.arange(200)
    assert again(steps).tolist() == schedule(steps).tolist()


def test_repr_shows_plain_python_numbers():
    s = cosine_decay(np.float32(0.5), total_steps=np.int64(10), lr_min=0)
    assert repr(s) == "cosine_decay(lr=0.5, total_steps=10, lr_min=0.0)"


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_pickle_and_copy_round_trip(schedule):
    # Optimizers store the schedule in state_dict(), which must be picklable.
    for again in (pickle.loads(pickle.dumps(schedule)), copy.deepcopy(schedule)):
        assert again == schedule
        assert repr(again) == repr(schedule)
        steps = np.arange(130)
        assert again(steps).tolist() == schedule(steps).tolist()


def test_custom_schedule_object_is_callable_but_not_picklable():
    half = Schedule("half", {"lr": 0.2}, lambda t: 0.1 + 0 * t)
    assert half(3) == 0.1 and repr(half) == "half(lr=0.2)"
    with pytest.raises(TypeError, match=r"cannot pickle Schedule 'half'"):
        pickle.dumps(half)


def test_params_are_read_only():
    s = cosine_decay(0.1, total_steps=10)
    assert s.params["total_steps"] == 10
    with pytest.raises(TypeError):
        s.params["lr"] = 1.0
    assert isinstance(s, Schedule)


def test_different_arguments_are_not_equal():
    assert cosine_decay(0.1, 10) != cosine_decay(0.1, 11)
    assert constant(0.1) != exponential_decay(0.1, 1.0)


# --------------------------------------------------------------- validation: the step t


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_negative_step_rejected(schedule):
    with pytest.raises(ValueError, match=rf"{schedule.name}: step t must be an integer >= 0.*-1"):
        schedule(-1)
    with pytest.raises(ValueError, match=r"steps t must all be >= 0.*-3"):
        schedule(np.array([0, 1, -3]))


@pytest.mark.parametrize("bad", [1.0, np.float64(2.0), True, np.bool_(False), "3", None])
def test_non_integer_step_rejected(bad):
    with pytest.raises(TypeError, match=r"cosine_decay: step t must be an integer >= 0"):
        cosine_decay(0.1, 10)(bad)


@pytest.mark.parametrize("bad", [np.array([0.0, 1.0]), np.array([True, False])])
def test_non_integer_step_array_rejected(bad):
    with pytest.raises(TypeError, match=r"steps t must be an integer array.*np.arange"):
        step_decay(0.1)(bad)


# --------------------------------------------------------------- validation: arguments


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: constant(0), ValueError, r"constant: lr must be a finite number > 0, got 0.0"),
        (lambda: constant(-0.1), ValueError, r"constant: lr must be .* > 0, got -0.1"),
        (lambda: constant(float("nan")), ValueError, r"constant: lr must be a finite.*nan"),
        (lambda: constant(float("inf")), ValueError, r"constant: lr must be a finite.*inf"),
        (lambda: constant(True), TypeError, r"constant: lr must be a finite number > 0, got bool"),
        (lambda: constant("0.1"), TypeError, r"constant: lr must be .*got str '0.1'"),
        (lambda: step_decay(0.1, drop=0), ValueError, r"step_decay: drop must be .*\(0, 1\]"),
        (lambda: step_decay(0.1, drop=1.5), ValueError, r"drop must be a number in \(0, 1\]"),
        (lambda: step_decay(0.1, every=0), ValueError, r"every must be an integer >= 1, got 0"),
        (lambda: step_decay(0.1, every=2.0), TypeError, r"every must be an integer >= 1.*float"),
        (lambda: step_decay(0.1, every=True), TypeError, r"every must be an integer.*bool"),
        (lambda: exponential_decay(0.1, 0), ValueError, r"exponential_decay: gamma .*got 0.0"),
        (lambda: exponential_decay(0.1, 1.01), ValueError, r"gamma must be .*\(0, 1\]"),
        (lambda: exponential_decay(0.1, False), TypeError, r"gamma must be a number.*bool"),
        (
            lambda: cosine_decay(0.1, total_steps=0),
            ValueError,
            r"cosine_decay: total_steps must be an integer >= 1, got 0",
        ),
        (lambda: cosine_decay(0.1, 100.0), TypeError, r"total_steps must be an integer.*float"),
        (lambda: cosine_decay(0.1, 10, lr_min=-0.01), ValueError, r"lr_min must be .* >= 0"),
        (lambda: cosine_decay(0.1, 10, lr_min=0.2), ValueError, r"lr_min must be <= lr=0.1.*0.2"),
        (
            lambda: warmup_cosine(0.1, warmup_steps=100, total_steps=100),
            ValueError,
            r"warmup_cosine: warmup_steps must be smaller than total_steps=100.*got 100",
        ),
        (lambda: warmup_cosine(0.1, -1, 100), ValueError, r"warmup_steps must be .* >= 0, got -1"),
        (lambda: warmup_cosine(0.1, 5.0, 100), TypeError, r"warmup_steps must be an integer"),
        (lambda: warmup_cosine(0.1, 0, 0), ValueError, r"total_steps must be an integer >= 1"),
        (lambda: warmup_cosine(0.1, 5, 10, lr_start=0.5), ValueError, r"lr_start must be <= lr"),
        (lambda: warmup_cosine(0.1, 5, 10, lr_start=-1), ValueError, r"lr_start must be .*>= 0"),
        (lambda: warmup_cosine(0.1, 5, 10, lr_min=1.0), ValueError, r"lr_min must be <= lr"),
    ],
)
def test_bad_arguments_give_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
