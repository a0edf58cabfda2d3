"""Two-dimensional test functions for watching optimizers move.

Every landscape has ``value(x, y)`` and an analytic ``grad(x, y) -> (gx, gy)`` that
work on Python floats (fast, for :func:`optlib.trajectory`) and on numpy arrays of any
shape (for contour plots). For the array API of the optimizers there are
``f(theta)`` and ``gradient(theta)``, taking points of shape ``(2,)`` or ``(n, 2)``.

Each also carries what a plot or a test needs: a ``name``, a default ``start``,
plotting ``bounds``, its known ``minima`` and ``min_value``.

Example:
    >>> from optlib import Adam, Rosenbrock, trajectory
    >>> path = trajectory(Adam(lr=0.05), Rosenbrock(), steps=500)
    >>> path.shape
    (501, 2)
"""

import math

import numpy as np


def _cos(x):
    return math.cos(x) if isinstance(x, float) else np.cos(x)


def _sin(x):
    return math.sin(x) if isinstance(x, float) else np.sin(x)


class Landscape:
    """Base class: subclasses define ``value`` and ``grad`` and the attributes below.

    Attributes:
        name: a short human-readable name.
        start: default starting point (x, y).
        bounds: ((x_min, x_max), (y_min, y_max)) for plots.
        minima: known minimisers, a tuple of (x, y); empty if unbounded below.
        min_value: the value at the global minimum (None if unbounded below).
        log_scale: whether contour plots read better with log-spaced levels.
    """

    name = "landscape"
    start = (0.0, 0.0)
    bounds = ((-1.0, 1.0), (-1.0, 1.0))
    minima = ()
    min_value = None
    log_scale = False

    def value(self, x, y):
        raise NotImplementedError

    def grad(self, x, y):
        raise NotImplementedError

    def f(self, theta):
        """Value at points ``theta`` of shape (2,) or (n, 2)."""
        theta = np.asarray(theta, dtype=float)
        return self.value(theta[..., 0], theta[..., 1])

    def gradient(self, theta):
        """Gradient at points ``theta`` of shape (2,) or (n, 2), same shape back."""
        theta = np.asarray(theta, dtype=float)
        gx, gy = self.grad(theta[..., 0], theta[..., 1])
        return np.stack([gx, gy], axis=-1)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Ravine(Landscape):
    """An ill-conditioned quadratic: steep across, shallow along.

    f(x, y) = 1/2 * theta^T H theta with H = R diag(L / kappa, L) R^T, where R rotates
    by ``angle`` radians. With angle = 0 the valley floor is the x axis: curvature
    L / kappa along it (x), L across it (y). Minimum 0 at the origin.

    Gradient descent converges only for lr < 2 / L and its best rate per step is
    (kappa - 1) / (kappa + 1); momentum's is (sqrt(kappa) - 1) / (sqrt(kappa) + 1).

    Args:
        kappa: condition number L / mu, >= 1. Default 10.
        L: the largest curvature (eigenvalue of H), > 0. Default 1.
        angle: rotation of the valley in radians. Default 0.
    """

    log_scale = True

    def __init__(self, kappa=10.0, L=1.0, angle=0.0):
        for name, value, ok, accepted in (
            ("kappa", kappa, lambda v: v >= 1, "a finite number >= 1"),
            ("L", L, lambda v: v > 0, "a finite number > 0"),
            ("angle", angle, lambda v: True, "a finite number (radians)"),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"Ravine: {name} must be {accepted}, got {value!r}")
            if not (math.isfinite(value) and ok(value)):
                raise ValueError(f"Ravine: {name} must be {accepted}, got {value!r}")
        self.kappa, self.L, self.angle = float(kappa), float(L), float(angle)
        self.mu = self.L / self.kappa
        c, s = math.cos(self.angle), math.sin(self.angle)
        # H = R diag(mu, L) R^T, written out so that grad() is plain float arithmetic.
        self.hxx = self.mu * c * c + self.L * s * s
        self.hxy = (self.mu - self.L) * c * s
        self.hyy = self.mu * s * s + self.L * c * c
        self.name = f"ravine (κ = {self.kappa:g})"
        self.start = (-4.0 * c - 1.0 * s, -4.0 * s + 1.0 * c)  # R @ (-4, 1)
        self.bounds = ((-5.0, 5.0), (-5.0, 5.0)) if self.angle else ((-5.0, 5.0), (-2.5, 2.5))
        self.minima = ((0.0, 0.0),)
        self.min_value = 0.0

    @property
    def hessian(self):
        """The constant Hessian H, a 2x2 array."""
        return np.array([[self.hxx, self.hxy], [self.hxy, self.hyy]])

    @property
    def eigenvalues(self):
        """(mu, L): the curvatures along and across the valley."""
        return (self.mu, self.L)

    def value(self, x, y):
        return 0.5 * (self.hxx * x * x + 2 * self.hxy * x * y + self.hyy * y * y)

    def grad(self, x, y):
        return self.hxx * x + self.hxy * y, self.hxy * x + self.hyy * y

    def __repr__(self):
        return f"Ravine(kappa={self.kappa:g}, L={self.L:g}, angle={self.angle:g})"


