/* The "Delete post?" dialog (frontend.md §7.3): without JS the trash links to a
 * confirmation page; with JS it opens this modal over a dimmed backdrop. */
(function () {
  "use strict";

  let opener = null;

  function dialog() {
    return document.querySelector("[data-delete-dialog]");
  }

  function close() {
    const backdrop = dialog();
    if (!backdrop || backdrop.hidden) return;
    backdrop.hidden = true;
    if (opener) opener.focus();
    opener = null;
  }

  function open(trigger) {
    const backdrop = dialog();
    if (!backdrop) return false;
    opener = trigger;
    backdrop.querySelector("[data-delete-form]").action =
      "/posts/" + trigger.getAttribute("data-delete-post") + "/delete";
    backdrop.hidden = false;
    backdrop.querySelector("[data-dialog-cancel]").focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    const trigger = event.target.closest("[data-delete-post]");
    if (trigger) {
      if (open(trigger)) event.preventDefault();
      return;
    }
    const backdrop = dialog();
    if (!backdrop || backdrop.hidden) return;
    if (event.target === backdrop || event.target.closest("[data-dialog-cancel]")) close();
  });

  document.addEventListener("keydown", function (event) {
    const backdrop = dialog();
    if (!backdrop || backdrop.hidden) return;
    if (event.key === "Escape") {
      close();
      return;
    }
    if (event.key !== "Tab") return;
    // Keep keyboard focus inside the dialog while it is open.
    const focusable = backdrop.querySelectorAll("button, [href]");
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
})();
