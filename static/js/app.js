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
})();
