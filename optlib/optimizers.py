"""Optimizers with one API: ``new_params = opt.step(params, grads)``.

Every optimizer here is a small class whose ``update`` method is the chapter's update
rule, written symbol for symbol. The base class :class:`Optimizer` does the rest:
checking hyperparameters and inputs, counting steps, walking a single array or a
list/tuple/dict of arrays, keeping the state, and checkpointing.

Conventions (the same in every class, stated once here)
-------------------------------------------------------
* **Step counting.** ``opt.t`` is the number of updates completed so far (0 before
  the first). A learning-rate schedule is called as ``lr(opt.t)`` just before an
  update, so the first update uses ``lr(0)``. Inside ``update`` the argument ``t`` is
  the number of the update being made, ``opt.t + 1`` (1 for the first), which is the
  exponent in Adam's bias correction ``1 - beta1**t``. You may set ``opt.t`` yourself
  (an integer >= 0); anything else is refused.
* **Inputs are never mutated.** ``step`` returns new arrays; the arrays you pass in
  are left as they were, so a list of stored parameters is a true trajectory.
* **Bad input raises a clear error.** ``TypeError`` for the wrong kind of thing,
  ``ValueError`` for a wrong value; the message names the parameter, the value it got
  and what is accepted. Parameters and gradients must be float32 or float64 arrays
  with finite entries, of the same structure, shapes and dtypes.
* **A rejected step changes nothing.** A step is computed into new arrays and
  committed (parameters returned, state and ``t`` advanced) only once every array has
  been updated; any error on the way, even an overflow raised under
  ``np.errstate(over="raise")``, leaves the optimizer exactly as it was. The same
  holds for :meth:`Optimizer.load_state_dict` and for assigning a hyperparameter.
  (The price: the new state is written into a spare copy of the state, so an
  optimizer keeps each state array twice, e.g. four arrays per parameter for Adam.)
* **No float16.** float16 params or grads are refused with a ``TypeError``: eps = 1e-8
  rounds to 0 in float16, and a squared gradient rounds to 0 for ``|g| < ~1.7e-4`` and
  overflows for ``|g| > 256``, so finite input would give nan or inf. Do as mixed-precision
  training does: keep float32 master weights for the optimizer and cast the float16
  copies used elsewhere (``params.astype(np.float32)``). The dtype you pass in is the
  dtype you get back, and the dtype of the state.
* **epsilon sits outside the square root** (``sqrt(v) + eps``), as in PyTorch, for
  AdaGrad, RMSprop and the Adam family. Adadelta is the exception its paper defines
  (``sqrt(E + eps)``), and its docstring says so.
* **Momentum is PyTorch-style:** ``v <- beta*v + g; theta <- theta - lr*v``
  (velocity in gradient units, learning rate applied outside). Sutskever et al. (2013)
  put the learning rate inside: ``v <- beta*v - lr*g; theta <- theta + v``. The two
  give the same path while ``lr`` is constant; they differ when ``lr`` changes mid-run.

Why the update rules run on plain floats too
--------------------------------------------
Every rule here is element-wise, so the same ``update`` works on a numpy array or on
one Python float per coordinate. :func:`trajectory` uses floats for 2-D landscapes,
which is ~10x faster than numpy on 2-element arrays; that is what lets the chapters'
explorers recompute paths on every slider move. Helpers :func:`sqrt` and
:func:`maximum` accept both kinds of number.
"""

import copy
import math
import numbers

import numpy as np

from . import _tree

#: Elements per chunk when the base class walks a large array. Each chunk's
#: temporaries stay in the CPU cache, which makes the readable, allocating update
#: rules about 3x faster on big arrays than applying them to the whole array at once.
CHUNK_SIZE = 16384

#: The dtypes accepted for params and grads (see "No float16" above).
FLOAT_DTYPES = {np.dtype(np.float32): None, np.dtype(np.float64): None}

#: The largest step count ``t`` accepted: 2**53, beyond which float64 cannot count steps.
MAX_T = 2**53


def sqrt(x):
    """Square root of a float or of an array (element-wise)."""
    return math.sqrt(x) if isinstance(x, float) else np.sqrt(x)


def maximum(a, b):
    """Element-wise maximum of two floats or arrays."""
    if isinstance(a, float) and isinstance(b, float):
        return a if a >= b else b
    return np.maximum(a, b)


def _zeros_like(theta):
    return 0.0 if isinstance(theta, float) else np.zeros_like(theta)


