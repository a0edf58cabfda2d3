"""The rendered book, tested in a real browser with the network cut.

The book is built from an empty folder inside this test session (every chapter notebook
is executed by that build), then every page is opened from file:// in Debian's Chromium,
driven by Playwright, in an offline browser context whose every non-local request is
aborted and recorded. For every page:

- no request to another host (MathJax, the widget renderer, fonts and icons are local);
- no JavaScript error, no console error, no local file missing;
- math typeset: every math element holds an ``mjx-container``, no MathJax error, and no
  raw TeX (``\\(``, ``$$``, ``\\begin``, ``\\alpha`` ...) left in the prose;
- every ipywidgets view rendered, every visible image loaded;
- readable at phone width: no horizontal scrolling of the page;
- full-page screenshots at desktop and phone width in ``screenshots/`` (repo root).

Explorers and animations: every slider, dropdown and toggle-button group on every page
must change the image shown in its output when moved ("dead control" otherwise), and
every animation must advance when played. The search page must find the book's words,
and every notebook page must carry Binder, JupyterHub and Colab launch links built from
``repository`` in _config.yml.

Needs playwright (requirements.txt) and a Chromium: Playwright's own, else /usr/bin/chromium
(apt package ``chromium``), else $COURSE_CHROMIUM (browser_support.find_chromium).
Missing either is a failure with instructions, not a skip. Reuse an existing build for
quick iteration on this file with COURSE_BOOK_HTML=_build/html (never set in CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_support import (
    BROKEN_IMAGES,
    CHROMIUM_ARGS,
    DESKTOP,
    FIND_ANIMATIONS,
    FIND_CONTROLS,
    FINGERPRINT,
    HORIZONTAL_OVERFLOW,
    INSTALL_HELP,
    MATH_STATE,
    PHONE,
    SCREENSHOTS,
    WIDGET_VIEWS,
    all_pages,
    book_config,
    build_book,
    find_chromium,
    notebook_docnames,
    open_page,
    source_of,
    toc_docnames,
    wait_until_rendered,
)

PAGES = all_pages()


# ----------------------------------------------------------------------------------------
# Fixtures: one build and one browser for the whole session


@pytest.fixture(scope="session")
def book_html(tmp_path_factory) -> Path:
    reuse = os.environ.get("COURSE_BOOK_HTML")
    if reuse:
        html = Path(reuse).resolve()
        assert (html / "index.html").exists(), f"COURSE_BOOK_HTML={reuse}: no index.html there"
        return html
    build = build_book(tmp_path_factory.mktemp("book-build"))
    print(f"\nbook built from empty in {build.seconds:.1f} s -> {build.html}")
    return build.html


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed.\n" + INSTALL_HELP, pytrace=False)
    with sync_playwright() as pw:
        try:
            where = find_chromium(pw)
        except FileNotFoundError as missing:
            pytest.fail(str(missing), pytrace=False)
        chromium = pw.chromium.launch(args=CHROMIUM_ARGS, **where)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """screenshots/ at the repo root (gitignored), emptied once per session."""
    for sub in ("desktop", "phone"):
        shutil.rmtree(SCREENSHOTS / sub, ignore_errors=True)
        (SCREENSHOTS / sub).mkdir(parents=True)
    return SCREENSHOTS


def page_file(book_html: Path, docname: str) -> Path:
    path = book_html / f"{docname}.html"
    assert path.exists(), f"{docname}.html is missing from the built book"
    return path


def shot_name(docname: str) -> str:
    return docname.replace("/", "__") + ".png"


# ----------------------------------------------------------------------------------------
# Every page


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders_offline(book_html, browser, screenshot_dir, docname):
    url = page_file(book_html, docname).as_uri()
    context, page, report = open_page(browser, url, DESKTOP)
    try:
        math = page.evaluate(MATH_STATE)
        widgets = page.evaluate(WIDGET_VIEWS)
        broken = page.evaluate(BROKEN_IMAGES)
        page.screenshot(path=screenshot_dir / "desktop" / shot_name(docname), full_page=True)
    finally:
        context.close()

    problems = []
    if report.outside_requests:
        outside = sorted(set(report.outside_requests))
        problems.append(f"requests to other hosts (blocked): {outside}")
    if report.page_errors:
        problems.append(f"JavaScript errors: {report.page_errors}")
    if report.console_errors:
        problems.append(f"console errors: {report.console_errors}")
    if report.failed_local:
        problems.append(f"local files that failed to load: {report.failed_local}")
    if math["untypeset"]:
        untypeset = math["untypeset"]
        problems.append(f"{len(untypeset)} math elements not typeset: {untypeset[:5]}")
    if math["math"] and not math["containers"]:
        problems.append(f"{math['math']} math elements but no mjx-container: MathJax did not run")
    if math["errors"]:
        problems.append(f"MathJax errors: {math['errors'][:5]}")
    if math["raw"]:
        problems.append(f"raw TeX in the text: {math['raw']}")
    if widgets["rendered"] != widgets["views"]:
        problems.append(
            f"only {widgets['rendered']} of {widgets['views']} widget views rendered"
        )
    if broken:
        problems.append(f"images that did not load: {broken}")
    assert not problems, f"{docname}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("docname", PAGES)
def test_page_fits_a_phone(book_html, browser, screenshot_dir, docname):
    url = page_file(book_html, docname).as_uri()
    context, page, report = open_page(browser, url, PHONE, mobile=True)
    try:
        overflow = page.evaluate(HORIZONTAL_OVERFLOW)
        page.screenshot(path=screenshot_dir / "phone" / shot_name(docname), full_page=True)
    finally:
        context.close()
    assert not report.page_errors, f"JavaScript errors at phone width: {report.page_errors}"
    assert overflow["scrollWidth"] <= overflow["width"] + 1, (
        f"{docname} scrolls sideways on a {PHONE['width']} px wide phone: the page is "
        f"{overflow['scrollWidth']} px wide; widest elements: {overflow['culprits']}"
    )


# ----------------------------------------------------------------------------------------
# Explorers: every control changes the picture; every animation advances


def _move(page, control) -> list[str]:
    """Move one control through its range; return the fingerprints seen on the way."""
    selector = f"[data-course-control='{control['index']}']"
    scope = page.locator(f"[data-course-scope='{control['scope']}']")
    element = page.locator(selector)

    def fingerprint():
        page.wait_for_timeout(150)  # let the view re-render and the image decode
        return scope.evaluate(FINGERPRINT)

    seen = [fingerprint()]
    kind = control["kind"]
    if kind in ("handle", "range"):
        for key in ("Home", "End", "Home", "ArrowRight"):
            element.focus()
            page.keyboard.press(key)
            seen.append(fingerprint())
    elif kind == "select":
        options = element.evaluate("el => Array.from(el.options).map(o => o.value)")
        for value in options:
            element.select_option(value)
            seen.append(fingerprint())
    elif kind == "toggles":
        buttons = element.locator("button")
        for i in range(buttons.count()):
            buttons.nth(i).click()
            seen.append(fingerprint())
    return seen


@pytest.mark.parametrize("docname", PAGES)
def test_every_control_changes_the_picture(book_html, browser, docname):
    url = page_file(book_html, docname).as_uri()
    context, page, report = open_page(browser, url, DESKTOP)
    try:
        # animations first paused, so that only the control can change the picture
        for anim in page.evaluate(FIND_ANIMATIONS):
            root = page.locator(f"[data-course-anim='{anim['index']}']")
            pause = root.locator("button[title='Pause']")
            if pause.count():
                pause.first.click()
        dead = []
        controls = page.evaluate(FIND_CONTROLS)
        for control in controls:
            seen = _move(page, control)
            if not seen[0]:
                dead.append(f"{control['kind']} '{control['name']}': no image in its output")
            elif len(set(seen)) < 2:
                dead.append(f"{control['kind']} '{control['name']}': the image never changes")
    finally:
        context.close()
    assert not report.page_errors, f"JavaScript errors while moving controls: {report.page_errors}"
    assert not dead, (
        f"dead controls on {docname} (a control in the static book must change what the "
        f"reader sees: jslink it to a Stack of precomputed images):\n  " + "\n  ".join(dead)
    )


@pytest.mark.parametrize("docname", PAGES)
def test_every_animation_advances(book_html, browser, docname):
    url = page_file(book_html, docname).as_uri()
    context, page, report = open_page(browser, url, DESKTOP)
    stuck = []
    try:
        # On a busy machine the widget manager can take longer than open_page waits to
        # render a page of animations (each frame is an image); play only once it has.
        wait_until_rendered(page, timeout_ms=90_000)
        views = page.evaluate(WIDGET_VIEWS)
        assert views["views"] == views["rendered"], f"widgets on {docname} not rendered: {views}"
        for anim in page.evaluate(FIND_ANIMATIONS):
            scope = page.locator(f"[data-course-anim-scope='{anim['index']}']")
            root = page.locator(f"[data-course-anim='{anim['index']}']")
            before = scope.evaluate(FINGERPRINT)
            if anim["kind"] == "jshtml":
                root.locator("button[title='Play']").first.click()
            else:
                root.locator("button").first.click()  # ipywidgets Play: the play button
            changed = False
            deadline = time.monotonic() + 15  # frames come every 120 ms
            while time.monotonic() < deadline and not changed:
                page.wait_for_timeout(200)
                changed = scope.evaluate(FINGERPRINT) != before
            if not changed:  # say whether the slider moved (the link) or not (the timer)
                slider = scope.evaluate(
                    "s => [...s.querySelectorAll('.noUi-handle')]"
                    ".map(h => h.getAttribute('aria-valuenow'))")
                stuck.append(f"{anim['kind']} animation #{anim['index']} (slider at {slider}, "
                             f"pictures {before!r})")
    finally:
        context.close()
    assert not report.page_errors, f"JavaScript errors while playing: {report.page_errors}"
    assert not stuck, f"animations on {docname} that do not advance when played: {stuck}"


# ----------------------------------------------------------------------------------------
# Book furniture: search, launch buttons


def _search_term() -> str:
    """A word of the root page's title: the search must find it."""
    root = source_of(toc_docnames()[0])
    title = next(
        line.lstrip("# ").strip() for line in root.read_text().splitlines() if line.startswith("# ")
    )
    return max(re.findall(r"[A-Za-z]{4,}", title), key=len)


