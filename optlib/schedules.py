"""Learning-rate schedules: small callables ``lr(t)`` that give the learning rate at step t.

The step-counting convention (one for the whole library)
--------------------------------------------------------
``t`` is the number of updates completed *before* the current one:

* ``t = 0`` for the very first update, so ``schedule(0)`` is the starting rate;
* "after T updates" means ``t = T``.

An optimizer whose ``lr`` is a schedule calls ``lr(opt.t)`` just before each update,
then increments ``opt.t``.

A schedule *is* the learning rate: it returns absolute values and carries the base rate
inside it. Pass it where you would pass a number::

    SGD(lr=cosine_decay(0.1, total_steps=1000))

There is no second place where a base rate could hide. (A common bug, present in the
article this course started from: the training loop built a scheduler with a hard-coded
``initial_lr=0.001`` that silently overwrote the ``lr=0.01`` given to SGD.)

Evaluating many steps at once
-----------------------------
Every schedule accepts either one integer step and returns a Python ``float``, or a
numpy integer array of steps and returns a float64 array of the same shape — handy
for plotting::

    steps = np.arange(1001)
    plt.plot(steps, cosine_decay(0.1, total_steps=1000)(steps))

Any plain function ``t -> float`` also works as an optimizer's ``lr``; the helpers here
just add argument checking, exact end points and a readable ``repr``.

One step or many: the same numbers, bit for bit
-----------------------------------------------
``schedule(np.arange(n))[k] == schedule(k)`` holds exactly, for every schedule and every
``k``: both evaluate the same Python-float formula for each step (numpy's vectorised
``**`` and ``cos`` may round the last bit differently from the scalar ones, and an
optimizer run step by step must take the same steps as ``trajectory``, which asks for
all rates at once).

What practitioners use
----------------------
Besides the classics (``constant``, ``step_decay``, ``exponential_decay``,
``cosine_decay``, ``warmup_cosine``) there are the schedules of current large-model
training: ``linear_decay`` (warm-up, then straight down to ``lr_min``, usually 0),
``warmup_stable_decay`` (WSD: warm-up, a long constant stretch, then a short decay) and
``one_cycle`` (up and down again, fast.ai's default). The learning-rate range test that
picks a peak rate is in :mod:`optlib.lr_finder`.
"""

import math
import numbers
from types import MappingProxyType

import numpy as np

__all__ = [
    "Schedule",
    "constant",
    "step_decay",
    "exponential_decay",
    "cosine_decay",
    "warmup_cosine",
    "linear_decay",
    "warmup_stable_decay",
    "one_cycle",
]

#: The largest integer argument (steps, counts) a schedule accepts: 2**53, beyond which
#: float64 cannot count every step.
MAX_STEPS = 2**53


class Schedule:
    """A learning-rate schedule: call it with the step ``t`` to get the rate.

    You normally get one from ``constant``, ``step_decay``, ``exponential_decay``,
    ``cosine_decay``, ``warmup_cosine``, ``linear_decay``, ``warmup_stable_decay`` or
    ``one_cycle`` rather than building it yourself.

    Args:
        name: the name of the function that made it, e.g. ``"cosine_decay"``.
        params: the arguments it was made with (shown by ``repr``, read via ``.params``).
        rate: a function of one valid step ``t`` (a Python int >= 0) returning the rate as
            a Python float. An array of steps is evaluated one step at a time with it, so
            ``schedule(np.arange(n))[k] == schedule(k)`` holds bit for bit.

    Calling ``schedule(t)``:
        ``t`` is an integer >= 0 (Python or numpy integer) -> returns a Python float;
        ``t`` is a numpy integer array with all entries >= 0 -> returns a float64 array
        of the same shape. Floats, bools and negative steps are rejected.

    A schedule has no mutable state: ``schedule(t)`` depends on ``t`` only, so calling it
    twice, or out of order, or for plotting, never changes what the optimizer sees.
    Schedules compare equal when made by the same function with the same arguments, and
    can be pickled (e.g. inside an optimizer's ``state_dict()``).
    """

    __slots__ = ("_name", "_params", "_rate")

    def __init__(self, name, params, rate):
        self._name = name
        self._params = MappingProxyType(dict(params))
        self._rate = rate

    @property
    def name(self):
        """The name of the function that made this schedule."""
        return self._name

    @property
    def params(self):
        """The (read-only) arguments this schedule was made with."""
        return self._params

    def __call__(self, t):
        steps = _check_steps(t, self._name)
        if isinstance(steps, int):
            return float(self._rate(steps))
        # One Python-float evaluation per distinct step: exactly the scalar's numbers.
        unique, inverse = np.unique(steps, return_inverse=True)
        values = np.array([float(self._rate(int(k))) for k in unique], dtype=np.float64)
        return values[inverse].reshape(steps.shape)

    def __repr__(self):
        args = ", ".join(f"{key}={value!r}" for key, value in self._params.items())
        return f"{self._name}({args})"

    def __eq__(self, other):
        if not isinstance(other, Schedule):
            return NotImplemented
        return self._name == other._name and dict(self._params) == dict(other._params)

    def __hash__(self):
        return hash((self._name, tuple(self._params.items())))

    def __reduce__(self):
        # Pickle (and copy) a schedule as "call cosine_decay(**params) again", since the
        # formula inside is a local function, which pickle cannot store.
        if self._name not in _FACTORIES:
            raise TypeError(
                f"cannot pickle Schedule {self._name!r}: only schedules made by "
                f"{', '.join(_FACTORIES)} can be pickled"
            )
        return _remake, (self._name, dict(self._params))


