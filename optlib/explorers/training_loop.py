"""The chapter "A practical training loop": its data, its experiment and its explorer.

You can skip this module on first reading. The chapter trains optlib's MLP on
scikit-learn's handwritten digits with :func:`optlib.train`; this module holds what the
chapter needs around that:

* :func:`digits_split` (defined in :mod:`optlib.datasets`): the data, split into
  training, validation and test sets and standardised with statistics of the training
  set only;
* :func:`~optlib.training.train_together` (defined in :mod:`optlib.training`, imported
  here): many training runs of one optimizer at once, in lockstep, each identical to a
  :func:`~optlib.training.train` call (the chapter checks this), so that a grid of
  learning rates × optimizers fits in a few seconds;
* :func:`digits_sweep`: the chapter's experiment, every optimizer on its own grid of
  learning rates with three seeds each, tuned on the validation set and measured on the
  test set (:func:`results_table`, :func:`plot_logs` and :func:`plot_ratios` draw it);
* :class:`CurvesExplorer` and :func:`training_curves_on_digits`: precomputed training
  curves switched by sliders, live in Jupyter and in the web book alike.

optlib itself does not depend on scikit-learn: only :func:`digits_split` (and so the
registered explorer) imports it, when called.
"""

import functools
import html
import itertools
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import plotting
from .._blas import one_blas_thread as _one_blas_thread
from ..datasets import digits_split  # noqa: F401  (the chapter imports it from here)
from ..models import MLP
from ..optimizers import SGD, AdaGrad, Adam, AdamW, Momentum, Nesterov, RMSprop
from ..schedules import warmup_cosine
from ..training import Runs, _StackedMLP, train_together  # noqa: F401  (moved; imported here)
from ..widgets import SliderFigures, _format, register, small_png

# ---------------------------------------------------------------- many runs in lockstep
# train_together and Runs are in optlib.training (imported above; the chapter and the
# tests import them from here too).


def evaluate(model, runs, X, y):
    """Loss and accuracy of every run's final parameters on ``(X, y)``: two (R,) arrays
    (a diverged run's numbers come from its last finite, possibly huge, parameters)."""
    with np.errstate(all="ignore"):
        return _StackedMLP(model).loss_and_accuracy(runs.params, np.asarray(X, dtype=float), y)


# ----------------------------------------------------------------------- the experiment

#: The optimizers of the chapter's experiment, by name (all with optlib's defaults except
#: for the learning rate).
OPTIMIZERS = {
    "SGD": SGD, "Momentum": Momentum, "Nesterov": Nesterov, "AdaGrad": AdaGrad,
    "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW,
}

#: Each optimizer's grid of learning rates is its centre times these factors: two
#: decades, about √10 apart.
FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0)

#: The centre of each optimizer's grid: the usual scale of its learning rate. (Plain SGD
#: on a mean loss needs large rates; the adaptive methods, whose steps are about α per
#: coordinate, small ones.) The chapter checks that every tuned rate lies inside its grid.
CENTRES = {"SGD": 1.0, "Momentum": 0.1, "Nesterov": 0.1, "AdaGrad": 0.1, "RMSprop": 0.01,
           "Adam": 0.01, "AdamW": 0.01}


def learning_rates(name):
    """The grid of learning rates tried for optimizer ``name``."""
    return [round(CENTRES[name] * factor, 12) for factor in FACTORS]


#: The rest of the set-up, the same for every run. Each (optimizer, rate) is trained once
#: per seed; a seed sets the initial weights and the order of the minibatches.
#: The seeds are fixed, not drawn from the course seed: drawn from course seeds 0-13
#: (``tuple(seeds(3, "training loop", "sweep"))``), the chapter's claims hold for 13 of
#: the 14 triples, but for course seed 12 Adam's tuned rate falls on the edge of its grid,
#: which the protocol forbids (the grid would have to grow; not done yet).
SETUP = {"sizes": [64, 32, 10], "epochs": 10, "batch_size": 64, "clip_norm": 2.0,
         "warmup_epochs": 1, "seeds": (0, 1, 2)}


def default_lr(name):
    """The learning rate optlib's optimizer ``name`` uses when none is given."""
    return OPTIMIZERS[name]().lr


def make_optimizer(name, lr, steps_per_epoch, epochs=None, warmup_epochs=None):
    """Optimizer ``name`` with peak rate ``lr``: linear warm-up over ``warmup_epochs``,
    then cosine decay to 0 at the end of ``epochs`` (defaults: those of :data:`SETUP`),
    with :func:`~optlib.schedules.warmup_cosine`."""
    epochs = SETUP["epochs"] if epochs is None else epochs
    warmup_epochs = SETUP["warmup_epochs"] if warmup_epochs is None else warmup_epochs
    schedule = warmup_cosine(lr, warmup_steps=warmup_epochs * steps_per_epoch,
                             total_steps=epochs * steps_per_epoch)
    return OPTIMIZERS[name](lr=schedule)


