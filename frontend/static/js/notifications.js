/* Notifications (frontend.md §7.7): mark the shown ones read, and keep the navbar dot
 * live from the server's event stream. */
(function () {
  "use strict";

  function setDot(count) {
    const dot = document.querySelector("[data-unread-dot]");
    if (!dot) return;
    const value = Math.max(0, Number(count) || 0);
    dot.hidden = value === 0;
    dot.setAttribute("aria-label", value + " unread " + (value === 1 ? "notification" : "notifications"));
  }

  function markShownRead(list) {
    const unread = Array.from(list.querySelectorAll("[data-notification].is-unread"));
    if (unread.length === 0) return;
    const ids = unread.map(function (row) {
      return row.getAttribute("data-notification");
    });
    window.Phasma.postJson("/notifications/read", { ids: ids.slice(0, 100) }).then(function (result) {
      if (!result.ok) return;
      unread.forEach(function (row) {
        row.classList.remove("is-unread");
        const marker = row.querySelector("[data-unread-marker]");
        if (marker) marker.hidden = true;
      });
      setDot(result.data.unread);
    });
  }

  function listen() {
    if (!document.querySelector("[data-bell]") || !window.EventSource) return;
    const source = new EventSource("/notifications/stream");
    function onEvent(event) {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        data = null;
      }
      if (data && typeof data === "object") {
        const count = data.count !== undefined ? data.count : data.unreadCount;
        if (count !== undefined) {
          setDot(count);
          return;
        }
      }
      if (event.type === "notification") setDot(1);
    }
    source.addEventListener("message", onEvent);
    ["notification", "unread", "unread-count", "count"].forEach(function (name) {
      source.addEventListener(name, onEvent);
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  window.Phasma.ready(function () {
    const list = document.querySelector("[data-notification-list]");
    if (list) {
      document.querySelectorAll("[data-mark-all]").forEach(function (form) {
        form.hidden = true; // JS marks what is shown; the button is for browsers without it
      });
      markShownRead(list);
      new MutationObserver(function () {
        markShownRead(list);
      }).observe(list, { childList: true });
    }
    listen();
  });
})();
