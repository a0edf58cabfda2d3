"""The learning-rate range test ("LR finder"): sweep the rate up, watch the loss.

Smith (2017, "Cyclical learning rates for training neural networks", section 3.3) trains
for a short run while the learning rate grows from tiny to huge, and reads a good rate
off the plot of loss against rate: the loss first barely moves (the rate is too small),
then falls quickly, then turns up and explodes (the rate is too large). fast.ai made it
the first step of every training run (``learn.lr_find()``).

Here it is in two functions:

* :func:`lr_range_test` runs the sweep and returns ``(rates, losses)``, one pair per
  update, the rate growing exponentially (evenly on a log axis), stopping early once
  the loss has clearly exploded;
* :func:`suggest_lr` picks a rate from them by a stated rule.

The rules of :func:`suggest_lr` work on the loss smoothed by an exponential moving
average (bias-corrected, like Adam's moments), since minibatch losses are noisy:

* ``"min/10"`` (the default): a tenth of the rate at which the smoothed loss is lowest.
  At the minimum the rate is already about to blow up; a tenth of it is on the steep,
  still-safe part of the curve (fast.ai's original rule).
* ``"steepest"``: the rate at which the smoothed loss falls fastest per unit of
  ``log(rate)``, looked for only before the minimum.

A suggestion is a starting point for the peak rate of a schedule, to be checked, not a
tuned rate: it comes from one short run whose rate never stayed anywhere.
"""

import math
import numbers

import numpy as np

__all__ = ["lr_range_test", "smooth", "suggest_lr", "SUGGESTION_RULES"]

#: The rules :func:`suggest_lr` knows.
SUGGESTION_RULES = ("min/10", "steepest")


