"""Gradient descent and heavy-ball momentum on a quadratic, in closed form.

On a quadratic ``f(theta) = 1/2 (theta - theta*)^T H (theta - theta*)`` every
eigendirection of the Hessian H (eigenvalue ``lam``) evolves on its own, as the
one-dimensional problem ``f(theta) = lam/2 * theta^2`` (minimum at 0). This module
holds the formulas for that one-dimensional problem, for the chapters to check their
experiments against:

* gradient descent ``theta <- theta - alpha * lam * theta`` multiplies the error by
  ``1 - alpha*lam`` per step;
* heavy-ball momentum, PyTorch-style as in :class:`optlib.Momentum`::

      v     <- beta * v + lam * theta
      theta <- theta - alpha * v

  is a linear map of the pair ``(theta, v)``: :func:`momentum_matrix`. Its two
  eigenvalues (:func:`momentum_eigenvalues`) are the roots of

      z^2 - (1 + beta - alpha*lam) z + beta = 0,

  and the larger modulus (:func:`convergence_rate`) is the factor by which the error
  shrinks per step in the long run.

Facts derived in the chapter "Momentum" and implemented here:

* stable (the error goes to 0 from every start) iff
  ``0 < alpha*lam < 2 (1 + beta)`` (with ``0 <= beta < 1``): :func:`is_stable`,
  :func:`max_stable_lr`;
* complex eigenvalues (an oscillating, "under-damped" error) iff
  ``(1 - sqrt(beta))^2 < alpha*lam < (1 + sqrt(beta))^2``; then both have modulus
  ``sqrt(beta)``: :func:`regime`;
* critical damping (a real double eigenvalue) at ``beta = (1 - sqrt(alpha*lam))^2``,
  the fastest beta for that ``alpha*lam``: :func:`critical_beta`;
* for eigenvalues in ``[mu, L]`` (condition number ``kappa = L/mu``) the best
  gradient-descent rate is ``(kappa - 1)/(kappa + 1)`` at ``alpha = 2/(mu + L)``
  (:func:`optimal_gd`); the best momentum rate is ``(sqrt(kappa) - 1)/(sqrt(kappa) + 1)``
  at ``alpha = 4/(sqrt(L) + sqrt(mu))^2``, ``beta = rate^2`` (Polyak 1964;
  :func:`optimal_momentum`).

Conventions. ``alpha`` here is exactly ``lr`` of :class:`optlib.Momentum` and ``beta``
its ``beta``: with a constant learning rate, v <- beta*v + g; theta <- theta - alpha*v
gives the same iterates as Polyak's two-step form
``theta_{k+1} = theta_k - alpha*grad f(theta_k) + beta*(theta_k - theta_{k-1})``
(started with ``theta_{-1} = theta_0``), because ``theta_k - theta_{k-1} = -alpha*v_k``.
Sutskever et al.'s form (``v <- beta*v - alpha*g; theta <- theta + v``) also gives
the same iterates with the same ``alpha`` and ``beta`` (while ``alpha`` is constant; a
schedule that changes it makes the forms differ, see :class:`optlib.Momentum`). So
Polyak's optimal parameters need no conversion.

The same one-dimensional problem for Nesterov's method (optlib's rewritten form
``g = lam*theta; v <- beta*v + g; theta <- theta - alpha*(g + beta*v)``):
:func:`nesterov_matrix`, :func:`nesterov_convergence_rate` (trace
``(1 + beta)(1 - alpha*lam)``, determinant ``beta (1 - alpha*lam)``),
:func:`nesterov_max_stable_lr` (``2 (1 + beta) / ((1 + 2 beta) lam)``) and
:func:`optimal_nesterov` (Lessard et al. 2016). And for gradient descent with noisy
gradients, :func:`gd_noise_floor`: the expected ``f - f*`` at which a constant learning
rate settles.

Every function accepts plain numbers. :func:`momentum_eigenvalues`,
:func:`convergence_rate`, :func:`is_stable` and :func:`critical_beta` also accept numpy
arrays (broadcast together), which is handy for drawing the rate over a grid of
(alpha, beta).

References:
    Polyak (1964), Some methods of speeding up the convergence of iteration methods.
    Goh (2017), Why Momentum Really Works, Distill.
    Lessard, Recht, Packard (2016), Analysis and design of optimization algorithms via
    integral quadratic constraints.
    Bottou, Curtis, Nocedal (2018), Optimization methods for large-scale machine learning.
"""

