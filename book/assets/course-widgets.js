// A small renderer for the course's own widgets, in the built book.
//
// The explorers and animations of the course are ipywidgets whose state is saved in the
// page (precomputed frames, sliders and Play buttons jslinked to Stacks of them). The
// general renderer, @jupyter-widgets/html-manager's embed.js, is 1.8 MB (457 kB
// compressed): on a phone on a slow network it took 5-10 s to arrive and start. The
// course uses a dozen widget types, and with no kernel they only ever do one thing: a
// control changes an index, and a link shows another precomputed picture. This file
// renders exactly those, as plain HTML (<input type="range">, <button>, <img>), in a few
// milliseconds.
//
// book/_ext/phone_pages.py decides per page, when the book is built: a page whose saved
// state holds only the models in SUPPORTED below gets this file (the last script of its
// <body>) instead of embed.js; any other page keeps embed.js. tests/test_phone_pages.py checks that the two
// lists agree, tests/test_browser.py that every control and animation works.
//
// What is rendered follows ipywidgets' own markup and class names (widget-subarea,
// jupyter-widgets, widget-hslider, widget-play ...), so the book's CSS and tests treat
// both renderers alike.

(function () {
  "use strict";

  var SUPPORTED = [
    "LayoutModel", "DescriptionStyleModel", "SliderStyleModel", "HTMLStyleModel",
    "LabelStyleModel", "VBoxModel", "HBoxModel", "BoxModel", "StackModel", "ImageModel",
    "HTMLModel", "HTMLMathModel", "LabelModel", "SelectionSliderModel", "IntSliderModel",
    "FloatSliderModel", "PlayModel", "LinkModel", "DirectionalLinkModel",
    "FloatProgressModel", "IntProgressModel", "ProgressStyleModel",
  ];
  var STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var PREFIX = "IPY_MODEL_";

  // ---- models: saved state, plus listeners told of every change ------------------------

  function Model(id, saved) {
    this.id = id;
    this.name = saved.model_name;
    this.state = Object.assign({}, saved.state || {});
    this.buffers = saved.buffers || [];
    this.listeners = [];
  }
  Model.prototype.get = function (name) { return this.state[name]; };
  Model.prototype.set = function (name, value) {
    if (this.state[name] === value) {
      return;
    }
    this.state[name] = value;
    this.listeners.forEach(function (listener) { listener(name, value); });
  };
  Model.prototype.on = function (listener) { this.listeners.push(listener); };

  function readModels() {
    var models = {};
    document.querySelectorAll(STATE).forEach(function (script) {
      var saved = JSON.parse(script.textContent).state || {};
      Object.keys(saved).forEach(function (id) { models[id] = new Model(id, saved[id]); });
    });
    return models;
  }

  function unsupported(models) {
    return Object.keys(models)
      .map(function (id) { return models[id].name; })
      .filter(function (name) { return SUPPORTED.indexOf(name) < 0; });
  }

  function ref(models, value) {
    if (typeof value === "string" && value.indexOf(PREFIX) === 0) {
      var model = models[value.slice(PREFIX.length)];
      if (!model) {
        throw new Error("course-widgets: no saved model " + value);
      }
      return model;
    }
    return null;
  }

  // ---- links: jslink (both ways) and jsdlink (source to target) -----------------------

  function connect(models) {
    Object.keys(models).forEach(function (id) {
      var link = models[id];
      if (link.name !== "LinkModel" && link.name !== "DirectionalLinkModel") {
        return;
      }
      var source = link.get("source"), target = link.get("target");
      var from = ref(models, source[0]), to = ref(models, target[0]);
      to.set(target[1], from.get(source[1]));
      from.on(function (name, value) { if (name === source[1]) { to.set(target[1], value); } });
      if (link.name === "LinkModel") {
        to.on(function (name, value) { if (name === target[1]) { from.set(source[1], value); } });
      }
    });
  }

  // ---- views ---------------------------------------------------------------------------

  function element(tag, classes) {
    var el = document.createElement(tag);
    if (classes) {
      el.className = classes;
    }
    return el;
  }

  // Layout traits are CSS properties with "_" for "-" (max_width -> max-width).
  function applyLayout(models, model, el) {
    var layout = ref(models, model.get("layout"));
    if (!layout) {
      return;
    }
    Object.keys(layout.state).forEach(function (key) {
      var value = layout.state[key];
      if (key.charAt(0) !== "_" && value !== null && value !== undefined && value !== "") {
        el.style.setProperty(key.replace(/_/g, "-"), String(value));
      }
    });
  }

  function applyStyle(models, model, el) {
    var style = ref(models, model.get("style"));
    if (!style) {
      return;
    }
    var s = style.state;
    if (s.description_width) {
      el.style.setProperty("--course-description-width", s.description_width);
    }
    if (s.font_size) { el.style.fontSize = s.font_size; }
    if (s.text_color) { el.style.color = s.text_color; }
    if (s.background) { el.style.background = s.background; }
  }

  var uid = 0;

  // A labelled control row: <label> description, the control, an optional readout.
  function labelled(models, model, classes, control, kind) {
    var row = element("div", "jupyter-widgets widget-inline-hbox " + classes);
    var label = element("label", "widget-label");
    var description = model.get("description") || "";
    label.textContent = description;
    label.title = description;
    control.id = "course-widget-" + (++uid);
    label.htmlFor = control.id;
    if (!description) {
      label.style.display = "none";
      control.setAttribute("aria-label", model.get("tooltip") || kind);
    }
    row.appendChild(label);
    row.appendChild(control);
    applyLayout(models, model, row);
    applyStyle(models, model, row);
    return row;
  }

  function slider(models, model) {
    var selection = model.name === "SelectionSliderModel";
    var input = element("input", "course-range");
    input.type = "range";
    var labels = selection ? model.get("_options_labels") : null;
    var key = selection ? "index" : "value";
    input.min = selection ? 0 : model.get("min");
    input.max = selection ? labels.length - 1 : model.get("max");
    input.step = selection ? 1 : model.get("step");
    input.disabled = !!model.get("disabled");
    var row = labelled(models, model, "widget-slider widget-hslider", input, "slider");
    var readout = element("div", "widget-readout");
    if (model.get("readout") === false) {
      readout.style.display = "none";
    }
    row.appendChild(readout);
    function show() {
      var value = model.get(key);
      var text = selection ? labels[value] : String(value);
      input.value = String(value);
      input.setAttribute("aria-valuetext", text);
      readout.textContent = text;
    }
    input.addEventListener("input", function () { model.set(key, Number(input.value)); });
    model.on(function (name) { if (name === key) { show(); } });
    show();
    return row;
  }

  // ipywidgets' Play: play, pause and stop buttons stepping `value` every `interval` ms.
  function play(models, model) {
    var row = element("div", "jupyter-widgets widget-inline-hbox widget-play");
    var buttons = {};
    [["play", "Play", "\u25B6"], ["pause", "Pause", "\u275A\u275A"], ["stop", "Stop", "\u25A0"]]
      .forEach(function (b) {
        var button = element("button", "jupyter-button course-play-" + b[0]);
        button.type = "button";
        button.title = b[1];
        button.setAttribute("aria-label", b[1] + (model.get("description") ? " " + model.get("description") : ""));
        button.textContent = b[2];
        button.disabled = !!model.get("disabled");
        row.appendChild(button);
        buttons[b[0]] = button;
      });
    var timer = null;
    function halt() {
      if (timer !== null) {
        clearInterval(timer);
        timer = null;
      }
      row.classList.remove("course-playing");
    }
    function tick() {
      var next = model.get("value") + (model.get("step") || 1);
      if (next > model.get("max")) {
        if (model.get("repeat") || model.get("_repeat")) {
          next = model.get("min");
        } else {
          halt();
          return;
        }
      }
      model.set("value", next);
    }
    buttons.play.addEventListener("click", function () {
      if (timer !== null) {
        return;
      }
      if (model.get("value") >= model.get("max")) {
        model.set("value", model.get("min"));
      }
      row.classList.add("course-playing");
      timer = setInterval(tick, model.get("interval") || 100);
    });
    buttons.pause.addEventListener("click", halt);
    buttons.stop.addEventListener("click", function () {
      halt();
      model.set("value", model.get("min"));
    });
    applyLayout(models, model, row);
    return row;
  }

  // A progress bar (the saved state of optlib.train's bar: how far the run got).
  function progress(models, model) {
    var bar = element("progress", "course-progress");
    var row = labelled(models, model, "widget-progress widget-hprogress", bar, "progress");
    function show() {
      var low = model.get("min") || 0;
      bar.max = Math.max(model.get("max") - low, 1e-12);
      bar.value = Math.min(Math.max(model.get("value") - low, 0), bar.max);
    }
    model.on(function (name) { if (["value", "min", "max"].indexOf(name) >= 0) { show(); } });
    show();
    return row;
  }

  function image(models, model) {
    var img = element("img", "jupyter-widgets widget-image");
    var buffer = model.buffers.filter(function (b) { return b.path && b.path[0] === "value"; })[0];
    var format = model.get("format") || "png";
    if (buffer && format === "url") {
      img.src = atob(buffer.data);
    } else if (buffer) {
      img.src = "data:image/" + (format === "svg" ? "svg+xml" : format) + ";base64," + buffer.data;
    }
    ["width", "height"].forEach(function (side) {
      if (model.get(side)) { img.setAttribute(side, model.get(side)); }
    });
    img.alt = "";
    applyLayout(models, model, img);
    if (!img.style.height) {
      img.style.height = "auto";
    }
    return img;
  }

  function html(models, model) {
    var box = element("div", "jupyter-widgets widget-inline-hbox widget-html");
    var content = element("div", "widget-html-content");
    function show() {
      if (model.name === "LabelModel") {
        content.textContent = model.get("value") || "";
      } else {
        content.innerHTML = model.get("value") || "";
      }
    }
    show();
    box.appendChild(content);
    applyLayout(models, model, box);
    applyStyle(models, model, box);
    model.on(function (name) {
      if (name === "value") {
        show();
        typeset(content);
      }
    });
    return box;
  }

  function box(models, model) {
    var kind = { VBoxModel: "widget-vbox", HBoxModel: "widget-hbox", BoxModel: "widget-box" };
    var el = element("div", "jupyter-widgets widget-container widget-box " + kind[model.name]);
    (model.get("children") || []).forEach(function (child) {
      el.appendChild(view(models, ref(models, child)));
    });
    applyLayout(models, model, el);
    return el;
  }

  // Only the selected child is shown, and each child is built the first time it is
  // selected: a reader's browser fetches the frames actually looked at.
  function stack(models, model) {
    var el = element("div", "jupyter-widgets widget-container widget-box widget-stack");
    var children = model.get("children") || [];
    var built = {};
    var shown = null;
    function show() {
      var index = model.get("selected_index");
      if (shown !== null) {
        shown.style.display = "none";
        shown = null;
      }
      if (index === null || index === undefined || !children[index]) {
        return;
      }
      if (!built[index]) {
        built[index] = view(models, ref(models, children[index]));
        el.appendChild(built[index]);
        typeset(built[index]);
      }
      shown = built[index];
      shown.style.display = "";
    }
    model.on(function (name) { if (name === "selected_index") { show(); } });
    show();
    applyLayout(models, model, el);
    return el;
  }

  var VIEWS = {
    VBoxModel: box, HBoxModel: box, BoxModel: box, StackModel: stack, ImageModel: image,
    HTMLModel: html, HTMLMathModel: html, LabelModel: html, SelectionSliderModel: slider,
    IntSliderModel: slider, FloatSliderModel: slider, PlayModel: play,
    FloatProgressModel: progress, IntProgressModel: progress,
  };

  function view(models, model) {
    var make = VIEWS[model.name];
    if (!make) {
      throw new Error("course-widgets: " + model.name + " cannot be displayed");
    }
    return make(models, model);
  }

  // Widget text shown after MathJax has typeset the page (a frame built later).
  function typeset(el) {
    var mj = window.MathJax;
    if (mj && mj.typesetPromise && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(function () { return mj.typesetPromise([el]); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget", err); });
    }
  }

  // ---- the page --------------------------------------------------------------------------

  function renderPage() {
    var models = readModels();
    var missing = unsupported(models);
    if (missing.length) {
      throw new Error("course-widgets: this page needs embed.js for " + missing.join(", "));
    }
    connect(models);
    document.querySelectorAll(VIEW).forEach(function (script) {
      var model = models[JSON.parse(script.textContent).model_id];
      if (!model) {
        return;  // a view whose state was not saved: nothing to show (as embed.js)
      }
      var area = element("div", "widget-subarea course-widgets");
      area.appendChild(view(models, model));
      script.parentNode.insertBefore(area, script);
    });
  }

  // Done: course.js then loads MathJax (see its part 3).
  function renderAndTell() {
    try {
      renderPage();
    } finally {
      window.CourseWidgets.rendered = true;
      document.dispatchEvent(new Event("course-widgets-rendered"));
    }
  }

  window.CourseWidgets = { SUPPORTED: SUPPORTED, renderPage: renderPage, rendered: false };

  // book/_ext/phone_pages.py puts this script last in <body>, after every view and the
  // saved state: render now, without waiting for the deferred scripts of <head> (the
  // search index ...), which hold back DOMContentLoaded. Anywhere else, wait for it.
  var here = document.currentScript;
  if (document.readyState !== "loading" || (here && here.closest("body"))) {
    renderAndTell();
  } else {
    document.addEventListener("DOMContentLoaded", renderAndTell);
  }
})();
