"""The optimizer API shared by every class: containers, dtypes, state, schedules,
checkpoints, and the checks on hyperparameters and inputs.

The base class promises that a rejected step changes nothing; every rejection below
checks that the parameters, ``opt.t`` and ``opt.state`` are as they were.
"""

import collections
import copy
import json
import math
import pickle
import re
import warnings

import numpy as np
import pytest

import optlib.optimizers as optimizers_module
from optlib.optimizers import OPTIMIZERS, SGD, Adam, AdamW, Momentum

NAMES = list(OPTIMIZERS)


def grads_for(params, k=0):
    """Deterministic gradients shaped like ``params`` (array, list/tuple or dict)."""

    def leaf(p, i):
        n = p.size
        g = np.sin(np.arange(n, dtype=np.float64) * 0.7 + k + 0.3 * i) + 0.1 * (k + 1)
        return g.reshape(p.shape).astype(p.dtype)

    if isinstance(params, np.ndarray):
        return leaf(params, 0)
    if isinstance(params, dict):
        return {key: leaf(p, i) for i, (key, p) in enumerate(params.items())}
    return type(params)(leaf(p, i) for i, p in enumerate(params))


def leaves(tree):
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, dict):
        return list(tree.values())
    return list(tree)


def snapshot(opt):
    """Everything observable about an optimizer, deep-copied."""
    return opt.t, copy.deepcopy(opt.state), copy.deepcopy(opt.state_dict())