import math
import numbers
from typing import NamedTuple

import numpy as np

__all__ = [
    "momentum_matrix",
    "momentum_eigenvalues",
    "convergence_rate",
    "rate",
    "gd_rate",
    "is_stable",
    "max_stable_lr",
    "regime",
    "critical_beta",
    "optimal_gd",
    "optimal_momentum",
    "GDParameters",
    "MomentumParameters",
    "nesterov_matrix",
    "nesterov_convergence_rate",
    "nesterov_max_stable_lr",
    "optimal_nesterov",
    "NesterovParameters",
    "gd_noise_floor",
]


# ------------------------------------------------------------------------- validation


def _number(name, value, test, accepted):
    """``value`` as a float, or an error naming ``name`` and what is accepted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {accepted}, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not (math.isfinite(value) and test(value)):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return value


def _array(name, value, test, accepted):
    """``value`` as a float, or as a float64 array if it is an array; checked."""
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        array = np.asarray(value)
        if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(
            array
        ):
            raise TypeError(f"{name} must be {accepted}, got an array of dtype {array.dtype}")
        array = array.astype(float)
        bad = ~(np.isfinite(array) & test(array))
        if bad.any():
            raise ValueError(f"{name} must be {accepted}, got {array[bad].ravel()[0]!r}")
        return array
    return _number(name, value, test, accepted)


def _alpha(alpha, array=False):
    check = _array if array else _number
    return check("alpha", alpha, lambda a: a >= 0, "a finite number >= 0 (the learning rate)")


def _beta(beta, array=False):
    check = _array if array else _number
    return check("beta", beta, lambda b: (b >= 0) & (b <= 1), "a number in [0, 1]")


def _lam(lam, array=False):
    check = _array if array else _number
    return check("lam", lam, lambda x: x >= 0, "a finite number >= 0 (a curvature)")


def _mu_L(mu, L):
    mu = _number("mu", mu, lambda x: x > 0, "a finite number > 0 (the smallest curvature)")
    L = _number("L", L, lambda x: x > 0, "a finite number > 0 (the largest curvature)")
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu = {mu!r} > L = {L!r}")
    return mu, L


# ------------------------------------------------------------------------- one eigenvalue


def momentum_matrix(alpha, beta, lam, form="velocity"):
    """The 2x2 matrix of one momentum step on ``f(theta) = lam/2 * theta^2``.

    ``form="velocity"`` (default): the state is optlib's ``(theta_k, v_k)``. Insert
    the gradient ``lam*theta_k`` into ``v_{k+1} = beta*v_k + lam*theta_k`` and
    ``theta_{k+1} = theta_k - alpha*v_{k+1}``::

        [theta_{k+1}]   [1 - alpha*lam   -alpha*beta] [theta_k]
        [v_{k+1}    ] = [lam              beta      ] [v_k    ]

    ``form="two_step"``: the state is ``(theta_k, theta_{k-1})``, Polyak's form
    ``theta_{k+1} = (1 + beta - alpha*lam) theta_k - beta theta_{k-1}``::

        [theta_{k+1}]   [1 + beta - alpha*lam   -beta] [theta_k    ]
        [theta_k    ] = [1                       0   ] [theta_{k-1}]

    Both matrices have trace ``1 + beta - alpha*lam`` and determinant ``beta``, so the
    same eigenvalues (:func:`momentum_eigenvalues`).

    Args:
        alpha: learning rate (optlib's ``lr``), >= 0.
        beta: momentum coefficient, in [0, 1].
        lam: curvature (an eigenvalue of the Hessian), >= 0.
        form: ``"velocity"`` or ``"two_step"``.

    Returns:
        A (2, 2) float64 array.

    Example:
        >>> momentum_matrix(0.5, 0.9, 1.0)
        array([[ 0.5 , -0.45],
               [ 1.  ,  0.9 ]])
    """
    alpha, beta, lam = _alpha(alpha), _beta(beta), _lam(lam)
    if form == "velocity":
        return np.array([[1 - alpha * lam, -alpha * beta], [lam, beta]])
    if form == "two_step":
        return np.array([[1 + beta - alpha * lam, -beta], [1.0, 0.0]])
    raise ValueError(f"form must be 'velocity' or 'two_step', got {form!r}")


def momentum_eigenvalues(alpha, beta, lam):
    """The two eigenvalues of :func:`momentum_matrix`, as complex numbers.

    They are the roots of the characteristic polynomial
    ``z^2 - (1 + beta - alpha*lam) z + beta``::

        z = (t +- sqrt(t^2 - 4*beta)) / 2,    t = 1 + beta - alpha*lam.

    If ``t^2 < 4*beta`` they are complex conjugates and, their product being
    ``beta``, both have modulus ``sqrt(beta)``. (Distill's "Why Momentum Really
    Works" writes ``2*sqrt(beta)``: the 1/2 of the quadratic formula was dropped.)

    Accepts arrays (broadcast); returns ``(z1, z2)`` with ``|z1| >= |z2|``.
    """
    alpha, beta, lam = _alpha(alpha, True), _beta(beta, True), _lam(lam, True)
    t = 1 + beta - alpha * lam
    root = np.sqrt(np.asarray(t * t - 4 * beta, dtype=complex))
    # Put the root with the larger modulus first: for real roots it has the sign of t.
    sign = np.where(np.real(t) < 0, -1.0, 1.0)
    z1, z2 = (t + sign * root) / 2, (t - sign * root) / 2
    if np.ndim(z1) == 0:
        return complex(z1), complex(z2)
    return z1, z2


def convergence_rate(alpha, beta, lam):
    """Spectral radius of :func:`momentum_matrix`: the error's factor per step.

    After k steps the error is about ``rate^k`` times its start (times a factor
    growing like k when the two eigenvalues coincide). The closed form::

        D = (1 + beta - alpha*lam)^2 - 4*beta
        rate = sqrt(beta)                                  if D < 0 (complex pair)
        rate = (|1 + beta - alpha*lam| + sqrt(D)) / 2      if D >= 0 (real pair)

    With ``beta = 0`` this is gradient descent's ``|1 - alpha*lam|``. Accepts arrays.

    Example:
        >>> round(convergence_rate(alpha=1.0, beta=0.0, lam=0.5), 12)
        0.5
        >>> round(convergence_rate(alpha=1.0, beta=0.81, lam=0.5), 12)  # complex pair
        0.9
    """
    alpha, beta, lam = _alpha(alpha, True), _beta(beta, True), _lam(lam, True)
    t = 1 + beta - alpha * lam
    D = t * t - 4 * beta
    real = (np.abs(t) + np.sqrt(np.maximum(D, 0.0))) / 2
    result = np.where(D < 0, np.sqrt(beta), real)
    return float(result) if np.ndim(result) == 0 else result


def rate(alpha, beta, eigenvalues):
    """The slowest eigendirection's rate: ``max(convergence_rate(alpha, beta, lam))``
    over the Hessian's ``eigenvalues`` (a number or a sequence of numbers >= 0).

    On a quadratic, ``||theta_k - theta*||`` shrinks like ``rate^k`` in the long run.
    """
    lams = np.atleast_1d(_lam(list(np.ravel(eigenvalues)), True))
    if lams.size == 0:
        raise ValueError("eigenvalues must contain at least one number")
    return float(np.max(convergence_rate(alpha, beta, lams)))


def gd_rate(alpha, eigenvalues):
    """Gradient descent's rate ``max |1 - alpha*lam|`` over ``eigenvalues``
    (:func:`rate` with ``beta = 0``)."""
    return rate(alpha, 0.0, eigenvalues)


def is_stable(alpha, beta, lam):
    """Whether momentum converges on ``lam/2 * theta^2`` from every start.

    The two roots of ``p(z) = z^2 - (1 + beta - alpha*lam) z + beta`` lie inside the
    unit circle iff::

        beta < 1,   p(1) = alpha*lam > 0,   p(-1) = 2(1 + beta) - alpha*lam > 0,

    i.e. ``0 < alpha*lam < 2(1 + beta)`` with ``0 <= beta < 1``. Gradient descent
    (``beta = 0``) gets back its ``alpha*lam < 2``. Accepts arrays.
    """
    alpha, beta, lam = _alpha(alpha, True), _beta(beta, True), _lam(lam, True)
    a = alpha * lam
    result = (beta < 1) & (a > 0) & (a < 2 * (1 + beta))
    return bool(result) if np.ndim(result) == 0 else result


def max_stable_lr(beta, lam):
    """The stability limit ``2 (1 + beta) / lam``: momentum converges for learning
    rates below it and diverges above (3.8/lam for beta = 0.9, against 2/lam for
    gradient descent)."""
    beta = _number("beta", beta, lambda b: 0 <= b < 1, "a number in [0, 1)")
    lam = _number("lam", lam, lambda x: x > 0, "a finite number > 0 (a curvature)")
    return 2 * (1 + beta) / lam


def regime(alpha, beta, lam, tol=1e-12):
    """How the error moves in this eigendirection, from the discriminant
    ``D = (1 + beta - alpha*lam)^2 - 4*beta`` of the characteristic polynomial:

    * ``"under-damped"``: D < 0, a complex pair of modulus sqrt(beta): the error
      spirals (oscillates) while it shrinks;
    * ``"critically damped"``: D = 0 (within ``tol``), a real double root;
    * ``"over-damped"``: D > 0, two real roots: no spiralling (a negative root,
      for alpha*lam > 1 + beta, still flips the sign each step, as in gradient descent).
    """
    alpha, beta, lam = _alpha(alpha), _beta(beta), _lam(lam)
    t = 1 + beta - alpha * lam
    D = t * t - 4 * beta
    if abs(D) <= tol:
        return "critically damped"
    return "under-damped" if D < 0 else "over-damped"


def critical_beta(alpha, lam):
    """The momentum coefficient of critical damping, ``(1 - sqrt(alpha*lam))^2``.

    For fixed ``a = alpha*lam`` the discriminant ``(1 + beta - a)^2 - 4*beta`` is zero
    at ``beta = (1 -+ sqrt(a))^2``; the root with the minus sign is the one below 1
    (for ``0 < a < 4``). There the two eigenvalues meet at ``1 - sqrt(a)``, and no
    other beta gives this direction a smaller rate: below it the larger real root is
    bigger, above it the complex pair has modulus ``sqrt(beta) > |1 - sqrt(a)|``.
    Accepts arrays.

    Raises:
        ValueError: unless ``0 < alpha*lam < 4``.
    """
    alpha, lam = _alpha(alpha, True), _lam(lam, True)
    a = alpha * lam
    if np.any((a <= 0) | (a >= 4)):
        raise ValueError(f"critical damping needs 0 < alpha*lam < 4, got alpha*lam = {a!r}")
    result = (1 - np.sqrt(a)) ** 2
    return float(result) if np.ndim(result) == 0 else result


# ------------------------------------------------------------------------- best parameters


class GDParameters(NamedTuple):
    """Best fixed learning rate of gradient descent and its rate per step."""

    lr: float
    rate: float


class MomentumParameters(NamedTuple):
    """Best (lr, beta) of heavy-ball momentum and its rate per step."""

    lr: float
    beta: float
    rate: float


def optimal_gd(mu, L):
    """Gradient descent's best fixed learning rate for eigenvalues in ``[mu, L]``.

    The factors ``|1 - alpha*lam|`` are largest at ``lam = mu`` and ``lam = L``;
    making them equal gives::

        lr = 2 / (mu + L),   rate = (L - mu) / (L + mu) = (kappa - 1) / (kappa + 1).

    Example:
        >>> optimal_gd(0.01, 1.0)
        GDParameters(lr=1.9801980198019802, rate=0.9801980198019802)
    """
    mu, L = _mu_L(mu, L)
    return GDParameters(lr=2 / (mu + L), rate=(L - mu) / (L + mu))


def optimal_momentum(mu, L):
    """Heavy-ball momentum's best (lr, beta) for eigenvalues in ``[mu, L]`` (Polyak).

    Put every eigenvalue in the complex regime, where the rate is ``sqrt(beta)``
    whatever ``lam``: that needs ``(1 - sqrt(beta))^2 <= alpha*mu`` and
    ``alpha*L <= (1 + sqrt(beta))^2``. The smallest beta meeting both makes them
    equalities, ``sqrt(alpha*mu) = 1 - sqrt(beta)`` and ``sqrt(alpha*L) = 1 + sqrt(beta)``::

        lr   = 4 / (sqrt(L) + sqrt(mu))^2
        beta = ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2
        rate = sqrt(beta) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1).

    ``lr`` is optlib's ``Momentum(lr=...)`` as it is (see the module docstring: the
    PyTorch, Polyak and Sutskever forms share alpha and beta while alpha is constant).
    The two extreme eigenvalues sit at critical damping (a double root), so the error
    shrinks like ``k * rate^k`` there rather than exactly ``rate^k``.

    Example:
        >>> p = optimal_momentum(0.01, 1.0)
        >>> round(p.lr, 4), round(p.beta, 4), round(p.rate, 4)
        (3.3058, 0.6694, 0.8182)
    """
    mu, L = _mu_L(mu, L)
    sL, smu = math.sqrt(L), math.sqrt(mu)
    r = (sL - smu) / (sL + smu)
    return MomentumParameters(lr=4 / (sL + smu) ** 2, beta=r * r, rate=r)


# ------------------------------------------------------------------------- Nesterov


class NesterovParameters(NamedTuple):
    """Best (lr, beta) of Nesterov's method on a quadratic and its rate per step."""

    lr: float
    beta: float
    rate: float


