"""Tests for optlib.lr_finder (the learning-rate range test)."""

import math

import numpy as np
import pytest

from optlib import SGD, Adam
from optlib.lr_finder import exponential_rates, lr_range_test, smooth, suggest_lr


def quadratic(curvature):
    """f(θ) = curvature |θ|² / 2 with its exact gradient; the stability limit is 2/curvature."""
    return lambda theta, t: (0.5 * curvature * float(theta @ theta), curvature * theta)


def test_rates_are_exponential_and_exact_at_both_ends():
    rates = exponential_rates(1e-4, 1.0, 5)
    assert rates[0] == 1e-4 and rates[-1] == 1.0
    np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.log(rates)), np.log(10), rtol=1e-12)


def test_each_update_uses_the_sweep_rate_and_records_the_loss_before_it():
    seen = []

    def loss_and_grad(theta, t):
        seen.append((t, theta.copy()))
        return float(theta[0]), np.ones(1)  # a constant gradient: each update moves by lr

    rates, losses = lr_range_test(loss_and_grad, np.zeros(1), lambda lr: SGD(lr=lr),
                                  lr_min=0.01, lr_max=1.0, steps=3, stop_factor=None)
    np.testing.assert_allclose(rates, [0.01, 0.1, 1.0], rtol=1e-12)
    assert [t for t, _ in seen] == [0, 1, 2]
    # Loss before update t = minus the sum of the earlier rates.
    np.testing.assert_allclose(losses, [0.0, -0.01, -0.11], rtol=1e-12, atol=1e-15)


def test_params_are_not_modified():
    params = {"w": np.ones(3)}
    lr_range_test(lambda p, t: (float(p["w"] @ p["w"]), {"w": 2 * p["w"]}), params,
                  lambda lr: Adam(lr=lr), steps=20)
    np.testing.assert_array_equal(params["w"], np.ones(3))


@pytest.mark.parametrize("curvature", [0.1, 1.0, 10.0, 100.0])
def test_stops_after_the_loss_explodes_and_suggests_a_stable_rate(curvature):
    # Exact gradients of a quadratic: any rate below 2/L converges, above it diverges.
    rates, losses = lr_range_test(quadratic(curvature), np.ones(2), lambda lr: SGD(lr=lr),
                                  lr_min=1e-6, lr_max=1e4, steps=120)
    assert rates[-1] < 1e4 and len(rates) < 120  # stopped early
    assert rates[-1] > 2 / curvature  # ... only once the rate had passed the limit
    for rule in ("min/10", "steepest"):
        suggestion = suggest_lr(rates, losses, rule=rule)
        assert 0.01 / curvature < suggestion < 2 / curvature, rule


def test_suggestion_scales_with_the_curvature():
    # The same problem with 10x the curvature needs a 10x smaller rate.
    found = []
    for curvature in (1.0, 10.0):
        rates, losses = lr_range_test(quadratic(curvature), np.ones(2), lambda lr: SGD(lr=lr),
                                      lr_min=1e-6, lr_max=1e4, steps=200)
        found.append(suggest_lr(rates, losses))
    assert 5 < found[0] / found[1] < 20


def test_suggestion_rules_by_hand():
    rates = np.array([0.001, 0.01, 0.1, 1.0, 10.0])
    losses = np.array([1.0, 0.9, 0.5, 0.4, 5.0])
    # Unsmoothed (beta = 0): the lowest loss is at 1.0, so min/10 gives 0.1; the steepest
    # fall per decade is from 0.01 to 0.1 (-0.4), reported at its left end 0.01.
    assert suggest_lr(rates, losses, "min/10", beta=0.0) == pytest.approx(0.1)
    assert suggest_lr(rates, losses, "steepest", beta=0.0) == 0.01
    # Non-finite losses at the end are ignored.
    with_nan = np.append(losses[:4], np.nan)
    assert suggest_lr(rates, with_nan, beta=0.0) == pytest.approx(0.1)


def test_smooth_is_bias_corrected():
    np.testing.assert_allclose(smooth([3.0] * 5, beta=0.98), 3.0, rtol=1e-12)
    out = smooth([1.0, 0.0], beta=0.5)
    # a_1 = 0.5, a_2 = 0.25; corrected: 0.5 / (1 - 0.5) = 1 and 0.25 / (1 - 0.25) = 1/3.
    assert out[0] == 1.0 and out[1] == pytest.approx(1 / 3)


def test_stops_at_a_non_finite_loss():
    def loss_and_grad(theta, t):
        return (math.inf if t == 3 else 1.0), np.zeros(1)

    rates, losses = lr_range_test(loss_and_grad, np.zeros(1), lambda lr: SGD(lr=lr), steps=10)
    assert len(rates) == len(losses) == 4 and math.isinf(losses[-1])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"lr_min": 0.0}, ValueError, r"lr_min must be a finite number > 0, got 0.0"),
        ({"lr_max": 10**400}, ValueError, r"lr_max must be a finite number > 0.*too large"),
        ({"lr_min": 1.0, "lr_max": 0.1}, ValueError, r"lr_min must be < lr_max=0.1, got 1.0"),
        ({"steps": 1}, ValueError, r"steps must be an integer >= 2, got 1"),
        ({"steps": 5.0}, ValueError, r"steps must be an integer >= 2, got 5.0"),
        ({"stop_factor": 1.0}, ValueError, r"stop_factor must be > 1 or None, got 1.0"),
        ({"lr_min": "small"}, TypeError, r"lr_min must be a finite number > 0, got str"),
        ({"beta": 1.0}, ValueError, r"beta must be a number in \[0, 1\), got 1.0"),
    ],
)
def test_bad_arguments_name_the_parameter_and_run_nothing(kwargs, error, message):
    calls = []

    def loss_and_grad(theta, t):
        calls.append(t)
        return 0.0, theta

    with pytest.raises(error, match=message):
        lr_range_test(loss_and_grad, np.ones(1), lambda lr: SGD(lr=lr), **kwargs)
    assert calls == []


@pytest.mark.parametrize(
    "rates, losses, rule, message",
    [
        ([0.1], [1.0], "min/10", r"equal length >= 2"),
        ([0.1, 0.2], [1.0], "min/10", r"equal length >= 2"),
        ([0.2, 0.1], [1.0, 0.5], "min/10", r"increasing"),
        ([0.1, 0.2], [1.0, 0.5], "valley", r"rule must be one of .*got 'valley'"),
        ([0.1, 0.2], [np.nan, 0.5], "min/10", r"first loss is not finite"),
    ],
)
def test_suggest_lr_rejects_bad_input(rates, losses, rule, message):
    with pytest.raises(ValueError, match=message):
        suggest_lr(rates, losses, rule)
