"""The explorer and figures of the chapter "Comparing optimizers, measured".

You can skip this module on first reading. It holds:

* :data:`TUNED_LR`, the learning rates the chapter's tuning finds for each optimizer
  on each test problem. They are written out here so that the explorer can be built
  without re-running the tuning; with the default seed the chapter asserts that they
  equal what :func:`optlib.measure.tune_lr` finds, so they cannot silently go stale.
* :func:`optimizer_race`, the explorer: the four optimizers race on a chosen landscape
  at their tuned rates (or at the rates tuned on another landscape).
* :func:`speedup_chart` and :func:`results_table`, the chapter's chart and table of
  measured speed-ups.
"""

import html
import math

import numpy as np
from IPython.display import HTML

from .. import plotting
from ..landscapes import Beale, Noisy, Ravine, Rosenbrock
from ..optimizers import SGD, Adam, Momentum, RMSprop
from ..widgets import Explorer, register

#: The four optimizers the source article compares, as functions of the learning
#: rate; every other hyperparameter keeps its default (PyTorch's).
OPTIMIZERS = {
    "SGD": lambda lr: SGD(lr=lr),
    "Momentum": lambda lr: Momentum(lr=lr),
    "RMSprop": lambda lr: RMSprop(lr=lr),
    "Adam": lambda lr: Adam(lr=lr),
}

ROTATION = math.pi / 6  # the rotated ravines are turned by 30 degrees

#: The landscapes of the explorer, by the names the chapter gives its test problems
#: (the saddle is left out: its f has no minimum to plot on a log scale).
LANDSCAPES = {
    "ravine κ=10": Ravine(kappa=10),
    "ravine κ=10, rotated": Ravine(kappa=10, angle=ROTATION),
    "ravine κ=100": Ravine(kappa=100),
    "ravine κ=100, rotated": Ravine(kappa=100, angle=ROTATION),
    "ravine κ=1000": Ravine(kappa=1000),
    "ravine κ=100, noisy": Noisy(Ravine(kappa=100), sigma=0.3, seed=0),
    "Rosenbrock": Rosenbrock(),
    "Beale": Beale(),
}

#: The rate of the chapter's grid with the fewest median steps to tolerance, per test
#: problem and optimizer, as the chapter's tuning finds them with the course's default
#: seed (OPTLIB_SEED unset or 0; the chapter asserts that, and other seeds draw other
#: starts, so their tuned rates may differ by a grid step or two).
TUNED_LR = {
    "ravine κ=10": {"SGD": 1.78, "Momentum": 0.316, "RMSprop": 1.78, "Adam": 0.316},
    "ravine κ=10, rotated": {"SGD": 1.78, "Momentum": 0.316, "RMSprop": 0.316, "Adam": 0.562},
    "ravine κ=100": {"SGD": 1.78, "Momentum": 0.316, "RMSprop": 1.78, "Adam": 0.316},
    "ravine κ=100, rotated": {"SGD": 1.78, "Momentum": 0.316, "RMSprop": 0.178, "Adam": 1.0},
    "ravine κ=1000": {"SGD": 1.78, "Momentum": 3.16, "RMSprop": 1.78, "Adam": 0.178},
    "ravine κ=100, noisy": {"SGD": 0.178, "Momentum": 0.0562, "RMSprop": 0.0562, "Adam": 0.1},
    "Rosenbrock": {"SGD": 0.00178, "Momentum": 0.00178, "RMSprop": 0.00316, "Adam": 0.562},
    "Beale": {"SGD": 0.0316, "Momentum": 0.0178, "RMSprop": 0.0178, "Adam": 0.316},
    "saddle": {"SGD": 1.0, "Momentum": 1.78, "RMSprop": 0.0562, "Adam": 1.0},
}

#: The chapter's tolerance on f − f* for each landscape of the explorer (asserted there).
TOLERANCES = {
    "ravine κ=10": 1e-3 / 10,
    "ravine κ=10, rotated": 1e-3 / 10,
    "ravine κ=100": 1e-3 / 100,
    "ravine κ=100, rotated": 1e-3 / 100,
    "ravine κ=1000": 1e-3 / 1000,
    "ravine κ=100, noisy": 3e-2,
    "Rosenbrock": 1e-2,
    "Beale": 1e-4,
}

#: The second control of the explorer: whose tuned rates the optimizers use.
RATES_FROM = ["this landscape", "ravine κ=100, rotated", "Rosenbrock"]


def _rates(landscape, rates_from):
    return TUNED_LR[landscape if rates_from == "this landscape" else rates_from]


def _fresh(landscape):
    """A Noisy landscape anew (its noise starts again from its seed): the explorer's
    pictures then depend on the slider values only."""
    if isinstance(landscape, Noisy):
        return Noisy(landscape.landscape, landscape.sigma, landscape.seed)
    return landscape


class RaceExplorer(Explorer):
    """An :class:`~optlib.widgets.Explorer` whose caption names each optimizer's learning
    rate and the first step at which f − f* fell below the chapter's tolerance."""

    tolerances = TOLERANCES

    def describe(self, run):
        name = run.values["landscape"]
        tol = self.tolerances[name]
        rates = _rates(name, run.values["rates"])
        parts = [f"{name}, rates tuned on {run.values['rates']} (ε = {tol:g})"]
        for label, loss in run.losses.items():
            lr = f"{label} (α = {rates[label]:g})"
            finite = np.isfinite(loss)
            if not finite.all():
                parts.append(f"{lr}: diverged (overflow at step {int(np.argmin(finite))})")
                continue
            below = np.flatnonzero(loss <= tol)
            when = (f"first below ε at step {below[0]}" if below.size
                    else f"not below ε in {self.steps} steps")
            parts.append(f"{lr}: f − f* = {loss[-1]:.2g} after {self.steps} steps, {when}")
        return " · ".join(parts)


