"""Tests for optlib.models: hand-computed values, finite-difference gradients, validation."""

import math

import numpy as np
import pytest

from optlib.models import MLP, LogisticRegression, gradient_check, make_classification


def random_params(model, seed):
    """Parameters with every entry random (init() leaves biases at zero, which hides bugs)."""
    rng = np.random.default_rng(seed)
    return {key: rng.normal(0.0, 0.5, size=shape) for key, shape in model.param_shapes().items()}


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# ----------------------------------------------------------------------------------------
# LogisticRegression
# ----------------------------------------------------------------------------------------


def test_logistic_loss_at_zero_weights_is_log_2():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    y = np.array([0, 1, 1, 0, 1, 0, 0])
    model = LogisticRegression(3)
    assert model.loss(model.init(), X, y) == pytest.approx(math.log(2), rel=1e-12)


def test_logistic_loss_and_grad_by_hand():
    model = LogisticRegression(2)
    params = {"w": np.array([0.5, -0.25]), "b": np.array([0.1])}
    X = np.array([[1.0, 2.0], [3.0, 0.0]])
    y = np.array([1, 0])
    z = [0.5 * 1 - 0.25 * 2 + 0.1, 0.5 * 3 + 0.1]  # 0.1 and 1.6
    p = [sigmoid(z[0]), sigmoid(z[1])]
    expected_loss = (-math.log(p[0]) - math.log(1 - p[1])) / 2
    dz = [(p[0] - 1) / 2, (p[1] - 0) / 2]

    loss, grads = model.loss_and_grad(params, X, y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert model.loss(params, X, y) == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(grads["w"], [dz[0] * 1 + dz[1] * 3, dz[0] * 2], rtol=1e-12)
    np.testing.assert_allclose(grads["b"], [dz[0] + dz[1]], rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(params, X), p, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(params, X), [1, 1])
    assert model.accuracy(params, X, y) == 0.5


def test_logistic_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 4))
    y = rng.integers(0, 2, size=20)
    model = LogisticRegression(4)
    params = random_params(model, seed=2)
    error = gradient_check(lambda p: model.loss_and_grad(p, X, y), params)
    assert error < 1e-6


def test_logistic_loss_is_stable_for_huge_logits():
    model = LogisticRegression(1)
    params = {"w": np.array([1000.0]), "b": np.array([0.0])}
    X = np.array([[1.0], [-1.0]])
    # z = +1000 with label 0 and z = -1000 with label 1: each costs about 1000 nats.
    loss, grads = model.loss_and_grad(params, X, np.array([0, 1]))
    assert loss == pytest.approx(1000.0)
    assert np.isfinite(grads["w"]).all() and np.isfinite(grads["b"]).all()
    # Correct confident predictions cost about exp(-1000), i.e. 0, without a warning.
    assert model.loss(params, X, np.array([1, 0])) == pytest.approx(0.0, abs=1e-300)


def test_logistic_accepts_float_and_bool_labels():
    model = LogisticRegression(2)
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    params = random_params(model, seed=0)
    expected = model.loss(params, X, np.array([1, 0]))
    assert model.loss(params, X, np.array([1.0, 0.0])) == expected
    assert model.loss(params, X, np.array([True, False])) == expected


# ----------------------------------------------------------------------------------------
# MLP
# ----------------------------------------------------------------------------------------


def test_mlp_param_shapes_and_init():
    model = MLP([4, 8, 5, 3])
    params = model.init(seed=0)
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert params["W1"].shape == (4, 8) and params["b1"].shape == (8,)
    assert params["W2"].shape == (8, 5) and params["b2"].shape == (5,)
    assert params["W3"].shape == (5, 3) and params["b3"].shape == (3,)
    assert all(value.dtype == np.float64 for value in params.values())
    assert all(np.all(params[b] == 0) for b in ("b1", "b2", "b3"))


def test_mlp_init_is_deterministic_per_seed():
    model = MLP([3, 4, 2])
    a, b, c = model.init(seed=5), model.init(seed=5), model.init(seed=6)
    np.testing.assert_array_equal(a["W1"], b["W1"])
    assert not np.allclose(a["W1"], c["W1"])


@pytest.mark.parametrize(
    ("activation", "expected_std"),
    [("tanh", math.sqrt(2 / (400 + 300))), ("relu", math.sqrt(2 / 400))],
)
def test_mlp_init_scale_is_glorot_for_tanh_and_he_for_relu(activation, expected_std):
    params = MLP([400, 300, 2], activation=activation).init(seed=0)
    assert np.std(params["W1"]) == pytest.approx(expected_std, rel=0.02)
    assert abs(np.mean(params["W1"])) < 0.1 * expected_std


