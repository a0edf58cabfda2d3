"""Tests for optlib.quadratic: the closed-form theory of momentum on a quadratic,
checked against hand-computed values and against optlib.Momentum itself."""

import math

import numpy as np
import pytest

from optlib import SGD, Momentum, Nesterov, Ravine, quadratic, trajectory
from optlib.landscapes import Noisy


def run_1d(lr, beta, lam, steps, theta0=1.0):
    """optlib.Momentum on f(θ) = λθ²/2: the states (θ_k, v_k), k = 0..steps."""
    opt, theta = Momentum(lr=lr, beta=beta), np.array([theta0])
    states = [(theta0, 0.0)]
    for _ in range(steps):
        theta = opt.step(theta, lam * theta)
        states.append((theta[0], opt.state["v"][0]))
    return np.array(states)


def measured_rate(states, first, last):
    """Per-step contraction of the state norm between steps ``first`` and ``last``."""
    size = np.linalg.norm(states, axis=1)
    return (size[last] / size[first]) ** (1 / (last - first))


# ------------------------------------------------------------------------- the matrix


def test_matrices_by_hand():
    np.testing.assert_array_equal(quadratic.momentum_matrix(0.5, 0.9, 1.0),
                                  [[0.5, -0.45], [1.0, 0.9]])
    np.testing.assert_array_equal(quadratic.momentum_matrix(0.1, 0.5, 2.0),
                                  [[0.8, -0.05], [2.0, 0.5]])
    np.testing.assert_array_equal(quadratic.momentum_matrix(0.5, 0.9, 1.0, form="two_step"),
                                  [[1.4, -0.9], [1.0, 0.0]])
    # beta = 0: gradient descent's factor 1 - alpha*lam, velocity = gradient
    np.testing.assert_array_equal(quadratic.momentum_matrix(0.25, 0.0, 2.0),
                                  [[0.5, 0.0], [2.0, 0.0]])


@pytest.mark.parametrize("lr, beta, lam", [(0.5, 0.9, 1.0), (0.1, 0.3, 3.0), (1.7, 0.6, 1.0),
                                           (3.3, 0.67, 0.01)])