@dataclass
class Sweep:
    """The chapter's experiment (see :func:`digits_sweep`).

    Attributes:
        runs: ``{optimizer name: Runs}``: one run per (rate, seed), in the order of
            ``itertools.product(learning_rates(name), SETUP["seeds"])``.
        final: ``{optimizer name: {"val_accuracy", "val_loss", "test_accuracy",
            "test_loss": array (rates, seeds)}}``, at the end of training (nan for a
            diverged run).
        tuned: ``{optimizer name: rate}``: the best mean validation accuracy over the
            seeds (ties: the lower mean validation loss).
        steps_per_epoch: updates per epoch, ceil(n_train / batch_size).
        setup: a copy of :data:`SETUP`.
    """

    runs: dict
    final: dict
    tuned: dict
    steps_per_epoch: int
    setup: dict

    def summary(self, name, lr, metric):
        """Mean and standard deviation (ddof=1) over the seeds of ``final[name][metric]``
        at rate ``lr``."""
        values = self.final[name][metric][learning_rates(name).index(lr)]
        return float(np.mean(values)), float(np.std(values, ddof=1))


def tune(val_accuracy, val_loss, lrs):
    """The rate with the best mean validation accuracy over the seeds (rows: rates,
    columns: seeds), ties broken by the lower mean validation loss; a rate with a
    diverged run never wins."""
    accuracy = np.nan_to_num(np.mean(val_accuracy, axis=1), nan=-1.0)
    loss = np.nan_to_num(np.mean(val_loss, axis=1), nan=np.inf)
    best = min(range(len(lrs)), key=lambda i: (-accuracy[i], loss[i]))
    return lrs[best]


@functools.lru_cache(maxsize=1)
def digits_sweep():
    """Every optimizer of :data:`OPTIMIZERS` on the digits: the chapter's experiment.

    Each optimizer trains the MLP ``SETUP["sizes"]`` once per rate of its grid
    (:func:`learning_rates`) and seed of ``SETUP["seeds"]``, with the warm-up + cosine
    schedule of :func:`make_optimizer` and clipping at ``SETUP["clip_norm"]``. The tuned
    rate is chosen on the validation set only; the test set, which played no part in
    choosing, measures the result.

    Computed once per process (a few seconds) and shared by the chapter and its
    explorer; treat the result as read-only.
    """
    data = digits_split()
    model = MLP(SETUP["sizes"])
    X, y = data["X_train"], data["y_train"]
    steps_per_epoch = -(-len(X) // SETUP["batch_size"])
    shape = (len(FACTORS), len(SETUP["seeds"]))
    runs, final, tuned = {}, {}, {}
    with _one_blas_thread():
        for name in OPTIMIZERS:
            labels = list(itertools.product(learning_rates(name), SETUP["seeds"]))
            runs[name] = train_together(
                model, [make_optimizer(name, lr, steps_per_epoch) for lr, _ in labels], X, y,
                seeds=[seed for _, seed in labels], epochs=SETUP["epochs"],
                batch_size=SETUP["batch_size"], clip_norm=SETUP["clip_norm"],
                X_val=data["X_val"], y_val=data["y_val"], train_accuracy=False)
            runs[name].labels = labels
            test_loss, test_accuracy = evaluate(model, runs[name], data["X_test"], data["y_test"])
            alive = runs[name].diverged_at == 0
            final[name] = {
                "val_accuracy": runs[name].per_epoch["val_accuracy"][-1].reshape(shape),
                "val_loss": runs[name].per_epoch["val_loss"][-1].reshape(shape),
                "test_accuracy": np.where(alive, test_accuracy, np.nan).reshape(shape),
                "test_loss": np.where(alive, test_loss, np.nan).reshape(shape),
            }
            tuned[name] = tune(final[name]["val_accuracy"], final[name]["val_loss"],
                               learning_rates(name))
    return Sweep(runs, final, tuned, steps_per_epoch, dict(SETUP))


# ------------------------------------------------------------------- tables and figures


class Table:
    """A small table that shows itself as HTML in Jupyter and in the book (Markdown
    tables are not rendered from cell outputs there) and prints as Markdown."""

    def __init__(self, header, rows):
        self.header, self.rows = list(header), [list(row) for row in rows]

    def _repr_html_(self):
        def cells(row, tag, attributes=""):
            return "".join(f"<{tag}{attributes}>{html.escape(str(c))}</{tag}>" for c in row)

        nowrap = ' style="white-space: nowrap"'  # numbers stay on one line; the box scrolls
        head = cells(self.header, "th")
        body = "".join(f"<tr>{cells(row, 'td', nowrap)}</tr>" for row in self.rows)
        return ('<div style="overflow-x: auto"><table class="table">'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")

    def _repr_markdown_(self):
        lines = [self.header, ["---"] * len(self.header), *self.rows]
        return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)

    __str__ = _repr_markdown_


def results_table(sweep):
    """The experiment's results as a :class:`Table`: per optimizer, its grid, the tuned
    rate, validation and test accuracy and test loss at that rate (mean ± standard
    deviation over the seeds), and the test accuracy at optlib's default rate."""

    def pm(name, lr, metric, scale=1.0, digits=1):
        mean, std = sweep.summary(name, lr, metric)
        return f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f}"

    header = ["optimizer", "grid of α", "tuned α", "validation accuracy (%)",
              "test accuracy (%)", "test loss", "default α: test accuracy (%)"]
    rows = []
    for name in sweep.runs:
        lr, default = sweep.tuned[name], default_lr(name)
        grid = learning_rates(name)
        at_default = (f"{_format(default)}: {pm(name, default, 'test_accuracy', 100)}"
                      if default in grid else f"{_format(default)}: not in the grid")
        rows.append([name, f"{_format(grid[0])}–{_format(grid[-1])}", _format(lr),
                     pm(name, lr, "val_accuracy", 100), pm(name, lr, "test_accuracy", 100),
                     pm(name, lr, "test_loss", digits=2), at_default])
    return Table(header, rows)


