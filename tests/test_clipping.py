"""Tests for optlib.clipping. Expected values are computed independently of the code."""

import collections
import math
import warnings

import numpy as np
import pytest

from optlib.clipping import clip_by_global_norm, clip_by_value, global_norm


def _entries(tree):
    """All entries of an array / list / tuple / dict as one float64 vector (independent)."""
    if isinstance(tree, np.ndarray):
        arrays = [tree]
    elif isinstance(tree, dict):
        arrays = list(tree.values())
    else:
        arrays = list(tree)
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in arrays])


def _random_tree(rng, kind):
    shapes = [(), (3,), (2, 4), (5, 1, 2)]
    n = int(rng.integers(1, 4))
    chosen = [shapes[i] for i in rng.integers(0, len(shapes), size=n)]
    scale = 10.0 ** rng.uniform(-3, 3)
    arrays = [np.asarray(rng.normal(size=shape) * scale) for shape in chosen]
    if kind == "array":
        return arrays[0]
    if kind == "list":
        return arrays
    if kind == "tuple":
        return tuple(arrays)
    return {f"w{i}": a for i, a in enumerate(arrays)}


def _copy(tree):
    if isinstance(tree, np.ndarray):
        return tree.copy()
    if isinstance(tree, dict):
        return {k: v.copy() for k, v in tree.items()}
    return type(tree)(a.copy() for a in tree)


KINDS = ["array", "list", "tuple", "dict"]


# --------------------------------------------------------------- global_norm


def test_global_norm_by_hand():
    assert global_norm(np.array([3.0, 4.0])) == 5.0
    # 1 + 4 + 4 + 16 = 25 over two arrays -> 5; NOT the norm of one array (1 or sqrt(24)).
    assert global_norm([np.array([1.0]), np.array([[2.0, 2.0], [4.0, 0.0]])]) == 5.0
    assert global_norm({"W": np.zeros((2, 2)), "b": np.zeros(3)}) == 0.0
    assert global_norm([np.zeros(2), np.array([3.0, 4.0])]) == 5.0
    assert global_norm([np.array([]), np.array([-5.0])]) == 5.0


def test_global_norm_equals_concatenated_norm():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=7), rng.normal(size=(2, 2, 2))]
    flat = np.concatenate([g.ravel() for g in grads])
    expected = math.sqrt(sum(float(x) ** 2 for x in flat))
    assert global_norm(grads) == pytest.approx(expected, rel=1e-12)
    assert type(global_norm(grads)) is float


def test_global_norm_extreme_magnitudes_do_not_overflow_or_underflow():
    assert global_norm(np.array([3e200, 4e200])) == pytest.approx(5e200, rel=1e-12)
    assert global_norm(np.array([3e-200, 4e-200])) == pytest.approx(5e-200, rel=1e-12)
    # float32 entries whose squares overflow float32 (max ~3.4e38).
    assert global_norm(np.array([3e20, 4e20], dtype=np.float32)) == pytest.approx(5e20, rel=1e-6)


def test_global_norm_error_names_the_argument():
    with pytest.raises(TypeError, match=r"global_norm: tree\['b'\] must be a floating-point"):
        global_norm({"W": np.ones(2), "b": np.ones(2, dtype=np.int32)})


def test_global_norm_non_finite():
    assert math.isnan(global_norm([np.array([1.0]), np.array([np.nan])]))
    assert global_norm(np.array([1.0, -np.inf])) == math.inf


# --------------------------------------------------------------- clip_by_global_norm


