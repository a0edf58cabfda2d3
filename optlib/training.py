"""A minibatch training loop that records what the chapters plot.

::

    model = MLP([2, 16, 3])
    X, y = make_classification(300, n_features=2, n_classes=3)
    params, history = train(model, model.init(), Adam(lr=0.01), X, y, epochs=20)
    plt.plot(history.loss)

Compared with the source article's loop, this one

* uses the optimizer's own learning rate, constant or a schedule ``lr(t)``; the article's
  scheduler overwrote it, so the rate given to the optimizer was never used;
* keeps the last, smaller minibatch of each epoch (the article silently dropped it);
* clips by the *global* norm over all parameter arrays, and only when asked;
* stops with a clear :class:`DivergenceError` as soon as the loss or a gradient is not a
  finite number, instead of filling the history with ``nan``.
"""

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from optlib._tree import flatten
from optlib.clipping import clip_by_global_norm, global_norm
from optlib.models import _check_int, _check_positive_number


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss, gradient or parameter, and was stopped.

    Attributes:
        history: the :class:`History` of the completed steps, up to the failure.
        params: the last parameters that were all finite (those the failing step started
            from, or, if the update itself overflowed, those from before the update).
    """

    def __init__(self, message, history, params):
        super().__init__(message)
        self.history = history
        self.params = params


@dataclass
class History:
    """What happened during :func:`train`, as plain lists of floats, ready to plot.

    One entry per optimizer step:
        loss: minibatch loss, computed at the parameters before the step.
        lr: learning rate the step used (``optimizer.current_lr()`` just before it).
        grad_norm: global L2 norm of the minibatch gradient, before any clipping.
        update_ratio: ||θ_new - θ_old|| / ||θ_old|| (global norms over all arrays); a
            healthy run often sits around 1e-3 to 1e-2. ``nan`` when ||θ_old|| = 0
            (for example LogisticRegression's first step from zero weights).

    One entry per epoch:
        epoch_loss: mean of that epoch's minibatch losses, weighted by batch size (the
            parameters change during the epoch, so this is not the loss at its end).
        train_accuracy: accuracy on the whole training set at the end of the epoch.
        val_loss, val_accuracy: loss and accuracy on the validation set at the end of the
            epoch (empty lists when no validation data is given).
    """

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    update_ratio: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    def as_dict(self):
        """A copy of all the lists as a dict ``{name: list of floats}``."""
        return asdict(self)


def train(
    model,
    params,
    optimizer,
    X,
    y,
    *,
    epochs,
    batch_size=32,
    seed=0,
    clip_norm=None,
    X_val=None,
    y_val=None,
    progress=True,
):
    """Train ``params`` of ``model`` on ``(X, y)`` with minibatches; return ``(params, history)``.

    Each epoch shuffles the samples and walks through them in minibatches. For each
    minibatch B:

        loss, g = model.loss_and_grad(θ, X[B], y[B])
        g       = g · min(1, clip_norm / ||g||)        (only if clip_norm is given)
        θ       = optimizer.step(θ, g)

    Args:
        model: an object with ``loss_and_grad(params, X, y) -> (loss, grads)``,
            ``loss(params, X, y)`` and ``accuracy(params, X, y)``, such as
            :class:`~optlib.models.MLP` or :class:`~optlib.models.LogisticRegression`.
        params: the starting parameters (e.g. ``model.init(seed=0)``); not modified.
        optimizer: an optimizer such as ``Adam(lr=1e-3)``. Its learning rate, a number or
            a schedule ``lr(t)``, is used as it is. Its state (moments, step count ``t``)
            advances; pass a fresh optimizer for a fresh run.
        X: training inputs, shape (n_samples, n_features).
        y: training labels, shape (n_samples,).
        epochs: number of passes over the data, an integer >= 1 (keyword-only).
        batch_size: samples per minibatch, an integer >= 1 (default 32).
        seed: seed for ``np.random.default_rng`` that shuffles the samples (default 0); the
            same seed gives the same minibatches, hence the same history.
        clip_norm: ``None`` (default, no clipping) or a number > 0: rescale each gradient
            so its global norm over all arrays is at most ``clip_norm``
            (:func:`~optlib.clipping.clip_by_global_norm`).
        X_val, y_val: optional validation data, both or neither (default ``None``).
        progress: show a progress bar over epochs (default True) with the epoch's loss.

    Returns:
        ``(params, history)``: the trained parameters (new arrays) and a :class:`History`.

    Raises:
        DivergenceError: as soon as the loss, a gradient or the updated parameters are not
            finite. The optimizer is never stepped with a non-finite gradient (if the
            update itself overflows, the optimizer has taken that step). The error carries
            ``.history`` and ``.params`` (the last finite parameters).

    Notes:
        Every epoch has ceil(n_samples / batch_size) steps: the last minibatch is smaller
        when batch_size does not divide n_samples, and it is used, not dropped (the source
        article's loop dropped it, so some samples were never seen in an epoch).
        The loop never changes the optimizer's learning rate; give a schedule as the
        optimizer's ``lr`` instead (the article's loop overwrote the optimizer's rate with
        its scheduler's, so the rate passed to the optimizer was never used).
    """
    for method in ("loss_and_grad", "loss", "accuracy"):
        if not callable(getattr(model, method, None)):
            raise TypeError(
                f"model must have a {method}(params, X, y) method (like optlib.models.MLP), "
                f"got {type(model).__name__}"
            )
    for method in ("step", "current_lr"):
        if not callable(getattr(optimizer, method, None)):
            raise TypeError(
                f"optimizer must have a {method}() method (like optlib.optimizers.Adam), "
                f"got {type(optimizer).__name__}"
            )
    epochs = _check_int(epochs, "epochs", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    if clip_norm is not None:
        clip_norm = _check_positive_number(clip_norm, "clip_norm")
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"X and y must have one row per sample, got X of shape {X.shape} and y of shape "
            f"{y.shape}"
        )
    if (X_val is None) != (y_val is None):
        raise ValueError(
            "X_val and y_val must be given together (both or neither), got "
            f"X_val={'None' if X_val is None else 'an array'} and "
            f"y_val={'None' if y_val is None else 'an array'}"
        )
    # Check params, X and y (and the validation set) once, now, rather than at the
    # first minibatch that happens to contain a bad label.
    model.loss(params, X, y)
    if X_val is not None:
        model.loss(params, X_val, y_val)

    n_samples = len(X)
    rng = np.random.default_rng(seed)
    history = History()
    with tqdm(range(epochs), desc="training", unit="epoch", disable=not progress) as bar:
        for epoch in bar:
            order = rng.permutation(n_samples)
            weighted_loss = 0.0
            for start in range(0, n_samples, batch_size):
                batch = order[start : start + batch_size]  # the last one may be smaller
                lr = float(optimizer.current_lr())
                step = len(history.loss) + 1  # counting from 1, over all epochs
                where = {"epoch": epoch + 1, "epochs": epochs, "step": step, "lr": lr}

                with np.errstate(over="ignore", invalid="ignore"):
                    loss, grads = model.loss_and_grad(params, X[batch], y[batch])
                    grad_norm = global_norm(grads)
                if not math.isfinite(loss):
                    raise _diverged(f"the loss is {loss}", where, history, params)
                if not math.isfinite(grad_norm):
                    what = f"the gradient's norm is {grad_norm} (loss {loss:g})"
                    raise _diverged(what, where, history, params)

                if clip_norm is not None:
                    grads, _ = clip_by_global_norm(grads, clip_norm)
                with np.errstate(over="ignore", invalid="ignore"):
                    new_params = optimizer.step(params, grads)
                    params_norm = global_norm(params)
                    update_norm = global_norm(_difference(new_params, params))
                if not math.isfinite(global_norm(new_params)):
                    what = f"the update overflowed (loss {loss:g})"
                    raise _diverged(what, where, history, params)

                history.loss.append(float(loss))
                history.lr.append(lr)
                history.grad_norm.append(grad_norm)
                history.update_ratio.append(
                    update_norm / params_norm if params_norm > 0 else math.nan
                )
                weighted_loss += loss * len(batch)
                params = new_params

            history.epoch_loss.append(weighted_loss / n_samples)
            postfix = {"loss": f"{history.epoch_loss[-1]:.4g}"}
            # Huge but finite weights may overflow here; the numbers say so themselves.
            with np.errstate(over="ignore", invalid="ignore"):
                history.train_accuracy.append(model.accuracy(params, X, y))
                if X_val is not None:
                    history.val_loss.append(model.loss(params, X_val, y_val))
                    history.val_accuracy.append(model.accuracy(params, X_val, y_val))
                    postfix["val_loss"] = f"{history.val_loss[-1]:.4g}"
            bar.set_postfix(postfix)
    return params, history


def _diverged(what, where, history, last_finite_params):
    """The DivergenceError to raise, with a message that says where and what to try."""
    return DivergenceError(
        f"training diverged in epoch {where['epoch']} of {where['epochs']}, step "
        f"{where['step']} (counting from 1): {what} at learning rate {where['lr']:g}. "
        f"Try a smaller learning rate (e.g. {where['lr'] / 10:g}) or gradient clipping "
        f"(clip_norm=1.0). The error's .history and .params hold the run so far and the "
        f"last finite parameters.",
        history,
        _copy(last_finite_params),
    )


def _difference(a, b):
    """The tree a - b, leaf by leaf (a and b have the same structure)."""
    a_leaves, _, rebuild = flatten(a, "params")
    b_leaves, _, _ = flatten(b, "params")
    return rebuild([p - q for p, q in zip(a_leaves, b_leaves, strict=True)])


def _copy(tree):
    """A copy of every array in the tree, so the caller cannot alter ours (or we theirs)."""
    leaves, _, rebuild = flatten(tree, "params")
    return rebuild([leaf.copy() for leaf in leaves])


# ------------------------------------------------------------ many runs at once, in lockstep
#
# train() checks every step of one run; for a grid of learning rates x seeds of a small
# MLP those checks cost more than the arithmetic. train_together runs R such runs at once,
# each identical to a train() call (tests/test_training.py checks it), with one batched
# matrix product per layer.


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _per_run(values, like):
    """``values`` (one per run) shaped to broadcast against ``like`` (runs first)."""
    return values.reshape(-1, *[1] * (like.ndim - 1))


def _norms(tree):
    """The global L2 norm of each run's arrays: shape (runs,)."""
    total = 0.0
    for v in tree.values():
        flat = v.reshape(len(v), -1)
        total = total + np.einsum("ij,ij->i", flat, flat)  # Σ v², without a temporary
    return np.sqrt(total)


class _StackedMLP:
    """The forward and backward passes of :class:`~optlib.models.MLP` for R parameter
    sets at once: every array gets a leading axis of length R (one slice per run)."""

    def __init__(self, model):
        self.model = model
        tanh = model.activation == "tanh"
        self.activate = np.tanh if tanh else (lambda z: np.maximum(z, 0.0))
        # f'(z) written with the activation's output a = f(z), as in MLP
        self.slope = (lambda a: 1.0 - a**2) if tanh else (lambda a: (a > 0).astype(a.dtype))

    def forward(self, params, X):
        """Logits (R, n, classes) and each layer's input; ``X`` is (R, n, features), or
        (n, features) for data shared by all runs (matmul broadcasts it, fast)."""
        inputs, a = [], X
        layers = self.model.n_layers
        for l in range(1, layers + 1):
            inputs.append(a)
            z = a @ params[f"W{l}"] + params[f"b{l}"][:, None, :]
            a = self.activate(z) if l < layers else z
        return a, inputs

    def loss_and_grad(self, params, X, y):
        """Per-run mean cross-entropy (R,) and gradients; ``y`` is (R, n)."""
        runs, n = y.shape
        logits, inputs = self.forward(params, X)
        log_probs = _log_softmax(logits)
        r, i = np.arange(runs)[:, None], np.arange(n)[None, :]
        loss = -log_probs[r, i, y].mean(axis=1)
        dz = np.exp(log_probs)  # (softmax - onehot) / n, as in MLP.loss_and_grad
        dz[r, i, y] -= 1.0
        dz /= n
        grads = {}
        for l in range(self.model.n_layers, 0, -1):
            a_prev = inputs[l - 1]
            grads[f"W{l}"] = a_prev.transpose(0, 2, 1) @ dz
            grads[f"b{l}"] = dz.sum(axis=1)
            if l > 1:
                da_prev = dz @ params[f"W{l}"].transpose(0, 2, 1)
                dz = da_prev * self.slope(a_prev)
        return loss, {k: grads[k] for k in params}

    def loss_and_accuracy(self, params, X, y):
        """Per-run loss and accuracy (both (R,)) on one data set ``X`` (n, features)."""
        logits, _ = self.forward(params, X)
        log_probs = _log_softmax(logits)
        loss = -log_probs[:, np.arange(len(y)), y].mean(axis=1)
        accuracy = (logits.argmax(axis=-1) == y).mean(axis=1)
        return loss, accuracy


def _rates(optimizer, total_steps):
    """The learning rate of each of the ``total_steps`` updates: lr(0), ..., lr(T - 1)."""
    lr = optimizer.lr
    if not callable(lr):
        return np.full(total_steps, float(lr))
    try:
        rates = np.asarray(lr(np.arange(total_steps)), dtype=float)
    except (TypeError, ValueError):  # a plain function of one integer step
        rates = np.array([lr(t) for t in range(total_steps)], dtype=float)
    return np.broadcast_to(rates, (total_steps,))


@dataclass
class Runs:
    """What :func:`train_together` returns: R runs side by side.

    Attributes:
        params: the final parameters, a dict of arrays with a leading axis of length R
            (for a diverged run, its last finite parameters).
        per_step: ``{"loss", "lr", "grad_norm", "update_ratio"}`` -> array (steps, R).
        per_epoch: ``{"epoch_loss", "train_accuracy", "val_loss", "val_accuracy"}`` ->
            array (epochs, R) (the last two only with validation data).
        diverged_at: (R,) ints: the step (counting from 1) at which the run produced a
            non-finite loss, gradient or update, where :func:`~optlib.training.train`
            would raise :class:`~optlib.training.DivergenceError`; 0 if it never did.
            Entries from that step on are nan.
        labels: what each run is, for the caller's bookkeeping (e.g. ``(lr, seed)``
            pairs); empty unless set.
    """

    params: dict
    per_step: dict
    per_epoch: dict
    diverged_at: np.ndarray
    labels: list = field(default_factory=list)

    def __len__(self):
        return len(self.diverged_at)

    def history(self, r):
        """Run ``r`` as a :class:`~optlib.training.History`, up to a divergence."""
        steps = self.diverged_at[r] - 1 if self.diverged_at[r] else None
        epochs = None
        if self.diverged_at[r]:
            steps_per_epoch = len(self.per_step["loss"]) // len(self.per_epoch["epoch_loss"])
            epochs = (self.diverged_at[r] - 1) // steps_per_epoch
        values = {k: v[:steps, r] for k, v in self.per_step.items()}
        values.update({k: v[:epochs, r] for k, v in self.per_epoch.items()})
        return History(**{k: [float(x) for x in v] for k, v in values.items()})

    def params_of(self, r):
        """Run ``r``'s final parameters, a dict like ``model.init()`` returns."""
        return {k: v[r].copy() for k, v in self.params.items()}


def train_together(model, optimizers, X, y, *, seeds, epochs, batch_size=32, clip_norm=None,
                   X_val=None, y_val=None, train_accuracy=True):
    """Train R runs of an :class:`~optlib.models.MLP` at once, one per optimizer.

    Run r is exactly ::

        train(model, model.init(seeds[r]), optimizers[r], X, y, seed=seeds[r],
              epochs=epochs, batch_size=batch_size, clip_norm=clip_norm,
              X_val=X_val, y_val=y_val)

    (same minibatches, same clipping, same updates, same logs, up to rounding in the
    batched matrix products), except that a run that diverges is stopped and marked
    instead of raising. The runs differ in their seeds and
    learning rates; everything else is shared. Every array gets a leading axis of length
    R, one batched matrix product does the work of R, and the optimizer's ``update`` rule,
    which is element-wise, updates all runs in one call with a learning rate per run.
    That makes a grid of learning rates and seeds several times faster than R calls of
    :func:`~optlib.training.train`, whose per-step checks cost more than the arithmetic
    of a network this small.

    Args:
        model: an :class:`~optlib.models.MLP`.
        optimizers: R fresh optimizers of one class with equal hyperparameters except
            ``lr`` (a number or a schedule each). They describe the runs: their update
            rule and rates are used, their own state is not advanced.
        X, y, epochs, batch_size, clip_norm, X_val, y_val: as in
            :func:`~optlib.training.train`.
        seeds: R integers: run r starts from ``model.init(seeds[r])`` and shuffles with
            ``np.random.default_rng(seeds[r])``.
        train_accuracy: measure the accuracy on the whole training set after every epoch,
            as ``train`` does (default True). False leaves it nan and saves a pass over
            the training set per epoch.

    Returns:
        :class:`Runs`.
    """
    from optlib.models import MLP  # here: optlib.models is imported by this module's users

    if not isinstance(model, MLP):
        raise TypeError(f"model must be an optlib.models.MLP, got {type(model).__name__}")
    optimizers, seeds = list(optimizers), [int(s) for s in seeds]
    if not optimizers or len(optimizers) != len(seeds):
        raise ValueError(
            f"give one seed per optimizer, got {len(optimizers)} optimizers and "
            f"{len(seeds)} seeds"
        )
    rule = optimizers[0]
    shared = {k: v for k, v in rule.hyperparameters.items() if k != "lr"}
    for opt in optimizers:
        others = {k: v for k, v in opt.hyperparameters.items() if k != "lr"}
        if type(opt) is not type(rule) or others != shared or opt.t != 0:
            raise ValueError(
                f"optimizers must be fresh instances of one class with the same "
                f"hyperparameters except lr; got {rule!r} and {opt!r}"
            )
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    for data_X, data_y in ((X, y), (X_val, y_val)):
        if data_X is not None:
            model.loss(model.init(0), data_X, data_y)  # the model's own checks, once

    stacked = _StackedMLP(model)
    n, runs = len(X), len(seeds)
    steps_per_epoch = -(-n // batch_size)
    total = epochs * steps_per_epoch
    rates = np.stack([_rates(opt, total) for opt in optimizers], axis=1)  # (total, R)
    starts = [model.init(seed) for seed in seeds]
    params = {k: np.stack([p[k] for p in starts]) for k in starts[0]}
    state = {k: rule.init_state(p) for k, p in params.items()}
    shufflers = [np.random.default_rng(seed) for seed in seeds]

    per_step = {k: np.full((total, runs), np.nan) for k in
                ("loss", "lr", "grad_norm", "update_ratio")}
    per_epoch = {k: np.full((epochs, runs), np.nan) for k in
                 ("epoch_loss", "train_accuracy")}
    if X_val is not None:
        per_epoch.update({k: np.full((epochs, runs), np.nan) for k in ("val_loss", "val_accuracy")})
    diverged_at = np.zeros(runs, dtype=np.int64)

    step = 0
    for epoch in range(epochs):
        orders = np.stack([rng.permutation(n) for rng in shufflers])
        weighted_loss = np.zeros(runs)
        for start in range(0, n, batch_size):
            batch = orders[:, start : start + batch_size]  # (R, B); the last B is smaller
            lr = rates[step]
            with np.errstate(all="ignore"):
                loss, grads = stacked.loss_and_grad(params, X[batch], y[batch])
                grad_norm = _norms(grads)
                if clip_norm is not None:
                    scale = np.where(grad_norm > clip_norm, clip_norm / grad_norm, 1.0)
                    grads = {k: g * _per_run(scale, g) for k, g in grads.items()}
                new_params, new_state = {}, {}
                for k, p in params.items():
                    theta, *values = rule.update(p, grads[k], *state[k].values(),
                                                 _per_run(lr, p), step + 1)
                    new_params[k], new_state[k] = theta, dict(zip(rule.state_names, values))
                step_norm = _norms({k: new_params[k] - params[k] for k in params})
                update_ratio = step_norm / _norms(params)
            alive = diverged_at == 0
            fine = np.isfinite(loss) & np.isfinite(grad_norm) & np.isfinite(step_norm)
            diverged_at[alive & ~fine] = step + 1
            keep = diverged_at == 0  # runs that go on; the others stay where they were
            if keep.all():
                params, state = new_params, new_state
            else:
                for k in params:
                    params[k] = np.where(_per_run(keep, params[k]), new_params[k], params[k])
                    state[k] = {s: np.where(_per_run(keep, v), v, state[k][s])
                                for s, v in new_state[k].items()}
            for name, value in (("loss", loss), ("lr", lr), ("grad_norm", grad_norm),
                                ("update_ratio", update_ratio)):
                per_step[name][step] = np.where(keep, value, np.nan)
            weighted_loss += loss * batch.shape[1]
            step += 1
        keep = diverged_at == 0
        per_epoch["epoch_loss"][epoch] = np.where(keep, weighted_loss / n, np.nan)
        with np.errstate(all="ignore"):  # stopped runs may hold huge (finite) weights
            if train_accuracy:
                _, accuracy = stacked.loss_and_accuracy(params, X, y)
                per_epoch["train_accuracy"][epoch] = np.where(keep, accuracy, np.nan)
            if X_val is not None:
                loss, accuracy = stacked.loss_and_accuracy(params, X_val, y_val)
                per_epoch["val_loss"][epoch] = np.where(keep, loss, np.nan)
                per_epoch["val_accuracy"][epoch] = np.where(keep, accuracy, np.nan)
    return Runs(params, per_step, per_epoch, diverged_at)
