"""The update rules: first steps computed by hand, equivalences between optimizers,
and :func:`optlib.optimizers.trajectory` against a loop of ``step``.

Expected values are written out here from the formulas, never taken from optlib.
(Comparisons with torch.optim are in test_optimizers_torch.py; the API, checkpoints
and input checking in test_optimizers_api.py.)
"""

import math

import numpy as np
import pytest

from optlib.optimizers import (
    OPTIMIZERS,
    SGD,
    Adadelta,
    AdaGrad,
    Adam,
    Adamax,
    AdamW,
    AMSGrad,
    Momentum,
    NAdam,
    Nesterov,
    RMSprop,
    trajectory,
)
from optlib.schedules import Schedule

THETA = np.array([1.0, -2.0])
G = np.array([0.5, -3.0])
G2 = np.array([-1.5, 0.25])  # a second gradient for two-step checks


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-14, atol=1e-15)


# ======================================================================================
# First steps by hand
# ======================================================================================


def test_sgd_first_step():
    close(SGD(lr=0.1).step(THETA, G), [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -3.0])  # [0.95, -1.7]
    # weight decay: g + wd * theta = [0.5 + 0.2*1, -3 + 0.2*(-2)] = [0.7, -3.4]
    close(SGD(lr=0.1, weight_decay=0.2).step(THETA, G), [1.0 - 0.07, -2.0 + 0.34])


def test_sgd_docstring_example():
    close(SGD(lr=0.1).step(np.array([1.0, -2.0]), np.array([2.0, 2.0])), [0.8, -2.2])


def test_momentum_two_steps():
    lr, beta = 0.1, 0.9
    opt = Momentum(lr=lr, beta=beta)
    # step 1: v1 = g1 = [0.5, -3]; theta1 = theta0 - lr * v1 = [0.95, -1.7]
    theta1 = opt.step(THETA, G)
    close(theta1, [0.95, -1.7])
    close(opt.state["v"], [0.5, -3.0])
    # step 2: v2 = 0.9 * [0.5, -3] + [-1.5, 0.25] = [-1.05, -2.45]
    #         theta2 = [0.95, -1.7] - 0.1 * [-1.05, -2.45] = [1.055, -1.455]
    theta2 = opt.step(theta1, G2)
    close(opt.state["v"], [-1.05, -2.45])
    close(theta2, [1.055, -1.455])


def test_nesterov_first_two_steps():
    lr, beta = 0.1, 0.9
    opt = Nesterov(lr=lr, beta=beta)
    # step 1: v1 = g; theta1 = theta0 - lr * (g + beta * g) = theta0 - lr * (1 + beta) * g
    theta1 = opt.step(THETA, G)
    close(theta1, [1.0 - 0.1 * 1.9 * 0.5, -2.0 - 0.1 * 1.9 * -3.0])  # [0.905, -1.43]
    # step 2: v2 = 0.9 * g1 + g2 = [-1.05, -2.45]
    #         theta2 = theta1 - lr * (g2 + 0.9 * v2) = theta1 - 0.1 * [-2.445, -1.955]
    theta2 = opt.step(theta1, G2)
    close(theta2, [0.905 + 0.2445, -1.43 + 0.1955])


def test_adagrad_first_step():
    lr, eps = 0.1, 1e-10
    # G = g**2, so the step is lr * g / (|g| + eps): about lr * sign(g)
    close(AdaGrad(lr=lr).step(THETA, G), THETA - lr * G / (np.abs(G) + eps))
    np.testing.assert_allclose(AdaGrad(lr=lr).step(THETA, G), [0.9, -1.9], rtol=1e-9)
    # with an initial accumulator a: G = a + g**2
    a = 0.75
    opt = AdaGrad(lr=lr, initial_accumulator_value=a, eps=0.0)
    close(opt.step(THETA, G), [1.0 - 0.1 * 0.5 / 1.0, -2.0 + 0.1 * 3.0 / math.sqrt(9.75)])
    close(opt.state["G"], [1.0, 9.75])


