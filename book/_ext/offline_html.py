"""Sphinx extension: keep the rendered book self-contained (no request to an outside host).

Loaded from ``_config.yml`` (``sphinx.local_extensions``). It does five small things:

1. Removes the Font Awesome 4 stylesheet that matplotlib's ``FuncAnimation.to_jshtml()``
   links from a CDN. The animation's buttons use ``<i class="fa fa-play">``-style icons,
   which the book theme's own (local) Font Awesome already draws.
2. Warns (so ``-W`` fails the build) when any raw HTML in a page — a notebook's HTML
   output or HTML written in Markdown — would *load* something from the network
   (``<script src>``, ``<link href>``, ``<img src>``, ``<iframe src>``, CSS ``@import``,
   ...). Plain ``<a href>`` links are fine: they are not loaded.
3. Works around a Sphinx 7.4 quirk that writes inline ``<script>`` blocks added after the
   builder starts twice (``filename`` None vs ``''``): sphinx-thebe's
   ``const THEBE_JS_URL = ...`` then throws "Identifier has already been declared" on
   every page.
4. Sets ``OPTLIB_BOOK_BUILD=1`` in the builder's environment. The kernels that myst-nb
   starts to execute the chapters inherit it, so ``explorer.show()`` gives the
   precomputed frames there (a web page has no kernel) and the live widget anywhere else
   (see :func:`optlib.widgets.in_book_build`).
5. When the HTML is written, rewrites every page so that it paints fast on a phone
   (frames as files, widget state at the end, big scripts loaded after first paint):
   see ``phone_pages.py`` next to this file.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# matplotlib/_animation_data.py: JS_INCLUDE
_MPL_FONT_AWESOME = re.compile(
    r"<link\b[^>]*href=[\"']https?://[^\"']*font-awesome[^\"']*\.css[\"'][^>]*>\s*",
    re.IGNORECASE,
)
# Tags whose src/href/data/poster the browser fetches by itself.
_LOADING_ATTR = re.compile(
    r"<(script|link|img|iframe|source|video|audio|embed|object|track|input)\b[^>]*?"
    r"\b(?:src|href|data|poster|srcset)\s*=\s*[\"']\s*((?:https?:)?//[^\"'\s]+)",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"(?:@import\s+|url\(\s*)[\"']?((?:https?:)?//[^\"')\s]+)", re.IGNORECASE)


def outside_urls(html: str) -> list[str]:
    """The URLs on other hosts that a browser would load to show this HTML."""
    found = [m.group(2) for m in _LOADING_ATTR.finditer(html)]
    found += [m.group(1) for m in _CSS_URL.finditer(html)]
    return found


def _check_raw_html(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        if "html" not in node.get("format", "").split():
            continue
        text = node.astext()
        cleaned = _MPL_FONT_AWESOME.sub("", text)
        if cleaned != text:
            node.replace(node.children[0], nodes.Text(cleaned))
            # the raw node's text is its only child; keep rawsource in step
            node.rawsource = cleaned
        for url in outside_urls(cleaned):
            logger.warning(
                "HTML on this page loads %s from the network; the book must work offline: "
                "vendor it under book/assets/ (see scripts/vendor_assets.sh) or drop it",
                url,
                location=node,
                type="offline",
                subtype="outside_request",
            )


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree):
    builder = app.builder
    js_files = getattr(builder, "_js_files", None)
    if not js_files:
        return
    seen = set()
    unique = []
    for js in js_files:
        key = (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    js_files[:] = unique  # the same list object is the template's script_files


#: The same name as optlib.widgets.BOOK_BUILD_VARIABLE (not imported: the extension
#: must load even where optlib is broken, so that the build reports the real error).
BOOK_BUILD_VARIABLE = "OPTLIB_BOOK_BUILD"


def _phone_pages():
    """phone_pages.py from this folder (loaded by path: this folder is no package)."""
    spec = importlib.util.spec_from_file_location(
        "course_phone_pages", Path(__file__).with_name("phone_pages.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lighten_pages(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    changed = _phone_pages().lighten_book(Path(app.builder.outdir))
    logger.info("phone_pages: %d pages rewritten to paint fast on a phone", changed)


def setup(app: Sphinx) -> dict:
    # Before any notebook is executed: myst-nb's kernels copy this process's environment.
    os.environ[BOOK_BUILD_VARIABLE] = "1"
    app.connect("build-finished", _lighten_pages)
    app.connect("doctree-resolved", _check_raw_html)
    # after myst-nb adds the page's widget scripts (default priority 500)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
