// Preview images that fail to load (a broadcast's cover on another server): hidden
// (data-fallback="hide") or replaced by their alt text (data-fallback="alt").
// This replaces inline onerror= handlers, which the console's Content-Security-Policy forbids.
// Loaded in <head>: a capturing listener sees the error events of images parsed later.
"use strict";
document.addEventListener("error", function (event) {
    const img = event.target;
    if (!(img instanceof HTMLImageElement)) {
        return;
    }
    if (img.dataset.fallback === "hide") {
        img.style.display = "none";
    } else if (img.dataset.fallback === "alt") {
        img.replaceWith(img.alt);
    }
}, true);