def test_adagrad_second_step_uses_the_sum():
    opt = AdaGrad(lr=0.1, eps=0.0)
    theta1 = opt.step(THETA, G)
    theta2 = opt.step(theta1, G2)
    # G2 = [0.25 + 2.25, 9 + 0.0625] = [2.5, 9.0625]
    close(opt.state["G"], [2.5, 9.0625])
    close(theta2, [0.9 + 0.1 * 1.5 / math.sqrt(2.5), -1.9 - 0.1 * 0.25 / math.sqrt(9.0625)])


def test_rmsprop_first_step():
    lr, beta, eps = 0.01, 0.99, 1e-8
    # s = (1 - beta) g**2 -> step lr * g / (sqrt(1 - beta) |g| + eps) ~ 10 lr sign(g)
    expected = THETA - lr * G / (math.sqrt(1 - beta) * np.abs(G) + eps)
    opt = RMSprop(lr=lr, beta=beta, eps=eps)
    close(opt.step(THETA, G), expected)
    close(opt.state["s"], [0.01 * 0.25, 0.01 * 9.0])
    np.testing.assert_allclose(THETA - expected, 0.1 * np.sign(G), rtol=1e-6)


def test_adadelta_first_step():
    lr, rho, eps = 1.0, 0.9, 1e-6
    # s = (1-rho) g**2; dx = sqrt(0 + eps) / sqrt(s + eps) * g; u = (1-rho) dx**2
    s = 0.1 * G**2
    dx = math.sqrt(eps) / np.sqrt(s + eps) * G
    opt = Adadelta(lr=lr, rho=rho, eps=eps)
    close(opt.step(THETA, G), THETA - dx)
    close(opt.state["s"], [0.025, 0.9])
    close(opt.state["u"], 0.1 * dx**2)
    # the very first step is about sqrt(eps / (1 - rho)) * sign(g) = 0.00316 * sign(g)
    np.testing.assert_allclose(dx, math.sqrt(1e-5) * np.sign(G), rtol=1e-3)
    # lr scales the step
    close(Adadelta(lr=0.5, rho=rho, eps=eps).step(THETA, G), THETA - 0.5 * dx)


def test_adam_first_two_steps():
    lr, b1, b2, eps = 0.001, 0.9, 0.999, 1e-8
    opt = Adam()
    # step 1: m = 0.1 g, v = 0.001 g**2, m_hat = g, v_hat = g**2
    theta1 = opt.step(THETA, G)
    close(theta1, THETA - lr * G / (np.abs(G) + eps))
    np.testing.assert_allclose(theta1, THETA - lr * np.sign(G), rtol=1e-10)
    close(opt.state["m"], 0.1 * G)
    close(opt.state["v"], 0.001 * G**2)
    # step 2
    theta2 = opt.step(theta1, G2)
    m = b1 * 0.1 * G + 0.1 * G2
    v = b2 * 0.001 * G**2 + 0.001 * G2**2
    m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
    close(theta2, theta1 - lr * m_hat / (np.sqrt(v_hat) + eps))


def test_adam_l2_weight_decay_goes_into_the_gradient():
    # g' = g + 0.5 * theta = [1.0, -4.0]; first step lr * g' / (|g'| + eps)
    g = np.array([1.0, -4.0])
    close(Adam(lr=0.1, weight_decay=0.5).step(THETA, G), THETA - 0.1 * g / (np.abs(g) + 1e-8))


def test_adamw_first_step():
    lr, wd, eps = 0.1, 0.2, 1e-8
    # theta <- theta (1 - lr wd) - lr * g / (|g| + eps)   (m_hat = g, v_hat = g**2)
    expected = THETA * (1 - lr * wd) - lr * G / (np.abs(G) + eps)
    close(AdamW(lr=lr, weight_decay=wd).step(THETA, G), expected)
    close(expected, [0.98 - 0.1 * 0.5 / (0.5 + 1e-8), -1.96 + 0.1 * 3 / (3 + 1e-8)])
    # zero gradient: a pure shrink by (1 - lr wd)
    close(AdamW(lr=lr, weight_decay=wd).step(THETA, np.zeros(2)), 0.98 * THETA)


def test_amsgrad_first_step_is_adams():
    expected = THETA - 0.01 * G / (np.abs(G) + 1e-8)
    opt = AMSGrad(lr=0.01)
    close(opt.step(THETA, G), expected)
    close(opt.state["v_max"], 0.001 * G**2)


