"""The explorer of the chapter "Comparing optimizers, measured": captions and data."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from optlib.explorers.comparison import (  # noqa: E402
    LANDSCAPES,
    OPTIMIZERS,
    RATES_FROM,
    TOLERANCES,
    TUNED_LR,
    optimizer_race,
)


@pytest.fixture(scope="module")
def explorer():
    return optimizer_race()


def test_every_landscape_has_rates_and_a_tolerance():
    assert set(TOLERANCES) == set(LANDSCAPES)
    assert set(LANDSCAPES) <= set(TUNED_LR)
    assert all(set(rates) == set(OPTIMIZERS) for rates in TUNED_LR.values())
    assert all(source == "this landscape" or source in TUNED_LR for source in RATES_FROM)


def test_caption_states_rates_and_first_step_below_the_tolerance(explorer):
    for landscape in ("ravine κ=100, rotated", "Rosenbrock", "ravine κ=100, noisy"):
        for rates in RATES_FROM:
            run = explorer.run({"landscape": landscape, "rates": rates})
            caption = explorer.describe(run)
            source = landscape if rates == "this landscape" else rates
            for name, loss in run.losses.items():
                assert f"{name} (α = {TUNED_LR[source][name]:g})" in caption
                if not np.isfinite(loss).all():
                    assert f"{name} (α = {TUNED_LR[source][name]:g}): diverged" in caption
                    continue
                below = np.flatnonzero(loss <= TOLERANCES[landscape])
                expected = (f"first below ε at step {below[0]}" if below.size
                            else f"not below ε in {explorer.steps} steps")
                assert expected in caption.split(f"{name} (α =")[1].split("·")[0]


def test_the_noisy_landscape_gives_the_same_picture_every_time(explorer):
    values = {"landscape": "ravine κ=100, noisy", "rates": "this landscape"}
    first = explorer.render(values)
    explorer.render({"landscape": "Rosenbrock", "rates": "this landscape"})
    assert explorer.render(values) == first


def test_rates_tuned_elsewhere_change_the_race(explorer):
    own = explorer.run({"landscape": "Rosenbrock", "rates": "this landscape"})
    other = explorer.run({"landscape": "Rosenbrock", "rates": "ravine κ=100, rotated"})
    assert np.isfinite(own.losses["SGD"]).all()
    assert not np.isfinite(other.losses["SGD"]).all()  # a ravine rate on Rosenbrock


def _outside_the_figure(explorer, values):
    """The axes (x or y of each panel) whose tick labels or axis label stick out of the
    picture for ``values``, as the picture shows them."""
    explorer._draw(explorer.run(values))  # puts the axes where this picture has them
    renderer = explorer.canvas.get_renderer()
    width, height = explorer.canvas.get_width_height()
    bad = []
    for panel, ax in (("paths", explorer.ax_path), ("loss", explorer.ax_loss)):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            box = axis.get_tightbbox(renderer)  # the ticks shown, their labels, the label
            if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
                bad.append(f"{panel} {name}: {[round(v) for v in box.extents]}")
    return bad


def test_every_combination_keeps_its_axis_labels_inside_the_picture():
    # A layout made for one landscape cut the y labels of others off (~45 px left of the
    # picture for the unrotated ravines): each landscape gets its own layout.
    explorer = optimizer_race()
    explorer.prepare()  # every background drawn first, in the widget's order
    bad = {}
    for landscape in LANDSCAPES:
        for rates in RATES_FROM:
            outside = _outside_the_figure(explorer, {"landscape": landscape, "rates": rates})
            if outside:
                bad[(landscape, rates)] = outside
    assert not bad, f"labels outside the picture: {bad}"


def test_the_layout_does_not_drift_from_picture_to_picture():
    explorer = optimizer_race()
    values = {"landscape": "ravine κ=10", "rates": "this landscape"}
    first = explorer.render(values)
    for landscape in LANDSCAPES:
        explorer.render({"landscape": landscape, "rates": "this landscape"})
    assert explorer.render(values) == first
