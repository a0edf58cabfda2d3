// Loaded on every page of the book (html_js_files in _config.yml), as a plain script in
// <head>: it runs before the theme's deferred scripts and before the widgets render.

// 0. The theme's Font Awesome (SVG + JS) replaces every <i class="fa ..."> with an <svg>,
//    also those that appear later. The ipywidgets Play button later looks up its <i> to
//    switch between play and pause icons, and throws when the <i> has become an <svg>.
//    Icons in the page itself are converted when the page is ready; widgets, rendered
//    after that, keep their <i> and draw it with the widget renderer's own (vendored)
//    Font Awesome font.
window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {
  observeMutations: false,
});

// 1. Read offline (opened from file://), the browser refuses fetch() of other local
//    files, which Sphinx's search uses only for the optional text snippet under each
//    result. Skip the snippets there: the results still show, and nothing fails.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}

// 2. The ipywidgets renderer typesets widget labels with the MathJax 2 call
//    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3,
//    which has no Hub, so every widget with a description would throw. Translate the call.
//    (MathJax is loaded with `defer`, so it is in place at DOMContentLoaded; the widgets
//    are rendered later, at the window's load event.)
document.addEventListener("DOMContentLoaded", function () {
  var mj = window.MathJax;
  if (!mj || mj.Hub || !mj.startup || !String(mj.version || "").startsWith("3")) {
    return;
  }
  mj.Hub = {
    Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        var element = Array.isArray(job) ? job[2] : null;
        if (element) {
          mj.startup.promise
            .then(function () { return mj.typesetPromise([element]); })
            .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
        }
      });
    },
  };
});
