"""Make the built book's pages paint fast on a phone, and keep them working offline.

Run by ``offline_html.py`` when the HTML build has finished (Sphinx's ``build-finished``),
on every page of the book; also usable by hand on a built book::

    python book/_ext/phone_pages.py _build/html

What slowed a chapter down on a phone (150 ms round trip, 1.6 Mbit/s, a slow CPU; see
``benchmarks/page_load.py``): myst-nb writes the widget renderer (``embed.js``, 1.8 MB)
as a blocking script in ``<head>`` and the whole widget state, every precomputed frame
of every explorer in base64 (~1 MB), in ``<head>`` too; and MathJax (2.2 MB) and the
theme's icon script (1.5 MB) share the same narrow pipe from the start. Nothing showed
for 15-20 s. This module rewrites each page:

1. **Frames become files.** Each image of the widget state is written once to
   ``_frames/<content hash>.<format>`` and its Image widget gets the relative URL
   instead (ipywidgets' ``format="url"``, which the renderer puts in ``<img src>``).
   A Stack shows only its selected child, so a reader's browser fetches the frames
   actually shown, when they are shown. Relative URLs work from ``file://`` too.
   The images get their pixel size as ``width``/``height``, so the page keeps their
   room while they load. Each frame (a VBox of the Image and an HTML caption) becomes
   one HTML widget holding both: a third of the widget models to build on a slow phone.
2. **The widget state moves to the end of ``<body>``**: the renderer reads it from
   wherever it is, and the text above no longer waits for it.
3. **Big scripts load after first paint, in order of need.** ``embed.js``, MathJax and
   the theme's Font Awesome are no longer ``<script src>`` tags (which the browser
   fetches at once, all together); they become ``<script type="text/x-course-later">``
   placeholders that ``course.js`` loads one after another: the widget renderer first
   (it must arrive before the window's load event, when it renders), then MathJax once
   the explorers are live, then the icons. Sphinx's search scripts get ``defer``.
4. **The course's own widget renderer.** A page whose widgets are all of the kinds the
   course's explorers and animations use (:data:`NATIVE_MODELS`: sliders, Play buttons,
   links, boxes, Stacks, images, captions, progress bars) gets ``course-widgets.js``
   (15 kB, 4 kB compressed) in place of ``embed.js`` (1.8 MB), as the last script of
   ``<body>``: it renders the moment the parser reaches it. Any other page keeps
   ``embed.js``, loaded as in 3.
5. **Figures below the fold load lazily** (``loading="lazy"`` on the notebook outputs'
   ``<img>``), so they do not compete with the widget renderer.

The search page is left as Sphinx writes it (its scripts are what it is for).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import sys
from pathlib import Path

#: Where the frames go, relative to the HTML root.
FRAMES_DIR = "_frames"

#: The type that keeps a <script> from loading until course.js loads it.
LATER = "text/x-course-later"

#: Scripts loaded after first paint, by a substring of their URL, in the order course.js
#: loads them (the value is the ``data-course-later`` group).
LATER_SCRIPTS = {
    "jupyter-widgets/embed.js": "widgets",
    "mathjax/": "math",
    "scripts/fontawesome.js": "icons",
}

#: The general widget renderer, and the course's own (book/assets/course-widgets.js),
#: which replaces it on pages whose widgets are all of the models below.
EMBED = "jupyter-widgets/embed.js"
NATIVE_RENDERER = "course-widgets.js"

#: The ipywidgets models course-widgets.js renders (its SUPPORTED list; a test checks
#: that the two agree): the explorers' and animations' sliders, Play buttons, links,
#: boxes, Stacks, images and captions, and the training loop's progress bars.
NATIVE_MODELS = frozenset({
    "LayoutModel", "DescriptionStyleModel", "SliderStyleModel", "HTMLStyleModel",
    "LabelStyleModel", "VBoxModel", "HBoxModel", "BoxModel", "StackModel", "ImageModel",
    "HTMLModel", "HTMLMathModel", "LabelModel", "SelectionSliderModel", "IntSliderModel",
    "FloatSliderModel", "PlayModel", "LinkModel", "DirectionalLinkModel",
    "FloatProgressModel", "IntProgressModel", "ProgressStyleModel",
})

#: Scripts that can wait for the parser (they run before DOMContentLoaded, in order).
DEFERRED_SCRIPTS = ("searchtools.js", "language_data.js", "searchindex.js")

#: Pages left alone.
UNTOUCHED = {"search.html"}

_STATE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>\s*', re.S)
_SCRIPT_SRC = re.compile(r"<script\b([^>]*?)\bsrc=\"([^\"]+)\"([^>]*)>\s*</script>")
_OUTPUT_IMG = re.compile(r'<img\b(?![^>]*\bloading=)([^>]*\bsrc="[^"]*_images/[^"]*")')
_IMAGE_FORMATS = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp"}


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, or None if ``data`` is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def frames_to_files(state: dict, page: Path, root: Path) -> int:
    """Write every inline image of a widget ``state`` under ``root/FRAMES_DIR`` and point
    its Image model at the file (URL relative to ``page``). Returns the number moved."""
    moved = 0
    folder = root / FRAMES_DIR
    for model in state.get("state", {}).values():
        if model.get("model_name") != "ImageModel":
            continue
        fields = model.get("state", {})
        suffix = _IMAGE_FORMATS.get(fields.get("format", "png"))
        for buffer in model.get("buffers", []):
            inline = buffer.get("path") == ["value"] and buffer.get("encoding") == "base64"
            if suffix is None or not inline:
                continue
            data = base64.b64decode(buffer["data"])
            target = folder / f"{hashlib.sha256(data).hexdigest()[:24]}.{suffix}"
            if not target.exists():
                folder.mkdir(exist_ok=True)
                target.write_bytes(data)
            url = os.path.relpath(target, page.parent).replace(os.sep, "/")
            buffer["data"] = base64.b64encode(url.encode()).decode()
            fields["format"] = "url"
            size = png_size(data)
            if size and not fields.get("width") and not fields.get("height"):
                fields["width"], fields["height"] = str(size[0]), str(size[1])
            moved += 1
    return moved


def _ref(value):
    """The model id in an ``"IPY_MODEL_<id>"`` reference, else None."""
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        return value[len("IPY_MODEL_"):]
    return None


def merge_frames(state: dict) -> int:
    """Turn each frame of a precomputed explorer, a VBox of an Image (already a URL, see
    :func:`frames_to_files`) and an HTML caption, into ONE HTML widget holding the
    ``<img>`` and the caption: a third of the models for the renderer to build. The VBox
    keeps its id, so the Stacks that hold it are unchanged. Returns the frames merged."""
    models = state.get("state", {})
    uses = {}
    for model in models.values():
        for value in model.get("state", {}).values():
            for ref in (value if isinstance(value, list) else [value]):
                if _ref(ref):
                    uses[_ref(ref)] = uses.get(_ref(ref), 0) + 1
    merged = 0
    for box_id, box in list(models.items()):
        if box.get("model_name") != "VBoxModel":
            continue
        children = [_ref(c) for c in box.get("state", {}).get("children", [])]
        if len(children) != 2 or None in children:
            continue
        image, caption = (models.get(c) for c in children)
        if not image or not caption or image.get("model_name") != "ImageModel" \
                or caption.get("model_name") != "HTMLModel" \
                or image["state"].get("format") != "url" or any(uses[c] != 1 for c in children):
            continue
        url = base64.b64decode(image["buffers"][0]["data"]).decode()
        layout = models.get(_ref(image["state"].get("layout")), {}).get("state", {})
        style = f"width:{layout.get('width') or '100%'};height:auto"
        if layout.get("max_width"):
            style += f";max-width:{layout['max_width']}"
        size = "".join(f' {k}="{image["state"][k]}"' for k in ("width", "height")
                       if image["state"].get(k))
        fields = dict(caption["state"])
        fields["value"] = (f'<img class="course-frame" src="{url}"{size} style="{style}" alt="">'
                           f'<div class="course-frame-caption">{fields.get("value", "")}</div>')
        fields["layout"] = box["state"].get("layout", fields.get("layout"))
        models[box_id] = {**caption, "state": fields}
        for child in children:
            del models[child]
        merged += 1
    return merged


def native_page(states: list[dict]) -> bool:
    """Whether the course's own renderer can show every widget of a page's saved states:
    there is some state, and each of its models is one of :data:`NATIVE_MODELS`."""
    names = [model.get("model_name") for state in states
             for model in state.get("state", {}).values()]
    return bool(names) and all(name in NATIVE_MODELS for name in names)


def _native_src(embed_src: str, root: Path) -> str:
    """The URL of course-widgets.js, from embed.js's: the same folder, and a version
    (``?v=``) from the file's own content, so that a changed renderer is fetched anew."""
    src = embed_src.split("?")[0].replace(EMBED, NATIVE_RENDERER)
    path = root / "_static" / NATIVE_RENDERER
    if path.exists():
        src += "?v=" + hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    return src


