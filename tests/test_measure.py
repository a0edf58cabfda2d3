"""optlib.measure: steps to a tolerance, learning-rate tuning, races, on hand-checkable cases."""

import math

import numpy as np
import pytest

from optlib import (
    SGD,
    Adam,
    Landscape,
    Momentum,
    Noisy,
    Ravine,
    RMSprop,
    Rosenbrock,
    Saddle,
    trajectory,
)
from optlib.measure import (
    log_grid,
    race,
    score,
    speedup,
    steps_to_tolerance,
    summarize,
    tune_lr,
)
from optlib.plotting import suboptimality
from optlib.schedules import exponential_decay

# ---------------------------------------------------------------------- steps_to_tolerance


@pytest.mark.parametrize("lr", [0.1, 0.3, 0.7, 1.2, 1.5, 1.9])
@pytest.mark.parametrize("tol", [1e-3, 1e-8, 1e-14])
def test_gradient_descent_on_one_axis_needs_the_predicted_number_of_steps(lr, tol):
    # Started on the steep axis of a ravine (curvature L = 2), the error is multiplied by
    # rho = 1 - lr * L per step, so f - f* by rho**2: ceil(ln(tol / f0) / ln(rho**2)) steps.
    ravine = Ravine(kappa=10, L=2.0)
    lr = lr / 2.0
    start = (0.0, 1.0)
    f0 = ravine.value(*start)
    rho = 1 - lr * 2.0
    expected = math.ceil(math.log(tol / f0) / math.log(rho**2))
    for hold in (0, 7):  # f - f* only decreases here, so holding changes nothing
        assert steps_to_tolerance(SGD(lr=lr), ravine, tol, 10_000, start, hold=hold) == expected


def test_the_exact_step_lands_on_the_minimum_in_one_step():
    ravine = Ravine(kappa=10)
    assert steps_to_tolerance(SGD(lr=1.0), ravine, 0.0, 10, start=(0.0, 1.0)) == 1
    assert steps_to_tolerance(SGD(lr=1.0), ravine, 1.0, 10, start=(0.0, 1.0)) == 0  # f0 = 0.5


@pytest.mark.parametrize("lr", [2.0, 2.1, 1e-6])
def test_none_when_it_never_gets_there(lr):
    # lr = 2: bounces for ever with f - f* = 0.5; 2.1: diverges; 1e-6: far too slow.
    ravine = Ravine(kappa=10)
    assert steps_to_tolerance(SGD(lr=lr), ravine, 1e-6, 3000, start=(0.0, 1.0)) is None


def test_a_diverging_run_stops_early_and_returns_none():
    # Overflow (or growth past BLOW_UP) ends the search long before max_steps.
    assert steps_to_tolerance(SGD(lr=0.01), Rosenbrock(), 1e-6, 10**9, start=(-3.0, 3.0)) is None


class Staircase(Landscape):
    """A landscape on which SGD with lr = 1 visits x = 0, 1, 2, ... and f(x) = GAPS[x]."""

    GAPS = [5.0, 0.1, 5.0, 0.1, 0.1, 5.0, 0.1, 0.1, 0.1, 0.1] + [0.1] * 40
    min_value = 0.0
    start = (0.0, 0.0)

    def value(self, x, y):
        index = np.clip(np.round(x).astype(int), 0, len(self.GAPS) - 1)
        return np.asarray(self.GAPS)[index]

    def grad(self, x, y):
        return -1.0, 0.0


@pytest.mark.parametrize("hold, expected", [(0, 1), (1, 3), (2, 6), (3, 6), (100, 6)])
def test_hold_counts_a_visit_only_if_it_lasts(hold, expected):
    assert steps_to_tolerance(SGD(lr=1.0), Staircase(), 1.0, 40, hold=hold) == expected


def test_max_steps_bounds_the_reported_count():
    assert steps_to_tolerance(SGD(lr=1.0), Staircase(), 1.0, 5, hold=2) is None
    assert steps_to_tolerance(SGD(lr=1.0), Staircase(), 1.0, 6, hold=2) == 6