def test_amsgrad_keeps_the_largest_v():
    opt = AMSGrad(lr=0.01, beta1=0.0, beta2=0.5, eps=0.0)
    theta1 = opt.step(THETA, np.array([4.0, 4.0]))  # v = v_max = [8, 8]
    theta2 = opt.step(theta1, np.array([1.0, 1.0]))  # v = 4 + 0.5 = 4.5, v_max stays 8
    close(opt.state["v"], [4.5, 4.5])
    close(opt.state["v_max"], [8.0, 8.0])
    # m_hat = g = 1 (beta1 = 0); v_hat = 8 / (1 - 0.25) = 32/3
    close(theta2, theta1 - 0.01 * 1.0 / math.sqrt(32 / 3))


def test_adamax_first_two_steps():
    lr, b1, b2, eps = 0.002, 0.9, 0.999, 1e-8
    opt = Adamax()
    # step 1: m = 0.1 g, u = max(0, |g| + eps); theta -= lr / 0.1 * 0.1 g / (|g| + eps)
    theta1 = opt.step(THETA, G)
    close(theta1, THETA - lr * G / (np.abs(G) + eps))
    close(opt.state["u"], np.abs(G) + eps)
    # step 2: u = max(0.999 (|g1| + eps), |g2| + eps) = [1.5 + eps, 0.999 (3 + eps)]
    theta2 = opt.step(theta1, G2)
    m = b1 * 0.1 * G + 0.1 * G2
    u = np.array([1.5 + eps, b2 * (3.0 + eps)])
    close(opt.state["u"], u)
    close(theta2, theta1 - lr / (1 - b1**2) * m / u)


def test_nadam_first_step():
    lr, b1, eps, psi = 0.002, 0.9, 1e-8, 0.004  # beta2 does not enter the first step
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    # P_1 = mu1; m = (1 - b1) g; v_hat = g**2
    # theta -= lr * ((1 - mu1)/(1 - mu1) g + mu2/(1 - mu1 mu2) (1 - b1) g) / (|g| + eps)
    factor = 1 + mu2 * (1 - b1) / (1 - mu1 * mu2)
    expected = THETA - lr * factor * G / (np.abs(G) + eps)
    opt = NAdam()
    close(opt.step(THETA, G), expected)
    assert opt.state["mu_product"] == pytest.approx(mu1, rel=1e-15)
    # mu1 = 0.9 (1 - 0.5 * 0.96**0.004) = 0.450073, mu2 = 0.450147,
    # factor = 1 + 0.0450147 / (1 - 0.202599) = 1.056452
    assert mu1 == pytest.approx(0.450073, abs=1e-6)
    assert mu2 == pytest.approx(0.450147, abs=1e-6)
    assert factor == pytest.approx(1.056452, abs=1e-6)


def test_nadam_psi_zero_gives_constant_momentum():
    # psi = 0: mu_t = beta1 / 2 for every t, P_2 = (beta1/2)**2
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    opt = NAdam(lr=lr, momentum_decay=0.0)
    theta1 = opt.step(THETA, G)
    theta2 = opt.step(theta1, G2)
    mu = 0.45
    assert opt.state["mu_product"] == pytest.approx(mu**2, rel=1e-15)
    m = b1 * 0.1 * G + 0.1 * G2
    v = b2 * 0.001 * G**2 + 0.001 * G2**2
    den = np.sqrt(v / (1 - b2**2)) + eps
    expected = theta1 - lr * (1 - mu) / (1 - mu**2) * G2 / den - lr * mu / (1 - mu**3) * m / den
    close(theta2, expected)


# ======================================================================================
# Equivalences
# ======================================================================================