@register
def optimizer_race():
    """SGD, Momentum, RMSprop and Adam from the same start on a chosen landscape, each
    at the learning rate tuned for that landscape (or for another one). Chapter
    "Comparing optimizers, measured"."""
    return RaceExplorer(
        landscape=lambda landscape: _fresh(LANDSCAPES[landscape]),
        optimizers=lambda landscape, rates: {
            name: make(_rates(landscape, rates)[name]) for name, make in OPTIMIZERS.items()},
        controls={"landscape": list(LANDSCAPES), "rates": RATES_FROM},
        labels={"landscape": "landscape", "rates": "rates from"},
        initial={"landscape": "ravine κ=100, rotated", "rates": "this landscape"},
        steps=200,
    )


# ---------------------------------------------------------------------------- figures

#: The source article's claimed speed-ups over SGD, as (low, high).
CLAIMS = {"Momentum": (2, 3), "RMSprop": (3, 5), "Adam": (5, 10)}


def speedup_chart(rows, claims=CLAIMS, limits=(0.1, 1000), width=plotting.WIDTH, height=4.2):
    """Measured speed-ups over SGD, one panel per optimizer of ``claims``.

    Args:
        rows: :func:`optlib.measure.summarize` rows.
        claims: ``{optimizer: (low, high)}``, drawn as a shaded band.
        limits: the speed-up axis (log scale); a range beyond it (a failed run) ends
            in an arrow at the edge.

    Returns:
        A :class:`optlib.plotting.NotebookFigure`.
    """
    landscapes = list(dict.fromkeys(row["landscape"] for row in rows))
    fig, axes = plotting.figure(ncols=len(claims), width=width, height=height, sharey=True)
    y = np.arange(len(landscapes))[::-1]
    low_edge, high_edge = limits
    for ax, (name, (claim_low, claim_high)) in zip(axes, claims.items()):
        ax.axvspan(claim_low, claim_high, color="#d9d9d9", label="claimed", zorder=0)
        ax.axvline(1.0, color="grey", linewidth=0.8, zorder=1)
        style = plotting.style(name)
        for yi, landscape in zip(y, landscapes):
            row = next(r for r in rows if r["landscape"] == landscape and r["optimizer"] == name)
            if row["speedup"] is None:
                continue
            lo = min(max(row["speedup_low"], low_edge), high_edge)
            hi = min(max(row["speedup_high"], low_edge), high_edge)
            ax.plot([lo, hi], [yi, yi], color=style["color"], linewidth=1.5, zorder=2)
            for value, edge, marker in ((row["speedup_low"], low_edge, "<"),
                                        (row["speedup_high"], high_edge, ">")):
                if (value <= low_edge) if marker == "<" else (value >= high_edge):
                    ax.plot(edge, yi, marker=marker, color=style["color"], markersize=5,
                            zorder=3)
            median = min(max(row["speedup"], low_edge), high_edge)
            ax.plot(median, yi, marker=style["marker"], color=style["color"], markersize=6,
                    linestyle="none", zorder=4)
        ax.set_xscale("log")
        ax.set_xlim(low_edge, high_edge)
        ax.set_title(f"{name} (claimed {claim_low}–{claim_high}×)", fontsize=9)
        ax.set_xlabel("speed-up over SGD")
        ax.grid(True, axis="x", which="major", alpha=0.3)
    axes[0].set_yticks(y, landscapes, fontsize=8)
    axes[0].set_ylim(-0.6, len(landscapes) - 0.4)
    return fig


def _count(value):
    return "never" if value == math.inf else f"{value:g}"


def _ratio(value):
    if value is None:
        return "–"
    if value == math.inf:
        return "∞"
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


def results_table(rows):
    """The race summary as an HTML table: one row per (landscape, optimizer) with the
    tuned rate, the median steps (and their range over the runs), the failed runs, and
    the speed-up over SGD (median, and range over the runs)."""
    head = ("landscape", "optimizer", "tuned α", "steps: median (range)", "failed",
            "speed-up: median (range)")
    plain, nowrap = "<td>{}</td>", '<td style="white-space: nowrap">{}</td>'
    lines = ["<table>", "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>",
             "<tbody>"]
    previous = None
    for row in rows:
        landscape = "" if row["landscape"] == previous else html.escape(row["landscape"])
        previous = row["landscape"]
        cells = (landscape, row["optimizer"], f"{row['lr']:g}",
                 f"{_count(row['median'])} ({_count(row['low'])}–{_count(row['high'])})",
                 f"{row['failed']}/{row['runs']}",
                 f"{_ratio(row['speedup'])} ({_ratio(row['speedup_low'])}–"
                 f"{_ratio(row['speedup_high'])})")
        lines.append("<tr>" + "".join((plain if i < 2 else nowrap).format(c)
                                      for i, c in enumerate(cells)) + "</tr>")
    lines += ["</tbody>", "</table>"]
    return HTML("\n".join(lines))