def test_agrees_with_a_plain_scan_of_the_whole_path():
    def scan(gaps, tol, hold):
        for k in range(len(gaps) - hold):
            if np.all(gaps[k : k + hold + 1] <= tol):
                return k
        return None

    rosenbrock = Rosenbrock()
    for opt in (SGD(lr=1e-3), Momentum(lr=1e-3), RMSprop(lr=0.3), Adam(lr=0.2)):
        for hold in (0, 1, 50):
            gaps = suboptimality(rosenbrock, trajectory(opt, rosenbrock, steps=2000 + hold))
            expected = scan(gaps, 1e-2, hold)
            assert steps_to_tolerance(opt, rosenbrock, 1e-2, 2000, hold=hold) == expected


def test_a_landscape_without_minimum_counts_the_steps_to_escape():
    # Saddle f = x^2 - y^2 from (0, y0): SGD multiplies y by (1 + 2 lr) per step.
    y0, lr = 1e-3, 0.5
    expected = math.ceil(math.log(1 / y0) / math.log(1 + 2 * lr))  # until y^2 >= 1
    assert steps_to_tolerance(SGD(lr=lr), Saddle(), -1.0, 100, start=(0.0, y0)) == expected


def test_noisy_landscapes_are_replayed_not_consumed():
    noisy = Noisy(Ravine(kappa=10), sigma=0.1, seed=3)
    first = steps_to_tolerance(SGD(lr=0.5), noisy, 2e-3, 2000, hold=5)
    assert first is not None
    assert steps_to_tolerance(SGD(lr=0.5), noisy, 2e-3, 2000, hold=5) == first
    # The object passed in still starts its noise from the seed:
    fresh = Noisy(Ravine(kappa=10), sigma=0.1, seed=3)
    np.testing.assert_array_equal(trajectory(SGD(lr=0.5), noisy, steps=50),
                                  trajectory(SGD(lr=0.5), fresh, steps=50))


def test_the_optimizer_is_not_changed():
    opt = Adam(lr=0.1)
    steps_to_tolerance(opt, Rosenbrock(), 1e-2, 500)
    assert opt.t == 0 and opt.state is None


@pytest.mark.parametrize("kwargs, error", [
    ({"tol": -1.0}, ValueError),  # f - f* is never negative on a landscape with a minimum
    ({"tol": float("nan")}, ValueError),
    ({"max_steps": -1}, ValueError),
    ({"max_steps": 10.0}, ValueError),
    ({"max_steps": True}, ValueError),
    ({"hold": -1}, ValueError),
    ({"optimizer": "SGD"}, TypeError),
    ({"optimizer": SGD(lr=exponential_decay(0.1, 0.9))}, ValueError),
    ({"landscape": "ravine"}, TypeError),
])
def test_bad_input_is_rejected(kwargs, error):
    arguments = {"optimizer": SGD(lr=0.1), "landscape": Ravine(), "tol": 1e-3, "max_steps": 10}
    arguments.update(kwargs)
    with pytest.raises(error):
        steps_to_tolerance(**arguments)


# -------------------------------------------------------------------------------- tune_lr


@pytest.mark.parametrize("kappa", [10, 100])
@pytest.mark.parametrize("angle", [0.0, 0.7])
@pytest.mark.parametrize("per_decade", [4, 8])
def test_tune_lr_picks_the_grid_value_closest_to_the_best_rate_on_a_ravine(kappa, angle,
                                                                           per_decade):
    # Gradient descent's best fixed rate on a quadratic is 2 / (mu + L); started with
    # f - f* split equally between the two directions, a tight tolerance finds it.
    ravine = Ravine(kappa=kappa, angle=angle)
    mu, L = ravine.eigenvalues
    c, s = math.cos(angle), math.sin(angle)
    u, w = math.sqrt(kappa), 1.0  # mu u^2 / 2 = L w^2 / 2
    start = (c * u - s * w, s * u + c * w)
    grid = log_grid(0.01, 10, per_decade)
    tuning = tune_lr(lambda lr: SGD(lr=lr), ravine, grid, 1e-12 * ravine.value(*start),
                     20_000, [start])
    assert tuning.lr == min(grid, key=lambda lr: abs(lr - 2 / (mu + L)))