def plot_logs(histories, steps_per_epoch, rule_of_thumb=1e-3):
    """A 2 × 2 figure of what :func:`~optlib.training.train` logs per step, one line per
    run: minibatch loss, learning rate, gradient norm (before clipping) and the
    update-to-weight ratio, with ``rule_of_thumb`` as a grey line. ``histories`` is
    ``{label: History}``; labels that are optimizer names get their usual styles."""
    fig, axes = plotting.figure(2, 2, height=4.6)
    panels = [("loss", "minibatch loss", "log"), ("lr", "learning rate α", "linear"),
              ("grad_norm", "gradient norm ‖g‖", "log"),
              ("update_ratio", "‖Δθ‖ / ‖θ‖", "log")]
    for ax, (key, label, scale) in zip(axes, panels):
        for i, (name, history) in enumerate(histories.items()):
            values = np.array(getattr(history, key), dtype=float)
            if scale == "log":
                values = np.where(values > 0, values, np.nan)  # log axes cannot show 0
            style = plotting.style(name, i)
            style.pop("marker")
            ax.plot(np.arange(1, len(values) + 1) / steps_per_epoch, values, label=name,
                    linewidth=1.3, **style)
        ax.set(ylabel=label, yscale=scale, xlabel="epoch")
        ax.grid(True, alpha=0.3)
    axes[3].axhline(rule_of_thumb, color="0.5", linewidth=1.0, linestyle=":")
    axes[3].annotate(f"{rule_of_thumb:g}", (0, rule_of_thumb), xytext=(2, 2),
                     textcoords="offset points", fontsize=8, color="0.4")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=len(histories))
    return fig


