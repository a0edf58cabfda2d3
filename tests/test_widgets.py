"""Tests for optlib.widgets, run headlessly.

With no front end, setting ``slider.value`` still fires the observers synchronously,
so a test moves a slider and checks what changed: the lines' data, the PNG bytes in
the Image widget and the caption. (Output widgets need a front end to capture
anything; the explorers do not use them.)
"""

import io

import numpy as np
import pytest

widgets = pytest.importorskip("ipywidgets")

from ipywidgets.widgets.widget_link import Link  # noqa: E402
from PIL import Image  # noqa: E402

from optlib import SGD, Momentum, Ravine, Rosenbrock, plotting  # noqa: E402
from optlib import widgets as ow  # noqa: E402
from optlib.explorers import EXPLORERS, gradient_descent_in_a_ravine  # noqa: E402


def small_explorer(**kwargs):
    arguments = dict(
        landscape=lambda kappa: Ravine(kappa=kappa),
        optimizers=lambda lr: {"GD": SGD(lr=lr), "Momentum": Momentum(lr=lr / 4)},
        controls={"lr": [0.1, 1.0, 2.2], "kappa": [1, 10]},
        labels={"lr": "α", "kappa": "κ"},
        steps=40,
    )
    arguments.update(kwargs)
    return ow.Explorer(**arguments)


def pixels(png, background=(255, 255, 255)):
    """The picture as a reader sees it on a page of colour ``background`` (RGB array)."""
    image = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    page = Image.new("RGBA", image.size, (*background, 255))
    return np.asarray(Image.alpha_composite(page, image).convert("RGB"))


def composite(rgba, background=(255, 255, 255)):
    """An (h, w, 4) RGBA array (straight alpha, as Agg's buffer) over ``background``."""
    alpha = rgba[:, :, 3:4] / 255
    return np.round(rgba[:, :, :3] * alpha + np.array(background) * (1 - alpha)).astype(int)


# ------------------------------------------------------------------- sliders drive everything


def test_moving_a_slider_changes_the_lines_the_image_and_the_caption():
    e = small_explorer()
    box = e.widget
    assert isinstance(box, widgets.VBox)
    assert set(e.controls) == {"lr", "kappa"}
    assert all(isinstance(s, widgets.SelectionSlider) for s in e.controls.values())
    path_before = e.lines["GD"].path.get_xydata().copy()
    loss_before = e.lines["GD"].loss.get_ydata().copy()
    png_before, caption_before = e.image.value, e.caption.value

    e.controls["lr"].value = 0.1

    assert not np.array_equal(e.lines["GD"].path.get_xydata(), path_before)
    assert not np.array_equal(e.lines["GD"].loss.get_ydata(), loss_before)
    assert e.image.value != png_before
    assert e.caption.value != caption_before
    expected = e.run({"lr": 0.1, "kappa": e.values["kappa"]})
    np.testing.assert_array_equal(e.lines["GD"].path.get_xydata(), expected.paths["GD"])


def test_the_image_is_exactly_render_of_the_slider_values():
    e = small_explorer()
    _ = e.widget
    e.set(lr=2.2, kappa=1)
    assert e.values == {"lr": 2.2, "kappa": 1}
    assert e.image.value == e.render({"lr": 2.2, "kappa": 1})


def test_render_is_a_pure_function_of_the_values():
    e = small_explorer()
    a = e.render({"lr": 0.1, "kappa": 10})
    e.render({"lr": 2.2, "kappa": 1})  # another landscape in between
    assert e.render({"lr": 0.1, "kappa": 10}) == a
    assert e.render({"lr": 1.0, "kappa": 10}) != a
    assert e.values == {"lr": 1.0, "kappa": 10}  # rendering moves no slider


def test_render_matches_a_full_matplotlib_draw():
    """Blitting over the cached background must give the picture a full draw gives."""
    e = small_explorer()
    blitted = pixels(e.render({"lr": 0.1, "kappa": 1}))
    # Draw the same picture the slow way: contours, start ring and lines, all at once.
    plotting.contour(e.ax_path, Ravine(kappa=1))
    plotting.mark_start(e.ax_path, Ravine(kappa=1).start)
    for line in e._all_lines():
        line.set_animated(False)
    e.canvas.draw()
    full = composite(np.asarray(e.canvas.buffer_rgba()))
    assert blitted.shape == full.shape
    assert np.mean(np.any(blitted != full, axis=-1)) < 0.01  # anti-aliasing at most


def test_a_landscape_control_switches_the_contour_background():
    e = small_explorer()
    _ = e.widget
    e.set(kappa=1)
    round_bowl = pixels(e.image.value)
    e.set(kappa=10)
    ravine = pixels(e.image.value)
    # The contour panel (left) differs, not just the lines.
    assert np.mean(np.any(round_bowl != ravine, axis=-1)) > 0.05
    assert len(e._backgrounds) == 2


