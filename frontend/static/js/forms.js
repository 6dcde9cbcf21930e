/* Form niceties: Show/Hide passwords, busy labels, lowercase usernames, session revoke. */
(function () {
  "use strict";

  function setUpPasswords() {
    document.querySelectorAll("[data-password-toggle]").forEach(function (toggle) {
      const input = document.getElementById(toggle.getAttribute("aria-controls"));
      if (!input) return;
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        const show = input.type === "password";
        input.type = show ? "text" : "password";
        toggle.textContent = show ? "Hide" : "Show";
        toggle.setAttribute("aria-pressed", show ? "true" : "false");
        toggle.setAttribute("aria-label", (show ? "Hide " : "Show ") + "password");
      });
      toggle.setAttribute("aria-label", "Show password");
    });
  }

  function setUpBusyForms() {
    document.querySelectorAll("[data-busy-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) return;
        const button = form.querySelector("[data-busy-label]");
        if (!button) return;
        if (form.hasAttribute("data-submitting")) {
          event.preventDefault(); // a second click while the first submission is on its way
          return;
        }
        form.setAttribute("data-submitting", "");
        button.textContent = button.getAttribute("data-busy-label");
        button.setAttribute("aria-disabled", "true");
      });
    });
    // Back/forward cache restores the page as it was left: make the forms usable again.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      document.querySelectorAll("[data-submitting]").forEach(function (form) {
        form.removeAttribute("data-submitting");
      });
    });
  }

  function setUpLowercase() {
    document.querySelectorAll("[data-lowercase]").forEach(function (input) {
      input.addEventListener("input", function () {
        const lower = input.value.toLowerCase();
        if (lower !== input.value) {
          const position = input.selectionStart;
          input.value = lower;
          input.setSelectionRange(position, position);
        }
      });
    });
  }

  function setUpSessionRevoke() {
    document.addEventListener("submit", async function (event) {
      const form = event.target.closest("[data-session-revoke]");
      if (!form) return;
      event.preventDefault();
      const button = form.querySelector("button");
      if (button.classList.contains("is-busy")) return;
      button.classList.add("is-busy");
      button.disabled = true;
      const result = await window.Phasma.submitForm(form);
      button.classList.remove("is-busy");
      button.disabled = false;
      const box = document.querySelector("[data-session-error]");
      if (result.ok) {
        form.closest("[data-session]").remove();
        if (box) box.textContent = "";
        window.Phasma.announce("Session revoked.");
        return;
      }
      const message = (result.data && result.data.error) || "Could not revoke the session. Please try again.";
      if (box) {
        box.textContent = "";
        const alert = document.createElement("div");
        alert.className = "error-box";
        alert.setAttribute("role", "alert");
        alert.textContent = message;
        box.appendChild(alert);
      }
    });
  }

  window.Phasma.ready(function () {
    setUpPasswords();
    setUpBusyForms();
    setUpLowercase();
    setUpSessionRevoke();
  });
})();