# --------------------------------------------------------------------------- schedules


def constant(lr):
    """The same learning rate at every step.

    Formula:
        lr(t) = lr

    Args:
        lr: the learning rate, a finite number > 0.

    Notes:
        Passing ``lr=0.1`` to an optimizer and passing ``constant(0.1)`` are equivalent;
        ``constant`` exists so that code comparing schedules can treat all of them alike.

    Example:
        >>> s = constant(0.1)
        >>> s(0), s(1000)
        (0.1, 0.1)
        >>> s
        constant(lr=0.1)
    """
    name = "constant"
    lr = _check_rate(lr, "lr", name)

    def rate(t):
        return lr

    return Schedule(name, {"lr": lr}, rate)


def step_decay(lr, drop=0.5, every=10):
    """Multiply the learning rate by ``drop`` once every ``every`` steps.

    Formula:
        lr(t) = lr * drop ** (t // every)        (// is integer division)

    Args:
        lr: the starting learning rate, a finite number > 0.
        drop: the factor applied at each drop, in (0, 1]. Default 0.5 (halve it).
        every: the number of updates between drops, an integer >= 1. Default 10.

    Notes:
        The rate is ``lr`` for t = 0 .. every-1 and first drops at t = every, i.e. the
        update that comes after ``every`` completed updates. ``drop=1`` gives a constant
        rate. This is ``torch.optim.lr_scheduler.StepLR`` with ``step_size=every`` and
        ``gamma=drop``, counted in updates.

    Example:
        >>> s = step_decay(0.1, drop=0.5, every=10)
        >>> s(0), s(9), s(10), s(25)
        (0.1, 0.1, 0.05, 0.025)
    """
    name = "step_decay"
    lr = _check_rate(lr, "lr", name)
    drop = _check_factor(drop, "drop", name)
    every = _check_int(every, "every", name, minimum=1)

    def rate(t):
        return lr * drop ** (t // every)  # Python floats: the same for a step or an array

    return Schedule(name, {"lr": lr, "drop": drop, "every": every}, rate)


def exponential_decay(lr, gamma):
    """Multiply the learning rate by ``gamma`` after every update.

    Formula:
        lr(t) = lr * gamma ** t

    Args:
        lr: the starting learning rate, a finite number > 0.
        gamma: the factor per update, in (0, 1]. ``gamma=1`` gives a constant rate.

    Notes:
        Per-update decay is fast: gamma = 0.99 halves the rate in about 69 updates
        (log(0.5) / log(0.99)). To halve it every H updates use gamma = 0.5 ** (1 / H).

    Example:
        >>> s = exponential_decay(0.1, gamma=0.5)
        >>> s(0), s(1), s(3)
        (0.1, 0.05, 0.0125)
    """
    name = "exponential_decay"
    lr = _check_rate(lr, "lr", name)
    gamma = _check_factor(gamma, "gamma", name)

    def rate(t):
        return lr * gamma**t

    return Schedule(name, {"lr": lr, "gamma": gamma}, rate)


def cosine_decay(lr, total_steps, lr_min=0.0):
    """Decay from ``lr`` to ``lr_min`` along half a cosine over ``total_steps`` updates.

    Formula:
        lr(t) = lr_min + (lr - lr_min) * (1 + cos(pi * t / total_steps)) / 2
                                                        for 0 <= t <= total_steps
        lr(t) = lr_min                                  for t > total_steps

    Args:
        lr: the starting learning rate (at t = 0), a finite number > 0.
        total_steps: the number of updates the decay lasts, an integer >= 1.
        lr_min: the final learning rate, a finite number with 0 <= lr_min <= lr.
            Default 0.0.

    Notes:
        The rate equals ``lr`` exactly at t = 0 and ``lr_min`` exactly at
        t = total_steps (the update after ``total_steps`` completed updates), and stays
        there. For exact end points it is computed as the equivalent weighted average
        w * lr + (1 - w) * lr_min with w = (1 + cos(pi * t / total_steps)) / 2.

        The article this course started from evaluated the formula per epoch at
        t = 0 .. T-1 only, so its last rate was lr_min + (lr - lr_min) * (1 + cos(pi*(T-1)/T))/2,
        slightly above eta_min: it never reached eta_min. Here t runs to total_steps.

    Example:
        >>> s = cosine_decay(0.1, total_steps=100, lr_min=0.001)
        >>> s(0), s(100), s(150)
        (0.1, 0.001, 0.001)
        >>> round(s(50), 6)
        0.0505
    """
    name = "cosine_decay"
    lr = _check_rate(lr, "lr", name)
    total_steps = _check_int(total_steps, "total_steps", name, minimum=1)
    lr_min = _check_lr_min(lr_min, lr, name)

    def rate(t):
        return _cosine(lr, lr_min, progress=min(t, total_steps) / total_steps)

    return Schedule(name, {"lr": lr, "total_steps": total_steps, "lr_min": lr_min}, rate)


def warmup_cosine(lr, warmup_steps, total_steps, lr_min=0.0, lr_start=0.0):
    """Linear warm-up from ``lr_start`` to ``lr``, then cosine decay to ``lr_min``.

    Formula:
        warm-up, 0 <= t <= warmup_steps:
            lr(t) = lr_start + (lr - lr_start) * t / warmup_steps
        decay, warmup_steps <= t <= total_steps:
            lr(t) = lr_min + (lr - lr_min) * (1 + cos(pi * p)) / 2
            where p = (t - warmup_steps) / (total_steps - warmup_steps) goes 0 -> 1
        after, t > total_steps:
            lr(t) = lr_min

    Args:
        lr: the peak learning rate, reached at t = warmup_steps; a finite number > 0.
        warmup_steps: the length of the warm-up, an integer with
            0 <= warmup_steps < total_steps. 0 means no warm-up (plain cosine decay).
        total_steps: the step at which the rate reaches ``lr_min``, an integer >= 1.
        lr_min: the final learning rate, 0 <= lr_min <= lr. Default 0.0.
        lr_start: the rate of the very first update (t = 0), 0 <= lr_start <= lr.
            Default 0.0.

    Notes:
        With the default ``lr_start=0.0`` the first update (t = 0) has rate 0, i.e. it
        changes nothing; Adam-style optimizers still update their moment estimates.
        Pass a small positive ``lr_start`` if you want the first update to move.

        The rate rises (never falls) on 0 <= t <= warmup_steps, equals ``lr`` exactly at
        t = warmup_steps, falls (never rises) after that and equals ``lr_min`` exactly
        from t = total_steps on. The cosine part is ``cosine_decay`` shifted to start at
        t = warmup_steps.

    Example:
        >>> s = warmup_cosine(0.1, warmup_steps=10, total_steps=110, lr_start=0.01)
        >>> s(0), s(10), s(110)
        (0.01, 0.1, 0.0)
        >>> round(s(5), 6), round(s(60), 6)
        (0.055, 0.05)
    """
    name = "warmup_cosine"
    lr = _check_rate(lr, "lr", name)
    total_steps = _check_int(total_steps, "total_steps", name, minimum=1)
    warmup_steps = _check_int(warmup_steps, "warmup_steps", name, minimum=0)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"{name}: warmup_steps must be smaller than total_steps={total_steps} "
            f"(the decay needs at least one step), got {warmup_steps}"
        )
    lr_min = _check_lr_min(lr_min, lr, name)
    lr_start = _check_rate(lr_start, "lr_start", name, allow_zero=True)
    if lr_start > lr:
        raise ValueError(
            f"{name}: lr_start must be <= lr={lr} (warm-up goes up to lr), got {lr_start}"
        )
    decay_steps = total_steps - warmup_steps

    def rate(t):
        if t < warmup_steps:
            return _linear(lr_start, lr, t / warmup_steps)  # fraction of the warm-up done
        progress = min(t - warmup_steps, decay_steps) / decay_steps  # of the decay, 0 -> 1
        return _cosine(lr, lr_min, progress)

    params = {
        "lr": lr,
        "warmup_steps": warmup_steps,
        "total_steps": total_steps,
        "lr_min": lr_min,
        "lr_start": lr_start,
    }
    return Schedule(name, params, rate)


