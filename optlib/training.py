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
