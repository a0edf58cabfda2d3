"""The explorer of the chapter "AdaGrad": AdaGrad against gradient descent in a ravine.

AdaGrad rescales each coordinate by the root of its summed squared gradients. On a
ravine whose valley runs along an axis that undoes the ill-conditioning completely;
on a tilted ravine it cannot, because rescaling coordinates does not rotate them.
The explorer lets the reader see both: AdaGrad's learning rate, the condition number
and the valley's angle are sliders, and gradient descent runs beside it at its own
best fixed rate, 2 / (mu + L).
"""

import math

from ..landscapes import Ravine
from ..optimizers import SGD, AdaGrad
from ..widgets import Explorer, register

#: AdaGrad's learning rates: its first step moves every coordinate by about alpha,
#: so alpha is a distance in parameter space (the ravine starts ~4 from the minimum).
ADAGRAD_LEARNING_RATES = [0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0]

#: Condition numbers: a round bowl, a moderate and a strong ravine.
ADAGRAD_KAPPAS = [1, 10, 100]

#: Angles of the valley in degrees: along the axis, tilted, diagonal.
ADAGRAD_ANGLES = [0, 22.5, 45]


def best_fixed_rate(kappa, L=1.0):
    """Gradient descent's best fixed learning rate on Ravine(kappa, L): 2 / (mu + L)."""
    return 2.0 / (L / kappa + L)


class AdaGradExplorer(Explorer):
    """An Explorer whose caption also states gradient descent's learning rate."""

    def describe(self, run):
        rate = best_fixed_rate(run.values["kappa"])
        return f"{super().describe(run)} · GD at its best fixed rate α* = 2/(μ + L) = {rate:.3g}"


@register
def adagrad_vs_gradient_descent():
    """AdaGrad (learning rate on a slider) against gradient descent at its best fixed
    rate, on Ravine(kappa, angle) with L = 1, for 100 steps. Chapter "AdaGrad"."""
    return AdaGradExplorer(
        landscape=lambda kappa, angle: Ravine(kappa=kappa, angle=math.radians(angle)),
        optimizers=lambda lr, kappa: {
            "GD": SGD(lr=best_fixed_rate(kappa)),
            "AdaGrad": AdaGrad(lr=lr),
        },
        controls={"lr": ADAGRAD_LEARNING_RATES, "kappa": ADAGRAD_KAPPAS, "angle": ADAGRAD_ANGLES},
        labels={"lr": "AdaGrad α", "kappa": "κ", "angle": "angle (°)"},
        initial={"lr": 1.0, "kappa": 100, "angle": 0},
        steps=100,
    )
