/* Phasma core: helpers every page module uses. Loaded first; no dependencies.
 *
 * Every mutation stays a plain HTML form. A module that enhances one submits the
 * same form with fetch and `Accept: application/json`; the server answers
 * {"ok": true, ...} or {"ok": false, "error": "..."}, and 401 means "sign in".
 */
(function () {
  "use strict";

  const STATUS_MESSAGES = {
    401: "Please sign in to continue.",
    429: "Too many requests. Please try again later.",
  };

  /** Send `body` to `url` as a JSON-answering POST; resolves to {ok, status, data}. */
  async function post(url, body, headers) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: Object.assign({ Accept: "application/json" }, headers || {}),
      });
    } catch (error) {
      return { ok: false, status: 0, data: { ok: false, error: "Network error. Please try again." } };
    }
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (response.status === 401) {
      window.location.assign((data && data.redirect) || "/login");
    }
    return { ok: response.ok && data.ok !== false, status: response.status, data: data };
  }

  /** Submit a form's fields (as it would be posted) and resolve to {ok, status, data}. */
  function submitForm(form) {
    const fields = new FormData(form);
    const hasFile = Array.from(fields.values()).some(function (value) {
      return value instanceof File;
    });
    return post(form.action, hasFile ? fields : new URLSearchParams(fields));
  }

  /** POST a JSON body. */
  function postJson(url, value) {
    return post(url, JSON.stringify(value), { "Content-Type": "application/json" });
  }

  /** Speak `text` to screen readers through the page's live region. */
  function announce(text) {
    const region = document.querySelector("[data-announcer]");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text;
    }, 30);
  }

  /** Run `callback` once the document is parsed (scripts are deferred, so usually at once). */
  function ready(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback, { once: true });
    } else {
      callback();
    }
  }

  /** The copy for a failed request's status (docs/frontend.md §2.3, load-more flavour). */
  function loadMoreMessage(status) {
    return STATUS_MESSAGES[status] || "Could not load more items. Please try again.";
  }

  /** Restart a CSS animation class on `element`. */
  function replay(element, className) {
    element.classList.remove(className);
    void element.offsetWidth; // force a reflow so the animation starts again
    element.classList.add(className);
    element.addEventListener(
      "animationend",
      function () {
        element.classList.remove(className);
      },
      { once: true },
    );
  }

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const REFRESH_MS = 60000;

  /** The site's one relative format, as `phasma/frontend/formatting.py` writes it: "now",
   * "3 min", "2 h", "5 d", then the date ("Jun 22", with the year when not this year's), UTC. */
  function relativeTime(moment, now) {
    const current = now || new Date();
    const seconds = Math.floor((current.getTime() - moment.getTime()) / 1000);
    if (seconds < 60) return "now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h";
    if (seconds < 7 * 86400) return Math.floor(seconds / 86400) + " d";
    const day = MONTHS[moment.getUTCMonth()] + " " + moment.getUTCDate();
    return moment.getUTCFullYear() === current.getUTCFullYear() ? day : day + ", " + moment.getUTCFullYear();
  }

  /** Rewrite every `<time data-relative>` under `root`, so an open page never goes stale. */
  function refreshTimes(root) {
    const now = new Date();
    (root || document).querySelectorAll("time[data-relative]").forEach(function (node) {
      const moment = new Date(node.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) node.textContent = relativeTime(moment, now);
    });
  }

  ready(function () {
    window.setInterval(refreshTimes, REFRESH_MS);
    window.addEventListener("pageshow", function () {
      refreshTimes(); // a page restored from the back/forward cache
    });
  });

  window.Phasma = {
    relativeTime: relativeTime,
    refreshTimes: refreshTimes,
    post: post,
    submitForm: submitForm,
    postJson: postJson,
    announce: announce,
    ready: ready,
    loadMoreMessage: loadMoreMessage,
    replay: replay,
  };
})();
