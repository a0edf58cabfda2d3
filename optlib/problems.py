"""Small generated problems with more than two parameters.

The landscapes in :mod:`optlib.landscapes` are two-dimensional, so that a path can be
drawn. Some questions need more parameters than that; this module makes such problems,
deterministically from a seed, with the true answer known.

* :func:`sparse_regression`: a linear regression in which some features are present in
  every sample ("dense") and others only in a small fraction of them ("sparse"), the
  situation adaptive learning rates were invented for (chapter "AdaGrad").

Example:
    >>> X, y, w = sparse_regression(n_samples=500, n_features=10, n_dense=2, density=0.02)
    >>> X.shape, y.shape, w.shape
    ((500, 10), (500,), (10,))
    >>> (X[:, 2:] != 0).sum(axis=0).tolist()  # each sparse column: 2% of 500 rows
    [10, 10, 10, 10, 10, 10, 10, 10]
"""

import numbers

import numpy as np


def _check_int(name, value, minimum, maximum=None):
    """Return ``value`` as an int if it is an integer in [minimum, maximum], else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be an integer >= {minimum}{upper}, got {value}")
    return int(value)


def _check_real(name, value, test, accepted):
    """Return ``value`` as a float if it is a finite real number passing ``test``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {accepted}, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not (np.isfinite(value) and test(value)):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return value


def sparse_regression(n_samples=1000, n_features=20, n_dense=4, density=0.02, noise=0.0,
                      seed=0):
    """A linear regression with dense and sparse features: ``(X, y, w_true)``.

    Think of the sparse columns as indicator features such as "this word occurs in the
    document" or "this advertiser placed the ad": each is 1 in a few samples and 0 in
    all others, yet its weight matters as much as any other. The dense columns are
    ordinary measurements, non-zero in every sample.

    * Columns ``0 .. n_dense - 1`` (dense): independent N(0, 1) entries.
    * Columns ``n_dense .. n_features - 1`` (sparse): each is 1 in exactly
      ``k = max(1, round(density * n_samples))`` rows, chosen at random for each column,
      and 0 elsewhere. So the fraction of non-zero entries of every sparse column is
      exactly ``k / n_samples`` (= ``density`` whenever ``density * n_samples`` is a
      whole number).
    * True weights: a random sign times a magnitude uniform in [0.5, 1.5], for every
      feature, so no feature is negligible.
    * Targets: ``y = X @ w_true + noise * N(0, 1)``. With ``noise=0`` the least-squares
      solution is ``w_true`` itself (when X has full column rank).

    A dense column has a mean square of about 1 and a sparse one of exactly
    ``k / n_samples``. These are the diagonal entries of the Hessian
    ``X.T @ X / n_samples`` of the mean squared error ``J(w) = ||X w - y||² / (2 n_samples)``:
    the sparse directions are flat and the dense ones steep, with a ratio of about
    ``1 / density``.

    Args:
        n_samples: number of samples (rows), an integer >= 1. Default 1000.
        n_features: number of features (columns), an integer >= 1. Default 20.
        n_dense: how many of them are dense, an integer in [0, n_features]. Default 4.
        density: target fraction of samples in which a sparse feature is non-zero,
            in (0, 1]. Default 0.02.
        noise: standard deviation of the noise added to the targets, >= 0. Default 0.
        seed: integer seed of ``np.random.default_rng``; the same arguments give the
            same arrays. Default 0.

    Returns:
        ``(X, y, w_true)``: float64 arrays of shapes (n_samples, n_features),
        (n_samples,) and (n_features,).

    Raises:
        TypeError, ValueError: for an argument of the wrong type or out of range.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_dense = _check_int("n_dense", n_dense, 0, n_features)
    density = _check_real("density", density, lambda d: 0 < d <= 1, "a number in (0, 1]")
    noise = _check_real("noise", noise, lambda s: s >= 0, "a finite number >= 0")
    seed = _check_int("seed", seed, 0)

    rng = np.random.default_rng(seed)
    X = np.zeros((n_samples, n_features))
    X[:, :n_dense] = rng.normal(size=(n_samples, n_dense))
    k = max(1, round(density * n_samples))
    for j in range(n_dense, n_features):
        X[rng.choice(n_samples, size=k, replace=False), j] = 1.0
    w_true = rng.choice([-1.0, 1.0], size=n_features) * rng.uniform(0.5, 1.5, size=n_features)
    y = X @ w_true + noise * rng.normal(size=n_samples)
    return X, y, w_true