def linear_decay(lr, total_steps, lr_min=0.0, warmup_steps=0, lr_start=0.0):
    """Optional linear warm-up to ``lr``, then a straight line down to ``lr_min`` (often 0).

    Formula:
        warm-up, 0 <= t < warmup_steps:
            lr(t) = lr_start + (lr - lr_start) * t / warmup_steps
        decay, warmup_steps <= t <= total_steps:
            lr(t) = lr + (lr_min - lr) * p,   p = (t - warmup_steps) / (total_steps - warmup_steps)
        after, t > total_steps:
            lr(t) = lr_min

    Args:
        lr: the peak learning rate, reached at t = warmup_steps; a finite number > 0.
        total_steps: the step at which the rate reaches ``lr_min``, an integer >= 1.
        lr_min: the final learning rate, 0 <= lr_min <= lr. Default 0.0 ("decay to zero").
        warmup_steps: the length of the warm-up, 0 <= warmup_steps < total_steps.
            Default 0 (no warm-up: the first update uses ``lr``).
        lr_start: the rate at t = 0 when there is a warm-up, 0 <= lr_start <= lr.
            Default 0.0.

    Notes:
        Linear warm-up then linear decay to zero is how BERT was trained
        (Devlin et al. 2019) and what Hugging Face's ``get_linear_schedule_with_warmup``
        does. For large language models, Bergsma et al. (2025, "Straight to zero: why
        linearly decaying the learning rate to zero works best for LLMs") found linear
        decay to zero better than cosine decay to 10% of the peak; Defazio et al. (2023,
        "When, why and how much?") also found linear decay a strong default. The rate
        equals ``lr`` exactly at t = warmup_steps and ``lr_min`` exactly from
        t = total_steps on; with ``lr_min=0`` the update at t = total_steps does nothing.

    Example:
        >>> s = linear_decay(0.1, total_steps=100)
        >>> s(0), s(50), s(100)
        (0.1, 0.05, 0.0)
        >>> s = linear_decay(0.1, total_steps=110, warmup_steps=10)
        >>> s(0), s(5), s(10), s(60), s(110)
        (0.0, 0.05, 0.1, 0.05, 0.0)

    References:
        Devlin et al., "BERT: pre-training of deep bidirectional transformers for
        language understanding", NAACL 2019. Bergsma et al., "Straight to zero: why
        linearly decaying the learning rate to zero works best for LLMs", ICLR 2025.
        Defazio et al., "When, why and how much? Adaptive learning rate scheduling by
        refinement", arXiv:2310.07831, 2023.
    """
    name = "linear_decay"
    lr = _check_rate(lr, "lr", name)
    total_steps = _check_int(total_steps, "total_steps", name, minimum=1)
    lr_min = _check_lr_min(lr_min, lr, name)
    warmup_steps = _check_warmup(warmup_steps, total_steps, name)
    lr_start = _check_lr_start(lr_start, lr, name)
    decay_steps = total_steps - warmup_steps

    def rate(t):
        if t < warmup_steps:
            return _linear(lr_start, lr, t / warmup_steps)
        return _linear(lr, lr_min, min(t - warmup_steps, decay_steps) / decay_steps)

    params = {"lr": lr, "total_steps": total_steps, "lr_min": lr_min,
              "warmup_steps": warmup_steps, "lr_start": lr_start}
    return Schedule(name, params, rate)


