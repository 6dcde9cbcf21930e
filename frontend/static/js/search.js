/* Search (docs/frontend.md §7.6): typeahead with interleaved users and hashtags and keyboard
 * navigation, recent searches in the same sheet, and the discovery row's edge fades.
 * The caption and comment boxes complete the `@name` or `#tag` under the caret from the
 * same suggestions (`[data-compose-typeahead]`, the original product's activeToken). */
(function () {
  "use strict";

  const DEBOUNCE_MS = 150;
  const MAX_ROWS = 10;
  const MAX_QUERY = 50;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function icon(name) {
    const svg = document.querySelector(".icon-" + name);
    if (svg) return svg.cloneNode(true);
    return element("span", "", name === "hash" ? "#" : "");
  }

  /** Alternate user, hashtag, user, ... skipping a side once it runs out. */
  function interleave(users, hashtags) {
    const merged = [];
    for (let index = 0; merged.length < MAX_ROWS; index++) {
      if (index >= users.length && index >= hashtags.length) break;
      if (index < users.length) merged.push({ type: "users", item: users[index] });
      if (index < hashtags.length && merged.length < MAX_ROWS) {
        merged.push({ type: "hashtags", item: hashtags[index] });
      }
    }
    return merged;
  }

  function record(type, reference) {
    const value = String(reference || "").trim();
    if (!value || value.length > MAX_QUERY) return;
    fetch("/search/recent", {
      method: "POST",
      credentials: "same-origin",
      keepalive: true, // the page is about to navigate away
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ type: type, reference: value }),
    }).catch(function () {
      /* fire-and-forget */
    });
  }

  /** The site's `/suggest` answers for `text`, one list per type (empty on any failure). */
  function fetchSuggestions(types, text) {
    return Promise.all(
      types.map(function (type) {
        const url = "/suggest?type=" + type + "&q=" + encodeURIComponent(text);
        return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            return response.ok ? response.json() : { items: [] };
          })
          .catch(function () {
            return { items: [] };
          });
      }),
    ).then(function (answers) {
      const found = {};
      types.forEach(function (type, position) {
        found[type] = answers[position].items || [];
      });
      return found;
    });
  }

  /** One suggestion as a listbox option: an avatar or a hash disc, a title and a line. */
  function option(entry, id) {
    const item = entry.item;
    const li = element("li", "sheet-row");
    li.id = id;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    // An option holds no link of its own (no nested controls): the row itself picks.
    const link = element("span", "sheet-link");
    const text = element("span", "sheet-text");
    if (entry.type === "users") {
      const avatar = element("img", "avatar avatar-40");
      avatar.src = item.avatarUrl || "/assets/placeholder.svg";
      avatar.alt = "";
      avatar.width = 40;
      avatar.height = 40;
      link.appendChild(avatar);
      text.appendChild(element("span", "sheet-title", item.name || item.username));
      text.appendChild(element("span", "sheet-sub", "@" + item.username));
    } else {
      const disc = element("span", "sheet-disc");
      disc.appendChild(icon("hash"));
      link.appendChild(disc);
      const posts = Number(item.postCount) || 0;
      text.appendChild(element("span", "sheet-title", "#" + item.name));
      text.appendChild(element("span", "sheet-sub", posts + (posts === 1 ? " post" : " posts")));
    }
    link.appendChild(text);
    li.appendChild(link);
    return li;
  }

  function setUp(root) {
    const form = root.querySelector("[data-search-form]");
    const input = root.querySelector("[data-search-input]");
    const sheet = root.querySelector("[data-search-sheet]");
    const list = root.querySelector("[data-suggestions]");
    const scrim = root.querySelector("[data-search-scrim]");
    const clear = root.querySelector("[data-search-clear]");
    const recentSlot = root.querySelector("[data-recent-slot]");
    const recentPanel = root.querySelector("[data-recent-panel]");
    const shownQuery = input.value.trim();
    let token = 0;
    let timer = 0;
    let rows = [];
    let highlight = -1;
    let arrowUsed = false;

    if (recentPanel) recentSlot.appendChild(recentPanel); // the sheet shows it from now on

    function recentRows() {
      return recentPanel ? Array.from(recentPanel.querySelectorAll("[data-recent-id]")) : [];
    }

    function close() {
      token++; // answers still on their way are dropped
      window.clearTimeout(timer);
      sheet.hidden = true;
      scrim.hidden = true;
      root.classList.remove("is-open");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      list.textContent = "";
      rows = [];
      highlight = -1;
    }

    function open(kind) {
      sheet.hidden = false;
      scrim.hidden = false;
      root.classList.add("is-open");
      input.setAttribute("aria-expanded", "true");
      list.hidden = kind !== "suggestions";
      recentSlot.hidden = kind !== "recent";
    }

    function showRecent() {
      if (recentRows().length === 0) {
        close();
        return;
      }
      list.textContent = "";
      rows = [];
      open("recent");
    }

    function setHighlight(index) {
      highlight = index;
      Array.from(list.children).forEach(function (row, position) {
        const active = position === index;
        row.classList.toggle("is-active", active);
        row.setAttribute("aria-selected", active ? "true" : "false");
      });
      if (index >= 0 && list.children[index]) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function destination(entry) {
      return entry.type === "users"
        ? "/@" + encodeURIComponent(entry.item.username)
        : "/tags/" + encodeURIComponent(String(entry.item.name).toLowerCase());
    }

    function pick(entry) {
      close();
      record(entry.type, entry.type === "users" ? entry.item.username : entry.item.name);
      window.location.assign(destination(entry));
    }

    function row(entry, index) {
      const li = option(entry, "suggestion-" + index);
      li.addEventListener("mousemove", function () {
        if (highlight !== index) setHighlight(index);
      });
      li.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep focus in the input until the pick navigates
      });
      li.addEventListener("click", function () {
        pick(entry);
      });
      return li;
    }

    async function suggest(raw) {
      let text = raw.trim();
      let types = ["users", "hashtags"];
      if (text.charAt(0) === "@") {
        types = ["users"];
        text = text.slice(1).trim();
      } else if (text.charAt(0) === "#") {
        types = ["hashtags"];
        text = text.slice(1).trim();
      }
      if (!text || text.length > MAX_QUERY) {
        close();
        return;
      }
      const mine = ++token;
      const found = await fetchSuggestions(types, text);
      if (mine !== token || document.activeElement !== input) return; // late or dismissed
      rows = interleave(found.users || [], found.hashtags || []);
      list.textContent = "";
      if (rows.length === 0) {
        close();
        return;
      }
      rows.forEach(function (entry, index) {
        list.appendChild(row(entry, index));
      });
      arrowUsed = false;
      open("suggestions");
      setHighlight(0);
    }

    input.addEventListener("input", function () {
      clear.hidden = input.value === "";
      window.clearTimeout(timer);
      if (input.value.trim() === "") {
        if (shownQuery) {
          window.location.assign("/search");
          return;
        }
        showRecent();
        return;
      }
      timer = window.setTimeout(function () {
        suggest(input.value);
      }, DEBOUNCE_MS);
    });

    input.addEventListener("focus", function () {
      if (input.value.trim() === "") showRecent();
      else suggest(input.value);
    });

    input.addEventListener("keydown", function (event) {
      const suggesting = !sheet.hidden && !list.hidden && rows.length > 0;
      if (event.key === "ArrowDown" && suggesting) {
        event.preventDefault();
        arrowUsed = true;
        setHighlight((highlight + 1) % rows.length);
      } else if (event.key === "ArrowUp" && suggesting) {
        event.preventDefault();
        arrowUsed = true;
        setHighlight((highlight - 1 + rows.length) % rows.length);
      } else if (event.key === "Enter" && suggesting && arrowUsed && highlight >= 0) {
        event.preventDefault();
        pick(rows[highlight]);
      } else if (event.key === "Escape") {
        if (!sheet.hidden) event.preventDefault();
        close();
      }
    });

    form.addEventListener("submit", function (event) {
      if (event.target !== form) return; // a recent-search form inside the sheet
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      close();
      record("posts", text);
      window.location.assign("/search?q=" + encodeURIComponent(text));
    });

    form.addEventListener("focusout", function (event) {
      if (!event.relatedTarget || !form.contains(event.relatedTarget)) close();
    });

    scrim.addEventListener("click", close);

    clear.addEventListener("click", function (event) {
      if (shownQuery) return; // the link goes back to discovery
      event.preventDefault();
      input.value = "";
      clear.hidden = true;
      input.focus();
      showRecent();
    });

    function restore(rowsBefore) {
      const target = recentPanel.querySelector("[data-recent-list]");
      target.textContent = "";
      rowsBefore.forEach(function (each) {
        target.appendChild(each);
      });
    }

    if (recentPanel) {
      recentPanel.addEventListener("submit", async function (event) {
        const removeForm = event.target.closest("[data-recent-remove]");
        const clearForm = event.target.closest("[data-recent-clear]");
        if (!removeForm && !clearForm) return;
        event.preventDefault();
        const before = recentRows();
        const target = recentPanel.querySelector("[data-recent-list]");
        if (removeForm) {
          removeForm.closest("[data-recent-id]").remove();
        } else {
          target.textContent = "";
        }
        input.focus(); // keep the sheet open for the next action
        if (recentRows().length === 0) close();
        const result = await window.Phasma.submitForm(removeForm || clearForm);
        if (!result.ok) {
          restore(before);
          window.Phasma.announce("Could not update recent searches.");
          if (document.activeElement === input && input.value.trim() === "") showRecent();
        }
      });
    }
  }

  // The token under the caret: `@` or `#` after the start or a non-word character, then
  // what the server would take as the name (phasma/text.py), up to the caret.
  const ACTIVE_TOKEN = /(^|[^A-Za-z0-9_.@#])([@#])([A-Za-z0-9._]{1,30})$/;
  const TOKEN_TAIL = /^[A-Za-z0-9._]*/;
  let composeCount = 0;

  /** `@` and `#` completion in a caption or comment box: an ARIA listbox the field
   * controls; arrows move, Enter or Tab picks, Escape closes, and the field keeps focus. */
  function setUpCompose(field) {
    const number = ++composeCount;
    const host = field.parentElement;
    const list = element("ul", "sheet-list compose-suggestions");
    list.id = "compose-suggestions-" + number;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    field.insertAdjacentElement("afterend", list);
    host.classList.add("compose-host");
    // An <input> is a combobox; a <textarea> may not take that role, so it stays a
    // textbox that owns the list (aria-autocomplete, aria-controls, active descendant).
    const combobox = field.tagName === "INPUT";
    if (combobox) {
      field.setAttribute("role", "combobox");
      field.setAttribute("aria-expanded", "false");
    }
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", list.id);
    let token = 0;
    let timer = 0;
    let rows = [];
    let highlight = -1;
    let active = null; // {start, end, kind}: the token the list completes

    function close() {
      token++;
      window.clearTimeout(timer);
      list.hidden = true;
      list.textContent = "";
      rows = [];
      highlight = -1;
      active = null;
      if (combobox) field.setAttribute("aria-expanded", "false");
      field.removeAttribute("aria-activedescendant");
    }

    function setHighlight(index) {
      highlight = index;
      Array.from(list.children).forEach(function (row, position) {
        row.classList.toggle("is-active", position === index);
        row.setAttribute("aria-selected", position === index ? "true" : "false");
      });
      if (list.children[index]) {
        field.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      }
    }

    /** The `@`/`#` token the caret is in, or null (a selection completes nothing). */
    function tokenAtCaret() {
      if (field.selectionStart !== field.selectionEnd) return null;
      const caret = field.selectionStart;
      const match = ACTIVE_TOKEN.exec(field.value.slice(0, caret));
      if (!match) return null;
      const kind = match[2] === "@" ? "users" : "hashtags";
      const text = match[3];
      if (kind === "hashtags" && /[.]/.test(text)) return null; // a tag has no dots
      const tail = TOKEN_TAIL.exec(field.value.slice(caret))[0];
      return { start: caret - text.length - 1, end: caret + tail.length, kind: kind, text: text };
    }

    function pick(entry) {
      const chosen = active;
      close();
      if (!chosen) return;
      const sigil = entry.type === "users" ? "@" : "#";
      const name = entry.type === "users" ? entry.item.username : entry.item.name;
      const before = field.value.slice(0, chosen.start) + sigil + name;
      const after = field.value.slice(chosen.end);
      const spaced = /^\s/.test(after) ? after : " " + after;
      field.value = before + spaced;
      field.setSelectionRange(before.length + 1, before.length + 1);
      // Counters and the form's own checks listen for input; the caret is past the token now.
      field.dispatchEvent(new Event("input", { bubbles: true }));
      window.Phasma.announce(sigil + name + " inserted.");
    }

    async function suggest() {
      const found = tokenAtCaret();
      if (!found) {
        close();
        return;
      }
      const mine = ++token;
      const answers = await fetchSuggestions([found.kind], found.text);
      if (mine !== token || document.activeElement !== field) return; // late or dismissed
      rows = (answers[found.kind] || []).slice(0, MAX_ROWS).map(function (item) {
        return { type: found.kind, item: item };
      });
      list.textContent = "";
      if (rows.length === 0) {
        close();
        return;
      }
      active = found;
      rows.forEach(function (entry, index) {
        const li = option(entry, list.id + "-" + index);
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // the field keeps focus and its caret
        });
        li.addEventListener("click", function () {
          pick(entry);
        });
        list.appendChild(li);
      });
      // Just under the field; a caption's list is as wide as its box, a comment's spans the
      // whole composer (its input sits between the avatar and the send button).
      list.style.top = field.offsetTop + field.offsetHeight + 4 + "px";
      if (!combobox) {
        list.style.left = field.offsetLeft + "px";
        list.style.width = field.offsetWidth + "px";
      }
      list.hidden = false;
      if (combobox) field.setAttribute("aria-expanded", "true");
      setHighlight(0);
      window.Phasma.announce(rows.length + (rows.length === 1 ? " suggestion." : " suggestions."));
    }

    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      if (!tokenAtCaret()) {
        close();
        return;
      }
      timer = window.setTimeout(suggest, DEBOUNCE_MS);
    });

    field.addEventListener("keydown", function (event) {
      if (list.hidden || rows.length === 0) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        setHighlight((highlight + 1) % rows.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setHighlight((highlight - 1 + rows.length) % rows.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && highlight >= 0 && !event.shiftKey) {
        event.preventDefault(); // neither a new line, a sent comment nor a focus move
        pick(rows[highlight]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // a surrounding dialog stays open
        close();
      }
    });

    field.addEventListener("blur", close);
    field.addEventListener("click", function () {
      if (!list.hidden && !tokenAtCaret()) close(); // the caret left the token
    });
  }

  function setUpFades(wrap) {
    const row = wrap.querySelector("[data-scroll-row]");
    if (!row) return;
    function update() {
      wrap.classList.toggle("fade-start", row.scrollLeft > 1);
      wrap.classList.toggle("fade-end", row.scrollLeft + row.clientWidth < row.scrollWidth - 1);
    }
    row.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  }

  window.Phasma.ready(function () {
    document.querySelectorAll("[data-search]").forEach(setUp);
    document.querySelectorAll("[data-scroll-fade]").forEach(setUpFades);
    document.querySelectorAll("[data-compose-typeahead]").forEach(setUpCompose);
  });
})();
