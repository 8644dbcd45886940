// phonebook console: the little behaviour htmx does not cover. Loaded as a
// file (the pages' CSP allows no inline script); every page works without it.
"use strict";
(function () {
  // Forms with data-confirm ask before they are sent (delete buttons).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  }, true);

  // An error summary takes the focus, so keyboard and screen reader users
  // land on what to fix.
  function focusErrors() {
    var el = document.querySelector("[data-autofocus]");
    if (el) {
      el.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrors);
  } else {
    focusErrors();
  }
})();
