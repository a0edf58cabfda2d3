"""Tests for optlib.problems: shapes, determinism, the stated sparsity and noise, argument
checks."""

import re

import numpy as np
import pytest

from optlib import SGD, Adam
from optlib.problems import NoisyQuadratic, sparse_regression


def test_shapes_and_dtypes():
    X, y, w = sparse_regression(n_samples=300, n_features=12, n_dense=3, density=0.05, seed=1)
    assert X.shape == (300, 12) and y.shape == (300,) and w.shape == (12,)
    assert X.dtype == y.dtype == w.dtype == np.float64


def test_same_arguments_give_the_same_arrays_and_seeds_differ():
    a = sparse_regression(n_samples=200, seed=3, noise=0.1)
    b = sparse_regression(n_samples=200, seed=3, noise=0.1)
    c = sparse_regression(n_samples=200, seed=4, noise=0.1)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[2], c[2])


@pytest.mark.parametrize(
    "n_samples, density, expected",
    [(1000, 0.01, 10), (1000, 0.02, 20), (500, 0.05, 25), (100, 0.001, 1), (40, 1.0, 40),
     (333, 0.03, 10)],
)
def test_every_sparse_column_has_the_stated_number_of_ones(n_samples, density, expected):
    X, _, _ = sparse_regression(n_samples=n_samples, n_features=9, n_dense=2, density=density)
    sparse = X[:, 2:]
    assert np.all(np.count_nonzero(sparse, axis=0) == expected)
    assert set(np.unique(sparse)) <= {0.0, 1.0}
    # the realised density is k / n_samples, and equals `density` when that is a whole count
    if density * n_samples == expected:
        np.testing.assert_allclose(np.mean(sparse != 0, axis=0), density)


def test_dense_columns_are_standard_normal_and_never_zero():
    X, _, _ = sparse_regression(n_samples=20000, n_features=3, n_dense=3, seed=0)
    assert np.all(X != 0)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=0.03)
    np.testing.assert_allclose(X.std(axis=0), 1, atol=0.03)


def test_hessian_diagonal_is_one_for_dense_and_density_for_sparse():
    X, _, _ = sparse_regression(n_samples=5000, n_features=6, n_dense=2, density=0.01, seed=2)
    diagonal = np.mean(X**2, axis=0)
    np.testing.assert_allclose(diagonal[:2], 1, atol=0.05)
    np.testing.assert_allclose(diagonal[2:], 0.01, rtol=1e-12)


def test_true_weights_all_matter_and_targets_follow_them():
    X, y, w = sparse_regression(n_samples=400, n_features=30, n_dense=5, seed=5)
    assert np.all((0.5 <= abs(w)) & (abs(w) <= 1.5))
    assert (w > 0).any() and (w < 0).any()
    np.testing.assert_allclose(y, X @ w, rtol=0, atol=1e-12)  # noise = 0 by default
    fitted, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(fitted, w, atol=1e-9)


def test_noise_has_the_stated_standard_deviation():
    X, y, w = sparse_regression(n_samples=20000, n_features=4, n_dense=2, noise=0.3, seed=0)
    assert abs(np.std(y - X @ w) - 0.3) < 0.01


