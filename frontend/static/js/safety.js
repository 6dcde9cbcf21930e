/* The "…" menus' Block, Mute and Report (docs/api.md §D). Without JS each item is a link to
 * its confirmation page or the report form; with JS it opens the same form in a native
 * <dialog> (focus trap, Escape and the backdrop come with showModal). The forms still
 * post as plain submissions, so the server answers both ways alike: back to `next`
 * with its one-time message. */
(function () {
  "use strict";

  function closeMenu(item) {
    const menu = item.closest("[data-more-menu]");
    if (menu) menu.open = false;
  }

  function openSafety(trigger) {
    const dialog = document.querySelector("[data-safety-dialog]");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    const kind = trigger.getAttribute("data-safety-kind");
    const text = dialog.querySelector("[data-safety-dialog-text]");
    dialog.querySelector("[data-safety-dialog-title]").textContent =
      trigger.getAttribute("data-safety-title");
    text.textContent = text.getAttribute("data-" + kind + "-text");
    dialog.querySelector("[data-safety-dialog-form]").action =
      trigger.getAttribute("data-safety-action");
    dialog.querySelector("[data-safety-dialog-next]").value =
      trigger.getAttribute("data-safety-next");
    dialog.querySelector("[data-safety-dialog-confirm]").textContent =
      kind === "mute" ? "Mute" : "Block";
    dialog.showModal();
    return true;
  }

  function openReport(trigger) {
    const dialog = document.querySelector("[data-report-dialog]");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    const type = trigger.getAttribute("data-report-type");
    dialog.querySelector("[data-report-subject-type]").value = type;
    dialog.querySelector("[data-report-subject-id]").value = trigger.getAttribute("data-report-id");
    dialog.querySelector("[data-report-next]").value = trigger.getAttribute("data-report-next");
    dialog.querySelector(".modal-title").textContent =
      type === "user" ? "Report @" + trigger.getAttribute("data-report-id") : "Report this " + type;
    dialog.showModal();
    return true;
  }

  document.addEventListener("click", function (event) {
    const safety = event.target.closest("[data-safety-action]");
    const report = safety ? null : event.target.closest("[data-report-type]");
    const trigger = safety || report;
    if (!trigger) return;
    closeMenu(trigger);
    if ((safety ? openSafety(safety) : openReport(report))) event.preventDefault();
  });

  // A click outside an open "…" menu closes it, as a menu would.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("[data-more-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });

  // A click on a dialog's backdrop (the dialog itself, outside its card content) cancels.
  document.addEventListener("click", function (event) {
    const dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.matches(".safety-dialog") && dialog.open) {
      const box = dialog.getBoundingClientRect();
      const inside =
        event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) dialog.close();
    }
  });
})();
