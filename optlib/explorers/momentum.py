"""The explorer and the small helpers of the chapter "Momentum".

You can skip this module on first reading: the chapter explains what it shows.

* :func:`momentum_in_a_ravine`: the chapter's explorer, gradient descent and heavy-ball
  momentum with the same learning rate on ``Ravine(kappa=100)``; its caption adds the
  rates per step that the quadratic theory (:mod:`optlib.quadratic`) predicts.
* :class:`TiltedDoubleWell`: a landscape with a shallow local minimum next to a deeper
  one, for testing the claim that momentum "rolls through" shallow minima.
"""

import math

import numpy as np

from .. import quadratic
from ..landscapes import Landscape, Ravine
from ..optimizers import SGD, Momentum
from ..widgets import Explorer, register

#: The ravine of the explorer: condition number 100, largest curvature L = 1.
MOMENTUM_KAPPA = 100

#: Learning rates of the explorer. Gradient descent needs α < 2/L = 2 (1.9 is stable,
#: 2.1 is not); momentum's limit is 2(1 + β)/L, up to 3.98 for β = 0.99 (3.7 is stable
#: for β >= 0.9 only). 3.3 is close to Polyak's best α* = 4/(√L + √μ)² = 3.306 for κ = 100.
MOMENTUM_LEARNING_RATES = [0.1, 0.3, 1.0, 1.9, 2.1, 3.3, 3.7]

#: Momentum coefficients. β = 0 is gradient descent; 0.67 is close to Polyak's best
#: β* = ((√κ − 1)/(√κ + 1))² = 0.669 for κ = 100; 0.8 and 0.9 are close to critical
#: damping of the flat direction for α = 1 (0.81) and α = 0.3 (0.89).
MOMENTUM_BETAS = [0.0, 0.3, 0.5, 0.67, 0.8, 0.9, 0.95, 0.99]


class MomentumExplorer(Explorer):
    """An :class:`~optlib.widgets.Explorer` whose caption also states what the quadratic
    theory predicts for the current (α, β): momentum's and gradient descent's rate per
    step (:func:`optlib.quadratic.rate`) and how each eigendirection of the ravine
    moves (:func:`optlib.quadratic.regime`)."""

    def describe(self, run):
        text = super().describe(run)
        lr, beta = run.values["lr"], run.values["beta"]
        mu, L = run.landscape.eigenvalues
        parts = []
        for name, b in (("Momentum", beta), ("GD", 0.0)):
            rho = quadratic.rate(lr, b, (mu, L))
            parts.append(f"{name} ρ = {rho:.3f}" + (" (unstable)" if rho >= 1 else ""))
        along, across = (quadratic.regime(lr, beta, lam) for lam in (mu, L))
        return (f"{text} · theory, error factor per step: {', '.join(parts)}; momentum is "
                f"{along} along the valley, {across} across it")


@register
def momentum_in_a_ravine():
    """Gradient descent and heavy-ball momentum with the same learning rate α on
    Ravine(kappa=100): α and the momentum coefficient β as sliders (β = 0 makes momentum
    gradient descent). Chapter "Momentum"."""
    return MomentumExplorer(
        landscape=Ravine(kappa=MOMENTUM_KAPPA),
        optimizers=lambda lr, beta: {"GD": SGD(lr=lr), "Momentum": Momentum(lr=lr, beta=beta)},
        controls={"lr": MOMENTUM_LEARNING_RATES, "beta": MOMENTUM_BETAS},
        labels={"lr": "α", "beta": "β"},
        initial={"lr": 1.0, "beta": 0.9},
        steps=100,
    )


class TiltedDoubleWell(Landscape):
    """A double well tilted so that one minimum is shallow: a trap for gradient descent.

    f(x, y) = (x^2 - 1)^2 + c*x + y^2 / 2. Along x, the tilt c > 0 lifts the right-hand
    well: for c = 0.3 its minimum near x = 0.96 is local (f = 0.29), behind a barrier
    near x = 0.08 (f = 1.01), and the global minimum is near x = -1.04 (f = -0.31). The
    y direction is a plain bowl, so a path started on y = 0 stays there: the landscape
    is one-dimensional in effect, and two-dimensional only so that
    :func:`optlib.trajectory` can run on it.

    Args:
        c: the tilt, in (0, 0.5) so that both wells exist. Default 0.3.
        start: the starting x. Default 2 (on the steep outer wall of the shallow well).
    """

    log_scale = False

    def __init__(self, c=0.3, start=2.0):
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c < 0.5:
            raise ValueError(f"TiltedDoubleWell: c must be a number in (0, 0.5), got {c!r}")
        if isinstance(start, bool) or not isinstance(start, (int, float)) or not math.isfinite(
            start
        ):
            raise ValueError(f"TiltedDoubleWell: start must be a finite number, got {start!r}")
        self.c = float(c)
        self.name = f"tilted double well (c = {self.c:g})"
        self.start = (float(start), 0.0)
        self.bounds = ((-2.0, 2.2), (-1.0, 1.0))
        # The three critical points on y = 0: roots of f'(x) = 4x^3 - 4x + c.
        roots = np.sort(np.roots([4.0, 0.0, -4.0, self.c]).real)
        self.global_x, self.barrier_x, self.local_x = (float(r) for r in roots)
        self.minima = ((self.global_x, 0.0),)
        self.min_value = float(self.value(self.global_x, 0.0))

    def value(self, x, y):
        return (x * x - 1) ** 2 + self.c * x + 0.5 * y * y

    def grad(self, x, y):
        return 4 * x * (x * x - 1) + self.c, y

    def __repr__(self):
        return f"TiltedDoubleWell(c={self.c:g}, start={self.start[0]:g})"

