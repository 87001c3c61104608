// Light progressive enhancement: the page works without JavaScript.
(function () {
  "use strict";

  // Feedback buttons: post in the background and say so, instead of leaving the page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("feedback")) return;
    event.preventDefault();
    var button = event.submitter;
    var status = form.querySelector(".feedback-status");
    var data = new FormData(form);
    if (button && button.name) data.set(button.name, button.value);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (res.ok) {
          status.textContent = res.body.outcome === "contacted"
            ? "Marked as contacted. Thank you!" : "Marked as not relevant. Thank you!";
        } else {
          status.textContent = "Could not record that: " + (res.body.detail || "error");
          buttons.forEach(function (b) { b.disabled = false; });
        }
      })
      .catch(function () {
        status.textContent = "Network error; please try again.";
        buttons.forEach(function (b) { b.disabled = false; });
      });
  });

  // Back links go back in history when there is one (keeps the results page).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.back");
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // "Use my location" fills latitude and longitude where the browser allows it.
    var button = document.getElementById("use-location");
    if (button && navigator.geolocation) {
      button.hidden = false;
      button.addEventListener("click", function () {
        button.disabled = true;
        navigator.geolocation.getCurrentPosition(function (pos) {
          document.getElementById("lat").value = pos.coords.latitude.toFixed(5);
          document.getElementById("lon").value = pos.coords.longitude.toFixed(5);
          if (!document.getElementById("radius_km").value) document.getElementById("radius_km").value = 25;
          button.disabled = false;
        }, function () { button.disabled = false; }, { timeout: 10000 });
      });
    }
    // After a search, move focus to the results heading for keyboard and screen-reader users.
    var results = document.getElementById("results-title");
    if (results) results.focus();
    var form = document.getElementById("need-form");
    if (form) form.addEventListener("submit", function () {
      var submit = document.getElementById("submit");
      submit.disabled = true; submit.textContent = "Finding partners…";
    });
  });
})();
