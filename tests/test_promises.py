"""optlib keeps its promises under hostile input: a property-based suite (Hypothesis).

For every optimizer in ``optlib.OPTIMIZERS``, generated parameters and gradients (one
array, lists, tuples, namedtuples, dicts; 0-d to 2-d, empty or not; float32/float64,
with nan/inf injected or a defect planted), generated hyperparameters (valid and not)
and tampered checkpoints. The promises, as the ``optlib.optimizers`` docstring states
them:

* bad input raises ``TypeError``/``ValueError`` whose message names the parameter
  (or the checkpoint field); valid input gives a valid result;
* a rejected call changes nothing: parameters, state, ``t``, hyperparameters, and the
  next step is the one an untouched twin makes;
* inputs are never mutated, and the dtype given is the dtype returned;
* ``state_dict()``/``load_state_dict()`` resume bit-identically, through pickle and
  through JSON (arrays as lists, keys sorted);
* ``trajectory()`` is bit-identical to a loop of ``step()``.

Profiles: ``ci`` (the default) runs a bounded number of examples, derandomized so that
every run tries the same cases, whatever else runs in the same process;
``HYPOTHESIS_PROFILE=explore`` runs many more random ones. No example database is
written.
"""

import collections
import copy
import json
import math
import os
import pickle
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optlib import OPTIMIZERS, clip_by_global_norm, clip_by_value, trajectory

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", max_examples=2000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))



@pytest.fixture(autouse=True, scope="module")
def same_cases_whatever_ran_before():
    """Pin Hypothesis' pool of "local constants" to empty while this module runs.

    Hypothesis now and then draws a number or string found in the source of the local
    modules imported so far, and which modules those are depends on what else ran in
    the same process: without this, a derandomized run would try other cases when run
    with other test files. (Internal API: if a future Hypothesis moves it, the pool is
    left alone.)
    """
    from hypothesis.internal.conjecture import providers

    if not all(hasattr(providers, a) for a in ("_get_local_constants", "Constants",
                                                "CONSTANTS_CACHE")):
        yield
        return
    empty = providers.Constants()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(providers, "_get_local_constants", lambda: empty)
        providers.CONSTANTS_CACHE.cache.clear()
        yield
    providers.CONSTANTS_CACHE.cache.clear()


NAMES = sorted(OPTIMIZERS)
DTYPES = [np.float32, np.float64]
Pair = collections.namedtuple("Pair", "weights bias")

# Valid hyperparameters, by name (the rules of the optimizers' docstrings).
UNIT = st.floats(0.0, 0.999)
VALID = {
    "lr": st.floats(0.0, 1.0),
    "beta": UNIT,
    "beta1": UNIT,
    "beta2": UNIT,
    "rho": UNIT,
    "eps": st.floats(1e-12, 1e-3),
    "weight_decay": st.floats(0.0, 1.0),
    "momentum_decay": st.floats(0.0, 0.1),
    "initial_accumulator_value": st.floats(0.0, 1.0),
}
IN_UNIT_INTERVAL = {"beta", "beta1", "beta2", "rho"}


# ======================================================================================
# Helpers
# ======================================================================================


def leaves_of(tree):
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, dict):
        return list(tree.values())
    return list(tree)


def rebuilt(tree, leaves):
    """A container like ``tree`` holding ``leaves``."""
    if isinstance(tree, np.ndarray):
        return leaves[0]
    if isinstance(tree, dict):
        return dict(zip(tree, leaves))
    if isinstance(tree, Pair):
        return Pair(*leaves)
    return type(tree)(leaves)


