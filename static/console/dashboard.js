// The ops dashboard on the admin index refreshes itself in place (progress bars, counts): it fetches
// the index again and swaps in the new #ops-dashboard, so no inline script is needed (CSP).
(function () {
  "use strict";
  function refresh() {
    var current = document.getElementById("ops-dashboard");
    if (!current || document.hidden) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "dashboard" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("ops-dashboard");
        if (fresh) { current.replaceWith(fresh); }
      })
      .catch(function () { /* the next tick tries again */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("ops-dashboard");
    if (!el) { return; }
    var seconds = parseInt(el.dataset.refreshSeconds, 10) || 10;
    window.setInterval(refresh, seconds * 1000);
  });
})();
