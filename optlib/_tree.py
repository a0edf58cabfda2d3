"""Walk parameters given as one array, a list/tuple of arrays or a dict of arrays.

You can skip this on first reading: it is plumbing shared by the optimizers and the
clipping functions, so that ``opt.step(params, grads)`` and
``clip_by_global_norm(grads, 1.0)`` accept the same three shapes of input.
"""

import numpy as np


def flatten(tree, name):
    """Return ``(leaves, labels, rebuild)`` for an array, list/tuple or dict of arrays.

    ``labels`` name each leaf for error messages (``"params"``, ``"params[1]"``,
    ``"params['W1']"``); ``rebuild(new_leaves)`` puts new leaves back into a
    container of the same kind (list, tuple or dict with the same key order).
    """
    if isinstance(tree, np.ndarray):
        return [tree], [name], lambda leaves: leaves[0]
    if isinstance(tree, (list, tuple)):
        if len(tree) == 0:
            raise ValueError(f"{name} is an empty {type(tree).__name__}; give at least one array")
        kind = type(tree)
        labels = [f"{name}[{i}]" for i in range(len(tree))]
        return list(tree), labels, lambda leaves: kind(leaves)
    if isinstance(tree, dict):
        if len(tree) == 0:
            raise ValueError(f"{name} is an empty dict; give at least one array")
        keys = list(tree)
        labels = [f"{name}[{k!r}]" for k in keys]
        return [tree[k] for k in keys], labels, lambda leaves: dict(zip(keys, leaves))
    raise TypeError(
        f"{name} must be a numpy array, a list/tuple of arrays or a dict of arrays, "
        f"got {type(tree).__name__}"
    )


def structure(tree):
    """A comparable description of a tree: its kind and its keys or length."""
    if isinstance(tree, np.ndarray):
        return ("array",)
    if isinstance(tree, dict):
        return ("dict", tuple(tree))
    return (type(tree).__name__, len(tree))


def check_leaf(leaf, label):
    """Raise TypeError unless ``leaf`` is a floating-point numpy array."""
    if not isinstance(leaf, np.ndarray):
        raise TypeError(
            f"{label} must be a floating-point numpy array, got {type(leaf).__name__}; "
            f"convert it with np.asarray(..., dtype=float)"
        )
    if not np.issubdtype(leaf.dtype, np.floating):
        raise TypeError(
            f"{label} must be a floating-point numpy array, got dtype {leaf.dtype}; "
            f"convert it with .astype(float)"
        )


def same_structure(a, b, name_a, name_b):
    """Raise ValueError unless trees ``a`` and ``b`` have the same kind and keys/length."""
    sa, sb = structure(a), structure(b)
    if sa != sb:
        raise ValueError(f"{name_b} must have the same structure as {name_a}: {sa} vs {sb}")


def unflatten(struct, leaves):
    """Inverse of ``flatten`` given ``structure(tree)``: put ``leaves`` back in a container."""
    kind = struct[0]
    if kind == "array":
        return leaves[0]
    if kind == "dict":
        return dict(zip(struct[1], leaves))
    return (tuple if kind == "tuple" else list)(leaves)