def test_tune_lr_agrees_with_brute_force():
    # The search's shortcuts (growing budgets, stopping hopeless rates) change nothing.
    grid = log_grid(1e-3, 1, 3)
    starts = [(-1.0, 1.0), (0.0, 0.0), (1.2, 1.8)]
    cases = [(lambda lr: Adam(lr=lr), Rosenbrock(), 1e-2, 1500, 50),
             (lambda lr: Momentum(lr=lr), Rosenbrock(), 1e-2, 1500, 0),
             (lambda lr: RMSprop(lr=lr), Ravine(kappa=30, angle=0.4), 1e-5, 1500, 20)]
    for make, landscape, tol, max_steps, hold in cases:
        tuning = tune_lr(make, landscape, grid, tol, max_steps, starts, hold=hold)
        full = {lr: [steps_to_tolerance(make(lr), landscape, tol, max_steps, s, hold=hold)
                     for s in starts] for lr in grid}
        best = min(score(steps) for steps in full.values())
        assert tuning.median == best
        assert tuning.lr == min(lr for lr in grid if score(full[lr]) == best)
        for lr, steps in tuning.table.items():
            # Every count in the table is exact; a None where the run does get there
            # belongs to a rate that cannot win (run cut short, or skipped).
            assert all(mine == true for mine, true in zip(steps, full[lr]) if mine is not None)
            if steps != full[lr]:
                assert score(full[lr]) >= tuning.median


def test_tune_lr_breaks_ties_towards_the_smallest_rate():
    # Adam's first step has length lr in each coordinate: from (1, 1e-3) every lr >= 1
    # escapes the saddle (f <= -1) in one step.
    tuning = tune_lr(lambda lr: Adam(lr=lr), Saddle(), [3.0, 1.5, 2.0], -1.0, 100, [(1.0, 1e-3)])
    assert tuning.table == {1.5: [1], 2.0: [1], 3.0: [1]}
    assert tuning.lr == 1.5 and tuning.median == 1


def test_tune_lr_returns_none_when_no_rate_works():
    tuning = tune_lr(lambda lr: SGD(lr=lr), Ravine(), [2.5, 3.0], 1e-6, 500)
    assert tuning.lr is None and tuning.median == math.inf
    assert all(steps == [None] for steps in tuning.table.values())


def test_tune_lr_uses_the_median_over_runs():
    # Three runs: a rate that fails on one of them can still win on the median.
    starts = [(0.0, 1.0), (0.0, 1.0), (1e3, 0.0)]  # the last is too far along the floor
    tuning = tune_lr(lambda lr: SGD(lr=lr), Ravine(kappa=10), [0.5, 1.0], 1e-6, 100, starts)
    assert tuning.table == {0.5: [10, 10, None], 1.0: [1, 1, None]}
    assert tuning.lr == 1.0 and tuning.median == 1
    assert tuning.medians() == {0.5: 10, 1.0: 1}
    assert score([1, None, 3]) == 3 and score([None, None, 3]) == math.inf
    assert score([4, 2]) == 4  # even count: the larger middle value


def test_tune_lr_with_noise_seeds():
    noisy = Noisy(Ravine(kappa=10), sigma=0.05)
    tuning = tune_lr(lambda lr: SGD(lr=lr), noisy, [0.1, 0.3, 1.0], 1e-3, 3000,
                     starts=[(-4.0, 1.0)] * 3, seeds=[0, 1, 2], hold=20)
    assert tuning.runs == [((-4.0, 1.0), 0), ((-4.0, 1.0), 1), ((-4.0, 1.0), 2)]
    for lr, steps in tuning.table.items():
        truth = [steps_to_tolerance(SGD(lr=lr), Noisy(Ravine(kappa=10), 0.05, seed), 1e-3,
                                    3000, start, hold=20) for start, seed in tuning.runs]
        assert all(mine == true for mine, true in zip(steps, truth) if mine is not None)
        if steps != truth:
            assert score(truth) >= tuning.median


