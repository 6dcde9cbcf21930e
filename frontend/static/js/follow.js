/* Optimistic follow and unfollow (docs/frontend.md §7.5, §7.6): every button for the same
 * person flips at once, the profile's follower count moves by one, and a failure
 * puts everything back. */
(function () {
  "use strict";

  function formsFor(username) {
    return Array.from(document.querySelectorAll("[data-follow-form]")).filter(function (form) {
      return form.getAttribute("data-username") === username;
    });
  }

  function show(form, following, busy) {
    const button = form.querySelector("[data-follow-button]");
    button.setAttribute("aria-pressed", following ? "true" : "false");
    button.classList.toggle("pill-outline", following);
    button.classList.toggle("pill-solid", !following);
    button.classList.toggle("is-busy", busy);
    button.disabled = busy;
    form.querySelector("[data-follow-label]").textContent = following ? "Unfollow" : "Follow";
    form.action = form.action.replace(/\/(un)?follow$/, following ? "/unfollow" : "/follow");
  }

  function moveFollowers(username, delta) {
    const header = document.querySelector('[data-profile="' + CSS.escape(username) + '"]');
    if (!header) return;
    const count = header.querySelector("[data-follower-count]");
    const noun = header.querySelector("[data-follower-noun]");
    const value = Math.max(0, (parseInt(count.textContent, 10) || 0) + delta);
    count.textContent = String(value);
    noun.textContent = value === 1 ? "follower" : "followers";
  }

  /* A hashtag's page (frontend.md, "Tag pages"): the same optimistic flip for a tag. */
  document.addEventListener("submit", async function (event) {
    const form = event.target.closest("[data-tag-follow-form]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("[data-follow-button]");
    if (button.disabled) return;
    const tag = form.getAttribute("data-tag");
    const target = form.action;
    const following = button.getAttribute("aria-pressed") !== "true";
    show(form, following, true);
    const result = await window.Phasma.post(target, new URLSearchParams(new FormData(form)));
    if (result.ok) {
      show(form, following, false);
      window.Phasma.announce(following ? "Following #" + tag : "Unfollowed #" + tag);
      return;
    }
    show(form, !following, false);
    window.Phasma.announce("Could not update follow status.");
  });

  document.addEventListener("submit", async function (event) {
    const form = event.target.closest("[data-follow-form]");
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector("[data-follow-button]");
    if (button.disabled) return;
    const username = form.getAttribute("data-username");
    const target = form.action;
    const following = button.getAttribute("aria-pressed") !== "true";
    const forms = formsFor(username);
    forms.forEach(function (each) {
      show(each, following, true);
    });
    moveFollowers(username, following ? 1 : -1);
    const result = await window.Phasma.post(target, new URLSearchParams(new FormData(form)));
    if (result.ok) {
      forms.forEach(function (each) {
        show(each, following, false);
      });
      window.Phasma.announce(following ? "Following @" + username : "Unfollowed @" + username);
      return;
    }
    forms.forEach(function (each) {
      show(each, !following, false);
    });
    moveFollowers(username, following ? -1 : 1);
    window.Phasma.announce("Could not update follow status.");
  });
})();
