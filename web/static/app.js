// Gatehouse dashboard: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="ID"> copies the value (or text) of the element with that id.
  function copyFrom(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    var text = target.value !== undefined ? target.value : target.textContent;
    var status = button.closest("section") && button.closest("section").querySelector(".copy-status");
    function done(ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the key and copy it with Ctrl+C or ⌘C.";
      if (ok) button.textContent = "Copied";
    }
    function fallback() {
      target.focus();
      target.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  // Destructive forms carry data-confirm: ask before sending them.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (button) copyFrom(button);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });

    // Move keyboard and screen-reader focus to the first problem, so it is read out at once.
    var problem = document.querySelector("[data-focus]");
    if (problem) problem.focus();

    // On a phone the navigation scrolls sideways: bring the current page's entry into view.
    var current = document.querySelector(".sidenav a[aria-current]");
    if (current && current.scrollIntoView) current.scrollIntoView({ block: "nearest", inline: "center" });

    // Select the new key on focus so it can be copied by hand as well.
    var key = document.getElementById("new-key");
    if (key) key.addEventListener("focus", function () { key.select(); });

    // Times of day are rendered in UTC ("14 May 2026, 09:30 UTC"); show them in the visitor's own
    // time zone in the same shape ("14 May 2026, 11:30 CEST"), the UTC text as the tooltip.
    document.querySelectorAll("time[datetime][data-local]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      t.title = t.textContent;
      t.textContent = localDateTime(d);
    });
  });

  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // localDateTime writes the dashboard's one date format (see web/format.go) in local time.
  function localDateTime(d) {
    return d.getDate() + " " + months[d.getMonth()] + " " + d.getFullYear() + ", " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + " " + zoneName(d);
  }

  // zoneName is the local time zone's short name ("CEST"), else its offset ("UTC+05:30").
  function zoneName(d) {
    try {
      var parts = new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName" && !/\s/.test(parts[i].value)) return parts[i].value;
      }
    } catch (e) { /* fall through to the offset */ }
    var off = -d.getTimezoneOffset();
    var sign = off < 0 ? "-" : "+";
    off = Math.abs(off);
    return off === 0 ? "UTC" : "UTC" + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }
})();
