/* Album carousels (docs/frontend.md §7.3): the track scrolls and snaps on its own (swipe,
 * trackpad, arrow keys once focused); this adds the previous and next buttons, arrow
 * keys that move one whole photo, the current dot and the spoken "Photo 2 of 3".
 * Carousels added later (Load More) are set up as they arrive. */
(function () {
  "use strict";

  function parts(carousel) {
    return {
      track: carousel.querySelector("[data-carousel-track]"),
      slides: carousel.querySelectorAll("[data-carousel-slide]"),
      dots: carousel.querySelectorAll("[data-carousel-dot]"),
      prev: carousel.querySelector("[data-carousel-prev]"),
      next: carousel.querySelector("[data-carousel-next]"),
      status: carousel.querySelector("[data-carousel-status]"),
    };
  }

  function current(carousel) {
    const track = parts(carousel).track;
    return Math.round(track.scrollLeft / Math.max(1, track.clientWidth));
  }

  /** Reflect the slide in view: buttons at the ends disabled, its dot, its position. */
  function update(carousel) {
    const p = parts(carousel);
    const index = Math.min(current(carousel), p.slides.length - 1);
    if (carousel.getAttribute("data-carousel-index") === String(index)) return;
    carousel.setAttribute("data-carousel-index", String(index));
    // A button about to be disabled would drop the focus; hand it to the other one.
    const focused = document.activeElement;
    p.prev.disabled = index === 0;
    p.next.disabled = index === p.slides.length - 1;
    if (focused && focused.disabled) (index === 0 ? p.next : p.prev).focus();
    p.dots.forEach(function (dot, position) {
      dot.classList.toggle("is-current", position === index);
    });
    p.slides.forEach(function (slide, position) {
      slide.setAttribute("aria-hidden", position === index ? "false" : "true");
    });
    p.status.textContent = "Photo " + (index + 1) + " of " + p.slides.length;
  }

  function go(carousel, index) {
    const p = parts(carousel);
    const target = Math.max(0, Math.min(index, p.slides.length - 1));
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    p.track.scrollTo({ left: target * p.track.clientWidth, behavior: reduce ? "auto" : "smooth" });
  }

  function setUp(carousel) {
    if (carousel.hasAttribute("data-carousel-ready")) return;
    carousel.setAttribute("data-carousel-ready", "");
    const p = parts(carousel);
    p.prev.hidden = false;
    p.next.hidden = false;
    p.track.addEventListener("scroll", function () {
      update(carousel);
    }, { passive: true });
    update(carousel);
  }

  function setUpAll(root) {
    root.querySelectorAll("[data-carousel]").forEach(setUp);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-carousel-prev], [data-carousel-next]");
    if (!button) return;
    const carousel = button.closest("[data-carousel]");
    const step = button.hasAttribute("data-carousel-next") ? 1 : -1;
    go(carousel, current(carousel) + step);
  });

  // Two quick clicks on a button turn the page twice; they must not like the post.
  document.addEventListener("dblclick", function (event) {
    if (event.target.closest(".carousel-button")) event.stopPropagation();
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const carousel = event.target.closest("[data-carousel]");
    if (!carousel || event.target.closest("input, textarea")) return;
    event.preventDefault();
    go(carousel, current(carousel) + (event.key === "ArrowRight" ? 1 : -1));
  });

  window.Phasma.ready(function () {
    setUpAll(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType !== Node.ELEMENT_NODE) return;
          if (node.matches("[data-carousel]")) setUp(node);
          setUpAll(node);
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
