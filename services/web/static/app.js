// Progressive enhancement only: every page works without this file.
// - character counters under fields with a limit (data-maxlength), announced politely;
// - the inbox badge refreshed every 30 s from /inbox/unread (JSON), without a reload;
// - a confirmation before destructive buttons (data-confirm);
// - "use this question" (data-suggestion) fills the first empty own question in place, its kind and the
//   suggestion's id (without JS the link reloads the page with that question filled in).
// No inline handlers: the Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";

  function updateCounter(field) {
    var counter = document.getElementById(field.id + "-count");
    if (!counter) return;
    var left = parseInt(field.getAttribute("data-maxlength"), 10) - field.value.length;
    counter.textContent = counter.getAttribute("data-template").replace("{count}", String(left));
  }

  function counters() {
    var fields = document.querySelectorAll("[data-maxlength]");
    for (var i = 0; i < fields.length; i++) {
      (function (field) {
        updateCounter(field);
        field.addEventListener("input", function () { updateCounter(field); });
      })(fields[i]);
    }
  }

  function badge() {
    var el = document.getElementById("unread-badge");
    if (!el || !window.fetch) return;
    var url = el.getAttribute("data-unread-url");
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          el.textContent = data.unread > 0 ? String(data.unread) : "";
          el.setAttribute("aria-label", data.label || "");
        })
        .catch(function () {});
    }
    refresh();
    setInterval(refresh, parseInt(el.getAttribute("data-interval") || "30000", 10));
  }

  function confirmations() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
      if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  function suggestions() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("[data-suggestion]") : null;
      if (!link) return;
      var slot = 0, text;
      while ((text = document.getElementById("written-" + slot + "-text")) && text.value.trim()) slot++;
      if (!text) slot = 0, text = document.getElementById("written-0-text");
      var id = document.getElementById("written-" + slot + "-suggestion");
      if (!text || !id) return;
      event.preventDefault();
      text.value = link.getAttribute("data-text");
      id.value = link.getAttribute("data-suggestion");
      var kind = document.querySelector("input[name='written." + slot + ".kind'][value='" +
                                        link.getAttribute("data-kind") + "']");
      if (kind) kind.checked = true;
      updateCounter(text);
      text.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    counters();
    badge();
    confirmations();
    suggestions();
  });
})();
