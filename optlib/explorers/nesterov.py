"""The explorer and one figure helper of the chapter "Nesterov accelerated gradient".

You can skip this module on first reading: the chapter explains what it shows.
"""

import numpy as np

from .. import plotting
from ..landscapes import Ravine
from ..optimizers import Momentum, Nesterov
from ..widgets import Explorer, register

#: Learning rates of the explorer, on Ravine(kappa=100) with L = 1. Dense where the
#: behaviour changes: Nesterov's stability limit 2(1 + β)/(1 + 2β) is 1.357 at β = 0.9
#: (1.35 is just stable, 1.4 is not), heavy ball's limit 2(1 + β) is 3.8 (3.9 is not).
#: Ten values times six momenta is 60 precomputed frames (~0.9 MB in the web page).
NESTEROV_LEARNING_RATES = [0.05, 0.1, 0.3, 0.5, 1.0, 1.2, 1.35, 1.4, 2.0, 3.9]

#: Momentum coefficients of the explorer; β = 0 makes both methods gradient descent.
NESTEROV_MOMENTA = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99]


@register
def nesterov_versus_momentum():
    """Heavy-ball momentum and Nesterov with the same (α, β) on Ravine(kappa=100):
    learning rate and momentum coefficient as sliders. Chapter "Nesterov accelerated
    gradient"."""
    return Explorer(
        landscape=Ravine(kappa=100),
        optimizers=lambda lr, beta: {
            "Momentum": Momentum(lr=lr, beta=beta),
            "Nesterov": Nesterov(lr=lr, beta=beta),
        },
        controls={"lr": NESTEROV_LEARNING_RATES, "beta": NESTEROV_MOMENTA},
        labels={"lr": "α", "beta": "β"},
        initial={"lr": 1.0, "beta": 0.9},
        steps=150,
    )


def _arrow(ax, start, end, color, linestyle="-", label=None):
    ax.annotate("", xy=end, xytext=start, zorder=5,
                arrowprops={"arrowstyle": "-|>", "color": color, "linewidth": 1.8,
                            "linestyle": linestyle, "shrinkA": 0, "shrinkB": 0})
    if label is not None:  # an invisible line, so that the arrow has a legend entry
        ax.plot([], [], color=color, linestyle=linestyle, linewidth=1.8, label=label)


def draw_one_step(ax, landscape, phi, v, lr, beta, lookahead):
    """Draw one step of heavy ball (``lookahead=False``) or Nesterov (``True``) from
    the point ``phi`` with velocity ``v`` (gradient units), as two arrows over contours.

    The momentum arrow goes from φ to φ − αβv. The gradient arrow, −α∇f(p), starts at
    its tip; p is φ itself for heavy ball and the look-ahead point φ − αβv for
    Nesterov. A cross marks p. Returns the new point φ − αβv − α∇f(p).
    """
    phi, v = np.asarray(phi, dtype=float), np.asarray(v, dtype=float)
    plotting.contour(ax, landscape)
    ahead = phi - lr * beta * v
    where = ahead if lookahead else phi
    new = ahead - lr * landscape.gradient(where)
    colour = plotting.OKABE_ITO["vermillion"]
    _arrow(ax, phi, ahead, "black", "--", r"momentum part $-\alpha\beta v$")
    _arrow(ax, ahead, new, colour, "-", r"gradient part $-\alpha\nabla f$")
    ax.plot(*phi, marker="o", color="black", markersize=6, linestyle="none", zorder=6,
            label=r"current point $\varphi$")
    ax.plot(*where, marker="X", color=colour, markersize=10, markeredgecolor="black",
            linestyle="none", zorder=6, label="gradient taken here")
    return new
