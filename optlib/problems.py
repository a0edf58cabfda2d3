"""Small generated problems with more than two parameters.

The landscapes in :mod:`optlib.landscapes` are two-dimensional, so that a path can be
drawn. Some questions need more parameters than that; this module makes such problems,
deterministically from a seed, with the true answer known.

* :func:`sparse_regression`: a linear regression in which some features are present in
  every sample ("dense") and others only in a small fraction of them ("sparse"), the
  situation adaptive learning rates were invented for (chapter "AdaGrad").
* :class:`NoisyQuadratic`: a quadratic bowl seen through noisy, minibatch-like
  gradients, for many independent runs at once (chapters "AdaGrad", "RMSprop", "Adam").

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


class NoisyQuadratic:
    """A quadratic bowl seen through noisy gradients, for many independent runs at once.

    ``f(θ) = ½ Σ_i h_i (θ_i − θ*_i)²`` with curvatures ``h_i`` and minimum ``θ*``.
    Each call of :meth:`gradient` returns the exact gradient ``h ⊙ (θ − θ*)`` plus
    independent N(0, σ²) noise in every coordinate, a stand-in for the gradient of a
    random minibatch: unbiased, with a spread that does not vanish at the minimum.

    Parameters are arrays of shape ``(n_runs, n)``: row r is run r. Every ``optlib``
    update rule is element-wise, so one optimizer stepping the whole array is
    ``n_runs`` independent runs of it, each with its own state and its own noise,
    in one ``opt.step`` call per step. :meth:`run` does that loop.

    The noise comes from ``numpy.random.default_rng(seed)``: the same seed replays the
    same noise, so give two optimizers problems with the same seed to compare them on
    identical noise (in the chapters, ``seed`` comes from ``optlib.seeding.seeds``).

    Example:
        >>> import optlib
        >>> bowl = NoisyQuadratic([1.0, 0.1], minimum=[-2.0, -2.0], sigma=0.5, seed=1)
        >>> values = bowl.run(optlib.SGD(lr=0.1), start=[0.0, 0.0], steps=100, n_runs=8)
        >>> values.shape  # f − f* after each step (row 0: the start), one column per run
        (101, 8)

    Args:
        curvatures: the ``h_i``, a 1-D sequence of finite numbers > 0.
        minimum: ``θ*``, a sequence of the same length; default all zeros.
        sigma: standard deviation of the noise in each gradient coordinate, >= 0.
        seed: integer seed (>= 0) of the noise.

    Raises:
        TypeError, ValueError: for an argument of the wrong type or out of range.
    """

    def __init__(self, curvatures, minimum=None, sigma=1.0, seed=0):
        h = np.asarray(curvatures, dtype=float) if _is_real_sequence(curvatures) else None
        if h is None or h.ndim != 1 or h.size == 0:
            raise TypeError(f"curvatures must be a non-empty 1-D sequence of numbers, "
                            f"got {curvatures!r}")
        if not np.all(np.isfinite(h) & (h > 0)):
            raise ValueError(f"curvatures must all be finite numbers > 0, got {h.tolist()}")
        if minimum is None:
            minimum = np.zeros_like(h)
        m = np.asarray(minimum, dtype=float) if _is_real_sequence(minimum) else None
        if m is None or m.shape != h.shape:
            raise TypeError(f"minimum must be a sequence of {h.size} numbers (one per "
                            f"curvature), got {minimum!r}")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"minimum must be finite, got {m.tolist()}")
        self.curvatures, self.minimum = h, m
        self.sigma = _check_real("sigma", sigma, lambda v: v >= 0, "a finite number >= 0")
        self.seed = _check_int("seed", seed, 0)
        self._rng = np.random.default_rng(self.seed)

    @property
    def n(self):
        """The number of parameters of one run."""
        return self.curvatures.size

    def _checked_theta(self, theta):
        theta = np.asarray(theta, dtype=float)
        if theta.shape[-1:] != (self.n,):
            raise ValueError(f"theta must have {self.n} parameters in its last axis, "
                             f"got shape {theta.shape}")
        return theta

    def value(self, theta):
        """``f(θ) − f*`` for every run: the sum over the last axis."""
        theta = self._checked_theta(theta)
        return 0.5 * np.sum(self.curvatures * (theta - self.minimum) ** 2, axis=-1)

    def distance(self, theta):
        """``‖θ − θ*‖`` for every run."""
        theta = self._checked_theta(theta)
        return np.linalg.norm(theta - self.minimum, axis=-1)

    def exact_gradient(self, theta):
        """``h ⊙ (θ − θ*)``, without noise."""
        theta = self._checked_theta(theta)
        return self.curvatures * (theta - self.minimum)

    def gradient(self, theta):
        """The exact gradient plus fresh N(0, σ²) noise in every entry."""
        exact = self.exact_gradient(theta)
        return exact + self.sigma * self._rng.standard_normal(exact.shape)

    def run(self, opt, start, steps, n_runs, measure="value"):
        """Run ``opt`` on ``n_runs`` independent copies for ``steps`` steps.

        Args:
            opt: an ``optlib`` optimizer (used as it is: pass a fresh one).
            start: the common starting point, ``n`` numbers.
            steps: number of updates, an integer >= 0.
            n_runs: number of independent runs, an integer >= 1.
            measure: ``"value"`` (f − f*) or ``"distance"`` (‖θ − θ*‖).

        Returns:
            An array of shape ``(steps + 1, n_runs)``: the measure after each step,
            row 0 at the start.
        """
        steps = _check_int("steps", steps, 0)
        n_runs = _check_int("n_runs", n_runs, 1)
        if measure not in ("value", "distance"):
            raise ValueError(f"measure must be 'value' or 'distance', got {measure!r}")
        start = np.asarray(start, dtype=float)
        if start.shape != (self.n,):
            raise ValueError(f"start must be {self.n} numbers, got shape {start.shape}")
        of = self.value if measure == "value" else self.distance
        theta = np.tile(start, (n_runs, 1))
        out = np.empty((steps + 1, n_runs))
        out[0] = of(theta)
        for k in range(1, steps + 1):
            theta = opt.step(theta, self.gradient(theta))
            out[k] = of(theta)
        return out

    def __repr__(self):
        return (f"NoisyQuadratic(curvatures={self.curvatures.tolist()}, "
                f"minimum={self.minimum.tolist()}, sigma={self.sigma:g}, seed={self.seed})")


def _is_real_sequence(value):
    """True for a list, tuple or array of real numbers (not strings or booleans)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return False
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "iuf"