def ratio_by_rate(sweep, name, statistic="update_ratio"):
    """Per rate of ``name``'s grid, the median of ``statistic`` (a per-step log) over the
    first half of training after the warm-up, averaged over the seeds: shape (rates,)."""
    spe, epochs = sweep.steps_per_epoch, sweep.setup["epochs"]
    window = slice(sweep.setup["warmup_epochs"] * spe, epochs * spe // 2)
    medians = np.median(sweep.runs[name].per_step[statistic][window], axis=0)
    return medians.reshape(len(FACTORS), -1).mean(axis=1)


def plot_ratios(sweep, rule_of_thumb=1e-3):
    """The update-to-weight ratio against the learning rate, one line per optimizer
    (:func:`ratio_by_rate`), the tuned rates circled, ``rule_of_thumb`` dotted."""
    fig, ax = plotting.figure(height=3.2)
    for i, name in enumerate(sweep.runs):
        rates, ratios = learning_rates(name), ratio_by_rate(sweep, name)
        ax.plot(rates, ratios, label=name, markersize=5, linewidth=1.4,
                **plotting.style(name, i))
        tuned = rates.index(sweep.tuned[name])
        ax.plot(rates[tuned], ratios[tuned], "o", markersize=12, markerfacecolor="none",
                color=plotting.style(name, i)["color"])
    ax.axhline(rule_of_thumb, color="0.5", linewidth=1.0, linestyle=":")
    ax.set(xscale="log", yscale="log", xlabel="peak learning rate α",
           ylabel="median ‖Δθ‖ / ‖θ‖")
    ax.grid(True, alpha=0.3)
    fig.legend(loc="outside right center")
    return fig


# ------------------------------------------------------------------------- the explorer




class CurvesExplorer(SliderFigures):
    """Precomputed training curves, one figure per (optimizer, learning-rate factor).

    Left panel: validation accuracy per epoch; right panel: training loss per epoch
    (log axis). The chosen run is drawn in the optimizer's style over thin grey curves of
    the optimizer's other rates; its tuned rate's curve is dashed.

    Nothing is trained or drawn when a slider moves: every figure is rendered once (one
    background per optimizer, the chosen curve blitted over it), and a slider only swaps
    PNG bytes. So ``.widget`` (live in Jupyter) and ``.static_view()`` (sliders linked to
    stacks of images in the browser, for the web book) show the same pictures; both come
    from :class:`optlib.widgets.SliderFigures`, as for every explorer, and ``.show()``
    picks the one for where the notebook runs.

    Args:
        curves: ``{(optimizer name, factor): {"lr": float, "tuned": bool,
            "val_accuracy": (epochs,), "epoch_loss": (epochs,), "diverged_at": int}}``
            for every name and factor; ``lr`` is the rate, ``factor`` its position in
            the optimizer's grid (rate = factor × the grid's centre); curves are nan
            after a divergence (``diverged_at`` > 0, the step, counting from 1).
        names, factors: the two sliders' values.
        initial: ``{"optimizer": name, "factor": factor}`` shown first (default: the
            middle values).
        width, height, dpi: the figure's size in inches and its resolution.

    Attributes (as every :class:`optlib.widgets.SliderFigures`): ``choices``, ``values``,
    ``controls`` (after ``.widget``), ``image``, ``caption``, ``widget``.
    """

    def __init__(self, curves, names, factors, *, initial=None, width=plotting.WIDTH,
                 height=2.7, dpi=100):
        super().__init__({"optimizer": names, "factor": factors},
                         labels={"optimizer": "optimizer", "factor": "α ÷ centre"},
                         initial=initial)
        self.curves = curves
        missing = [key for key in itertools.product(*self.choices.values()) if key not in curves]
        if missing:
            raise ValueError(f"curves has no entry for {missing[:3]} ({len(missing)} in all)")
        self._frames = {}
        self._build_figure(width, height, dpi)

    def _tuned(self, name):
        return next(c for f, c in ((f, self.curves[(name, f)]) for f in self.choices["factor"])
                    if c["tuned"])

    def describe(self, values):
        """The caption for ``values``: the rate and what the run reached."""
        name, factor = values["optimizer"], values["factor"]
        curve = self.curves[(name, factor)]
        tuned = self._tuned(name)
        parts = [f"{name}, α = {_format(curve['lr'])}"
                 + (" (its tuned rate)" if curve["tuned"] else "")]
        if curve["diverged_at"]:
            parts.append(f"diverged at step {curve['diverged_at']}: training stopped")
        else:
            parts.append(f"validation accuracy {100 * curve['val_accuracy'][-1]:.1f}% after "
                         f"{len(curve['val_accuracy'])} epochs, training loss "
                         f"{curve['epoch_loss'][-1]:.2g} in the last one")
        if not curve["tuned"]:
            parts.append(f"tuned α = {_format(tuned['lr'])}: "
                         f"{100 * tuned['val_accuracy'][-1]:.1f}%")
        return " · ".join(parts)

    # -- drawing -------------------------------------------------------------------------

    def _build_figure(self, width, height, dpi):
        """One Figure for the explorer's life: the empty axes are drawn once; each
        optimizer's grey curves and the chosen curve are blitted over that picture."""
        self.figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax_acc, self.ax_loss = self.figure.subplots(1, 2)
        some = next(iter(self.curves.values()))
        self.epochs = np.arange(1, len(some["val_accuracy"]) + 1)
        losses = np.concatenate([c["epoch_loss"] for c in self.curves.values()])
        losses = losses[np.isfinite(losses) & (losses > 0)]
        xlim = (0.5, self.epochs[-1] + 0.5)
        self.ax_acc.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.5, 1), xlim=xlim)
        self.ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log", xlim=xlim,
                         ylim=(losses.min() / 2, min(losses.max() * 2, 1e3)))
        for ax in (self.ax_acc, self.ax_loss):
            ax.grid(True, alpha=0.3)
        n_rates = len(self.choices["factor"])
        self.grey = {ax: [ax.plot([], [], animated=True)[0] for _ in range(n_rates)]
                     for ax in (self.ax_acc, self.ax_loss)}
        self.lines = {key: ax.plot(self.epochs, self.epochs * np.nan, linewidth=2.2,
                                   markersize=5, animated=True)[0]
                      for ax, key in ((self.ax_acc, "val_accuracy"), (self.ax_loss, "epoch_loss"))}
        self.title = self.figure.suptitle("Optimizer, rates (grey)", fontsize=10)
        self.canvas.draw()  # lays out the axes, leaving room for the title
        self.figure.set_layout_engine("none")  # ... and keeps them there
        self.title.set_animated(True)
        self.canvas.draw()
        self._empty = self.canvas.copy_from_bbox(self.figure.bbox)
        self._backgrounds = {}

    def _background(self, name):
        """The figure with ``name``'s rates in grey, as pixels (once per optimizer)."""
        if name not in self._backgrounds:
            self.canvas.restore_region(self._empty)
            for ax, key in ((self.ax_acc, "val_accuracy"), (self.ax_loss, "epoch_loss")):
                for line, factor in zip(self.grey[ax], self.choices["factor"]):
                    curve = self.curves[(name, factor)]
                    line.set_data(self.epochs, curve[key])
                    line.set(**({"color": "0.3", "linestyle": "--", "linewidth": 1.3}
                                if curve["tuned"] else
                                {"color": "0.72", "linestyle": "-", "linewidth": 0.9}))
                    ax.draw_artist(line)
            rates = ", ".join(_format(self.curves[(name, f)]["lr"]) for f in self.choices["factor"])
            self.title.set_text(f"{name}, rates {rates} (grey; dashed: tuned)")
            self.figure.draw_artist(self.title)
            self._backgrounds[name] = self.canvas.copy_from_bbox(self.figure.bbox)
        return self._backgrounds[name]

    def _draw(self, values):
        name, factor = values["optimizer"], values["factor"]
        pixels = self._background(name)
        props = plotting.style(name)
        for key, line in self.lines.items():
            line.set_ydata(self.curves[(name, factor)][key])
            line.set(color=props["color"], linestyle=props["linestyle"], marker=props["marker"])
        self.canvas.restore_region(pixels)
        for line in self.lines.values():
            line.axes.draw_artist(line)
        return np.asarray(self.canvas.buffer_rgba())

    def render(self, values=None, colors=64):
        """The PNG bytes (palette PNG, see :func:`~optlib.widgets.small_png`) for ``values``."""
        return small_png(self._draw(self._complete(values)), colors)

    def frames(self, colors=64):
        """``{(name, factor): (png, caption)}`` for every combination (rendered once)."""
        if colors not in self._frames:
            self._frames[colors] = {
                tuple(v.values()): (self.render(v, colors), self.describe(v))
                for v in self._combinations()
            }
        return self._frames[colors]

    def picture(self, values, colors=None):
        """A precomputed frame: the live view too only swaps PNG bytes (64 colours)."""
        key = tuple(values[name] for name in self.choices)
        return self.frames(64 if colors is None else colors)[key]


