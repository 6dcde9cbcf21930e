/* Blurhash placeholders (issue 6): the image's blurred colours paint a small canvas
 * behind it until the bytes arrive. Decoder after the reference algorithm
 * (github.com/woltapp/blurhash, MIT); 32x32 pixels are plenty once stretched. */
(function () {
  "use strict";

  const DIGITS =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  const SIZE = 32;

  function decode83(text) {
    let value = 0;
    for (let index = 0; index < text.length; index++) {
      const digit = DIGITS.indexOf(text[index]);
      if (digit < 0) throw new Error("not a blurhash");
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(value) {
    const v = value / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  function toSrgb(value) {
    const v = Math.max(0, Math.min(1, value));
    return v <= 0.0031308
      ? Math.round(v * 12.92 * 255 + 0.5)
      : Math.round((1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
  }

  function signedPow(value, exponent) {
    return Math.sign(value) * Math.pow(Math.abs(value), exponent);
  }

  function decode(hash, width, height) {
    const sizeFlag = decode83(hash[0]);
    const rows = Math.floor(sizeFlag / 9) + 1;
    const columns = (sizeFlag % 9) + 1;
    const maximum = (decode83(hash[1]) + 1) / 166;
    if (hash.length !== 4 + 2 * columns * rows) throw new Error("not a blurhash");
    const colours = [];
    for (let index = 0; index < columns * rows; index++) {
      if (index === 0) {
        const value = decode83(hash.substring(2, 6));
        colours.push([toLinear(value >> 16), toLinear((value >> 8) & 255), toLinear(value & 255)]);
      } else {
        const value = decode83(hash.substring(4 + index * 2, 6 + index * 2));
        colours.push([
          signedPow((Math.floor(value / 361) - 9) / 9, 2) * maximum,
          signedPow(((Math.floor(value / 19) % 19) - 9) / 9, 2) * maximum,
          signedPow(((value % 19) - 9) / 9, 2) * maximum,
        ]);
      }
    }
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let red = 0;
        let green = 0;
        let blue = 0;
        for (let j = 0; j < rows; j++) {
          for (let i = 0; i < columns; i++) {
            const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
            const colour = colours[i + j * columns];
            red += colour[0] * basis;
            green += colour[1] * basis;
            blue += colour[2] * basis;
          }
        }
        const offset = 4 * (x + y * width);
        pixels[offset] = toSrgb(red);
        pixels[offset + 1] = toSrgb(green);
        pixels[offset + 2] = toSrgb(blue);
        pixels[offset + 3] = 255;
      }
    }
    return pixels;
  }

  function paint(box) {
    if (box.hasAttribute("data-blurhash-done")) return;
    box.setAttribute("data-blurhash-done", "");
    const image = box.querySelector("img");
    if (!image) return;
    if (image.complete && image.naturalWidth > 0) {
      box.classList.add("is-loaded");
      return;
    }
    try {
      const pixels = decode(box.getAttribute("data-blurhash") || "", SIZE, SIZE);
      const canvas = document.createElement("canvas");
      canvas.className = "blurhash";
      canvas.width = SIZE;
      canvas.height = SIZE;
      canvas.setAttribute("aria-hidden", "true");
      canvas.getContext("2d").putImageData(new ImageData(pixels, SIZE, SIZE), 0, 0);
      box.insertBefore(canvas, box.firstChild);
    } catch (error) {
      return; // a malformed hash just means no placeholder
    }
    image.addEventListener("load", function () {
      box.classList.add("is-loaded");
    }, { once: true });
  }

  function paintAll(root) {
    root.querySelectorAll("[data-blurhash]").forEach(paint);
  }

  window.Phasma.paintPlaceholders = paintAll;
  window.Phasma.ready(function () {
    paintAll(document);
  });
})();
