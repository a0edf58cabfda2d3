"""Helpers for the chapter "The same optimizers in PyTorch and optax".

You can skip this module on first reading: the chapter explains what each piece shows.

* :class:`SutskeverMomentum`: heavy-ball momentum with the learning rate *inside* the
  velocity, as Sutskever et al. (2013) write it. It gives the same path as
  :class:`optlib.Momentum` (PyTorch's convention) while the learning rate is constant
  and a different one when a schedule changes the rate.
* :func:`to_bfloat16`: round numbers to the nearest bfloat16 value, for showing what
  bfloat16 keeps and loses with numpy alone (numpy has no bfloat16 type).

Neither PyTorch nor optax is needed here; ``tests/test_framework_snippets.py`` runs the
chapter's PyTorch and optax code against optlib.
"""

import numpy as np

from .optimizers import Optimizer

__all__ = ["SutskeverMomentum", "to_bfloat16", "BFLOAT16_MANTISSA_BITS"]

#: Stored mantissa bits of bfloat16 (float32 has 23, float16 has 10).
BFLOAT16_MANTISSA_BITS = 7


class SutskeverMomentum(Optimizer):
    """Heavy-ball momentum with the learning rate inside the velocity (Sutskever et al.).

    Update rule::

        u     <- beta * u - lr * g
        theta <- theta + u

    u is a step (in units of theta), and each past gradient enters it with the rate of
    its own update. PyTorch's convention (:class:`optlib.Momentum`) keeps
    ``v <- beta * v + g`` in gradient units and multiplies the whole of v by the current
    rate, ``theta <- theta - lr * v``. With a constant rate the two are the same
    (u = -lr * v); when the rate changes, PyTorch's step changes at once by the ratio of
    the rates, while here the old velocity fades out over about 1 / (1 - beta) updates.

    Args:
        lr: learning rate (alpha), a float or a schedule. Default 0.01.
        beta: momentum coefficient in [0, 1). Default 0.9.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        Neither torch.optim nor optax implements this form: both use PyTorch's.

    References:
        Sutskever, Martens, Dahl, Hinton (2013), On the importance of initialization and
        momentum in deep learning.
    """

    state_names = ("u",)

    def __init__(self, lr=0.01, beta=0.9, weight_decay=0.0):
        super().__init__(lr=lr, beta=beta, weight_decay=weight_decay)

    def update(self, theta, g, u, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * theta
        u = self.beta * u - lr * g
        theta = theta + u
        return theta, u


def to_bfloat16(x):
    """The nearest bfloat16 value of every entry of ``x``, returned as float32.

    bfloat16 is the upper half of a float32: the same sign and 8 exponent bits, and
    only the top 7 of the 23 mantissa bits. Rounding is to nearest, ties to even, as
    hardware converts. inf stays inf and nan stays nan; finite values too large for
    bfloat16 (above about 3.39e38) become inf.

    Args:
        x: a number or an array of numbers (converted to float32 first).

    Example:
        >>> float(to_bfloat16(1.001))      # spacing near 1 is 2**-7 = 0.0078125
        1.0
        >>> float(to_bfloat16(1e-8)) > 0   # the range of float32: eps = 1e-8 survives
        True
    """
    x32 = np.asarray(x, dtype=np.float32)
    bits = x32.view(np.uint32).astype(np.uint64)
    dropped = 32 - 16  # low mantissa bits that bfloat16 does not store
    half = 1 << (dropped - 1)
    lowest_kept = (bits >> dropped) & 1
    rounded = ((bits + (half - 1) + lowest_kept) >> dropped) << dropped
    out = rounded.astype(np.uint32).view(np.float32)
    # nan must stay nan (rounding could carry a nan's payload into inf).
    return np.where(np.isnan(x32), np.float32(np.nan), out)
