"""The clipping chapter's explorer: clipped and unclipped SGD on the one-unit RNN."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import SGD, trajectory  # noqa: E402
from optlib.exploding import Clipped, OneUnitRNN  # noqa: E402
from optlib.explorers import clipping_on_a_cliff  # noqa: E402
from optlib.explorers.clipping import CLIP_STEPS  # noqa: E402


def test_paths_are_sgd_with_and_without_clipping():
    e = clipping_on_a_cliff()
    rnn = OneUnitRNN(T=20)
    for c in (0.1, 3.0):
        for lr in (0.2, 1.0):
            run = e.run({"max_norm": c, "lr": lr})
            np.testing.assert_array_equal(run.paths["SGD"],
                                          trajectory(SGD(lr=lr), rnn, steps=CLIP_STEPS))
            clipped = run.paths["SGD, clipped"]
            np.testing.assert_array_equal(
                clipped, trajectory(SGD(lr=lr), Clipped(rnn, c), steps=CLIP_STEPS))
            moves = np.linalg.norm(np.diff(clipped, axis=0), axis=1)
            assert moves.max() <= lr * c * (1 + 1e-12)


def test_initial_view_shows_the_throw_and_the_rescue():
    e = clipping_on_a_cliff()
    run = e.run()
    assert run.losses["SGD"][-1] > 0.07
    assert run.losses["SGD, clipped"][-1] < 1e-12
    assert np.linalg.norm(np.diff(run.paths["SGD"], axis=0), axis=1).max() > 50


def test_thresholds_and_rates_are_sorted_and_span_the_interesting_range():
    e = clipping_on_a_cliff()
    thresholds, rates = e.choices["max_norm"], e.choices["lr"]
    assert thresholds == sorted(thresholds) and rates == sorted(rates)
    assert thresholds[0] < 0.1 and thresholds[-1] >= 100  # every update clipped .. never
