"""How fast a chapter of the built book opens on a phone: first paint and live explorers.

Serves a built book (``_build/html``) over HTTP on 127.0.0.1, with gzip like any web host,
and opens each chapter in Chromium (Playwright) with Lighthouse's mobile profile applied
through the DevTools protocol: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, the CPU
slowed 4x, a 390 x 844 phone screen. Every page is opened in a fresh browser context
(an empty cache: a reader's first visit). For each chapter it prints:

* ``kB``: bytes transferred (compressed), the page and everything it loaded until the
  explorers were live;
* ``FCP``: first contentful paint, in seconds from the start of navigation;
* ``live``: when every ipywidgets view of the page was rendered and every picture it
  shows had arrived (the explorers can be used), in seconds; ``-`` for a page without
  widgets;
* ``math``: when MathJax had typeset the page, in seconds.

The course's goal on this profile: FCP <= 2.5 s and live <= 6 s on every chapter.

    .venv/bin/python benchmarks/page_load.py --html /tmp/build/_build/html
    .venv/bin/python benchmarks/page_load.py --html _build/html --pages book/momentum

Timings depend on the machine's load (the CPU slowdown is relative to the host): on a
shared machine, run twice and compare. The browser is Playwright's own when installed,
else /usr/bin/chromium, else the one named by COURSE_CHROMIUM.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import re
import socketserver
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from browser_support import find_chromium, notebook_docnames  # noqa: E402  (the tests' own)

RTT_MS = 150
DOWN_BYTES_PER_S = 1.6e6 / 8
UP_BYTES_PER_S = 750e3 / 8
CPU_SLOWDOWN = 4
PHONE = {"width": 390, "height": 844}
GOAL_FCP_S, GOAL_LIVE_S = 2.5, 6.0

COMPRESSIBLE = re.compile(r"\.(html|js|css|json|svg|txt|map|xml)$")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"]

# Runs in every page before its own scripts: records when every widget view has rendered
# and when MathJax has typeset the page, as performance.now() (ms since navigation).
PROBE = """
(() => {
  const views = () => Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  // live: the view is rendered, and every picture it shows has arrived and decoded
  const live = (s) => {
    const area = s.previousElementSibling;
    return area && area.classList.contains('widget-subarea')
        && area.querySelector('.jupyter-widgets') && area.getBoundingClientRect().height > 0
        && Array.from(area.querySelectorAll('img')).every(
            (img) => img.getClientRects().length === 0 || (img.complete && img.naturalWidth > 0));
  };
  const check = () => {
    if (document.readyState === 'loading') return;
    const all = views();
    if (window.__views === undefined) window.__views = all.length;
    if (window.__live === undefined && all.every(live)) window.__live = performance.now();
    const mj = window.MathJax;
    if (window.__math === undefined && mj && mj.startup && mj.startup.promise
        && !window.__mathWaiting) {
      window.__mathWaiting = true;
      mj.startup.promise.then(() => { window.__math = performance.now(); });
    }
    if (window.__live === undefined || window.__math === undefined) setTimeout(check, 25);
  };
  window.addEventListener('load', () => { window.__load = performance.now(); });
  document.addEventListener('DOMContentLoaded', () => { window.__dcl = performance.now(); });
  const embedder = setInterval(() => {
    if (window._jupyter_widget_embedder || window.CourseWidgets) {  // embed.js, or ours
      window.__renderer = performance.now();
      clearInterval(embedder);
    }
  }, 20);
  document.addEventListener('readystatechange', check);
  setTimeout(check, 25);
})();
"""


def chapter_pages() -> list[str]:
    """Every notebook page of _toc.yml, as docnames (e.g. 'book/momentum')."""
    return notebook_docnames()


def launch_options(pw) -> dict:
    """The Chromium the browser tests use (tests/browser_support.find_chromium)."""
    try:
        return find_chromium(pw)
    except FileNotFoundError as missing:
        raise SystemExit(str(missing)) from None


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzip-compressed (level 6, cached) when the client accepts it."""

    cache: dict = {}

    def log_message(self, *args):  # quiet
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and COMPRESSIBLE.search(path.name)):
            return super().send_head()
        key = (path, path.stat().st_mtime)
        if key not in self.cache:
            self.cache[key] = gzip.compress(path.read_bytes(), 6)
        body = self.cache[key]
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        import io

        return io.BytesIO(body)


