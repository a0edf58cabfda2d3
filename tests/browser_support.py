"""Helpers for tests/test_browser.py: build the book, find its pages, drive Chromium.

The browser is a Chromium driven by Playwright from PyPI: Playwright's own browser when
one is installed (``playwright install chromium``, where a machine can download it), else
Debian's (/usr/bin/chromium, apt package ``chromium``, what CI installs, see .ci/run),
else the executable named by the environment variable COURSE_CHROMIUM
(:func:`find_chromium`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"

# Flags that keep Chromium from phoning home (it would try, and be refused, at start-up).
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # a common phone, CSS pixels

# Schemes the book may load; every other request is aborted and recorded.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

INSTALL_HELP = """\
The browser tests need Playwright (PyPI) and a Chromium, looked for in this order:
    1. Playwright's own browser:  .venv/bin/playwright install chromium  (needs internet)
    2. Debian's:                  apt-get update && apt-get install -y chromium
                                  (provides /usr/bin/chromium; what CI uses)
    3. any Chromium you name:     COURSE_CHROMIUM=/path/to/chromium
and  .venv/bin/pip install -r requirements.txt  provides playwright.
`bash .ci/run` installs Debian's Chromium when missing. To leave the browser tests out
of a local run on purpose: pytest -k "not test_browser and not test_jupyterlab"."""


def find_chromium(pw) -> dict:
    """Launch options (``executable_path``) for the Chromium the browser tests drive:
    Playwright's own when installed, else /usr/bin/chromium, else $COURSE_CHROMIUM.

    Raises FileNotFoundError naming all three (and how to get each) when none exists.
    """
    own = Path(pw.chromium.executable_path)
    named = os.environ.get("COURSE_CHROMIUM", "")
    for candidate in (own, DEBIAN_CHROMIUM, Path(named) if named else None):
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return {"executable_path": str(candidate)}
    raise FileNotFoundError(
        f"no Chromium found: not Playwright's own ({own}), not Debian's ({DEBIAN_CHROMIUM}), "
        f"and COURSE_CHROMIUM is {repr(named) if named else 'unset'}"
        + (" (not an executable file)" if named else "") + ".\n" + INSTALL_HELP
    )


# ----------------------------------------------------------------------------------------
# The book's configuration and pages


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        yield from _toc_files(entry.get("chapters", []) + entry.get("sections", []))
        for part in entry.get("parts", []):
            yield from _toc_files(part.get("chapters", []))


def toc_docnames() -> list[str]:
    """Every document in _toc.yml, root first, without suffix (e.g. 'book/intro')."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"], *_toc_files(toc.get("chapters", []) + toc.get("parts", []))]
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) for f in files]


def source_of(docname: str) -> Path | None:
    for suffix in (".ipynb", ".md", ".rst"):
        path = ROOT / (docname + suffix)
        if path.exists():
            return path
    return None


def notebook_docnames() -> list[str]:
    return [d for d in toc_docnames() if (src := source_of(d)) and src.suffix == ".ipynb"]


# Pages that are not in the table of contents but are part of the book's furniture.
EXTRA_PAGES = ["search", "genindex"]


def all_pages() -> list[str]:
    return toc_docnames() + EXTRA_PAGES


# ----------------------------------------------------------------------------------------
# Building


def jupyter_book_executable() -> str:
    candidate = Path(sys.executable).with_name("jupyter-book")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("jupyter-book")
    if not found:
        raise RuntimeError("jupyter-book is not installed: pip install -r requirements.txt")
    return found


@dataclass
class Build:
    html: Path
    seconds: float
    log: str = ""