#: The decay shapes of :func:`warmup_stable_decay`: the fraction of (lr - lr_min) left
#: when a fraction p of the decay is done.
DECAY_SHAPES = ("linear", "1-sqrt", "cosine")


def warmup_stable_decay(lr, warmup_steps, decay_steps, total_steps, lr_min=0.0, lr_start=0.0,
                        shape="linear"):
    """Warm-up, a long stable stretch at ``lr``, then a short decay to ``lr_min`` (WSD).

    Formula, with S = total_steps - decay_steps the step at which the decay starts:
        warm-up, 0 <= t < warmup_steps:
            lr(t) = lr_start + (lr - lr_start) * t / warmup_steps
        stable, warmup_steps <= t <= S:
            lr(t) = lr
        decay, S <= t <= total_steps, with p = (t - S) / decay_steps going 0 -> 1:
            lr(t) = lr_min + (lr - lr_min) * r(p),   r(p) = 1 - p          ("linear")
                                                     r(p) = 1 - sqrt(p)    ("1-sqrt")
                                                     r(p) = (1 + cos(pi p)) / 2  ("cosine")
        after, t > total_steps:
            lr(t) = lr_min

    Args:
        lr: the peak (stable) learning rate, a finite number > 0.
        warmup_steps: the length of the warm-up, an integer >= 0 (0: none).
        decay_steps: the length of the final decay ("cool-down"), an integer >= 1;
            ``warmup_steps + decay_steps <= total_steps``. Typically 10-20% of the run.
        total_steps: the step at which the rate reaches ``lr_min``, an integer >= 1.
        lr_min: the final learning rate, 0 <= lr_min <= lr. Default 0.0.
        lr_start: the rate at t = 0 when there is a warm-up, 0 <= lr_start <= lr.
            Default 0.0.
        shape: the decay's shape, one of :data:`DECAY_SHAPES`. Default "linear".

    Notes:
        Named by Hu et al. (2024, MiniCPM); Hägele et al. (2024, "Scaling laws and
        compute-optimal training beyond fixed training durations") found that a
        cool-down of ~20% of the run matches cosine decay, with "1-sqrt" the best shape.
        Its appeal: the stable phase does not depend on the run's length, so one long
        run at ``lr`` can be branched into decays at several budgets.

    Example:
        >>> s = warmup_stable_decay(0.1, warmup_steps=10, decay_steps=20, total_steps=100)
        >>> s(0), s(5), s(10), s(80), s(90), s(100)
        (0.0, 0.05, 0.1, 0.1, 0.05, 0.0)

    References:
        Hu et al., "MiniCPM: unveiling the potential of small language models with
        scalable training strategies", arXiv:2404.06395, 2024. Hägele et al., "Scaling
        laws and compute-optimal training beyond fixed training durations", NeurIPS 2024.
    """
    name = "warmup_stable_decay"
    lr = _check_rate(lr, "lr", name)
    total_steps = _check_int(total_steps, "total_steps", name, minimum=1)
    warmup_steps = _check_int(warmup_steps, "warmup_steps", name, minimum=0)
    decay_steps = _check_int(decay_steps, "decay_steps", name, minimum=1)
    if warmup_steps + decay_steps > total_steps:
        raise ValueError(
            f"{name}: warmup_steps + decay_steps must be <= total_steps={total_steps}, got "
            f"warmup_steps={warmup_steps} and decay_steps={decay_steps}"
        )
    lr_min = _check_lr_min(lr_min, lr, name)
    lr_start = _check_lr_start(lr_start, lr, name)
    if shape not in DECAY_SHAPES:
        raise ValueError(f"{name}: shape must be one of {DECAY_SHAPES}, got {shape!r}")
    decay_start = total_steps - decay_steps

    def rate(t):
        if t < warmup_steps:
            return _linear(lr_start, lr, t / warmup_steps)
        if t <= decay_start:
            return lr
        p = min(t - decay_start, decay_steps) / decay_steps
        if shape == "cosine":
            return _cosine(lr, lr_min, p)
        return _linear(lr, lr_min, p if shape == "linear" else math.sqrt(p))

    params = {"lr": lr, "warmup_steps": warmup_steps, "decay_steps": decay_steps,
              "total_steps": total_steps, "lr_min": lr_min, "lr_start": lr_start,
              "shape": shape}
    return Schedule(name, params, rate)


