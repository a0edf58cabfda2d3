"""The explorer of the chapter "Gradient clipping"."""

from ..exploding import Clipped, OneUnitRNN
from ..optimizers import SGD
from ..widgets import register
from .schedules import SeparateGradientsExplorer

#: Clipping thresholds (largest allowed gradient norm) of the explorer, log-spaced.
#: On the plateau the one-unit RNN's gradient norm is about 0.1 to 1; on its cliff,
#: hundreds.
CLIP_THRESHOLDS = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]

#: Learning rates of the explorer.
CLIP_LEARNING_RATES = [0.1, 0.2, 0.3, 0.5, 1.0]

#: Updates per run.
CLIP_STEPS = 150


@register
def clipping_on_a_cliff():
    """SGD with and without clipping by norm on the one-unit RNN's loss (T = 20), from
    its default start on the plateau below the cliff.
    Sliders: the threshold and the learning rate. Chapter "Gradient clipping"."""
    return SeparateGradientsExplorer(
        landscape=OneUnitRNN(T=20),
        optimizers=lambda lr: {"SGD": SGD(lr=lr), "SGD, clipped": SGD(lr=lr)},
        # The same optimizer twice; the second reads clipped gradients.
        gradients=lambda landscape, max_norm: {
            "SGD": landscape,
            "SGD, clipped": Clipped(landscape, max_norm),
        },
        controls={"max_norm": CLIP_THRESHOLDS, "lr": CLIP_LEARNING_RATES},
        labels={"max_norm": "threshold c", "lr": "α"},
        initial={"max_norm": 1.0, "lr": 0.2},
        steps=CLIP_STEPS,
        loss_floor=1e-12,
    )
