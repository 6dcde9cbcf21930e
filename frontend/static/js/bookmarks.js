/* Optimistic save and unsave of a post (docs/api.md §F bookmarks): the like button's pattern. */
(function () {
  "use strict";

  function show(form, saved) {
    const button = form.querySelector("[data-bookmark-button]");
    button.setAttribute("aria-pressed", saved ? "true" : "false");
    button.classList.toggle("is-saved", saved);
    form.action = form.action.replace(/\/(un)?save$/, saved ? "/unsave" : "/save");
  }

  async function toggle(form) {
    if (form.hasAttribute("data-pending")) return;
    const before = form.querySelector("[data-bookmark-button]").getAttribute("aria-pressed") === "true";
    const target = form.action;
    show(form, !before);
    form.setAttribute("data-pending", "");
    const result = await window.Phasma.post(target, new URLSearchParams(new FormData(form)));
    form.removeAttribute("data-pending");
    if (result.ok) {
      window.Phasma.announce(before ? "Removed from saved posts." : "Saved.");
    } else {
      show(form, before);
      window.Phasma.announce("Could not update the saved post. Please try again.");
    }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("[data-bookmark-form]");
    if (!form) return;
    event.preventDefault();
    toggle(form);
  });
})();
