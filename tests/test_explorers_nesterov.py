"""Checks of the Nesterov chapter's explorer and figure helper (optlib.explorers.nesterov)."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import Momentum, Nesterov, Ravine, trajectory  # noqa: E402
from optlib.explorers import EXPLORERS, nesterov_versus_momentum  # noqa: E402
from optlib.explorers.nesterov import (  # noqa: E402
    NESTEROV_LEARNING_RATES,
    NESTEROV_MOMENTA,
    draw_one_step,
)


def test_the_explorer_is_registered_and_compares_the_two_methods():
    assert EXPLORERS["nesterov_versus_momentum"] is nesterov_versus_momentum
    e = nesterov_versus_momentum()
    assert e.choices == {"lr": NESTEROV_LEARNING_RATES, "beta": NESTEROV_MOMENTA}
    assert e.values == {"lr": 1.0, "beta": 0.9}
    run = e.run()
    assert set(run.paths) == {"Momentum", "Nesterov"}
    ravine = Ravine(kappa=100)
    np.testing.assert_array_equal(
        run.paths["Nesterov"], trajectory(Nesterov(lr=1.0, beta=0.9), ravine, steps=150))
    np.testing.assert_array_equal(
        run.paths["Momentum"], trajectory(Momentum(lr=1.0, beta=0.9), ravine, steps=150))


def test_page_weight_stays_small():
    assert len(NESTEROV_LEARNING_RATES) * len(NESTEROV_MOMENTA) <= 100


@pytest.mark.parametrize("beta", NESTEROV_MOMENTA)
def test_the_sliders_straddle_both_stability_limits(beta):
    # Nesterov converges on a quadratic iff αL < 2(1 + β)/(1 + 2β); heavy ball iff αL < 2(1 + β).
    e = nesterov_versus_momentum()
    for lr in NESTEROV_LEARNING_RATES:
        losses = e.run({"lr": lr, "beta": beta}).losses
        for name, limit in (("Nesterov", 2 * (1 + beta) / (1 + 2 * beta)),
                            ("Momentum", 2 * (1 + beta))):
            loss = losses[name]
            grew = not np.all(np.isfinite(loss)) or loss[-1] > loss[0]
            if lr > 1.02 * limit:
                assert grew, (name, lr, beta)
            elif lr < 0.9 * limit:  # near the limit 150 steps may not show the decay
                assert not grew, (name, lr, beta)


def test_beta_zero_makes_both_gradient_descent():
    e = nesterov_versus_momentum()
    for lr in NESTEROV_LEARNING_RATES:
        run = e.run({"lr": lr, "beta": 0.0})
        np.testing.assert_array_equal(run.paths["Momentum"], run.paths["Nesterov"])


def test_draw_one_step_returns_the_step_of_each_method():
    from matplotlib.figure import Figure

    ravine = Ravine(kappa=10)
    phi, v, lr, beta = np.array([-3.0, 0.8]), np.array([1.0, -2.0]), 0.5, 0.9
    ax = Figure().subplots()
    ahead = phi - lr * beta * v
    np.testing.assert_allclose(draw_one_step(ax, ravine, phi, v, lr, beta, lookahead=False),
                               ahead - lr * ravine.gradient(phi))
    np.testing.assert_allclose(draw_one_step(ax, ravine, phi, v, lr, beta, lookahead=True),
                               ahead - lr * ravine.gradient(ahead))