def serve(directory: Path):
    """Start a gzip HTTP server for ``directory`` on 127.0.0.1 (a free port)."""
    handler = lambda *a, **kw: _GzipHandler(*a, directory=str(directory), **kw)  # noqa: E731
    class Server(socketserver.ThreadingTCPServer):
        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)  # a closed tab is no error

    server = Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(browser, url: str, timeout_s: float = 120, verbose: bool = False) -> dict:
    """Open ``url`` on the phone profile in a fresh context; return the timings."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=1.75, service_workers="block")
    try:
        page = context.new_page()
        page.add_init_script(PROBE)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": RTT_MS,
            "downloadThroughput": DOWN_BYTES_PER_S, "uploadThroughput": UP_BYTES_PER_S})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        requests, received = {}, []
        cdp.on("Network.requestWillBeSent",
               lambda e: requests.setdefault(e["requestId"], [e["request"]["url"], e["timestamp"]]))
        cdp.on("Network.loadingFinished", lambda e: received.append(
            (e["requestId"], e["encodedDataLength"], e["timestamp"])))
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.wait_for_function(
            "window.__views !== undefined && (window.__views === 0 || window.__live !== undefined)"
            " && window.__math !== undefined", timeout=timeout_s * 1000, polling=200)
        result = page.evaluate("""() => {
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return {fcp: fcp ? fcp.startTime : null, live: window.__live ?? null,
                  dcl: window.__dcl, load: window.__load, renderer: window.__renderer ?? null,
                  math: window.__math ?? null, views: window.__views};
        }""")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        result["bytes"] = sum(size for _, size, _ in received)
        if verbose:
            ms = {k: "-" if result[k] is None else f"{result[k]:.0f}"
                  for k in ("dcl", "renderer", "load")}
            print("    DOMContentLoaded {dcl} ms, renderer run {renderer} ms, "
                  "load {load} ms".format(**ms))
            first = min((t for _, t in requests.values()), default=0)
            for rid, size, end in sorted(received, key=lambda r: r[2]):
                url, begin = requests.get(rid, ["?", first])
                print(f"    {begin - first:6.2f} → {end - first:6.2f} s {size / 1e3:7.1f} kB "
                      f"{url.split('?')[0][-70:]}")
        return result
    finally:
        context.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html",
                        help="the built book (default: _build/html)")
    parser.add_argument("--pages", nargs="*", help="docnames (default: every chapter)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--verbose", action="store_true",
                        help="list every request: start, end (s), size")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").exists():
        raise SystemExit(f"{args.html}: no index.html; build the book first")
    pages = args.pages or chapter_pages()
    from playwright.sync_api import sync_playwright

    server = serve(args.html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"{args.html} served with gzip at {base}; profile: RTT {RTT_MS} ms, "
          f"{DOWN_BYTES_PER_S * 8 / 1e6:g} Mbit/s down, CPU / {CPU_SLOWDOWN}, "
          f"{PHONE['width']} x {PHONE['height']}")
    print(f"{'page':28} {'kB':>6} {'FCP s':>6} {'live s':>7} {'math s':>7} {'views':>5}")
    results, late = {}, []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(args=CHROMIUM_ARGS, **launch_options(pw))
        for name in pages:
            if not (args.html / f"{name}.html").exists():
                print(f"{name:28} (not in this build)")
                continue
            start = time.perf_counter()
            r = measure(browser, f"{base}/{name}.html", verbose=args.verbose)
            r = {"kB": r["bytes"] / 1e3, "fcp_s": r["fcp"] / 1e3 if r["fcp"] else None,
                 "live_s": r["live"] / 1e3 if r["views"] else None,
                 "math_s": r["math"] / 1e3, "views": r["views"],
                 "wall_s": time.perf_counter() - start}
            results[name] = r
            live = f"{r['live_s']:7.2f}" if r["live_s"] is not None else f"{'-':>7}"
            print(f"{name:28} {r['kB']:6.0f} {r['fcp_s']:6.2f} {live} {r['math_s']:7.2f} "
                  f"{r['views']:5d}", flush=True)
            if r["fcp_s"] > GOAL_FCP_S or (r["live_s"] or 0) > GOAL_LIVE_S:
                late.append(name)
        browser.close()
    server.shutdown()
    measured = len(results)
    print(f"goal FCP <= {GOAL_FCP_S} s, live <= {GOAL_LIVE_S} s: "
          + (f"missed on {len(late)} of {measured}: {', '.join(late)}" if late
             else f"met on all {measured} pages"))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