def test_matrix_reproduces_optlib_steps(lr, beta, lam):
    states = run_1d(lr, beta, lam, steps=30)
    M = quadratic.momentum_matrix(lr, beta, lam)
    np.testing.assert_allclose(states[1:], states[:-1] @ M.T, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("lr, beta, lam", [(0.5, 0.9, 1.0), (0.1, 0.3, 3.0), (2.5, 0.5, 1.0)])
def test_two_step_matrix_reproduces_optlib_and_polyak(lr, beta, lam):
    theta = run_1d(lr, beta, lam, steps=30)[:, 0]
    M = quadratic.momentum_matrix(lr, beta, lam, form="two_step")
    pairs = np.column_stack([theta[1:], theta[:-1]])  # (θ_k, θ_{k-1}), k >= 1
    np.testing.assert_allclose(pairs[1:], pairs[:-1] @ M.T, rtol=1e-12, atol=1e-14)
    # the first step, from (θ_0, θ_-1 = θ_0)
    np.testing.assert_allclose(M @ [theta[0], theta[0]], [theta[1], theta[0]], rtol=1e-14)


def test_both_forms_have_the_same_eigenvalues():
    for lr, beta, lam in [(0.5, 0.9, 1.0), (0.1, 0.3, 3.0), (3.9, 0.99, 1.0), (1.0, 0.0, 0.7)]:
        a = np.sort_complex(np.linalg.eigvals(quadratic.momentum_matrix(lr, beta, lam)))
        b = np.sort_complex(np.linalg.eigvals(
            quadratic.momentum_matrix(lr, beta, lam, form="two_step")))
        np.testing.assert_allclose(a, b, atol=1e-7)


# ------------------------------------------------------------------------- eigenvalues, rate


def test_eigenvalues_are_the_roots_of_the_characteristic_polynomial():
    rng = np.random.default_rng(1)
    for lr, beta, lam in zip(rng.uniform(0, 4, 50), rng.uniform(0, 1, 50), rng.uniform(0, 2, 50)):
        z1, z2 = quadratic.momentum_eigenvalues(lr, beta, lam)
        t = 1 + beta - lr * lam
        for z in (z1, z2):
            assert abs(z * z - t * z + beta) < 1e-12
        assert abs(z1) >= abs(z2) - 1e-15
        expected = np.sort_complex(np.linalg.eigvals(quadratic.momentum_matrix(lr, beta, lam)))
        np.testing.assert_allclose(np.sort_complex(np.array([z1, z2])), expected, atol=1e-6)


def test_complex_eigenvalues_have_modulus_sqrt_beta_not_two_sqrt_beta():
    # Distill writes |sigma| = 2 sqrt(beta); the product of conjugate roots is beta.
    for lr, beta in [(1.0, 0.81), (0.5, 0.9), (2.0, 0.5), (0.04, 0.9)]:
        z1, z2 = quadratic.momentum_eigenvalues(lr, beta, 1.0)
        assert z1.imag != 0 and z1 == z2.conjugate()
        assert abs(abs(z1) - math.sqrt(beta)) < 1e-12
        assert quadratic.convergence_rate(lr, beta, 1.0) == pytest.approx(math.sqrt(beta))
        assert quadratic.regime(lr, beta, 1.0) == "under-damped"


@pytest.mark.parametrize("lr, beta, lam", [
    (1.0, 0.81, 1.0),   # under-damped: rate sqrt(beta)
    (0.1, 0.2, 1.0),    # over-damped, positive roots
    (1.9, 0.0, 1.0),    # gradient descent, zig-zag
    (3.5, 0.8, 1.0),    # complex with negative real part
    (2.3, 0.2, 1.0),    # real negative roots
])
def test_spectral_radius_matches_the_contraction_of_optlib_momentum(lr, beta, lam):
    rho = quadratic.convergence_rate(lr, beta, lam)
    assert rho == pytest.approx(max(abs(np.linalg.eigvals(
        quadratic.momentum_matrix(lr, beta, lam)))), rel=1e-9)
    n = int(min(3000, 200 / -math.log(rho)))  # shrink by about e^-200
    states = run_1d(lr, beta, lam, steps=n)
    assert measured_rate(states, n // 2, n) == pytest.approx(rho, abs=2e-3)


def test_rate_is_the_worst_eigenvalue_and_gd_rate_is_beta_zero():
    lams = [0.01, 0.3, 1.0]
    assert quadratic.rate(0.5, 0.9, lams) == max(
        quadratic.convergence_rate(0.5, 0.9, lam) for lam in lams)
    assert quadratic.gd_rate(1.0, [0.01, 1.0]) == pytest.approx(0.99)
    assert quadratic.gd_rate(1.5, (0.01, 1.0)) == pytest.approx(0.985)
    assert quadratic.rate(1.0, 0.5, 0.5) == quadratic.convergence_rate(1.0, 0.5, 0.5)


def test_convergence_rate_broadcasts_over_arrays():
    a = np.linspace(0.01, 4, 7)[:, None]
    b = np.linspace(0, 0.99, 5)[None, :]
    grid = quadratic.convergence_rate(a, b, 1.0)
    assert grid.shape == (7, 5)
    for i in range(7):
        for j in range(5):
            assert grid[i, j] == pytest.approx(quadratic.convergence_rate(a[i, 0], b[0, j], 1.0))


# ------------------------------------------------------------------------- stability


def test_stability_boundary_is_two_one_plus_beta():
    for beta in (0.0, 0.3, 0.5, 0.9, 0.99):
        for lam in (0.5, 1.0, 4.0):
            limit = quadratic.max_stable_lr(beta, lam)
            assert limit == pytest.approx(2 * (1 + beta) / lam)
            assert quadratic.is_stable(0.999 * limit, beta, lam)
            assert not quadratic.is_stable(1.001 * limit, beta, lam)
            assert quadratic.convergence_rate(0.999 * limit, beta, lam) < 1
            assert quadratic.convergence_rate(1.001 * limit, beta, lam) > 1
            assert quadratic.convergence_rate(limit, beta, lam) == pytest.approx(1.0)
    assert not quadratic.is_stable(0.0, 0.5, 1.0)  # no step: no progress
    assert not quadratic.is_stable(1.0, 1.0, 1.0)  # beta = 1: no friction


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_optlib_momentum_converges_inside_and_diverges_outside(beta):
    bowl = Ravine(kappa=1, L=1.0)  # two copies of the 1-D problem with lam = 1
    limit = 2 * (1 + beta)
    inside = trajectory(Momentum(lr=0.98 * limit, beta=beta), bowl, steps=2000)
    outside = trajectory(Momentum(lr=1.02 * limit, beta=beta), bowl, steps=2000)
    assert np.linalg.norm(inside[-1]) < 1e-6 * np.linalg.norm(inside[0])
    last = outside[np.isfinite(outside).all(axis=1)][-1]
    with np.errstate(over="ignore"):
        assert np.linalg.norm(last) > 1e6 * np.linalg.norm(outside[0])


def test_is_stable_broadcasts():
    result = quadratic.is_stable(np.array([1.0, 3.0, 4.0]), 0.9, 1.0)
    np.testing.assert_array_equal(result, [True, True, False])


# ------------------------------------------------------------------------- critical damping


def test_critical_beta_gives_a_double_root_and_the_smallest_rate():
    for a in (0.01, 0.04, 0.5, 2.25, 3.5):
        b = quadratic.critical_beta(a, 1.0)
        assert b == pytest.approx((1 - math.sqrt(a)) ** 2)
        z1, z2 = quadratic.momentum_eigenvalues(a, b, 1.0)
        assert abs(z1 - z2) < 1e-6 and abs(z1.real - (1 - math.sqrt(a))) < 1e-12
        assert quadratic.regime(a, b, 1.0, tol=1e-9) == "critically damped"
        betas = np.linspace(0, 0.999, 2000)
        rates = quadratic.convergence_rate(a, betas, 1.0)
        assert rates.min() >= quadratic.convergence_rate(a, b, 1.0) - 1e-12
        assert abs(betas[np.argmin(rates)] - b) < 1e-3


def test_critical_beta_by_hand_and_lam_scaling():
    assert quadratic.critical_beta(0.04, 1.0) == pytest.approx(0.64)
    assert quadratic.critical_beta(0.01, 1.0) == pytest.approx(0.81)
    assert quadratic.critical_beta(0.2, 0.2) == pytest.approx(0.64)  # only alpha*lam matters
    np.testing.assert_allclose(quadratic.critical_beta(np.array([0.01, 0.04]), 1.0), [0.81, 0.64])


def test_regimes():
    assert quadratic.regime(0.1, 0.2, 1.0) == "over-damped"
    assert quadratic.regime(0.5, 0.9, 1.0) == "under-damped"
    assert quadratic.regime(0.04, 0.64, 1.0) == "critically damped"
    assert quadratic.regime(0.5, 0.0, 1.0) == "over-damped"  # gradient descent
    # gradient descent at alpha = 1/lam: a double root at 0, one step to the minimum
    assert quadratic.regime(1.0, 0.0, 1.0) == "critically damped"
    assert quadratic.critical_beta(1.0, 1.0) == 0.0


# ------------------------------------------------------------------------- optimal parameters


def test_optimal_gd_by_hand():
    p = quadratic.optimal_gd(0.01, 1.0)
    assert p.lr == pytest.approx(2 / 1.01) and p.rate == pytest.approx(99 / 101)
    assert quadratic.gd_rate(p.lr, (0.01, 1.0)) == pytest.approx(p.rate)


@pytest.mark.parametrize("kappa", [4, 10, 100, 1000])
def test_optimal_momentum_rate_is_sqrt_kappa_formula(kappa):
    mu, L = 1.0 / kappa, 1.0
    p = quadratic.optimal_momentum(mu, L)
    s = math.sqrt(kappa)
    assert p.rate == pytest.approx((s - 1) / (s + 1))
    assert p.beta == pytest.approx(p.rate ** 2)
    assert p.lr == pytest.approx(4 / (math.sqrt(L) + math.sqrt(mu)) ** 2)
    lams = np.linspace(mu, L, 500)
    assert quadratic.rate(p.lr, p.beta, lams) == pytest.approx(p.rate)
    # the extreme eigenvalues sit exactly at critical damping
    assert p.beta == pytest.approx(quadratic.critical_beta(p.lr, mu))
    assert p.beta == pytest.approx(quadratic.critical_beta(p.lr, L))


def test_optimal_momentum_beats_every_grid_point():
    mu, L = 0.01, 1.0
    best = quadratic.optimal_momentum(mu, L).rate
    lams = np.linspace(mu, L, 100)
    A, B, LAM = np.meshgrid(np.linspace(0.05, 3.95, 60), np.linspace(0, 0.98, 40), lams,
                            indexing="ij")
    assert quadratic.convergence_rate(A, B, LAM).max(axis=2).min() >= best - 1e-12


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_optlib_momentum_with_optimal_parameters_converges_at_the_predicted_rate(kappa):
    ravine = Ravine(kappa=kappa, angle=0.4)
    mu, L = ravine.eigenvalues
    p = quadratic.optimal_momentum(mu, L)
    n = int(math.ceil(150 / (1 - p.rate)))
    distance = np.linalg.norm(trajectory(Momentum(lr=p.lr, beta=p.beta), ravine, steps=n),
                              axis=1)
    measured = (distance[n] / distance[n // 2]) ** (2 / n)
    assert 1 - measured == pytest.approx(1 - p.rate, rel=0.02)
    g = quadratic.optimal_gd(mu, L)
    distance = np.linalg.norm(trajectory(SGD(lr=g.lr), ravine, steps=40), axis=1)
    np.testing.assert_allclose(distance[1:] / distance[:-1], g.rate, rtol=1e-9)


def test_pytorch_polyak_and_sutskever_forms_share_alpha_and_beta():
    ravine = Ravine(kappa=50, angle=0.3)
    p = quadratic.optimal_momentum(*ravine.eigenvalues)
    ours = trajectory(Momentum(lr=p.lr, beta=p.beta), ravine, steps=200)
    polyak, sutskever = [np.array(ravine.start)], [np.array(ravine.start)]
    previous, u = polyak[0], np.zeros(2)
    for _ in range(200):
        theta = polyak[-1]
        polyak.append(theta - p.lr * ravine.gradient(theta) + p.beta * (theta - previous))
        previous = theta
        u = p.beta * u - p.lr * ravine.gradient(sutskever[-1])
        sutskever.append(sutskever[-1] + u)
    np.testing.assert_allclose(ours, polyak, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours, sutskever, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize("call, error, match", [
    (lambda: quadratic.momentum_matrix(-0.1, 0.9, 1.0), ValueError, "alpha must be"),
    (lambda: quadratic.momentum_matrix(0.1, 1.5, 1.0), ValueError, "beta must be a number in"),
    (lambda: quadratic.momentum_matrix(0.1, 0.9, -1.0), ValueError, "lam must be"),
    (lambda: quadratic.momentum_matrix(0.1, 0.9, float("nan")), ValueError, "lam must be"),
    (lambda: quadratic.momentum_matrix(0.1, 0.9, 1.0, form="polyak"), ValueError, "form must"),
    (lambda: quadratic.momentum_matrix("0.1", 0.9, 1.0), TypeError, "alpha must be"),
    (lambda: quadratic.momentum_matrix(True, 0.9, 1.0), TypeError, "alpha must be"),
    (lambda: quadratic.convergence_rate(np.array([0.1, -1.0]), 0.5, 1.0), ValueError, "alpha"),
    (lambda: quadratic.convergence_rate(0.1, np.array([0.5, 1.2]), 1.0), ValueError, "beta"),
    (lambda: quadratic.rate(0.1, 0.5, []), ValueError, "at least one"),
    (lambda: quadratic.critical_beta(2.0, 2.0), ValueError, "0 < alpha\\*lam < 4"),
    (lambda: quadratic.critical_beta(0.0, 1.0), ValueError, "0 < alpha\\*lam < 4"),
    (lambda: quadratic.max_stable_lr(1.0, 1.0), ValueError, "beta must be a number in \\[0, 1\\)"),
    (lambda: quadratic.max_stable_lr(0.5, 0.0), ValueError, "lam must be"),
    (lambda: quadratic.optimal_momentum(1.0, 0.5), ValueError, "mu must be <= L"),
    (lambda: quadratic.optimal_momentum(0.0, 1.0), ValueError, "mu must be"),
    (lambda: quadratic.optimal_gd(0.1, float("inf")), ValueError, "L must be"),
])
def test_bad_inputs_are_rejected_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------------- Nesterov


def run_nesterov_1d(lr, beta, lam, steps, theta0=1.0):
    """optlib.Nesterov on f(θ) = λθ²/2: the states (θ_k, v_k), k = 0..steps."""
    opt, theta = Nesterov(lr=lr, beta=beta), np.array([theta0])
    states = [(theta0, 0.0)]
    for _ in range(steps):
        theta = opt.step(theta, lam * theta)
        states.append((theta[0], opt.state["v"][0]))
    return np.array(states)


def test_nesterov_matrix_by_hand():
    # 1 - (1 + β)αλ = 1 - 1.5 * 0.5 = 0.25; -αβ² = -0.125
    np.testing.assert_array_equal(quadratic.nesterov_matrix(0.5, 0.5, 1.0),
                                  [[0.25, -0.125], [1.0, 0.5]])
    # β = 0: gradient descent, like the heavy-ball matrix
    np.testing.assert_array_equal(quadratic.nesterov_matrix(0.25, 0.0, 2.0),
                                  quadratic.momentum_matrix(0.25, 0.0, 2.0))


@pytest.mark.parametrize("lr, beta, lam", [(0.5, 0.9, 1.0), (0.1, 0.3, 3.0), (2.0, 0.9, 0.3),
                                           (1.3, 0.79, 0.01)])
def test_nesterov_matrix_reproduces_optlib_steps(lr, beta, lam):
    states = run_nesterov_1d(lr, beta, lam, steps=30)
    M = quadratic.nesterov_matrix(lr, beta, lam)
    np.testing.assert_allclose(states[1:], states[:-1] @ M.T, rtol=1e-12, atol=1e-14)


def test_nesterov_trace_determinant_and_rate():
    for lr, beta, lam in [(0.5, 0.9, 1.0), (0.01, 0.5, 2.0), (1.2, 0.9, 1.0), (1.9, 0.2, 1.0)]:
        M = quadratic.nesterov_matrix(lr, beta, lam)
        h = lr * lam
        assert np.trace(M) == pytest.approx((1 + beta) * (1 - h))
        assert np.linalg.det(M) == pytest.approx(beta * (1 - h))
        rho = max(abs(np.linalg.eigvals(M)))
        assert quadratic.nesterov_convergence_rate(lr, beta, lam) == pytest.approx(rho, abs=1e-12)
    # complex regime: modulus sqrt(β(1 − h)), smaller than heavy ball's sqrt(β)
    assert quadratic.nesterov_convergence_rate(0.5, 0.9, 1.0) == pytest.approx(math.sqrt(0.45))
    assert quadratic.convergence_rate(0.5, 0.9, 1.0) == pytest.approx(math.sqrt(0.9))
    # h = 1: both eigenvalues 0, the direction is solved in two steps
    assert quadratic.nesterov_convergence_rate(1.0, 0.9, 1.0) == 0.0
    rates = quadratic.nesterov_convergence_rate(np.array([0.5, 1.0]), 0.9, 1.0)
    assert rates.shape == (2,) and rates[1] == 0.0


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_nesterov_stability_limit(beta):
    lam = 2.0
    limit = quadratic.nesterov_max_stable_lr(beta, lam)
    assert limit == pytest.approx(2 * (1 + beta) / ((1 + 2 * beta) * lam))
    assert quadratic.nesterov_convergence_rate(0.999 * limit, beta, lam) < 1
    assert quadratic.nesterov_convergence_rate(1.001 * limit, beta, lam) > 1
    below = run_nesterov_1d(0.99 * limit, beta, lam, steps=4000)
    above = run_nesterov_1d(1.01 * limit, beta, lam, steps=4000)
    assert abs(below[-1, 0]) < 1e-3 and abs(above[-1, 0]) > 1e3
    if beta > 0:
        assert limit < 2 / lam < quadratic.max_stable_lr(beta, lam)


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_optimal_nesterov_is_the_best_constant_setting(kappa):
    mu, L = 1.0 / kappa, 1.0
    p = quadratic.optimal_nesterov(mu, L)
    q = math.sqrt(3 * kappa + 1)
    assert (p.lr, p.beta, p.rate) == pytest.approx((4 / (3 + mu), (q - 2) / (q + 2), 1 - 2 / q))
    lams = np.linspace(mu, L, 300)
    assert quadratic.nesterov_convergence_rate(p.lr, p.beta, lams).max() == pytest.approx(p.rate)
    A, B, LAM = np.meshgrid(np.linspace(0.02, 2.0, 60), np.linspace(0, 0.99, 50),
                            np.linspace(mu, L, 60), indexing="ij")
    worst = quadratic.nesterov_convergence_rate(A, B, LAM).max(axis=2)
    assert worst.min() >= p.rate - 1e-9
    assert quadratic.optimal_momentum(mu, L).rate < p.rate  # tuned heavy ball is faster


# ------------------------------------------------------------------------- noise floor


def test_noise_floor_by_hand():
    # α = λ = σ = 1: z = −ξ after every step, E[z²/2] = 1/2
    assert quadratic.gd_noise_floor(1.0, 1.0, 1.0) == pytest.approx(0.5)
    # α = 0.5, λ = 1 and 3 (αλ = 0.5, 1.5): 0.5/(2·1.5) + 0.5/(2·0.5) = 1/6 + 1/2
    assert quadratic.gd_noise_floor(0.5, [1.0, 3.0], 1.0) == pytest.approx(2 / 3)
    assert quadratic.gd_noise_floor(0.5, [1.0, 3.0], 0.1) == pytest.approx(2 / 300)
    assert quadratic.gd_noise_floor(0.5, [1.0, 3.0], 0.0) == 0.0
    # small α: about d·α·σ²/4 whatever the curvatures
    assert quadratic.gd_noise_floor(1e-4, [0.01, 1.0, 30.0], 2.0) == pytest.approx(
        3 * 1e-4 * 4 / 4, rel=1e-3)


def test_noise_floor_matches_many_noisy_runs():
    ravine = Ravine(kappa=10, angle=0.5)
    sigma = 0.1
    for lr in (0.2, 1.5):
        predicted = quadratic.gd_noise_floor(lr, ravine.eigenvalues, sigma)
        settled = []
        for seed in range(30):
            path = trajectory(SGD(lr=lr), Noisy(ravine, sigma, seed=seed), steps=1500)
            gap = np.array([ravine.value(x, y) for x, y in path[500:]])
            settled.append(gap.mean())
        # 30 runs of 1000 steps each: the mean is within a few per cent of E[f − f*]
        assert np.mean(settled) == pytest.approx(predicted, rel=0.15)


@pytest.mark.parametrize("call, match", [
    (lambda: quadratic.gd_noise_floor(2.0, [0.1, 1.0], 1.0), "alpha must be below 2/L = 2"),
    (lambda: quadratic.gd_noise_floor(0.0, [1.0], 1.0), "alpha must be"),
    (lambda: quadratic.gd_noise_floor(0.1, [0.0, 1.0], 1.0), "eigenvalues must be"),
    (lambda: quadratic.gd_noise_floor(0.1, [], 1.0), "at least one"),
    (lambda: quadratic.gd_noise_floor(0.1, [1.0], -1.0), "sigma must be"),
    (lambda: quadratic.nesterov_max_stable_lr(1.0, 1.0), "beta must be a number in \\[0, 1\\)"),
    (lambda: quadratic.nesterov_matrix(0.1, 0.9, -1.0), "lam must be"),
    (lambda: quadratic.optimal_nesterov(2.0, 1.0), "mu must be <= L"),
])
def test_bad_nesterov_and_noise_inputs_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()
