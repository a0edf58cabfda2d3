"""Animations: frames that change, controls linked in the browser, honest captions."""

import numpy as np
import pytest
from ipywidgets.widgets.widget_link import Link

from optlib import SGD, Momentum, Ravine, Saddle
from optlib.animation import animate


@pytest.fixture(scope="module")
def race():
    return animate(Ravine(kappa=30), {"GD": SGD(lr=1.9), "Momentum": Momentum(lr=1.0, beta=0.7)},
                   steps=60, frames=13)


def test_frames_cover_first_and_last_step(race):
    assert race.shown[0] == 0 and race.shown[-1] == 60
    assert len(race.shown) == 13
    assert np.all(np.diff(race.shown) > 0)


def test_frames_show_the_paths_moving(race):
    first, middle = race.draw(0).copy(), race.draw(30).copy()
    assert not np.array_equal(first, middle)
    # The trail drawn at step k is the path up to k.
    x, y = race.lines["Momentum"].get_data()
    assert len(x) == 31
    np.testing.assert_allclose(np.column_stack([x, y]), race.paths["Momentum"][:31])


def test_widget_links_play_slider_and_stack_in_the_browser(race):
    box = race.widget
    assert len(race.stack.children) == len(race.shown)
    assert race.play.max == race.slider.max == len(race.shown) - 1
    play_to_slider, slider_to_stack = race.links
    assert isinstance(play_to_slider, Link) and isinstance(slider_to_stack, Link)
    assert play_to_slider.source == (race.play, "value")
    assert play_to_slider.target == (race.slider, "value")
    assert slider_to_stack.source == (race.slider, "value")
    assert slider_to_stack.target == (race.stack, "selected_index")
    assert box.children[0].children == (race.play, race.slider)  # controls above frames
    images = [bytes(page.children[0].value) for page in race.stack.children]
    assert all(img.startswith(b"\x89PNG") for img in images)
    assert len(set(images)) == len(images)  # every frame differs


def test_caption_agrees_with_the_path(race):
    k = int(race.shown[-1])
    value = Ravine(kappa=30).f(race.paths["GD"][k])
    assert f"GD: f − f* = {value:.2g}" in race.caption(k)


def test_divergence_is_reported_and_optimizers_untouched():
    opt = SGD(lr=2.5)
    race = animate(Ravine(kappa=10), {"GD": opt}, steps=2000, frames=5)
    assert "GD: diverged at step" in race.caption(2000)
    assert opt.t == 0 and opt.state is None


def test_landscape_without_minimum_shows_f():
    race = animate(Saddle(), {"SGD": SGD(lr=0.1)}, steps=10, frames=2)
    assert "SGD: f = " in race.caption(10)


@pytest.mark.parametrize("kwargs, match", [({"steps": 0}, "steps must be an integer >= 1"),
                                           ({"frames": 1}, "frames must be an integer >= 2")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        animate(Ravine(), {"GD": SGD(lr=0.1)}, **{"steps": 10, **kwargs})


def test_show_is_the_one_view_everywhere(race, monkeypatch):
    for value in ("1", "0"):
        monkeypatch.setenv("OPTLIB_BOOK_BUILD", value)
        assert race.show() is race.widget
