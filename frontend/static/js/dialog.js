/* The "Delete post?" and "Delete comment?" dialog (docs/frontend.md §7.3, §7.4): without JS
 * the trash links to a confirmation page; with JS it opens this modal over a dimmed
 * backdrop. A post's dialog posts its form; a comment's hands the deletion to comments.js
 * (the `phasma:delete-comment` event), which removes the row at once. */
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
    const comment = trigger.getAttribute("data-delete-comment");
    const kind = comment ? "comment" : "post";
    const form = backdrop.querySelector("[data-delete-form]");
    form.action = comment
      ? trigger.getAttribute("href")
      : "/posts/" + trigger.getAttribute("data-delete-post") + "/delete";
    if (comment) form.setAttribute("data-comment-id", comment);
    else form.removeAttribute("data-comment-id");
    backdrop.querySelector("[data-dialog-title]").textContent = backdrop.getAttribute("data-" + kind + "-title");
    backdrop.querySelector("[data-dialog-text]").textContent = backdrop.getAttribute("data-" + kind + "-text");
    backdrop.hidden = false;
    backdrop.querySelector("[data-dialog-cancel]").focus();
    return true;
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("[data-delete-form][data-comment-id]");
    if (!form) return;
    event.preventDefault();
    const detail = { id: form.getAttribute("data-comment-id"), action: form.action };
    opener = null; // its row is about to go: comments.js moves the focus
    close();
    document.dispatchEvent(new CustomEvent("phasma:delete-comment", { detail: detail }));
  });

  document.addEventListener("click", function (event) {
    const trigger = event.target.closest("[data-delete-post], [data-delete-comment]");
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