def nesterov_matrix(alpha, beta, lam):
    """The 2x2 matrix of one step of :class:`optlib.Nesterov` on ``lam/2 * theta^2``.

    optlib's (and PyTorch's) rewritten form, with the gradient ``g_k = lam*theta_k``
    taken at the stored point: ``v_{k+1} = beta*v_k + g_k`` and
    ``theta_{k+1} = theta_k - alpha*(g_k + beta*v_{k+1})``. On the state
    ``(theta_k, v_k)``::

        [theta_{k+1}]   [1 - (1 + beta)*alpha*lam   -alpha*beta^2] [theta_k]
        [v_{k+1}    ] = [lam                         beta        ] [v_k    ]

    Its trace is ``(1 + beta)(1 - alpha*lam)`` and its determinant
    ``beta (1 - alpha*lam)``; heavy ball's (:func:`momentum_matrix`) are
    ``1 + beta - alpha*lam`` and ``beta``.

    Example:
        >>> nesterov_matrix(0.5, 0.5, 1.0)
        array([[ 0.25 , -0.125],
               [ 1.   ,  0.5  ]])
    """
    alpha, beta, lam = _alpha(alpha), _beta(beta), _lam(lam)
    return np.array([[1 - (1 + beta) * alpha * lam, -alpha * beta**2], [lam, beta]])


