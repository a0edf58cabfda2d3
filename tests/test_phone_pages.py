"""book/_ext/phone_pages.py: the rewrite that makes a built page paint fast on a phone.

The real pages are checked in a browser by tests/test_browser.py (offline, every control
alive) and timed by benchmarks/page_load.py; this checks the rewrite itself on a small
page shaped like myst-nb's output.
"""

import base64
import importlib.util
import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("phone_pages_under_test",
                                               ROOT / "book" / "_ext" / "phone_pages.py")
phone_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(phone_pages)


def png(width, height, value):
    out = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), value, np.uint8)).save(out, format="png")
    return out.getvalue()


def image_model(data):
    return {"model_name": "ImageModel", "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0",
            "state": {"_model_name": "ImageModel", "format": "png", "width": "", "height": ""},
            "buffers": [{"data": base64.b64encode(data).decode(), "encoding": "base64",
                         "path": ["value"]}]}


FRAMES = [png(30, 20, 0), png(30, 20, 255), png(30, 20, 0)]  # the first and last equal

STATE = {"version_major": 2, "version_minor": 0, "state": {
    "a": image_model(FRAMES[0]), "b": image_model(FRAMES[1]), "c": image_model(FRAMES[2]),
    "s": {"model_name": "HTMLModel", "state": {"value": "caption </b> with a tag"}}}}

PAGE = f"""<!DOCTYPE html><html><head>
<script defer src="../_static/scripts/fontawesome.js?digest=1"></script>
<script src="../_static/doctools.js?v=1"></script>
<script>window.MathJax = {{"options": {{}}}}</script>
<script defer="defer" src="../_static/mathjax/tex-svg-full.js?v=2"></script>
<script type="application/vnd.jupyter.widget-state+json">{json.dumps(STATE)}</script>
<script src="../_static/jupyter-widgets/embed.js?v=3"></script>
<script src="../_static/course.js?v=4"></script>
<script src="../_static/searchtools.js"></script>
<script src="../searchindex.js"></script>
</head><body><main>
<p>Text</p><img alt="fig" src="../_images/abc.png" />
<img src="../_static/images/logo_colab.png">
<script type="application/vnd.jupyter.widget-view+json">{{"model_id": "a"}}</script>
</main></body></html>"""


def rewrite(tmp_path):
    page = tmp_path / "book" / "chapter.html"
    page.parent.mkdir(exist_ok=True)
    page.write_text(PAGE)
    assert phone_pages.lighten_book(tmp_path) == 1
    return page, page.read_text()


def test_frames_become_files_named_by_content_with_urls_relative_to_the_page(tmp_path):
    page, html = rewrite(tmp_path)
    [state] = re.findall(r'widget-state\+json">(.*?)</script>', html, re.S)
    models = json.loads(state)["state"]
    files = sorted((tmp_path / phone_pages.FRAMES_DIR).iterdir())
    assert len(files) == 2  # three frames, two distinct pictures
    for name, frame in zip("abc", FRAMES):
        fields, [buffer] = models[name]["state"], models[name]["buffers"]
        assert fields["format"] == "url" and (fields["width"], fields["height"]) == ("30", "20")
        url = base64.b64decode(buffer["data"]).decode()
        assert url.startswith("../_frames/")
        assert (page.parent / url).resolve().read_bytes() == frame
    assert models["s"]["state"]["value"] == "caption </b> with a tag"
    assert "</b>" not in state  # escaped inside the <script>


def test_state_moves_to_the_end_of_the_body_and_big_scripts_wait(tmp_path):
    _, html = rewrite(tmp_path)
    head, body = html.split("</head>")
    assert "widget-state" not in head
    assert body.index("widget-state") > body.index("widget-view")
    assert re.search(r"</script>\s*</body></html>$", body)
    later = dict(re.findall(r'<script type="text/x-course-later" data-course-later="(\w+)" '
                            r'data-src="([^"]+)"></script>', head))
    assert later == {"icons": "../_static/scripts/fontawesome.js?digest=1",
                     "math": "../_static/mathjax/tex-svg-full.js?v=2"}
    # images and captions only: the course's own renderer, not embed.js
    assert "embed.js" not in html
    # last in the body, after the views and the state it renders
    assert re.search(r'widget-state\+json">.*</script>\n<script src="../_static/'
                     r'course-widgets\.js"></script>\n</body></html>$', body, re.S)
    assert '<script src="../_static/doctools.js?v=1"></script>' in head  # left alone
    assert '<script src="../_static/course.js?v=4"></script>' in head
    assert '<script defer src="../_static/searchtools.js"></script>' in head
    assert '<script defer src="../searchindex.js"></script>' in head


def test_output_figures_load_lazily_and_theme_images_do_not(tmp_path):
    _, html = rewrite(tmp_path)
    assert '<img loading="lazy" alt="fig" src="../_images/abc.png" />' in html
    assert '<img src="../_static/images/logo_colab.png">' in html


def test_a_rewritten_page_is_left_as_it_is_and_search_is_untouched(tmp_path):
    page, html = rewrite(tmp_path)
    assert phone_pages.lighten(html, page, tmp_path) == html
    search = tmp_path / "search.html"
    search.write_text(PAGE)
    assert phone_pages.lighten_book(tmp_path) == 0
    assert search.read_text() == PAGE


def test_a_page_without_widgets_only_gets_its_scripts_reordered(tmp_path):
    page = tmp_path / "intro.html"
    html = PAGE.replace(re.search(r"<script type=\"application/vnd.jupyter.widget-state"
                                  r"\+json\">.*?</script>\n", PAGE, re.S).group(0), "")
    out = phone_pages.lighten(html, page, tmp_path)
    assert "widget-state" not in out and 'data-course-later="math"' in out
    assert not (tmp_path / phone_pages.FRAMES_DIR).exists()


