"""Tests for optlib.schedules. Expected values are worked out by hand in the comments."""

import copy
import math
import pickle

import numpy as np
import pytest

from optlib.schedules import (
    MAX_STEPS,
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    linear_decay,
    one_cycle,
    step_decay,
    warmup_cosine,
    warmup_stable_decay,
)

ALL_SCHEDULES = [
    constant(0.1),
    step_decay(0.1, drop=0.5, every=10),
    exponential_decay(0.1, gamma=0.9),
    cosine_decay(0.1, total_steps=100, lr_min=0.001),
    warmup_cosine(0.1, warmup_steps=10, total_steps=100, lr_min=0.001, lr_start=0.01),
    linear_decay(0.1, total_steps=100, lr_min=0.001, warmup_steps=10, lr_start=0.01),
    warmup_stable_decay(0.1, warmup_steps=10, decay_steps=20, total_steps=100, lr_min=0.001),
    one_cycle(0.1, total_steps=100),
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
        linear_decay(0.01, total_steps=10),
        warmup_stable_decay(0.01, warmup_steps=0, decay_steps=5, total_steps=10),
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


# --------------------------------------------------------------- one step or many: bit for bit

# Schedules whose vectorised numpy formula rounds differently from the scalar one
# (issue 13: step_decay(0.1, drop=0.1, every=10) gave 0.001 for the array and
# 0.0010000000000000002 for s(20)), plus every kind with awkward constants.
BIT_CASES = ALL_SCHEDULES + [
    step_decay(0.1, drop=0.1, every=10),
    step_decay(0.3, drop=0.7, every=3),
    exponential_decay(0.7, gamma=0.993),
    cosine_decay(0.3, total_steps=777, lr_min=1e-4),
    warmup_cosine(0.3, warmup_steps=33, total_steps=777, lr_start=1e-3),
    linear_decay(0.3, total_steps=701, warmup_steps=7),
    warmup_stable_decay(0.3, 13, 101, 999, shape="1-sqrt"),
    warmup_stable_decay(0.3, 13, 101, 999, shape="cosine"),
    one_cycle(0.37, total_steps=999, div_factor=7.0, final_div_factor=33.0),
]


@pytest.mark.parametrize("schedule", BIT_CASES, ids=[repr(s) for s in BIT_CASES])
def test_array_evaluation_equals_scalar_evaluation_bit_for_bit(schedule):
    steps = np.arange(1200)
    values = schedule(steps)
    scalars = [schedule(int(k)) for k in steps]
    # == on floats: bit for bit (no tolerance), also for shuffled and repeated steps.
    assert values.tolist() == scalars
    rng = np.random.default_rng(13)
    mixed = rng.integers(0, 1200, size=(40, 3))
    assert schedule(mixed).tolist() == [[scalars[k] for k in row] for row in mixed]


def test_step_decay_issue_13_case():
    s = step_decay(0.1, drop=0.1, every=10)
    assert s(np.arange(30))[20] == s(20) == 0.1 * 0.1**2


def test_trajectory_with_a_schedule_equals_step_by_step():
    from optlib import SGD, Ravine, trajectory

    schedule = step_decay(0.1, drop=0.1, every=10)
    path = trajectory(SGD(lr=schedule), Ravine(kappa=3), steps=30)
    opt, theta, ravine = SGD(lr=schedule), np.array(Ravine(kappa=3).start, dtype=float), Ravine(3)
    for k in range(30):
        theta = opt.step(theta, np.array(ravine.grad(*theta)))
        assert theta.tolist() == path[k + 1].tolist(), k


# --------------------------------------------------------------- huge numbers: ValueError


@pytest.mark.parametrize(
    "make, param",
    [
        (lambda: constant(10**400), "lr"),
        (lambda: step_decay(10**400), "lr"),
        (lambda: step_decay(0.1, drop=10**400), "drop"),
        (lambda: step_decay(0.1, every=10**400), "every"),
        (lambda: exponential_decay(0.1, gamma=-(10**400)), "gamma"),
        (lambda: cosine_decay(0.1, total_steps=10**400), "total_steps"),
        (lambda: cosine_decay(0.1, 10, lr_min=10**400), "lr_min"),
        (lambda: warmup_cosine(0.1, 10**400, 10), "total_steps|warmup_steps"),
        (lambda: warmup_cosine(0.1, 1, 10, lr_start=10**400), "lr_start"),
        (lambda: linear_decay(10**400, 10), "lr"),
        (lambda: linear_decay(0.1, 10**400), "total_steps"),
        (lambda: warmup_stable_decay(0.1, 1, 10**400, 10**401), "total_steps"),
        (lambda: one_cycle(0.1, 100, div_factor=10**400), "div_factor"),
        (lambda: one_cycle(0.1, 100, final_div_factor=10**400), "final_div_factor"),
        (lambda: one_cycle(0.1, 2**53 + 1), "total_steps"),
    ],
)
def test_huge_arguments_raise_value_error_naming_the_parameter(make, param):
    with pytest.raises(ValueError, match=rf"({param}) must be"):
        make()


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=IDS)
def test_huge_steps_raise_value_error(schedule):
    with pytest.raises(ValueError, match=r"step t must be an integer <= 2\*\*53"):
        schedule(10**400)
    assert schedule(MAX_STEPS) == schedule(MAX_STEPS)  # the largest step still works
    with pytest.raises(ValueError, match=r"steps t must all be <= 2\*\*53"):
        schedule(np.array([0, 2**62]))


