// The console's live field dashboard: asks dashboard.json for new figures every few
// seconds and swaps in the server-rendered ones when they changed (field/_dashboard.py).
// Progressive enhancement: without this script the page shows the figures of its load.
(function () {
  "use strict";
  var section = document.getElementById("dashboard");
  if (!section || !window.fetch || !window.JSON) {
    return;
  }
  var live = document.getElementById("dash-live");
  var updated = document.getElementById("dash-updated");
  var announce = document.getElementById("dash-announce");
  var source = section.getAttribute("data-source");
  var every = 1000 * (parseFloat(section.getAttribute("data-every")) || 3);
  var stamp = section.getAttribute("data-stamp") || "";
  var wait = every;
  var timer = null;
  var stopped = false;
  var lastUpdated = updated.textContent;

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, ms);
  }

  function offline() {
    // Keep the figures, say they are not current, and try again less often.
    section.setAttribute("data-offline", "");
    updated.textContent = lastUpdated + " – " + section.getAttribute("data-offline-text");
    wait = Math.min(wait * 2, 60000);
    schedule(wait);
  }

  function show(data) {
    if (typeof data.html === "string") {
      live.innerHTML = data.html;
      if (data.stamp !== stamp && announce && data.announce) {
        announce.textContent = data.announce;
      }
      stamp = data.stamp;
    }
    lastUpdated = data.updated;
    updated.textContent = data.updated;
    section.removeAttribute("data-offline");
    wait = every;
    schedule(wait);
  }

  function poll() {
    if (stopped || document.hidden) {
      return; // a hidden tab asks nothing; it catches up when shown again
    }
    var url = source + "?stamp=" + encodeURIComponent(stamp);
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if ([401, 403, 404].indexOf(response.status) >= 0 || response.redirected) {
          stopped = true; // logged out or no longer allowed: a reload says why
          throw new Error("stopped");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(show)
      .catch(function () {
        if (stopped) {
          section.setAttribute("data-offline", "");
          updated.textContent = lastUpdated + " – " + section.getAttribute("data-offline-text");
        } else {
          offline();
        }
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !stopped) {
      schedule(0);
    }
  });
  schedule(every);
})();
