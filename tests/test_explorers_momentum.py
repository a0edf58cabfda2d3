"""Tests for the chapter "Momentum": its explorer and its double-well landscape."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import Momentum, quadratic, trajectory  # noqa: E402
from optlib.explorers import momentum_in_a_ravine  # noqa: E402
from optlib.explorers.momentum import (  # noqa: E402
    MOMENTUM_BETAS,
    MOMENTUM_LEARNING_RATES,
    TiltedDoubleWell,
)


def test_sliders_span_gradient_descent_and_the_interesting_regimes():
    e = momentum_in_a_ravine()
    lrs, betas = e.choices["lr"], e.choices["beta"]
    assert lrs == sorted(lrs) == MOMENTUM_LEARNING_RATES
    assert betas == sorted(betas) == MOMENTUM_BETAS
    assert betas[0] == 0.0  # momentum with beta = 0 is gradient descent
    mu, L = e.landscape_for(e.values).eigenvalues
    assert any(lr < 2 / L for lr in lrs) and any(lr > 2 / L for lr in lrs)
    best = quadratic.optimal_momentum(mu, L)
    assert min(abs(lr - best.lr) for lr in lrs) < 0.01
    assert min(abs(b - best.beta) for b in betas) < 0.01
    # near critical damping of the flat direction for some learning rate on the slider
    assert any(abs(b - quadratic.critical_beta(lr, mu)) < 0.02 for lr in lrs for b in betas
               if b > 0)
    assert len(lrs) * len(betas) <= 64  # page weight: one frame per combination


def test_beta_zero_is_gradient_descent():
    e = momentum_in_a_ravine()
    for lr in e.choices["lr"]:
        run = e.run({"lr": lr, "beta": 0.0})
        np.testing.assert_array_equal(run.paths["GD"], run.paths["Momentum"])


def test_caption_states_the_values_the_outcome_and_the_theory():
    e = momentum_in_a_ravine()
    caption = e.describe(e.run({"lr": 3.3, "beta": 0.67}))
    assert caption.startswith("α = 3.3 · β = 0.67")
    assert "GD: diverged" in caption or "(above its start)" in caption
    rho = quadratic.rate(3.3, 0.67, (0.01, 1.0))
    assert f"Momentum ρ = {rho:.3f}" in caption
    assert "GD ρ = 2.300 (unstable)" in caption
    assert "under-damped along the valley, under-damped across it" in caption
    caption = e.describe(e.run({"lr": 0.1, "beta": 0.3}))
    assert "over-damped along the valley, over-damped across it" in caption


def test_the_caption_follows_the_sliders():
    e = momentum_in_a_ravine()
    _ = e.widget
    e.set(lr=1.9, beta=0.9)
    assert "α = 1.9 · β = 0.9" in e.caption.value
    assert f"Momentum ρ = {quadratic.rate(1.9, 0.9, (0.01, 1.0)):.3f}" in e.caption.value


def test_double_well_critical_points_and_gradient():
    well = TiltedDoubleWell(c=0.3)
    for x in (well.global_x, well.barrier_x, well.local_x):
        assert abs(well.grad(x, 0.0)[0]) < 1e-12
    assert well.global_x < well.barrier_x < well.local_x
    assert well.value(well.global_x, 0) < well.value(well.local_x, 0) < well.value(
        well.barrier_x, 0)
    assert well.min_value == well.value(well.global_x, 0.0)
    h = 1e-6
    for x, y in [(2.0, 0.0), (-0.7, 0.3), (0.1, -0.5)]:
        gx = (well.value(x + h, y) - well.value(x - h, y)) / (2 * h)
        gy = (well.value(x, y + h) - well.value(x, y - h)) / (2 * h)
        np.testing.assert_allclose(well.grad(x, y), (gx, gy), rtol=1e-6, atol=1e-8)


def test_double_well_gradient_descent_is_trapped_and_momentum_can_escape():
    well = TiltedDoubleWell(c=0.3, start=2.0)
    end = {b: trajectory(Momentum(lr=0.01, beta=b), well, steps=400)[-1, 0] for b in (0, 0.9)}
    assert end[0] == pytest.approx(well.local_x, abs=1e-6)
    assert end[0.9] == pytest.approx(well.global_x, abs=1e-6)


@pytest.mark.parametrize("kwargs", [{"c": 0.0}, {"c": 0.6}, {"c": True}, {"start": float("nan")}])
def test_double_well_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        TiltedDoubleWell(**kwargs)
