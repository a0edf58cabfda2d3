"""Tests for optlib.training.train: minibatches, learning rates, clipping, divergence."""

import math
import re

import numpy as np
import pytest

from optlib.models import MLP, LogisticRegression, make_classification
from optlib.optimizers import SGD, Adam
from optlib.training import DivergenceError, History, train


def norm_of(tree):
    """Global L2 norm over the arrays of a dict, computed here independently of optlib."""
    return math.sqrt(sum(float(np.sum(np.asarray(v, dtype=float) ** 2)) for v in tree.values()))


class RecordingModel:
    """Wraps a model; remembers every minibatch and the norm of every raw gradient."""

    def __init__(self, model):
        self.model = model
        self.batches = []
        self.grad_norms = []

    def loss_and_grad(self, params, X, y):
        self.batches.append((X.copy(), y.copy()))
        loss, grads = self.model.loss_and_grad(params, X, y)
        self.grad_norms.append(norm_of(grads))
        return loss, grads

    def loss(self, params, X, y):
        return self.model.loss(params, X, y)

    def accuracy(self, params, X, y):
        return self.model.accuracy(params, X, y)


class RecordingOptimizer:
    """Wraps an optimizer; remembers the params and grads of every step."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.steps = []  # (params, grads, new_params)

    def current_lr(self):
        return self.optimizer.current_lr()

    def step(self, params, grads):
        new_params = self.optimizer.step(params, grads)
        self.steps.append((params, grads, new_params))
        return new_params


class LeastSquares:
    """Linear regression, L = mean((X w - y)^2) / 2: its gradient grows with w, so a too
    large learning rate makes w (and the loss) grow geometrically until they overflow."""

    def loss_and_grad(self, params, X, y):
        residual = X @ params["w"] - y
        return float(np.mean(residual**2) / 2), {"w": X.T @ residual / len(y)}

    def loss(self, params, X, y):
        return self.loss_and_grad(params, X, y)[0]

    def accuracy(self, params, X, y):
        return 0.0


@pytest.fixture(scope="module")
def blobs():
    return make_classification(50, n_features=2, n_classes=3, seed=0, class_sep=3.0)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(60, n_features=3, n_classes=2, seed=1)
    return X, y


def test_sgd_reduces_the_loss_of_logistic_regression(binary):
    X, y = binary
    model = LogisticRegression(3)
    params, history = train(
        model, model.init(), SGD(lr=0.5), X, y, epochs=10, batch_size=8, progress=False
    )
    assert model.loss(params, X, y) < 0.5 * math.log(2)
    assert history.epoch_loss[-1] < history.epoch_loss[0]
    assert history.train_accuracy[-1] == model.accuracy(params, X, y) > 0.8


def test_adam_reduces_the_loss_of_an_mlp(blobs):
    X, y = blobs
    model = MLP([2, 8, 3])
    start = model.init(seed=0)
    params, history = train(
        model, start, Adam(lr=0.05), X, y, epochs=15, batch_size=10, progress=False
    )
    assert model.loss(params, X, y) < 0.5 * model.loss(start, X, y)
    assert history.epoch_loss[-1] < 0.5 * history.epoch_loss[0]


def test_every_sample_is_used_once_per_epoch_including_the_last_partial_batch(blobs):
    X, y = blobs  # 50 samples, batches of 16: 16 + 16 + 16 + 2
    model = RecordingModel(MLP([2, 4, 3]))
    opt = SGD(lr=0.1)
    _, history = train(
        model, model.model.init(), opt, X, y, epochs=3, batch_size=16, progress=False
    )
    steps_per_epoch = math.ceil(50 / 16)
    assert opt.t == 3 * steps_per_epoch == 12
    assert len(history.loss) == len(history.lr) == 12
    assert len(history.grad_norm) == len(history.update_ratio) == 12
    assert len(history.epoch_loss) == len(history.train_accuracy) == 3
    assert [len(batch_y) for _, batch_y in model.batches] == [16, 16, 16, 2] * 3

    def sorted_rows(A):
        return A[np.lexsort(A.T[::-1])]

    for epoch in range(3):
        batches = model.batches[4 * epoch : 4 * epoch + 4]
        seen_X = np.concatenate([batch_X for batch_X, _ in batches])
        seen_y = np.concatenate([batch_y for _, batch_y in batches])
        seen = np.column_stack([seen_X, seen_y])  # each sample with its label
        np.testing.assert_array_equal(sorted_rows(seen), sorted_rows(np.column_stack([X, y])))
    # The order changes from epoch to epoch.
    assert not np.array_equal(model.batches[0][0], model.batches[4][0])


def test_epoch_loss_is_the_batch_size_weighted_mean(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    _, history = train(
        model, model.init(), SGD(lr=0.1), X, y, epochs=2, batch_size=16, progress=False
    )
    for epoch in range(2):
        losses = history.loss[4 * epoch : 4 * epoch + 4]
        expected = (16 * (losses[0] + losses[1] + losses[2]) + 2 * losses[3]) / 50
        assert history.epoch_loss[epoch] == pytest.approx(expected, rel=1e-12)


def test_a_batch_larger_than_the_data_set_is_one_full_batch(blobs):
    X, y = blobs
    model = RecordingModel(MLP([2, 4, 3]))
    opt = SGD(lr=0.1)
    train(model, model.model.init(), opt, X, y, epochs=2, batch_size=1000, progress=False)
    assert opt.t == 2
    assert [len(batch_y) for _, batch_y in model.batches] == [50, 50]


def test_same_seed_same_history_and_different_seed_different_batches(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])

    def run(seed):
        recorder = RecordingModel(model)
        params, history = train(
            recorder,
            model.init(),
            Adam(lr=0.01),
            X,
            y,
            epochs=2,
            batch_size=8,
            seed=seed,
            progress=False,
        )
        return params, history, recorder.batches

    params_a, history_a, batches_a = run(seed=3)
    params_b, history_b, batches_b = run(seed=3)
    _, history_c, batches_c = run(seed=4)
    assert history_a.as_dict() == history_b.as_dict()
    for key in params_a:
        np.testing.assert_array_equal(params_a[key], params_b[key])
    assert not np.array_equal(batches_a[0][0], batches_c[0][0])
    assert history_a.loss != history_c.loss


def test_a_schedule_given_as_the_optimizers_lr_is_used_not_overridden(blobs):
    X, y = blobs

    def halving(t):
        return 0.1 * 0.5**t

    model = RecordingModel(MLP([2, 4, 3]))
    opt = RecordingOptimizer(SGD(lr=halving))
    _, history = train(
        model, model.model.init(), opt, X, y, epochs=2, batch_size=20, progress=False
    )
    # The optimizers' convention: the first update uses lr(0), the k-th lr(k-1).
    assert history.lr == [halving(t) for t in range(6)]
    # And SGD really moved by lr(t) * g, so that rate is the one applied.
    for t, (params, grads, new_params) in enumerate(opt.steps):
        for key in params:
            np.testing.assert_allclose(
                params[key] - new_params[key], halving(t) * grads[key], rtol=1e-12, atol=1e-15
            )


def test_a_constant_lr_is_recorded_and_left_alone(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    opt = Adam(lr=0.02)
    _, history = train(model, model.init(), opt, X, y, epochs=2, batch_size=25, progress=False)
    assert history.lr == [0.02] * 4
    assert opt.lr == 0.02


def test_clipping_bounds_what_the_optimizer_sees_and_records_the_norm_before(blobs):
    X, y = blobs
    clip_norm = 0.2
    model = RecordingModel(MLP([2, 8, 3]))
    opt = RecordingOptimizer(SGD(lr=0.5))
    _, history = train(
        model,
        model.model.init(),
        opt,
        X,
        y,
        epochs=3,
        batch_size=10,
        clip_norm=clip_norm,
        progress=False,
    )
    np.testing.assert_allclose(history.grad_norm, model.grad_norms, rtol=1e-10)
    assert max(history.grad_norm) > 2 * clip_norm  # clipping really happened
    for raw_norm, (params, grads, new_params) in zip(history.grad_norm, opt.steps, strict=True):
        assert norm_of(grads) == pytest.approx(min(raw_norm, clip_norm), rel=1e-10)
        update = {key: new_params[key] - params[key] for key in params}
        assert norm_of(update) <= 0.5 * clip_norm * (1 + 1e-10)


def test_update_ratio_is_update_norm_over_params_norm(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    opt = RecordingOptimizer(Adam(lr=0.01))
    _, history = train(model, model.init(), opt, X, y, epochs=1, batch_size=25, progress=False)
    for ratio, (params, _, new_params) in zip(history.update_ratio, opt.steps, strict=True):
        update = {key: new_params[key] - params[key] for key in params}
        assert ratio == pytest.approx(norm_of(update) / norm_of(params), rel=1e-10)


def test_update_ratio_is_nan_when_the_params_are_all_zero(binary):
    X, y = binary
    model = LogisticRegression(3)
    _, history = train(
        model, model.init(), SGD(lr=0.1), X, y, epochs=1, batch_size=30, progress=False
    )
    assert math.isnan(history.update_ratio[0])
    assert math.isfinite(history.update_ratio[1]) and history.update_ratio[1] > 0


def test_validation_metrics(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    X_val, y_val = make_classification(20, n_features=2, n_classes=3, seed=0, class_sep=3.0)
    params, history = train(
        model, model.init(), Adam(lr=0.01), X, y, epochs=3, X_val=X_val, y_val=y_val, progress=False
    )
    assert len(history.val_loss) == len(history.val_accuracy) == 3
    assert history.val_loss[-1] == model.loss(params, X_val, y_val)
    assert history.val_accuracy[-1] == model.accuracy(params, X_val, y_val)

    _, without = train(model, model.init(), Adam(lr=0.01), X, y, epochs=3, progress=False)
    assert without.val_loss == [] and without.val_accuracy == []


def test_history_as_dict_holds_plain_float_lists_and_is_a_copy(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    _, history = train(model, model.init(), SGD(lr=0.1), X, y, epochs=1, progress=False)
    as_dict = history.as_dict()
    assert set(as_dict) == {
        "loss",
        "lr",
        "grad_norm",
        "update_ratio",
        "epoch_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
    }
    assert all(type(v) is float for values in as_dict.values() for v in values)
    as_dict["loss"].clear()
    assert len(history.loss) == 2
    assert isinstance(history, History)


def test_params_passed_in_are_not_mutated(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    start = model.init()
    before = {key: value.copy() for key, value in start.items()}
    params, _ = train(model, start, Adam(lr=0.05), X, y, epochs=2, progress=False)
    for key in start:
        np.testing.assert_array_equal(start[key], before[key])
        assert params[key] is not start[key]
        assert not np.array_equal(params[key], start[key])


def test_divergence_with_a_huge_learning_rate_raises_with_history_and_finite_params(blobs):
    X, y = blobs
    model = MLP([2, 16, 3], activation="relu")
    opt = RecordingOptimizer(SGD(lr=1e6))
    with pytest.raises(DivergenceError, match=r"learning rate 1e\+06") as caught:
        train(model, model.init(), opt, X, y, epochs=50, batch_size=10, progress=False)
    error = caught.value
    assert isinstance(error, FloatingPointError)
    assert "smaller learning rate" in str(error) and "clip_norm" in str(error)
    assert re.search(r"epoch \d+ of 50, step \d+ ", str(error))
    assert 0 < len(error.history.loss) < 50 * 5
    assert len(error.history.lr) == len(error.history.loss)
    assert all(np.isfinite(error.history.loss))
    assert all(np.isfinite(value).all() for value in error.params.values())
    assert set(error.params) == set(model.param_shapes())
    for _, grads, _ in opt.steps:  # the optimizer never saw a non-finite gradient
        assert all(np.isfinite(g).all() for g in grads.values())


def test_divergence_stops_before_the_optimizer_steps_on_a_non_finite_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    opt = SGD(lr=50.0)  # far above 2 / (largest curvature): |w| grows ~50x per step
    with pytest.raises(DivergenceError, match=r"the loss is inf at learning rate 50") as caught:
        train(
            LeastSquares(),
            {"w": np.zeros(3)},
            opt,
            X,
            y,
            epochs=1000,
            batch_size=20,
            progress=False,
        )
    error = caught.value
    steps_done = len(error.history.loss)
    assert opt.t == steps_done  # the failing step was not taken
    assert f"step {steps_done + 1} " in str(error)
    assert np.isfinite(error.params["w"]).all()
    # .params are the parameters the failing step started from: their loss is inf.
    with np.errstate(over="ignore"):
        assert LeastSquares().loss(error.params, X, y) == math.inf
    assert error.history.loss[-1] > 1e100


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, r"epochs must be an integer >= 1, got 0"),
        ({"epochs": 2.0}, TypeError, r"epochs must be an integer >= 1, got 2.0"),
        ({"epochs": 1, "batch_size": 0}, ValueError, r"batch_size must be an integer >= 1, got 0"),
        (
            {"epochs": 1, "clip_norm": 0},
            ValueError,
            r"clip_norm must be a finite number > 0, got 0$",
        ),
        ({"epochs": 1, "clip_norm": "1"}, TypeError, r"clip_norm must be a finite number > 0"),
        ({"epochs": 1, "X_val": np.ones((2, 2))}, ValueError, r"X_val and y_val must be given"),
        ({"epochs": 1, "y_val": np.ones(2)}, ValueError, r"X_val and y_val must be given"),
    ],
)
def test_train_rejects_bad_arguments(blobs, kwargs, error, message):
    X, y = blobs
    model = MLP([2, 4, 3])
    with pytest.raises(error, match=message):
        train(model, model.init(), SGD(), X, y, progress=False, **kwargs)


def test_train_rejects_bad_data_model_and_optimizer(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    expected = r"X and y must have one row per sample.*\(50, 2\).*\(49,\)"
    with pytest.raises(ValueError, match=expected):
        train(model, model.init(), SGD(), X, y[:-1], epochs=1, progress=False)
    bad_y = y.copy()
    bad_y[-1] = 7  # caught before training, not when its minibatch comes up
    opt = SGD()
    with pytest.raises(ValueError, match=r"y must hold class labels 0\.\.2"):
        train(model, model.init(), opt, X, bad_y, epochs=1, progress=False)
    assert opt.t == 0
    with pytest.raises(ValueError, match=r"X must have 2 columns"):
        train(
            model,
            model.init(),
            SGD(),
            X,
            y,
            epochs=1,
            X_val=np.ones((3, 5)),
            y_val=np.zeros(3, dtype=int),
            progress=False,
        )
    with pytest.raises(TypeError, match=r"model must have a loss_and_grad\(params, X, y\) method"):
        train(object(), model.init(), SGD(), X, y, epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"optimizer must have a step\(\) method"):
        train(model, model.init(), "adam", X, y, epochs=1, progress=False)


def test_progress_bar_shows_the_loss(blobs, capsys):
    X, y = blobs
    model = MLP([2, 4, 3])
    train(model, model.init(), SGD(lr=0.1), X, y, epochs=2, progress=True)
    assert "loss=" in capsys.readouterr().err
    train(model, model.init(), SGD(lr=0.1), X, y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""


# ------------------------------------------------- train_together: R runs of train() at once


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam with a schedule"])
def test_each_lockstep_run_is_exactly_a_train_call(activation, optimizer):
    from optlib.explorers import training_loop
    from optlib.schedules import warmup_cosine
    from optlib.training import Runs, train_together

    assert training_loop.train_together is train_together  # the old import path still works

    def make(lr):
        if optimizer == "SGD":
            return SGD(lr=lr)
        return Adam(lr=warmup_cosine(lr / 10, warmup_steps=3, total_steps=18))

    X, y = make_classification(200, n_features=4, n_classes=3, seed=2)
    X, y, X_val, y_val = X[:150], y[:150], X[150:], y[150:]
    model = MLP([4, 6, 3], activation=activation)
    lrs, seeds = [0.05, 0.4, 0.4], [0, 0, 5]
    runs = train_together(model, [make(lr) for lr in lrs], X, y, seeds=seeds, epochs=3,
                          batch_size=25, clip_norm=0.5, X_val=X_val, y_val=y_val)
    assert isinstance(runs, Runs) and len(runs) == 3 and not runs.diverged_at.any()
    for r, (lr, seed) in enumerate(zip(lrs, seeds)):
        params, history = train(model, model.init(seed), make(lr), X, y, seed=seed, epochs=3,
                                batch_size=25, clip_norm=0.5, X_val=X_val, y_val=y_val,
                                progress=False)
        together = runs.history(r)
        for key in ("loss", "lr", "grad_norm", "update_ratio", "epoch_loss",
                    "train_accuracy", "val_loss", "val_accuracy"):
            expected = getattr(history, key)
            assert len(expected) == (3 * 6 if key in ("loss", "lr", "grad_norm",
                                                      "update_ratio") else 3)
            np.testing.assert_allclose(getattr(together, key), expected, rtol=1e-10,
                                       atol=1e-15, err_msg=key)
        for k in params:
            np.testing.assert_allclose(runs.params_of(r)[k], params[k], rtol=1e-10, atol=1e-14)