def nesterov_convergence_rate(alpha, beta, lam):
    """Spectral radius of :func:`nesterov_matrix`: Nesterov's factor per step.

    The larger modulus of the roots of ``z^2 - T z + D`` with
    ``T = (1 + beta)(1 - alpha*lam)`` and ``D = beta (1 - alpha*lam)``. When the roots
    are complex both have modulus ``sqrt(D) = sqrt(beta (1 - alpha*lam))``: friction
    that grows with the curvature, where heavy ball has ``sqrt(beta)`` for every
    curvature. Accepts arrays (broadcast).

    Example:
        >>> nesterov_convergence_rate(1.0, 0.9, 1.0)  # alpha = 1/lam: both roots are 0
        0.0
    """
    alpha, beta, lam = _alpha(alpha, True), _beta(beta, True), _lam(lam, True)
    h = alpha * lam
    trace, det = (1 + beta) * (1 - h), beta * (1 - h)
    root = np.sqrt(np.asarray(trace * trace - 4 * det, dtype=complex))
    result = np.maximum(np.abs((trace + root) / 2), np.abs((trace - root) / 2))
    return float(result) if np.ndim(result) == 0 else result


def nesterov_max_stable_lr(beta, lam):
    """Nesterov's stability limit ``2 (1 + beta) / ((1 + 2 beta) lam)``.

    Both roots of ``z^2 - T z + D`` lie inside the unit circle iff ``|D| < 1`` and
    ``|T| < 1 + D``; with Nesterov's T and D that is
    ``0 < alpha*lam < 2 (1 + beta) / (1 + 2 beta)``: 1.357/lam for beta = 0.9, below
    gradient descent's 2/lam for every beta > 0 (heavy ball: ``2 (1 + beta) / lam``).
    """
    beta = _number("beta", beta, lambda b: 0 <= b < 1, "a number in [0, 1)")
    lam = _number("lam", lam, lambda x: x > 0, "a finite number > 0 (a curvature)")
    return 2 * (1 + beta) / ((1 + 2 * beta) * lam)


