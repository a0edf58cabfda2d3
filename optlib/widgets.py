"""Explorers: sliders that move optimizer paths across a contour plot, live.

You can skip this module on first reading: it is the machinery behind the chapters'
interactive figures. A chapter describes an explorer in a few lines::

    from optlib import SGD, Ravine
    from optlib.widgets import Explorer

    explorer = Explorer(
        landscape=lambda kappa: Ravine(kappa=kappa),
        optimizers=lambda lr: {"GD": SGD(lr=lr)},
        controls={"lr": [0.1, 0.5, 1.0, 1.9, 2.1], "kappa": [1, 10, 100]},
        labels={"lr": "α", "kappa": "κ"},
        steps=100,
    )
    explorer.show()          # display it: sliders, the figure, a caption

``landscape`` and ``optimizers`` are functions of the controls they name as
arguments (or, for a landscape that never changes, the landscape itself). Every
control is discrete, a short list of values on a :class:`ipywidgets.SelectionSlider`.
That keeps two promises:

* **Live in Jupyter.** Moving a slider recomputes the paths (:func:`optlib.trajectory`,
  ~0.3 ms per 100 steps) and redraws only the lines over a cached picture of the
  contours and axes ("blitting"), then encodes a PNG for an :class:`ipywidgets.Image`:
  a few milliseconds in all (``benchmarks/explorers.py`` measures it).
* **Alive in the web book.** A rendered page has no Python behind it, so a slider
  wired to a Python callback would be dead there. :meth:`Explorer.static_view`
  precomputes one PNG per combination of control values and links each slider to a
  :class:`ipywidgets.Stack` of images *in the browser* (``jslink``), which works with
  no kernel.

A chapter shows each explorer once, with ``explorer.show()``: the live widget where a
kernel runs the notebook, the precomputed frames when the book build executes it
(:func:`in_book_build`).

Rendering is a pure function of the control values: ``explorer.render(values)``
returns PNG bytes, and the caption under the figure is computed from the same run,
so the numbers it states always belong to the picture above it.

Every explorer, whatever it draws, is a :class:`SliderFigures`: the sliders, the live
view, the precomputed frames, the static view and ``show()`` live there once, and an
explorer only says what one picture and its caption are (:meth:`SliderFigures.picture`).
:class:`Explorer` (paths on a landscape) is one; the training-curves explorer of
:mod:`optlib.explorers.training_loop` is another.

The explorers the chapters show live in :mod:`optlib.explorers`, one module per
chapter, each registered in :data:`EXPLORERS`; ``benchmarks/explorers.py`` times exactly
what the book shows.
"""

import html
import inspect
import io
import itertools
import os
import struct
import zlib
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
from ipywidgets.widgets.widget_string import HTMLStyle
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from PIL import Image

from . import plotting
from .landscapes import Landscape
from .optimizers import trajectory

# ------------------------------------------------------------------------- PNG encoding


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(rgba):
    """Encode an (h, w, 4) uint8 RGBA array as an RGBA PNG, quickly.

    A PNG is a signature and three chunks: the header (size, 8-bit RGBA), the pixel
    rows (each prefixed by filter byte 0, "none", then deflated) and an end marker.
    zlib at level 1 on unfiltered rows is ~2 ms for a 650 x 280 figure, against
    ~5 ms for Pillow's encoder at its fastest setting; figures are mostly flat
    colour, so the file is about as small. The alpha channel is kept: the course's
    figures have a transparent background (see :data:`optlib.plotting.THEME`).
    """
    h, w, _ = rgba.shape
    rows = np.empty((h, 1 + 4 * w), dtype=np.uint8)
    rows[:, 0] = 0
    rows[:, 1:] = np.ascontiguousarray(rgba[:, :, :4]).reshape(h, 4 * w)
    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)  # 8 bits per channel, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + _png_chunk(b"IEND", b"")
    )


def small_png(rgba, colors=64):
    """Encode an (h, w, 4) uint8 RGBA array as a PNG with a palette of ``colors`` colours.

    For precomputed frames, where page weight matters more than time: a figure of flat
    fills and lines loses nothing visible and the file shrinks ~3x (~4 ms). The palette
    has alpha (transparent background, anti-aliased edges of text over it).
    """
    image = Image.fromarray(np.ascontiguousarray(rgba), "RGBA").quantize(
        colors, Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="png", compress_level=6)
    return out.getvalue()


