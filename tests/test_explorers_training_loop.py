"""Tests for optlib.explorers.training_loop: lockstep training, the sweep helpers and the
curves explorer. Small synthetic data keeps them fast; the digits sweep itself is
exercised by the chapter and by the generic explorer tests in test_widgets.py."""

import io

import numpy as np
import pytest

widgets = pytest.importorskip("ipywidgets")

from ipywidgets.widgets.widget_link import Link  # noqa: E402
from PIL import Image  # noqa: E402

from optlib import (  # noqa: E402
    MLP,
    SGD,
    Adam,
    DivergenceError,
    Momentum,
    make_classification,
    train,
    warmup_cosine,
)
from optlib.explorers import training_loop as tl  # noqa: E402

HISTORY_KEYS = ("loss", "lr", "grad_norm", "update_ratio", "epoch_loss", "train_accuracy",
                "val_loss", "val_accuracy")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(230, n_features=5, n_classes=3, seed=1)
    return X[:170], y[:170], X[170:], y[170:]


def assert_same_history(a, b, rtol=1e-10):
    for key in HISTORY_KEYS:
        np.testing.assert_allclose(getattr(a, key), getattr(b, key), rtol=rtol, atol=1e-15,
                                   err_msg=key)


# ----------------------------------------------------------------- lockstep == train()


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("make", [
    lambda lr: SGD(lr=lr),
    lambda lr: Momentum(lr=warmup_cosine(lr, warmup_steps=3, total_steps=24)),
    lambda lr: Adam(lr=warmup_cosine(lr / 10, warmup_steps=3, total_steps=24)),
])
def test_each_lockstep_run_is_exactly_a_train_call(data, activation, make):
    X, y, X_val, y_val = data
    model = MLP([5, 8, 3], activation=activation)
    lrs, seeds = [0.05, 0.3, 0.3], [0, 0, 7]
    runs = tl.train_together(model, [make(lr) for lr in lrs], X, y, seeds=seeds, epochs=4,
                             batch_size=32, clip_norm=0.5, X_val=X_val, y_val=y_val)
    assert len(runs) == 3 and not runs.diverged_at.any()
    for r, (lr, seed) in enumerate(zip(lrs, seeds)):
        params, history = train(model, model.init(seed), make(lr), X, y, seed=seed, epochs=4,
                                batch_size=32, clip_norm=0.5, X_val=X_val, y_val=y_val,
                                progress=False)
        assert len(history.loss) == 4 * 6  # ceil(170 / 32) = 6: the last batch (10) is kept
        assert_same_history(runs.history(r), history)
        for k in params:
            np.testing.assert_allclose(runs.params_of(r)[k], params[k], rtol=1e-10, atol=1e-14)


def test_a_diverging_run_stops_where_train_raises_and_the_others_go_on(data):
    X, y, X_val, y_val = data
    X = X * 10  # large inputs: a relu network with a huge rate overflows quickly
    model = MLP([5, 8, 3], activation="relu")
    lrs = [0.01, 1e6]
    runs = tl.train_together(model, [SGD(lr=lr) for lr in lrs], X, y, seeds=[0, 0],
                             epochs=6, batch_size=32, X_val=X_val, y_val=y_val)
    with pytest.raises(DivergenceError) as caught:
        train(model, model.init(0), SGD(lr=1e6), X, y, epochs=6, batch_size=32,
              X_val=X_val, y_val=y_val, progress=False)
    failed = len(caught.value.history.loss) + 1
    assert runs.diverged_at.tolist() == [0, failed]
    assert_same_history(runs.history(1), caught.value.history)
    assert np.all(np.isnan(runs.per_step["loss"][failed - 1 :, 1]))
    for k, p in runs.params_of(1).items():
        np.testing.assert_array_equal(p, caught.value.params[k])  # the last finite ones
    _, healthy = train(model, model.init(0), SGD(lr=0.01), X, y, epochs=6, batch_size=32,
                       X_val=X_val, y_val=y_val, progress=False)
    assert_same_history(runs.history(0), healthy)


def test_train_accuracy_can_be_skipped(data):
    X, y, _, _ = data
    model = MLP([5, 4, 3])
    runs = tl.train_together(model, [SGD(lr=0.1)], X, y, seeds=[0], epochs=2,
                             train_accuracy=False)
    assert np.all(np.isnan(runs.per_epoch["train_accuracy"]))
    assert "val_loss" not in runs.per_epoch