def test_search_works_offline(book_html, browser, screenshot_dir):
    term = _search_term()
    root_page = page_file(book_html, toc_docnames()[0]).as_uri()
    context, page, report = open_page(browser, root_page, DESKTOP)
    try:
        # the theme's search box: Ctrl+K, type, Enter -> search.html?q=...
        page.keyboard.press("Control+k")
        box = page.locator("#pst-search-dialog input[name=q]")
        box.wait_for(state="visible", timeout=5000)
        box.fill(term)
        with page.expect_navigation():
            box.press("Enter")
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=15_000)
        count = results.count()
        first_href = results.first.locator("a").first.get_attribute("href")
        first_title = results.first.locator("a").first.inner_text()
        summary = page.locator("#search-results .search-summary").inner_text()
        landed = page.url
        page.screenshot(path=screenshot_dir / "desktop" / "search-results.png", full_page=True)
    finally:
        context.close()
    assert "search.html" in landed, f"the search box led to {landed}, not search.html"
    assert count > 0, f"search for {term!r} found nothing: {summary}"
    target = (book_html / first_href.split("#")[0]).resolve()
    assert target.exists(), f"search result {first_title!r} links to a missing page {first_href}"
    assert not report.page_errors and not report.console_errors, (
        f"errors while searching: {report.page_errors + report.console_errors}"
    )
    assert not report.outside_requests, f"search made outside requests: {report.outside_requests}"


