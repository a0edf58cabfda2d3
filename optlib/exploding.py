"""Exploding gradients, small enough to see: a one-unit recurrent network, and clipping.

The chapter on gradient clipping needs a problem whose gradient really explodes, and
whose loss can still be drawn as a contour plot. :class:`OneUnitRNN` is the smallest
such problem: a recurrent network with a single tanh unit and two weights, unrolled
over ``T`` time steps, with hand-written backpropagation through time. Its loss, as a
function of the two weights (w, u), has a *cliff*: a wall, too thin to see at most
resolutions, on which the gradient is larger than elsewhere by a factor that grows
exponentially with ``T`` (Pascanu et al., 2013; Goodfellow et al., 2016, §8.2.4 and
§10.11).

:class:`Clipped` wraps any landscape so that its ``grad`` returns the *clipped*
gradient. Any optimizer run on ``Clipped(landscape, threshold)`` is that optimizer with
gradient clipping, and :func:`optlib.trajectory` runs it as fast as any other.

    >>> from optlib import SGD, trajectory
    >>> rnn = OneUnitRNN(T=20)
    >>> path = trajectory(SGD(lr=0.3), Clipped(rnn, threshold=1.0), steps=100)
    >>> path.shape
    (101, 2)
"""

import math
import numbers

import numpy as np

from .landscapes import Landscape

__all__ = ["OneUnitRNN", "Clipped"]


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_finite(owner, name, value):
    """A finite real number (not bool), returned as a Python float."""
    if not _is_real(value) or not math.isfinite(value):
        raise (TypeError if not _is_real(value) else ValueError)(
            f"{owner}: {name} must be a finite number, got {value!r}"
        )
    return float(value)


class OneUnitRNN(Landscape):
    """The loss of a recurrent network with one tanh unit, as a landscape over (w, u).

    Forward pass, from a given initial state h_0, for t = 1, ..., T::

        a_t = w * h_{t-1} + u * x_t
        h_t = tanh(a_t)

    and the loss compares the last state with a target y::

        J(w, u) = 1/2 * (h_T - y) ** 2

    Backpropagation through time (BPTT), with delta_t = dJ/dh_t::

        delta_T = h_T - y
        for t = T, T-1, ..., 1:
            dJ/da_t  = delta_t * (1 - h_t ** 2)        (tanh'(a_t) = 1 - h_t^2)
            dJ/dw   += dJ/da_t * h_{t-1}
            dJ/du   += dJ/da_t * x_t
            delta_{t-1} = dJ/da_t * w

    Unrolled, delta_t = delta_T * prod_{s=t+1..T} w * (1 - h_s ** 2): a product of
    T - t factors. Where those factors exceed 1 in size, the gradient grows
    exponentially with the distance in time, which is the exploding-gradient problem.

    With the defaults (h_0 = 0, every input x_t = 1) the state stays exactly 0 on the
    line u = 0, every factor equals w, and the gradient there is, exactly,
    (dJ/dw, dJ/du) = (0, -y * (1 + w + w**2 + ... + w**(T-1))): bounded by y / (1 - w)
    for 0 <= w < 1, but about y * w**(T-1) for w > 1. For w > 1 the line u = 0 is a
    cliff: below it the state falls to the negative fixed point of h = tanh(w h + u),
    above it rises to the positive one, and the loss jumps between the two within a
    band of width roughly w**-T.

    Args:
        T: number of time steps, an integer >= 1. Default 20.
        h0: the initial state h_0, a finite number. Default 0.0.
        target: the target y for h_T, a finite number (only -1 < y < 1 is reachable).
            Default 0.6.
        inputs: the inputs x_1, ..., x_T, a sequence of T finite numbers; default all
            ones (then u acts as a bias).

    Attributes (besides those of every landscape): ``T``, ``h0``, ``target``,
    ``inputs`` (a tuple of floats). ``minima`` is empty: the loss is 0 on a whole curve
    of points (w, u), not at isolated minima; ``min_value`` is 0.

    Like every landscape, ``value(w, u)`` and ``grad(w, u)`` accept Python floats (fast,
    for :func:`optlib.trajectory`) or numpy arrays of any shape (for contour plots).

    References:
        Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent neural
        networks, ICML. Goodfellow, Bengio & Courville (2016), Deep Learning, §8.2.4 and
        §10.11.1.
    """

    log_scale = True
    bounds = ((0.0, 3.0), (-1.5, 1.5))
    start = (2.1, -0.7)
    minima = ()
    min_value = 0.0

    def __init__(self, T=20, h0=0.0, target=0.6, inputs=None):
        name = "OneUnitRNN"
        if isinstance(T, (bool, np.bool_)) or not isinstance(T, numbers.Integral):
            raise TypeError(f"{name}: T must be an integer >= 1, got {T!r}")
        if T < 1:
            raise ValueError(f"{name}: T must be an integer >= 1, got {T!r}")
        self.T = int(T)
        self.h0 = _check_finite(name, "h0", h0)
        self.target = _check_finite(name, "target", target)
        if inputs is None:
            inputs = (1.0,) * self.T
        elif isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__len__"):
            raise TypeError(f"{name}: inputs must be a sequence of T = {self.T} numbers")
        if len(inputs) != self.T:
            raise ValueError(
                f"{name}: inputs must hold one number per time step, T = {self.T}, "
                f"got {len(inputs)}"
            )
        self.inputs = tuple(_check_finite(name, f"inputs[{i}]", x) for i, x in enumerate(inputs))
        self.name = f"one-unit RNN (T = {self.T})"

    def __repr__(self):
        ones = all(x == 1.0 for x in self.inputs)
        inputs = "" if ones else f", inputs={list(self.inputs)!r}"
        return f"OneUnitRNN(T={self.T}, h0={self.h0:g}, target={self.target:g}{inputs})"

    # -- the network ------------------------------------------------------------------

    @staticmethod
    def _floats(w, u):
        return isinstance(w, float) and isinstance(u, float)

    def states(self, w, u):
        """The states [h_0, h_1, ..., h_T] of the forward pass (floats or arrays)."""
        if self._floats(w, u):
            tanh, h = math.tanh, self.h0
        else:
            w, u = np.asarray(w, dtype=float), np.asarray(u, dtype=float)
            tanh, h = np.tanh, np.full(np.broadcast(w, u).shape, self.h0)
        hs = [h]
        for x in self.inputs:
            h = tanh(w * h + u * x)
            hs.append(h)
        return hs

    def backprop(self, w, u):
        """Backpropagation through time: ``(dJ/dw, dJ/du, deltas)``.

        ``deltas[t]`` is dJ/dh_t for t = 0, ..., T (``deltas[T] = h_T - y``); its size,
        compared with ``deltas[T]``, shows how much the gradient signal grew or shrank
        on its way back from step T to step t.
        """
        hs = self.states(w, u)
        delta = hs[-1] - self.target  # dJ/dh_T
        deltas = [delta]
        grad_w = grad_u = 0.0
        for t in range(self.T, 0, -1):
            da = delta * (1 - hs[t] * hs[t])  # dJ/da_t
            grad_w = grad_w + da * hs[t - 1]
            grad_u = grad_u + da * self.inputs[t - 1]
            delta = da * w  # dJ/dh_{t-1}
            deltas.append(delta)
        return grad_w, grad_u, deltas[::-1]

    # -- the landscape ----------------------------------------------------------------

    def value(self, w, u):
        h_T = self.states(w, u)[-1]
        return 0.5 * (h_T - self.target) ** 2

    def grad(self, w, u):
        grad_w, grad_u, _ = self.backprop(w, u)
        if not self._floats(w, u):  # same shape for both, even where one is constant
            shape = np.broadcast(np.asarray(w), np.asarray(u)).shape
            grad_w = np.broadcast_to(grad_w, shape).copy()
            grad_u = np.broadcast_to(grad_u, shape).copy()
        return grad_w, grad_u