def test_evaluate_matches_the_model(data):
    X, y, X_val, y_val = data
    model = MLP([5, 8, 3])
    runs = tl.train_together(model, [SGD(lr=0.1), SGD(lr=0.5)], X, y, seeds=[0, 1], epochs=2)
    losses, accuracies = tl.evaluate(model, runs, X_val, y_val)
    for r in range(2):
        assert np.isclose(losses[r], model.loss(runs.params_of(r), X_val, y_val), rtol=1e-12)
        assert accuracies[r] == model.accuracy(runs.params_of(r), X_val, y_val)


def test_optimizers_must_share_class_and_hyperparameters(data):
    X, y, _, _ = data
    model = MLP([5, 4, 3])
    with pytest.raises(ValueError, match="one class"):
        tl.train_together(model, [SGD(lr=0.1), Momentum(lr=0.1)], X, y, seeds=[0, 1], epochs=1)
    with pytest.raises(ValueError, match="one class"):
        tl.train_together(model, [Momentum(beta=0.9), Momentum(beta=0.5)], X, y, seeds=[0, 1],
                          epochs=1)
    with pytest.raises(ValueError, match="one seed per optimizer"):
        tl.train_together(model, [SGD(lr=0.1)], X, y, seeds=[0, 1], epochs=1)
    with pytest.raises(TypeError, match="MLP"):
        tl.train_together(object(), [SGD(lr=0.1)], X, y, seeds=[0], epochs=1)


# ------------------------------------------------------------------ sweep helpers


def test_tune_picks_the_best_mean_accuracy_then_the_lower_loss():
    lrs = [0.1, 0.3, 1.0]
    accuracy = np.array([[0.90, 0.92], [0.95, 0.93], [0.95, 0.93]])
    loss = np.array([[0.3, 0.3], [0.2, 0.25], [0.2, 0.2]])
    assert tl.tune(accuracy, loss, lrs) == 1.0  # tie on accuracy: lower loss wins
    accuracy[2, 0] = np.nan  # a diverged seed: that rate never wins
    assert tl.tune(accuracy, loss, lrs) == 0.3


def test_grids_are_the_factors_times_the_centres():
    for name in tl.OPTIMIZERS:
        grid = tl.learning_rates(name)
        assert len(grid) == len(tl.FACTORS) and grid == sorted(grid)
        np.testing.assert_allclose(np.array(grid) / tl.CENTRES[name], tl.FACTORS)
        assert tl.make_optimizer(name, grid[0], steps_per_epoch=5).current_lr() == 0.0


def test_digits_split_scales_with_training_statistics_only():
    pytest.importorskip("sklearn")
    data = tl.digits_split()
    sizes = {k: len(v) for k, v in data.items()}
    assert sizes == {"X_train": 1077, "y_train": 1077, "X_val": 360, "y_val": 360,
                     "X_test": 360, "y_test": 360}
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0.0, atol=1e-12)
    stds = data["X_train"].std(axis=0)
    assert np.all((np.abs(stds - 1) < 1e-12) | (stds == 0))
    assert np.abs(data["X_val"].mean(axis=0)).max() > 0.05
    assert data["y_train"].dtype == np.int64 and set(data["y_test"].tolist()) <= set(range(10))


# ------------------------------------------------------------------ the curves explorer


def synthetic_curves(epochs=6):
    curves = {}
    for i, name in enumerate(["SGD", "Adam"]):
        for j, factor in enumerate(tl.FACTORS):
            accuracy = 1 - 0.5 * np.exp(-np.arange(1, epochs + 1) * (j + 1) / 4) - 0.01 * i
            curve = {"lr": 0.1 * factor, "tuned": j == 2, "val_accuracy": accuracy,
                     "epoch_loss": 2 * np.exp(-np.arange(epochs) * (j + 1) / 3),
                     "diverged_at": 0}
            curves[(name, factor)] = curve
    diverged = curves[("Adam", tl.FACTORS[-1])]
    diverged["diverged_at"] = 9
    diverged["val_accuracy"] = np.where(np.arange(epochs) < 2, 0.5, np.nan)
    diverged["epoch_loss"] = np.where(np.arange(epochs) < 2, 3.0, np.nan)
    return curves


def pixels(png):
    image = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    page = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(page, image).convert("RGB"))