def test_each_frame_becomes_one_html_widget_and_the_stack_keeps_its_children(tmp_path):
    layout = {"model_name": "LayoutModel", "state": {"width": "100%", "max_width": "30px"}}
    caption = {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
               "state": {"_model_name": "HTMLModel", "_view_name": "HTMLView",
                         "value": "α = 0.1 &amp; more", "layout": "IPY_MODEL_plain"}}
    image = image_model(FRAMES[1])
    image["state"]["layout"] = "IPY_MODEL_wide"
    state = {"state": {
        "wide": layout, "plain": {"model_name": "LayoutModel", "state": {}},
        "img": image, "cap": caption,
        "frame": {"model_name": "VBoxModel",
                  "state": {"children": ["IPY_MODEL_img", "IPY_MODEL_cap"],
                            "layout": "IPY_MODEL_plain"}},
        "stack": {"model_name": "StackModel", "state": {"children": ["IPY_MODEL_frame"]}}}}
    page = tmp_path / "book" / "chapter.html"
    page.parent.mkdir(exist_ok=True)
    phone_pages.frames_to_files(state, page, tmp_path)
    assert phone_pages.merge_frames(state) == 1
    models = state["state"]
    assert "img" not in models and "cap" not in models
    assert models["stack"]["state"]["children"] == ["IPY_MODEL_frame"]
    frame = models["frame"]
    assert frame["model_name"] == "HTMLModel" and frame["state"]["_view_name"] == "HTMLView"
    value = frame["state"]["value"]
    src = re.search(r'<img class="course-frame" src="([^"]+)" width="30" height="20"', value)
    assert src and (page.parent / src.group(1)).resolve().read_bytes() == FRAMES[1]
    assert "max-width:30px" in value and value.endswith(
        '<div class="course-frame-caption">α = 0.1 &amp; more</div>')
    # an image used twice, or not yet a file, is left as it is
    assert phone_pages.merge_frames(state) == 0


def test_the_course_renderer_is_versioned_by_its_own_content(tmp_path):
    static = tmp_path / "_static"
    static.mkdir()
    (static / "course-widgets.js").write_text("// version one")
    _, first = rewrite(tmp_path)
    version = re.search(r'course-widgets\.js\?v=(\w+)"', first).group(1)
    (tmp_path / "book" / "chapter.html").unlink()
    (static / "course-widgets.js").write_text("// version two")
    _, second = rewrite(tmp_path)
    assert re.search(r'course-widgets\.js\?v=(\w+)"', second).group(1) != version
    assert "?v=3" not in first  # not embed.js's version


def test_a_page_with_a_widget_the_course_renderer_lacks_keeps_embed_js(tmp_path):
    state = json.loads(json.dumps(STATE))
    state["state"]["d"] = {"model_name": "DropdownModel", "state": {"_options_labels": ["x"]}}
    page = tmp_path / "chapter.html"
    html = phone_pages.lighten(PAGE.replace(json.dumps(STATE), json.dumps(state)), page, tmp_path)
    assert ('<script type="text/x-course-later" data-course-later="widgets" '
            'data-src="../_static/jupyter-widgets/embed.js?v=3"></script>') in html
    assert "course-widgets.js" not in html


def test_the_course_renderer_and_the_build_agree_on_what_it_renders():
    script = (ROOT / "book" / "assets" / "course-widgets.js").read_text()
    listed = re.search(r"var SUPPORTED = \[(.*?)\];", script, re.S).group(1)
    supported = set(re.findall(r'"(\w+Model)"', listed))
    assert supported == phone_pages.NATIVE_MODELS
    # and every one of them is either drawn by a view or needs none (links, layout, style)
    views = re.search(r"var VIEWS = \{(.*?)\};", script, re.S).group(1)
    drawn = set(re.findall(r"(\w+Model):", views))
    assert supported - drawn == {"LayoutModel", "DescriptionStyleModel", "SliderStyleModel",
                                 "HTMLStyleModel", "LabelStyleModel", "ProgressStyleModel",
                                 "LinkModel", "DirectionalLinkModel"}


def test_every_model_the_course_explorers_save_is_rendered_by_the_course_renderer():
    """An explorer's precomputed view (every explorer is a SliderFigures: one machinery)
    and an animation, as the book saves them, need nothing from embed.js."""
    import ipywidgets

    from optlib import SGD, Ravine
    from optlib import widgets as ow
    from optlib.animation import animate

    class Squares(ow.SliderFigures):
        def __init__(self):
            super().__init__({"shade": [0, 255], "size": [2, 4]}, labels={"shade": "grey"})

        def picture(self, values, colors=None):
            rgba = np.full((values["size"],) * 2 + (4,), values["shade"], np.uint8)
            return ow.png_bytes(rgba), f"grey {values['shade']}"

        def _image_width(self):
            return 4

    instances = ipywidgets.widgets.widget._instances  # every live widget, by model id
    before = set(instances)
    Squares().static_view()
    assert animate(Ravine(kappa=10), {"GD": SGD(lr=0.5)}, steps=4, frames=3).widget
    made = [w for key, w in instances.items() if key not in before]
    names = {w.get_state()["_model_name"] for w in made}
    assert {"SelectionSliderModel", "StackModel", "PlayModel", "LinkModel"} <= names
    assert names <= phone_pages.NATIVE_MODELS, names - phone_pages.NATIVE_MODELS
