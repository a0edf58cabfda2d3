"""Gradient clipping: limit the size of a gradient before the optimizer uses it.

All functions accept the gradients in the same three shapes as the optimizers: one
numpy array, a list/tuple of arrays, or a dict of arrays. Every array must have a
floating-point dtype, which is preserved. They return a *new* container of the same
kind and never modify the arrays you pass in.

* ``global_norm(tree)``: the L2 norm of all gradient entries taken together.
* ``clip_by_global_norm(grads, max_norm)``: rescale *all* arrays by the same factor so the
  global norm is at most ``max_norm``; the direction of the update is unchanged.
* ``clip_by_value(grads, limit)``: clamp every entry to [-limit, limit]; this can change
  the direction.

Typical use, inside a training loop::

    grads, norm = clip_by_global_norm(grads, max_norm=1.0)
    opt.step(params, grads)
    history.append(norm)        # the norm *before* clipping, worth logging
"""

import math
import numbers

import numpy as np

from optlib._tree import check_leaf, flatten

__all__ = ["global_norm", "clip_by_global_norm", "clip_by_value"]


def global_norm(tree):
    """The L2 norm of all entries of all arrays in ``tree``, as one float.

    Formula:
        global_norm = sqrt( sum over arrays g, sum over entries i of g[i] ** 2 )

    i.e. the norm of the single long vector you get by flattening every array and
    concatenating them.

    Args:
        tree: a floating-point numpy array, a list/tuple of them, or a dict of them
            (gradients, or parameters, or updates: anything worth logging the size of).

    Returns:
        A Python float. It is ``inf`` or ``nan`` if some entry is.

    Notes:
        This is not the norm of one array, nor the sum or the mean of the per-array
        norms: for arrays with norms n1, n2, ... it is sqrt(n1**2 + n2**2 + ...).
        The sum is accumulated in float64 after dividing by the largest absolute entry,
        so it neither overflows nor underflows even when squaring the entries would.

    Example:
        >>> import numpy as np
        >>> global_norm([np.array([3.0]), np.array([[4.0, 0.0]])])
        5.0
    """
    return _global_norm(_float_leaves(tree, "tree", "global_norm"))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one common factor so their global norm is at most ``max_norm``.

    Formula:
        norm = global_norm(grads)
        clipped = grads * (max_norm / norm)     if norm > max_norm
        clipped = grads                         otherwise

    Args:
        grads: a floating-point numpy array, a list/tuple of them, or a dict of them.
        max_norm: the largest allowed global norm, a finite number > 0.

    Returns:
        ``(clipped, norm)``: a new container of the same kind as ``grads`` (new arrays,
        same shapes and dtypes), and the global norm *before* clipping as a Python float.

    Raises:
        ValueError: if the global norm is inf or nan. Clipping cannot rescue such a
            gradient: find where the overflow or the 0/0 happened instead.

    Notes:
        Every array is multiplied by the same number, so the direction of the whole
        update is preserved (only its length changes), as in PyTorch's
        ``torch.nn.utils.clip_grad_norm_``. Clipping each array by its own norm, or
        computing the norm of one array only, would change the direction.
        Below the threshold the values are returned unchanged (as copies).

    Example:
        >>> import numpy as np
        >>> grads = {"W": np.array([3.0, 0.0]), "b": np.array([4.0])}
        >>> clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
        >>> norm
        5.0
        >>> clipped["W"], clipped["b"]
        (array([0.6, 0. ]), array([0.8]))
    """
    name = "clip_by_global_norm"
    max_norm = _check_positive(max_norm, "max_norm", name)
    leaves, rebuild = _float_leaves(grads, "grads", name, with_rebuild=True)
    norm = _global_norm(leaves)
    if not math.isfinite(norm):
        raise ValueError(
            f"{name}: the global norm of grads is {norm}; clipping cannot rescue "
            f"non-finite gradients (look for an overflow or a division by zero upstream)"
        )
    if norm > max_norm:
        scale = max_norm / norm
        clipped = [np.asarray(leaf * scale, dtype=leaf.dtype) for leaf in leaves]
    else:
        clipped = [leaf.copy() for leaf in leaves]
    return rebuild(clipped), norm


def clip_by_value(grads, limit):
    """Clamp every gradient entry to the interval [-limit, limit].

    Formula:
        clipped[i] = min(max(g[i], -limit), limit)      for every entry of every array

    Args:
        grads: a floating-point numpy array, a list/tuple of them, or a dict of them.
        limit: the largest allowed absolute value, a finite number > 0.

    Returns:
        A new container of the same kind as ``grads`` (new arrays, same shapes and dtypes).

    Notes:
        Unlike ``clip_by_global_norm``, this changes the *direction* of the gradient:
        large entries are cut while small ones are kept, e.g. [10, 1] -> [1, 1] with
        limit=1. An entry equal to +-inf becomes +-limit (or the largest number of its
        dtype, for a limit beyond float32's range); nan stays nan.

    Example:
        >>> import numpy as np
        >>> clip_by_value(np.array([-3.0, 0.5, 2.0]), limit=1.0)
        array([-1. ,  0.5,  1. ])
    """
    name = "clip_by_value"
    limit = _check_positive(limit, "limit", name)
    leaves, rebuild = _float_leaves(grads, "grads", name, with_rebuild=True)
    clipped = []
    for leaf in leaves:
        # A limit beyond the dtype's range clips nothing; capping it avoids an overflow
        # (and its warning) when numpy casts it to float32.
        bound = min(limit, float(np.finfo(leaf.dtype).max))
        clipped.append(np.asarray(np.clip(leaf, -bound, bound), dtype=leaf.dtype))
    return rebuild(clipped)


def _global_norm(leaves):
    # Divide by the largest |entry| first so that squaring can neither overflow
    # (entries ~1e200) nor underflow (entries ~1e-200); multiply back at the end.
    largest = max(float(np.max(np.abs(leaf), initial=0.0)) for leaf in leaves)
    if largest == 0.0 or not math.isfinite(largest):
        return largest  # all zeros -> 0.0; an inf or nan entry -> inf or nan
    sum_of_squares = sum(
        float(np.sum(np.square(leaf.astype(np.float64) / largest))) for leaf in leaves
    )
    return largest * math.sqrt(sum_of_squares)


def _float_leaves(grads, label, name, with_rebuild=False):
    """The arrays in ``grads`` (checked to be floating point) and, optionally, ``rebuild``."""
    try:
        leaves, labels, rebuild = flatten(grads, label)
        for leaf, leaf_label in zip(leaves, labels, strict=True):
            check_leaf(leaf, leaf_label)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None
    return (leaves, rebuild) if with_rebuild else leaves


def _check_positive(value, param, name):
    """A finite real number > 0 (not bool), returned as a Python float."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name}: {param} must be a finite number > 0, got {type(value).__name__} "
            f"{_shown(value)}"
        )
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(
            f"{name}: {param} must be a finite number > 0, got {_shown(value)}, too large "
            f"for a float"
        ) from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name}: {param} must be a finite number > 0, got {number!r}")
    return number


def _shown(value):
    """``repr(value)``, shortened if it is very long (an integer like 10**400)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"
