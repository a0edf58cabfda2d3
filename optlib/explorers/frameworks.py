"""The explorer of the chapter "The same optimizers in PyTorch and optax".

You can skip this module on first reading: the chapter explains what it shows.

:func:`momentum_conventions_under_a_schedule` runs heavy-ball momentum twice with the
same schedule and the same beta: once in PyTorch's form (:class:`optlib.Momentum`,
also optax's) and once in Sutskever's (:class:`optlib.frameworks.SutskeverMomentum`).
With a constant rate the two paths coincide; when the schedule changes the rate they
part, and the caption says by how much.
"""

import numpy as np

from ..frameworks import SutskeverMomentum
from ..landscapes import Ravine
from ..optimizers import Momentum
from ..schedules import constant, step_decay, warmup_cosine
from ..widgets import Explorer, register

#: Updates per path, and the peak rate of every schedule (the ravine's L is 1).
CONVENTION_STEPS = 90
CONVENTION_LR = 1.0

#: The schedules on the explorer's first slider, by name.
CONVENTION_SCHEDULES = {
    "constant": constant(CONVENTION_LR),
    "step decay ÷10 every 30": step_decay(CONVENTION_LR, drop=0.1, every=30),
    "warm-up 30 + cosine": warmup_cosine(CONVENTION_LR, warmup_steps=30,
                                         total_steps=CONVENTION_STEPS),
}

#: Momentum coefficients on the second slider.
CONVENTION_BETAS = [0.5, 0.8, 0.9, 0.95]

#: The two optimizers' names, as the legend shows them.
PYTORCH_STYLE, SUTSKEVER_STYLE = "PyTorch/optax momentum", "Sutskever momentum"


def both_conventions(schedule, beta):
    """``{name: optimizer}``: the two forms of momentum with the same schedule and beta."""
    lr = CONVENTION_SCHEDULES[schedule]
    return {PYTORCH_STYLE: Momentum(lr=lr, beta=beta),
            SUTSKEVER_STYLE: SutskeverMomentum(lr=lr, beta=beta)}


class ConventionsExplorer(Explorer):
    """An :class:`~optlib.widgets.Explorer` whose caption adds how far apart the two
    paths end up (the largest distance between their iterates at the same step)."""

    def describe(self, run):
        text = super().describe(run)
        a, b = run.paths[PYTORCH_STYLE], run.paths[SUTSKEVER_STYLE]
        gap = float(np.max(np.linalg.norm(a - b, axis=1)))
        return f"{text} · largest distance between the two paths: {gap:.2g}"


@register
def momentum_conventions_under_a_schedule():
    """PyTorch's and Sutskever's momentum on Ravine(kappa=10), with the same schedule
    (constant, step decay or warm-up + cosine, peak rate 1) and the same beta as
    sliders. Chapter "The same optimizers in PyTorch and optax"."""
    return ConventionsExplorer(
        landscape=Ravine(kappa=10),
        optimizers=both_conventions,
        controls={"schedule": list(CONVENTION_SCHEDULES), "beta": CONVENTION_BETAS},
        labels={"schedule": "schedule", "beta": "β"},
        initial={"schedule": "step decay ÷10 every 30", "beta": 0.9},
        steps=CONVENTION_STEPS,
    )
