// Light progressive enhancement: the page works without JavaScript.
(function () {
  "use strict";

  // While the service starts, the home page says so; ask /readyz every 2 s and say when the
  // search works (without JavaScript the notice stays, and a search made too early keeps the
  // form as typed).
  var starting = document.getElementById("starting");
  if (starting) {
    var poll = function () {
      fetch("/readyz", { headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.ok) {
            starting.classList.add("ready");
            starting.textContent = "Partner Matcher is ready: search away.";
          } else {
            window.setTimeout(poll, 2000);
          }
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 2000);
  }

  // Feedback buttons: post in the background and say so in place. Buttons are never disabled
  // (a disabled button drops keyboard focus to the page body): focus stays on the one pressed.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("feedback")) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    var button = event.submitter;
    var status = form.querySelector(".feedback-status");
    var data = new FormData(form);
    if (button && button.name) data.set(button.name, button.value);
    var buttons = form.querySelectorAll("button[name=outcome]");
    form.setAttribute("aria-busy", "true");
    status.textContent = "Saving…";
    fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (res.ok) {
          buttons.forEach(function (b) {
            b.setAttribute("aria-pressed", b.value === res.body.outcome ? "true" : "false");
          });
          status.textContent = res.body.outcome === "contacted"
            ? "Marked as contacted. Thank you!" : "Marked as not relevant. Thank you!";
          if (res.body.unconfirmed === true) {
            // signed in, e-mail not confirmed yet: kept, counted once it is
            status.textContent += " It will help improve suggestions once your e-mail address"
              + " is confirmed (follow the link we sent you).";
          } else if (res.body.counted === false) {
            // a visitor not signed in: the mark is kept but teaches the ranking nothing
            status.textContent += " Only marks made while signed in help improve suggestions";
            var back = "/r/" + encodeURIComponent(data.get("recommendation_id") || "");
            var signIn = document.createElement("a");
            signIn.href = "/login?next=" + encodeURIComponent(back);
            signIn.textContent = "sign in";
            var signUp = document.createElement("a");
            signUp.href = "/signup?next=" + encodeURIComponent(back);
            signUp.textContent = "sign up";
            status.appendChild(document.createTextNode(": "));
            status.appendChild(signIn);
            status.appendChild(document.createTextNode(" or "));
            status.appendChild(signUp);
            status.appendChild(document.createTextNode("."));
          }
        } else {
          status.textContent = "Could not record that: " + (res.body.detail || "error");
        }
      })
      .catch(function () { status.textContent = "Network error; please try again."; })
      .then(function () {
        form.removeAttribute("aria-busy");
        if (button && document.activeElement !== button) button.focus();
      });
  });

  // Back links marked data-history go back in history when there is one (keeps the results
  // page); the others go where they point (a profile's "Back to the results" names the results
  // and the card: history went to whatever page came before, or lost the card's tab).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.back[data-history]");
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });

  // Place suggestions from GET /v1/places into the field's <datalist>. Silent when the route
  // is missing or fails: the field then is a plain text box.
  function placeSuggestions(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var cache = {}, timer = null, off = false, last = "";
    function fill(items) {
      list.textContent = "";
      items.forEach(function (item) {
        if (!item || typeof item.label !== "string") return;
        var option = document.createElement("option");
        option.value = item.label;
        list.appendChild(option);
      });
    }
    function lookup() {
      var q = input.value.trim();
      if (off || q.length < 2 || q === last) return;
      last = q;
      if (cache[q]) { fill(cache[q]); return; }
      fetch("/v1/places?q=" + encodeURIComponent(q) + "&limit=8", { headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 404 || r.status === 405) { off = true; return null; }
          return r.ok ? r.json() : null;
        })
        .then(function (body) {
          if (!Array.isArray(body)) return;
          cache[q] = body;
          if (input.value.trim() === q) fill(body);
        })
        .catch(function () { /* offline or refused: no suggestions */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 200);
    });
  }

  // Sector sections as tabs (WAI-ARIA tabs, automatic activation, arrow keys, Home/End).
  // Without JavaScript they stay plain sections with a list of in-page links.
  function sectorTabs(nav) {
    var links = Array.prototype.slice.call(nav.querySelectorAll("a[data-tab]"));
    var panels = links.map(function (a) { return document.getElementById(a.getAttribute("data-tab")); });
    if (!links.length || panels.indexOf(null) >= 0) return;
    var list = nav.querySelector("ul");
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", "Partners by sector");
    nav.removeAttribute("aria-label");
    nav.setAttribute("role", "presentation");
    links.forEach(function (a, i) {
      a.parentNode.setAttribute("role", "presentation");
      a.setAttribute("role", "tab");
      a.id = "tab-" + panels[i].id;
      a.setAttribute("aria-controls", panels[i].id);
      panels[i].setAttribute("role", "tabpanel");
      panels[i].setAttribute("aria-labelledby", a.id);
      panels[i].setAttribute("tabindex", "0");
    });
    nav.parentNode.classList.add("tabbed");
    function select(index, focus) {
      links.forEach(function (a, i) {
        var on = i === index;
        a.setAttribute("aria-selected", on ? "true" : "false");
        a.setAttribute("tabindex", on ? "0" : "-1");
        panels[i].hidden = !on;
      });
      if (focus) links[index].focus();
    }
    nav.addEventListener("click", function (event) {
      var a = event.target.closest("a[role=tab]");
      if (!a) return;
      event.preventDefault();
      select(links.indexOf(a), true);
    });
    nav.addEventListener("keydown", function (event) {
      var i = links.indexOf(document.activeElement);
      if (i < 0) return;
      var next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: links.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select((next + links.length) % links.length, true);
    });
    // A card named in the address (a permalink back to a card) opens its tab.
    var start = 0;
    var target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    panels.forEach(function (p, i) { if (target && p.contains(target)) start = i; });
    select(start, false);
    return function reveal(element) {
      panels.forEach(function (p, i) { if (p.contains(element)) select(i, false); });
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var place = document.getElementById("place");
    if (place) placeSuggestions(place);
    var nav = document.querySelector(".sector-tabs");
    var reveal = nav ? sectorTabs(nav) : null;
    // "In the coalition above" links and returns from a form post land on the card itself.
    var target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (target && target.classList.contains("partner")) {
      if (reveal) reveal(target);
      target.focus();
    } else {
      // A refused field (e.g. the save form's alert address) keeps its focus; otherwise, after
      // a search, focus moves to the results heading for keyboard and screen-reader users.
      var refused = document.querySelector("[autofocus][aria-invalid=true]");
      var results = document.getElementById("results-title");
      if (refused) refused.focus();
      else if (results) results.focus();
    }
    // A link to a card on this page ("in the coalition above", the gaps box's partner below)
    // opens the card's tab and lands on it (a card in a hidden tab was not shown).
    document.addEventListener("click", function (event) {
      var a = event.target.closest && event.target.closest('a[href^="#org-"]');
      if (!a) return;
      var card = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
      if (card) {
        event.preventDefault();
        if (reveal) reveal(card);
        card.focus();
        card.scrollIntoView({ block: "start" });
      }
    });
    var form = document.getElementById("need-form");
    if (form) form.addEventListener("submit", function () {
      var submit = document.getElementById("submit");
      submit.disabled = true; submit.textContent = "Finding partners…";
    });
  });
  // Coming back to the page from history: the search button works again.
  window.addEventListener("pageshow", function () {
    var submit = document.getElementById("submit");
    if (submit && submit.disabled) { submit.disabled = false; submit.textContent = "Find partners"; }
  });
})();