def _shown(value):
    """``repr(value)``, shortened if it is very long (an integer like 10**400)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"


# One rule per hyperparameter name, shared by every optimizer: (test, what is accepted).
_RULES = {
    "lr": (lambda x: x >= 0, "a finite number >= 0, or a schedule (a callable of the step t)"),
    "beta": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "beta1": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "beta2": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "rho": (lambda x: 0 <= x < 1, "a number in [0, 1)"),
    "eps": (lambda x: x >= 0, "a finite number >= 0"),
    "weight_decay": (lambda x: x >= 0, "a finite number >= 0"),
    "momentum_decay": (lambda x: x >= 0, "a finite number >= 0"),
    "initial_accumulator_value": (lambda x: x >= 0, "a finite number >= 0"),
}


def _checked(owner, name, value):
    """Return ``value`` as a float if it is acceptable for hyperparameter ``name``."""
    test, accepted = _RULES[name]
    if name == "lr" and callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: {name} must be {accepted}, got {_shown(value)} ({type(value).__name__})"
        )
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(
            f"{owner}: {name} must be {accepted}, got {_shown(value)}, too large for a float"
        ) from None
    if not (math.isfinite(number) and test(number)):
        raise ValueError(f"{owner}: {name} must be {accepted}, got {number!r}")
    return number


def _checked_t(owner, value):
    """Return ``value`` as an int if it is a valid step count."""
    accepted = "an integer in [0, 2**53] (the number of updates completed)"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: t must be {accepted}, got {_shown(value)} "
                        f"({type(value).__name__})")
    if not 0 <= value <= MAX_T:
        raise ValueError(f"{owner}: t must be {accepted}, got {_shown(value)}")
    return int(value)


class Optimizer:
    """Base class: validation, step counting, parameter walking, state, checkpoints.

    A subclass declares ``state_names`` (e.g. ``("m", "v")``), passes its
    hyperparameters to ``__init__`` by name, and writes ``update``::

        def update(self, theta, g, m, v, lr, t):
            ...                      # the chapter's equations
            return theta, m, v       # new values, same order as state_names

    ``update`` receives numpy arrays (or Python floats, see :func:`trajectory`) and
    must return new values rather than change its arguments in place. The state it
    receives is matched to ``state_names`` by name, never by position in a dict.

    Attributes:
        t: number of updates completed so far (assignable: an integer >= 0).
        state: a copy of the optimizer's state, shaped like the parameters
            (``{"m": ..., "v": ...}`` for one array; a list or dict of such dicts
            for a list or dict of arrays). ``None`` before the first step.
    """

    state_names = ()
    _spare = None  # state arrays free to be overwritten by the next step (see _apply)

    def __init__(self, **hyperparameters):
        object.__setattr__(self, "_hyperparameter_names", tuple(hyperparameters))
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.reset()

    def __setattr__(self, name, value):
        # Hyperparameters may change between steps, and t may be set; every assignment
        # is checked, and a refused one keeps the old value.
        if name in self._hyperparameter_names:
            value = _checked(type(self).__name__, name, value)
        elif name == "t":
            value = _checked_t(type(self).__name__, value)
        object.__setattr__(self, name, value)

    def __getstate__(self):
        # A deep copy or a pickle needs no spare buffers.
        return {k: v for k, v in self.__dict__.items() if k != "_spare"}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __copy__(self):
        # An independent optimizer: its own state arrays (a step writes into them).
        twin = self._without_state()
        object.__setattr__(twin, "_states", copy.deepcopy(self._states))
        return twin

    def _without_state(self):
        """A copy with the same hyperparameters, ``t`` and layout, and no state."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__getstate__())
        object.__setattr__(twin, "_states", None)
        return twin

    @property
    def hyperparameters(self):
        """The hyperparameters as a dict (``lr`` may be a schedule)."""
        return {name: getattr(self, name) for name in self._hyperparameter_names}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({args})"

    # -- state -------------------------------------------------------------------------

    def reset(self):
        """Forget all state: the next step is update number 1 again."""
        self.t = 0
        self._states = None  # one dict per parameter array, of 1-D arrays (or numbers)
        self._layout = None  # structure, shapes and dtypes fixed by the first step
        self._spare = None

    def init_state(self, theta):
        """Initial state for one parameter array (or float): zeros by default."""
        return {name: _zeros_like(theta) for name in self.state_names}

    def current_lr(self):
        """The learning rate the next update will use: ``lr(t)`` for a schedule."""
        lr = self.lr
        if not callable(lr):
            return lr
        return self._checked_rate(lr(self.t), self.t)

    def _checked_rate(self, value, t):
        """``value``, returned by the schedule at step ``t``, as a float, if it is valid."""
        if isinstance(value, float) and 0 <= value < math.inf:
            return float(value)  # the usual case, quickly (a numpy float becomes a float)
        number = math.nan
        if not isinstance(value, bool) and isinstance(value, numbers.Real):
            try:
                number = float(value)
            except OverflowError:
                pass
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(
                f"{type(self).__name__}: the schedule given as lr returned {_shown(value)} at "
                f"t={t}; a learning rate must be a finite number >= 0"
            )
        return number

    @property
    def state(self):
        """A copy of the state, shaped like the parameters (None before the first step)."""
        if self._states is None:
            return None
        return _tree.unflatten(self._layout["structure"], self._shaped_states())

    def _shaped_states(self):
        """Copies of the per-array state dicts, arrays reshaped like the parameters."""
        return [
            {k: v.reshape(shape).copy() if isinstance(v, np.ndarray) else v
             for k, v in s.items()}
            for s, shape in zip(self._states, self._layout["shapes"])
        ]

    # -- the step ----------------------------------------------------------------------

    def update(self, theta, g, *state_and_lr_t):
        """The update rule for one array; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def step(self, params, grads):
        """Make one update and return the new parameters (same structure as ``params``).

        Args:
            params: a float32 or float64 numpy array with finite entries, or a
                list/tuple/dict of them.
            grads: gradients with exactly the same structure, shapes and dtypes, finite.

        Returns:
            New arrays; ``params`` and ``grads`` are not modified. If the update itself
            overflows, the new parameters may hold inf or nan (a diverged run); the
            next step then refuses them.

        Raises:
            TypeError, ValueError: for mismatched, non-float, float16 or non-finite
            input. Nothing changes when any error is raised.
        """
        p_leaves, labels, rebuild = _tree.flatten(params, "params")
        g_leaves, g_labels, _ = _tree.flatten(grads, "grads")
        _tree.same_structure(params, grads, "params", "grads")
        for p, g, label, g_label in zip(p_leaves, g_leaves, labels, g_labels):
            _tree.check_leaf(p, label, FLOAT_DTYPES)
            _tree.check_leaf(g, g_label, FLOAT_DTYPES)
            if p.shape != g.shape:
                raise ValueError(
                    f"{g_label} has shape {g.shape} but {label} has shape {p.shape}; "
                    f"they must match"
                )
            if p.dtype != g.dtype:
                raise TypeError(
                    f"{g_label} has dtype {g.dtype} but {label} has dtype {p.dtype}; "
                    f"they must match"
                )
            _tree.check_finite(p, label, "parameters")
            _tree.check_finite(g, g_label, "gradients")
        layout = {
            "structure": _tree.structure(params),
            "shapes": [p.shape for p in p_leaves],
            "dtypes": [p.dtype for p in p_leaves],
        }
        if self._layout is not None:
            self._check_same_layout(layout, labels)
        lr = self.current_lr()
        t = self.t + 1

        states = self._states
        if states is None:
            states = [self.init_state(p.reshape(-1)) for p in p_leaves]
        spare = self._spare or [None] * len(states)
        new_leaves, new_states = [], []
        for p, g, s, out in zip(p_leaves, g_leaves, states, spare):
            new_p, new_s = self._apply(p.reshape(-1), g.reshape(-1), s, lr, t, out)
            new_leaves.append(new_p.reshape(p.shape))
            new_states.append(new_s)
        new_params = rebuild(new_leaves)

        # Commit only now, all together: everything that can fail has run. The old
        # state's arrays become the buffers the next step writes into.
        self._states, self._spare, self._layout = new_states, states, layout
        object.__setattr__(self, "t", t)
        return new_params

    def _apply(self, theta, g, state, lr, t, out=None):
        """Run ``update`` over 1-D ``theta``/``g`` in cache-sized chunks.

        Reads ``state`` and writes the new parameters into a new array and the new
        state into the arrays of ``out`` (the state from before the last step, which
        nothing else refers to; new arrays if None), so ``state`` itself is intact
        until :meth:`step` commits the new one. Reusing ``out`` costs a second copy of
        the state in memory and saves the page faults of fresh arrays on every step.
        """
        old = [state[name] for name in self.state_names]
        new_theta = np.empty_like(theta)
        new_state = {}
        for name, value in zip(self.state_names, old):
            if not isinstance(value, np.ndarray):
                new_state[name] = value
            elif out is not None and out[name].shape == value.shape and (
                out[name].dtype == value.dtype
            ):
                new_state[name] = out[name]
            else:
                new_state[name] = np.empty_like(value)
        for start in range(0, max(theta.size, 1), CHUNK_SIZE):
            chunk = slice(start, start + CHUNK_SIZE)
            args = [s[chunk] if isinstance(s, np.ndarray) else s for s in old]
            theta_chunk, *state_chunk = self.update(theta[chunk], g[chunk], *args, lr, t)
            new_theta[chunk] = theta_chunk
            for name, value in zip(self.state_names, state_chunk, strict=True):
                if isinstance(new_state[name], np.ndarray):
                    new_state[name][chunk] = value
                else:
                    new_state[name] = value  # a per-parameter number (NAdam's product)
        return new_theta, new_state

    def _check_same_layout(self, layout, labels):
        old = self._layout
        if layout["structure"] != old["structure"]:
            raise ValueError(
                f"params has structure {layout['structure']} but this optimizer was "
                f"started with {old['structure']}; call reset() to start on new parameters"
            )
        for label, shape, dtype, old_shape, old_dtype in zip(
            labels, layout["shapes"], layout["dtypes"], old["shapes"], old["dtypes"]
        ):
            if shape != old_shape or dtype != old_dtype:
                raise ValueError(
                    f"{label} has shape {shape} and dtype {dtype} but this optimizer was "
                    f"started with shape {old_shape} and dtype {old_dtype}; call reset() "
                    f"to start on new parameters"
                )

    # -- checkpoints -------------------------------------------------------------------

    def state_dict(self):
        """A copy of everything needed to resume: class, hyperparameters, ``t`` and state.

        The checkpoint format, a dict with exactly these keys::

            "optimizer":       the class name, e.g. "Adam"
            "hyperparameters": {"lr": 0.001, "beta1": 0.9, ...}, every hyperparameter
                               by name (lr may be a schedule object)
            "t":               the number of updates completed, an int
            "structure":       how the parameters were given: ("array",),
                               ("dict", (key, ...)), ("list", n) or ("tuple", n)
                               (a namedtuple gives its own name); None before the
                               first step
            "shapes":          the shape of each parameter array, in the order of
                               flattening (dict key order, list order); None before
            "dtypes":          the dtype of each, "float32" or "float64"; None before
            "state":           one dict per parameter array, in the same order, keyed
                               by state name (Adam: {"m": array, "v": array}), each
                               array of that parameter's shape and dtype; NAdam's
                               "mu_product" is a number; None before the first step

        The keys of every dict may come in any order: the state is matched by name. It
        holds plain dicts, lists, tuples, numbers and arrays, so it can be pickled; for
        JSON, write the arrays as lists, e.g.
        ``json.dumps(opt.state_dict(), default=np.ndarray.tolist)`` (a schedule cannot
        be written as JSON). :meth:`load_state_dict` accepts the lists back.
        """
        layout = self._layout
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": dict(self.hyperparameters),
            "t": self.t,
            "structure": None if layout is None else layout["structure"],
            "shapes": None if layout is None else list(layout["shapes"]),
            "dtypes": None if layout is None else [str(d) for d in layout["dtypes"]],
            "state": None if self._states is None else self._shaped_states(),
        }

    def load_state_dict(self, state_dict):
        """Resume from :meth:`state_dict`; the next step continues the same run exactly.

        The whole dict is checked before anything is assigned: the optimizer class,
        every hyperparameter, ``t``, the structure, and each state entry's name, shape,
        dtype and finiteness against ``shapes`` and ``dtypes`` (the format is described
        in :meth:`state_dict`). A state entry may be an array of exactly the recorded
        dtype, or a (nested) list of numbers, as a JSON round trip gives, that converts
        to that dtype without rounding. The arrays are copied.

        Raises:
            TypeError, ValueError: naming the first field that is wrong, what it holds
            and what is accepted. The optimizer is then left exactly as it was.
        """
        hyper, t, layout, states = _Checkpoint(self).check(state_dict)
        for name, value in hyper.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "t", t)
        self._states, self._layout, self._spare = states, layout, None


class _Checkpoint:
    """Validation of a checkpoint for one optimizer (see ``Optimizer.state_dict``)."""

    KEYS = ("optimizer", "hyperparameters", "t", "structure", "shapes", "dtypes", "state")

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.name = type(optimizer).__name__

    def fail(self, error, field, message):
        return error(f"load_state_dict: state_dict{field} {message}")

    def check(self, state_dict):
        """Return ``(hyperparameters, t, layout, states)``, or raise."""
        if not isinstance(state_dict, dict):
            raise ValueError(
                f"load_state_dict: expected a dict with keys {sorted(self.KEYS)} (from "
                f"state_dict()), got {type(state_dict).__name__}"
            )
        missing = sorted(set(self.KEYS) - set(state_dict), key=str)
        extra = sorted(set(state_dict) - set(self.KEYS), key=str)
        if missing or extra:
            raise ValueError(
                f"load_state_dict: expected a dict with keys {sorted(self.KEYS)}, got "
                f"{sorted(state_dict, key=str)} (missing {missing}, unexpected {extra})"
            )
        saved_by = state_dict["optimizer"]
        if not isinstance(saved_by, str) or saved_by != self.name:
            raise ValueError(
                f"load_state_dict: this state_dict was saved by "
                f"{saved_by if isinstance(saved_by, str) else _shown(saved_by)}, not "
                f"{self.name} (state_dict['optimizer'] must be {self.name!r})"
            )
        hyper = self.hyperparameters(state_dict["hyperparameters"])
        try:
            t = _checked_t(self.name, state_dict["t"])
        except (TypeError, ValueError) as error:
            raise type(error)(f"load_state_dict: state_dict['t']: {error}") from None
        layout = self.layout(state_dict)
        states = None if layout is None else self.states(state_dict["state"], layout)
        return hyper, t, layout, states

    def hyperparameters(self, hyper):
        names = self.optimizer._hyperparameter_names
        if not isinstance(hyper, dict):
            raise self.fail(TypeError, "['hyperparameters']",
                            f"must be a dict of {self.name}'s hyperparameters {list(names)}, "
                            f"got {type(hyper).__name__}")
        if set(hyper) != set(names):
            raise self.fail(ValueError, "['hyperparameters']",
                            f"has keys {sorted(hyper, key=str)}; {self.name}'s "
                            f"hyperparameters are {sorted(names)}")
        checked = {}
        for name in names:
            try:
                checked[name] = _checked(self.name, name, hyper[name])
            except (TypeError, ValueError) as error:
                raise type(error)(
                    f"load_state_dict: state_dict['hyperparameters'][{name!r}]: {error}"
                ) from None
        return checked

    def layout(self, state_dict):
        """The layout ``{"structure", "shapes", "dtypes"}``, or None before any step."""
        structure = state_dict["structure"]
        if structure is None:
            for key in ("shapes", "dtypes", "state"):
                if state_dict[key] is not None:
                    raise self.fail(
                        ValueError, f"[{key!r}]",
                        f"is a {type(state_dict[key]).__name__} but state_dict['structure'] "
                        f"is None (no step made); give all four of structure, shapes, "
                        f"dtypes and state, or none")
            return None
        structure, n = self.structure(structure)
        shapes, dtypes = state_dict["shapes"], state_dict["dtypes"]
        for key, value in (("shapes", shapes), ("dtypes", dtypes)):
            if not isinstance(value, (list, tuple)) or len(value) != n:
                got = (f"{type(value).__name__} of length {len(value)}"
                       if isinstance(value, (list, tuple)) else _shown(value))
                raise self.fail(ValueError if isinstance(value, (list, tuple)) else TypeError,
                                f"[{key!r}]",
                                f"must be a list with one entry per parameter array ({n}, "
                                f"from state_dict['structure']), got {got}")
        return {
            "structure": structure,
            "shapes": [self.shape(s, f"['shapes'][{i}]") for i, s in enumerate(shapes)],
            "dtypes": [self.dtype(d, f"['dtypes'][{i}]") for i, d in enumerate(dtypes)],
        }

    def structure(self, structure):
        """``(structure as a tuple, number of parameter arrays)``."""
        accepted = ("None, ('array',), ('dict', (key, ...)), ('list', n) or ('tuple', n) "
                    "with n >= 1")
        if not isinstance(structure, (list, tuple)) or not structure:
            raise self.fail(TypeError, "['structure']",
                            f"must be {accepted}, got {_shown(structure)}")
        kind = structure[0]
        if len(structure) == 1 and isinstance(kind, str) and kind == "array":
            return ("array",), 1
        if kind == "dict" and len(structure) == 2 and isinstance(structure[1], (list, tuple)):
            keys = structure[1]
            try:
                unique = len(set(keys)) == len(keys) > 0
            except TypeError:  # an unhashable key, e.g. a list after JSON
                unique = False
            if unique:
                return ("dict", tuple(keys)), len(keys)
        elif (isinstance(kind, str) and kind not in ("array", "dict") and len(structure) == 2
              and isinstance(structure[1], numbers.Integral)
              and not isinstance(structure[1], bool) and structure[1] >= 1):
            return (kind, int(structure[1])), int(structure[1])
        raise self.fail(ValueError, "['structure']", f"must be {accepted}, got "
                        f"{_shown(structure)}")

    def shape(self, shape, field):
        if isinstance(shape, (list, tuple)) and all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0
            for n in shape
        ):
            return tuple(int(n) for n in shape)
        raise self.fail(TypeError, field, f"must be a shape (a tuple of integers >= 0), "
                        f"got {_shown(shape)}")

    def dtype(self, dtype, field):
        try:
            found = np.dtype(dtype) if isinstance(dtype, (str, np.dtype)) else None
        except TypeError:
            found = None
        if found not in FLOAT_DTYPES:
            raise self.fail(ValueError if found is not None else TypeError, field,
                            f"must be 'float32' or 'float64', got {_shown(dtype)}")
        return found

    def states(self, states, layout):
        """The state as the optimizer keeps it: per array, a dict of 1-D copies."""
        n = len(layout["shapes"])
        if not isinstance(states, (list, tuple)) or len(states) != n:
            got = (f"a {type(states).__name__} of length {len(states)}"
                   if isinstance(states, (list, tuple)) else _shown(states))
            raise self.fail(ValueError if isinstance(states, (list, tuple)) else TypeError,
                            "['state']", f"must be a list of {n} dicts (one per parameter "
                            f"array, from state_dict['structure']), got {got}")
        names = self.optimizer.state_names
        checked = []
        for i, (entry, shape, dtype) in enumerate(zip(states, layout["shapes"],
                                                      layout["dtypes"])):
            field = f"['state'][{i}]"
            if not isinstance(entry, dict) or set(entry) != set(names):
                got = (f"keys {sorted(entry, key=str)}" if isinstance(entry, dict)
                       else _shown(entry))
                raise self.fail(TypeError if not isinstance(entry, dict) else ValueError,
                                field, f"must be a dict with {self.name}'s state names "
                                f"{list(names)} as keys, got {got}")
            template = self.optimizer.init_state(np.zeros(1, dtype))
            checked.append({
                name: (self.array(entry[name], shape, dtype, f"{field}[{name!r}]")
                       if isinstance(template[name], np.ndarray)
                       else self.number(entry[name], f"{field}[{name!r}]"))
                for name in names
            })
        return checked

    def array(self, value, shape, dtype, field):
        """A flat copy of one state array, checked against its parameter's shape/dtype."""
        accepted = (f"a {dtype} array of shape {shape} with finite entries (or a list "
                    f"of numbers, as JSON stores it)")
        if isinstance(value, np.ndarray):
            if value.dtype != dtype:
                raise self.fail(TypeError, field, f"has dtype {value.dtype}; it must be "
                                f"{accepted}")
            array = value
        elif isinstance(value, (list, tuple, numbers.Real)) and not isinstance(value, bool):
            try:
                array = np.asarray(value)
            except (ValueError, TypeError, OverflowError):  # ragged lists
                array = None
            if array is None or array.dtype.kind not in "fiu":
                raise self.fail(TypeError, field, f"must be {accepted}, got a list that "
                                f"is not a regular array of numbers")
            if array.size == 0 and math.prod(shape) == 0:
                array = array.reshape(shape)  # JSON writes every empty array as []
        else:
            raise self.fail(TypeError, field, f"must be {accepted}, got {_shown(value)}")
        if array.shape != shape:
            raise self.fail(ValueError, field, f"has shape {array.shape}; it must be "
                            f"{accepted}")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise self.fail(ValueError, field, f"has non-finite entries; it must be "
                            f"{accepted}")
        with np.errstate(over="ignore"):
            converted = array.astype(dtype)
        if array.dtype != dtype and not np.array_equal(converted, array):
            raise self.fail(ValueError, field, f"holds numbers that {dtype} cannot store "
                            f"exactly; it must be {accepted}")
        return np.array(converted, dtype=dtype, copy=True).reshape(-1)

    def number(self, value, field):
        accepted = "a finite number"
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.fail(TypeError, field, f"must be {accepted}, got {_shown(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.fail(ValueError, field, f"must be {accepted}, got {_shown(value)}")
        return number


# ======================================================================================
# Gradient descent and momentum
# ======================================================================================


class SGD(Optimizer):
    """Gradient descent: step against the gradient.

    Update rule::

        theta <- theta - lr * g

    "Stochastic" when ``g`` comes from a random minibatch; the rule is the same.

    Args:
        lr: learning rate (alpha), a float or a schedule ``lr(t)``. Default 0.01.
        weight_decay: L2 penalty: ``g <- g + weight_decay * theta``. Default 0.

    Notes:
        torch.optim.SGD(lr, momentum=0, weight_decay) is the same rule.

    Example:
        >>> import numpy as np
        >>> SGD(lr=0.1).step(np.array([1.0, -2.0]), np.array([2.0, 2.0]))
        array([ 0.8, -2.2])
    """

    state_names = ()

    def __init__(self, lr=0.01, weight_decay=0.0):
        super().__init__(lr=lr, weight_decay=weight_decay)

    def update(self, theta, g, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * theta
        theta = theta - lr * g
        return (theta,)


class Momentum(Optimizer):
    """Heavy-ball momentum (Polyak 1964), PyTorch-style.

    Update rule::

        v     <- beta * v + g
        theta <- theta - lr * v

    On a long flat stretch where g is constant, v approaches g / (1 - beta), so the
    step grows to lr / (1 - beta) times the gradient: 10x for beta = 0.9.

    Args:
        lr: learning rate (alpha), a float or a schedule. Default 0.01.
        beta: momentum coefficient in [0, 1). Default 0.9. beta = 0 is plain SGD.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        torch.optim.SGD(lr, momentum=beta, weight_decay) with dampening=0. Sutskever et
        al. (2013) write v <- beta*v - lr*g, theta <- theta + v: the same path for a
        constant lr, but changing lr mid-run rescales PyTorch's whole velocity at once.

    References:
        Polyak (1964), Some methods of speeding up the convergence of iteration methods.
    """

    state_names = ("v",)

    def __init__(self, lr=0.01, beta=0.9, weight_decay=0.0):
        super().__init__(lr=lr, beta=beta, weight_decay=weight_decay)

    def update(self, theta, g, v, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * theta
        v = self.beta * v + g
        theta = theta - lr * v
        return theta, v


class Nesterov(Optimizer):
    """Nesterov accelerated gradient, in the rewritten form PyTorch uses.

    Update rule (g is the gradient at the stored parameters theta)::

        v     <- beta * v + g
        theta <- theta - lr * (g + beta * v)

    The textbook look-ahead form evaluates the gradient at a point ahead of the
    current iterate phi::

        v   <- beta * v + grad(phi - lr * beta * v)
        phi <- phi - lr * v

    Substituting theta = phi - lr * beta * v turns one into the other, so the stored
    theta here *is* the look-ahead point and every optimizer keeps the same
    ``step(params, grads)`` API. To recover the look-ahead form's iterate from this
    one: ``phi = theta + lr * beta * v``.

    Args:
        lr: learning rate (alpha), a float or a schedule. Default 0.01.
        beta: momentum coefficient in [0, 1). Default 0.9.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        torch.optim.SGD(lr, momentum=beta, nesterov=True, weight_decay). The source
        article looks ahead to phi - beta*v, a factor 1/lr too far when v is in
        gradient units; the Nesterov chapter shows that version blowing up.

    References:
        Nesterov (1983); Sutskever, Martens, Dahl, Hinton (2013), On the importance of
        initialization and momentum in deep learning.
    """

    state_names = ("v",)

    def __init__(self, lr=0.01, beta=0.9, weight_decay=0.0):
        super().__init__(lr=lr, beta=beta, weight_decay=weight_decay)

    def update(self, theta, g, v, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * theta
        v = self.beta * v + g
        theta = theta - lr * (g + self.beta * v)
        return theta, v


# ======================================================================================
# Adaptive learning rates
# ======================================================================================


class AdaGrad(Optimizer):
    """AdaGrad: divide each coordinate's step by the root of its summed squared gradients.

    Update rule::

        G     <- G + g**2
        theta <- theta - lr * g / (sqrt(G) + eps)

    G only grows, so each coordinate's effective rate lr / (sqrt(G) + eps) only falls.
    That suits sparse features (rarely non-zero, so their G stays small and their
    steps stay large) and convex problems; on long non-convex runs the rate can decay
    too early.

    Args:
        lr: learning rate, a float or a schedule. Default 0.01.
        eps: added *outside* the square root. Default 1e-10 (PyTorch's).
        initial_accumulator_value: starting value of G. Default 0.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        torch.optim.Adagrad(lr, lr_decay=0, weight_decay, initial_accumulator_value,
        eps). Some texts write sqrt(G + eps); with eps = 1e-8 inside the root the
        denominator can never fall below 1e-4.

    References:
        Duchi, Hazan, Singer (2011), Adaptive subgradient methods for online learning and
        stochastic optimization.
    """

    state_names = ("G",)

    def __init__(self, lr=0.01, eps=1e-10, initial_accumulator_value=0.0, weight_decay=0.0):
        super().__init__(
            lr=lr,
            eps=eps,
            initial_accumulator_value=initial_accumulator_value,
            weight_decay=weight_decay,
        )

    def init_state(self, theta):
        return {"G": _zeros_like(theta) + self.initial_accumulator_value}

    def update(self, theta, g, G, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * theta
        G = G + g**2
        theta = theta - lr * g / (sqrt(G) + self.eps)
        return theta, G


class RMSprop(Optimizer):
    """RMSprop: AdaGrad with a moving average of squared gradients instead of a sum.

    Update rule::

        s     <- beta * s + (1 - beta) * g**2
        theta <- theta - lr * g / (sqrt(s) + eps)

    Args:
        lr: learning rate, a float or a schedule. Default 0.01 (PyTorch's; the source
            article uses 0.001).
        beta: decay rate of the average, in [0, 1). Default 0.99 (PyTorch's ``alpha``;
            the source article uses 0.9).
        eps: added *outside* the square root. Default 1e-8.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        torch.optim.RMSprop(lr, alpha=beta, eps, weight_decay, momentum=0,
        centered=False). TensorFlow's RMSprop puts eps inside the square root.

    References:
        Tieleman & Hinton (2012), Lecture 6.5 of Neural Networks for Machine Learning.
    """

    state_names = ("s",)

    def __init__(self, lr=0.01, beta=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(lr=lr, beta=beta, eps=eps, weight_decay=weight_decay)

    def update(self, theta, g, s, lr, t):
        if self.weight_decay:
            g = g + self.weight_decay * theta
        s = self.beta * s + (1 - self.beta) * g**2
        theta = theta - lr * g / (sqrt(s) + self.eps)
        return theta, s


class Adadelta(Optimizer):
    """Adadelta: RMSprop whose step size comes from a moving average of past steps.

    Update rule::

        s     <- rho * s + (1 - rho) * g**2
        dx    =  sqrt(u + eps) / sqrt(s + eps) * g
        u     <- rho * u + (1 - rho) * dx**2
        theta <- theta - lr * dx

    The ratio of the two root-mean-squares has the units of theta, so Zeiler's
    original needs no learning rate (lr = 1).

    Args:
        lr: a scale on the step, float or schedule. Default 1.0 (the paper's rule).
        rho: decay rate of both averages, in [0, 1). Default 0.9.
        eps: added *inside* both square roots, as the paper defines RMS[x] =
            sqrt(E[x^2] + eps); it also starts the steps off from zero. Default 1e-6.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        torch.optim.Adadelta(lr, rho, eps, weight_decay).

    References:
        Zeiler (2012), ADADELTA: An adaptive learning rate method.
    """

    state_names = ("s", "u")

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)

    def update(self, theta, g, s, u, lr, t):
        rho, eps = self.rho, self.eps
        if self.weight_decay:
            g = g + self.weight_decay * theta
        s = rho * s + (1 - rho) * g**2
        dx = sqrt(u + eps) / sqrt(s + eps) * g
        u = rho * u + (1 - rho) * dx**2
        theta = theta - lr * dx
        return theta, s, u


# ======================================================================================
# Adam and its family
# ======================================================================================


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSprop on its square, both bias-corrected.

    Update rule (t = 1 for the first update)::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        m_hat =  m / (1 - beta1**t)
        v_hat =  v / (1 - beta2**t)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    m and v start at zero, so early averages are biased towards zero; dividing by
    1 - beta**t removes that bias exactly for a constant gradient.

    Args:
        lr: learning rate, a float or a schedule. Default 0.001.
        beta1: decay of the first moment m, in [0, 1). Default 0.9.
        beta2: decay of the second moment v, in [0, 1). Default 0.999.
        eps: added *outside* the square root. Default 1e-8.
        weight_decay: L2 penalty *added to the gradient* (so it is rescaled by the
            adaptive denominator). For decoupled decay use :class:`AdamW`. Default 0.

    Notes:
        torch.optim.Adam(lr, betas=(beta1, beta2), eps, weight_decay). State: two
        arrays per parameter (m and v).

    References:
        Kingma & Ba (2015), Adam: A method for stochastic optimization.
    """

    state_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)

    def update(self, theta, g, m, v, lr, t):
        beta1, beta2 = self.beta1, self.beta2
        if self.weight_decay:
            g = g + self.weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (sqrt(v_hat) + self.eps)
        return theta, m, v


class AdamW(Optimizer):
    """AdamW: Adam with weight decay applied to the parameters, not the gradient.

    Update rule::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        m_hat =  m / (1 - beta1**t)
        v_hat =  v / (1 - beta2**t)
        theta <- theta - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * theta)

    In Adam with L2 the decay term passes through the adaptive denominator, so
    parameters with large gradients are barely decayed; here every parameter shrinks
    by the same factor (1 - lr * weight_decay) per step.

    Args:
        lr: learning rate, a float or a schedule. Default 0.001.
        beta1, beta2, eps: as in :class:`Adam`.
        weight_decay: decoupled decay coefficient. Default 0.01 (PyTorch's).

    Notes:
        torch.optim.AdamW(lr, betas, eps, weight_decay).

    References:
        Loshchilov & Hutter (2019), Decoupled weight decay regularization.
    """

    state_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)

    def update(self, theta, g, m, v, lr, t):
        beta1, beta2 = self.beta1, self.beta2
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * (m_hat / (sqrt(v_hat) + self.eps) + self.weight_decay * theta)
        return theta, m, v


class AMSGrad(Optimizer):
    """AMSGrad: Adam whose denominator never shrinks.

    Update rule::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        v_max <- max(v_max, v)
        m_hat =  m / (1 - beta1**t)
        v_hat =  v_max / (1 - beta2**t)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    Keeping the largest v seen fixes a convergence counter-example for Adam, where a
    rare large gradient is forgotten before it can be answered. Costs a third array.

    Args:
        lr, beta1, beta2, eps, weight_decay: as in :class:`Adam`.

    Notes:
        torch.optim.Adam(..., amsgrad=True).

    References:
        Reddi, Kale, Kumar (2018), On the convergence of Adam and beyond.
    """

    state_names = ("m", "v", "v_max")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)

    def update(self, theta, g, m, v, v_max, lr, t):
        beta1, beta2 = self.beta1, self.beta2
        if self.weight_decay:
            g = g + self.weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = v_max / (1 - beta2**t)
        theta = theta - lr * m_hat / (sqrt(v_hat) + self.eps)
        return theta, m, v, v_max


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the root mean square.

    Update rule::

        m     <- beta1 * m + (1 - beta1) * g
        u     <- max(beta2 * u, |g| + eps)
        theta <- theta - lr / (1 - beta1**t) * m / u

    u needs no bias correction: a maximum is not pulled towards its zero start.

    Args:
        lr: learning rate, a float or a schedule. Default 0.002 (the paper's).
        beta1, beta2: decay rates in [0, 1). Defaults 0.9, 0.999.
        eps: added to |g| so that u > 0. Default 1e-8.
        weight_decay: L2 penalty added to the gradient. Default 0.

    Notes:
        torch.optim.Adamax(lr, betas, eps, weight_decay) — the same placement of eps.

    References:
        Kingma & Ba (2015), section 7.1.
    """

    state_names = ("m", "u")

    def __init__(self, lr=0.002, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)

    def update(self, theta, g, m, u, lr, t):
        beta1 = self.beta1
        if self.weight_decay:
            g = g + self.weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        u = maximum(self.beta2 * u, abs(g) + self.eps)
        theta = theta - lr / (1 - beta1**t) * m / u
        return theta, m, u


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum, as PyTorch implements it.

    Update rule, with a momentum schedule mu_t = beta1 * (1 - 0.5 * 0.96**(t * psi))
    and running product P_t = mu_1 * ... * mu_t::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        v_hat =  v / (1 - beta2**t)
        theta <- theta - lr * ( (1 - mu_t) / (1 - P_t) * g
                               + mu_{t+1} / (1 - P_t * mu_{t+1}) * m ) / (sqrt(v_hat) + eps)

    The second term already uses next step's momentum: that is the Nesterov look-ahead
    applied to Adam's first moment.

    Args:
        lr: learning rate, a float or a schedule. Default 0.002.
        beta1, beta2, eps, weight_decay: as in :class:`Adam`.
        momentum_decay: psi above. Default 0.004. psi = 0 gives mu_t = beta1 / 2.

    Notes:
        torch.optim.NAdam(lr, betas, eps, weight_decay, momentum_decay). The state holds
        the running product P per parameter (one number), as PyTorch's does.

    References:
        Dozat (2016), Incorporating Nesterov momentum into Adam.
    """

    state_names = ("m", "v", "mu_product")

    def __init__(
        self, lr=0.002, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=0.004
    ):
        super().__init__(
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
        )

    def init_state(self, theta):
        return {"m": _zeros_like(theta), "v": _zeros_like(theta), "mu_product": 1.0}

    def update(self, theta, g, m, v, mu_product, lr, t):
        beta1, beta2, psi = self.beta1, self.beta2, self.momentum_decay
        if self.weight_decay:
            g = g + self.weight_decay * theta
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = mu_product * mu
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_hat = v / (1 - beta2**t)
        denominator = sqrt(v_hat) + self.eps
        theta = theta - lr * (1 - mu) / (1 - mu_product) * g / denominator
        theta = theta - lr * mu_next / (1 - mu_product * mu_next) * m / denominator
        return theta, m, v, mu_product


#: Every optimizer class, by name, in the order the course meets them.
OPTIMIZERS = {
    cls.__name__: cls
    for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adadelta, Adam, AdamW, AMSGrad,
                Adamax, NAdam)
}


# ======================================================================================
# Fast 2-D paths for the explorers
# ======================================================================================


def trajectory(optimizer, landscape, start=None, steps=100):
    """The path of ``optimizer`` on a 2-D ``landscape``: an array of shape (steps + 1, 2).

    Row k is the point after k updates (row 0 is ``start``). The same ``update`` rule
    runs on one Python float per coordinate, which gives exactly the numbers that
    ``steps`` calls of ``optimizer.step`` on a float64 array would, about ten times
    faster. ``optimizer`` itself is not touched: a fresh copy with the same
    hyperparameters is run.

    If the path leaves the floating-point range (it diverged), the remaining rows are
    ``nan``.

    Args:
        optimizer: any :class:`Optimizer`.
        landscape: an object with ``grad(x, y) -> (gx, gy)`` working on floats, like
            those in :mod:`optlib.landscapes`.
        start: the starting point (x, y); default ``landscape.start``.
        steps: number of updates, an integer >= 0.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an optlib Optimizer, got {type(optimizer).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if start is None:
        start = landscape.start
    if np.ndim(start) != 1 or len(start) != 2:
        raise TypeError(
            f"start must be a point (x, y), got {start!r}; the number of updates is "
            f"the keyword argument steps (trajectory(opt, landscape, steps=...))"
        )
    try:
        x, y = (float(c) for c in start)
    except (TypeError, ValueError, OverflowError):
        x = y = math.nan
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"start must be a finite point (x, y), got {start!r}")
    opt = optimizer._without_state()
    path = np.full((steps + 1, 2), np.nan)
    path[0] = x, y
    sx, sy = opt.init_state(x), opt.init_state(y)
    names = opt.state_names
    update, grad = opt.update, landscape.grad
    sx = [sx[k] for k in names]
    sy = [sy[k] for k in names]
    rates = _rates(opt, steps)
    try:
        for t in range(1, steps + 1):
            lr = rates[t - 1]
            gx, gy = grad(x, y)
            gx, gy = float(gx), float(gy)
            if not (math.isfinite(gx) and math.isfinite(gy)):
                break
            x, *sx = update(x, gx, *sx, lr, t)
            y, *sy = update(y, gy, *sy, lr, t)
            if not (math.isfinite(x) and math.isfinite(y)):
                break
            path[t] = x, y
    except (OverflowError, ZeroDivisionError):
        pass  # the path left the floating-point range: it diverged
    return path


def _rates(opt, steps):
    """The learning rate of each of ``steps`` updates of a fresh ``opt``, as floats.

    A schedule is called once per step with a Python int, through the same
    :meth:`Optimizer.current_lr` that :meth:`Optimizer.step` uses, so the path gets the
    very numbers a loop of ``step`` would (a schedule evaluated on an array of steps
    may round the last bit differently).
    """
    lr = opt.lr
    if not callable(lr):
        return [lr] * steps
    return [opt._checked_rate(lr(t), t) for t in range(steps)]  # clear error for a bad value