def test_edge_cases_all_dense_and_all_sparse():
    X, _, _ = sparse_regression(n_samples=50, n_features=4, n_dense=4)
    assert np.all(X != 0)
    X, _, _ = sparse_regression(n_samples=50, n_features=4, n_dense=0, density=0.1)
    assert np.all(np.count_nonzero(X, axis=0) == 5)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be an integer >= 1, got 0"),
        ({"n_samples": 10.0}, TypeError, "n_samples must be an integer"),
        ({"n_samples": True}, TypeError, "n_samples must be an integer"),
        ({"n_features": 0}, ValueError, "n_features must be an integer >= 1"),
        ({"n_features": 3, "n_dense": 4}, ValueError, "n_dense must be an integer >= 0 and <= 3"),
        ({"n_dense": -1}, ValueError, "n_dense must be an integer >= 0"),
        ({"density": 0}, ValueError, "density must be a number in (0, 1], got 0.0"),
        ({"density": 1.5}, ValueError, "density must be a number in (0, 1]"),
        ({"density": float("nan")}, ValueError, "density must be a number in (0, 1]"),
        ({"density": "0.1"}, TypeError, "density must be a number in (0, 1]"),
        ({"noise": -0.1}, ValueError, "noise must be a finite number >= 0"),
        ({"noise": float("inf")}, ValueError, "noise must be a finite number >= 0"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"seed": None}, TypeError, "seed must be an integer"),
    ],
)
def test_bad_arguments_are_rejected_with_clear_messages(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        sparse_regression(**kwargs)


def test_numpy_integers_are_accepted():
    X, y, w = sparse_regression(n_samples=np.int64(50), n_features=np.int32(5), n_dense=np.int64(1),
                                seed=np.int64(7))
    assert X.shape == (50, 5)


# --- NoisyQuadratic -----------------------------------------------------------------------


def test_noisy_quadratic_value_distance_and_exact_gradient():
    bowl = NoisyQuadratic([2.0, 0.5], minimum=[-2.0, 1.0], sigma=0.0)
    theta = np.array([[0.0, 0.0], [-2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(bowl.value(theta), [0.5 * (2 * 4 + 0.5 * 1), 0.0,
                                                   0.5 * (2 * 9 + 0.5 * 4)])
    np.testing.assert_allclose(bowl.distance(theta), [np.sqrt(5), 0.0, np.sqrt(13)])
    np.testing.assert_allclose(bowl.exact_gradient(theta), [[4.0, -0.5], [0, 0], [6.0, 1.0]])
    np.testing.assert_array_equal(bowl.gradient(theta), bowl.exact_gradient(theta))  # σ = 0
    assert bowl.n == 2


def test_noisy_quadratic_noise_is_unbiased_with_the_stated_spread():
    bowl = NoisyQuadratic([1.0, 3.0], minimum=[0.5, 0.5], sigma=0.7, seed=4)
    theta = np.ones((50_000, 2))
    noise = bowl.gradient(theta) - bowl.exact_gradient(theta)
    np.testing.assert_allclose(noise.mean(axis=0), 0, atol=0.02)
    np.testing.assert_allclose(noise.std(axis=0), 0.7, rtol=0.02)
    assert abs(np.corrcoef(noise.T)[0, 1]) < 0.02  # independent coordinates
    again = bowl.gradient(theta) - bowl.exact_gradient(theta)
    assert not np.array_equal(noise, again)  # fresh noise on every call


def test_noisy_quadratic_same_seed_replays_the_same_noise():
    runs = [NoisyQuadratic([1.0], sigma=1.0, seed=s).run(SGD(lr=0.1), [1.0], 50, 4)
            for s in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_noisy_quadratic_run_is_n_runs_independent_runs_of_the_optimizer():
    bowl = NoisyQuadratic([1.0, 0.1], minimum=[-2.0, -2.0], sigma=0.5, seed=1)
    values = bowl.run(Adam(lr=0.05), [0.0, 0.0], steps=30, n_runs=3)
    assert values.shape == (31, 3)
    np.testing.assert_allclose(values[0], 0.5 * (4 + 0.4))
    # replay the same noise by hand, one run at a time
    replay = NoisyQuadratic([1.0, 0.1], minimum=[-2.0, -2.0], sigma=0.5, seed=1)
    noise = [replay.gradient(np.zeros((3, 2))) - replay.exact_gradient(np.zeros((3, 2)))
             for _ in range(30)]
    for r in range(3):
        opt, theta = Adam(lr=0.05), np.zeros(2)
        for k in range(30):
            theta = opt.step(theta, replay.exact_gradient(theta) + noise[k][r])
            assert abs(replay.value(theta) - values[k + 1, r]) < 1e-12
    distances = bowl.run(SGD(lr=0.1), [1.0, 1.0], steps=5, n_runs=2, measure="distance")
    np.testing.assert_allclose(distances[0], np.hypot(3.0, 3.0))


def test_noisy_quadratic_without_noise_converges_and_with_noise_hovers():
    exact = NoisyQuadratic([1.0], minimum=[3.0], sigma=0.0).run(SGD(lr=0.5), [0.0], 60, 1)
    assert exact[-1, 0] < 1e-30
    noisy = NoisyQuadratic([1.0], minimum=[3.0], sigma=1.0, seed=2).run(SGD(lr=0.5), [0.0],
                                                                      2000, 200)
    # SGD's stationary E[f − f*] on f = h θ²/2 with noise σ: α σ² / (2 (2 − α h)), h = σ = 1
    expected = 0.5 / (2 * (2 - 0.5))
    assert abs(noisy[-500:].mean() / expected - 1) < 0.1


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (([],), {}, TypeError, "curvatures must be a non-empty 1-D sequence"),
        (("ab",), {}, TypeError, "curvatures must be a non-empty 1-D sequence"),
        (([[1.0]],), {}, TypeError, "curvatures must be a non-empty 1-D sequence"),
        (([1.0, 0.0],), {}, ValueError, "curvatures must all be finite numbers > 0"),
        (([1.0, float("nan")],), {}, ValueError, "curvatures must all be finite numbers > 0"),
        (([1.0, 2.0],), {"minimum": [1.0]}, TypeError, "minimum must be a sequence of 2 numbers"),
        (([1.0],), {"minimum": [float("inf")]}, ValueError, "minimum must be finite"),
        (([1.0],), {"sigma": -1.0}, ValueError, "sigma must be a finite number >= 0"),
        (([1.0],), {"sigma": "1"}, TypeError, "sigma must be a finite number >= 0"),
        (([1.0],), {"seed": -3}, ValueError, "seed must be an integer >= 0"),
    ],
)
def test_noisy_quadratic_rejects_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        NoisyQuadratic(*args, **kwargs)


def test_noisy_quadratic_run_rejects_bad_arguments_and_changes_nothing():
    bowl = NoisyQuadratic([1.0, 2.0], sigma=1.0, seed=0)
    for kwargs, message in (({"steps": -1}, "steps must be an integer >= 0"),
                            ({"n_runs": 0}, "n_runs must be an integer >= 1"),
                            ({"measure": "loss"}, "measure must be 'value' or 'distance'"),
                            ({"start": [1.0]}, "start must be 2 numbers")):
        args = {"opt": SGD(lr=0.1), "start": [0.0, 0.0], "steps": 3, "n_runs": 2} | kwargs
        with pytest.raises((ValueError, TypeError), match=re.escape(message)):
            bowl.run(**args)
    with pytest.raises(ValueError, match="theta must have 2 parameters"):
        bowl.value(np.zeros((3, 5)))
    # nothing was drawn by the rejected calls: the noise is still the seed's first draw
    first = bowl.gradient(np.zeros(2))
    np.testing.assert_array_equal(first, np.random.default_rng(0).standard_normal(2))