def test_caption_states_the_slider_values_and_the_outcome():
    e = small_explorer(optimizers=lambda lr: {"GD": SGD(lr=lr)})
    _ = e.widget
    for lr in e.choices["lr"]:
        e.set(lr=lr)
        label = e.controls["lr"].label
        assert f"α = {label}" in e.caption.value
        assert f"κ = {e.controls['kappa'].label}" in e.caption.value
        run = e.run()
        final = run.losses["GD"][-1]
        assert f"→ {final:.2g} after 40 steps" in e.caption.value
        assert ("above its start" in e.caption.value) == (final > run.losses["GD"][0])
    e.set(lr=2.2)
    assert "above its start" in e.caption.value  # |1 - 2.2| > 1 across the valley


def test_overflow_is_reported_and_drawn_without_error():
    e = ow.Explorer(Rosenbrock(), optimizers=lambda lr: {"GD": SGD(lr=lr)},
                    controls={"lr": [1e-3, 0.05]}, steps=60)
    _ = e.widget
    e.set(lr=0.05)
    assert "diverged (overflow at step" in e.caption.value
    assert bytes(e.image.value).startswith(b"\x89PNG")
    y = e.lines["GD"].loss.get_ydata()
    assert np.isnan(y[-1]) and np.all(y[np.isfinite(y)] >= plotting.FLOOR)


def test_zero_loss_is_drawn_at_the_floor():
    e = small_explorer(optimizers=lambda lr: {"GD": SGD(lr=lr)})
    e.render({"lr": 1.0, "kappa": 1})  # round bowl, lr = 1/L: exact minimum in one step
    y = e.lines["GD"].loss.get_ydata()
    assert y[1] == plotting.FLOOR


def test_controls_must_be_discrete_lists_and_factories_must_name_controls():
    with pytest.raises(ValueError, match="not one of the slider's values"):
        small_explorer().render({"lr": 0.5})
    with pytest.raises(ValueError, match="unknown control"):
        small_explorer().set(beta=0.9)
    with pytest.raises(ValueError, match="not controls"):
        small_explorer(optimizers=lambda lr, beta: {"GD": SGD(lr=lr)})
    with pytest.raises(ValueError, match="non-empty"):
        small_explorer(controls={"lr": [], "kappa": [1]})


def test_initial_values_default_to_the_middle_of_each_list():
    e = small_explorer()
    assert e.values == {"lr": 1.0, "kappa": 10}
    e = small_explorer(initial={"lr": 0.1})
    assert e.values == {"lr": 0.1, "kappa": 10}


def test_one_optimizer_has_no_legend_several_get_one():
    assert not small_explorer(optimizers=lambda lr: {"GD": SGD(lr=lr)}).figure.legends
    assert len(small_explorer().figure.legends) == 1


# ---------------------------------------------------------------------------------- PNG


def test_png_bytes_round_trips_the_pixels():
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(ow.png_bytes(rgba))))
    assert decoded.shape == rgba.shape  # alpha kept
    np.testing.assert_array_equal(decoded, rgba)


def test_small_png_is_smaller_and_close():
    e = small_explorer()
    png = e.render()
    rgba = np.asarray(e.canvas.buffer_rgba())
    small = ow.small_png(rgba)
    assert len(small) < len(png)
    for page in ((255, 255, 255), (17, 17, 17)):  # light and dark themes
        difference = np.abs(pixels(small, page).astype(int) - composite(rgba, page))
        assert np.median(difference) <= 2
        assert np.percentile(difference, 99) <= 40


# ------------------------------------------------------------------ static export (no kernel)


def _links_to(target):
    from ipywidgets.widgets.widget import _instances  # every live widget, by id

    return [w for w in _instances.values()
            if isinstance(w, Link) and w.target == (target, "selected_index")]


def test_static_view_links_each_slider_to_stacks_of_precomputed_frames():
    e = small_explorer()
    view = e.static_view()
    lr_slider, kappa_slider, outer = view.children
    assert isinstance(outer, widgets.Stack) and len(outer.children) == 3  # one per lr
    assert outer.selected_index == lr_slider.index
    [link] = _links_to(outer)
    assert link.source == (lr_slider, "index")
    for lr, inner in zip(e.choices["lr"], outer.children):
        assert isinstance(inner, widgets.Stack) and len(inner.children) == 2  # one per kappa
        assert inner.selected_index == kappa_slider.index
        [link] = _links_to(inner)
        assert link.source == (kappa_slider, "index")
        for kappa, frame in zip(e.choices["kappa"], inner.children):
            image, caption = frame.children
            values = {"lr": lr, "kappa": kappa}
            assert caption.value == e.describe(e.run(values))  # caption agrees with frame
            live = pixels(e.render(values))
            assert np.median(np.abs(pixels(image.value).astype(int) - live)) <= 2


