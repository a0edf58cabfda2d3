"""The explorer of the chapter "The problem with vanilla gradient descent"."""

from ..landscapes import Ravine
from ..optimizers import SGD
from ..widgets import Explorer, register

#: Learning rates of the gradient-descent explorer: roughly log-spaced up to 1/L,
#: then dense around the stability limit 2/L = 2, where the behaviour changes.
GD_LEARNING_RATES = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 1.8, 1.95, 2.0, 2.05, 2.2]


@register
def gradient_descent_in_a_ravine():
    """Gradient descent on Ravine(kappa) (largest curvature L = 1): learning rate and
    condition number as sliders. Chapter "The problem with vanilla gradient descent"."""
    return Explorer(
        landscape=lambda kappa: Ravine(kappa=kappa),
        optimizers=lambda lr: {"GD": SGD(lr=lr)},
        controls={"lr": GD_LEARNING_RATES, "kappa": [1, 3, 10, 30, 100]},
        labels={"lr": "α", "kappa": "κ"},
        initial={"lr": 1.0, "kappa": 10},
        steps=100,
    )