def _script(match: re.Match, native: list | None = None, root: Path = Path(".")) -> str:
    """A script tag of ``<head>``, rewritten. On a page the course's renderer shows
    (``native`` a list), embed.js is dropped and the renderer's URL added to ``native``."""
    before, src, after = match.groups()
    if native is not None and EMBED in src:
        native.append(_native_src(src, root))
        return ""
    for key, group in LATER_SCRIPTS.items():
        if key in src:
            attributes = re.sub(r"\s*\b(?:defer|async)(?:=\"[^\"]*\")?", "", before + after)
            return (f'<script type="{LATER}" data-course-later="{group}" '
                    f'data-src="{src}"{attributes.rstrip()}></script>')
    if any(name in src for name in DEFERRED_SCRIPTS) and "defer" not in before + after:
        return f'<script defer{before}src="{src}"{after}></script>'
    return match.group(0)


def lighten(html: str, page: Path, root: Path) -> str:
    """The page ``html`` (the file ``page`` under the book's ``root``), rewritten as the
    module docstring says. A page already rewritten comes back unchanged."""
    head_end = html.find("</head>")
    if head_end < 0 or f'type="{LATER}"' in html:
        return html
    states, parsed = [], []

    def take_state(match):
        state = json.loads(match.group(1))
        frames_to_files(state, page, root)
        merge_frames(state)
        parsed.append(state)
        states.append(json.dumps(state, separators=(",", ":")).replace("</", "<\\/"))
        return ""

    head = _STATE.sub(take_state, html[:head_end])
    native = [] if native_page(parsed) else None
    head = _SCRIPT_SRC.sub(lambda match: _script(match, native, root), head)
    body = _OUTPUT_IMG.sub(r'<img loading="lazy"\1', html[head_end:])
    if states:
        tail = "".join(f'<script type="application/vnd.jupyter.widget-state+json">{s}</script>\n'
                       for s in states)
        # the course's renderer last: it runs as soon as the parser reaches it, with every
        # view and the state above it (a deferred script would wait for all the others)
        tail += "".join(f'<script src="{src}"></script>\n' for src in native or [])
        end = body.rfind("</body>")
        body = body[:end] + tail + body[end:] if end >= 0 else body + tail
    return head + body


def lighten_book(root: Path) -> int:
    """Rewrite every HTML page under ``root`` (a built book); returns the pages changed."""
    changed = 0
    for page in sorted(root.rglob("*.html")):
        if page.name in UNTOUCHED or FRAMES_DIR in page.parts or "_static" in page.parts:
            continue
        html = page.read_text(encoding="utf-8")
        new = lighten(html, page, root)
        if new != html:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "index.html").exists():
        raise SystemExit("usage: python book/_ext/phone_pages.py BUILT_HTML_DIR (with index.html)")
    print(f"{lighten_book(Path(sys.argv[1]))} pages rewritten")
