"""Tests for optlib.plotting: styles, contours, paths, loss curves, the compare figure."""

import io
import math
import warnings

import matplotlib
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from optlib import OPTIMIZERS, SGD, Momentum, Ravine, Rosenbrock, Saddle, plotting


def _png(fig):
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


# ------------------------------------------------------------------------------- styles


def test_every_optimizer_has_its_own_colour_linestyle_marker_from_okabe_ito():
    palette = {c.lower() for c in plotting.OKABE_ITO.values()}
    seen = set()
    for name in OPTIMIZERS:
        s = plotting.style(name)
        assert s["color"].lower() in palette, name
        key = (s["color"], s["linestyle"], s["marker"])
        assert key not in seen, f"{name} looks like another optimizer"
        seen.add(key)


def test_gd_is_drawn_like_sgd_and_yellow_is_never_used():
    assert plotting.style("GD") == plotting.style("SGD")
    yellow = plotting.OKABE_ITO["yellow"]
    assert yellow not in plotting.PALETTE
    assert all(s["color"] != yellow for s in plotting.STYLES.values())


def test_unknown_names_cycle_through_the_palette_deterministically():
    a, b = plotting.style("α = 0.1", 0), plotting.style("α = 0.2", 1)
    assert a != b
    assert plotting.style("anything", 0) == a
    assert plotting.style("x", len(plotting.PALETTE))["color"] == plotting.PALETTE[0]


def test_style_returns_a_copy():
    plotting.style("SGD")["color"] = "red"
    assert plotting.style("SGD")["color"] == plotting.OKABE_ITO["vermillion"]


# ------------------------------------------------------------------------------ contour


def test_contour_sets_bounds_labels_and_log_levels():
    fig, ax = plotting.figure()
    ravine = Ravine(kappa=10)
    cs = plotting.contour(ax, ravine)
    assert ax.get_xlim() == ravine.bounds[0] and ax.get_ylim() == ravine.bounds[1]
    assert not ax.get_autoscale_on()
    assert ax.get_xlabel() == "θ₁" and ax.get_ylabel() == "θ₂"
    ratios = np.diff(np.log(cs.levels))
    np.testing.assert_allclose(ratios, ratios[0])  # log-spaced
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1 and tuple(stars[0].get_xydata()[0]) == (0.0, 0.0)


def test_contour_linear_levels_for_landscapes_without_log_scale():
    fig, ax = plotting.figure()
    cs = plotting.contour(ax, Saddle(), filled=False)
    np.testing.assert_allclose(np.diff(cs.levels), np.diff(cs.levels)[0])
    assert not [line for line in ax.get_lines() if line.get_marker() == "*"]  # no minima


# -------------------------------------------------------------------------------- paths


def test_plot_paths_keeps_the_contour_limits_when_a_path_diverges():
    fig, ax = plotting.figure()
    ravine = Ravine(kappa=10)
    plotting.contour(ax, ravine)
    diverging = np.array([[-4.0, 1.0], [-3.0, -3.0], [-2.0, 1e200], [np.nan, np.nan]])
    lines = plotting.plot_paths(ax, {"SGD": diverging})
    assert ax.get_xlim() == ravine.bounds[0] and ax.get_ylim() == ravine.bounds[1]
    xy = lines["SGD"].get_xydata()
    assert np.all(np.abs(xy[np.isfinite(xy)]) <= 100)  # no 1e200 handed to the renderer
    _png(fig)  # and it renders


def test_visible_part_moves_the_exit_point_onto_the_box_along_the_segment():
    bounds = ((-1.0, 1.0), (-1.0, 1.0))
    path = np.array([[0.0, 0.0], [5.0, 0.0], [40.0, 20.0], [1e9, 0.0]])
    original = path.copy()
    out = plotting.visible_part(path, bounds, margin=10)
    np.testing.assert_array_equal(path, original)  # the input is not modified
    np.testing.assert_array_equal(out[:2], path[:2])
    # from (5, 0) towards (40, 20) until x = 10: s = 5/35, y = 20 * 5/35
    np.testing.assert_allclose(out[2], [10.0, 20 * 5 / 35])
    assert np.isnan(out[3]).all()