def assert_same(a, b, where="tree"):
    """Exact equality of nested dicts/lists/tuples/arrays/numbers, types and dtypes too."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert a == b and type(a) is type(b), (where, a, b)


def snapshot(opt):
    """Everything observable about an optimizer, deep-copied."""
    return {
        "t": opt.t,
        "hyperparameters": dict(opt.hyperparameters),
        "state_dict": copy.deepcopy(opt.state_dict()),
        "state": copy.deepcopy(opt.state),
    }


def assert_unchanged(opt, before):
    after = snapshot(opt)
    assert after["t"] == before["t"]
    assert after["hyperparameters"] == before["hyperparameters"]
    assert_same(after["state_dict"], before["state_dict"], "state_dict")
    assert_same(after["state"], before["state"], "state")


def quiet_step(opt, params, grads):
    with np.errstate(all="ignore"):
        return opt.step(params, grads)


def grads_like(params, scale=1.0):
    """Deterministic finite gradients with the layout of valid ``params``."""
    new = []
    for i, p in enumerate(leaves_of(params)):
        g = np.cos(np.arange(p.size) * 0.9 + i) * scale
        new.append(g.reshape(p.shape).astype(p.dtype))
    return rebuilt(params, new)


def assert_twin_continues_alike(opt, twin, params):
    """The next valid step of ``opt`` is exactly the one its untouched twin makes."""
    grads = grads_like(params)
    assert_same(quiet_step(opt, params, grads), quiet_step(twin, params, grads), "next step")
    assert_same(opt.state_dict(), twin.state_dict(), "state_dict after the next step")


# ======================================================================================
# Strategies
# ======================================================================================


@st.composite
def hyperparameters(draw, name):
    """Valid keyword arguments for optimizer ``name`` (a random subset of its names)."""
    names = list(OPTIMIZERS[name]().hyperparameters)
    chosen = draw(st.lists(st.sampled_from(names), unique=True))
    return {h: draw(VALID[h]) for h in chosen}


@st.composite
def params_trees(draw, min_leaves=1):
    """Valid float32/float64 parameters: an array, or a list/tuple/namedtuple/dict of them."""
    dtype = draw(st.sampled_from(DTYPES))
    kind = draw(st.sampled_from(["array", "list", "tuple", "namedtuple", "dict"]))
    n = {"array": 1, "namedtuple": 2}.get(kind) or draw(st.integers(max(min_leaves, 1), 3))
    elements = st.floats(-100, 100, width=32 if dtype == np.float32 else 64)
    leaves = [
        draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0,
                                                max_side=4), elements=elements))
        for _ in range(n)
    ]
    if kind == "array":
        return leaves[0]
    if kind == "namedtuple":
        return Pair(*leaves)
    if kind == "dict":
        keys = draw(st.lists(st.text(min_size=1, max_size=3), min_size=n, max_size=n,
                             unique=True))
        return dict(zip(keys, leaves))
    return (list if kind == "list" else tuple)(leaves)


@st.composite
def gradients_for(draw, params):
    elements = st.floats(-100, 100, width=32)
    return rebuilt(params, [
        draw(hnp.arrays(p.dtype, p.shape, elements=elements)) for p in leaves_of(params)
    ])


# Defects planted in otherwise valid (params, grads): each one must be refused, with the
# named argument in the message.
DEFECTS = ["nan-param", "inf-param", "nan-grad", "inf-grad", "grad-dtype", "grad-shape",
           "float16", "int-params", "list-leaf", "structure", "float-grads", "longdouble"]


def planted(defect, params, grads, leaf):
    """(params, grads, the argument the message must name) with ``defect`` planted."""
    p_leaves, g_leaves = [x.copy() for x in leaves_of(params)], leaves_of(grads)
    g_leaves = [x.copy() for x in g_leaves]
    if p_leaves[leaf].size == 0:  # room for a value
        p_leaves[leaf] = np.ones(1, p_leaves[leaf].dtype)
        g_leaves[leaf] = np.ones(1, g_leaves[leaf].dtype)
    value = {"nan": np.nan, "inf": -np.inf}
    named = "grads"
    if defect in ("nan-param", "inf-param"):
        p_leaves[leaf].reshape(-1)[-1] = value[defect[:3]]
        named = "params"
    elif defect in ("nan-grad", "inf-grad"):
        g_leaves[leaf].reshape(-1)[0] = value[defect[:3]]
    elif defect == "grad-dtype":
        other = np.float32 if g_leaves[leaf].dtype == np.float64 else np.float64
        g_leaves[leaf] = g_leaves[leaf].astype(other)
    elif defect == "grad-shape":
        g_leaves[leaf] = np.concatenate([g_leaves[leaf].reshape(-1), [0.5]]).astype(
            g_leaves[leaf].dtype)
    elif defect == "float16":
        p_leaves = [p.astype(np.float16) for p in p_leaves]
        g_leaves = [g.astype(np.float16) for g in g_leaves]
        named = "params"
    elif defect == "longdouble":
        p_leaves[leaf] = p_leaves[leaf].astype(np.longdouble)
        g_leaves[leaf] = g_leaves[leaf].astype(np.longdouble)
        named = "params"
        if np.dtype(np.longdouble) == np.dtype(np.float64):  # some platforms
            p_leaves[leaf] = p_leaves[leaf].astype(np.float16)
            g_leaves[leaf] = g_leaves[leaf].astype(np.float16)
    elif defect == "int-params":
        p_leaves[leaf] = np.round(p_leaves[leaf]).astype(np.int64)
        named = "params"
    elif defect == "list-leaf":
        g_leaves[leaf] = g_leaves[leaf].tolist()
    elif defect == "float-grads":
        return rebuilt(params, p_leaves), 0.5, "grads"
    elif defect == "structure":
        if isinstance(params, np.ndarray):
            return p_leaves[0], [g_leaves[0]], "grads"
        if isinstance(params, dict):
            return rebuilt(params, p_leaves), dict(zip(range(len(g_leaves)), g_leaves)), "grads"
        return rebuilt(params, p_leaves), list(g_leaves) + [g_leaves[0]], "grads"
    return rebuilt(params, p_leaves), rebuilt(grads, g_leaves), named


# ======================================================================================
# step(): valid result or clear error, and nothing changed on error
# ======================================================================================


@st.composite
def step_cases(draw):
    name = draw(st.sampled_from(NAMES))
    kwargs = draw(hyperparameters(name))
    params = draw(params_trees())
    grads = draw(gradients_for(params))
    warmup = draw(st.integers(0, 3))
    defect = draw(st.sampled_from([None] * 4 + DEFECTS))
    leaf = draw(st.integers(0, len(leaves_of(params)) - 1))
    return name, kwargs, params, grads, warmup, defect, leaf


def started_pair(name, kwargs, params, warmup):
    """Two identical optimizers that made ``warmup`` valid steps on ``params``."""
    opt, twin = OPTIMIZERS[name](**kwargs), OPTIMIZERS[name](**kwargs)
    for k in range(warmup):
        grads = grads_like(params, scale=k + 1.0)
        quiet_step(opt, params, grads)
        quiet_step(twin, params, grads)
    return opt, twin


@given(step_cases())
def test_step_gives_a_valid_result_or_a_clear_error_and_changes_nothing(case):
    name, kwargs, params, grads, warmup, defect, leaf = case
    opt, twin = started_pair(name, kwargs, params, warmup)
    valid_params, named = params, None
    if defect is not None:
        params, grads, named = planted(defect, params, grads, leaf)
    params_copy, grads_copy = copy.deepcopy(params), copy.deepcopy(grads)
    before = snapshot(opt)
    try:
        new = quiet_step(opt, params, grads)
    except (TypeError, ValueError) as error:
        assert defect is not None, f"valid input refused: {error}"
        assert re.search(rf"\b{named}\b", str(error)), f"{named} not named in: {error}"
        assert_unchanged(opt, before)
        assert_same(params, params_copy, "params")  # inputs never mutated
        assert_same(grads, grads_copy, "grads")
        assert_twin_continues_alike(opt, twin, valid_params)  # as if nothing happened
        return
    assert defect is None, f"defect {defect!r} was accepted"
    assert_same(params, params_copy, "params")
    assert_same(grads, grads_copy, "grads")
    assert type(new) is type(params) and opt.t == warmup + 1
    if isinstance(params, dict):
        assert list(new) == list(params)
    for p, q in zip(leaves_of(params), leaves_of(new)):
        assert q.dtype == p.dtype and q.shape == p.shape and not np.shares_memory(p, q)
    for p, state in zip(leaves_of(params), opt.state_dict()["state"]):
        assert list(state) == list(opt.state_names)
        for value in state.values():
            assert isinstance(value, float) or (value.dtype == p.dtype and value.shape == p.shape)


@given(step_cases())
def test_a_list_of_arrays_steps_like_each_array_alone(case):
    # The walk over a container is invisible: each array gets exactly the update it
    # would get on its own.
    name, kwargs, params, grads, _, _, _ = case
    together = quiet_step(OPTIMIZERS[name](**kwargs), params, grads)
    for p, g, q in zip(leaves_of(params), leaves_of(grads), leaves_of(together)):
        assert_same(quiet_step(OPTIMIZERS[name](**kwargs), p, g), q, "leaf")


@given(st.sampled_from(NAMES), params_trees(min_leaves=2), st.integers(0, 2), st.data())
def test_an_overflow_in_the_last_array_leaves_the_step_untaken(name, params, warmup, data):
    # Under np.errstate(over="raise") the last array overflows (weight decay times a
    # huge parameter) after the first ones were updated: nothing may be committed.
    if isinstance(params, np.ndarray):
        params = [params, params.copy()]
    leaves = leaves_of(params)
    if leaves[-1].size == 0:  # room for a huge value
        leaves[-1] = np.ones(3, leaves[-1].dtype)
    params = rebuilt(params, leaves)
    kwargs = {"weight_decay": 10.0, "lr": data.draw(st.floats(1e-3, 1.0))}
    opt, twin = started_pair(name, kwargs, params, warmup)
    huge = np.finfo(leaves[-1].dtype).max  # times weight_decay = 10: an overflow
    hostile = rebuilt(params, leaves[:-1] + [np.full_like(leaves[-1], huge)])
    before = snapshot(opt)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        opt.step(hostile, grads_like(hostile))
    assert_unchanged(opt, before)
    if warmup:
        assert_twin_continues_alike(opt, twin, params)


# ======================================================================================
# Hyperparameters and t: valid or a clear error naming them; a refused one changes nothing
# ======================================================================================

ANYTHING = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2.0, 2.0),
    st.integers(-3, 3),
    st.sampled_from([10**400, -(10**400), 2**53, 2**53 + 1, 2**63]),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.sampled_from([np.float32(0.5), np.float64(-1.0), np.int64(2), np.bool_(True),
                     Fraction(1, 3), Fraction(10**400, 3), 1 + 2j, np.array(0.5),
                     np.array([0.1]), [0.1], "0.1"]),
)


def is_accepted_hyperparameter(name, value):
    """The documented rule, written independently of optlib."""
    if isinstance(value, (bool, np.bool_, str, complex, list, np.ndarray)) or value is None:
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    if not math.isfinite(number):
        return False
    return 0 <= number < 1 if name in IN_UNIT_INTERVAL else number >= 0


@given(st.sampled_from(NAMES), st.data())
def test_hyperparameters_are_accepted_exactly_by_their_rule(name, data):
    hyper = data.draw(st.sampled_from(list(OPTIMIZERS[name]().hyperparameters)))
    value = data.draw(ANYTHING)
    accepted = is_accepted_hyperparameter(hyper, value)
    # at construction
    try:
        opt = OPTIMIZERS[name](**{hyper: value})
    except (TypeError, ValueError) as error:
        assert not accepted, f"{hyper}={value!r} refused: {error}"
        assert f"{name}: {hyper} must be" in str(error)
        assert len(str(error)) < 400  # 10**400 is not printed in full
    else:
        assert accepted, f"{hyper}={value!r} accepted"
        assert getattr(opt, hyper) == float(value) and type(getattr(opt, hyper)) is float
    # by assignment to a started optimizer
    params = np.array([0.5, -1.0])
    opt, twin = started_pair(name, {}, params, 2)
    before = snapshot(opt)
    try:
        setattr(opt, hyper, value)
    except (TypeError, ValueError) as error:
        assert not accepted and f"{hyper} must be" in str(error)
        assert_unchanged(opt, before)
        assert_twin_continues_alike(opt, twin, params)
    else:
        assert accepted


@given(st.sampled_from(NAMES), ANYTHING)
def test_t_accepts_exactly_the_integers_from_0_to_2_53(name, value):
    accepted = (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
                and 0 <= value <= 2**53)
    params = np.array([0.5, -1.0])
    opt, twin = started_pair(name, {}, params, 2)
    before = snapshot(opt)
    try:
        opt.t = value
    except (TypeError, ValueError) as error:
        assert not accepted, f"t={value!r} refused: {error}"
        assert "t must be an integer" in str(error) and len(str(error)) < 400
        assert_unchanged(opt, before)
        assert_twin_continues_alike(opt, twin, params)
    else:
        assert accepted and opt.t == value and type(opt.t) is int


# ======================================================================================
# Checkpoints: resume bit-identically; a tampered one is refused and changes nothing
# ======================================================================================


def through_json(state_dict, sort_keys):
    return json.loads(json.dumps(state_dict, default=np.ndarray.tolist, sort_keys=sort_keys))


@st.composite
def runs(draw):
    """An optimizer, its parameters and two stretches of gradients."""
    name = draw(st.sampled_from(NAMES))
    kwargs = draw(hyperparameters(name))
    params = draw(params_trees())
    first = draw(st.lists(gradients_for(params), min_size=0, max_size=3))
    second = draw(st.lists(gradients_for(params), min_size=1, max_size=3))
    return name, kwargs, params, first, second


@given(runs(), st.sampled_from(["dict", "pickle", "json", "json-sorted"]))
def test_resume_is_bit_identical(run, route):
    name, kwargs, params, first, second = run
    opt = OPTIMIZERS[name](**kwargs)
    for grads in first:
        params = opt.step(params, grads)
    saved = opt.state_dict()
    if route == "pickle":
        saved = pickle.loads(pickle.dumps(saved))
    elif route.startswith("json"):
        saved = through_json(saved, sort_keys=route == "json-sorted")
    resumed = OPTIMIZERS[name](lr=0.5)  # other hyperparameters: the checkpoint's count
    resumed.load_state_dict(saved)
    assert resumed.t == opt.t and resumed.hyperparameters == opt.hyperparameters
    p = q = params
    for grads in second:
        p, q = opt.step(p, grads), resumed.step(q, grads)
        assert_same(p, q, "params")
    assert_same(resumed.state_dict(), opt.state_dict(), "state_dict")


def _set(path, value):
    def tamper(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return tamper


def _delete(path):
    def tamper(sd):
        target = sd
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return tamper


def tamperings(opt, n_leaves):
    """(what, tamper(state_dict) in place, text the error must contain) per defect."""
    names = opt.state_names
    arrays = [k for k, v in opt.init_state(np.zeros(1)).items() if isinstance(v, np.ndarray)]
    hyper = next(iter(opt.hyperparameters))
    other = "Adam" if type(opt).__name__ != "Adam" else "AdamW"
    cases = [
        ("not a dict", lambda sd: [sd], "expected a dict"),
        ("missing key", _delete(["t"]), "missing ['t']"),
        ("extra key", _set(["momentum"], 0.9), "unexpected ['momentum']"),
        ("other optimizer", _set(["optimizer"], other), f"saved by {other}"),
        ("optimizer None", _set(["optimizer"], None), "saved by None"),
        ("hyperparameters None", _set(["hyperparameters"], None), "['hyperparameters']"),
        ("hyperparameter missing", _delete(["hyperparameters", hyper]),
         "['hyperparameters']"),
        ("hyperparameter extra", _set(["hyperparameters", "gamma"], 0.5),
         "['hyperparameters']"),
        ("hyperparameter invalid", _set(["hyperparameters", hyper], -1.0),
         f"['hyperparameters'][{hyper!r}]"),
        ("hyperparameter huge", _set(["hyperparameters", hyper], 10**400),
         f"['hyperparameters'][{hyper!r}]"),
        ("t negative", _set(["t"], -3), "['t']"),
        ("t string", _set(["t"], "3"), "['t']"),
        ("t float", _set(["t"], 3.0), "['t']"),
        ("t bool", _set(["t"], True), "['t']"),
        ("structure garbage", _set(["structure"], ["heap", "of", "arrays"]),
         "['structure']"),
        ("structure None with state", _set(["structure"], None), "['shapes']"),
        ("structure longer", _set(["structure"], ("list", n_leaves + 1)), "['shapes']"),
        ("shapes None", _set(["shapes"], None), "['shapes']"),
        ("dtypes float16", _set(["dtypes", 0], "float16"), "['dtypes'][0]"),
        ("dtypes int64", _set(["dtypes", 0], "int64"), "['dtypes'][0]"),
        ("dtypes garbage", _set(["dtypes", 0], "banana"), "['dtypes'][0]"),
        ("state None", _set(["state"], None), "['state']"),
        ("state a dict", _set(["state"], lambda s: s[0]), "['state']"),
        ("state entry short", _set(["state"], lambda s: s[:-1]), "['state']"),
        ("state entry None", _set(["state", 0], None), "['state'][0]"),
        ("state entry list", _set(["state", 0], lambda s: list(s.values())),
         "['state'][0]"),
        ("state name extra", _set(["state", 0, "velocity"], 0.0), "['state'][0]"),
    ]
    if names:
        cases.append(("state name missing", _delete(["state", 0, names[0]]),
                      "['state'][0]"))
    if arrays:  # a shape with another number of entries than the state arrays have
        cases.append(("shapes wrong", _set(["shapes", 0], lambda s: (math.prod(s) + 1,)),
                      "['state'][0]"))
    for name in arrays:
        field = f"['state'][0][{name!r}]"
        cases += [
            (f"{name} None", _set(["state", 0, name], None), field),
            (f"{name} string", _set(["state", 0, name], "0.0"), field),
            (f"{name} wrong dtype", _set(["state", 0, name], lambda a: a.astype(
                np.float32 if a.dtype == np.float64 else np.float64)), field),
            (f"{name} int64", _set(["state", 0, name], lambda a: a.astype(np.int64)), field),
            (f"{name} one more entry", _set(["state", 0, name], lambda a: np.append(a, 0.0)
                                            .astype(a.dtype)), field),
            (f"{name} broadcastable", _set(["state", 0, name],
                                           lambda a: np.zeros((1,) * (a.ndim + 1), a.dtype)),
             field),
            (f"{name} nan", _set(["state", 0, name], lambda a: np.full_like(a, np.nan)
                                 if a.size else np.full(1, np.nan, a.dtype)), field),
            (f"{name} ragged list", _set(["state", 0, name], [[0.0], [0.0, 1.0]]), field),
            (f"{name} list of strings", _set(["state", 0, name],
                                             lambda a: np.full(a.shape, "x").tolist()
                                             if a.size else [["x"]]), field),
        ]
    if "mu_product" in names:
        field = "['state'][0]['mu_product']"
        cases += [("mu_product None", _set(["state", 0, "mu_product"], None), field),
                  ("mu_product inf", _set(["state", 0, "mu_product"], math.inf), field),
                  ("mu_product array", _set(["state", 0, "mu_product"], np.ones(2)), field)]
    return cases


@given(runs(), st.data())
def test_a_tampered_checkpoint_is_refused_and_changes_nothing(run, data):
    name, kwargs, params, first, second = run
    source = OPTIMIZERS[name](**kwargs)
    for grads in [grads_like(params, 0.5)] + first:  # at least one step: there is state
        params = source.step(params, grads)
    n_leaves = len(leaves_of(params))
    cases = tamperings(source, n_leaves)
    what, tamper, field = data.draw(st.sampled_from(cases), label="tampering")
    sd = source.state_dict()
    tampered = tamper(sd) or sd
    # a JSON list has no dtype: a list for float32 state is refused only if it
    # cannot be stored exactly (the next test)
    # the victim: another started optimizer of the same class, with its own state
    if data.draw(st.booleans(), label="as JSON") and not what.endswith(("dtype", "int64")):
        tampered = through_json(tampered, sort_keys=data.draw(st.booleans()))
    victim, twin = started_pair(name, {"lr": 0.25}, params, 2)
    before = snapshot(victim)
    with pytest.raises((TypeError, ValueError)) as caught:
        victim.load_state_dict(tampered)
    message = str(caught.value)
    assert message.startswith("load_state_dict:") and field in message, (what, message)
    assert_unchanged(victim, before)
    assert_twin_continues_alike(victim, twin, params)


@given(runs())
def test_lossy_json_state_is_refused(run):
    name, kwargs, params, first, _ = run
    params = rebuilt(params, [p.astype(np.float32) for p in leaves_of(params)])
    source = OPTIMIZERS[name](**kwargs)
    for grads in [grads_like(params, 0.5)] + first:
        params = source.step(params, rebuilt(params, [g.astype(np.float32)
                                                      for g in leaves_of(grads)]))
    sd = source.state_dict()
    found = [(i, k) for i, entry in enumerate(sd["state"]) for k, v in entry.items()
             if isinstance(v, np.ndarray) and v.size]
    if not found:
        return  # no state array with an entry (SGD, or only empty arrays)
    i, key = found[0]
    exact = sd["state"][i][key].astype(np.float64)
    sd["state"][i][key] = (exact + np.maximum(np.abs(exact), 1.0) * 1e-10).tolist()
    victim = OPTIMIZERS[name]()
    with pytest.raises(ValueError, match=re.escape(f"['state'][{i}][{key!r}] holds numbers "
                                                   f"that float32 cannot store exactly")):
        victim.load_state_dict(sd)
    assert victim.t == 0 and victim.state is None


@given(runs())
def test_state_dict_is_a_copy_and_loading_does_not_alias_it(run):
    name, kwargs, params, first, second = run
    opt, twin = OPTIMIZERS[name](**kwargs), OPTIMIZERS[name](**kwargs)  # twin: reference
    start = params
    for grads in first:
        params = opt.step(params, grads)
    for grads in first:
        start = twin.step(start, grads)
    saved = opt.state_dict()
    loaded = OPTIMIZERS[name]()
    loaded.load_state_dict(saved)
    for entry in saved["state"] or []:
        for value in entry.values():
            if isinstance(value, np.ndarray):
                value[...] = 7.0  # scribbling on the dict changes neither optimizer
    for grads in second:
        p, q, r = opt.step(params, grads), twin.step(params, grads), loaded.step(params, grads)
        assert_same(p, q)
        assert_same(p, r)
        params = p


# ======================================================================================
# trajectory() and step() take the same steps
# ======================================================================================


class Bowl:
    """f = 0.5 * (x**2 + 4 y**2) shifted to (0.5, -0.3)."""

    start = (-1.5, 1.0)

    def grad(self, x, y):
        return x - 0.5, 4.0 * (y + 0.3)


@given(st.sampled_from(NAMES), st.data(), st.integers(0, 25))
def test_trajectory_equals_a_loop_of_step(name, data, steps):
    kwargs = data.draw(hyperparameters(name))
    if "lr" not in kwargs and data.draw(st.booleans()):
        base = data.draw(st.floats(1e-3, 0.5))
        kwargs["lr"] = lambda t: base * 0.1 ** (t // 7)  # a schedule
    path = trajectory(OPTIMIZERS[name](**kwargs), Bowl(), steps=steps)
    opt, p = OPTIMIZERS[name](**kwargs), np.array(Bowl.start)
    rows = [p]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            if not np.all(np.isfinite(p)):
                break
            p = opt.step(p, np.array(Bowl().grad(*p)))
            rows.append(p)
    expected = np.full((steps + 1, 2), np.nan)
    expected[: len(rows)] = rows
    finite = np.all(np.isfinite(expected), axis=1)
    np.testing.assert_array_equal(path[finite], expected[finite])


# ======================================================================================
# Clipping
# ======================================================================================


@given(params_trees(), st.one_of(st.floats(1e-3, 1e3), ANYTHING),
       st.sampled_from([clip_by_global_norm, clip_by_value]))
def test_clipping_gives_a_valid_result_or_a_clear_error(grads, bound, clip):
    grads_copy = copy.deepcopy(grads)
    accepted = is_accepted_hyperparameter("bound", bound) and float(bound) > 0
    try:
        result = clip(grads, bound)
    except (TypeError, ValueError) as error:
        assert not accepted, f"{bound!r} refused: {error}"
        param = "max_norm" if clip is clip_by_global_norm else "limit"
        assert f"{clip.__name__}: {param} must be a finite number > 0" in str(error)
        assert len(str(error)) < 400
        assert_same(grads, grads_copy)
        return
    assert accepted, f"{bound!r} accepted"
    assert_same(grads, grads_copy)
    clipped = result[0] if clip is clip_by_global_norm else result
    assert type(clipped) is type(grads)
    for g, c in zip(leaves_of(grads), leaves_of(clipped)):
        assert c.dtype == g.dtype and c.shape == g.shape and not np.shares_memory(g, c)
        if clip is clip_by_value:
            # the limit as the array's dtype stores it (float32(0.001) > 0.001)
            limit = g.dtype.type(min(float(bound), float(np.finfo(g.dtype).max)))
            assert np.all(np.abs(c) <= limit)
    if clip is clip_by_global_norm:
        norm = math.sqrt(sum(float(np.sum(c.astype(np.float64) ** 2))
                             for c in leaves_of(clipped)))
        assert norm <= float(bound) * (1 + 1e-5)
