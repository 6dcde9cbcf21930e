/* The comment composer and comment deletion on a post page (docs/frontend.md §7.4). */
(function () {
  "use strict";

  function setTotal(delta) {
    document.querySelectorAll("[data-comment-total]").forEach(function (label) {
      const value = Math.max(0, (parseInt(label.textContent, 10) || 0) + delta);
      label.textContent = value + (value === 1 ? " comment" : " comments");
    });
  }

  function showError(message) {
    const box = document.querySelector("[data-comment-error]");
    if (!box) return;
    box.textContent = "";
    if (!message) return;
    const alert = document.createElement("div");
    alert.className = "error-box";
    alert.setAttribute("role", "alert");
    alert.textContent = message;
    box.appendChild(alert);
  }

  function setUpComposer(form) {
    const input = form.querySelector("input[name=body]");
    const send = form.querySelector("[data-comment-send]");
    const list = document.querySelector("[data-comment-list]");
    let submitting = false;

    function refresh() {
      send.disabled = submitting || input.value.trim() === "";
      send.classList.toggle("is-busy", submitting);
    }

    input.addEventListener("input", refresh);
    refresh();

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (submitting || input.value.trim() === "") return;
      submitting = true;
      refresh();
      const result = await window.Phasma.submitForm(form);
      submitting = false;
      if (result.ok && result.data.html) {
        const template = document.createElement("template");
        template.innerHTML = result.data.html.trim();
        list.prepend(template.content);
        setTotal(1);
        input.value = "";
        showError("");
        window.Phasma.announce("Comment posted.");
      } else {
        showError((result.data && result.data.error) || "Something went wrong. Please try again.");
      }
      refresh();
      input.focus();
    });
  }

  // Confirmed in the delete dialog (dialog.js): remove the row at once, put it back if
  // the server refuses.
  document.addEventListener("phasma:delete-comment", async function (event) {
    const row = document.getElementById("comment-" + event.detail.id);
    if (!row) return;
    const list = row.parentElement;
    const index = Array.from(list.children).indexOf(row);
    row.remove();
    setTotal(-1);
    const composer = document.querySelector("[data-comment-form] input[name=body]");
    if (composer) composer.focus();
    const result = await window.Phasma.post(event.detail.action, new URLSearchParams());
    if (result.ok) {
      window.Phasma.announce("Comment deleted.");
      return;
    }
    list.insertBefore(row, list.children[index] || null);
    setTotal(1);
    showError((result.data && result.data.error) || "Could not delete the comment. Please try again.");
  });

  window.Phasma.ready(function () {
    document.querySelectorAll("[data-comment-form]").forEach(setUpComposer);
  });
})();