def assert_same_tree(a, b):
    """Exact equality of nested dicts/lists/arrays/numbers."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for key in a:
            assert_same_tree(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tree(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a is None and b is None), (a, b)


def assert_unchanged(opt, before):
    t, state, state_dict = before
    assert opt.t == t
    assert_same_tree(opt.state, state)
    assert_same_tree(opt.state_dict(), state_dict)


def started(name, params=None, steps=2, **kwargs):
    """An optimizer that has made ``steps`` steps on ``params``; returns (opt, params)."""
    opt = OPTIMIZERS[name](**kwargs)
    params = np.array([0.5, -1.0, 2.0]) if params is None else params
    for k in range(steps):
        params = opt.step(params, grads_for(params, k))
    return opt, params


# ======================================================================================
# Containers, immutability, dtypes, shapes
# ======================================================================================

CONTAINERS = {
    "array": lambda: np.array([0.5, -1.0, 2.0]),
    "list": lambda: [np.array([0.5, -1.0]), np.array([[1.0, 2.0], [3.0, -4.0]])],
    "tuple": lambda: (np.array([0.5, -1.0]), np.array([2.0])),
    "dict": lambda: {"w2": np.array([[0.5, -1.0]]), "b1": np.array([2.0]), "a": np.array(3.0)},
}


@pytest.mark.parametrize("kind", CONTAINERS)
@pytest.mark.parametrize("name", NAMES)
def test_inputs_never_mutated_and_containers_kept(name, kind):
    opt = OPTIMIZERS[name]()
    params = CONTAINERS[kind]()
    returned, frozen = [], []
    for k in range(4):
        grads = grads_for(params, k)
        params_copy, grads_copy = copy.deepcopy(params), copy.deepcopy(grads)
        new = opt.step(params, grads)
        assert_same_tree(params, params_copy)  # params not modified
        assert_same_tree(grads, grads_copy)  # grads not modified
        assert type(new) is type(params)
        if isinstance(params, dict):
            assert list(new) == list(params)  # key order kept
        for p, q in zip(leaves(params), leaves(new)):
            assert q is not p and q.shape == p.shape and q.dtype == p.dtype
            assert not np.shares_memory(q, p)
        params = new
        returned.append(new)
        frozen.append(copy.deepcopy(new))
    # what earlier steps returned was not modified by later steps
    for got, expected in zip(returned, frozen):
        assert_same_tree(got, expected)


@pytest.mark.parametrize("name", NAMES)
def test_results_of_earlier_steps_stay_put(name):
    opt = OPTIMIZERS[name]()
    path = [np.array([0.5, -1.0, 2.0])]
    for k in range(5):
        path.append(opt.step(path[-1], grads_for(path[-1], k)))
    frozen = [p.copy() for p in path]
    for k in range(5, 10):
        opt.step(path[-1], grads_for(path[-1], k))
    for p, q in zip(path, frozen):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out(name):
    p32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    opt32, opt64 = OPTIMIZERS[name](), OPTIMIZERS[name]()
    p64 = p32.astype(np.float64)
    for k in range(5):
        g64 = grads_for(p64, k)
        p32 = opt32.step(p32, g64.astype(np.float32))
        p64 = opt64.step(p64, g64)
        assert p32.dtype == np.float32
    for key, value in opt32.state.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key
    np.testing.assert_allclose(p32, p64, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_zero_d_and_three_d_arrays(name):
    # every rule is element-wise: a 0-d array behaves like a 1-element array,
    # a 3-d array like its ravel()
    opt0, opt1 = OPTIMIZERS[name](), OPTIMIZERS[name]()
    p0, p1 = np.array(1.5), np.array([1.5])
    for k in range(3):
        p0 = opt0.step(p0, np.array(0.3 - k))
        p1 = opt1.step(p1, np.array([0.3 - k]))
        assert p0.shape == ()
        np.testing.assert_array_equal(p0.reshape(1), p1)

    rng = np.random.default_rng(1)
    p3 = rng.normal(size=(2, 3, 4))
    flat = p3.ravel().copy()
    opt3, optf = OPTIMIZERS[name](), OPTIMIZERS[name]()
    for k in range(3):
        g3 = grads_for(p3, k)
        p3 = opt3.step(p3, g3)
        flat = optf.step(flat, g3.ravel().copy())
        assert p3.shape == (2, 3, 4)
        np.testing.assert_array_equal(p3.ravel(), flat)


@pytest.mark.parametrize("name", NAMES)
def test_state_has_the_shape_of_the_parameters(name):
    # The class docstring: "state: a copy of the optimizer's state, shaped like the
    # parameters".
    opt, _ = started(name, params={"W": np.ones((2, 3)), "b": np.ones(3)})
    state = opt.state
    assert list(state) == ["W", "b"]
    for key, shape in (("W", (2, 3)), ("b", (3,))):
        for name_, value in state[key].items():
            if isinstance(value, np.ndarray):
                assert value.shape == shape, f"state[{key!r}][{name_!r}]"


N_LARGE = 50_000  # > CHUNK_SIZE and not a multiple of it


@pytest.mark.parametrize("name", NAMES)
def test_large_array_is_chunked_invisibly(name, monkeypatch):
    assert N_LARGE > optimizers_module.CHUNK_SIZE
    assert N_LARGE % optimizers_module.CHUNK_SIZE != 0
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=N_LARGE)
    grads = [rng.normal(size=N_LARGE) for _ in range(3)]

    def run_large():
        opt, p = OPTIMIZERS[name](), p0
        for g in grads:
            p = opt.step(p, g)
        return p, opt.state

    chunked, chunked_state = run_large()
    # element-wise rule: each element's result doesn't depend on the others;
    # check elements in the first and in the last chunk against a small run
    for idx in (np.arange(5), np.arange(N_LARGE - 5, N_LARGE)):
        opt, p = OPTIMIZERS[name](), p0[idx]
        for g in grads:
            p = opt.step(p, g[idx])
        np.testing.assert_array_equal(chunked[idx], p, err_msg=f"elements {idx}")
    # and the whole thing equals one chunk
    monkeypatch.setattr(optimizers_module, "CHUNK_SIZE", 10**9)
    whole, whole_state = run_large()
    np.testing.assert_array_equal(chunked, whole)
    assert_same_tree(chunked_state, whole_state)


# ======================================================================================
# State, reset, hyperparameters, schedules
# ======================================================================================


@pytest.mark.parametrize("name", NAMES)
def test_state_is_a_copy(name):
    if not OPTIMIZERS[name].state_names:
        opt, _ = started(name)
        assert opt.state == {}
        return
    opt, p = started(name)
    twin, _ = started(name)
    state = opt.state
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            value[...] = 123.0
        state[key] = "garbage"
    g = grads_for(p, 7)
    np.testing.assert_array_equal(opt.step(p, g), twin.step(p, g))
    assert_same_tree(opt.state, twin.state)


@pytest.mark.parametrize("name", NAMES)
def test_state_is_none_before_the_first_step(name):
    opt = OPTIMIZERS[name]()
    assert opt.t == 0 and opt.state is None


@pytest.mark.parametrize("name", NAMES)
def test_reset_restarts(name):
    opt, _ = started(name, steps=3)
    assert opt.t == 3
    opt.reset()
    assert opt.t == 0 and opt.state is None
    fresh = OPTIMIZERS[name]()
    p = q = np.array([0.1, 0.2])  # a new shape is fine after reset()
    for k in range(3):
        p, q = opt.step(p, grads_for(p, k)), fresh.step(q, grads_for(q, k))
        np.testing.assert_array_equal(p, q)
    assert_same_tree(opt.state, fresh.state)


@pytest.mark.parametrize("name", NAMES)
def test_lr_zero_keeps_params_but_advances_state(name):
    kwargs = {"weight_decay": 0.5} if "weight_decay" in OPTIMIZERS[name]().hyperparameters else {}
    opt, p = started(name, **kwargs)
    opt.lr = 0
    assert opt.lr == 0.0 and isinstance(opt.lr, float)
    new = opt.step(p, grads_for(p, 5))
    np.testing.assert_array_equal(new, p)
    assert opt.t == 3


def test_hyperparameters_can_change_between_steps():
    opt = Momentum(lr=0.1, beta=0.9)
    theta1 = opt.step(np.array([1.0]), np.array([2.0]))  # v = 2, theta = 0.8
    opt.beta, opt.lr = 0.5, 0.2
    theta2 = opt.step(theta1, np.array([1.0]))  # v = 0.5 * 2 + 1 = 2; theta = 0.8 - 0.4
    np.testing.assert_allclose(theta2, [0.4], rtol=1e-15)
    assert opt.hyperparameters == {"lr": 0.2, "beta": 0.5, "weight_decay": 0.0}


def test_schedule_is_called_with_t_starting_at_zero():
    calls = []

    def schedule(t):
        calls.append(t)
        return 0.1 * (t + 1)

    opt = SGD(lr=schedule)
    p = np.array([1.0])
    for _ in range(3):
        p = opt.step(p, np.array([1.0]))
    assert calls == [0, 1, 2]
    # lr(0) + lr(1) + lr(2) = 0.1 + 0.2 + 0.3
    np.testing.assert_allclose(p, [1.0 - 0.6], rtol=1e-15)
    assert opt.lr is schedule


@pytest.mark.parametrize("name", NAMES)
def test_schedule_used_like_a_constant(name):
    def schedule(t):
        return [0.03, 0.01, 0.02][t]

    opt, ref = OPTIMIZERS[name](lr=schedule), OPTIMIZERS[name]()
    p = q = np.array([0.5, -1.0])
    for k in range(3):
        ref.lr = schedule(k)
        p, q = opt.step(p, grads_for(p, k)), ref.step(q, grads_for(q, k))
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("bad", [math.nan, -0.1, math.inf, "0.1", None])
@pytest.mark.parametrize("name", NAMES)
def test_invalid_schedule_value_rejected(name, bad):
    opt, p = started(name, lr=lambda t: bad if t == 2 else 0.01)
    before = snapshot(opt)
    p_copy = p.copy()
    with pytest.raises(ValueError, match=rf"lr returned {re.escape(repr(bad))} at t=2"):
        opt.step(p, grads_for(p, 2))
    assert_unchanged(opt, before)
    np.testing.assert_array_equal(p, p_copy)


# ======================================================================================
# Checkpoints
# ======================================================================================


@pytest.mark.parametrize("kind", ["array", "dict"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_resumes_bit_identically(name, kind):
    kwargs = {"lr": 0.05}
    opt = OPTIMIZERS[name](**kwargs)
    p = CONTAINERS[kind]()
    for k in range(10):
        p = opt.step(p, grads_for(p, k))
    saved = opt.state_dict()
    pickled = pickle.dumps(saved)
    p_saved = copy.deepcopy(p)
    for k in range(10, 20):
        p = opt.step(p, grads_for(p, k))
    for resumed_dict in (saved, pickle.loads(pickled)):
        resumed = OPTIMIZERS[name]()  # other hyperparameters: loaded from the dict
        resumed.load_state_dict(resumed_dict)
        assert resumed.t == 10 and resumed.lr == 0.05
        q = copy.deepcopy(p_saved)
        for k in range(10, 20):
            q = resumed.step(q, grads_for(q, k))
        assert_same_tree(q, p)
        assert_same_tree(resumed.state, opt.state)


def halving_schedule(t):
    """A module-level schedule, so that a state_dict holding it can be pickled."""
    return 0.1 * 0.5 ** (t // 3)


@pytest.mark.parametrize("name", ["SGD", "Adam", "NAdam"])
def test_state_dict_resumes_a_schedule_at_the_saved_t(name):
    opt = OPTIMIZERS[name](lr=halving_schedule)
    p = np.array([0.5, -1.0])
    for k in range(4):
        p = opt.step(p, grads_for(p, k))
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    resumed = OPTIMIZERS[name]()
    resumed.load_state_dict(saved)
    assert resumed.lr is halving_schedule
    assert resumed.current_lr() == halving_schedule(4) == 0.05
    q = p
    for k in range(4, 9):
        p, q = opt.step(p, grads_for(p, k)), resumed.step(q, grads_for(q, k))
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_is_a_copy(name):
    opt, p = started(name)
    twin, _ = started(name)
    saved = opt.state_dict()
    for state in saved["state"]:
        for value in state.values():
            if isinstance(value, np.ndarray):
                value[...] = 7.0
    g = grads_for(p, 3)
    np.testing.assert_array_equal(opt.step(p, g), twin.step(p, g))
    # and loading a dict does not alias it
    other, _ = started(name)
    saved = other.state_dict()
    fresh = OPTIMIZERS[name]()
    fresh.load_state_dict(saved)
    fresh.step(p, g)
    assert_same_tree(saved, other.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_load_state_dict_from_another_optimizer_rejected(name):
    other_name = "Adam" if name != "Adam" else "AdamW"
    source, _ = started(other_name)
    opt, _ = started(name)
    before = snapshot(opt)
    with pytest.raises(ValueError, match=f"saved by {other_name}, not {name}"):
        opt.load_state_dict(source.state_dict())
    assert_unchanged(opt, before)


def test_load_state_dict_rejects_incomplete_dicts():
    opt, _ = started("Adam")
    before = snapshot(opt)
    broken = opt.state_dict()
    del broken["t"]
    with pytest.raises(ValueError, match="expected a dict with keys"):
        opt.load_state_dict(broken)
    with pytest.raises(ValueError, match="expected a dict with keys"):
        opt.load_state_dict([1, 2])
    bad_t = opt.state_dict()
    bad_t["t"] = -1
    pattern = r"state_dict\[.t.\].*t must be an integer in \[0, 2\*\*53\].*got -1"
    with pytest.raises(ValueError, match=pattern):
        opt.load_state_dict(bad_t)
    assert_unchanged(opt, before)


# ======================================================================================
# Bad hyperparameters
# ======================================================================================

ACCEPTED = {
    "lr": ">= 0",
    "beta": "[0, 1)",
    "beta1": "[0, 1)",
    "beta2": "[0, 1)",
    "rho": "[0, 1)",
    "eps": ">= 0",
    "weight_decay": ">= 0",
    "momentum_decay": ">= 0",
    "initial_accumulator_value": ">= 0",
}
BAD_VALUES = {
    "lr": [
        (-1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("0.1", TypeError),
        (True, TypeError),
    ],
    "unit": [(1.0, ValueError), (-0.1, ValueError), (math.nan, ValueError), ("0.9", TypeError)],
    "nonneg": [(-1e-8, ValueError), (-0.1, ValueError), (math.inf, ValueError), (None, TypeError)],
}


def bad_hyperparameter_cases():
    cases = []
    for name, cls in OPTIMIZERS.items():
        for hyper in cls().hyperparameters:
            group = "lr" if hyper == "lr" else ("unit" if "[0, 1)" in ACCEPTED[hyper] else "nonneg")
            for value, error in BAD_VALUES[group]:
                case_id = f"{name}-{hyper}={value!r}"
                cases.append(pytest.param(name, hyper, value, error, id=case_id))
    return cases


def test_every_hyperparameter_has_a_rule():
    for cls in OPTIMIZERS.values():
        assert set(cls().hyperparameters) <= set(ACCEPTED)


def message(hyper, value):
    got = (
        repr(float(value))
        if isinstance(value, int) and not isinstance(value, bool)
        else repr(value)
    )
    return rf"{hyper} must be .*{re.escape(ACCEPTED[hyper])}.*got {re.escape(got)}"


@pytest.mark.parametrize(("name", "hyper", "value", "error"), bad_hyperparameter_cases())
def test_bad_hyperparameter_rejected(name, hyper, value, error):
    cls = OPTIMIZERS[name]
    with pytest.raises(error, match=message(hyper, value)):
        cls(**{hyper: value})
    # after construction too, and the old value stays
    opt, p = started(name)
    old = getattr(opt, hyper)
    before = snapshot(opt)
    with pytest.raises(error, match=message(hyper, value)):
        setattr(opt, hyper, value)
    assert getattr(opt, hyper) == old
    assert_unchanged(opt, before)
    twin, _ = started(name)
    g = grads_for(p, 2)
    np.testing.assert_array_equal(opt.step(p, g), twin.step(p, g))


def test_bad_hyperparameter_message_names_the_class():
    with pytest.raises(ValueError, match=r"^AdamW: beta2 must be a number in \[0, 1\), got 1\.0$"):
        AdamW(beta2=1.0)


def test_boundary_hyperparameters_accepted():
    Adam(lr=0, beta1=0, beta2=0, eps=0, weight_decay=0)
    Momentum(beta=0.999999)


# ======================================================================================
# Bad input to step
# ======================================================================================

P = np.array([0.5, -1.0, 2.0])

BAD_STEPS = {
    "shape": (P, np.ones(4), ValueError, r"grads has shape \(4,\) but params has shape \(3,\)"),
    "shape-2d": (P, np.ones((3, 1)), ValueError, r"grads has shape \(3, 1\) but params has shape"),
    "dtype": (
        P,
        np.ones(3, dtype=np.float32),
        TypeError,
        r"grads has dtype float32 but params has dtype float64",
    ),
    "int-params": (
        np.array([1, 2, 3]),
        np.ones(3),
        TypeError,
        r"params must be a floating-point numpy array, got dtype int64",
    ),
    "int-grads": (
        P,
        np.array([1, 2, 3]),
        TypeError,
        r"grads must be a floating-point numpy array, got dtype int64",
    ),
    "python-list-params": (
        [0.5, -1.0, 2.0],
        np.ones(3),
        ValueError,
        r"grads must have the same structure as params",
    ),
    "python-list-both": (
        [0.5, -1.0, 2.0],
        [1.0, 1.0, 1.0],
        TypeError,
        r"params\[0\] must be a floating-point numpy array, got float",
    ),
    "python-float": (
        0.5,
        1.0,
        TypeError,
        r"params must be a numpy array, a list/tuple of arrays or a dict of "
        r"arrays, got float",
    ),
    "list-vs-dict": ([P], {"a": P}, ValueError, r"grads must have the same structure as params"),
    "dict-keys": (
        {"a": P},
        {"b": P},
        ValueError,
        r"grads must have the same structure as params: \('dict', \('a',\)\) vs "
        r"\('dict', \('b',\)\)",
    ),
    "list-lengths": ([P, P], [P], ValueError, r"same structure as params: \('list', 2\) vs"),
    "empty-list": ([], [], ValueError, r"params is an empty list"),
    "leaf-shape": (
        [P, P],
        [P, np.ones(2)],
        ValueError,
        r"grads\[1\] has shape \(2,\) but params\[1\] has shape \(3,\)",
    ),
    "dict-leaf-dtype": (
        {"w": P},
        {"w": P.astype(np.float32)},
        TypeError,
        r"grads\['w'\] has dtype float32 but params\['w'\] has dtype float64",
    ),
    "nan": (
        P,
        np.array([0.0, np.nan, 1.0]),
        ValueError,
        r"grads contains 1 non-finite value\(s\) \(first at flat index 1: nan\)",
    ),
    "inf": (
        P,
        np.array([np.inf, 1.0, -np.inf]),
        ValueError,
        r"grads contains 2 non-finite value\(s\) \(first at flat index 0: inf\)",
    ),
    "nan-in-second-leaf": (
        [P, P],
        [P, np.array([1.0, 2.0, -np.inf])],
        ValueError,
        r"grads\[1\] contains 1 non-finite value\(s\).*-inf",
    ),
}


@pytest.mark.parametrize("case", BAD_STEPS)
@pytest.mark.parametrize("name", NAMES)
def test_bad_step_rejected_and_nothing_changes(name, case):
    params, grads, error, pattern = BAD_STEPS[case]
    fresh = OPTIMIZERS[name]()
    # one that has state, started on valid parameters with the same layout if possible
    with_state, _ = started(name, params=_good_like(params), steps=2)
    for opt in (fresh, with_state):
        before = snapshot(opt)
        params_copy, grads_copy = copy.deepcopy(params), copy.deepcopy(grads)
        with pytest.raises(error, match=pattern):
            opt.step(params, grads)
        assert_unchanged(opt, before)
        assert_same_tree(params, params_copy)
        assert_same_tree(grads, grads_copy)


def _good_like(params):
    """Valid float64 params with the layout of ``params`` where that is possible."""
    if isinstance(params, np.ndarray) and np.issubdtype(params.dtype, np.floating):
        return params.copy()
    if (
        isinstance(params, (list, tuple))
        and params
        and all(isinstance(p, np.ndarray) for p in params)
    ):
        return type(params)(p.copy() for p in params)
    if isinstance(params, dict):
        return {k: v.copy() for k, v in params.items()}
    return P.copy()


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "Adamax"])
def test_large_finite_gradients_are_accepted_without_warnings(name):
    # Finite gradients whose *sum* overflows are valid input: no error, no RuntimeWarning.
    # (Only rules that never square g: for the others g**2 itself would overflow.)
    opt = OPTIMIZERS[name](lr=0.0)
    g = np.array([6e307, 6e307, 6e307])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = opt.step(P, g)
    np.testing.assert_array_equal(new, P)
    assert opt.t == 1


@pytest.mark.parametrize("name", NAMES)
def test_rejecting_non_finite_gradients_emits_no_warning(name):
    opt = OPTIMIZERS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="non-finite"):
            opt.step(P, np.array([np.inf, 1.0, -np.inf]))


LAYOUT_CHANGES = {
    "shape": (np.ones(3), np.ones(4)),
    "ndim": (np.ones(3), np.ones((3, 1))),
    "dtype": (np.ones(3), np.ones(3, dtype=np.float32)),
    "list-length": ([np.ones(2), np.ones(3)], [np.ones(2), np.ones(3), np.ones(1)]),
    "list-to-tuple": ([np.ones(2), np.ones(3)], (np.ones(2), np.ones(3))),
    "dict-keys": ({"w": np.ones(2)}, {"v": np.ones(2)}),
    "array-to-list": (np.ones(2), [np.ones(2)]),
}


@pytest.mark.parametrize("case", LAYOUT_CHANGES)
@pytest.mark.parametrize("name", NAMES)
def test_changing_layout_needs_reset(name, case):
    first, second = LAYOUT_CHANGES[case]
    opt, _ = started(name, params=first)
    before = snapshot(opt)
    with pytest.raises(ValueError, match=r"started with .*call reset\(\)"):
        opt.step(second, grads_for(second))
    assert_unchanged(opt, before)
    opt.reset()
    opt.step(second, grads_for(second))
    assert opt.t == 1


# ======================================================================================
# Hostile input: parameters, float16, t, transactional steps and checkpoints
# ======================================================================================

BAD_PARAMS = {
    "nan": (np.array([np.nan, 1.0]), r"params contains 1 non-finite value\(s\) \(first at "
                                     r"flat index 0: nan\); parameters must be finite"),
    "inf-0d-float32": (np.array(np.inf, dtype=np.float32), r"params contains 1 non-finite"),
    "list": ([np.ones(2), np.array([1.0, -np.inf])], r"params\[1\] contains 1 non-finite.*-inf"),
    "dict": ({"w": np.array([[np.nan, np.nan]])}, r"params\['w'\] contains 2 non-finite"),
}


@pytest.mark.parametrize("case", BAD_PARAMS)
@pytest.mark.parametrize("name", NAMES)
def test_non_finite_params_rejected_and_nothing_changes(name, case):
    params, pattern = BAD_PARAMS[case]
    def fix(v):
        return np.where(np.isfinite(v), v, 1.0).astype(v.dtype)

    finite = (fix(params) if isinstance(params, np.ndarray)
              else {k: fix(v) for k, v in params.items()} if isinstance(params, dict)
              else [fix(v) for v in params])
    grads = grads_for(finite)
    opt, _ = started(name, params=finite)
    before = snapshot(opt)
    with pytest.raises(ValueError, match=pattern):
        opt.step(params, grads)
    assert_unchanged(opt, before)


@pytest.mark.parametrize("name", NAMES)
def test_float16_refused_with_the_reason(name):
    p16 = np.array([0.5, -1.0], dtype=np.float16)
    opt = OPTIMIZERS[name]()
    with pytest.raises(TypeError, match=r"params has dtype float16; accepted dtypes are "
                                        r"float32, float64\. .*eps = 1e-8 rounds to 0.*"
                                        r"float32 master weights"):
        opt.step(p16, p16)
    with pytest.raises(TypeError, match=r"grads\[0\] has dtype float16"):
        opt.step([p16.astype(np.float32)], [p16])
    assert opt.t == 0 and opt.state is None


def test_the_float16_reasons_hold():
    # The figures quoted in the message and the module docstring.
    with np.errstate(over="ignore"):
        assert np.float16(1e-8) == 0
        assert np.float16(1.7e-4) ** 2 == 0 and np.float16(1.8e-4) ** 2 > 0
        assert np.isinf(np.float16(257) ** 2) and np.isfinite(np.float16(255) ** 2)


@pytest.mark.parametrize(
    ("value", "error"),
    [(-3, ValueError), ("3", TypeError), (3.0, TypeError), (True, TypeError),
     (None, TypeError), (2**53 + 1, ValueError), (10**400, ValueError)],
)
def test_t_assignment_checked(value, error):
    opt, _ = started("Adam")
    before = snapshot(opt)
    with pytest.raises(error, match=r"^Adam: t must be an integer in \[0, 2\*\*53\]"):
        opt.t = value
    assert_unchanged(opt, before)
    opt.t = np.int64(7)
    assert opt.t == 7 and type(opt.t) is int


@pytest.mark.parametrize("value", [10**400, -(10**400)], ids=["10**400", "-10**400"])
@pytest.mark.parametrize("hyper", ["lr", "beta1", "eps"])
def test_overflowing_ints_are_a_value_error(hyper, value):
    with pytest.raises(ValueError, match=rf"^Adam: {hyper} must be .*, got -?1000.*\(40\d "
                                         r"characters\), too large for a float$"):
        Adam(**{hyper: value})


def test_a_schedule_returning_a_huge_int_is_a_value_error():
    opt = SGD(lr=lambda t: 10**400)
    with pytest.raises(ValueError, match=r"lr returned 1000.* at t=0"):
        opt.step(P, P)
    assert opt.t == 0 and opt.state is None


@pytest.mark.parametrize("name", NAMES)
def test_namedtuple_params_kept(name):
    Layer = collections.namedtuple("Layer", "W b")
    params = Layer(np.ones((2, 2)), np.zeros(2))
    opt = OPTIMIZERS[name]()
    new = opt.step(params, Layer(np.ones((2, 2)), np.ones(2)))
    assert type(new) is Layer and new.W.shape == (2, 2) and opt.t == 1
    resumed = OPTIMIZERS[name]()
    resumed.load_state_dict(json.loads(json.dumps(opt.state_dict(), default=np.ndarray.tolist)))
    g = Layer(np.full((2, 2), 0.5), np.full(2, -0.5))
    assert_same_tree(list(resumed.step(new, g)), list(opt.step(new, g)))


@pytest.mark.parametrize("name", NAMES)
def test_an_overflow_in_the_second_array_commits_nothing(name):
    opt, params = started(name, params=[np.ones(2), np.ones(3)], weight_decay=10.0)
    twin, _ = started(name, params=[np.ones(2), np.ones(3)], weight_decay=10.0)
    before = snapshot(opt)
    hostile = [params[0], np.full(3, 1e308)]  # weight_decay * 1e308 overflows
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        opt.step(hostile, grads_for(hostile))
    assert_unchanged(opt, before)
    g = grads_for(params, 5)
    assert_same_tree(opt.step(params, g), twin.step(params, g))


def test_a_bad_checkpoint_leaves_the_optimizer_as_it_was():
    # The example: an optimizer at lr=0.1, t=2 used to end at t=0, lr=0.001.
    opt, _ = started("Adam", lr=0.1)
    fresh = Adam().state_dict()  # lr = 0.001, t = 0, no state ...
    for field, value in [("structure", ("heap",)), ("shapes", [(-1,)]),
                         ("dtypes", ["float16"]), ("hyperparameters", None)]:
        before = snapshot(opt)
        broken = dict(fresh, structure=("array",), shapes=[(3,)], dtypes=["float64"],
                      state=[{"m": np.zeros(3), "v": np.zeros(3)}])
        broken[field] = value
        with pytest.raises((TypeError, ValueError), match=re.escape(f"state_dict['{field}']")):
            opt.load_state_dict(broken)
        assert_unchanged(opt, before)
        assert opt.t == 2 and opt.lr == 0.1


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_through_json_with_sorted_keys_resumes_exactly(name):
    opt, p = started(name, params={"W": np.ones((2, 2)), "b": np.array(0.5)}, steps=3)
    text = json.dumps(opt.state_dict(), default=np.ndarray.tolist, sort_keys=True)
    resumed = OPTIMIZERS[name]()
    resumed.load_state_dict(json.loads(text))
    for k in range(3, 6):
        g = grads_for(p, k)
        p, q = opt.step(p, g), resumed.step(p, g)
        assert_same_tree(p, q)


def test_state_dict_format():
    opt, _ = started("NAdam", params=[np.ones(2), np.ones((1, 3), dtype=np.float32)])
    saved = opt.state_dict()
    assert set(saved) == {"optimizer", "hyperparameters", "t", "structure", "shapes",
                          "dtypes", "state"}
    assert saved["optimizer"] == "NAdam" and saved["t"] == 2
    assert saved["structure"] == ("list", 2)
    assert saved["shapes"] == [(2,), (1, 3)] and saved["dtypes"] == ["float64", "float32"]
    assert [list(s) for s in saved["state"]] == [["m", "v", "mu_product"]] * 2
    assert saved["state"][1]["m"].shape == (1, 3) and saved["state"][1]["m"].dtype == np.float32
    assert isinstance(saved["state"][0]["mu_product"], float)
    assert Adam().state_dict() == {
        "optimizer": "Adam", "hyperparameters": Adam().hyperparameters, "t": 0,
        "structure": None, "shapes": None, "dtypes": None, "state": None}


TAMPERED = {
    "one entry short": (lambda s: s["state"].pop(), r"\['state'\] must be a list of 2"),
    "int64 state": (lambda s: s["state"][0].update(m=np.zeros(2, np.int64)),
                    r"\['state'\]\[0\]\['m'\] has dtype int64; it must be a float64"),
    "float32 state": (lambda s: s["state"][1].update(v=np.zeros(2, np.float32)),
                      r"\['state'\]\[1\]\['v'\] has dtype float32"),
    "broadcastable": (lambda s: s["state"][0].update(v=np.zeros(1)),
                      r"\['state'\]\[0\]\['v'\] has shape \(1,\); it must be"),
    "state None": (lambda s: s.update(state=None), r"\['state'\] must be a list of 2"),
    "unknown name": (lambda s: s["state"][0].update(u=np.zeros(2)),
                     r"\['state'\]\[0\] must be a dict with Adam's state names"),
    "nan": (lambda s: s["state"][0].update(m=[0.0, math.nan]),
            r"\['state'\]\[0\]\['m'\] has non-finite entries"),
}


@pytest.mark.parametrize("case", TAMPERED)
def test_tampered_state_refused_with_the_field_named(case):
    tamper, pattern = TAMPERED[case]
    opt, _ = started("Adam", params=[np.ones(2), np.ones(2)])
    saved = opt.state_dict()
    tamper(saved)
    before = snapshot(opt)
    with pytest.raises((TypeError, ValueError), match=r"^load_state_dict: state_dict" + pattern):
        opt.load_state_dict(saved)
    assert_unchanged(opt, before)


def test_state_lists_are_accepted_when_exact():
    opt, p = started("Adam", params=np.array([0.5, -1.0], dtype=np.float32))
    saved = opt.state_dict()
    as_lists = dict(saved, state=[{k: v.tolist() for k, v in saved["state"][0].items()}])
    resumed = Adam()
    resumed.load_state_dict(as_lists)
    assert_same_tree(resumed.state_dict(), saved)
    inexact = dict(saved, state=[{"m": [0.1, 0.2], "v": [0.0, 0.0]}])
    with pytest.raises(ValueError, match=r"\['m'\] holds numbers that float32 cannot store "
                                         r"exactly"):
        Adam().load_state_dict(inexact)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("kind", ["matrix", "masked"])
def test_matrices_and_masked_arrays_refused(kind):
    leaf = np.matrix([[1.0, 2.0]]) if kind == "matrix" else np.ma.array([1.0, 2.0],
                                                                        mask=[0, 1])
    opt = Adam()
    with pytest.raises(TypeError, match=r"params is a numpy.*(matrix|MaskedArray).*plain numpy"):
        opt.step(leaf, np.ones((1, 2)) if kind == "matrix" else np.ones(2))
    assert opt.t == 0 and opt.state is None


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
@pytest.mark.parametrize("name", NAMES)
def test_a_copied_optimizer_is_independent(name, how):
    # The copy and the original go separate ways; each continues exactly like an
    # optimizer that was never copied.
    opt, p = started(name, steps=3)
    reference_a, _ = started(name, steps=3)
    reference_b, _ = started(name, steps=3)
    twin = {"copy": copy.copy, "deepcopy": copy.deepcopy,
            "pickle": lambda o: pickle.loads(pickle.dumps(o))}[how](opt)
    pa = pb = p
    for k in range(3, 7):
        ga, gb = grads_for(p, k), grads_for(p, 10 + k)
        got_a, got_b = opt.step(pa, ga), twin.step(pb, gb)
        assert_same_tree(got_a, reference_a.step(pa, ga))
        assert_same_tree(got_b, reference_b.step(pb, gb))
        pa, pb = got_a, got_b
    assert_same_tree(opt.state_dict(), reference_a.state_dict())
    assert_same_tree(twin.state_dict(), reference_b.state_dict())
