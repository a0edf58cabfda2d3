"""optlib.exploding: BPTT gradients against finite differences, the explosion, clipping."""

import math

import numpy as np
import pytest

from optlib import SGD, Ravine, trajectory
from optlib.clipping import clip_by_global_norm, clip_by_value
from optlib.exploding import Clipped, OneUnitRNN

RNNS = {
    "default": OneUnitRNN(),
    "short": OneUnitRNN(T=3),
    "offset": OneUnitRNN(T=12, h0=-0.5, target=-0.3),
    "inputs": OneUnitRNN(T=8, h0=0.2, target=0.4,
                         inputs=np.random.default_rng(3).normal(size=8).tolist()),
}


def central_differences(f, w, u, h):
    """(dJ/dw, dJ/du) by central differences, written independently of the class."""
    return ((f(w + h, u) - f(w - h, u)) / (2 * h), (f(w, u + h) - f(w, u - h)) / (2 * h))


def loss_by_hand(rnn, w, u):
    """The forward pass again, in plain Python, as the docstring states it."""
    h = rnn.h0
    for x in rnn.inputs:
        h = math.tanh(w * h + u * x)
    return 0.5 * (h - rnn.target) ** 2


# ------------------------------------------------------------------- gradients (BPTT)


@pytest.mark.parametrize("name", RNNS)
def test_value_is_the_forward_pass_of_the_docstring(name):
    rnn = RNNS[name]
    rng = np.random.default_rng(0)
    for w, u in rng.uniform(-3, 3, size=(20, 2)):
        assert rnn.value(float(w), float(u)) == pytest.approx(loss_by_hand(rnn, w, u), rel=1e-13)


@pytest.mark.parametrize("name", RNNS)
def test_bptt_gradient_matches_central_differences(name):
    rnn = RNNS[name]
    rng = np.random.default_rng(1)
    checked = 0
    for w, u in rng.uniform([-1.5, -1.5], [3.0, 1.5], size=(60, 2)):
        w, u = float(w), float(u)
        gw, gu = rnn.grad(w, u)
        nw, nu = central_differences(rnn.value, w, u, h=1e-6)
        scale = 1e-6 * (1 + abs(nw) + abs(nu))
        assert abs(gw - nw) < scale and abs(gu - nu) < scale, (w, u)
        checked += 1
    assert checked == 60


def test_bptt_gradient_on_the_cliff_matches_finer_differences():
    """Near the cliff the gradient is large; a smaller step keeps the comparison exact."""
    rnn = OneUnitRNN(T=20)
    for w, u in [(1.5, 0.0), (1.5, 1e-4), (2.0, -1e-6), (1.2, -0.01)]:
        gw, gu = rnn.grad(w, u)
        nw, nu = central_differences(rnn.value, w, u, h=1e-9)
        assert math.hypot(gw, gu) > 10
        assert gw == pytest.approx(nw, rel=1e-4, abs=1e-4)
        assert gu == pytest.approx(nu, rel=1e-4)


@pytest.mark.parametrize("name", RNNS)
def test_deltas_are_the_derivatives_with_respect_to_the_states(name):
    """deltas[0] = dJ/dh_0 (checked by moving h0); deltas[T] = h_T - y."""
    rnn = RNNS[name]
    h = 1e-6
    for w, u in [(0.7, 0.3), (1.8, -0.2), (-1.2, 0.5)]:
        _, _, deltas = rnn.backprop(w, u)
        assert len(deltas) == rnn.T + 1
        assert deltas[-1] == pytest.approx(rnn.states(w, u)[-1] - rnn.target, rel=1e-15)
        up = OneUnitRNN(rnn.T, rnn.h0 + h, rnn.target, rnn.inputs).value(w, u)
        down = OneUnitRNN(rnn.T, rnn.h0 - h, rnn.target, rnn.inputs).value(w, u)
        assert deltas[0] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name", RNNS)
def test_floats_and_arrays_agree(name):
    rnn = RNNS[name]
    rng = np.random.default_rng(2)
    points = rng.uniform(-2, 2, size=(3, 4, 2))
    values = rnn.f(points)
    grads = rnn.gradient(points)
    assert values.shape == (3, 4) and grads.shape == (3, 4, 2)
    for (w, u), v, g in zip(points.reshape(-1, 2), values.ravel(), grads.reshape(-1, 2)):
        assert rnn.value(float(w), float(u)) == pytest.approx(v, rel=1e-12)
        np.testing.assert_allclose(rnn.grad(float(w), float(u)), g, rtol=1e-12, atol=1e-300)
    assert isinstance(rnn.value(0.5, 0.1), float)
    assert all(isinstance(c, float) for c in rnn.grad(0.5, 0.1))


