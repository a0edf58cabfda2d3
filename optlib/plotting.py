"""The course's figures: contour plots, optimizer paths and loss curves.

Every chapter draws with these functions, so a given optimizer has the same colour,
line style and marker in every figure of the course. The colours are the Okabe-Ito
palette, which stays distinguishable with the common forms of colour blindness;
the line styles and markers keep lines apart in greyscale too.

    >>> from optlib import SGD, Momentum, Ravine
    >>> from optlib.plotting import compare
    >>> fig = compare(Ravine(kappa=10), {"SGD": SGD(lr=1.0), "Momentum": Momentum(lr=0.5)},
    ...               steps=60)

The functions take a matplotlib ``Axes`` and draw on it, so they work with pyplot
(``fig, ax = plt.subplots()``) as well as with a bare :class:`matplotlib.figure.Figure`
(what the library itself uses: no global pyplot state). This module needs only
matplotlib; the interactive explorers are in :mod:`optlib.widgets`.

Importing it sets :data:`THEME` in matplotlib's ``rcParams``: figures with a transparent
background and grey text, so that they read on a white page and on a dark one (JupyterLab's
dark theme, the book's dark mode) instead of showing as white boxes there.
"""

import io

import matplotlib
import numpy as np
from matplotlib import colors
from matplotlib.figure import Figure

from .optimizers import trajectory

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito, 2008), by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: Colours for lines that are not named optimizers (e.g. one line per learning rate),
#: in order. Yellow is left out: it is invisible on a white or light-grey background.
PALETTE = tuple(
    OKABE_ITO[c]
    for c in ("vermillion", "blue", "bluish green", "orange", "reddish purple", "sky blue", "black")
)

_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _style(color, linestyle, marker):
    return {"color": OKABE_ITO[color], "linestyle": linestyle, "marker": marker}


#: The style of each optimizer in every figure of the course: colour, line style, marker.
#: "GD" (full-batch gradient descent) is drawn like "SGD": it is the same update rule.
STYLES = {
    "SGD": _style("vermillion", "-", "o"),
    "GD": _style("vermillion", "-", "o"),
    "Momentum": _style("blue", "--", "s"),
    "Nesterov": _style("sky blue", "-.", "^"),
    "AdaGrad": _style("bluish green", ":", "D"),
    "RMSprop": _style("orange", "-", "v"),
    "Adadelta": _style("reddish purple", "--", "P"),
    "Adam": _style("black", "-", "X"),
    "AdamW": _style("black", "--", "x"),
    "AMSGrad": _style("black", ":", "d"),
    "Adamax": _style("orange", "--", "<"),
    "NAdam": _style("reddish purple", "-.", ">"),
}

#: Values of f(θ) − f* below this are drawn at this height on a log axis
#: (an exact 0 has no logarithm).
FLOOR = 1e-16

#: Width of a figure in inches: fits a text column and a phone screen (scaled down).
WIDTH = 6.5

#: A light grey colour map for filled contours: coloured paths stand out on it.
CONTOUR_CMAP = colors.LinearSegmentedColormap.from_list("light greys", ["#8c8c8c", "#fbfbfb"])


#: The grey of text, ticks and axis frames: the same contrast, about 4.3:1, on a white
#: page and on a dark theme's near-black (#111111 in JupyterLab, #121212 in the book).
INK = "#7a7a7a"

#: The course's matplotlib style (set in ``rcParams`` when this module is imported):
#: the figure's background is transparent, so that a dark theme shows through around
#: the panels instead of a white box; the panels themselves stay light (the contours are
#: light greys, the other panels white), so every line colour of :data:`STYLES`, black
#: included, reads on them in both themes; text and frames are :data:`INK`. Legends
#: keep a light box with dark text, as they hold samples of the lines.
THEME = {
    "figure.facecolor": "none",
    "savefig.facecolor": "none",
    "axes.facecolor": "white",
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "grid.color": "#b0b0b0",
    "legend.facecolor": "white",
    "legend.edgecolor": INK,
    "legend.framealpha": 0.9,
    "legend.labelcolor": "#333333",
}