# --------------------------------------------------------------- linear decay


def test_linear_decay_by_hand():
    s = linear_decay(0.8, total_steps=8)
    assert [s(t) for t in range(10)] == pytest.approx([0.8 - 0.1 * t for t in range(9)] + [0.0],
                                                      abs=1e-15)
    assert s(0) == 0.8 and s(8) == 0.0 and s(100) == 0.0


def test_linear_decay_with_warmup_key_points():
    s = linear_decay(0.1, total_steps=110, lr_min=0.01, warmup_steps=10, lr_start=0.02)
    assert s(0) == 0.02
    assert s(5) == pytest.approx(0.06, abs=1e-15)
    assert s(10) == 0.1  # the peak exactly at the end of the warm-up
    assert s(60) == pytest.approx(0.055, abs=1e-15)  # half-way down
    assert s(110) == 0.01 and s(111) == 0.01
    values = s(np.arange(200))
    assert np.all(np.diff(values[:11]) > 0) and np.all(np.diff(values[10:]) <= 0)
    # The decay is a straight line: constant differences.
    np.testing.assert_allclose(np.diff(values[10:111]), -0.09 / 100, rtol=1e-9)


# --------------------------------------------------------------- warmup-stable-decay


def test_wsd_phases():
    s = warmup_stable_decay(0.1, warmup_steps=10, decay_steps=20, total_steps=100,
                            lr_min=0.01, lr_start=0.0)
    assert s(0) == 0.0 and s(5) == pytest.approx(0.05, abs=1e-15)
    assert all(s(t) == 0.1 for t in range(10, 81))  # stable: t = 10 .. 80 = total - decay
    assert s(90) == pytest.approx(0.055, abs=1e-15)  # half-way through a linear decay
    assert s(100) == 0.01 and s(1000) == 0.01


@pytest.mark.parametrize(
    "shape, remaining",
    [("linear", 0.75), ("1-sqrt", 0.5), ("cosine", (1 + math.cos(math.pi / 4)) / 2)],
)
def test_wsd_shapes_a_quarter_into_the_decay(shape, remaining):
    # p = 1/4: linear leaves 3/4 of the rate, 1-sqrt leaves 1 - 1/2, cosine (1 + cos(pi/4))/2.
    s = warmup_stable_decay(1.0, warmup_steps=0, decay_steps=40, total_steps=100, shape=shape)
    assert s(70) == pytest.approx(remaining, rel=1e-12)
    assert s(60) == 1.0 and s(100) == 0.0
    assert np.all(np.diff(s(np.arange(101))) <= 0)