def test_plot_paths_styles_markers_and_start_ring():
    fig, ax = plotting.figure()
    plotting.contour(ax, Ravine())
    path = np.zeros((11, 2))
    lines = plotting.plot_paths(ax, {"Momentum": path, "mine": path}, legend=True)
    assert to_hex(lines["Momentum"].get_color()) == plotting.OKABE_ITO["blue"].lower()
    assert lines["Momentum"].get_linestyle() == "--"
    assert lines["mine"].get_color() == plotting.PALETTE[1]  # second entry of the dict
    assert lines["Momentum"].get_markevery() == 1  # short path: every iterate marked
    rings = [ln for ln in ax.get_lines() if ln.get_label() == "_start"]
    assert len(rings) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Momentum", "mine"]


def test_long_paths_get_about_25_markers():
    fig, ax = plotting.figure()
    lines = plotting.plot_paths(ax, {"SGD": np.zeros((501, 2))})
    assert 20 <= len(range(0, 501, lines["SGD"].get_markevery())) <= 30


# ------------------------------------------------------------------------------- losses


def test_plot_losses_clips_zeros_to_the_floor_and_keeps_nan_out():
    fig, ax = plotting.figure()
    loss = np.array([1.0, 0.1, 0.0, np.inf, np.nan])
    lines = plotting.plot_losses(ax, {"GD": loss})
    y = lines["GD"].get_ydata()
    assert y[2] == plotting.FLOOR and np.isnan(y[3]) and np.isnan(y[4])
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "f(θ) − f*"
    np.testing.assert_array_equal(lines["GD"].get_xdata(), [0, 1, 2, 3, 4])
    _png(fig)


def test_plot_losses_linear():
    fig, ax = plotting.figure()
    plotting.plot_losses(ax, {"GD": [-1.0, -2.0]}, log=False, ylabel="f(θ)")
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "f(θ)"


def test_suboptimality_of_a_diverged_path_is_nan_or_inf_without_warnings():
    path = np.array([[-1.0, 1.0], [1.0, 1.0], [1e200, 1e200], [np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gap = plotting.suboptimality(Rosenbrock(), path)
    assert gap[0] == 4.0 and gap[1] == 0.0 and np.isinf(gap[2]) and np.isnan(gap[3])


def test_loss_limits_let_diverging_curves_run_off_the_top():
    losses = {"a": np.array([2.0, 1e-3]), "b": np.array([1.0, 1e9, np.nan])}
    bottom, top = plotting.loss_limits(losses)
    assert top == 20.0 and math.isclose(bottom, 1e-3 / 3)
    assert plotting.loss_limits({"a": np.array([1.0, 0.0])})[0] == plotting.FLOOR


# ------------------------------------------------------------------------------ compare


def test_compare_two_panels_legend_below_title_and_no_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = plotting.compare(Ravine(kappa=10), {"SGD": SGD(lr=1.0), "Momentum": Momentum(lr=0.5)},
                           steps=50)
    assert plt.get_fignums() == before  # a bare Figure, not registered with pyplot
    assert isinstance(fig, Figure)
    ax_path, ax_loss = fig.axes
    assert ax_loss.get_yscale() == "log" and ax_loss.get_xlim() == (0, 50)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["SGD", "Momentum"]
    assert fig._suptitle.get_text() == Ravine(kappa=10).name
    assert fig._repr_png_().startswith(b"\x89PNG")  # shows itself in Jupyter


def test_compare_is_phone_readable():
    fig = plotting.compare(Rosenbrock(), {"SGD": SGD(lr=1e-3)}, steps=20)
    assert fig.get_figwidth() <= 7
    _png(fig)  # lays the figure out
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert texts and min(t.get_fontsize() for t in texts) >= 9


def test_compare_without_known_minimum_uses_a_linear_axis_of_f():
    fig = plotting.compare(Saddle(), {"SGD": SGD(lr=0.1)}, steps=10)
    assert fig.axes[1].get_yscale() == "linear" and fig.axes[1].get_ylabel() == "f(θ)"


def test_paths_of_runs_every_optimizer_from_the_same_start():
    paths = plotting.paths_of(Ravine(), {"a": SGD(lr=0.1), "b": SGD(lr=0.2)}, steps=5,
                              start=(1.0, 1.0))
    assert set(paths) == {"a", "b"}
    assert all(p.shape == (6, 2) and tuple(p[0]) == (1.0, 1.0) for p in paths.values())