matplotlib.rcParams.update(THEME)


def style(name, index=0):
    """Line properties for ``name``: its fixed style if it is an optimizer in
    :data:`STYLES`, else colour, line style and marker number ``index`` of the palette.
    """
    if name in STYLES:
        return dict(STYLES[name])
    return {
        "color": PALETTE[index % len(PALETTE)],
        "linestyle": _LINESTYLES[index % len(_LINESTYLES)],
        "marker": _MARKERS[index % len(_MARKERS)],
    }


class NotebookFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG when it is a cell's result.

    Figures made without pyplot are not registered with Jupyter's inline backend, so
    a plain ``Figure`` would show as the text ``<Figure size ...>``, in Jupyter and in
    the built book alike. This one renders itself instead.
    """

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def figure(ncols=1, nrows=1, width=WIDTH, height=3.0, **subplots_kw):
    """A new :class:`NotebookFigure` (not pyplot) and its axes.

    Returns ``(fig, ax)`` for one panel, ``(fig, axes)`` (a 1-D array) for several.
    ``subplots_kw`` goes to :meth:`~matplotlib.figure.Figure.subplots` (e.g.
    ``width_ratios=(2, 1)``).
    """
    fig = NotebookFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplots_kw).ravel()
    return fig, (axes[0] if axes.size == 1 else axes)


# ---------------------------------------------------------------------- computations


def suboptimality(landscape, path):
    """f(θ) − f* at each row of ``path`` (shape (n, 2)): the height above the minimum.

    Rows that are nan (a diverged path) stay nan; overflow gives inf, silently.
    If the landscape has no minimum (``min_value`` is None), this is f(θ) itself.
    """
    path = np.asarray(path, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        values = landscape.value(path[..., 0], path[..., 1])
    return values - (landscape.min_value or 0.0)


def paths_of(landscape, optimizers, steps, start=None):
    """``{name: trajectory(optimizer, landscape, start, steps)}`` for a dict of optimizers."""
    return {name: trajectory(opt, landscape, start, steps) for name, opt in optimizers.items()}


def visible_part(path, bounds, margin=10.0):
    """``path`` with the rows after it leaves a box ``margin`` times the size of
    ``bounds`` set to nan, and the first row outside moved onto that box.

    The shown part looks the same (the path still shoots off the plot in the same
    direction), but a diverging path no longer hands the renderer coordinates like
    1e300. Used by :func:`plot_paths`.
    """
    path = np.array(path, dtype=float)
    (x0, x1), (y0, y1) = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = margin * (x1 - x0) / 2, margin * (y1 - y0) / 2
    with np.errstate(invalid="ignore"):
        outside = ~((np.abs(path[:, 0] - cx) <= hx) & (np.abs(path[:, 1] - cy) <= hy))
    if not outside.any():
        return path
    k = int(np.argmax(outside))
    if k > 0 and np.all(np.isfinite(path[k])):
        # Move row k back along the segment from row k-1 until it is on the box.
        (ax, ay), (bx, by) = path[k - 1], path[k]
        s = 1.0
        if abs(bx - cx) > hx:
            s = min(s, (np.sign(bx - cx) * hx + cx - ax) / (bx - ax))
        if abs(by - cy) > hy:
            s = min(s, (np.sign(by - cy) * hy + cy - ay) / (by - ay))
        path[k] = ax + s * (bx - ax), ay + s * (by - ay)
        k += 1
    path[k:] = np.nan
    return path


def _markevery(n, most=25):
    """Mark every point of a short path, about ``most`` points of a long one."""
    return 1 if n <= most else max(1, n // most)


def _log_levels(z, n, decades):
    top = float(np.nanmax(z))
    return np.geomspace(top * 10.0**-decades, top, n)


# ---------------------------------------------------------------------- drawing


def contour(ax, landscape, n=200, levels=None, filled=True, cmap=None, minima=True,
            labels=("θ₁", "θ₂"), aspect="equal"):
    """Contours of ``landscape`` over ``landscape.bounds``; returns the ContourSet.

    Args:
        ax: the matplotlib Axes to draw on. Its limits are set to the bounds and
            autoscaling is switched off, so paths drawn later cannot move them.
        landscape: an :mod:`optlib.landscapes` object (``value``, ``bounds``, ...).
        n: grid points per axis.
        levels: contour levels of f − f*; default 14 levels, log-spaced over four
            decades below the maximum when ``landscape.log_scale``, else evenly spaced.
        filled: filled contours (light greys, with thin lines) or lines only.
        cmap: colour map of the filled contours; default :data:`CONTOUR_CMAP`.
        minima: mark the known minima with a white star.
        labels: axis labels.
        aspect: ``"equal"`` shows the true shape of the level sets; ``"auto"`` fills
            the panel.
    """
    (x0, x1), (y0, y1) = landscape.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    Z = landscape.value(X, Y) - (landscape.min_value or 0.0)
    log = landscape.log_scale
    if levels is None:
        levels = _log_levels(Z, 14, decades=4) if log else np.linspace(Z.min(), Z.max(), 14)
    norm = colors.LogNorm(levels[0], levels[-1]) if log else None
    if log:
        Z = np.maximum(Z, levels[0] * 1e-3)  # exact zeros have no logarithm
    if filled:
        cs = ax.contourf(X, Y, Z, levels=levels, cmap=cmap or CONTOUR_CMAP, norm=norm,
                         extend="both")
        ax.contour(X, Y, Z, levels=levels, colors="#6f6f6f", linewidths=0.4, norm=norm)
    else:
        cs = ax.contour(X, Y, Z, levels=levels, cmap=cmap or "Greys_r", norm=norm,
                        linewidths=0.8)
    if minima and landscape.minima:
        mx, my = np.transpose(landscape.minima)
        ax.plot(mx, my, linestyle="none", marker="*", markersize=11, color="white",
                markeredgecolor="black", markeredgewidth=0.8, zorder=6, label="_minimum")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_autoscale_on(False)
    ax.set_aspect(aspect)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1], rotation=0, labelpad=8)
    return cs


def plot_paths(ax, paths, styles=None, markers=True, start=True, linewidth=1.6,
               legend=False, **legend_kw):
    """Draw optimizer paths; returns ``{name: Line2D}``.

    Args:
        ax: the Axes (usually after :func:`contour`, whose limits are kept).
        paths: ``{name: array of shape (n, 2)}``; nan rows (divergence) are skipped.
        styles: ``{name: dict of Line2D properties}`` overriding :func:`style`.
        markers: mark the iterates (every one on short paths, ~25 on long ones).
        start: mark the first point of each path with a black ring.
        legend: add a legend (``legend_kw`` goes to ``ax.legend``).
    """
    keep_limits = ax.has_data()
    bounds = (ax.get_xlim(), ax.get_ylim()) if keep_limits else None
    lines = {}
    for i, (name, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)
        if bounds is not None:
            path = visible_part(path, bounds)
        props = style(name, i)
        props.update((styles or {}).get(name, {}))
        if not markers:
            props["marker"] = None
        (line,) = ax.plot(path[:, 0], path[:, 1], label=name, linewidth=linewidth,
                          markersize=4, markevery=_markevery(len(path)), zorder=4,
                          scalex=not keep_limits, scaley=not keep_limits, **props)
        lines[name] = line
        if start:
            mark_start(ax, path[0])
    if legend:
        ax.legend(**legend_kw)
    return lines


def mark_start(ax, point):
    """Mark a starting point with a black ring (without changing the axes' limits)."""
    (ring,) = ax.plot(point[0], point[1], marker="o", markersize=7, color="black",
                      markerfacecolor="none", markeredgewidth=1.2, linestyle="none", zorder=5,
                      label="_start", scalex=not ax.has_data(), scaley=not ax.has_data())
    return ring


def plot_losses(ax, losses, log=True, floor=FLOOR, styles=None, markers=True, legend=False,
                ylabel="f(θ) − f*", **legend_kw):
    """Draw loss curves against the step number; returns ``{name: Line2D}``.

    Args:
        ax: the Axes.
        losses: ``{name: 1-D array}``; entry k is the loss after k steps (usually
            f(θ_k) − f*, see :func:`suboptimality`). nan and inf (after divergence)
            are not drawn; on a log axis values below ``floor`` (exact zeros) are drawn at
            ``floor``.
        log: logarithmic loss axis.
        styles, markers, legend: as in :func:`plot_paths`.
        ylabel: label of the loss axis.
    """
    lines = {}
    for i, (name, loss) in enumerate(losses.items()):
        loss = np.asarray(loss, dtype=float)
        loss = np.where(np.isfinite(loss), loss, np.nan)  # overflow (inf) is not drawn
        if log:
            loss = np.maximum(loss, floor)  # nan stays nan
        props = style(name, i)
        props.update((styles or {}).get(name, {}))
        if not markers:
            props["marker"] = None
        (line,) = ax.plot(np.arange(len(loss)), loss, label=name, linewidth=1.6,
                          markersize=4, markevery=_markevery(len(loss)), **props)
        lines[name] = line
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(**legend_kw)
    return lines


def loss_limits(losses, floor=FLOOR, below=None):
    """Sensible log-axis limits for loss curves: a decade above the largest starting
    value down to the smallest value reached (or ``below``), at least ``floor``.

    Curves that diverge run off the top of the panel instead of squashing the rest.
    """
    starts = [float(v[0]) for v in losses.values() if np.isfinite(v[0])]
    top = 10 * max(starts) if starts else 1.0
    if below is None:
        finite = np.concatenate([np.asarray(v, dtype=float) for v in losses.values()])
        finite = finite[np.isfinite(finite)]
        below = max(floor, float(finite.min()) / 3) if finite.size else floor
    return max(below, floor), top


def compare(landscape, optimizers, steps, start=None, title=None, width=WIDTH, height=3.0):
    """Run each optimizer from the same start; return a two-panel Figure.

    Left: contours of ``landscape`` and the paths. Right: f(θ) − f* against the step
    number (log axis; a linear axis of f if the landscape has no known minimum).
    The legend sits below the panels, where it covers nothing.

    Args:
        landscape: an :mod:`optlib.landscapes` object.
        optimizers: ``{name: Optimizer}``; names in :data:`STYLES` get their colours.
        steps: number of updates.
        start: starting point; default ``landscape.start``.
        title: figure title; default the landscape's name.
    """
    paths = paths_of(landscape, optimizers, steps, start)
    losses = {name: suboptimality(landscape, p) for name, p in paths.items()}
    log = landscape.min_value is not None
    (x0, x1), (y0, y1) = landscape.bounds
    wide = min(max((x1 - x0) / (y1 - y0), 1.0), 2.0)  # a wide landscape gets a wider panel
    fig, (ax_path, ax_loss) = figure(ncols=2, width=width, height=height, width_ratios=(wide, 1))
    contour(ax_path, landscape)
    plot_paths(ax_path, paths)
    plot_losses(ax_loss, losses, log=log, ylabel="f(θ) − f*" if log else "f(θ)")
    ax_loss.set_xlim(0, steps)
    if log:
        ax_loss.set_ylim(*loss_limits(losses))
    handles = list(plot_handles(ax_loss).values())
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))
    fig.suptitle(title if title is not None else landscape.name)
    return fig


def plot_handles(ax):
    """``{label: line}`` for the labelled lines of ``ax`` (for a shared legend)."""
    return {line.get_label(): line for line in ax.get_lines()
            if not line.get_label().startswith("_")}
