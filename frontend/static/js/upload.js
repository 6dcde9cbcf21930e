/* Choosing a photo (frontend.md §7.8): resize in the browser before it is sent, preview
 * it, drag and drop, the caption counters. Also drives the avatar on Edit Profile.
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

  function setUpPost(form) {
    const input = form.querySelector("[data-image-input]");
    const share = form.querySelector("[data-share-button]");
    const status = form.querySelector("[data-upload-status]");
    const target = form.querySelector("[data-drop-target]");
    const preview = form.querySelector("[data-preview]");
    const image = form.querySelector("[data-preview-image]");
    const zone = form.querySelector("[data-drop-zone]");
    let previewUrl = "";
    let ready = false;

    function setReady(value) {
      ready = value;
      share.disabled = !value;
    }

    function show(file) {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = "";
      if (!file) {
        setReady(false);
        target.hidden = false;
        preview.hidden = true;
        return;
      }
      previewUrl = URL.createObjectURL(file);
      image.src = previewUrl;
      target.hidden = true;
      preview.hidden = false;
      setReady(true);
      window.Phasma.announce("Photo ready to share.");
    }

    setReady(false);
    input.addEventListener("change", function () {
      setReady(false);
      prepare(input, status, show);
    });

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
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
      if (!files || !files.length) return;
      const transfer = new DataTransfer();
      transfer.items.add(files[0]);
      input.files = transfer.files;
      setReady(false);
      prepare(input, status, show);
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
      setReady(Boolean(input.files && input.files.length));
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
