"""Real data for the course, shipped by a well-kept package (no download)."""

import numpy as np


def digits_split(seed=0, n_val=360, n_test=360):
    """The digits data set (1797 images of 8 × 8 pixels, 10 classes), split and scaled.

    The rows are shuffled with ``np.random.default_rng(seed)``; the first ``n_test``
    form the test set, the next ``n_val`` the validation set, the rest the training set.
    Every feature (pixel) is then standardised, x -> (x - mean) / std, with the mean and
    standard deviation of the *training* set only (a pixel that is constant there, std 0,
    is only centred), so that nothing about the validation or test images leaks into
    training.

    Returns:
        ``dict(X_train=..., y_train=..., X_val=..., y_val=..., X_test=..., y_test=...)``:
        float64 features of shape (n, 64) and int64 labels 0..9 of shape (n,).

    Needs scikit-learn, which ships the data set (no download).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "digits_split needs scikit-learn, which ships the digits data set: "
            "pip install scikit-learn"
        ) from error
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    test, val, train = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = (X - mean) / std
    y = y.astype(np.int64)
    return {
        "X_train": scaled[train], "y_train": y[train],
        "X_val": scaled[val], "y_val": y[val],
        "X_test": scaled[test], "y_test": y[test],
    }