def test_mlp_loss_with_zero_last_layer_is_log_n_classes():
    model = MLP([3, 6, 5])
    params = model.init(seed=1)
    params["W2"] = np.zeros_like(params["W2"])
    X = np.random.default_rng(0).normal(size=(9, 3))
    y = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3])
    assert model.loss(params, X, y) == pytest.approx(math.log(5), rel=1e-12)


def test_tiny_mlp_forward_and_backward_by_hand():
    # One input, one tanh hidden unit, two classes.
    model = MLP([1, 1, 2], activation="tanh")
    x, w1, b1 = 0.5, 2.0, -0.3
    params = {
        "W1": np.array([[w1]]),
        "b1": np.array([b1]),
        "W2": np.array([[1.5, -0.5]]),
        "b2": np.array([0.2, 0.0]),
    }
    h = math.tanh(w1 * x + b1)  # tanh(0.7)
    logits = [1.5 * h + 0.2, -0.5 * h]
    p0 = math.exp(logits[0]) / (math.exp(logits[0]) + math.exp(logits[1]))
    expected_loss = -math.log(1 - p0)  # the label is class 1

    loss, grads = model.loss_and_grad(params, np.array([[x]]), np.array([1]))
    assert loss == pytest.approx(expected_loss, rel=1e-12)

    dlogits = [p0 - 0, (1 - p0) - 1]  # softmax - onehot(1)
    dh = dlogits[0] * 1.5 + dlogits[1] * (-0.5)
    dz1 = dh * (1 - h**2)
    np.testing.assert_allclose(grads["W2"], [[h * dlogits[0], h * dlogits[1]]], rtol=1e-12)
    np.testing.assert_allclose(grads["b2"], dlogits, rtol=1e-12)
    np.testing.assert_allclose(grads["W1"], [[x * dz1]], rtol=1e-12)
    np.testing.assert_allclose(grads["b1"], [dz1], rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(params, np.array([[x]])), [[p0, 1 - p0]])
    assert model.predict(params, np.array([[x]]))[0] == (0 if p0 > 0.5 else 1)


def test_relu_mlp_forward_by_hand():
    model = MLP([2, 2, 2], activation="relu")
    params = {
        "W1": np.array([[1.0, -1.0], [2.0, 1.0]]),
        "b1": np.array([0.0, -5.0]),
        "W2": np.array([[1.0, 0.0], [0.0, 1.0]]),
        "b2": np.array([0.0, 0.5]),
    }
    # Hidden pre-activations for x = (1, 1): (3, -5); relu gives (3, 0); logits (3, 0.5).
    probs = model.predict_proba(params, np.array([[1.0, 1.0]]))
    expected = np.exp([3.0, 0.5]) / np.exp([3.0, 0.5]).sum()
    np.testing.assert_allclose(probs, [expected], rtol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 4))
    y = rng.integers(0, 3, size=16)
    model = MLP([4, 6, 5, 3], activation=activation)
    params = random_params(model, seed=4)
    error = gradient_check(lambda p: model.loss_and_grad(p, X, y), params)
    assert error < 1e-6


def test_mlp_loss_is_stable_for_huge_logits():
    model = MLP([1, 2])
    params = {"W1": np.array([[1000.0, -1000.0]]), "b1": np.zeros(2)}
    loss, grads = model.loss_and_grad(params, np.array([[1.0]]), np.array([1]))
    assert loss == pytest.approx(2000.0)
    assert all(np.isfinite(g).all() for g in grads.values())


def test_loss_and_grad_agree_with_loss_and_do_not_mutate_params():
    model = MLP([3, 4, 2])
    params = random_params(model, seed=0)
    before = {key: value.copy() for key, value in params.items()}
    X = np.random.default_rng(1).normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])
    loss, grads = model.loss_and_grad(params, X, y)
    assert loss == model.loss(params, X, y)
    assert list(grads) == list(params)
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])


def test_grads_follow_the_params_key_order_and_dtype():
    model = MLP([2, 3, 2])
    params = {key: value.astype(np.float32) for key, value in model.init().items()}
    reordered = {key: params[key] for key in ["b2", "W1", "W2", "b1"]}
    _, grads = model.loss_and_grad(reordered, np.ones((2, 2)), np.array([0, 1]))
    assert list(grads) == ["b2", "W1", "W2", "b1"]
    assert all(g.dtype == np.float32 for g in grads.values())