def quadratic_problem(n=4, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = (q * np.linspace(0.3, 2.0, n)) @ q.T
    b = rng.normal(size=n)
    x0 = rng.normal(size=n)
    return a, b, x0


A, B, X0 = quadratic_problem()


def grad_quadratic(x):
    return A @ x - B


def run(opt, steps, x0=X0, grad=grad_quadratic):
    xs = [x0]
    for _ in range(steps):
        xs.append(opt.step(xs[-1], grad(xs[-1])))
    return np.array(xs)


@pytest.mark.parametrize("cls", [Momentum, Nesterov])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_zero_momentum_is_sgd(cls, weight_decay):
    got = run(cls(lr=0.1, beta=0.0, weight_decay=weight_decay), 30)
    expected = run(SGD(lr=0.1, weight_decay=weight_decay), 30)
    np.testing.assert_array_equal(got, expected)


def test_adam_with_beta1_zero_is_bias_corrected_rmsprop():
    lr, b2, eps, steps = 0.05, 0.9, 1e-8, 40
    got = run(Adam(lr=lr, beta1=0.0, beta2=b2, eps=eps), steps)
    # written out: s <- b2 s + (1 - b2) g**2; theta <- theta - lr g / (sqrt(s / (1 - b2**t)) + eps)
    x, s, expected = X0.copy(), np.zeros_like(X0), [X0]
    for t in range(1, steps + 1):
        g = grad_quadratic(x)
        s = b2 * s + (1 - b2) * g**2
        x = x - lr * g / (np.sqrt(s / (1 - b2**t)) + eps)
        expected.append(x)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # plain RMSprop has no bias correction: its first steps are 1/sqrt(1 - b2) ~ 3x larger
    plain = run(RMSprop(lr=lr, beta=b2, eps=eps), steps)
    assert np.max(np.abs(plain[1] - X0)) > 2.5 * np.max(np.abs(got[1] - X0))
    assert np.max(np.abs(plain - got)) > 1e-2


@pytest.mark.parametrize(
    "grads",
    [
        [np.array([0.3, -2.0])] * 25,  # constant: v rises towards g**2
        [np.array([0.3, -2.0]) * 1.1**k for k in range(25)],  # growing |g|
    ],
    ids=["constant", "growing"],
)
def test_amsgrad_is_adam_while_v_never_decreases(grads):
    kwargs = {"lr": 0.01, "beta1": 0.8, "beta2": 0.9}
    adam, ams = Adam(**kwargs), AMSGrad(**kwargs)
    x_adam = x_ams = THETA
    for g in grads:
        x_adam, x_ams = adam.step(x_adam, g), ams.step(x_ams, g)
        np.testing.assert_array_equal(x_ams, x_adam)
    np.testing.assert_array_equal(ams.state["v_max"], adam.state["v"])


def test_amsgrad_differs_from_adam_once_v_decreases():
    kwargs = {"lr": 0.01, "beta1": 0.8, "beta2": 0.9}
    adam, ams = Adam(**kwargs), AMSGrad(**kwargs)
    grads = [np.array([5.0, 5.0])] * 3 + [np.array([0.1, 0.1])] * 10
    x_adam = x_ams = THETA
    for g in grads:
        x_adam, x_ams = adam.step(x_adam, g), ams.step(x_ams, g)
    # after the drop AMSGrad still divides by the large old v: it moves less
    assert np.all(np.abs(x_ams - THETA) < np.abs(x_adam - THETA) - 1e-3)


def test_adamw_without_decay_is_adam():
    got = run(AdamW(lr=0.05, weight_decay=0.0), 50)
    expected = run(Adam(lr=0.05, weight_decay=0.0), 50)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


def test_adamw_and_adam_l2_differ():
    got = run(AdamW(lr=0.05, weight_decay=0.1), 20)
    l2 = run(Adam(lr=0.05, weight_decay=0.1), 20)
    assert np.max(np.abs(got - l2)) > 1e-4


def test_nesterov_equals_the_look_ahead_form():
    lr, beta, steps = 0.05, 0.9, 50
    opt = Nesterov(lr=lr, beta=beta)
    theta = X0
    # look-ahead form: v <- beta v + grad(phi - lr beta v); phi <- phi - lr v
    phi, v = X0.copy(), np.zeros_like(X0)
    for _ in range(steps):
        v = beta * v + grad_quadratic(phi - lr * beta * v)
        phi = phi - lr * v
        theta = opt.step(theta, grad_quadratic(theta))
        # optlib stores theta = phi - lr beta v
        np.testing.assert_allclose(theta, phi - lr * beta * v, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(opt.state["v"], v, rtol=1e-12, atol=1e-12)


def test_momentum_matches_sutskever_form_for_constant_lr():
    # Sutskever: w <- beta w - lr g; theta <- theta + w (learning rate inside)
    lr, beta = 0.05, 0.9
    opt = Momentum(lr=lr, beta=beta)
    theta, x, w = X0, X0.copy(), np.zeros_like(X0)
    for _ in range(50):
        w = beta * w - lr * grad_quadratic(x)
        x = x + w
        theta = opt.step(theta, grad_quadratic(theta))
        np.testing.assert_allclose(theta, x, rtol=1e-12, atol=1e-12)


# ======================================================================================
# trajectory()
# ======================================================================================


class RotatedQuadratic:
    """f = 0.5 (a u**2 + c w**2) in coordinates rotated by 30 degrees; minimum at (0.5, -0.3)."""

    start = (-1.5, 1.0)

    def __init__(self, a=1.0, c=4.0):
        self.a, self.c = a, c
        self.cos, self.sin = math.cos(math.pi / 6), math.sin(math.pi / 6)

    def grad(self, x, y):
        x, y = x - 0.5, y + 0.3
        u = self.cos * x + self.sin * y
        w = -self.sin * x + self.cos * y
        gu, gw = self.a * u, self.c * w
        return self.cos * gu - self.sin * gw, self.sin * gu + self.cos * gw


class RunAway:
    """A concave bowl: every optimizer runs off to infinity with a huge lr."""

    start = (1.0, 0.5)

    def grad(self, x, y):
        return -x, -y


LAND = RotatedQuadratic()

# Per optimizer: defaults and a non-default set that exercises every hyperparameter.
NON_DEFAULT = {
    "SGD": {"lr": 0.1, "weight_decay": 0.05},
    "Momentum": {"lr": 0.05, "beta": 0.8, "weight_decay": 0.05},
    "Nesterov": {"lr": 0.05, "beta": 0.8, "weight_decay": 0.05},
    "AdaGrad": {"lr": 0.3, "eps": 1e-6, "initial_accumulator_value": 0.1, "weight_decay": 0.05},
    "RMSprop": {"lr": 0.02, "beta": 0.9, "eps": 1e-6, "weight_decay": 0.05},
    "Adadelta": {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.05},
    "Adam": {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05},
    "AdamW": {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.2},
    "AMSGrad": {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.05},
    "Adamax": {"lr": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6, "weight_decay": 0.05},
    "NAdam": {
        "lr": 0.05,
        "beta1": 0.85,
        "beta2": 0.99,
        "eps": 1e-6,
        "weight_decay": 0.05,
        "momentum_decay": 0.01,
    },
}
CONFIGS = [(name, {}) for name in OPTIMIZERS] + [(n, kw) for n, kw in NON_DEFAULT.items()]
CONFIG_IDS = [f"{n}-{'custom' if kw else 'defaults'}" for n, kw in CONFIGS]


def step_loop(opt, landscape, start, steps):
    """The same path made with ``opt.step`` on float64 arrays of shape (2,)."""
    p = np.array(start, dtype=float)
    rows = [p]
    for _ in range(steps):
        gx, gy = landscape.grad(float(p[0]), float(p[1]))
        p = opt.step(p, np.array([gx, gy], dtype=float))
        rows.append(p)
    return np.array(rows)


def test_non_default_configs_cover_every_hyperparameter():
    assert set(NON_DEFAULT) == set(OPTIMIZERS)
    for name, kwargs in NON_DEFAULT.items():
        names = set(OPTIMIZERS[name]().hyperparameters)
        assert set(kwargs) >= names - {"weight_decay"}, name


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_trajectory_equals_step_loop_exactly(name, kwargs):
    cls = OPTIMIZERS[name]
    path = trajectory(cls(**kwargs), LAND, steps=60)
    assert path.shape == (61, 2)
    assert np.all(np.isfinite(path))
    expected = step_loop(cls(**kwargs), LAND, LAND.start, 60)
    np.testing.assert_array_equal(path, expected)
    # an explicit start overrides landscape.start
    path = trajectory(cls(**kwargs), LAND, start=(0.25, 2.0), steps=10)
    np.testing.assert_array_equal(path, step_loop(cls(**kwargs), LAND, (0.25, 2.0), 10))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_honours_a_schedule(name):
    def schedule(t):
        return 0.1 / (1 + 0.5 * t)

    path = trajectory(OPTIMIZERS[name](lr=schedule), LAND, steps=30)
    expected = step_loop(OPTIMIZERS[name](lr=schedule), LAND, LAND.start, 30)
    np.testing.assert_array_equal(path, expected)
    # and the schedule matters: a constant lr = schedule(0) gives another path
    constant = trajectory(OPTIMIZERS[name](lr=schedule(0)), LAND, steps=30)
    assert not np.array_equal(path, constant)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_does_not_touch_the_optimizer(name):
    opt, twin = OPTIMIZERS[name](), OPTIMIZERS[name]()
    p = np.array([0.3, -0.7])
    for k in range(3):
        g = np.array([1.0 + k, -2.0])
        p_opt, p = opt.step(p, g), twin.step(p, g)
    state_before, dict_before = opt.state, opt.state_dict()
    trajectory(opt, LAND, steps=20)
    assert opt.t == 3
    after = opt.state
    for key, value in state_before.items():
        np.testing.assert_array_equal(after[key], value)
    assert opt.state_dict()["t"] == dict_before["t"]
    # the next step continues the optimizer's own run
    g = np.array([0.5, 0.5])
    np.testing.assert_array_equal(opt.step(p_opt, g), twin.step(p, g))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_divergence_gives_nan_rows(name):
    steps = 200
    path = trajectory(OPTIMIZERS[name](lr=1e300), RunAway(), steps=steps)
    assert path.shape == (steps + 1, 2)
    finite_rows = np.all(np.isfinite(path), axis=1)
    nan_rows = np.all(np.isnan(path), axis=1)
    assert np.all(finite_rows | nan_rows), "a row is partly nan"
    k = int(np.argmin(finite_rows))  # first nan row
    assert 1 <= k <= steps, "the path should diverge within the steps"
    assert np.all(finite_rows[:k]) and np.all(nan_rows[k:])
    np.testing.assert_array_equal(path[0], RunAway.start)


def test_trajectory_divergence_keeps_the_finite_prefix():
    # SGD with lr = 3 on the rotated quadratic: x_c <- x_c (1 - 3 c), |1 - 12| = 11 per step
    steps = 400
    path = trajectory(SGD(lr=3.0), LAND, steps=steps)
    k = int(np.argmin(np.all(np.isfinite(path), axis=1)))
    assert 100 < k < steps
    assert np.all(np.isnan(path[k:]))
    with np.errstate(over="ignore", invalid="ignore"):
        expected = step_loop(SGD(lr=3.0), LAND, LAND.start, k - 1)
    np.testing.assert_array_equal(path[:k], expected)


def test_trajectory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps must be an integer >= 0, got -1"):
        trajectory(SGD(), LAND, steps=-1)
    with pytest.raises(TypeError, match="optimizer must be an optlib Optimizer"):
        trajectory("SGD", LAND)
    with pytest.raises(ValueError, match="start must be a finite point"):
        trajectory(SGD(), LAND, start=(math.nan, 0.0))
    np.testing.assert_array_equal(trajectory(SGD(), LAND, steps=0), [LAND.start])


class LastBitSchedule(Schedule):
    """A schedule whose array evaluation differs from its scalar one in the last bit.

    (As numpy's vectorised ``**`` may round differently from Python's: the issue's
    ``step_decay(0.1, drop=0.1, every=10)`` gave 0.001 at t=20 for an array of steps
    and 0.0010000000000000002 for the scalar.)
    """

    def __init__(self):
        super().__init__("last_bit", {}, lambda t: 0.05 * 0.5 ** (t // 5))

    def __call__(self, t):
        if isinstance(t, np.ndarray):
            return np.nextafter(0.05 * 0.5 ** (t // 5), np.inf)
        return super().__call__(t)


def test_the_last_bit_schedule_differs_between_array_and_scalar():
    schedule = LastBitSchedule()
    steps = np.arange(20)
    assert all(schedule(steps)[k] != schedule(k) for k in range(20))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectory_takes_the_rates_step_takes(name):
    path = trajectory(OPTIMIZERS[name](lr=LastBitSchedule()), LAND, steps=20)
    expected = step_loop(OPTIMIZERS[name](lr=LastBitSchedule()), LAND, LAND.start, 20)
    np.testing.assert_array_equal(path, expected)
