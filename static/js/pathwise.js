/* Pathwise: media events for the lesson player and drag-and-drop reordering in the studio. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Lesson player: resume at the last position; report played/paused/seeked/progressed. */
  function setUpMedia(lesson) {
    var url = lesson.getAttribute("data-events-url");
    var preview = lesson.hasAttribute("data-preview");
    lesson.querySelectorAll("video[data-block], audio[data-block]").forEach(function (media) {
      var block = parseInt(media.getAttribute("data-block"), 10);
      var resume = parseFloat(media.getAttribute("data-resume") || "0") || 0;
      var resuming = false;
      var lastReport = 0;

      function send(verb) {
        if (preview) { return; }
        var position = Math.max(0, Math.round(media.currentTime * 10) / 10);
        if (!isFinite(position)) { return; }
        fetch(url, {
          method: "POST",
          credentials: "same-origin",
          keepalive: true,
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ verb: verb, position_seconds: position, block: block })
        }).then(function (response) {
          media.setAttribute("data-last-event", verb + ":" + response.status);
        }).catch(function () { /* offline: the next event will carry the position */ });
      }

      function applyResume() {
        if (resume > 0 && (!media.duration || resume < media.duration)) {
          resuming = true;
          media.currentTime = resume;
        }
        media.setAttribute("data-ready", "1");
      }
      if (media.readyState >= 1) { applyResume(); }
      else { media.addEventListener("loadedmetadata", applyResume, { once: true }); }

      media.addEventListener("play", function () { lastReport = Date.now(); send("played"); });
      media.addEventListener("pause", function () { if (!media.ended) { send("paused"); } });
      media.addEventListener("seeked", function () {
        if (resuming) { resuming = false; return; }
        send("seeked");
      });
      /* The end is a "progressed" at the last second: a "completed" event completes the lesson. */
      media.addEventListener("ended", function () { send("progressed"); });
      media.addEventListener("timeupdate", function () {
        var now = Date.now();
        if (!media.paused && now - lastReport > 15000) { lastReport = now; send("progressed"); }
      });
    });
  }

  /* Studio: HTML5 drag and drop on lists marked .sortable; buttons do the same without a mouse. */
  function setUpSortable(list) {
    var dragged = null;
    var status = document.getElementById(list.getAttribute("data-status") || "");
    list.querySelectorAll(":scope > li[data-id]").forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-id"));
      });
      item.addEventListener("dragend", function () { item.classList.remove("dragging"); });
      item.addEventListener("dragover", function (event) {
        if (!dragged || dragged === item || dragged.parentNode !== list) { return; }
        event.preventDefault();
        var box = item.getBoundingClientRect();
        var after = event.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, after ? item.nextSibling : item);
      });
      item.addEventListener("drop", function (event) { event.preventDefault(); });
    });
    list.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!dragged) { return; }
      dragged = null;
      var body = new URLSearchParams();
      body.append("kind", list.getAttribute("data-kind"));
      body.append("parent", list.getAttribute("data-parent") || "");
      list.querySelectorAll(":scope > li[data-id]").forEach(function (item) {
        body.append("ids", item.getAttribute("data-id"));
      });
      fetch(list.getAttribute("data-reorder-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
        body: body
      }).then(function (response) {
        return response.json().then(function (payload) {
          if (response.ok) { window.location.reload(); return; }
          if (status) { status.textContent = payload.detail || ""; }
        });
      });
    });
  }

  /* Exercise editor: show only the fields that the chosen kind uses. */
  function setUpExerciseEditor(form) {
    var kind = form.querySelector('select[name="kind"]');
    if (!kind) { return; }
    function update() {
      form.querySelectorAll("[data-kinds]").forEach(function (section) {
        var kinds = section.getAttribute("data-kinds").split(" ");
        section.hidden = kinds.indexOf(kind.value) === -1;
      });
    }
    kind.addEventListener("change", update);
    update();
  }

  /* Math: authored $...$ arrives as plain TeX in span.math; KaTeX draws it where it is loaded.
     trust stays false, so TeX cannot create links, classes or styles. */
  function renderMath(root) {
    if (!window.katex) { return; }
    root.querySelectorAll("span.math:not([data-rendered])").forEach(function (element) {
      var tex = element.textContent;
      try {
        window.katex.render(tex, element, {
          displayMode: element.classList.contains("display"),
          throwOnError: false,
          trust: false
        });
        element.setAttribute("data-rendered", "1");
        element.setAttribute("data-tex", tex);
        if (element.classList.contains("display")) {
          /* A wide formula scrolls sideways on a phone: keyboard users must reach it too. */
          element.setAttribute("tabindex", "0");
          element.setAttribute("role", "group");
          element.setAttribute("aria-label", document.body.getAttribute("data-formula-label") || "Formula");
        }
      } catch (error) { /* leave the TeX readable */ }
    });
  }

  /* Code samples scroll sideways on a phone: make each one reachable with the keyboard. */
  function focusableCode(root) {
    root.querySelectorAll(".prose pre:not([tabindex])").forEach(function (block) {
      block.setAttribute("tabindex", "0");
      block.setAttribute("role", "group");
      block.setAttribute("aria-label", document.body.getAttribute("data-code-label") || "Code");
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    renderMath(event.target);
    focusableCode(event.target);
  });

  /* Phone header: the links fold behind a Menu button (CSS shows the button on narrow screens
     only). The button starts hidden, so without JavaScript the links stay visible. */
  function setUpMenu(header) {
    var button = header.querySelector(".menu-toggle");
    var menu = header.querySelector("#" + button.getAttribute("aria-controls"));
    if (!menu) { return; }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }
    button.hidden = false;
    header.classList.add("has-menu");
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        setOpen(false);
        button.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document);
    focusableCode(document);
    document.querySelectorAll(".site-header").forEach(function (header) {
      if (header.querySelector(".menu-toggle")) { setUpMenu(header); }
    });
    document.querySelectorAll("article.lesson[data-events-url]").forEach(setUpMedia);
    document.querySelectorAll("ol.sortable[data-reorder-url], ul.sortable[data-reorder-url]").forEach(setUpSortable);
    document.querySelectorAll("form.exercise-editor").forEach(setUpExerciseEditor);
  });
})();
