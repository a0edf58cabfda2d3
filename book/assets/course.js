// Loaded on every page of the book (html_js_files in _config.yml), as a plain script in
// <head>: it runs before the theme's deferred scripts and before the widgets render.

// 0. The theme's Font Awesome (SVG + JS) replaces every <i class="fa ..."> with an <svg>,
//    also those that appear later. The ipywidgets Play button later looks up its <i> to
//    switch between play and pause icons, and throws when the <i> has become an <svg>.
//    Icons in the page itself are converted; widgets keep their <i> and draw it with the
//    widget renderer's own (vendored) Font Awesome font (see 3 for pages where the icons
//    load after the widgets).
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
//    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]) whenever window.MathJax exists;
//    the book loads MathJax 3, which has no Hub, and window.MathJax is first only
//    Sphinx's configuration object. Give every object that becomes window.MathJax (the
//    configuration, then MathJax 3 itself) a Hub whose Queue typesets with MathJax 3 once
//    it has started; before that there is nothing to do (MathJax typesets the whole page
//    when it starts).
(function () {
  var hub = {
    Queue: function () {
      var mj = window.MathJax;
      Array.prototype.forEach.call(arguments, function (job) {
        var element = Array.isArray(job) ? job[2] : null;
        if (element && mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
          mj.startup.promise
            .then(function () { return mj.typesetPromise([element]); })
            .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
        }
      });
    },
  };
  var current = window.MathJax;
  function withHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      value.Hub = hub;
    }
    return value;
  }
  withHub(current);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();

// 3. Big scripts after first paint, one at a time, in order of need (the pages are
//    rewritten so by book/_ext/phone_pages.py; on a phone, all of them at once took 15 s
//    before anything showed). Their tags are <script type="text/x-course-later"
//    data-course-later="GROUP" data-src="URL">:
//    - "widgets", the ipywidgets renderer, loaded from the first paint on (after the
//      page's stylesheets), so that it arrives before the window's load event, when it
//      renders (a script being loaded holds the load event back). Only pages with a
//      widget the course's own renderer lacks have it: the others get course-widgets.js
//      (deferred, it renders when the page is parsed) and no "widgets" group;
//    - "math", MathJax, once every explorer on the page has rendered;
//    - "icons", the theme's Font Awesome, last; it converts the icons of the page, not
//      those inside widgets (see 0).
(function () {
  var LATER = 'script[type="text/x-course-later"]';

  function group(name) {
    return Array.prototype.slice.call(
      document.querySelectorAll(LATER + '[data-course-later="' + name + '"]'));
  }

  function load(placeholder) {
    return new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = placeholder.getAttribute("data-src");
      script.async = false;
      script.onload = script.onerror = function () { resolve(); };  // never stop the rest
      placeholder.parentNode.replaceChild(script, placeholder);
    });
  }

  function loadAll(placeholders) {
    return placeholders.reduce(function (done, placeholder) {
      return done.then(function () { return load(placeholder); });
    }, Promise.resolve());
  }

  function widgetsRendered() {
    var views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    return Array.prototype.every.call(views, function (view) {
      var area = view.previousElementSibling;
      return area && area.classList.contains("widget-subarea") && area.querySelector(".jupyter-widgets");
    });
  }

  function whenWidgetsRendered(patienceMs) {
    var start = Date.now();
    return new Promise(function (resolve) {
      (function check() {
        if (widgetsRendered() || Date.now() - start > patienceMs) {
          resolve();
        } else {
          setTimeout(check, 100);
        }
      })();
    });
  }

  function courseWidgetsRendered() {
    return new Promise(function (resolve) {
      if (window.CourseWidgets && window.CourseWidgets.rendered) {
        resolve();
      } else {
        document.addEventListener("course-widgets-rendered", function () { resolve(); });
      }
    });
  }

  function windowLoaded() {
    return new Promise(function (resolve) {
      if (document.readyState === "complete") {
        resolve();
      } else {
        window.addEventListener("load", function () { resolve(); });
      }
    });
  }

  function drawPageIcons() {
    var fa = window.FontAwesome;
    if (!fa || !fa.dom || !fa.dom.i2svg) {
      return;
    }
    var parents = [];
    document.querySelectorAll('i[class*="fa-"], span[class*="fa-"]').forEach(function (icon) {
      var parent = icon.parentElement;
      if (parent && !icon.closest(".jupyter-widgets, .widget-subarea") && parents.indexOf(parent) < 0) {
        parents.push(parent);
      }
    });
    parents.forEach(function (node) { fa.dom.i2svg({ node: node }); });
  }

  // The renderer's download starts at first paint (or at DOMContentLoaded, if that
  // comes first): before it, the page's stylesheets have the pipe to themselves.
  function afterFirstPaint(callback) {
    var called = false;
    function once() {
      if (!called) {
        called = true;
        callback();
      }
    }
    try {
      new PerformanceObserver(function (list) {
        if (list.getEntriesByName("first-contentful-paint").length) {
          once();
        }
      }).observe({ type: "paint", buffered: true });
    } catch (err) {
      // no paint timing in this browser: DOMContentLoaded below
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", once);
    } else {
      once();
    }
  }

  function start() {
    if (!document.querySelector(LATER)) {
      return;
    }
    // embed.js renders at the window's load event; course-widgets.js (no "widgets"
    // group) renders when the parser reaches the end of the page and says so, and
    // MathJax need not wait for every image and font of the page.
    var embedded = group("widgets");
    var rendered = embedded.length
      ? Promise.all([loadAll(embedded), windowLoaded()])
      : Promise.race([courseWidgetsRendered(), windowLoaded()]);
    rendered
      .then(function () { return whenWidgetsRendered(10000); })
      .then(function () { return loadAll(group("math")); })
      .then(function () {
        // Loaded now, Font Awesome would convert the widgets' icons too: convert by hand.
        window.FontAwesomeConfig.autoReplaceSvg = false;
        return loadAll(group("icons"));
      })
      .then(drawPageIcons);
  }

  afterFirstPaint(start);
})();