def lr_range_test(loss_and_grad, params, make_optimizer, *, lr_min=1e-6, lr_max=10.0,
                  steps=100, stop_factor=4.0, beta=0.9):
    """Train for ``steps`` updates while the rate grows from ``lr_min`` to ``lr_max``.

    Update t (t = 0 .. steps - 1) uses the rate

        lr_t = lr_min * (lr_max / lr_min) ** (t / (steps - 1)),

    so ``lr_0 = lr_min``, ``lr_{steps-1} = lr_max`` and the rates are evenly spaced on a
    log axis. The loss recorded for update t is the loss ``loss_and_grad`` returns at the
    parameters *before* that update, i.e. the result of all earlier, smaller rates.

    Args:
        loss_and_grad: a function ``(params, t) -> (loss, grads)``: the (minibatch) loss
            at ``params`` and its gradient, for update ``t`` (use ``t`` to pick the
            minibatch). ``grads`` has the structure of ``params``.
        params: the starting parameters (an array or a dict of arrays); not modified.
        make_optimizer: a function ``lr -> optimizer``, e.g. ``lambda lr: Adam(lr=lr)``.
            It is called once, with the growing rate as a schedule ``lr(t)``, so pass
            the optimizer's other hyperparameters here.
        lr_min, lr_max: the first and last rate, finite numbers with
            0 < lr_min < lr_max. Defaults 1e-6 and 10.
        steps: the number of updates, an integer >= 2. Default 100.
        stop_factor: stop early once the smoothed loss exceeds ``stop_factor`` times its
            lowest value so far, or the loss is not finite; a number > 1, or ``None`` to
            never stop early. Default 4 (fast.ai's).
        beta: the smoothing factor of the loss, used only by the early stop; in [0, 1).

    Returns:
        ``(rates, losses)``: two float64 arrays of equal length (``steps``, or fewer
        after an early stop): the rate of each update and the loss just before it.

    Raises:
        ValueError, TypeError: for a bad argument, naming it; nothing is run then.

    Example:
        >>> import numpy as np
        >>> from optlib import SGD
        >>> f = lambda theta, t: (float(theta @ theta) / 2, theta)   # f = |θ|²/2, L = 1
        >>> rates, losses = lr_range_test(f, np.ones(2), lambda lr: SGD(lr=lr),
        ...                               lr_min=1e-3, lr_max=100.0, steps=60)
        >>> bool(rates[-1] < 100.0)                  # stopped early: the loss exploded
        True
        >>> bool(0.1 < suggest_lr(rates, losses) < 2.0)    # below the limit 2/L = 2
        True

    References:
        Smith, "Cyclical learning rates for training neural networks", WACV 2017.
    """
    lr_min = _positive(lr_min, "lr_min")
    lr_max = _positive(lr_max, "lr_max")
    if not lr_min < lr_max:
        raise ValueError(f"lr_range_test: lr_min must be < lr_max={lr_max}, got {lr_min}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
        raise ValueError(f"lr_range_test: steps must be an integer >= 2, got {steps!r}")
    steps = int(steps)
    if stop_factor is not None:
        stop_factor = _positive(stop_factor, "stop_factor")
        if stop_factor <= 1:
            raise ValueError(f"lr_range_test: stop_factor must be > 1 or None, got {stop_factor}")
    beta = _beta(beta)
    if not callable(loss_and_grad) or not callable(make_optimizer):
        raise TypeError("lr_range_test: loss_and_grad and make_optimizer must be functions, got "
                        f"{type(loss_and_grad).__name__} and {type(make_optimizer).__name__}")

    rates = exponential_rates(lr_min, lr_max, steps)
    table = rates.tolist()
    optimizer = make_optimizer(lambda t: table[t])
    losses, average, best = [], 0.0, math.inf
    for t in range(steps):
        loss, grads = loss_and_grad(params, t)
        loss = float(loss)
        losses.append(loss)
        if stop_factor is not None:
            if not math.isfinite(loss):
                break
            average = beta * average + (1 - beta) * loss
            smoothed = average / (1 - beta ** (t + 1))
            best = min(best, smoothed)
            if smoothed > stop_factor * best:
                break
        params = optimizer.step(params, grads)
    n = len(losses)
    return rates[:n], np.array(losses, dtype=np.float64)


def exponential_rates(lr_min, lr_max, steps):
    """The rates of :func:`lr_range_test`: ``steps`` values from lr_min to lr_max, evenly
    spaced on a log axis (exact at both ends)."""
    rates = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    rates[0], rates[-1] = lr_min, lr_max
    return rates


def smooth(losses, beta=0.98):
    """Bias-corrected exponential moving average of ``losses`` (as Adam corrects m):
    ``a_k = beta a_{k-1} + (1 - beta) loss_k``, returned as ``a_k / (1 - beta^(k+1))``.

    >>> smooth([2.0, 2.0, 2.0], beta=0.9).tolist()     # a constant stays itself
    [2.0, 2.0, 2.0]
    """
    beta = _beta(beta)
    losses = np.asarray(losses, dtype=np.float64)
    out, average = np.empty_like(losses), 0.0
    for k, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out[k] = average / (1 - beta ** (k + 1))
    return out


def suggest_lr(rates, losses, rule="min/10", beta=0.9):
    """A learning rate read off a range test's ``(rates, losses)`` by ``rule``.

    Args:
        rates, losses: what :func:`lr_range_test` returned (equal lengths >= 2; rates
            increasing and > 0).
        rule: ``"min/10"`` (default): a tenth of the rate at which the smoothed loss is
            lowest; ``"steepest"``: the rate at which the smoothed loss falls fastest
            against log(rate), before its minimum. See the module docstring.
        beta: smoothing of the loss, in [0, 1) (0: no smoothing). Default 0.9.

    Returns:
        The suggested rate, a Python float.
    """
    rates = np.asarray(rates, dtype=np.float64)
    losses = np.asarray(losses, dtype=np.float64)
    if rates.ndim != 1 or rates.shape != losses.shape or rates.size < 2:
        raise ValueError(
            f"suggest_lr: rates and losses must be 1-D of equal length >= 2, got shapes "
            f"{rates.shape} and {losses.shape}"
        )
    if not (np.all(rates > 0) and np.all(np.diff(rates) > 0)):
        raise ValueError("suggest_lr: rates must be > 0 and increasing, as lr_range_test "
                         "returns them")
    if rule not in SUGGESTION_RULES:
        raise ValueError(f"suggest_lr: rule must be one of {SUGGESTION_RULES}, got {rule!r}")
    finite = np.isfinite(losses)
    if not finite[0]:
        raise ValueError("suggest_lr: the first loss is not finite; start at a smaller lr_min")
    n = int(np.argmin(finite)) if not finite.all() else losses.size  # up to the first inf/nan
    smoothed = smooth(losses[:n], beta)
    lowest = int(np.argmin(smoothed))
    if rule == "min/10":
        return float(rates[lowest] / 10)
    if lowest == 0:
        return float(rates[0])
    slopes = np.diff(smoothed[: lowest + 1]) / np.diff(np.log(rates[: lowest + 1]))
    return float(rates[int(np.argmin(slopes))])


def _positive(value, param):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"lr_range_test: {param} must be a finite number > 0, got "
                        f"{type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"lr_range_test: {param} must be a finite number > 0, got "
                         f"{value!r:.40} (too large for a float)") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"lr_range_test: {param} must be a finite number > 0, got {value!r}")
    return value


def _beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= float(beta) < 1:
        raise ValueError(f"beta must be a number in [0, 1), got {beta!r}")
    return float(beta)