def test_frames_cover_every_combination_and_leave_the_lines_as_they_were():
    e = small_explorer()
    before = e.lines["GD"].path.get_xydata().copy()
    frames = e.frames()
    assert set(frames) == {(lr, k) for lr in (0.1, 1.0, 2.2) for k in (1, 10)}
    np.testing.assert_array_equal(e.lines["GD"].path.get_xydata(), before)


# ------------------------------------------------------------------ the book's explorers


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_registered_explorers_are_discrete_and_every_control_acts(name):
    # Speed is measured by benchmarks/explorers.py, not here: a timed test on a shared
    # machine fails for reasons that have nothing to do with the code.
    e = EXPLORERS[name]()
    assert all(2 <= len(values) <= 15 for values in e.choices.values())
    _ = e.widget
    for control, values in e.choices.items():
        seen = {bytes(e.image.value)}
        for value in [*values[1:], values[0]]:
            e.controls[control].value = value
            assert e.values[control] == value
            seen.add(bytes(e.image.value))
        assert len(seen) > 1, f"{name}: moving {control} never changes the picture"


def test_gradient_descent_explorer_spans_the_stability_limit():
    e = gradient_descent_in_a_ravine()
    lrs = e.choices["lr"]
    assert lrs == sorted(lrs)
    L = 1.0  # Ravine's default largest curvature
    assert any(lr < 2 / L for lr in lrs) and any(lr > 2 / L for lr in lrs)
    assert 8 <= len(lrs) <= 15


# ------------------------------------------------------------------ one explorer per place


def _is_static_view(box, explorer):
    """``box`` has the static view's shape: a slider per control, then a Stack of frames."""
    *sliders, stack = box.children
    return (len(sliders) == len(explorer.choices)
            and all(isinstance(s, widgets.SelectionSlider) for s in sliders)
            and isinstance(stack, widgets.Stack)
            and len(stack.children) == len(next(iter(explorer.choices.values()))))


def test_show_is_the_live_widget_outside_the_book_build(monkeypatch):
    monkeypatch.delenv(ow.BOOK_BUILD_VARIABLE, raising=False)
    e = small_explorer()
    assert not ow.in_book_build()
    box = e.show()
    assert box is e.widget  # the live one: its sliders recompute
    png = e.image.value
    e.controls["lr"].value = 0.1
    assert e.image.value != png
    monkeypatch.setenv(ow.BOOK_BUILD_VARIABLE, "0")
    assert e.show() is e.widget


def test_show_is_the_precomputed_frames_in_the_book_build(monkeypatch):
    monkeypatch.setenv(ow.BOOK_BUILD_VARIABLE, "1")
    e = small_explorer()
    assert ow.in_book_build()
    box = e.show(colors=32)
    assert _is_static_view(box, e)
    assert e._widgets is None  # the live widget is never built: it would be dead on a page
    image = box.children[-1].children[0].children[0].children[0]
    assert Image.open(io.BytesIO(bytes(image.value))).mode == "P"  # palette frames
    assert len(Image.open(io.BytesIO(bytes(image.value))).getcolors()) <= 32


def test_show_in_a_subclass_with_its_own_gradients(monkeypatch):
    from optlib.explorers.schedules import SeparateGradientsExplorer

    e = SeparateGradientsExplorer(
        landscape=Ravine(kappa=3),
        optimizers=lambda lr: {"a": SGD(lr=lr), "b": SGD(lr=lr / 2)},
        gradients=lambda landscape: {"a": landscape, "b": landscape},
        controls={"lr": [0.1, 0.5]}, steps=10)
    monkeypatch.setenv(ow.BOOK_BUILD_VARIABLE, "1")
    assert _is_static_view(e.show(), e)
    monkeypatch.delenv(ow.BOOK_BUILD_VARIABLE)
    assert e.show() is e.widget


def test_a_mistyped_build_variable_is_an_error_naming_it(monkeypatch):
    monkeypatch.setenv(ow.BOOK_BUILD_VARIABLE, "yes")
    with pytest.raises(ValueError, match=r"OPTLIB_BOOK_BUILD = 'yes'.*'1'"):
        small_explorer().show()


def test_the_book_build_extension_sets_the_variable(monkeypatch):
    import importlib.util
    from pathlib import Path

    monkeypatch.setenv(ow.BOOK_BUILD_VARIABLE, "0")  # restored after the test
    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / "offline_html.py"
    spec = importlib.util.spec_from_file_location("offline_html_under_test", path)
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    assert extension.BOOK_BUILD_VARIABLE == ow.BOOK_BUILD_VARIABLE

    class App:
        def connect(self, *args, **kwargs):
            pass

    extension.setup(App())
    assert ow.in_book_build()