@pytest.mark.parametrize("kwargs, error", [
    ({"make_optimizer": SGD(lr=0.1)}, TypeError),
    ({"grid": []}, ValueError),
    ({"grid": [0.0, 0.1]}, ValueError),
    ({"grid": [float("inf")]}, ValueError),
    ({"starts": []}, ValueError),
    ({"starts": [(0.0, float("nan"))]}, ValueError),
    ({"seeds": [0]}, ValueError),  # a noiseless landscape has no seeds
    ({"landscape": Noisy(Ravine(), 0.1), "seeds": [0, 1]}, ValueError),  # one per start
    ({"make_optimizer": lambda lr: lr}, TypeError),
])
def test_tune_lr_rejects_bad_input(kwargs, error):
    arguments = {"make_optimizer": lambda lr: SGD(lr=lr), "landscape": Ravine(),
                 "grid": [0.1, 1.0], "tol": 1e-3, "max_steps": 50}
    arguments.update(kwargs)
    with pytest.raises(error):
        tune_lr(**arguments)


def test_log_grid():
    grid = log_grid(1e-3, 10)
    assert len(grid) == 17 and grid[0] == 0.001 and grid[-1] == 10.0
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.25, atol=3e-3)
    assert log_grid(0.1, 1, per_decade=2) == [0.1, 0.316, 1.0]
    for low, high in [(0, 1), (1, 0.1), (-1, 1)]:
        with pytest.raises(ValueError):
            log_grid(low, high)


# ---------------------------------------------------------------------- race and summarize


def test_race_records_and_paired_speedups():
    ravine = Ravine(kappa=10)
    starts = [(0.0, 1.0), (0.0, 0.5)]
    records = race({"SGD": SGD(lr=0.5), "exact": SGD(lr=1.0), "diverging": SGD(lr=2.5)},
                   ravine, 1e-6, 1000, starts, name="axis")
    assert len(records) == 6
    assert {r["optimizer"] for r in records} == {"SGD", "exact", "diverging"}
    first = records[0]
    assert first == {"landscape": "axis", "optimizer": "SGD", "lr": 0.5, "run": 0,
                     "start": (0.0, 1.0), "seed": None, "steps": first["steps"]}
    rows = {row["optimizer"]: row for row in summarize(records)}
    sgd = [r["steps"] for r in records if r["optimizer"] == "SGD"]
    # lr = 0.5 halves the error per step: f0 / 4^k <= 1e-6
    assert sgd == [math.ceil(math.log(0.5 / 1e-6, 4)), math.ceil(math.log(0.125 / 1e-6, 4))]
    assert rows["SGD"]["speedup"] == rows["SGD"]["speedup_low"] == 1.0
    assert rows["exact"]["median"] == 1 and rows["exact"]["speedup_low"] == min(sgd)
    assert rows["exact"]["speedup_high"] == max(sgd)
    assert rows["diverging"]["failed"] == 2 and rows["diverging"]["median"] == math.inf
    assert rows["diverging"]["speedup"] == 0.0


def test_summarize_without_baseline_and_speedup_rules():
    records = race({"Adam": Adam(lr=0.1)}, Rosenbrock(), 1e-2, 3000)
    (row,) = summarize(records)
    assert row["speedup"] is None and row["runs"] == 1
    assert speedup(10, 5) == 2.0 and speedup(None, 5) == math.inf
    assert speedup(10, None) == 0.0 and speedup(None, None) is None
    assert speedup(0, 0) == 1.0 and speedup(3, 0) == math.inf


def test_race_rejects_bad_input():
    with pytest.raises(TypeError):
        race({}, Ravine(), 1e-3, 10)
    with pytest.raises(TypeError):
        race([SGD(lr=0.1)], Ravine(), 1e-3, 10)
    with pytest.raises(TypeError):
        race({"SGD": "sgd"}, Ravine(), 1e-3, 10)