def test_wsd_without_warmup_or_stable_phase_is_a_plain_decay():
    w = warmup_stable_decay(0.1, warmup_steps=0, decay_steps=50, total_steps=50)
    np.testing.assert_allclose(w(np.arange(60)), linear_decay(0.1, 50)(np.arange(60)),
                               rtol=1e-12, atol=1e-17)
    c = warmup_stable_decay(0.1, 0, 50, 50, shape="cosine")
    np.testing.assert_allclose(c(np.arange(60)), cosine_decay(0.1, 50)(np.arange(60)),
                               rtol=1e-12, atol=1e-17)


# --------------------------------------------------------------- one-cycle


def test_one_cycle_key_points_and_defaults():
    s = one_cycle(1.0, total_steps=100)
    assert s.params["warmup_steps"] == 30  # pct_start 0.3, as PyTorch
    assert s(0) == 1.0 / 25  # div_factor 25
    assert s(30) == 1.0
    assert s(100) == pytest.approx(1.0 / 25 / 1e4, rel=1e-12) and s(150) == s(100)
    assert s(15) == pytest.approx((0.04 + 1.0) / 2, rel=1e-12)  # half-way up the cosine
    values = s(np.arange(101))
    assert np.all(np.diff(values[:31]) > 0) and np.all(np.diff(values[30:]) < 0)


def test_one_cycle_matches_pytorch_formula_shifted_by_one_step():
    # torch.optim.lr_scheduler.OneCycleLR (anneal_strategy="cos", three_phase=False):
    # phase ends at step pct*T - 1 and T - 1, cosine interpolation in each phase. Ours
    # ends at warmup_steps and total_steps; so ours(t) == torch(t) with T_torch = T + 1
    # and the peak at pct*T_torch - 1 = warmup_steps.
    def torch_rate(step, max_lr, total, peak_step, div, final_div):
        initial, minimum = max_lr / div, max_lr / div / final_div

        def anneal(start, end, pct):
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)

        if step <= peak_step:
            return anneal(initial, max_lr, step / peak_step)
        return anneal(max_lr, minimum, (step - peak_step) / (total - 1 - peak_step))

    ours = one_cycle(0.5, total_steps=90, warmup_steps=27, div_factor=10.0, final_div_factor=100.0)
    for t in range(91):
        assert ours(t) == pytest.approx(torch_rate(t, 0.5, 91, 27, 10.0, 100.0), rel=1e-12)


def test_new_schedules_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"linear_decay: warmup_steps must be smaller than"):
        linear_decay(0.1, 10, warmup_steps=10)
    with pytest.raises(ValueError, match=r"linear_decay: lr_min must be <= lr"):
        linear_decay(0.1, 10, lr_min=0.2)
    with pytest.raises(ValueError, match=r"warmup_steps \+ decay_steps must be <= total_steps=10"):
        warmup_stable_decay(0.1, 5, 6, 10)
    with pytest.raises(ValueError, match=r"decay_steps must be an integer >= 1, got 0"):
        warmup_stable_decay(0.1, 5, 0, 10)
    with pytest.raises(ValueError, match=r"shape must be one of .*'linear'.*got 'sqrt'"):
        warmup_stable_decay(0.1, 5, 5, 10, shape="sqrt")
    with pytest.raises(ValueError, match=r"one_cycle: warmup_steps must be smaller"):
        one_cycle(0.1, 10, warmup_steps=10)
    with pytest.raises(ValueError, match=r"one_cycle: total_steps must be an integer >= 2"):
        one_cycle(0.1, 1)
    with pytest.raises(ValueError, match=r"div_factor must be a finite number >= 1, got 0.5"):
        one_cycle(0.1, 10, div_factor=0.5)
    with pytest.raises(TypeError, match=r"final_div_factor must be a finite number >= 1.*str"):
        one_cycle(0.1, 10, final_div_factor="big")


@pytest.mark.parametrize("schedule", ALL_SCHEDULES[5:], ids=IDS[5:])
def test_new_schedules_repr_round_trips(schedule):
    namespace = {"linear_decay": linear_decay, "warmup_stable_decay": warmup_stable_decay,
                 "one_cycle": one_cycle}
    again = eval(repr(schedule), namespace)
    assert again == schedule
    assert again(np.arange(120)).tolist() == schedule(np.arange(120)).tolist()
