/* "Load More" (docs/frontend.md §5): fetch the next page's items as HTML fragments. */
(function () {
  "use strict";

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("[data-load-more-button]");
    if (!button) return;
    event.preventDefault();
    if (button.classList.contains("is-busy")) return;
    const block = button.closest("[data-load-more]");
    const list = document.getElementById(block.getAttribute("data-target"));
    const error = block.querySelector("[data-load-more-error]");
    const url = block.getAttribute("data-url");
    const cursor = button.getAttribute("data-next-cursor");
    const separator = url.indexOf("?") >= 0 ? "&" : "?";
    button.classList.add("is-busy");
    button.setAttribute("aria-disabled", "true");
    error.hidden = true;
    // Whom the page is for: the fragment's buttons follow it without a viewer call.
    const viewer = document.querySelector('meta[name="phasma-viewer"]');
    const headers = { "X-Phasma-Fragment": "1" };
    if (viewer) headers["X-Phasma-Viewer"] = viewer.getAttribute("content");
    let response = null;
    try {
      response = await fetch(url + separator + "cursor=" + encodeURIComponent(cursor), {
        credentials: "same-origin",
        headers: headers,
      });
    } catch (failure) {
      response = null;
    }
    button.classList.remove("is-busy");
    button.removeAttribute("aria-disabled");
    if (!response || !response.ok) {
      error.textContent = window.Phasma.loadMoreMessage(response ? response.status : 0);
      error.hidden = false;
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    const added = Array.from(template.content.children);
    list.append(template.content);
    window.Phasma.paintPlaceholders(list);
    const next = response.headers.get("X-Next-Cursor");
    if (next && added.length) {
      button.setAttribute("data-next-cursor", next);
    } else {
      block.remove();
    }
    window.Phasma.announce(added.length + " more loaded");
    const first = added[0] && added[0].querySelector("a[href], button");
    if (first) first.focus({ preventScroll: true });
  });
})();