# ------------------------------------------------------------------ light and dark themes


def _inside(artist, width, height, grow=-2):
    """A boolean (height, width) mask of the pixels inside ``artist``'s frame, grown by
    ``grow`` pixels on each side (shrunk if negative)."""
    x0, y0, x1, y1 = artist.get_window_extent().extents
    rows, cols = np.mgrid[0:height, 0:width]
    top = height - rows  # image rows count from the top, display y from the bottom
    return ((cols >= x0 - grow) & (cols <= x1 + grow)
            & (top >= y0 - grow) & (top <= y1 + grow))


def test_figures_are_no_white_box_in_a_dark_theme_and_read_in_both():
    e = small_explorer()
    png = e.render()
    rgba = np.asarray(Image.open(io.BytesIO(png)))
    height, width = rgba.shape[:2]
    panels = _inside(e.ax_path, width, height) | _inside(e.ax_loss, width, height)
    assert (rgba[panels, 3] == 255).all()  # the panels are opaque: the lines read on them
    # Around the panels' frames and the legend (a light box: it holds samples of lines).
    around = ~(_inside(e.ax_path, width, height, 3) | _inside(e.ax_loss, width, height, 3)
               | _inside(e.figure.legends[0], width, height, 3))
    assert np.mean(rgba[around, 3] == 0) > 0.6  # the page shows through around them
    dark, light = pixels(png, (17, 17, 17)), pixels(png, (255, 255, 255))
    assert np.mean(dark[around].mean(axis=1) > 200) < 0.02  # no white box on a dark page
    # The tick labels and axis labels (grey ink) stand out from both pages.
    ink = np.array([int(plotting.INK[i:i + 2], 16) for i in (1, 3, 5)])
    for page, picture in (((17, 17, 17), dark), ((255, 255, 255), light)):
        text = np.abs(picture[around] - ink).max(axis=1) <= 24
        assert text.sum() > 300, f"hardly any text visible on a page of {page}"


def test_matplotlib_figures_get_the_course_theme():
    import matplotlib

    assert matplotlib.rcParams["figure.facecolor"] == "none"
    fig, ax = plotting.figure()
    ax.plot([0, 1], [1, 0])
    image = np.asarray(Image.open(io.BytesIO(fig._repr_png_())).convert("RGBA"))
    assert image[0, 0, 3] == 0  # transparent corner: no white box in a dark theme
    assert ax.xaxis.label.get_color() == plotting.INK


# ------------------------------------------------------------------ one machinery for all


class Squares(ow.SliderFigures):
    """The smallest explorer: a grey square whose shade and size the sliders set."""

    def __init__(self):
        super().__init__({"shade": [0, 128, 255], "size": [4, 8]}, labels={"shade": "grey"})
        self.drawn = []

    def picture(self, values, colors=None):
        self.drawn.append((values["shade"], values["size"], colors))
        rgba = np.full((values["size"], values["size"], 4), values["shade"], np.uint8)
        rgba[..., 3] = 255
        png = ow.png_bytes(rgba) if colors is None else ow.small_png(rgba, colors)
        return png, f"grey {values['shade']}, {values['size']} px"

    def _image_width(self):
        return 8


def test_the_base_drives_any_picture_function_live_and_precomputed(monkeypatch):
    e = Squares()
    assert e.values == {"shade": 128, "size": 8}  # the middle values
    box = e.widget
    assert box.children[0].description == "grey" and e.caption.value == "grey 128, 8 px"
    e.controls["size"].value = 4
    assert pixels(e.image.value).shape == (4, 4, 3) and e.caption.value == "grey 128, 4 px"
    frames = e.frames(colors=16)
    assert set(frames) == {(g, s) for g in (0, 128, 255) for s in (4, 8)}
    assert frames[(255, 8)][1] == "grey 255, 8 px"
    assert pixels(frames[(0, 4)][0]).max() == 0
    monkeypatch.setenv(ow.BOOK_BUILD_VARIABLE, "1")
    view = e.show(colors=16)
    assert _is_static_view(view, e)
    with pytest.raises(ValueError, match="shade = 7 is not one of the slider's values"):
        e.set(shade=7)


def test_every_registered_explorer_uses_the_one_machinery():
    for name, factory in EXPLORERS.items():
        explorer_class = inspect_return_class(factory)
        assert issubclass(explorer_class, ow.SliderFigures), name


def inspect_return_class(factory):
    """The class of what ``factory`` builds, without building it (some train a network)."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(factory)))
    module = inspect.getmodule(factory)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            candidate = getattr(module, node.func.id, None)
            if isinstance(candidate, type) and hasattr(candidate, "picture"):
                return candidate
    raise AssertionError(f"{factory.__name__} builds no explorer class")