def test_grad_broadcasts_a_scalar_against_an_array():
    rnn = OneUnitRNN(T=5)
    gw, gu = rnn.grad(np.array([0.5, 1.5, 2.0]), 0.0)
    assert gw.shape == gu.shape == (3,)
    np.testing.assert_allclose(gw, 0.0)  # h stays 0 on u = 0, so dJ/dw = 0 there


# --------------------------------------------------------------------------- the explosion


@pytest.mark.parametrize("T", [1, 5, 10, 20, 40])
@pytest.mark.parametrize("w", [0.5, 1.0, 1.5, 2.0])
def test_gradient_on_the_line_u_equals_zero_is_the_geometric_sum(T, w):
    """h_0 = 0, x_t = 1, u = 0: the state stays 0 and dJ/du = -y (1 + w + ... + w^(T-1))."""
    rnn = OneUnitRNN(T=T)
    gw, gu = rnn.grad(w, 0.0)
    assert gw == 0.0
    assert gu == pytest.approx(-0.6 * sum(w**k for k in range(T)), rel=1e-12)


def test_gradient_norm_explodes_by_orders_of_magnitude_with_T_for_w_above_1():
    norms = {T: math.hypot(*OneUnitRNN(T=T).grad(2.0, 0.0)) for T in (5, 10, 20, 40)}
    assert norms[10] > 30 * norms[5]
    assert norms[40] > 1e9 * norms[5]  # ~ 2^35
    assert norms[40] > 1e11
    # ... but stays bounded for w < 1: at most y / (1 - w) = 1.2 for w = 0.5.
    bounded = [math.hypot(*OneUnitRNN(T=T).grad(0.5, 0.0)) for T in (5, 10, 20, 40, 80)]
    assert max(bounded) < 1.2 and bounded[-1] > 1.19


def test_the_cliff_is_a_jump_of_the_loss_across_u_equals_zero_for_w_above_1():
    rnn = OneUnitRNN(T=20)
    below, above = rnn.value(2.0, -0.01), rnn.value(2.0, 0.01)
    assert below > 1.0 and above < 0.1  # h_T near -0.96 below, near +0.96 above
    # Most points of the plotted region have a modest gradient; the cliff's are far larger.
    (w0, w1), (u0, u1) = rnn.bounds
    W, U = np.meshgrid(np.linspace(w0, w1, 101), np.linspace(u0, u1, 101))
    G = np.hypot(*rnn.grad(W, U))
    assert np.median(G) < 1.0
    assert math.hypot(*rnn.grad(2.0, 0.0)) > 1e5 * np.median(G)


def test_sgd_without_clipping_is_thrown_off_the_plateau_and_with_clipping_is_not():
    rnn = OneUnitRNN(T=20)
    start = (2.1, -0.7)
    plain = trajectory(SGD(lr=0.2), rnn, start=start, steps=150)
    clipped = trajectory(SGD(lr=0.2), Clipped(rnn, 1.0), start=start, steps=150)
    steps_plain = np.linalg.norm(np.diff(plain, axis=0), axis=1)
    steps_clipped = np.linalg.norm(np.diff(clipped, axis=0), axis=1)
    assert steps_plain.max() > 50  # one step moves the parameters by more than 50
    assert steps_clipped.max() <= 0.2 * 1.0 + 1e-12  # never more than lr * threshold
    assert rnn.value(*plain[-1]) > 0.07  # stranded where tanh saturates
    assert rnn.value(*clipped[-1]) < 1e-12


# --------------------------------------------------------------------------------- Clipped


def test_clipped_by_norm_keeps_the_direction_and_caps_the_length():
    rnn = OneUnitRNN(T=20)
    rng = np.random.default_rng(4)
    for c in (0.1, 1.0, 10.0):
        clipped = Clipped(rnn, c)
        for w, u in rng.uniform([0, -1.5], [3, 1.5], size=(50, 2)):
            g = np.array(rnn.grad(float(w), float(u)))
            k = np.array(clipped.grad(float(w), float(u)))
            n = np.linalg.norm(g)
            assert np.linalg.norm(k) <= c * (1 + 1e-12)
            if n <= c:
                np.testing.assert_array_equal(k, g)
            else:
                np.testing.assert_allclose(k, g * c / n, rtol=1e-12)
            expected, norm = clip_by_global_norm(g, c)  # the library's function agrees
            np.testing.assert_allclose(k, expected, rtol=1e-12)
            assert norm == pytest.approx(n, rel=1e-12)


