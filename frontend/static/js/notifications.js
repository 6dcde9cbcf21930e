/* Notifications (docs/frontend.md §7.7): the navbar dot stays live from the server's event
 * stream; on the notifications page new items appear at the top as they arrive, and
 * what was shown is marked read when the visitor leaves (or at once with "Mark all as
 * read"), so unread items keep looking new while the page is open. */
(function () {
  "use strict";

  const MAX_IDS = 100;

  /** Every notification id a row stands for: a row of grouped likes holds several. */
  function idsOf(row) {
    const ids = (row.getAttribute("data-notification-ids") || "").split(" ").filter(Boolean);
    return ids.length ? ids : [row.getAttribute("data-notification")];
  }

  function setDot(count) {
    const dot = document.querySelector("[data-unread-dot]");
    if (!dot) return;
    const value = Math.max(0, Number(count) || 0);
    dot.hidden = value === 0;
    dot.setAttribute("aria-label", value + " unread " + (value === 1 ? "notification" : "notifications"));
  }

  function markRowsRead(rows) {
    rows.forEach(function (row) {
      row.classList.remove("is-unread");
      const marker = row.querySelector("[data-unread-marker]");
      if (marker) marker.hidden = true;
    });
  }

  /** The notifications page: live items, read-on-leave, "Mark all as read". */
  function setUpList(list) {
    const markAll = document.querySelector("[data-mark-all]");
    const empty = document.querySelector("[data-notification-empty]");
    let knownUnread = Number(list.getAttribute("data-unread-total")) || 0;
    let sent = []; // rows already reported read while the page was hidden
    let loading = false;
    let again = false;

    function unreadRows() {
      return Array.from(list.querySelectorAll("[data-notification].is-unread")).filter(function (row) {
        return sent.indexOf(row) < 0;
      });
    }

    function refreshMarkAll() {
      if (markAll) markAll.hidden = list.querySelector("[data-notification].is-unread") === null;
    }

    /** Report the shown unread items read; keepalive lets it outlive the page. */
    function reportShown() {
      const rows = unreadRows();
      if (rows.length === 0) return;
      sent = sent.concat(rows);
      const ids = rows.reduce(function (all, row) {
        return all.concat(idsOf(row));
      }, []);
      // One call when every unread item the server counts is on screen, else the ids.
      const body = ids.length >= knownUnread ? { all: true } : { ids: ids.slice(0, MAX_IDS) };
      fetch("/notifications/read", {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      }).catch(function () {
        /* the page is going away; they stay unread for next time */
      });
    }

    async function loadNewest() {
      if (loading) {
        again = true;
        return;
      }
      loading = true;
      try {
        const response = await fetch("/notifications", {
          credentials: "same-origin",
          headers: { "X-Phasma-Fragment": "1" },
        });
        if (!response.ok) return;
        const template = document.createElement("template");
        template.innerHTML = (await response.text()).trim();
        const shown = new Set(
          Array.from(list.querySelectorAll("[data-notification]")).map(function (row) {
            return row.getAttribute("data-notification");
          }),
        );
        const fresh = Array.from(template.content.querySelectorAll("[data-notification]")).filter(function (row) {
          return !shown.has(row.getAttribute("data-notification"));
        });
        if (fresh.length === 0) return;
        // A new like of a post already shown as a group comes back as that group, grown.
        fresh.forEach(function (row) {
          const group = row.getAttribute("data-group");
          if (!group) return;
          list.querySelectorAll('[data-group="' + CSS.escape(group) + '"]').forEach(function (old) {
            old.remove();
          });
        });
        const first = list.firstElementChild;
        fresh.forEach(function (row) {
          list.insertBefore(row, first);
        });
        list.hidden = false;
        if (empty) empty.hidden = true;
        refreshMarkAll();
        window.Phasma.announce(fresh.length === 1 ? "1 new notification." : fresh.length + " new notifications.");
      } catch (error) {
        /* the next notification tries again */
      } finally {
        loading = false;
        if (again) {
          again = false;
          loadNewest();
        }
      }
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        reportShown();
      } else {
        markRowsRead(sent); // seen before the visitor looked away
        sent = [];
        refreshMarkAll();
      }
    });
    window.addEventListener("pagehide", reportShown);

    if (markAll) {
      markAll.addEventListener("submit", async function (event) {
        event.preventDefault();
        const result = await window.Phasma.submitForm(markAll);
        if (!result.ok) {
          window.Phasma.announce((result.data && result.data.error) || "Could not mark notifications read.");
          return;
        }
        markRowsRead(Array.from(list.querySelectorAll("[data-notification]")));
        refreshMarkAll();
        setDot(result.data.unread);
        knownUnread = Number(result.data.unread) || 0;
        window.Phasma.announce("All notifications marked as read.");
      });
    }

    return {
      onCount: function (count) {
        knownUnread = Number(count) || 0;
      },
      onNotification: loadNewest,
    };
  }

  // A page opens the live stream only once it has been looked at for a while (the
  // notifications list at once): a brisk walk through pages then opens none, so it
  // spends neither the per-user cap of five streams nor the read budget on pages a
  // person passes through in a second (docs/frontend.md).
  const STREAM_AFTER_MS = 5000;

  function listen(page) {
    if (!document.querySelector("[data-bell]") || !window.EventSource) return;
    let source = null;
    const opening = window.setTimeout(open, page ? 0 : STREAM_AFTER_MS);
    window.addEventListener("pagehide", function () {
      window.clearTimeout(opening);
      if (source) source.close();
    });

    function open() {
      source = new EventSource("/notifications/stream");
      source.addEventListener("message", onEvent);
      ["notification", "unread", "unread-count", "count"].forEach(function (name) {
        source.addEventListener(name, onEvent);
      });
    }

    function onEvent(event) {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        data = null;
      }
      if (event.type === "notification") {
        if (page) page.onNotification();
        else setDot(1);
        return;
      }
      if (data && typeof data === "object") {
        const count = data.count !== undefined ? data.count : data.unreadCount;
        if (count !== undefined) {
          setDot(count);
          if (page) page.onCount(count);
        }
      }
    }
  }

  window.Phasma.ready(function () {
    const list = document.querySelector("[data-notification-list]");
    listen(list ? setUpList(list) : null);
  });
})();