def _launch_links(book_html: Path, docname: str) -> dict[str, str]:
    html = page_file(book_html, docname).read_text()
    return {
        name: m.group(1)
        for name, pattern in {
            "binder": r'href="(https://mybinder\.org/v2/gh/[^"]+)"',
            "jupyterhub": r'href="([^"]+/hub/user-redirect/git-pull\?[^"]+)"',
            "colab": r'href="(https://colab\.research\.google\.com/github/[^"]+)"',
        }.items()
        if (m := re.search(pattern, html.replace("&amp;", "&")))
    }


@pytest.mark.parametrize("docname", notebook_docnames())
def test_notebook_pages_have_launch_buttons(book_html, docname):
    config = book_config()
    repo = config["repository"]["url"].rstrip("/")
    branch = config["repository"].get("branch", "main")
    owner_name = repo.split("github.com/")[1]
    nb_path = f"{docname}.ipynb"
    links = _launch_links(book_html, docname)
    assert set(links) == {"binder", "jupyterhub", "colab"}, f"launch links found: {links}"
    launch = config["launch_buttons"]
    assert links["binder"].startswith(f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner_name}/")
    assert nb_path in links["binder"]
    assert links["colab"] == (
        f"{launch['colab_url'].rstrip('/')}/github/{owner_name}/blob/{branch}/{nb_path}"
    )
    hub = urlsplit(links["jupyterhub"])
    assert links["jupyterhub"].startswith(launch["jupyterhub_url"].rstrip("/") + "/hub/")
    query = parse_qs(hub.query)
    assert query["repo"] == [repo] and query["branch"] == [branch], query
    assert query["urlpath"][0].endswith(nb_path), query


# ----------------------------------------------------------------------------------------
# The set-up cell that makes a notebook run on Colab/Binder (no browser needed)

SETUP_MARKER = 'find_spec("optlib")'


def setup_cell_source() -> str:
    """The first code cell every chapter notebook starts with (see CONTRIBUTING.md)."""
    config = book_config()
    url = config["repository"]["url"].rstrip("/")
    branch = config["repository"].get("branch", "main")
    return (
        "# Set-up for Colab and Binder: installs optlib when it is missing;\n"
        "# does nothing where optlib is installed (a clone set up as in the README).\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("optlib") is None:\n'
        f'    %pip install --quiet "optlib @ git+{url}@{branch}"\n'
        "    importlib.invalidate_caches()"
    )


@pytest.mark.parametrize("docname", notebook_docnames())
def test_notebook_starts_with_the_setup_cell(docname):
    nb = json.loads(source_of(docname).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{docname} has no code cell"
    first = "".join(code[0]["source"])
    config = book_config()
    url = config["repository"]["url"].rstrip("/")
    branch = config["repository"].get("branch", "main")
    required = [
        'if importlib.util.find_spec("optlib") is None:',
        f'%pip install --quiet "optlib @ git+{url}@{branch}"',
    ]
    assert all(line in first for line in required), (
        f"{docname}.ipynb: the first code cell must be the Colab/Binder set-up cell "
        f"(CONTRIBUTING.md, 'Chapter notebooks'), with the repository URL and branch of "
        f"_config.yml:\n{setup_cell_source()}\n--- found:\n{first[:600]}"
    )