def one_cycle(lr, total_steps, warmup_steps=None, div_factor=25.0, final_div_factor=1e4):
    """One cycle: up from ``lr / div_factor`` to ``lr``, then down far below the start.

    Formula, with W = warmup_steps, lr_0 = lr / div_factor and
    lr_end = lr_0 / final_div_factor, and c(a, b, p) = b + (a - b) (1 + cos(pi p)) / 2
    the half-cosine from a (p = 0) to b (p = 1):
        up,   0 <= t <= W:            lr(t) = c(lr_0, lr, t / W)
        down, W <= t <= total_steps:  lr(t) = c(lr, lr_end, (t - W) / (total_steps - W))
        after, t > total_steps:       lr(t) = lr_end

    Args:
        lr: the peak learning rate, reached at t = warmup_steps; a finite number > 0.
        total_steps: the step at which the rate reaches lr_end, an integer >= 2.
        warmup_steps: the step of the peak, an integer with 1 <= warmup_steps <
            total_steps; default ``round(0.3 * total_steps)`` (PyTorch's
            ``pct_start=0.3``), at least 1.
        div_factor: lr_0 = lr / div_factor, a finite number >= 1. Default 25.
        final_div_factor: lr_end = lr_0 / final_div_factor, a finite number >= 1.
            Default 1e4.

    Notes:
        Smith's "1cycle" policy (Smith 2018, "A disciplined approach to neural network
        hyper-parameters"; Smith and Topin 2019, "Super-convergence"), fast.ai's default,
        with the defaults and cosine shape of ``torch.optim.lr_scheduler.OneCycleLR``.
        Two differences from PyTorch: the course counts t as updates already made and
        reaches the peak at t = warmup_steps and lr_end at t = total_steps (PyTorch one
        step earlier, at ``pct_start * total_steps - 1`` and ``total_steps - 1``); and
        only the rate cycles (``OneCycleLR`` also cycles momentum, by default in the
        opposite direction).

    Example:
        >>> s = one_cycle(1.0, total_steps=100, warmup_steps=30)
        >>> s(0), s(30), s(100)
        (0.04, 1.0, 4e-06)

    References:
        Smith, "A disciplined approach to neural network hyper-parameters: part 1",
        arXiv:1803.09820, 2018. Smith and Topin, "Super-convergence: very fast training of
        neural networks using large learning rates", arXiv:1708.07120, 2017/2019.
    """
    name = "one_cycle"
    lr = _check_rate(lr, "lr", name)
    total_steps = _check_int(total_steps, "total_steps", name, minimum=2)
    if warmup_steps is None:
        warmup_steps = min(max(round(0.3 * total_steps), 1), total_steps - 1)
    warmup_steps = _check_int(warmup_steps, "warmup_steps", name, minimum=1)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"{name}: warmup_steps must be smaller than total_steps={total_steps} "
            f"(the way down needs at least one step), got {warmup_steps}"
        )
    div_factor = _check_divisor(div_factor, "div_factor", name)
    final_div_factor = _check_divisor(final_div_factor, "final_div_factor", name)
    lr_0 = lr / div_factor
    lr_end = lr_0 / final_div_factor
    down_steps = total_steps - warmup_steps

    def rate(t):
        if t <= warmup_steps:
            return _cosine(lr_0, lr, t / warmup_steps)
        return _cosine(lr, lr_end, min(t - warmup_steps, down_steps) / down_steps)

    params = {"lr": lr, "total_steps": total_steps, "warmup_steps": warmup_steps,
              "div_factor": div_factor, "final_div_factor": final_div_factor}
    return Schedule(name, params, rate)