def test_mlp_predict_and_accuracy():
    model = MLP([2, 3])
    params = {"W1": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "b1": np.array([0, 0, 0.5])}
    X = np.array([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(model.predict(params, X), [0, 1, 2, 0])
    assert model.accuracy(params, X, np.array([0, 1, 2, 1])) == 0.75


# ----------------------------------------------------------------------------------------
# gradient_check
# ----------------------------------------------------------------------------------------


def quadratic(theta):
    """L = sum(theta**2) over all arrays, gradient 2 theta."""
    if isinstance(theta, np.ndarray):
        return float(np.sum(theta**2)), 2 * theta
    return float(sum(np.sum(t**2) for t in theta)), [2 * t for t in theta]


def test_gradient_check_on_array_and_list_and_does_not_mutate():
    theta = np.array([[1.0, -2.0], [0.5, 3.0]])
    theta_list = [np.array([1.0, 2.0]), np.array([[-3.0]])]
    copies = theta.copy(), [t.copy() for t in theta_list]
    assert gradient_check(quadratic, theta) < 1e-8
    assert gradient_check(quadratic, theta_list) < 1e-8
    np.testing.assert_array_equal(theta, copies[0])
    for t, c in zip(theta_list, copies[1], strict=True):
        np.testing.assert_array_equal(t, c)


def test_gradient_check_detects_a_wrong_gradient():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, size=10)
    model = MLP([3, 4, 2])
    params = random_params(model, seed=1)

    def scaled(p):  # 10% too large everywhere: rel_err = 0.1 / 2.1 ≈ 0.048
        loss, grads = model.loss_and_grad(p, X, y)
        return loss, {key: 1.1 * g for key, g in grads.items()}

    def sign_flipped_bias(p):  # one wrong sign: rel_err = 1
        loss, grads = model.loss_and_grad(p, X, y)
        return loss, {**grads, "b1": -grads["b1"]}

    assert gradient_check(scaled, params) == pytest.approx(0.1 / 2.1, rel=1e-4)
    assert gradient_check(sign_flipped_bias, params) == pytest.approx(1.0, abs=1e-6)


def test_gradient_check_with_n_checks_samples_entries():
    calls = []

    def counting(theta):
        calls.append(1)
        return quadratic(theta)

    theta = np.arange(20.0).reshape(4, 5) + 1.0
    assert gradient_check(counting, theta, n_checks=3, seed=1) < 1e-8
    assert len(calls) == 1 + 2 * 3

    def wrong_last(theta):  # only the last entry is wrong: not every sample catches it
        loss, grad = quadratic(theta)
        grad = grad.copy()
        grad.reshape(-1)[-1] *= -1
        return loss, grad

    assert gradient_check(wrong_last, theta) == pytest.approx(1.0)
    assert gradient_check(wrong_last, theta, n_checks=100) == pytest.approx(1.0)


def test_gradient_check_exact_zero_gradients_give_zero_error():
    assert gradient_check(lambda t: (0.0, np.zeros_like(t)), np.ones(3)) == 0.0


def test_gradient_check_rejects_bad_arguments():
    theta = np.ones(2)
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, got 0"):
        gradient_check(quadratic, theta, eps=0)
    with pytest.raises(ValueError, match=r"n_checks must be an integer >= 1, got 0"):
        gradient_check(quadratic, theta, n_checks=0)
    with pytest.raises(TypeError, match=r"f must be a function"):
        gradient_check("not a function", theta)
    with pytest.raises(ValueError, match=r"grads must have the shape of its parameter"):
        gradient_check(lambda t: (0.0, np.zeros(3)), theta)
    with pytest.raises(TypeError, match=r"floating-point"):
        gradient_check(quadratic, np.array([1, 2]))


# ----------------------------------------------------------------------------------------
# make_classification
# ----------------------------------------------------------------------------------------


def test_make_classification_shapes_balance_and_determinism():
    X, y = make_classification(101, n_features=3, n_classes=4, seed=7)
    assert X.shape == (101, 3) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=4)
    assert counts.sum() == 101 and counts.max() - counts.min() <= 1
    X2, y2 = make_classification(101, n_features=3, n_classes=4, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_classification(101, n_features=3, n_classes=4, seed=8)
    assert not np.allclose(X, X3)
    assert not np.array_equal(y, np.arange(101) % 4)  # shuffled, not in a fixed pattern


def test_make_classification_well_separated_classes_are_separable():
    X, y = make_classification(300, n_features=2, n_classes=3, seed=0, class_sep=20.0)
    means = np.array([X[y == k].mean(axis=0) for k in range(3)])
    nearest = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == y) > 0.95


