"""The explorer of the chapter "Adam and its family"."""

from ..landscapes import Rosenbrock
from ..optimizers import Adam, RMSprop
from ..widgets import Explorer, register

#: First-moment decays: from no momentum (Adam is then RMSprop with bias correction)
#: through the default 0.9 to a long memory. Four values of each beta keep the web
#: page's precomputed frames (one per combination) to 16.
ADAM_BETA1S = [0.0, 0.9, 0.95, 0.99]

#: Second-moment decays: memories of about 10, 100, 1000 and 10000 steps.
ADAM_BETA2S = [0.9, 0.99, 0.999, 0.9999]

#: The explorer's fixed learning rate and number of steps.
ADAM_EXPLORER_LR = 0.03
ADAM_EXPLORER_STEPS = 500


@register
def adam_on_rosenbrock():
    """Adam against RMSprop on Rosenbrock's valley, 500 steps from (-1, 1), lr = 0.03.

    Sliders: beta1 and beta2. RMSprop runs with the same learning rate, beta = beta2 and
    eps, so at beta1 = 0 the two differ only by Adam's bias correction of v.
    Chapter "Adam and its family".
    """
    return Explorer(
        landscape=Rosenbrock(),
        optimizers=lambda beta1, beta2: {
            "Adam": Adam(lr=ADAM_EXPLORER_LR, beta1=beta1, beta2=beta2),
            "RMSprop": RMSprop(lr=ADAM_EXPLORER_LR, beta=beta2),
        },
        controls={"beta1": ADAM_BETA1S, "beta2": ADAM_BETA2S},
        labels={"beta1": "β₁", "beta2": "β₂"},
        initial={"beta1": 0.9, "beta2": 0.999},
        steps=ADAM_EXPLORER_STEPS,
        loss_floor=1e-12,
    )