class Rosenbrock(Landscape):
    """Rosenbrock's banana valley: f = (a - x)^2 + b (y - x^2)^2, minimum 0 at (a, a^2).

    A curved, flat-bottomed valley: easy to find, slow to follow. The source article
    starts at (-1, 1) with a = 1, b = 100.
    """

    log_scale = True

    def __init__(self, a=1.0, b=100.0):
        self.a, self.b = float(a), float(b)
        self.name = "Rosenbrock"
        self.start = (-1.0, 1.0)
        self.bounds = ((-2.0, 2.0), (-1.0, 3.0))
        self.minima = ((self.a, self.a**2),)
        self.min_value = 0.0

    def value(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def grad(self, x, y):
        r = y - x * x
        return -2 * (self.a - x) - 4 * self.b * x * r, 2 * self.b * r

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Beale(Landscape):
    """Beale's function: flat plateaus and sharp ridges, minimum 0 at (3, 0.5)."""

    log_scale = True
    name = "Beale"
    start = (1.0, 1.5)
    bounds = ((-4.5, 4.5), (-4.5, 4.5))
    minima = ((3.0, 0.5),)
    min_value = 0.0

    def value(self, x, y):
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y**3) ** 2

    def grad(self, x, y):
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y * y
        t3 = 2.625 - x + x * y**3
        gx = 2 * t1 * (y - 1) + 2 * t2 * (y * y - 1) + 2 * t3 * (y**3 - 1)
        gy = 2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y * y
        return gx, gy


class Himmelblau(Landscape):
    """Himmelblau's function: four minima, all with value 0. Where you start decides."""

    log_scale = True
    name = "Himmelblau"
    start = (0.0, 0.0)
    bounds = ((-5.0, 5.0), (-5.0, 5.0))
    minima = (
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.283185991286170),
        (3.584428340330492, -1.848126526964404),
    )
    min_value = 0.0

    def value(self, x, y):
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def grad(self, x, y):
        a = x * x + y - 11
        b = x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


class Saddle(Landscape):
    """A saddle point: f = x^2 - y^2. Unbounded below; the origin is a stationary point.

    Starting almost on the x axis, the gradient along y is tiny: plain gradient
    descent lingers near the saddle while momentum and adaptive methods escape.
    """

    name = "saddle"
    start = (1.0, 1e-3)
    bounds = ((-1.5, 1.5), (-1.5, 1.5))
    minima = ()
    min_value = None
    saddle_points = ((0.0, 0.0),)

    def value(self, x, y):
        return x * x - y * y

    def grad(self, x, y):
        return 2 * x, -2 * y


class Rastrigin(Landscape):
    """Rastrigin's function: a bowl covered in a grid of local minima; global minimum 0 at 0.

    f = 20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y).
    """

    name = "Rastrigin"
    start = (3.2, -2.3)
    bounds = ((-5.12, 5.12), (-5.12, 5.12))
    minima = ((0.0, 0.0),)
    min_value = 0.0

    def value(self, x, y):
        tau = 2 * math.pi
        return 20 + x * x - 10 * _cos(tau * x) + y * y - 10 * _cos(tau * y)

    def grad(self, x, y):
        tau = 2 * math.pi
        return 2 * x + 10 * tau * _sin(tau * x), 2 * y + 10 * tau * _sin(tau * y)


class Noisy(Landscape):
    """A landscape whose gradients carry Gaussian noise: a stand-in for minibatch SGD.

    ``grad(x, y)`` returns the true gradient plus independent N(0, sigma^2) noise in
    each coordinate; ``value`` stays exact, so f - f* still measures true progress.
    The noise comes from ``numpy.random.default_rng(seed)``: a new ``Noisy`` with the
    same seed replays the same noise, so make one per run to compare optimizers on
    identical noise (one object shared by two runs gives them different noise).

    Args:
        landscape: the noiseless landscape.
        sigma: noise standard deviation per coordinate, >= 0.
        seed: seed of the noise.
    """

    def __init__(self, landscape, sigma, seed=0):
        if not isinstance(landscape, Landscape):
            raise TypeError(f"Noisy: landscape must be an optlib Landscape, got {landscape!r}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.number)) or not (
            math.isfinite(sigma) and sigma >= 0
        ):
            raise ValueError(f"Noisy: sigma must be a finite number >= 0, got {sigma!r}")
        self.landscape, self.sigma, self.seed = landscape, float(sigma), seed
        self._rng = np.random.default_rng(seed)
        self._noise, self._used = [], 0
        for name in ("start", "bounds", "minima", "min_value", "log_scale"):
            setattr(self, name, getattr(landscape, name))
        self.name = f"{landscape.name}, noisy (σ = {self.sigma:g})"

    def _next_noise(self):
        if self._used == len(self._noise):  # draw in blocks: one call per 4096 numbers
            self._noise, self._used = self._rng.standard_normal(4096).tolist(), 0
        self._used += 1
        return self.sigma * self._noise[self._used - 1]

    def value(self, x, y):
        return self.landscape.value(x, y)

    def grad(self, x, y):
        gx, gy = self.landscape.grad(x, y)
        if isinstance(gx, float):
            return gx + self._next_noise(), gy + self._next_noise()
        noise = self.sigma * self._rng.standard_normal((2, *np.shape(gx)))
        return gx + noise[0], gy + noise[1]

    def __repr__(self):
        return f"Noisy({self.landscape!r}, sigma={self.sigma:g}, seed={self.seed!r})"


#: One instance of each landscape, by short name.
LANDSCAPES = {
    "ravine": Ravine(),
    "rosenbrock": Rosenbrock(),
    "beale": Beale(),
    "himmelblau": Himmelblau(),
    "saddle": Saddle(),
    "rastrigin": Rastrigin(),
}