def build_book(output_dir: Path) -> Build:
    """Build the whole book from an empty output folder, warnings as errors.

    Every chapter notebook is executed by this build (execute_notebooks: force).
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    assert not any(output_dir.iterdir()), f"{output_dir} should be empty"
    cmd = [
        jupyter_book_executable(), "build", str(ROOT), "--path-output", str(output_dir),
        "--all", "-W", "-n", "--keep-going",
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600,
        env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    )
    seconds = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise AssertionError(
            f"`{' '.join(cmd)}` failed (exit {proc.returncode}) after {seconds:.0f} s:\n"
            + log[-6000:]
        )
    return Build(html=output_dir / "_build" / "html", seconds=seconds, log=log)


# ----------------------------------------------------------------------------------------
# One page in the browser


@dataclass
class PageReport:
    """What happened while a page was open."""

    outside_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)


def open_page(browser, url: str, viewport: dict, *, mobile: bool = False):
    """Open url in a fresh offline context that aborts and records non-local requests.

    Returns (context, page, report); the caller closes the context.
    """
    context = browser.new_context(
        offline=True,
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=1,
        service_workers="block",
    )
    report = PageReport()

    def route(r):
        request_url = r.request.url
        if request_url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            report.outside_requests.append(request_url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda err: report.page_errors.append(str(err)))
    page.on(
        "console",
        lambda msg: report.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
        if msg.type == "error"
        else None,
    )
    page.on("websocket", lambda ws: report.outside_requests.append(ws.url))
    page.on(
        "requestfailed",
        lambda req: report.failed_local.append(f"{req.url}: {req.failure}")
        if req.url.startswith("file:")
        else None,
    )
    page.goto(url, wait_until="load")
    wait_until_rendered(page)
    return context, page, report


WAIT_FOR_MATH = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  if (mj && mj.typesetPromise) { await mj.typesetPromise(); }
  return true;
}"""

WIDGET_VIEWS = """() => {
  const views = Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  const rendered = views.filter(s => {
    const area = s.previousElementSibling;
    return area && area.classList.contains('widget-subarea')
        && area.querySelector('.jupyter-widgets')
        && area.getBoundingClientRect().height > 0;
  });
  return {views: views.length, rendered: rendered.length};
}"""


# The pages load the widget renderer, MathJax and the icons after first paint, one after
# another (book/_ext/phone_pages.py, book/assets/course.js): done when no placeholder is
# left and window.MathJax is MathJax itself, not only its configuration.
LATE_SCRIPTS_LOADED = """() => !document.querySelector('script[type="text/x-course-later"]')
    && (window.MathJax === undefined || window.MathJax.version !== undefined)"""


def wait_until_rendered(page, timeout_ms: int = 20_000) -> None:
    """Wait for the widget manager to render every view and for MathJax to finish."""
    for condition in (
        f"(() => {{ const r = ({WIDGET_VIEWS})(); return r.views === r.rendered; }})()",
        f"({LATE_SCRIPTS_LOADED})()",
    ):
        try:
            page.wait_for_function(condition, timeout=timeout_ms)
        except Exception:  # noqa: BLE001 - reported by the widget and math assertions
            pass
    page.evaluate(WAIT_FOR_MATH)
    # Figures below the fold load lazily; load them all now (the test looks at each),
    # and let the images set by JavaScript (widgets, animations) decode.
    page.evaluate(
        """() => Promise.all(Array.from(document.images).map(i => {
              if (i.loading === 'lazy') i.loading = 'eager';
              return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; });
            }))"""
    )


MATH_STATE = r"""() => {
  const mathEls = Array.from(document.querySelectorAll('.math'))
      .filter(e => !e.parentElement.closest('.math'));
  const untypeset = mathEls.filter(e => !e.querySelector('mjx-container'))
      .map(e => e.textContent.trim().slice(0, 80));
  const errors = Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
      .map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80));
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, kbd, samp, script, style, textarea, mjx-container, '
      + '.highlight, .cell_input').forEach(e => e.remove());
  const text = clone.textContent;
  const raw = [];
  const re = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{|\\[A-Za-z]{2,}/g;
  let m;
  while ((m = re.exec(text)) && raw.length < 10) {
    raw.push(text.slice(Math.max(0, m.index - 30), m.index + 40).replace(/\s+/g, ' '));
    re.lastIndex = m.index + 40;  // one report per stretch of text
  }
  return {math: mathEls.length, containers: document.querySelectorAll('mjx-container').length,
          untypeset, errors, raw};
}"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(i => i.getClientRects().length > 0)
  .filter(i => !i.complete || i.naturalWidth === 0)
  .map(i => (i.currentSrc || i.src || '(no src)').slice(0, 120))"""