class Clipped(Landscape):
    """A landscape whose gradients are clipped: ``grad`` returns the clipped gradient.

    Running an optimizer on ``Clipped(landscape, threshold)`` is running it with gradient
    clipping on ``landscape``: the optimizer only ever sees the gradient that
    ``grad`` returns. ``value`` and the plotting attributes are those of ``landscape``,
    so losses and contour plots are unchanged.

    by="norm" (default), clipping by norm: with n = sqrt(gx**2 + gy**2), the norm of
    the whole gradient, ::

        (gx, gy) <- (gx, gy) * min(1, threshold / n)

    The direction is kept and the length becomes at most ``threshold``. With all
    parameters in one vector, as here, this is clipping by the global norm
    (:func:`optlib.clipping.clip_by_global_norm`).

    by="value", clipping each component: ::

        gx <- min(max(gx, -threshold), threshold), and the same for gy

    (:func:`optlib.clipping.clip_by_value`), which can turn the direction.

    Args:
        landscape: the landscape to wrap (any :class:`~optlib.landscapes.Landscape`).
        threshold: the largest allowed norm (by="norm") or absolute value of each
            component (by="value"), a finite number > 0.
        by: ``"norm"`` or ``"value"``.

    Like every landscape it works on floats and on arrays (each point clipped on its own).
    A non-finite gradient is returned as it is, so that :func:`optlib.trajectory` stops
    the run there as it would without clipping.
    """

    def __init__(self, landscape, threshold, by="norm"):
        if not isinstance(landscape, Landscape):
            raise TypeError(f"Clipped: landscape must be an optlib Landscape, got {landscape!r}")
        if not _is_real(threshold):
            raise TypeError(f"Clipped: threshold must be a finite number > 0, got {threshold!r}")
        if not (math.isfinite(threshold) and threshold > 0):
            raise ValueError(f"Clipped: threshold must be a finite number > 0, got {threshold!r}")
        if by not in ("norm", "value"):
            raise ValueError(f'Clipped: by must be "norm" or "value", got {by!r}')
        self.landscape, self.threshold, self.by = landscape, float(threshold), by
        for name in ("start", "bounds", "minima", "min_value", "log_scale"):
            setattr(self, name, getattr(landscape, name))
        what = "norm" if by == "norm" else "each component"
        self.name = f"{landscape.name}, {what} clipped at {self.threshold:g}"

    def __repr__(self):
        return f"Clipped({self.landscape!r}, threshold={self.threshold:g}, by={self.by!r})"

    def value(self, x, y):
        return self.landscape.value(x, y)

    def grad(self, x, y):
        gx, gy = self.landscape.grad(x, y)
        c = self.threshold
        if isinstance(gx, float) and isinstance(gy, float):
            if self.by == "value":
                return min(max(gx, -c), c), min(max(gy, -c), c)
            norm = math.hypot(gx, gy)
            if norm > c and math.isfinite(norm):
                return gx * (c / norm), gy * (c / norm)
            return gx, gy
        gx, gy = np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)
        if self.by == "value":
            return np.clip(gx, -c, c), np.clip(gy, -c, c)
        norm = np.hypot(gx, gy)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where((norm > c) & np.isfinite(norm), c / norm, 1.0)
        return gx * scale, gy * scale
