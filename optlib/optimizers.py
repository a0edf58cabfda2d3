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
  exponent in Adam's bias correction ``1 - beta1**t``.
* **Inputs are never mutated.** ``step`` returns new arrays; the arrays you pass in
  are left as they were, so a list of stored parameters is a true trajectory.
* **A rejected step changes nothing.** Bad input raises ``ValueError``/``TypeError``
  before anything is written; parameters, state and ``t`` are unchanged.
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
from .schedules import Schedule

#: Elements per chunk when the base class walks a large array. Each chunk's
#: temporaries stay in the CPU cache, which makes the readable, allocating update
#: rules about 3x faster on big arrays than applying them to the whole array at once.
CHUNK_SIZE = 16384


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
            f"{owner}: {name} must be {accepted}, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    if not (math.isfinite(value) and test(value)):
        raise ValueError(f"{owner}: {name} must be {accepted}, got {value!r}")
    return value


class Optimizer:
    """Base class: validation, step counting, parameter walking, state, checkpoints.

    A subclass declares ``state_names`` (e.g. ``("m", "v")``), passes its
    hyperparameters to ``__init__`` by name, and writes ``update``::

        def update(self, theta, g, m, v, lr, t):
            ...                      # the chapter's equations
            return theta, m, v       # new values, same order as state_names

    ``update`` receives numpy arrays (or Python floats, see :func:`trajectory`) and
    must return new values rather than change its arguments in place.

    Attributes:
        t: number of updates completed so far.
        state: a copy of the optimizer's state, shaped like the parameters
            (``{"m": ..., "v": ...}`` for one array; a list or dict of such dicts
            for a list or dict of arrays). ``None`` before the first step.
    """

    state_names = ()

    def __init__(self, **hyperparameters):
        object.__setattr__(self, "_hyperparameter_names", tuple(hyperparameters))
        for name, value in hyperparameters.items():
            setattr(self, name, value)
        self.reset()

    def __setattr__(self, name, value):
        # Hyperparameters may change between steps; every assignment is checked.
        if name in self._hyperparameter_names:
            value = _checked(type(self).__name__, name, value)
        object.__setattr__(self, name, value)

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
        self._states = None  # one dict per parameter array
        self._layout = None  # structure, shapes and dtypes fixed by the first step

    def init_state(self, theta):
        """Initial state for one parameter array (or float): zeros by default."""
        return {name: _zeros_like(theta) for name in self.state_names}

    def current_lr(self):
        """The learning rate the next update will use: ``lr(t)`` for a schedule."""
        lr = self.lr
        if not callable(lr):
            return lr
        value = lr(self.t)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value >= 0
        ):
            raise ValueError(
                f"{type(self).__name__}: the schedule given as lr returned {value!r} at "
                f"t={self.t}; a learning rate must be a finite number >= 0"
            )
        return float(value)

    @property
    def state(self):
        """A copy of the state, shaped like the parameters (None before the first step)."""
        if self._states is None:
            return None
        shaped = [
            {k: v.reshape(shape) if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for s, shape in zip(copy.deepcopy(self._states), self._layout["shapes"])
        ]
        return _tree.unflatten(self._layout["structure"], shaped)

    # -- the step ----------------------------------------------------------------------

    def update(self, theta, g, *state_and_lr_t):
        """The update rule for one array; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def step(self, params, grads):
        """Make one update and return the new parameters (same structure as ``params``).

        Args:
            params: a float numpy array, or a list/tuple/dict of them.
            grads: gradients with exactly the same structure, shapes and dtypes.

        Returns:
            New arrays; ``params`` and ``grads`` are not modified.

        Raises:
            TypeError, ValueError: for mismatched or non-finite input. Nothing changes
            when an error is raised.
        """
        p_leaves, labels, rebuild = _tree.flatten(params, "params")
        g_leaves, _, _ = _tree.flatten(grads, "grads")
        _tree.same_structure(params, grads, "params", "grads")
        for p, g, label in zip(p_leaves, g_leaves, labels):
            _tree.check_leaf(p, label)
            _tree.check_leaf(g, "grads" + label[len("params"):])
            if p.shape != g.shape:
                raise ValueError(
                    f"grads{label[len('params'):]} has shape {g.shape} but {label} has "
                    f"shape {p.shape}; they must match"
                )
            if p.dtype != g.dtype:
                raise TypeError(
                    f"grads{label[len('params'):]} has dtype {g.dtype} but {label} has "
                    f"dtype {p.dtype}; they must match"
                )
            # A sum is finite only if every entry is (nan and inf propagate); it
            # needs no temporary array. If it is not, look closer: it may only overflow.
            with np.errstate(over="ignore", invalid="ignore"):
                suspect = not np.isfinite(g.sum())
            if suspect and not np.all(np.isfinite(g)):
                bad = np.flatnonzero(~np.isfinite(g.ravel()))
                raise ValueError(
                    f"grads{label[len('params'):]} contains {bad.size} non-finite value(s) "
                    f"(first at flat index {bad[0]}: {g.ravel()[bad[0]]}); gradients must be "
                    f"finite. The step was not taken."
                )
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
        new_leaves, new_states = [], []
        for p, g, s in zip(p_leaves, g_leaves, states):
            new_p, new_s = self._apply(p.reshape(-1), g.reshape(-1), s, lr, t)
            new_leaves.append(new_p.reshape(p.shape))
            new_states.append(new_s)

        # Commit only now: everything that can fail has run.
        self._states, self._layout, self.t = new_states, layout, t
        return rebuild(new_leaves)

    def _apply(self, theta, g, state, lr, t):
        """Run ``update`` over 1-D ``theta``/``g`` in cache-sized chunks.

        Array state is overwritten chunk by chunk (it belongs to the optimizer; the
        ``state`` property hands out copies); the new parameters go to a new array.
        """
        new_theta = np.empty_like(theta)
        new_state = dict(state)
        for start in range(0, max(theta.size, 1), CHUNK_SIZE):
            chunk = slice(start, start + CHUNK_SIZE)
            args = [s[chunk] if isinstance(s, np.ndarray) else s for s in state.values()]
            theta_chunk, *state_chunk = self.update(theta[chunk], g[chunk], *args, lr, t)
            new_theta[chunk] = theta_chunk
            for name, value in zip(self.state_names, state_chunk):
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
        """A copy of everything needed to resume: hyperparameters, ``t`` and state.

        Plain dicts, lists, numbers and arrays, so it can be pickled. A schedule given
        as ``lr`` is stored as the object itself.
        """
        layout = self._layout
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": dict(self.hyperparameters),
            "t": self.t,
            "state": copy.deepcopy(self._states),
            "structure": None if layout is None else layout["structure"],
            "shapes": None if layout is None else list(layout["shapes"]),
            "dtypes": None if layout is None else [str(d) for d in layout["dtypes"]],
        }

    def load_state_dict(self, state_dict):
        """Resume from :meth:`state_dict`; the next step continues the same run exactly.

        Raises ValueError (changing nothing) if the dict was saved by another optimizer
        or is incomplete.
        """
        name = type(self).__name__
        expected = {"optimizer", "hyperparameters", "t", "state", "structure", "shapes", "dtypes"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"load_state_dict: expected a dict with keys {sorted(expected)}, got {got}"
            )
        if state_dict["optimizer"] != name:
            raise ValueError(
                f"load_state_dict: this state_dict was saved by {state_dict['optimizer']}, "
                f"not {name}"
            )
        hyper = state_dict["hyperparameters"]
        if set(hyper) != set(self._hyperparameter_names):
            raise ValueError(
                f"load_state_dict: hyperparameters {sorted(hyper)} do not match "
                f"{name}'s {sorted(self._hyperparameter_names)}"
            )
        checked = {k: _checked(name, k, v) for k, v in hyper.items()}
        t = state_dict["t"]
        if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 0:
            raise ValueError(f"load_state_dict: t must be an integer >= 0, got {t!r}")
        for k, v in checked.items():
            setattr(self, k, v)
        self.t = int(t)
        self._states = copy.deepcopy(state_dict["state"])
        if state_dict["structure"] is None:
            self._layout = None
        else:
            self._layout = {
                "structure": tuple(state_dict["structure"]),
                "shapes": [tuple(s) for s in state_dict["shapes"]],
                "dtypes": [np.dtype(d) for d in state_dict["dtypes"]],
            }


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
    x, y = (float(c) for c in start)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"start must be a finite point (x, y), got {start!r}")
    opt = copy.copy(optimizer)
    object.__setattr__(opt, "_states", None)
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

    An optlib schedule is evaluated on all steps at once (one numpy call instead of
    ``steps`` Python calls); any other callable, step by step.
    """
    if not callable(opt.lr):
        return [opt.lr] * steps
    if isinstance(opt.lr, Schedule) and steps > 0:
        rates = np.asarray(opt.lr(np.arange(steps)), dtype=float)
        if np.all(np.isfinite(rates)) and np.all(rates >= 0):
            return rates.tolist()
    rates = []
    for t in range(steps):
        opt.t = t
        rates.append(opt.current_lr())  # raises a clear error for a bad value
    return rates