HORIZONTAL_OVERFLOW = """() => {
  const doc = document.scrollingElement || document.documentElement;
  const width = window.innerWidth;
  const culprits = [];
  if (doc.scrollWidth > width + 1) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && r.width > 0 && getComputedStyle(el).position !== 'fixed') {
        culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
          + (el.className && typeof el.className === 'string'
             ? '.' + el.className.trim().split(/\\s+/).slice(0, 3).join('.') : '')
          + ' right=' + Math.round(r.right));
        if (culprits.length >= 8) break;
      }
    }
  }
  return {scrollWidth: doc.scrollWidth, width, culprits};
}"""


# ----------------------------------------------------------------------------------------
# Controls (explorers) and animations

# What the reader sees in a control's output: a content hash of every visible image in
# scope. Blob URLs (ipywidgets Image) are new on every re-render, so hash their bytes.
FINGERPRINT = """async (scope) => {
  const hash = (bytes) => { let h = 2166136261;
    for (let k = 0; k < bytes.length; k++) { h ^= bytes[k]; h = Math.imul(h, 16777619) >>> 0; }
    return bytes.length + ':' + h.toString(16); };
  const enc = new TextEncoder();
  const parts = [];
  for (const img of scope.querySelectorAll('img')) {
    if (img.getClientRects().length === 0) continue;
    if (getComputedStyle(img).visibility === 'hidden') continue;
    const src = img.currentSrc || img.src || '';
    if (src.startsWith('blob:')) {
      const buf = new Uint8Array(await (await fetch(src)).arrayBuffer());
      parts.push('blob ' + hash(buf));
    } else if (src.startsWith('data:')) {
      parts.push('data ' + hash(enc.encode(src)));
    } else {
      parts.push(src);
    }
  }
  return parts.join(' | ');
}"""

# Controls a reader can move, each with the output it belongs to (its scope).
FIND_CONTROLS = """() => {
  const controls = [];
  const scopeOf = (el) => el.closest('.cell_output') || el.closest('.widget-subarea')
      || el.closest('.animation') || el.closest('section') || document.body;
  const describe = (el) => {
    const box = el.closest('.widget-inline-hbox, .widget-hslider, .widget-vslider, '
        + '.widget-dropdown, .widget-toggle-buttons, .anim-controls');
    const label = box && box.querySelector('label, .widget-label');
    return (label && label.textContent.trim()) || el.getAttribute('aria-label')
        || el.getAttribute('title') || el.tagName.toLowerCase();
  };
  const add = (kind, el) => {
    if (el.getClientRects().length === 0) return;
    el.setAttribute('data-course-control', String(controls.length));
    const scope = scopeOf(el);
    if (!scope.hasAttribute('data-course-scope')) {
      scope.setAttribute('data-course-scope', String(controls.length));
    }
    controls.push({kind, index: controls.length, scope: scope.getAttribute('data-course-scope'),
                   name: describe(el)});
  };
  document.querySelectorAll('.noUi-handle').forEach(el => add('handle', el));
  document.querySelectorAll('input[type=range]').forEach(el => add('range', el));
  document.querySelectorAll('.jupyter-widgets select').forEach(el => add('select', el));
  document.querySelectorAll('.widget-toggle-buttons').forEach(el => add('toggles', el));
  return controls;
}"""

FIND_ANIMATIONS = """() => {
  const found = [];
  const add = (kind, el, scope) => {
    el.setAttribute('data-course-anim', String(found.length));
    scope.setAttribute('data-course-anim-scope', String(found.length));
    found.push({kind, index: found.length});
  };
  // matplotlib FuncAnimation.to_jshtml() players
  document.querySelectorAll('.animation').forEach(el => {
    if (el.querySelector('button[title="Play"]')) add('jshtml', el, el);
  });
  // ipywidgets Play
  document.querySelectorAll('.widget-play').forEach(el => {
    add('play', el, el.closest('.cell_output') || el.closest('.widget-subarea') || document.body);
  });
  return found;
}"""
