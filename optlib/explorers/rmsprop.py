"""The explorer of the chapter "RMSprop": RMSprop against AdaGrad on Rosenbrock."""

import numpy as np

from ..landscapes import Rosenbrock
from ..optimizers import AdaGrad, RMSprop
from ..widgets import Explorer, register

#: Learning rates of the RMSprop explorer, about half a decade apart: from the article's
#: default 1e-3 through PyTorch's 1e-2 to rates where RMSprop's steps of about α are
#: far too long for the narrow valley.
RMSPROP_LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]

#: Decay rates β of the average. β = 0 keeps no history at all: every step is
#: α·g/(|g| + ε), a step of length α along the sign of each gradient component.
#: 0.9 is the article's (and Keras's) default, 0.99 PyTorch's and optlib's.
RMSPROP_DECAYS = [0.0, 0.5, 0.9, 0.99, 0.999]

#: Bottom of the loss axis. No run of this explorer gets below 0.05 in 500 steps, so a
#: floor of 1e-3 shows every curve in full and keeps them apart.
LOSS_FLOOR = 1e-3

#: The caption reports the mean step length over this many final steps.
RECENT_STEPS = 50


def recent_step_length(path, lr, last=RECENT_STEPS):
    """Mean over the ``last`` steps of the largest coordinate change |Δθ_i|, in units of
    the learning rate ``lr``: about 1 for RMSprop once its average has settled, much less
    for AdaGrad late in a run. nan if the path diverged."""
    recent = np.abs(np.diff(np.asarray(path)[-(last + 1) :], axis=0)).max(axis=1)
    return float(np.mean(recent)) / lr


class StepLengthExplorer(Explorer):
    """An :class:`~optlib.widgets.Explorer` whose caption also gives each optimizer's
    recent step length in units of the learning rate α (the control named ``lr``)."""

    def describe(self, run):
        # Neither AdaGrad nor RMSprop can diverge: every step is at most α/√(1 − β)
        # (α for AdaGrad) per coordinate. A run that ends above its start is bouncing.
        text = super().describe(run)
        lr = run.values["lr"]
        lengths = []
        for name, path in run.paths.items():
            length = recent_step_length(path, lr)
            if np.isfinite(length):
                lengths.append(f"{name} {length:.2g}α")
        if not lengths:
            return text
        return (
            f"{text} · mean step over the last {RECENT_STEPS} (largest coordinate): "
            + ", ".join(lengths)
        )


@register
def rmsprop_against_adagrad():
    """RMSprop and AdaGrad with the same learning rate on Rosenbrock's function from the
    article's start (-1, 1), 500 steps: learning rate α and RMSprop's decay β as sliders.
    Chapter "RMSprop"."""
    return StepLengthExplorer(
        landscape=Rosenbrock(),
        optimizers=lambda lr, beta: {
            "AdaGrad": AdaGrad(lr=lr),
            "RMSprop": RMSprop(lr=lr, beta=beta),
        },
        controls={"lr": RMSPROP_LEARNING_RATES, "beta": RMSPROP_DECAYS},
        labels={"lr": "α", "beta": "β"},
        initial={"lr": 0.01, "beta": 0.99},
        steps=500,
        loss_floor=LOSS_FLOOR,
    )
