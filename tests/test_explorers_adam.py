"""Chapter-specific checks of the explorer of "Adam and its family"."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import Adam, RMSprop, Rosenbrock, trajectory  # noqa: E402
from optlib.explorers import EXPLORERS, adam_on_rosenbrock  # noqa: E402
from optlib.explorers.adam import ADAM_EXPLORER_LR, ADAM_EXPLORER_STEPS  # noqa: E402


def test_it_is_registered_with_two_discrete_sliders_and_few_frames():
    assert EXPLORERS["adam_on_rosenbrock"] is adam_on_rosenbrock
    e = adam_on_rosenbrock()
    assert list(e.choices) == ["beta1", "beta2"]
    assert e.values == {"beta1": 0.9, "beta2": 0.999}  # the defaults are shown first
    assert len(e.choices["beta1"]) * len(e.choices["beta2"]) <= 20  # page weight


def test_the_paths_are_adam_and_rmsprop_with_the_slider_values():
    e = adam_on_rosenbrock()
    run = e.run({"beta1": 0.95, "beta2": 0.99})
    adam = trajectory(Adam(lr=ADAM_EXPLORER_LR, beta1=0.95, beta2=0.99), Rosenbrock(),
                      steps=ADAM_EXPLORER_STEPS)
    rmsprop = trajectory(RMSprop(lr=ADAM_EXPLORER_LR, beta=0.99), Rosenbrock(),
                         steps=ADAM_EXPLORER_STEPS)
    np.testing.assert_array_equal(run.paths["Adam"], adam)
    np.testing.assert_array_equal(run.paths["RMSprop"], rmsprop)


def test_rmsprop_does_not_depend_on_beta1():
    e = adam_on_rosenbrock()
    a = e.run({"beta1": 0.0, "beta2": 0.99}).paths["RMSprop"]
    b = e.run({"beta1": 0.99, "beta2": 0.99}).paths["RMSprop"]
    np.testing.assert_array_equal(a, b)


def test_the_caption_states_the_values_and_both_outcomes():
    e = adam_on_rosenbrock()
    _ = e.widget
    e.set(beta1=0.95, beta2=0.99)
    caption = e.caption.value
    assert "β₁ = 0.95" in caption and "β₂ = 0.99" in caption
    final = e.run().losses["Adam"][-1]
    assert f"Adam: f − f* = 4 → {final:.2g} after {ADAM_EXPLORER_STEPS} steps" in caption
    assert "RMSprop: f − f* = 4 →" in caption