def test_clipped_by_value_matches_clip_by_value():
    rnn = OneUnitRNN(T=20)
    clipped = Clipped(rnn, 0.5, by="value")
    rng = np.random.default_rng(5)
    for w, u in rng.uniform([0, -1.5], [3, 1.5], size=(50, 2)):
        g = np.array(rnn.grad(float(w), float(u)))
        np.testing.assert_array_equal(clipped.grad(float(w), float(u)), clip_by_value(g, 0.5))


@pytest.mark.parametrize("by", ["norm", "value"])
def test_clipped_floats_and_arrays_agree(by):
    clipped = Clipped(OneUnitRNN(T=10), 0.7, by=by)
    points = np.random.default_rng(6).uniform(-1.5, 2.5, size=(30, 2))
    grads = clipped.gradient(points)
    assert grads.shape == (30, 2)
    for (w, u), g in zip(points, grads):
        np.testing.assert_allclose(clipped.grad(float(w), float(u)), g, rtol=1e-12, atol=1e-300)
    assert all(isinstance(c, float) for c in clipped.grad(0.5, 0.1))


def test_clipped_keeps_value_and_plotting_attributes_and_zero_gradients():
    ravine = Ravine(kappa=10)
    clipped = Clipped(ravine, 1.0)
    for name in ("start", "bounds", "minima", "min_value", "log_scale"):
        assert getattr(clipped, name) == getattr(ravine, name)
    assert clipped.value(1.0, 2.0) == ravine.value(1.0, 2.0)
    assert clipped.grad(0.0, 0.0) == (0.0, 0.0)
    np.testing.assert_array_equal(clipped.gradient(np.zeros((3, 2))), np.zeros((3, 2)))
    assert "Clipped(Ravine(kappa=10" in repr(clipped) and "by='norm'" in repr(clipped)


def test_clipped_sgd_equals_sgd_fed_clipped_gradients():
    """trajectory on Clipped(...) is SGD.step with clip_by_global_norm in the loop."""
    rnn = OneUnitRNN(T=20)
    theta, opt = np.array([2.1, -0.7]), SGD(lr=0.2)
    by_hand = [theta]
    for _ in range(80):
        g, _ = clip_by_global_norm(rnn.gradient(theta), 1.0)
        theta = opt.step(theta, g)
        by_hand.append(theta)
    path = trajectory(SGD(lr=0.2), Clipped(rnn, 1.0), start=(2.1, -0.7), steps=80)
    np.testing.assert_allclose(path, by_hand, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize("kwargs, error, message", [
    ({"T": 0}, ValueError, "T must be an integer >= 1"),
    ({"T": 2.5}, TypeError, "T must be an integer >= 1"),
    ({"T": True}, TypeError, "T must be an integer >= 1"),
    ({"h0": math.nan}, ValueError, "h0 must be a finite number"),
    ({"h0": "0"}, TypeError, "h0 must be a finite number"),
    ({"target": math.inf}, ValueError, "target must be a finite number"),
    ({"T": 3, "inputs": [1.0, 2.0]}, ValueError, "one number per time step, T = 3, got 2"),
    ({"T": 2, "inputs": [1.0, math.nan]}, ValueError, r"inputs\[1\] must be a finite number"),
    ({"T": 2, "inputs": 1.0}, TypeError, "inputs must be a sequence"),
])
def test_one_unit_rnn_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        OneUnitRNN(**kwargs)


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((object(), 1.0), {}, TypeError, "landscape must be an optlib Landscape"),
    ((Ravine(), 0.0), {}, ValueError, "threshold must be a finite number > 0"),
    ((Ravine(), math.inf), {}, ValueError, "threshold must be a finite number > 0"),
    ((Ravine(), "1"), {}, TypeError, "threshold must be a finite number > 0"),
    ((Ravine(), 1.0), {"by": "norms"}, ValueError, 'by must be "norm" or "value"'),
])
def test_clipped_rejects_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Clipped(*args, **kwargs)


def test_repr_and_metadata():
    rnn = OneUnitRNN(T=7, h0=0.25, target=-0.5)
    assert repr(rnn) == "OneUnitRNN(T=7, h0=0.25, target=-0.5)"
    assert "inputs=" in repr(OneUnitRNN(T=2, inputs=[1.0, 0.5]))
    assert rnn.min_value == 0.0 and rnn.minima == ()
    (w0, w1), (u0, u1) = rnn.bounds
    assert w0 <= rnn.start[0] <= w1 and u0 <= rnn.start[1] <= u1