def sweep_curves(sweep):
    """The runs of a :class:`Sweep` as the ``curves`` of a :class:`CurvesExplorer`:
    for each optimizer and factor, the mean over the seeds of each epoch's validation
    accuracy and training loss (nan from the epoch in which any seed diverged)."""
    curves = {}
    n_seeds = len(sweep.setup["seeds"])
    for name, runs in sweep.runs.items():
        for i, (factor, lr) in enumerate(zip(FACTORS, learning_rates(name))):
            seeds = slice(i * n_seeds, (i + 1) * n_seeds)
            diverged = runs.diverged_at[seeds]
            curves[(name, factor)] = {
                "lr": lr,
                "tuned": lr == sweep.tuned[name],
                "val_accuracy": runs.per_epoch["val_accuracy"][:, seeds].mean(axis=1),
                "epoch_loss": runs.per_epoch["epoch_loss"][:, seeds].mean(axis=1),
                "diverged_at": int(diverged[diverged > 0].min()) if diverged.any() else 0,
            }
    return curves


@register
def training_curves_on_digits():
    """Validation accuracy and training loss of the MLP on the digits for every optimizer
    and learning rate of the chapter's experiment (mean over the seeds). Chapter "A
    practical training loop"."""
    return CurvesExplorer(sweep_curves(digits_sweep()), list(OPTIMIZERS), FACTORS,
                          initial={"optimizer": "Momentum", "factor": 1.0})
