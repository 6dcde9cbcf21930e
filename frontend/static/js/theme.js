/* Appearance (docs/frontend.md §3.3): the theme cookie, localStorage mirror, other tabs. */
(function () {
  "use strict";

  const THEMES = ["light", "dark", "system"];
  const YEAR = 31536000;

  function apply(theme) {
    const value = THEMES.indexOf(theme) >= 0 ? theme : "system";
    document.documentElement.setAttribute("data-theme", value);
    document.querySelectorAll("[data-theme-choice]").forEach(function (button) {
      const active = button.getAttribute("data-theme-choice") === value;
      button.classList.toggle("is-active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    });
    return value;
  }

  function choose(theme) {
    const value = apply(theme);
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "theme=" + value + "; Path=/; Max-Age=" + YEAR + "; SameSite=Lax" + secure;
    try {
      if (value === "system") window.localStorage.removeItem("theme");
      else window.localStorage.setItem("theme", value);
    } catch (error) {
      /* storage unavailable (private mode): the cookie alone still works */
    }
  }

  window.addEventListener("storage", function (event) {
    if (event.key === "theme") apply(event.newValue || "system");
  });

  window.Phasma.ready(function () {
    document.querySelectorAll("[data-theme-form]").forEach(function (form) {
      form.addEventListener("click", function (event) {
        const button = event.target.closest("[data-theme-choice]");
        if (!button) return;
        event.preventDefault();
        choose(button.getAttribute("data-theme-choice"));
        window.Phasma.announce("Theme: " + button.textContent.trim());
      });
    });
  });
})();
