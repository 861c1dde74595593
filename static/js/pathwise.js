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

  /* Studio: reorder lists marked .sortable by dragging a row with the mouse (HTML5 drag and
     drop) or with the arrow buttons (keyboard). Both save through the reorder view without a
     reload; a refused order is put back and the reason shown in the list's status line. */
  function directItems(list) {
    return Array.prototype.slice.call(list.querySelectorAll(":scope > li[data-id]"));
  }

  function currentOrder(list) {
    return directItems(list).map(function (item) { return item.getAttribute("data-id"); });
  }

  function restoreOrder(list, order) {
    var byId = {};
    directItems(list).forEach(function (item) { byId[item.getAttribute("data-id")] = item; });
    order.forEach(function (id) { if (byId[id]) { list.appendChild(byId[id]); } });
  }

  function refreshMoveButtons(list) {
    var items = directItems(list);
    items.forEach(function (item, index) {
      var buttons = item.querySelector(":scope > .row .move-buttons");
      if (!buttons) { return; }
      var up = buttons.querySelector('button[value="up"]');
      var down = buttons.querySelector('button[value="down"]');
      if (up) { up.disabled = index === 0; }
      if (down) { down.disabled = index === items.length - 1; }
    });
  }

  function saveOrder(list, previous, done) {
    var status = document.getElementById(list.getAttribute("data-status") || "");
    var body = new URLSearchParams();
    body.append("kind", list.getAttribute("data-kind"));
    body.append("parent", list.getAttribute("data-parent") || "");
    currentOrder(list).forEach(function (id) { body.append("ids", id); });
    list.setAttribute("data-saving", "1");
    function fail(message) {
      restoreOrder(list, previous);
      refreshMoveButtons(list);
      if (status) { status.textContent = message; status.classList.add("error"); }
      list.removeAttribute("data-saving");
      if (done) { done(false); }
    }
    fetch(list.getAttribute("data-reorder-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().then(function (payload) {
        if (!response.ok) { fail(payload.detail || response.statusText); return; }
        refreshMoveButtons(list);
        if (status) { status.textContent = payload.detail || ""; status.classList.remove("error"); }
        list.setAttribute("data-saved-order", currentOrder(list).join(","));
        list.removeAttribute("data-saving");
        if (done) { done(true); }
      });
    }).catch(function () { fail(status ? status.getAttribute("data-offline") || "" : ""); });
  }

  function setUpSortable(list) {
    var dragged = null;
    var before = null;
    directItems(list).forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.addEventListener("dragstart", function (event) {
        if (event.target !== item) { return; }  /* a nested row started this drag */
        dragged = item;
        before = currentOrder(list);
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.getAttribute("data-id"));
      });
      item.addEventListener("dragend", function (event) {
        if (event.target !== item || dragged !== item) { return; }
        item.classList.remove("dragging");
        dragged = null;
        if (before && currentOrder(list).join(",") !== before.join(",")) {
          saveOrder(list, before);
        }
        before = null;
      });
    });
    /* The list accepts the drop wherever the pointer is, the dragged row itself included:
       without preventDefault there the browser cancels the drop. */
    list.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var target = event.target.closest ? event.target.closest("li[data-id]") : null;
      while (target && target.parentNode !== list) {
        target = target.parentNode.closest ? target.parentNode.closest("li[data-id]") : null;
      }
      if (!target || target === dragged) { return; }
      var box = target.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? target.nextSibling : target);
    });
    list.addEventListener("drop", function (event) { if (dragged) { event.preventDefault(); } });

    /* Arrow buttons: move one step, save, and keep the focus on the moved row's button. */
    directItems(list).forEach(function (item) {
      var form = item.querySelector(":scope > .row .move-buttons form");
      if (!form) { return; }
      form.addEventListener("submit", function (event) {
        var button = event.submitter;
        if (!button) { return; }  /* no submitter support: the form posts and the page reloads */
        event.preventDefault();
        if (list.hasAttribute("data-saving")) { return; }
        var direction = button.value;
        var previous = currentOrder(list);
        var items = directItems(list);
        var index = items.indexOf(item);
        if (direction === "up" && index > 0) { list.insertBefore(item, items[index - 1]); }
        else if (direction === "down" && index < items.length - 1) {
          list.insertBefore(item, items[index + 1].nextSibling);
        } else { return; }
        refreshMoveButtons(list);
        var keep = button.disabled ? form.querySelector('button:not([value="' + direction + '"])') : button;
        keep.focus();
        saveOrder(list, previous, function () {
          var again = item.querySelector('.move-buttons button[value="' + direction + '"]');
          var focusTarget = again && !again.disabled ? again : form.querySelector("button:not([disabled])");
          if (focusTarget) { focusTarget.focus(); }
        });
      });
    });
    list.setAttribute("data-saved-order", currentOrder(list).join(","));
  }

  /* Kind editors (exercise, block): show only the fields that the chosen kind uses. */
  function setUpKindEditor(form) {
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

  /* Exercise choices: any number of rows. "Add a choice" copies the formset's empty form;
     "Remove" ticks the row's DELETE box and hides it. */
  function setUpChoiceFormset(fieldset) {
    var prefix = fieldset.getAttribute("data-formset-prefix");
    var total = fieldset.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var maximum = fieldset.querySelector('input[name="' + prefix + '-MAX_NUM_FORMS"]');
    var rows = fieldset.querySelector(".choice-rows");
    var template = fieldset.querySelector("template.choice-template");
    var add = fieldset.querySelector("button.add-choice");
    if (!total || !rows || !template || !add) { return; }
    function wireRemove(row) {
      var box = row.querySelector('input[type="checkbox"][name$="-DELETE"]');
      if (!box) { return; }
      box.addEventListener("change", function () {
        row.classList.toggle("removed", box.checked);
        if (box.checked) { add.focus(); }
      });
    }
    rows.querySelectorAll(".choice-row").forEach(wireRemove);
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      if (maximum && index >= (parseInt(maximum.value, 10) || 1000)) { return; }
      var html = template.innerHTML.replace(/__prefix__/g, String(index))
        .replace(/__number__/g, String(index + 1));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      wireRemove(row);
      var text = row.querySelector('input[name$="-text"]');
      if (text) { text.focus(); }
    });
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

  document.addEventListener("htmx:afterSwap", function (event) {
    renderMath(event.target);
    focusableCode(event.target);
    /* A revealed hint takes the keyboard focus (the button may be replaced by "No more hints"). */
    if (event.target.classList && event.target.classList.contains("hints")) {
      var hints = event.target.querySelectorAll("li.hint-item");
      if (hints.length) { hints[hints.length - 1].focus(); }
    }
  });
  /* Out-of-band parts (attempt counter, buttons) carry math too. */
  document.addEventListener("htmx:oobAfterSwap", function (event) { renderMath(event.target); });

  /* An exercise answered 400 (malformed answer) or 409 (no attempts left) carries a message
     fragment to show in place, not an error to drop. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var target = event.detail.target;
    if ((status === 400 || status === 409) && target && target.classList.contains("attempt-result")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document);
    focusableCode(document);
    document.querySelectorAll(".site-header").forEach(function (header) {
      if (header.querySelector(".menu-toggle")) { setUpMenu(header); }
    });
    document.querySelectorAll("article.lesson[data-events-url]").forEach(setUpMedia);
    document.querySelectorAll("ol.sortable[data-reorder-url], ul.sortable[data-reorder-url]").forEach(setUpSortable);
    document.querySelectorAll("form.exercise-editor, form.kind-editor").forEach(setUpKindEditor);
    document.querySelectorAll("fieldset.choice-set[data-formset-prefix]").forEach(setUpChoiceFormset);
  });
})();