# ------------------------------------------------------------------ live or precomputed

#: The environment variable that says "this notebook is being executed by the book build".
#: ``book/_ext/offline_html.py`` sets it to ``"1"`` in the builder's environment, which the
#: kernels myst-nb starts inherit; anywhere else (Jupyter, nbval, a script) it is unset.
BOOK_BUILD_VARIABLE = "OPTLIB_BOOK_BUILD"


def in_book_build():
    """Whether the notebook running this is being executed by the book build.

    True when :data:`BOOK_BUILD_VARIABLE` is ``"1"``; false when it is unset, empty or
    ``"0"``. Any other value is a mistake and raises :class:`ValueError`.
    """
    value = os.environ.get(BOOK_BUILD_VARIABLE, "")
    if value not in ("", "0", "1"):
        raise ValueError(
            f"environment variable {BOOK_BUILD_VARIABLE} = {value!r}: accepted values are "
            f"'1' (the book build), '0' or unset (anywhere else)"
        )
    return value == "1"


# ------------------------------------------------------------- figures switched by sliders


def _format(value):
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


class SliderFigures:
    """Figures switched by sliders: the machinery every explorer of the course shares.

    A subclass says what one picture is, :meth:`picture` (values -> PNG bytes and a
    caption); this class does the rest, the same way for every explorer:

    * :attr:`widget`, the live view: a :class:`~ipywidgets.SelectionSlider` per control,
      the picture and its caption, redrawn by :meth:`picture` when a slider moves;
    * :meth:`frames`, every combination of control values, drawn once;
    * :meth:`static_view`, those frames linked to the sliders in the browser, for a page
      with no Python behind it;
    * :meth:`show`, the one of the two a notebook cell displays (see :func:`in_book_build`).

    Args:
        controls: ``{control name: list of values}``, each shown as a slider.
        labels: ``{control name: label}`` for sliders and captions (e.g. ``"α"``).
        initial: ``{control name: value}`` shown first; default the middle values.

    Attributes:
        choices, labels, values: the controls' values, labels and current values.
        controls: ``{control name: SelectionSlider}`` (built with :attr:`widget`).
        image, caption: the Image and HTML widgets of the live view.
    """

    def __init__(self, controls, *, labels=None, initial=None):
        self.choices = {name: list(values) for name, values in controls.items()}
        if not self.choices or not all(self.choices.values()):
            raise ValueError("controls must map each control name to a non-empty list of values")
        self.labels = {name: (labels or {}).get(name, name) for name in self.choices}
        initial = dict(initial or {})
        self._check(initial)
        self.values = {name: initial.get(name, values[len(values) // 2])
                       for name, values in self.choices.items()}
        self._widgets = None

    # -- what a subclass provides --------------------------------------------------------

    def picture(self, values, colors=None):
        """``(png bytes, caption)`` for the control ``values`` (a complete dict).

        ``colors=None`` asks for the live view's picture (fast to make); an integer for a
        precomputed frame of the web book, a palette PNG of that many colours (small).
        """
        raise NotImplementedError

    def prepare(self):
        """Called before the live view is built: do slow, one-off work here."""

    def _after_frames(self):
        """Called after :meth:`frames` has drawn every combination."""

    def _image_width(self):
        """The pictures' width in pixels (the image is never shown wider)."""
        return self.canvas.get_width_height()[0]

    # -- controls ------------------------------------------------------------------------

    def _check(self, values):
        for name, value in values.items():
            if name not in self.choices:
                raise ValueError(f"unknown control {name!r}; controls are {sorted(self.choices)}")
            if value not in self.choices[name]:
                raise ValueError(
                    f"{name} = {value!r} is not one of the slider's values {self.choices[name]}"
                )

    def _complete(self, values):
        """The current values, updated with ``values`` (checked)."""
        values = {**self.values, **(values or {})}
        self._check(values)
        return values

    def _combinations(self):
        names = list(self.choices)
        for combination in itertools.product(*self.choices.values()):
            yield dict(zip(names, combination))

    def _slider(self, name):
        return widgets.SelectionSlider(
            options=[(_format(v), v) for v in self.choices[name]],
            value=self.values[name],
            description=self.labels[name],
            continuous_update=True,
            style={"description_width": "initial"},  # long labels are not cut off
            layout=widgets.Layout(width="min(100%, 30em)"),
        )

    def _image_layout(self):
        """Full width on a phone, never wider than the PNG's own size."""
        return widgets.Layout(width="100%", max_width=f"{self._image_width()}px")

    # -- the live view -------------------------------------------------------------------

    @property
    def widget(self):
        """The live view: a slider per control, the picture, its caption."""
        if self._widgets is None:
            self.prepare()
            self.controls = {name: self._slider(name) for name in self.choices}
            png, caption = self.picture(self.values)
            self.image = widgets.Image(value=png, format="png", layout=self._image_layout())
            self.caption = widgets.HTML(html.escape(caption))
            for slider in self.controls.values():
                slider.observe(self._on_change, names="value")
            self._widgets = widgets.VBox([*self.controls.values(), self.image, self.caption])
        return self._widgets

    def _on_change(self, change):
        self.values = {name: slider.value for name, slider in self.controls.items()}
        png, caption = self.picture(self.values)
        self.image.value = png
        self.caption.value = html.escape(caption)

    def set(self, **values):
        """Move sliders to ``values`` (e.g. ``explorer.set(lr=0.5)``); the picture follows."""
        self._check(values)
        _ = self.widget  # builds the sliders if needed
        for name, value in values.items():
            self.controls[name].value = value

    def show(self, colors=64):
        """What a notebook cell displays: ONE explorer, the right one for where it runs.

        In the book build (see :func:`in_book_build`) the precomputed frames,
        :meth:`static_view` with ``colors``, since the web page has no Python behind it;
        anywhere else the live :attr:`widget`, which redraws on every slider move.
        """
        return self.static_view(colors) if in_book_build() else self.widget

    # -- precomputed frames for the web book ---------------------------------------------

    def frames(self, colors=64):
        """``{tuple of control values: (png, caption)}`` for every combination of values,
        as palette PNGs of ``colors`` colours (see :func:`small_png`)."""
        result = {tuple(values.values()): self.picture(values, colors)
                  for values in self._combinations()}
        self._after_frames()
        return result

    def static_view(self, colors=64):
        """The explorer as precomputed frames, for a page with no Python behind it.

        A slider per control, linked in the browser (``jslink``) to nested
        :class:`ipywidgets.Stack` widgets that hold one image and caption per
        combination of values: the first control picks a child of the outer Stack,
        the second a child of that, and so on.
        """
        frames = self.frames(colors)
        sliders = {name: self._slider(name) for name in self.choices}
        names = list(self.choices)
        # Hundreds of widgets share one Layout and one style: each widget's own would
        # add ~1 KB of state per widget to the page.
        image_layout, plain, style = self._image_layout(), widgets.Layout(), HTMLStyle()

        def stack(level, chosen):
            if level == len(names):
                png, caption = frames[tuple(chosen)]
                image = widgets.Image(value=png, format="png", layout=image_layout)
                text = widgets.HTML(html.escape(caption), layout=plain, style=style)
                return widgets.VBox([image, text], layout=plain)
            slider = sliders[names[level]]
            box = widgets.Stack([stack(level + 1, [*chosen, value])
                                 for value in self.choices[names[level]]],
                                selected_index=slider.index, layout=plain)
            widgets.jslink((slider, "index"), (box, "selected_index"))
            return box

        return widgets.VBox([*sliders.values(), stack(0, [])])


# ------------------------------------------------------------------------- the explorer
class Lines(NamedTuple):
    """The two lines an explorer draws for one optimizer."""

    path: object  # Line2D on the contour panel
    loss: object  # Line2D on the loss panel


class Run(NamedTuple):
    """Everything one setting of the controls produces (see :meth:`Explorer.run`)."""

    values: dict  # control name -> value
    landscape: Landscape
    paths: dict  # optimizer name -> (steps + 1, 2) array, nan rows after divergence
    losses: dict  # optimizer name -> f(θ_k) − f*, k = 0..steps


def _call_with(function, values):
    """Call ``function`` with the control values it names as parameters."""
    names = inspect.signature(function).parameters
    return function(**{name: values[name] for name in names})


class Explorer(SliderFigures):
    """Sliders, a two-panel figure (paths on contours | f − f* per step) and a caption.

    Args:
        landscape: a landscape, or a function returning one whose parameters are
            control names (``lambda kappa: Ravine(kappa=kappa)``). The contours are
            drawn once per distinct landscape, told apart by ``repr``.
        optimizers: a function of control names returning ``{name: Optimizer}``
            (``lambda lr: {"GD": SGD(lr=lr)}``); the names must not depend on the
            values. Names in :data:`optlib.plotting.STYLES` get their usual colours.
        controls: ``{control name: list of values}``, each shown as a slider.
        steps: updates per path.
        start: starting point; default each landscape's ``start``.
        labels: ``{control name: label}`` for sliders and caption (e.g. ``"α"``).
        initial: ``{control name: value}`` shown first; default the middle values.
        loss_floor: bottom of the log loss axis; smaller values are drawn there.
        width, height, dpi: figure size in inches and resolution of the PNG.

    Attributes:
        lines: ``{optimizer name: Lines(path, loss)}``, the matplotlib lines.
        controls: ``{control name: SelectionSlider}`` (built with :attr:`widget`).
        image, caption: the Image and HTML widgets.
        widget: the box to display.
    """

    def __init__(self, landscape, optimizers, controls, steps=100, start=None, *, labels=None,
                 initial=None, loss_floor=plotting.FLOOR, width=plotting.WIDTH, height=2.8,
                 dpi=100):
        super().__init__(controls, labels=labels, initial=initial)
        self._landscape = landscape
        self._optimizers = optimizers
        for function in (landscape, optimizers):
            if callable(function) and not isinstance(function, Landscape):
                unknown = set(inspect.signature(function).parameters) - set(self.choices)
                if unknown:
                    raise ValueError(
                        f"{function.__name__} takes {sorted(unknown)}, which are not "
                        f"controls; controls are {sorted(self.choices)}"
                    )
        self.steps, self.start = steps, start
        self.loss_floor = loss_floor
        self._backgrounds = {}  # repr(landscape) -> (pixels, view)
        self._build_figure(width, height, dpi)

    # -- computing ---------------------------------------------------------------------

    def landscape_for(self, values):
        """The landscape shown for these control values."""
        if isinstance(self._landscape, Landscape):
            return self._landscape
        return _call_with(self._landscape, values)

    def run(self, values=None):
        """Compute the paths and losses for ``values`` (default: the current ones)."""
        values = self._complete(values)
        landscape = self.landscape_for(values)
        optimizers = _call_with(self._optimizers, values)
        paths = {name: trajectory(opt, landscape, self.start, self.steps)
                 for name, opt in optimizers.items()}
        losses = {name: plotting.suboptimality(landscape, path) for name, path in paths.items()}
        return Run(values, landscape, paths, losses)

    def describe(self, run):
        """The caption: the control values and, per optimizer, what happened."""
        parts = [f"{self.labels[name]} = {_format(value)}" for name, value in run.values.items()]
        for name, loss in run.losses.items():
            finite = np.isfinite(loss)
            if not finite.all():
                parts.append(f"{name}: diverged (overflow at step {int(np.argmin(finite))})")
                continue
            text = f"{name}: f − f* = {loss[0]:.2g} → {loss[-1]:.2g} after {self.steps} steps"
            parts.append(text + (" (above its start)" if loss[-1] > loss[0] else ""))
        return " · ".join(parts)

    # -- drawing -----------------------------------------------------------------------

    def _build_figure(self, width, height, dpi):
        """One Figure with an Agg canvas for the explorer's whole life (no pyplot)."""
        run = self.run()
        self.figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.ax_path, self.ax_loss = self.figure.subplots(1, 2, width_ratios=(2, 1))
        paths = plotting.plot_paths(self.ax_path, run.paths, start=False)
        losses = plotting.plot_losses(self.ax_loss, run.losses, floor=self.loss_floor)
        self.lines = {name: Lines(paths[name], losses[name]) for name in run.paths}
        for line in self._all_lines():
            line.set_animated(True)  # drawn by hand over the cached background
        self.ax_loss.set_xlim(0, self.steps)
        if len(self.lines) > 1:
            self.figure.legend(handles=list(paths.values()), loc="outside lower center",
                               ncols=min(len(self.lines), 4))
        # The figure is laid out anew for each landscape (its tick labels differ: a
        # layout made for one cuts another's off), by hand, when its background is
        # drawn (see _background); between those, the axes stay where they were put.
        self._layout = ConstrainedLayoutEngine()
        self.figure.set_layout_engine("none")

    def _all_lines(self):
        return [line for pair in self.lines.values() for line in pair]

    def _background(self, landscape):
        """The figure without the moving lines, as pixels (drawn once per landscape)."""
        key = repr(landscape)
        if key not in self._backgrounds:
            start = landscape.start if self.start is None else self.start
            before = set(self.ax_path.get_children())
            plotting.contour(self.ax_path, landscape)
            plotting.mark_start(self.ax_path, start)
            bottom = self.loss_floor
            top = 10 * float(plotting.suboptimality(landscape, start))
            self.ax_loss.set_ylim(bottom, max(top, 10 * bottom))
            self._layout.execute(self.figure)  # room for this landscape's labels
            self.canvas.draw()  # applies the contour panel's aspect ratio, too
            positions = tuple((ax.get_position(original=True), ax.get_position())
                              for ax in (self.ax_path, self.ax_loss))
            view = (self.ax_path.get_xlim(), self.ax_path.get_ylim(), positions,
                    self.ax_loss.get_ylim())
            self._backgrounds[key] = (self.canvas.copy_from_bbox(self.figure.bbox), view)
            for artist in set(self.ax_path.get_children()) - before:
                artist.remove()  # the pixels are cached; the artists are not needed
        return self._backgrounds[key]

    def prepare(self):
        """Draw the background for every landscape the controls can produce, now,
        so that no slider move has to (each costs a full draw, ~50-100 ms)."""
        for values in self._combinations():
            self._background(self.landscape_for(values))

    def _draw(self, run):
        pixels, (xlim, ylim, positions, loss_ylim) = self._background(run.landscape)
        # Put the axes back as they were when this background was drawn.
        self.ax_path.set(xlim=xlim, ylim=ylim)
        self.ax_loss.set_ylim(loss_ylim)
        for ax, (original, active) in zip((self.ax_path, self.ax_loss), positions):
            ax.set_position(original, which="original")
            ax.set_position(active, which="active")
        bounds = (xlim, ylim)
        steps = np.arange(self.steps + 1)
        for name, lines in self.lines.items():
            path = plotting.visible_part(run.paths[name], bounds)
            lines.path.set_data(path[:, 0], path[:, 1])
            loss = np.maximum(run.losses[name], self.loss_floor)
            lines.loss.set_data(steps, np.where(np.isfinite(loss), loss, np.nan))
        self.canvas.restore_region(pixels)
        for line in self._all_lines():
            line.axes.draw_artist(line)
        return np.asarray(self.canvas.buffer_rgba())

    def picture(self, values, colors=None):
        run = self.run(values)
        pixels = self._draw(run)
        png = png_bytes(pixels) if colors is None else small_png(pixels, colors)
        return png, self.describe(run)

    def _after_frames(self):
        self._draw(self.run())  # leave the lines showing the current values

    def render(self, values=None):
        """PNG bytes of the figure for ``values`` (default: the current ones)."""
        return self.picture(self._complete(values))[0]


# ------------------------------------------------------------------- the chapters' explorers

#: Every explorer the book shows, by name: a function returning a new Explorer.
#: A chapter builds its explorer from here, and ``benchmarks/explorers.py`` times
#: each one, so what is measured is what is shown.
EXPLORERS = {}


def register(factory):
    """Add ``factory`` (a function returning an :class:`Explorer`) to :data:`EXPLORERS`."""
    EXPLORERS[factory.__name__] = factory
    return factory