def test_the_explorer_swaps_precomputed_frames_and_captions():
    e = tl.CurvesExplorer(synthetic_curves(), ["SGD", "Adam"], tl.FACTORS)
    box = e.widget
    assert isinstance(box, widgets.VBox) and set(e.controls) == {"optimizer", "factor"}
    frames = e.frames()
    assert len(frames) == 2 * len(tl.FACTORS)
    assert len({png for png, _ in frames.values()}) == len(frames)  # all pictures differ
    e.set(optimizer="Adam", factor=tl.FACTORS[0])
    assert e.values == {"optimizer": "Adam", "factor": tl.FACTORS[0]}
    assert (e.image.value, e.caption.value) == frames[("Adam", tl.FACTORS[0])]
    assert "α = 0.01" in e.caption.value and "tuned α = 0.1" in e.caption.value
    e.set(factor=1.0)
    assert "(its tuned rate)" in e.caption.value and "tuned α" not in e.caption.value
    e.set(factor=tl.FACTORS[-1])
    assert "diverged at step 9" in e.caption.value


def test_frames_are_the_figure_drawn_from_scratch():
    """Blitting over cached backgrounds gives the picture a full draw gives."""
    e = tl.CurvesExplorer(synthetic_curves(), ["SGD", "Adam"], tl.FACTORS)
    values = {"optimizer": "SGD", "factor": 3.0}
    blitted = pixels(e.render(values))
    e._draw(values)  # leaves the chosen lines' data in place
    for line in e.lines.values():
        line.set_animated(False)
    extra = []
    for ax, key in ((e.ax_acc, "val_accuracy"), (e.ax_loss, "epoch_loss")):
        for factor in tl.FACTORS:
            curve = e.curves[("SGD", factor)]
            style = ({"color": "0.3", "linestyle": "--", "linewidth": 1.3} if curve["tuned"]
                     else {"color": "0.72", "linestyle": "-", "linewidth": 0.9})
            extra += ax.plot(e.epochs, curve[key], zorder=1, **style)
    e.title.set_animated(False)
    e.canvas.draw()
    rgba = np.asarray(e.canvas.buffer_rgba()).astype(float)
    alpha = rgba[:, :, 3:] / 255
    full = rgba[:, :, :3] * alpha + 255 * (1 - alpha)  # on a white page, as blitted is
    differ = np.any(np.abs(blitted.astype(int) - full.astype(int)) > 40, axis=-1)
    assert differ.mean() < 0.01


def _links_to(target):
    from ipywidgets.widgets.widget import _instances

    return [w for w in _instances.values()
            if isinstance(w, Link) and w.target == (target, "selected_index")]


def test_static_view_links_both_sliders_to_stacks():
    e = tl.CurvesExplorer(synthetic_curves(), ["SGD", "Adam"], tl.FACTORS,
                          initial={"optimizer": "Adam", "factor": 0.3})
    names_slider, factor_slider, outer = e.static_view().children
    assert isinstance(outer, widgets.Stack) and len(outer.children) == 2
    assert outer.selected_index == names_slider.index == 1
    [link] = _links_to(outer)
    assert link.source == (names_slider, "index")
    for name, inner in zip(["SGD", "Adam"], outer.children):
        assert len(inner.children) == len(tl.FACTORS)
        assert inner.selected_index == factor_slider.index == 1
        [link] = _links_to(inner)
        assert link.source == (factor_slider, "index")
        for factor, frame in zip(tl.FACTORS, inner.children):
            image, caption = frame.children
            assert (image.value, caption.value) == e.frames()[(name, factor)]


def test_explorer_rejects_missing_curves_and_unknown_values():
    curves = synthetic_curves()
    del curves[("SGD", 1.0)]
    with pytest.raises(ValueError, match="no entry"):
        tl.CurvesExplorer(curves, ["SGD", "Adam"], tl.FACTORS)
    e = tl.CurvesExplorer(synthetic_curves(), ["SGD", "Adam"], tl.FACTORS)
    with pytest.raises(ValueError, match="not one of the slider's values"):
        e.render({"factor": 2.0})
    with pytest.raises(ValueError, match="unknown control"):
        e.set(lr=0.1)


def test_show_is_live_in_jupyter_and_frames_in_the_book(monkeypatch):
    e = tl.CurvesExplorer(synthetic_curves(), ["SGD", "Adam"], tl.FACTORS)
    monkeypatch.setenv("OPTLIB_BOOK_BUILD", "1")
    *sliders, outer = e.show().children
    assert len(sliders) == 2 and isinstance(outer, widgets.Stack) and e._widgets is None
    assert [len(inner.children) for inner in outer.children] == [len(tl.FACTORS)] * 2
    monkeypatch.delenv("OPTLIB_BOOK_BUILD")
    assert e.show() is e.widget
