/* Optimistic likes and double-click to like (docs/frontend.md §7.3). */
(function () {
  "use strict";

  function read(form) {
    const button = form.querySelector("[data-like-button]");
    const count = form.querySelector("[data-like-count]");
    return {
      button: button,
      liked: button.getAttribute("aria-pressed") === "true",
      count: parseInt(count.textContent, 10) || 0,
    };
  }

  function show(form, liked, count) {
    const button = form.querySelector("[data-like-button]");
    button.setAttribute("aria-pressed", liked ? "true" : "false");
    button.classList.toggle("is-liked", liked);
    form.querySelector("[data-like-count]").textContent = String(count);
    form.querySelector("[data-like-noun]").textContent = count === 1 ? "like" : "likes";
    form.action = form.action.replace(/\/(un)?like$/, liked ? "/unlike" : "/like");
  }

  async function toggle(form) {
    if (form.hasAttribute("data-pending")) return;
    const before = read(form);
    const target = form.action;
    const liked = !before.liked;
    show(form, liked, Math.max(0, before.count + (liked ? 1 : -1)));
    if (liked) window.Phasma.replay(before.button, "is-popping");
    form.setAttribute("data-pending", "");
    const result = await window.Phasma.post(target, new URLSearchParams(new FormData(form)));
    form.removeAttribute("data-pending");
    if (!result.ok) {
      show(form, before.liked, before.count);
      window.Phasma.announce("Could not update the like. Please try again.");
    }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("[data-like-form]");
    if (!form) return;
    event.preventDefault();
    toggle(form);
  });

  document.addEventListener("dblclick", function (event) {
    const media = event.target.closest("[data-double-like]");
    if (!media) return;
    event.preventDefault();
    const burst = media.querySelector(".like-burst");
    if (burst) window.Phasma.replay(burst, "is-playing");
    const card = media.closest("[data-post]");
    const form = card && card.querySelector("[data-like-form]");
    if (form && !read(form).liked) toggle(form);
  });
})();
