"""Tests for optlib.problems: shapes, determinism, the stated sparsity, argument checks."""

import re

import numpy as np
import pytest

from optlib.problems import sparse_regression


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