def test_make_classification_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"n_samples must be an integer >= 1, got 0"):
        make_classification(0)
    with pytest.raises(ValueError, match=r"n_classes must be an integer >= 2, got 1"):
        make_classification(10, n_classes=1)
    with pytest.raises(ValueError, match=r"class_sep must be a finite number > 0, got -1"):
        make_classification(10, class_sep=-1)
    with pytest.raises(TypeError, match=r"n_features must be an integer >= 1, got 2.5"):
        make_classification(10, n_features=2.5)


# ----------------------------------------------------------------------------------------
# Input validation
# ----------------------------------------------------------------------------------------


def test_models_reject_bad_architectures():
    with pytest.raises(ValueError, match=r"n_features must be an integer >= 1, got 0"):
        LogisticRegression(0)
    with pytest.raises(TypeError, match=r"n_features must be an integer >= 1, got True"):
        LogisticRegression(True)
    with pytest.raises(TypeError, match=r"sizes must be a list"):
        MLP(10)
    with pytest.raises(ValueError, match=r"sizes must list at least"):
        MLP([10])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be an integer >= 1, got 0"):
        MLP([4, 0, 3])
    with pytest.raises(ValueError, match=r"sizes\[-1\] is the number of classes .* got 1"):
        MLP([4, 1])
    expected = r"activation must be one of \('tanh', 'relu'\), got 'sigmoid'"
    with pytest.raises(ValueError, match=expected):
        MLP([4, 3], activation="sigmoid")


def test_models_reject_bad_X():
    model = MLP([3, 2])
    params = model.init()
    with pytest.raises(ValueError, match=r"X must be a 2-D array .* got shape \(3,\).*reshape"):
        model.loss(params, np.ones(3), np.array([0]))
    with pytest.raises(ValueError, match=r"X must have 3 columns .* got 4"):
        model.loss(params, np.ones((2, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"X must have at least one row"):
        model.predict(params, np.ones((0, 3)))
    with pytest.raises(ValueError, match=r"X must hold finite numbers, but row 1 is \[.*nan"):
        model.loss(params, np.array([[0.0, 0, 0], [0, np.nan, 0]]), np.array([0, 1]))
    with pytest.raises(TypeError, match=r"X must hold numbers, got dtype <U1"):
        model.predict(params, np.array([["a", "b", "c"]]))


def test_models_reject_bad_labels():
    mlp, logistic = MLP([2, 3]), LogisticRegression(2)
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"y has 2 labels but X has 3 rows"):
        mlp.loss(mlp.init(), X, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y must be a 1-D array of labels, got shape \(3, 1\)"):
        mlp.loss(mlp.init(), X, np.zeros((3, 1), dtype=int))
    expected = r"y must hold class labels 0\.\.2 .* got labels from 0 to 3"
    with pytest.raises(ValueError, match=expected):
        mlp.loss_and_grad(mlp.init(), X, np.array([0, 3, 1]))
    with pytest.raises(ValueError, match=r"labels from -1 to 1"):
        mlp.accuracy(mlp.init(), X, np.array([0, -1, 1]))
    with pytest.raises(TypeError, match=r"y must hold integer class labels .* got dtype float64"):
        mlp.loss(mlp.init(), X, np.array([0.0, 1.0, 2.0]))
    expected = r"y must hold binary labels 0 or 1, got values such as \[2"
    with pytest.raises(ValueError, match=expected):
        logistic.loss(logistic.init(), X, np.array([0, 2, 1]))
    with pytest.raises(ValueError, match=r"binary labels 0 or 1, got values such as \[0.5\]"):
        logistic.loss_and_grad(logistic.init(), X, np.array([0, 0.5, 1]))


def test_models_reject_bad_params():
    model = MLP([3, 4, 2])
    X, y = np.ones((2, 3)), np.array([0, 1])
    params = model.init()
    expected = r"params must be a dict with keys \['W1', 'b1', 'W2', 'b2'\]"
    with pytest.raises(TypeError, match=expected):
        model.loss([params["W1"]], X, y)
    with pytest.raises(ValueError, match=r"missing \['b2'\], unexpected \[\]"):
        model.loss({k: v for k, v in params.items() if k != "b2"}, X, y)
    expected = r"params\['W1'\] must have shape \(3, 4\) .* got \(4, 3\)"
    with pytest.raises(ValueError, match=expected):
        model.loss({**params, "W1": params["W1"].T}, X, y)
    with pytest.raises(TypeError, match=r"params\['b1'\] must be a floating-point numpy array"):
        model.loss({**params, "b1": np.zeros(4, dtype=int)}, X, y)
