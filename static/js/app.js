// PrimeCloud portal: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  // Move focus to the first invalid field after htmx swaps a form back with errors.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      var invalid = event.detail.target.querySelector("[aria-invalid='true']");
      if (invalid) { invalid.focus(); }
    }
  });

  // "Copy" buttons (hidden without JavaScript): data-copy names the field to copy.
  function showCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (navigator.clipboard) { button.hidden = false; }
    });
    // "Print" buttons (an invoice): the browser's print dialog ("save as PDF").
    root.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.detail.elt); });
  // Downloads of text shown on the page (an access key's credential files): the file is
  // built here, from the text, as a blob: nothing is fetched from the server again.
  function buildDownloads(root) {
    root.querySelectorAll("a[data-download]").forEach(function (link) {
      var source = document.querySelector(link.getAttribute("data-download"));
      if (!source || !window.Blob || !window.URL) { return; }
      var blob = new Blob([source.value || source.textContent], { type: link.getAttribute("data-type") || "text/plain" });
      link.href = URL.createObjectURL(blob);
      link.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { buildDownloads(document); });
  document.addEventListener("htmx:load", function (event) { buildDownloads(event.detail.elt); });
  document.addEventListener("click", function (event) {
    if (event.target.closest("button[data-print]")) { window.print(); return; }
    var button = event.target.closest("button[data-copy]");
    if (!button) { return; }
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(field.value || field.textContent).then(function () {
      var done = button.parentElement.querySelector(".copy-done");
      if (done) { done.textContent = button.getAttribute("data-copied") || "✓"; }
    });
  });
})();