def optimal_nesterov(mu, L):
    """Nesterov's best constant (lr, beta) for eigenvalues in ``[mu, L]``::

        lr   = 4 / (3 L + mu)
        beta = (sqrt(3 kappa + 1) - 2) / (sqrt(3 kappa + 1) + 2)
        rate = 1 - 2 / sqrt(3 kappa + 1)

    (Lessard, Recht and Packard 2016). For large kappa the rate is about
    ``1 - 2/sqrt(3 kappa)``, against heavy ball's ``1 - 2/sqrt(kappa)``
    (:func:`optimal_momentum`): on quadratics tuned heavy ball is the faster.

    Example:
        >>> p = optimal_nesterov(0.01, 1.0)
        >>> round(p.lr, 4), round(p.beta, 4), round(p.rate, 4)
        (1.3289, 0.7933, 0.8847)
    """
    mu, L = _mu_L(mu, L)
    q = math.sqrt(3 * L / mu + 1)
    return NesterovParameters(lr=4 / (3 * L + mu), beta=(q - 2) / (q + 2), rate=1 - 2 / q)


# ------------------------------------------------------------------------- noisy gradients


def gd_noise_floor(alpha, eigenvalues, sigma):
    """Expected ``f - f*`` at which gradient descent with noisy gradients settles.

    The gradient is ``H (theta - theta*) + xi`` with fresh noise ``xi ~ N(0, sigma^2 I)``
    at every step (as :class:`optlib.landscapes.Noisy` makes it). In the eigendirection
    of curvature ``lam`` the error follows ``z <- (1 - alpha*lam) z - alpha*xi``, so its
    variance follows ``s <- (1 - alpha*lam)^2 s + alpha^2 sigma^2`` and settles at
    ``alpha sigma^2 / (lam (2 - alpha*lam))``. With ``f - f* = sum(lam z^2) / 2``::

        floor = sum over eigenvalues of  alpha sigma^2 / (2 (2 - alpha*lam))
              ~ d alpha sigma^2 / 4        for alpha*lam << 1 (d directions).

    The floor is proportional to the learning rate and, for small ``alpha*lam``, does not
    depend on the curvatures at all; it grows without bound as ``alpha`` nears ``2/L``.

    Args:
        alpha: the constant learning rate, with ``0 < alpha*lam < 2`` for every
            eigenvalue (otherwise gradient descent diverges and there is no floor).
        eigenvalues: the Hessian's eigenvalues, a number or a sequence of numbers > 0.
        sigma: the noise's standard deviation per coordinate, >= 0.

    Example:
        >>> gd_noise_floor(1.0, [1.0], 1.0)  # z = -xi after every step: E[z^2/2] = 1/2
        0.5
    """
    alpha = _number("alpha", alpha, lambda a: a > 0, "a finite number > 0 (the learning rate)")
    lams = np.atleast_1d(_array("eigenvalues", list(np.ravel(eigenvalues)), lambda x: x > 0,
                                "numbers > 0 (curvatures)"))
    if lams.size == 0:
        raise ValueError("eigenvalues must contain at least one number")
    sigma = _number("sigma", sigma, lambda x: x >= 0, "a finite number >= 0")
    if np.any(alpha * lams >= 2):
        raise ValueError(f"alpha must be below 2/L = {2 / lams.max():.6g} for a noise floor "
                         f"to exist (gradient descent diverges otherwise), got alpha = {alpha!r}")
    return float(np.sum(alpha * sigma**2 / (2 * (2 - alpha * lams))))
