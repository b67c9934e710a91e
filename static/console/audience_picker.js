// The broadcast form's audience picker: the tag field shows only for a tag audience, the
// recipients field only for a follower-list audience (a hidden field keeps its value; the
// services drop what the chosen audience does not use). A file, not inline script: CSP.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
    const audience = document.getElementById("id_audience");
    if (!audience) {
        return;
    }
    const rows = {
        tag: document.querySelector(".form-row.field-tag"),
        followers: document.querySelector(".form-row.field-recipients"),
    };
    function show() {
        for (const [value, row] of Object.entries(rows)) {
            if (row) {
                row.style.display = audience.value === value ? "" : "none";
            }
        }
    }
    audience.addEventListener("change", show);
    show();
});
