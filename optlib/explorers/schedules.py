"""The explorer of the chapter "Learning-rate schedules", and a helper it shares.

:class:`SeparateGradientsExplorer` is an :class:`~optlib.widgets.Explorer` in which each
optimizer reads its gradients from a landscape of its own: a fresh noisy copy (so that
every optimizer sees exactly the same noise), or a clipped one (the chapter "Gradient
clipping"). Contours and losses are those of the shared, exact landscape.
"""

import inspect

import numpy as np

from ..landscapes import Noisy, Ravine
from ..optimizers import SGD, trajectory
from ..plotting import suboptimality
from ..schedules import constant, cosine_decay, exponential_decay, step_decay, warmup_cosine
from ..widgets import Explorer, Run, register

#: The schedule kinds the chapter compares, in the order of the explorer's slider.
SCHEDULE_KINDS = ("constant", "step", "exponential", "cosine", "warm-up + cosine")


def schedule_of_kind(kind, lr, total_steps):
    """A schedule of one of :data:`SCHEDULE_KINDS` with peak rate ``lr`` over ``total_steps``.

    The chapter's settings, one line each, so that its figure and its explorer agree:

    * ``"constant"``: ``constant(lr)``;
    * ``"step"``: ``step_decay(lr, drop=0.3, every=total_steps // 4)``, three drops;
    * ``"exponential"``: ``exponential_decay(lr, gamma)`` with gamma chosen so that the
      rate is ``lr / 100`` at t = total_steps;
    * ``"cosine"``: ``cosine_decay(lr, total_steps)``;
    * ``"warm-up + cosine"``: ``warmup_cosine(lr, warmup_steps=total_steps // 10,
      total_steps=total_steps)``, from 0 up to ``lr`` in the first tenth.
    """
    if kind == "constant":
        return constant(lr)
    if kind == "step":
        return step_decay(lr, drop=0.3, every=max(total_steps // 4, 1))
    if kind == "exponential":
        return exponential_decay(lr, gamma=0.01 ** (1 / total_steps))
    if kind == "cosine":
        return cosine_decay(lr, total_steps)
    if kind == "warm-up + cosine":
        return warmup_cosine(lr, warmup_steps=total_steps // 10, total_steps=total_steps)
    raise ValueError(f"kind must be one of {SCHEDULE_KINDS}, got {kind!r}")


class _Tabulated:
    """A schedule's rates for t = 0 .. steps - 1, looked up instead of recomputed.

    Calling a :class:`~optlib.schedules.Schedule` checks its argument each time (~15 us);
    over 200 steps that is 3 ms, a fifth of the explorer's time budget for a redraw.
    The rates are the schedule's own, computed at once: the paths are the same.
    """

    def __init__(self, schedule, steps):
        self.schedule = schedule
        self.rates = schedule(np.arange(steps)).tolist()

    def __call__(self, t):
        return self.rates[t]

    def __repr__(self):
        return repr(self.schedule)


def _call_with(function, values, **given):
    """Call ``function`` with the arguments it names: from ``given``, else control values."""
    names = inspect.signature(function).parameters
    return function(**{name: given[name] if name in given else values[name] for name in names})


class SeparateGradientsExplorer(Explorer):
    """An :class:`~optlib.widgets.Explorer` in which each optimizer has its own gradients.

    Args:
        gradients: a function of ``landscape`` (the shared landscape) and of any control
            names, returning ``{optimizer name: landscape whose grad that optimizer
            uses}``, for example
            ``lambda landscape: {name: Noisy(landscape, 0.5, seed=0) for name in names}``
            (a fresh noisy copy each: identical noise for every optimizer), or
            ``lambda landscape, c: {"SGD": landscape, "SGD, clipped": Clipped(landscape, c)}``.
        everything else: as for :class:`~optlib.widgets.Explorer`. Contours, losses
            f - f* and the caption use the shared landscape.
    """

    def __init__(self, landscape, optimizers, controls, steps=100, start=None, *, gradients,
                 **kwargs):
        unknown = set(inspect.signature(gradients).parameters) - {"landscape"} - set(controls)
        if unknown:
            raise ValueError(f"gradients takes {sorted(unknown)}, which are not controls")
        self._gradients = gradients  # Explorer.__init__ already calls run()
        super().__init__(landscape, optimizers, controls, steps, start, **kwargs)

    def run(self, values=None):
        values = {**self.values, **(values or {})}
        self._check(values)
        landscape = self.landscape_for(values)
        optimizers = _call_with(self._optimizers, values)
        sources = _call_with(self._gradients, values, landscape=landscape)
        if set(sources) != set(optimizers):
            raise ValueError(
                f"gradients must give a landscape for each optimizer {sorted(optimizers)}, "
                f"got {sorted(sources)}"
            )
        paths = {name: trajectory(opt, sources[name], self.start, self.steps)
                 for name, opt in optimizers.items()}
        losses = {name: suboptimality(landscape, path) for name, path in paths.items()}
        return Run(values, landscape, paths, losses)


#: Peak learning rates of the schedules explorer (the ravine's largest curvature is 1,
#: so 2 would be the stability limit of a constant rate).
SCHEDULE_PEAK_RATES = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5]

#: The noisy ravine of the explorer: Ravine(kappa) with gradient noise sigma, seed.
SCHEDULE_NOISE = {"kappa": 3, "sigma": 0.5, "seed": 0}

#: Updates per run in the schedules explorer (the schedules' total_steps).
SCHEDULE_STEPS = 200


@register
def schedules_on_a_noisy_ravine():
    """SGD with a schedule against SGD at the constant peak rate, on a noisy ravine.
    Sliders: the schedule's kind and its peak rate. Chapter "Learning-rate schedules"."""
    names = ("SGD, constant α", "SGD, scheduled")
    kappa, sigma, seed = (SCHEDULE_NOISE[k] for k in ("kappa", "sigma", "seed"))
    explorer = SeparateGradientsExplorer(
        landscape=Ravine(kappa=kappa),
        optimizers=lambda kind, lr: {
            names[0]: SGD(lr=lr),
            names[1]: SGD(lr=_Tabulated(schedule_of_kind(kind, lr, SCHEDULE_STEPS),
                                        SCHEDULE_STEPS)),
        },
        # A fresh Noisy with the same seed for each optimizer: both see the same noise.
        gradients=lambda landscape: {name: Noisy(landscape, sigma, seed) for name in names},
        controls={"kind": list(SCHEDULE_KINDS), "lr": SCHEDULE_PEAK_RATES},
        labels={"kind": "schedule", "lr": "peak α"},
        initial={"kind": "cosine", "lr": 1.0},
        steps=SCHEDULE_STEPS,
        loss_floor=1e-5,
    )
    # Noisy paths zig-zag densely: markers on them only add clutter (and drawing time).
    for lines in explorer.lines.values():
        lines.path.set_marker("None")
    return explorer
