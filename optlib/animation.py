"""Animations of optimizers racing across a landscape, for Jupyter and the web book.

    >>> from optlib import SGD, Momentum, Ravine
    >>> from optlib.animation import animate
    >>> race = animate(Ravine(kappa=30), {"GD": SGD(lr=1.9), "Momentum": Momentum(lr=1.0)},
    ...                steps=120)
    >>> race.widget          # display it: a play button, a step slider and the picture

The picture for each shown step is drawn once, in advance, and stored as a small PNG.
A :class:`ipywidgets.Play` button and a step slider are linked *in the browser*
(``jslink``) to a :class:`ipywidgets.Stack` of those pictures, so the animation plays in
the rendered book with no Python behind it (and offline), as well as in Jupyter. The
reader can also drag the slider to any step.

You can skip this module on first reading: it is plumbing for the chapters' figures.
"""

import html

import ipywidgets as widgets
import numpy as np
from ipywidgets.widgets.widget_string import HTMLStyle
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import plotting
from .widgets import small_png


def _last_finite(path, k):
    """Index of the last finite row of ``path`` at or before row ``k`` (or -1)."""
    finite = np.flatnonzero(np.isfinite(path[: k + 1]).all(axis=1))
    return int(finite[-1]) if finite.size else -1


class Race:
    """Optimizers' paths on one landscape, drawn step by step (see :func:`animate`).

    Attributes:
        landscape: the landscape.
        paths: ``{name: (steps + 1, 2) array}``, nan rows after a divergence.
        shown: the step numbers that get a frame (always 0 and ``steps``).
        lines, heads: the matplotlib lines (trails) and markers (current points).
    """

    def __init__(self, landscape, optimizers, steps, frames, start, title, width, height,
                 dpi, colors):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
        if not isinstance(frames, int) or frames < 2:
            raise ValueError(f"frames must be an integer >= 2, got {frames!r}")
        self.landscape, self.steps, self.colors = landscape, steps, colors
        self.paths = plotting.paths_of(landscape, optimizers, steps, start)
        self.shown = np.unique(np.linspace(0, steps, frames).round().astype(int))
        self.figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.figure.subplots()
        plotting.contour(ax, landscape)
        bounds = (ax.get_xlim(), ax.get_ylim())
        self._visible = {n: plotting.visible_part(p, bounds) for n, p in self.paths.items()}
        self.lines, self.heads = {}, {}
        for i, name in enumerate(self.paths):
            props = plotting.style(name, i)
            marker = props.pop("marker")
            self.lines[name] = ax.plot([], [], label=name, linewidth=1.6, **props)[0]
            self.heads[name] = ax.plot([], [], linestyle="none", marker=marker, markersize=8,
                                       color=props["color"], markeredgecolor="white",
                                       label="_head")[0]
        start_point = next(iter(self.paths.values()))[0]
        plotting.mark_start(ax, start_point)
        self.step_label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top",
                                  fontsize=9, bbox={"facecolor": "white", "alpha": 0.8,
                                                    "edgecolor": "none"})
        self.figure.legend(handles=list(self.lines.values()), loc="outside lower center",
                           ncols=min(len(self.lines), 4))
        self.figure.suptitle(title if title is not None else landscape.name)
        self.ax = ax
        # Draw the contours once, freeze the layout, and keep them as a background.
        moving = [*self.lines.values(), *self.heads.values(), self.step_label]
        for artist in moving:
            artist.set_animated(True)
        self.canvas.draw()
        self.figure.set_layout_engine("none")
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._widget = None

    def caption(self, k):
        """What the frame at step ``k`` shows, in words (f − f* per optimizer)."""
        parts = [f"step {k}"]
        for name, path in self.paths.items():
            last = _last_finite(path, k)
            if last < k:
                parts.append(f"{name}: diverged at step {last + 1}")
            else:
                value = float(plotting.suboptimality(self.landscape, path[k : k + 1])[0])
                what = "f" if self.landscape.min_value is None else "f − f*"
                parts.append(f"{name}: {what} = {value:.2g}")
        return " · ".join(parts)

    def draw(self, k):
        """The figure at step ``k`` as an (h, w, 4) RGBA array."""
        for name, path in self._visible.items():
            self.lines[name].set_data(path[: k + 1, 0], path[: k + 1, 1])
            last = _last_finite(path, k)
            head = path[last : last + 1] if last >= 0 else np.empty((0, 2))
            self.heads[name].set_data(head[:, 0], head[:, 1])
        self.step_label.set_text(f"step {k}")
        self.canvas.restore_region(self._background)
        for artist in [*self.lines.values(), *self.heads.values(), self.step_label]:
            self.ax.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())

    def frame(self, k):
        """PNG bytes of the frame at step ``k``."""
        return small_png(self.draw(k), self.colors)

    @property
    def widget(self):
        """Play button and step slider, linked in the browser to the frames."""
        if self._widget is None:
            n = len(self.shown)
            layout, style = widgets.Layout(), HTMLStyle()
            image_layout = widgets.Layout(
                width="100%", max_width=f"{self.canvas.get_width_height()[0]}px")
            pages = [
                widgets.VBox([widgets.Image(value=self.frame(int(k)), format="png",
                                            layout=image_layout),
                              widgets.HTML(html.escape(self.caption(int(k))), layout=layout,
                                           style=style)], layout=layout)
                for k in self.shown
            ]
            self.play = widgets.Play(value=0, min=0, max=n - 1, interval=120,
                                     description="play", show_repeat=False)
            self.slider = widgets.IntSlider(value=0, min=0, max=n - 1, readout=False,
                                            description="frame",
                                            layout=widgets.Layout(width="min(100%, 24em)"))
            self.stack = widgets.Stack(pages, selected_index=0)
            self.links = (widgets.jslink((self.play, "value"), (self.slider, "value")),
                          widgets.jslink((self.slider, "value"), (self.stack, "selected_index")))
            self._widget = widgets.VBox([widgets.HBox([self.play, self.slider]), self.stack])
        return self._widget

    def show(self):
        """What a notebook cell displays: :attr:`widget`. A race has one view, the same
        in Jupyter and in the book (its frames are precomputed and linked in the
        browser), so this is there only so that every figure of the course is shown
        the same way (see :meth:`optlib.widgets.Explorer.show`)."""
        return self.widget

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def animate(landscape, optimizers, steps=100, frames=40, start=None, title=None,
            width=plotting.WIDTH, height=4.0, dpi=72, colors=48):
    """An animation of ``optimizers`` (``{name: Optimizer}``) on ``landscape``.

    Args:
        landscape: an :mod:`optlib.landscapes` object.
        optimizers: ``{name: Optimizer}``; names in :data:`optlib.plotting.STYLES`
            get their usual colours. Each starts afresh (the optimizers passed in are
            not changed).
        steps: updates per optimizer.
        frames: number of pictures, spread evenly over the steps (first and last
            included). Each costs a few KB of page weight.
        start: starting point; default ``landscape.start``.
        title: figure title; default the landscape's name.
        width, height, dpi: picture size in inches and its resolution.
        colors: palette size of each PNG (fewer colours, smaller pages).

    Returns:
        A :class:`Race`; display it (or its ``.widget``) in a notebook.
    """
    return Race(landscape, optimizers, steps, frames, start, title, width, height, dpi, colors)