def test_clip_by_global_norm_by_hand():
    grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}  # global norm 5
    clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
    assert norm == 5.0
    assert list(clipped) == ["W", "b"]
    np.testing.assert_allclose(clipped["W"], [[0.6, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(clipped["b"], [0.8], rtol=1e-15)


@pytest.mark.parametrize("kind", KINDS)
def test_clipped_direction_preserved_and_norm_equals_max_norm(kind):
    rng = np.random.default_rng(1)
    grads = _random_tree(rng, kind)
    before = _entries(grads)
    norm_before = float(np.sqrt(np.sum(before**2)))
    max_norm = norm_before / 3
    clipped, norm = clip_by_global_norm(grads, max_norm)
    after = _entries(clipped)
    assert norm == pytest.approx(norm_before, rel=1e-12)
    assert float(np.sqrt(np.sum(after**2))) == pytest.approx(max_norm, rel=1e-12)
    cosine = after @ before / (np.linalg.norm(after) * np.linalg.norm(before))
    assert cosine == pytest.approx(1.0, abs=1e-12)
    # Every array is scaled by the same factor max_norm / norm.
    np.testing.assert_allclose(after, before * (max_norm / norm_before), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_same_structure_returned(kind):
    rng = np.random.default_rng(2)
    grads = _random_tree(rng, kind)
    for max_norm in (1e-6, 1e6):  # clipped, and not clipped
        clipped, _ = clip_by_global_norm(grads, max_norm)
        assert type(clipped) is type(grads)
        if kind == "dict":
            assert list(clipped) == list(grads)
        if kind != "array":
            assert len(clipped) == len(grads)
        originals = [grads] if kind == "array" else list(_values(grads))
        results = [clipped] if kind == "array" else list(_values(clipped))
        for a, b in zip(originals, results, strict=True):
            assert b.shape == a.shape and b.dtype == a.dtype


def _values(tree):
    return tree.values() if isinstance(tree, dict) else tree


def test_never_increases_the_norm_property():
    rng = np.random.default_rng(3)
    for trial in range(300):
        grads = _random_tree(rng, KINDS[trial % len(KINDS)])
        norm_before = float(np.linalg.norm(_entries(grads)))
        max_norm = 10.0 ** rng.uniform(-3, 3)
        clipped, norm = clip_by_global_norm(grads, max_norm)
        norm_after = float(np.linalg.norm(_entries(clipped)))
        assert norm == pytest.approx(norm_before, rel=1e-12)
        assert norm_after <= norm_before * (1 + 1e-12)
        assert norm_after <= max_norm * (1 + 1e-12)


def test_below_threshold_values_unchanged_but_copied():
    grads = [np.array([0.3, -0.4]), np.array([[0.0]])]  # norm 0.5
    clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
    assert norm == pytest.approx(0.5, rel=1e-15)
    assert clipped[0].tolist() == [0.3, -0.4] and clipped[1].tolist() == [[0.0]]
    assert clipped[0] is not grads[0]
    clipped[0][0] = 99.0
    assert grads[0][0] == 0.3  # the result does not share memory with the input


def test_exactly_at_threshold_is_not_changed():
    grads = np.array([3.0, 4.0])
    clipped, norm = clip_by_global_norm(grads, max_norm=5.0)
    assert norm == 5.0 and clipped.tolist() == [3.0, 4.0]


@pytest.mark.parametrize("kind", KINDS)
def test_input_not_mutated(kind):
    rng = np.random.default_rng(4)
    grads = _random_tree(rng, kind)
    saved = _copy(grads)
    clip_by_global_norm(grads, max_norm=1e-3)
    clip_by_value(grads, limit=1e-3)
    global_norm(grads)
    assert np.array_equal(_entries(grads), _entries(saved))
    if kind == "dict":
        assert list(grads) == list(saved)


def test_clip_by_global_norm_preserves_float32():
    grads = [np.full(4, 10.0, dtype=np.float32), np.ones(2, dtype=np.float64)]
    clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
    assert clipped[0].dtype == np.float32 and clipped[1].dtype == np.float64
    assert norm == pytest.approx(math.sqrt(400 + 2), rel=1e-12)
    assert type(norm) is float


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_norm_raises(bad):
    grads = {"W": np.ones(3), "b": np.array([bad])}
    message = r"clip_by_global_norm: the global norm of grads is (nan|inf); clipping cannot"
    with pytest.raises(ValueError, match=message):
        clip_by_global_norm(grads, max_norm=1.0)


@pytest.mark.parametrize(
    "max_norm, error, message",
    [
        (0, ValueError, r"clip_by_global_norm: max_norm must be a finite number > 0, got 0.0"),
        (-1.0, ValueError, r"max_norm must be a finite number > 0, got -1.0"),
        (np.inf, ValueError, r"max_norm must be a finite number > 0, got inf"),
        (np.nan, ValueError, r"max_norm must be a finite number > 0, got nan"),
        (True, TypeError, r"max_norm must be a finite number > 0, got bool True"),
        ("1", TypeError, r"max_norm must be a finite number > 0, got str '1'"),
        (None, TypeError, r"max_norm must be a finite number > 0, got NoneType"),
    ],
)
def test_bad_max_norm(max_norm, error, message):
    with pytest.raises(error, match=message):
        clip_by_global_norm(np.ones(3), max_norm)


def test_clip_by_global_norm_accepts_integer_and_numpy_max_norm():
    _, norm = clip_by_global_norm(np.array([3.0, 4.0]), 1)
    clipped, _ = clip_by_global_norm(np.array([3.0, 4.0]), np.float32(2.5))
    assert norm == 5.0
    np.testing.assert_allclose(clipped, [1.5, 2.0], rtol=1e-15)


@pytest.mark.parametrize(
    "grads, error, message",
    [
        ([np.array([1, 2])], TypeError, r"clip_by_global_norm: grads\[0\] must be a floating"),
        ({"W": [1.0, 2.0]}, TypeError, r"grads\['W'\] must be a floating-point numpy array"),
        ([1.0, 2.0], TypeError, r"grads\[0\] must be a floating-point numpy array, got float"),
        (3.0, TypeError, r"grads must be a numpy array, a list/tuple of arrays or a dict"),
        ([], ValueError, r"clip_by_global_norm: grads is an empty list"),
        ({}, ValueError, r"grads is an empty dict"),
    ],
)
def test_bad_grads(grads, error, message):
    with pytest.raises(error, match=message):
        clip_by_global_norm(grads, 1.0)


# --------------------------------------------------------------- clip_by_value


def test_clip_by_value_bounds():
    g = np.array([-5.0, -1.0, -0.5, 0.0, 0.5, 1.0, 5.0])
    assert clip_by_value(g, limit=1.0).tolist() == [-1.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0]


def test_clip_by_value_tree_bounds_and_dtypes():
    rng = np.random.default_rng(5)
    grads = {
        "W": (rng.normal(size=(4, 3)) * 5).astype(np.float32),
        "b": rng.normal(size=3) * 5,
    }
    clipped = clip_by_value(grads, limit=2)
    assert list(clipped) == ["W", "b"]
    assert clipped["W"].dtype == np.float32  # float32 stays float32
    assert clipped["b"].dtype == np.float64
    for key in grads:
        assert np.all(np.abs(clipped[key]) <= 2)
        inside = np.abs(grads[key]) <= 2
        assert np.array_equal(clipped[key][inside], grads[key][inside])  # untouched
        assert np.array_equal(clipped[key][~inside], 2 * np.sign(grads[key][~inside]))


def test_clip_by_value_changes_direction():
    # The documented difference from global-norm clipping: [10, 1] -> [1, 1].
    clipped = clip_by_value(np.array([10.0, 1.0]), limit=1.0)
    assert clipped.tolist() == [1.0, 1.0]


def test_clip_by_value_returns_new_arrays():
    grads = (np.array([0.1, 0.2]),)
    clipped = clip_by_value(grads, limit=1.0)
    assert type(clipped) is tuple
    assert clipped[0] is not grads[0]
    clipped[0][0] = 7.0
    assert grads[0][0] == 0.1


def test_clip_by_value_infinities():
    clipped = clip_by_value(np.array([np.inf, -np.inf, np.nan]), limit=3.0)
    assert clipped[:2].tolist() == [3.0, -3.0]
    assert np.isnan(clipped[2])


@pytest.mark.parametrize(
    "limit, error, message",
    [
        (0.0, ValueError, r"clip_by_value: limit must be a finite number > 0, got 0.0"),
        (-2, ValueError, r"clip_by_value: limit must be a finite number > 0, got -2.0"),
        (np.inf, ValueError, r"limit must be a finite number > 0, got inf"),
        (False, TypeError, r"clip_by_value: limit must be a finite number > 0, got bool False"),
    ],
)
def test_bad_limit(limit, error, message):
    with pytest.raises(error, match=message):
        clip_by_value(np.ones(2), limit)


def test_zero_dimensional_arrays_stay_arrays():
    clipped, norm = clip_by_global_norm([np.array(3.0), np.array(-4.0)], max_norm=1.0)
    assert norm == 5.0
    assert all(isinstance(c, np.ndarray) and c.shape == () for c in clipped)
    np.testing.assert_allclose([float(c) for c in clipped], [0.6, -0.8], rtol=1e-15)
    clipped = clip_by_value(np.array(5.0, dtype=np.float32), limit=1.0)
    assert isinstance(clipped, np.ndarray) and clipped.dtype == np.float32 and clipped == 1.0


def test_clip_by_value_rejects_integer_arrays():
    with pytest.raises(TypeError, match=r"clip_by_value: grads must be a floating-point.*int"):
        clip_by_value(np.array([1, 2, 3]), limit=1.0)


# --------------------------------------------------------------- hostile input


@pytest.mark.parametrize("clip, param", [(clip_by_global_norm, "max_norm"),
                                         (clip_by_value, "limit")])
@pytest.mark.parametrize("bound", [10**400, -(10**400)], ids=["10**400", "-10**400"])
def test_overflowing_int_bound_is_a_value_error(clip, param, bound):
    with pytest.raises(ValueError, match=rf"^{clip.__name__}: {param} must be a finite number "
                                         r"> 0, got -?1000.*\(40\d characters\), too large"):
        clip(np.ones(2), bound)


def test_namedtuple_gradients_keep_their_type():
    Layer = collections.namedtuple("Layer", "W b")
    grads = Layer(np.array([[3.0, 0.0]]), np.array([4.0]))
    clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
    assert type(clipped) is Layer and norm == 5.0
    np.testing.assert_allclose(clipped.W, [[0.6, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(clipped.b, [0.8], rtol=1e-15)
    limited = clip_by_value(grads, limit=1.0)
    assert type(limited) is Layer
    np.testing.assert_array_equal(limited.b, [1.0])


def test_a_limit_beyond_float32_clips_nothing_and_warns_nothing():
    g = np.array([-3e38, 1.0, np.inf], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped = clip_by_value(g, limit=1e300)
    assert clipped.dtype == np.float32
    np.testing.assert_array_equal(clipped, np.array([-3e38, 1.0, np.finfo(np.float32).max],
                                                    dtype=np.float32))
