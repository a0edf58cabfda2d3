"""Walk parameters given as one array, a list/tuple of arrays or a dict of arrays.

You can skip this on first reading: it is plumbing shared by the optimizers and the
clipping functions, so that ``opt.step(params, grads)`` and
``clip_by_global_norm(grads, 1.0)`` accept the same three shapes of input, and reject
bad input with the same messages.
"""

import numpy as np


def flatten(tree, name):
    """Return ``(leaves, labels, rebuild)`` for an array, list/tuple or dict of arrays.

    ``labels`` name each leaf for error messages (``"params"``, ``"params[1]"``,
    ``"params['W1']"``); ``rebuild(new_leaves)`` puts new leaves back into a
    container of the same kind (list, tuple, namedtuple, or dict with the same key order).
    """
    if isinstance(tree, np.ndarray):
        return [tree], [name], lambda leaves: leaves[0]
    if isinstance(tree, (list, tuple)):
        if len(tree) == 0:
            raise ValueError(f"{name} is an empty {type(tree).__name__}; give at least one array")
        kind = type(tree)
        labels = [f"{name}[{i}]" for i in range(len(tree))]
        if hasattr(kind, "_make"):  # a namedtuple: its constructor takes one argument per field
            return list(tree), labels, kind._make
        return list(tree), labels, kind
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


def check_leaf(leaf, label, accepted=None):
    """Raise TypeError unless ``leaf`` is a floating-point numpy array.

    ``accepted``: if given, a dict ``{dtype: None}`` of the only dtypes allowed, or
    ``{dtype: reason}`` to explain why a floating dtype is refused.
    """
    if not isinstance(leaf, np.ndarray):
        raise TypeError(
            f"{label} must be a floating-point numpy array, got {type(leaf).__name__}; "
            f"convert it with np.asarray(..., dtype=float)"
        )
    if isinstance(leaf, (np.matrix, np.ma.MaskedArray)):
        raise TypeError(
            f"{label} is a {type(leaf).__module__}.{type(leaf).__name__}, whose rows or mask "
            f"the element-wise rules would not respect; give a plain numpy array "
            f"(np.asarray(...), after filling masked entries)"
        )
    if not np.issubdtype(leaf.dtype, np.floating):
        raise TypeError(
            f"{label} must be a floating-point numpy array, got dtype {leaf.dtype}; "
            f"convert it with .astype(float)"
        )
    if accepted is not None and leaf.dtype not in accepted:
        names = ", ".join(str(np.dtype(d)) for d in accepted)
        raise TypeError(
            f"{label} has dtype {leaf.dtype}; accepted dtypes are {names}"
            + REFUSED_DTYPES.get(leaf.dtype, "")
        )


#: Why a floating dtype is refused, appended to the message of :func:`check_leaf`.
REFUSED_DTYPES = {
    np.dtype(np.float16): (
        ". In float16 the optimizers' arithmetic breaks down: eps = 1e-8 rounds to 0, "
        "and a squared gradient rounds to 0 for |g| < ~1.7e-4 and overflows for |g| > 256, "
        "so finite input gives nan or inf. Keep float32 master weights, as mixed-precision "
        "training does, and cast: params.astype(np.float32)"
    ),
}


def check_finite(leaf, label, what):
    """Raise ValueError if array ``leaf`` has a nan or an infinite entry.

    ``what`` names the kind of array in the message ("gradients", "parameters").
    """
    # A sum is finite only if every entry is (nan and inf propagate); it needs no
    # temporary array. If it is not, look closer: it may only have overflowed.
    with np.errstate(over="ignore", invalid="ignore"):
        suspect = not np.isfinite(leaf.sum())
    if suspect and not np.all(np.isfinite(leaf)):
        flat = leaf.reshape(-1)
        bad = np.flatnonzero(~np.isfinite(flat))
        raise ValueError(
            f"{label} contains {bad.size} non-finite value(s) (first at flat index "
            f"{bad[0]}: {flat[bad[0]]}); {what} must be finite. The step was not taken."
        )


def same_structure(a, b, name_a, name_b):
    """Raise ValueError unless trees ``a`` and ``b`` have the same kind and keys/length."""
    sa, sb = structure(a), structure(b)
    if sa != sb:
        raise ValueError(f"{name_b} must have the same structure as {name_a}: {sa} vs {sb}")


def unflatten(struct, leaves):
    """Inverse of ``flatten`` given ``structure(tree)``: put ``leaves`` back in a container.

    A namedtuple's structure records only its name, so it comes back as a plain tuple.
    """
    kind = struct[0]
    if kind == "array":
        return leaves[0]
    if kind == "dict":
        return dict(zip(struct[1], leaves))
    return (list if kind == "list" else tuple)(leaves)
