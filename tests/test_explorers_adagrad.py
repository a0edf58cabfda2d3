"""Checks of the AdaGrad chapter's explorer beyond the generic ones in test_widgets.py."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import SGD, AdaGrad, Ravine, trajectory  # noqa: E402
from optlib.explorers import adagrad_vs_gradient_descent  # noqa: E402
from optlib.explorers.adagrad import best_fixed_rate  # noqa: E402


@pytest.fixture(scope="module")
def explorer():
    return adagrad_vs_gradient_descent()


def test_controls_span_what_the_chapter_discusses(explorer):
    lrs, kappas, angles = (explorer.choices[k] for k in ("lr", "kappa", "angle"))
    assert lrs == sorted(lrs) and 1.0 in lrs and len(lrs) >= 6
    assert kappas[0] == 1 and kappas[-1] >= 100
    assert angles[0] == 0 and angles[-1] == 45
    frames = len(lrs) * len(kappas) * len(angles)
    assert frames <= 100, "page weight: about 8-10 KB per frame"


def test_gradient_descent_runs_at_its_best_fixed_rate(explorer):
    for kappa in explorer.choices["kappa"]:
        run = explorer.run({"kappa": kappa, "angle": 0})
        mu, L = Ravine(kappa=kappa).eigenvalues
        expected = trajectory(SGD(lr=2 / (mu + L)), Ravine(kappa=kappa), steps=explorer.steps)
        np.testing.assert_allclose(run.paths["GD"], expected, rtol=0, atol=0)
        assert best_fixed_rate(kappa) == pytest.approx(2 / (mu + L), rel=1e-15)


def test_the_angle_slider_is_in_degrees(explorer):
    run = explorer.run({"lr": 0.5, "kappa": 10, "angle": 45})
    landscape = Ravine(kappa=10, angle=np.pi / 4)
    np.testing.assert_allclose(run.landscape.hessian, landscape.hessian, rtol=1e-12)
    expected = trajectory(AdaGrad(lr=0.5), landscape, steps=explorer.steps)
    np.testing.assert_allclose(run.paths["AdaGrad"], expected, rtol=0, atol=0)


def test_caption_states_gradient_descents_rate(explorer):
    run = explorer.run({"kappa": 100})
    caption = explorer.describe(run)
    assert "α* = 2/(μ + L) = 1.98" in caption
    assert "AdaGrad α = " in caption and "κ = 100" in caption


def test_aligned_valleys_do_not_slow_adagrad_but_tilted_ones_do(explorer):
    for lr in explorer.choices["lr"]:
        paths = [explorer.run({"lr": lr, "kappa": k, "angle": 0}).paths["AdaGrad"]
                 for k in explorer.choices["kappa"]]
        for path in paths[1:]:
            np.testing.assert_allclose(path, paths[0], rtol=0, atol=1e-7)
    tilted = [min(explorer.run({"lr": lr, "kappa": k, "angle": 45}).losses["AdaGrad"][-1]
                  for lr in explorer.choices["lr"]) for k in explorer.choices["kappa"]]
    assert tilted == sorted(tilted) and tilted[-1] > 1e6 * tilted[0]
