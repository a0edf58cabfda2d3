"""Chapter-specific checks of the RMSprop chapter's explorer (the generic ones are in
tests/test_widgets.py and run over every registered explorer)."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib import AdaGrad, RMSprop, Rosenbrock, trajectory  # noqa: E402
from optlib.explorers import EXPLORERS, rmsprop_against_adagrad  # noqa: E402
from optlib.explorers.rmsprop import (  # noqa: E402
    LOSS_FLOOR,
    RMSPROP_DECAYS,
    RMSPROP_LEARNING_RATES,
    recent_step_length,
)


@pytest.fixture(scope="module")
def explorer():
    return rmsprop_against_adagrad()


def test_registered_with_discrete_sorted_controls(explorer):
    assert EXPLORERS["rmsprop_against_adagrad"] is rmsprop_against_adagrad
    assert explorer.choices == {"lr": RMSPROP_LEARNING_RATES, "beta": RMSPROP_DECAYS}
    for values in explorer.choices.values():
        assert values == sorted(values)
    assert 0.001 in RMSPROP_LEARNING_RATES and 0.01 in RMSPROP_LEARNING_RATES  # both defaults
    assert {0.0, 0.9, 0.99} <= set(RMSPROP_DECAYS)
    assert explorer.values == {"lr": 0.01, "beta": 0.99}  # PyTorch's defaults first


def test_runs_are_the_optimizers_it_names(explorer):
    run = explorer.run({"lr": 0.03, "beta": 0.9})
    rosen = Rosenbrock()
    np.testing.assert_array_equal(
        run.paths["AdaGrad"], trajectory(AdaGrad(lr=0.03), rosen, steps=500)
    )
    np.testing.assert_array_equal(
        run.paths["RMSprop"], trajectory(RMSprop(lr=0.03, beta=0.9), rosen, steps=500)
    )


def test_caption_reports_the_step_lengths_in_units_of_alpha(explorer):
    run = explorer.run({"lr": 0.01, "beta": 0.99})
    caption = explorer.describe(run)
    for name in ("AdaGrad", "RMSprop"):
        length = recent_step_length(run.paths[name], 0.01)
        assert f"{name} {length:.2g}α" in caption
    # AdaGrad's steps have shrunk to a few percent of α; RMSprop's are about α.
    assert recent_step_length(run.paths["AdaGrad"], 0.01) < 0.1
    assert recent_step_length(run.paths["RMSprop"], 0.01) > 0.5


def test_no_run_can_diverge_and_the_caption_never_says_so(explorer):
    for values in explorer._combinations():
        run = explorer.run(values)
        for path in run.paths.values():
            assert np.all(np.isfinite(path))
        for loss in run.losses.values():  # every curve is drawn in full above the floor
            assert loss.min() > 10 * LOSS_FLOOR
        assert "diverging" not in explorer.describe(run)
    run = explorer.run({"lr": 1.0, "beta": 0.99})
    assert "(above its start)" in explorer.describe(run)