_FACTORIES = {
    "constant": constant,
    "step_decay": step_decay,
    "exponential_decay": exponential_decay,
    "cosine_decay": cosine_decay,
    "warmup_cosine": warmup_cosine,
    "linear_decay": linear_decay,
    "warmup_stable_decay": warmup_stable_decay,
    "one_cycle": one_cycle,
}


def _remake(name, params):
    """Rebuild a schedule from its name and arguments (used by pickle)."""
    return _FACTORIES[name](**params)


def _cosine(lr, lr_min, progress):
    """Half-cosine from ``lr`` (progress 0) to ``lr_min`` (progress 1), exact at both ends."""
    w = (1 + math.cos(math.pi * progress)) / 2  # goes 1 -> 0
    return w * lr + (1 - w) * lr_min


def _linear(start, end, progress):
    """Straight line from ``start`` (progress 0) to ``end`` (progress 1), exact at both ends."""
    return (1 - progress) * start + progress * end


# --------------------------------------------------------------------------- checks


def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _as_float(value, param, name, accepted):
    """``float(value)``, with a ValueError naming the parameter when it is too large."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"{name}: {param} must be {accepted}, got {value!r:.40} (too large for a float)"
        ) from None


def _check_number(value, param, name, accepted, ok):
    """``value`` as a Python float if it is a real number for which ``ok(value)`` holds;
    else TypeError (not a real number) or ValueError, naming ``param``, the value and
    what is ``accepted`` (e.g. "a number in (0, 1]")."""
    if not _is_real(value):
        raise TypeError(f"{name}: {param} must be {accepted}, got {type(value).__name__} {value!r}")
    value = _as_float(value, param, name, accepted)
    if not ok(value):
        raise ValueError(f"{name}: {param} must be {accepted}, got {value!r}")
    return value


def _check_rate(value, param, name, allow_zero=False):
    """A finite real number > 0 (or >= 0), returned as a Python float."""
    low_ok = (lambda v: v >= 0) if allow_zero else (lambda v: v > 0)
    return _check_number(value, param, name,
                         f"a finite number {'>= 0' if allow_zero else '> 0'}",
                         lambda v: math.isfinite(v) and low_ok(v))


def _check_lr_min(lr_min, lr, name):
    lr_min = _check_rate(lr_min, "lr_min", name, allow_zero=True)
    if lr_min > lr:
        raise ValueError(
            f"{name}: lr_min must be <= lr={lr} (the schedule decays from lr to lr_min), "
            f"got {lr_min}"
        )
    return lr_min


def _check_warmup(warmup_steps, total_steps, name):
    warmup_steps = _check_int(warmup_steps, "warmup_steps", name, minimum=0)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"{name}: warmup_steps must be smaller than total_steps={total_steps} "
            f"(the decay needs at least one step), got {warmup_steps}"
        )
    return warmup_steps


def _check_lr_start(lr_start, lr, name):
    lr_start = _check_rate(lr_start, "lr_start", name, allow_zero=True)
    if lr_start > lr:
        raise ValueError(
            f"{name}: lr_start must be <= lr={lr} (warm-up goes up to lr), got {lr_start}"
        )
    return lr_start


def _check_divisor(value, param, name):
    """A finite number >= 1, returned as a Python float."""
    return _check_number(value, param, name, "a finite number >= 1",
                         lambda v: math.isfinite(v) and v >= 1)


def _check_factor(value, param, name):
    """A multiplicative decay factor in (0, 1], returned as a Python float."""
    return _check_number(value, param, name, "a number in (0, 1]", lambda v: 0 < v <= 1)


def _check_int(value, param, name, minimum):
    """An integer in [minimum, MAX_STEPS] (Python or numpy integer, not bool), as a Python int."""
    accepted = f"an integer >= {minimum} (and <= 2**53)"
    if not _is_int(value):
        raise TypeError(f"{name}: {param} must be {accepted}, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name}: {param} must be an integer >= {minimum}, got {value}")
    if value > MAX_STEPS:
        raise ValueError(f"{name}: {param} must be {accepted}, got {value!r:.40}")
    return value


def _check_fraction(value, param, name):
    """A number in (0, 1), returned as a Python float."""
    return _check_number(value, param, name, "a number in (0, 1)", lambda v: 0 < v < 1)


def _check_steps(t, name):
    """Check a step (int >= 0) or an integer array of steps; return a Python int or an
    int64 array."""
    what = "the number of updates already completed"
    if isinstance(t, np.ndarray):
        if not np.issubdtype(t.dtype, np.integer):
            raise TypeError(
                f"{name}: steps t must be an integer array ({what}), got dtype {t.dtype}; "
                f"use e.g. np.arange(n)"
            )
        if t.size and t.min() < 0:
            raise ValueError(f"{name}: steps t must all be >= 0 ({what}), got {t.min()}")
        if t.size and t.max() > MAX_STEPS:
            raise ValueError(f"{name}: steps t must all be <= 2**53 ({what}), got {t.max()}")
        return t.astype(np.int64)
    if not _is_int(t):
        raise TypeError(
            f"{name}: step t must be an integer >= 0 ({what}), got {type(t).__name__} {t!r}"
        )
    if t < 0:
        raise ValueError(f"{name}: step t must be an integer >= 0 ({what}), got {t}")
    if t > MAX_STEPS:
        raise ValueError(f"{name}: step t must be an integer <= 2**53 ({what}), got {t!r:.40}")
    return int(t)
