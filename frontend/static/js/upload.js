/* Choosing photos (docs/frontend.md §7.8): resize in the browser before they are sent, preview
 * the first, drag and drop, album order and alt texts, the caption counters. Also drives
 * the avatar on Edit Profile.
 *
 * Resize rules: accept JPEG/PNG/GIF/WEBP; longest side at most 1600 px; draw on white
 * (transparency becomes white); encode JPEG at 0.88, 0.80, 0.72, 0.64 and keep the first
 * result of at most 900 KiB; if none fits, shrink both sides by 0.85 and try again,
 * giving up once a side would reach 320 px. Re-encoding drops EXIF and GPS.
 * The resize only saves bandwidth: a photo the browser cannot decode or shrink (HEIC in
 * most browsers) is sent as it is when it is within the server's 20 MB. */
(function () {
  "use strict";

  const TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
  const ORIGINAL_TYPES = TYPES.concat(["image/heic", "image/heif"]);
  const SERVER_MAX_BYTES = 20000000;
  const MAX_BYTES = 921600;
  const QUALITIES = [0.88, 0.8, 0.72, 0.64];
  const SHRINK = 0.85;
  const MIN_SIDE = 320;

  class ResizeError extends Error {}

  function encode(canvas, quality) {
    return new Promise(function (resolve) {
      canvas.toBlob(resolve, "image/jpeg", quality);
    });
  }

  async function decode(file) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      throw new ResizeError("Could not read image.");
    }
  }

  /** The file as a JPEG within the limits above. */
  async function resize(file, maxSide) {
    if (TYPES.indexOf(file.type) < 0) {
      throw new ResizeError("Choose a JPEG, PNG, GIF, WEBP, or HEIC image.");
    }
    const bitmap = await decode(file);
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    let width = Math.max(1, Math.round(bitmap.width * scale));
    let height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement("canvas");
    for (;;) {
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, width, height);
      context.drawImage(bitmap, 0, 0, width, height);
      for (const quality of QUALITIES) {
        const blob = await encode(canvas, quality);
        if (blob && blob.size <= MAX_BYTES) {
          bitmap.close();
          const base = file.name.replace(/\.[^.]*$/, "") || "upload";
          return new File([blob], base + ".jpg", { type: "image/jpeg" });
        }
      }
      width = Math.round(width * SHRINK);
      height = Math.round(height * SHRINK);
      if (width <= MIN_SIDE || height <= MIN_SIDE) {
        bitmap.close();
        throw new ResizeError("Choose a smaller image.");
      }
    }
  }

  function setStatus(status, text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-error", Boolean(isError));
  }

  /** Resize the file chosen in `input` in place; calls `done(file or null)`. */
  async function prepare(input, status, done) {
    const chosen = input.files && input.files[0];
    if (!chosen) {
      done(null);
      return;
    }
    setStatus(status, "Preparing your photo…", false);
    try {
      let resized;
      try {
        resized = await resize(chosen, Number(input.getAttribute("data-max-side")) || 1600);
      } catch (error) {
        const original = ORIGINAL_TYPES.indexOf(chosen.type) >= 0 || /\.hei[cf]$/i.test(chosen.name);
        if (!original || chosen.size > SERVER_MAX_BYTES) throw error;
        resized = chosen; // the server scales it
      }
      const transfer = new DataTransfer();
      transfer.items.add(resized);
      input.files = transfer.files;
      setStatus(status, "", false);
      done(resized);
    } catch (error) {
      input.value = "";
      const message = error instanceof ResizeError ? error.message : "Could not read image.";
      setStatus(status, message, true);
      done(null);
    }
  }

  /** Resize every chosen file, in order; null (and the reason shown) if any fails. */
  async function prepareAll(files, maxSide, status) {
    setStatus(status, files.length > 1 ? "Preparing your photos…" : "Preparing your photo…", false);
    const resized = [];
    try {
      for (const file of files) resized.push(await resize(file, maxSide));
    } catch (error) {
      const message = error instanceof ResizeError ? error.message : "Could not read image.";
      setStatus(status, message, true);
      return null;
    }
    setStatus(status, "", false);
    return resized;
  }

  function iconButton(label, path, action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "icon-button icon-button-sm";
    button.setAttribute("aria-label", label);
    button.setAttribute("data-move", action);
    button.innerHTML =
      '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="' +
      path + '"/></svg>';
    return button;
  }

  // Several photos make an album (docs/frontend.md §7.8): the list shows them in album order
  // with an alt text each; the up and down buttons or a drag reorder them, and the
  // file input is rewritten in that order, so the form posts them as arranged.
  function setUpPost(form) {
    const input = form.querySelector("[data-image-input]");
    const share = form.querySelector("[data-share-button]");
    const status = form.querySelector("[data-upload-status]");
    const target = form.querySelector("[data-drop-target]");
    const preview = form.querySelector("[data-preview]");
    const image = form.querySelector("[data-preview-image]");
    const zone = form.querySelector("[data-drop-zone]");
    const list = form.querySelector("[data-upload-list]");
    const singleAlt = form.querySelector("[data-single-alt]");
    const singleAltField = singleAlt.querySelector("textarea");
    const maxFiles = Number(input.getAttribute("data-max-files")) || 10;
    const maxSide = Number(input.getAttribute("data-max-side")) || 1600;
    let items = []; // { file, url, alt } in album order
    let ready = false;
    let dragged = -1;

    function setReady(value) {
      ready = value;
      share.disabled = !value;
    }

    function clear() {
      items.forEach(function (item) { URL.revokeObjectURL(item.url); });
      items = [];
    }

    function render(focus) {
      const transfer = new DataTransfer();
      items.forEach(function (item) { transfer.items.add(item.file); });
      input.files = transfer.files;
      list.textContent = "";
      const count = items.length;
      // One photo keeps the one alt text field; an album gets a field per photo.
      const album = count > 1;
      if (!album && count) items[0].alt = singleAltField.value;
      (album ? items : []).forEach(function (item, index) {
        const row = document.createElement("li");
        row.className = "upload-item";
        row.draggable = true;
        row.setAttribute("data-index", String(index));
        const thumb = document.createElement("img");
        thumb.className = "upload-thumb";
        thumb.src = item.url;
        thumb.alt = "";
        const field = document.createElement("textarea");
        field.className = "textarea textarea-short";
        field.name = "alt_texts";
        field.rows = 2;
        field.maxLength = 1000;
        field.value = item.alt;
        field.placeholder = "Describe this photo for people who use screen readers";
        field.setAttribute("aria-label", "Alt text for photo " + (index + 1) + " of " + count);
        field.addEventListener("input", function () { item.alt = field.value; });
        const label = document.createElement("span");
        label.className = "upload-item-label";
        label.textContent = "Photo " + (index + 1);
        const moves = document.createElement("div");
        moves.className = "upload-moves";
        const up = iconButton("Move photo " + (index + 1) + " up", "m18 15-6-6-6 6", "up");
        const down = iconButton("Move photo " + (index + 1) + " down", "m6 9 6 6 6-6", "down");
        up.disabled = index === 0;
        down.disabled = index === count - 1;
        moves.append(up, down);
        row.append(thumb, label, field, moves);
        list.append(row);
      });
      list.hidden = !album;
      singleAlt.hidden = album;
      singleAltField.disabled = album;
      if (count) {
        image.src = items[0].url;
        target.hidden = true;
        preview.hidden = false;
      } else {
        target.hidden = false;
        preview.hidden = true;
      }
      setReady(count > 0);
      if (focus) {
        const row = list.children[focus.index];
        const button = row && row.querySelector('[data-move="' + focus.action + '"]');
        (button && !button.disabled ? button : row.querySelector("[data-move]:not(:disabled)")).focus();
      }
    }

    function move(from, to) {
      if (to < 0 || to >= items.length || from === to) return;
      const moved = items.splice(from, 1)[0];
      items.splice(to, 0, moved);
    }

    async function choose(files) {
      setReady(false);
      let chosen = Array.from(files || []);
      if (chosen.length > maxFiles) chosen = chosen.slice(0, maxFiles);
      const resized = chosen.length ? await prepareAll(chosen, maxSide, status) : null;
      const alt = items.length > 1 ? items[0].alt : singleAltField.value;
      clear();
      if (resized) {
        items = resized.map(function (file, index) {
          return { file: file, url: URL.createObjectURL(file), alt: index === 0 ? alt : "" };
        });
        singleAltField.value = alt;
        singleAltField.dispatchEvent(new Event("input")); // its counter
        if (files.length > maxFiles) {
          setStatus(status, "Only the first " + maxFiles + " photos were kept.", true);
        }
      }
      render(null);
      if (items.length) {
        window.Phasma.announce(items.length > 1 ? items.length + " photos ready to share." : "Photo ready to share.");
      }
    }

    setReady(false);
    input.addEventListener("change", function () {
      choose(input.files);
    });

    list.addEventListener("click", function (event) {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      const index = Number(button.closest("[data-index]").getAttribute("data-index"));
      const action = button.getAttribute("data-move");
      const to = action === "up" ? index - 1 : index + 1;
      move(index, to);
      render({ index: to, action: action });
      window.Phasma.announce("Photo moved to position " + (to + 1) + " of " + items.length + ".");
    });
    list.addEventListener("dragstart", function (event) {
      const row = event.target.closest("[data-index]");
      if (!row) return;
      dragged = Number(row.getAttribute("data-index"));
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(dragged));
    });
    list.addEventListener("dragover", function (event) {
      if (dragged < 0) return;
      event.preventDefault();
      event.stopPropagation();
    });
    list.addEventListener("drop", function (event) {
      const row = event.target.closest("[data-index]");
      if (dragged < 0 || !row) return;
      event.preventDefault();
      event.stopPropagation();
      move(dragged, Number(row.getAttribute("data-index")));
      dragged = -1;
      render(null);
    });
    list.addEventListener("dragend", function () {
      dragged = -1;
    });

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        if (dragged >= 0) return;
        event.preventDefault();
        zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.remove("is-dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      const files = event.dataTransfer && event.dataTransfer.files;
      if (dragged >= 0 || !files || !files.length) return;
      choose(files);
    });

    form.addEventListener("submit", function (event) {
      if (!ready || form.hasAttribute("data-submitting")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitting", "");
      share.disabled = true;
      share.textContent = share.getAttribute("data-busy-label");
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      form.removeAttribute("data-submitting");
      share.textContent = "Share";
      setReady(items.length > 0);
    });
  }

  function setUpAvatar(form) {
    const input = form.querySelector("[data-image-input]");
    const avatar = form.querySelector("[data-avatar-preview]");
    const status = form.querySelector("[data-upload-status]");
    const remove = form.querySelector("[data-avatar-remove] input");
    const original = avatar.src;
    let previewUrl = "";

    input.addEventListener("change", function () {
      prepare(input, status, function (file) {
        if (previewUrl) URL.revokeObjectURL(previewUrl);
        previewUrl = file ? URL.createObjectURL(file) : "";
        avatar.src = previewUrl || original;
        if (file && remove) remove.checked = false;
      });
    });
    if (remove) {
      remove.addEventListener("change", function () {
        if (remove.checked) {
          input.value = "";
          avatar.src = avatar.getAttribute("data-placeholder");
        } else {
          avatar.src = original;
        }
      });
    }
  }

  // Counters for caption, alt text and bio. A field over its limit says so (the chip
  // and the browser's own validation message) rather than being cut: the server
  // refuses it with the same words when scripts are off.
  function setUpCounters() {
    document.querySelectorAll("[data-counter-for]").forEach(function (chip) {
      const field = document.getElementById(chip.getAttribute("data-counter-for"));
      if (!field) return;
      const limit =
        Number(field.getAttribute("data-max-chars") || field.getAttribute("maxlength")) || 1000;
      const tooLong = field.getAttribute("data-too-long") || "";
      function update() {
        const length = Array.from(field.value).length;
        const over = length > limit;
        chip.textContent = length + "/" + limit;
        chip.classList.toggle("is-over", over);
        field.setCustomValidity(over ? tooLong : "");
        if (over) field.setAttribute("aria-invalid", "true");
        else if (!field.hasAttribute("data-server-invalid")) field.removeAttribute("aria-invalid");
      }
      field.addEventListener("input", update);
      update();
    });
  }

  window.Phasma.ready(function () {
    document.querySelectorAll("[data-upload-form]").forEach(setUpPost);
    document.querySelectorAll("[data-avatar-form]").forEach(setUpAvatar);
    setUpCounters();
  });
})();
