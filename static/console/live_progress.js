// Live progress (operator_console/admin_live.py; a broadcast's, a follower import's): every cell marked data-bc-live="1" is redrawn from
// the admin's progress endpoint every few seconds, without reloading the page, until no
// broadcast on the page can change any more (sent, failed, cancelled...).
"use strict";
(function () {
    const PERIOD_MS = 2000;

    function liveCells() {
        return Array.from(document.querySelectorAll("[data-bc-live='1']"));
    }

    function poll() {
        const cells = liveCells();
        if (!cells.length) {
            return;
        }
        const url = new URL(cells[0].dataset.bcUrl, window.location.href);
        new Set(cells.map((c) => c.dataset.bcId)).forEach((id) => url.searchParams.append("id", id));
        url.searchParams.set("mode", cells.some((c) => c.dataset.bcMode === "page") ? "page" : "list");
        url.searchParams.set("next", window.location.pathname + window.location.search);
        fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
            .then((response) => (response.ok ? response.json() : null))
            .then((data) => {
                if (data) {
                    redraw(cells, data.rows || {});
                }
            })
            .catch(() => null)
            .finally(() => window.setTimeout(poll, PERIOD_MS));
    }

    function redraw(cells, broadcasts) {
        cells.forEach((cell) => {
            const row = broadcasts[cell.dataset.bcId];
            if (!row) {
                return;
            }
            // Server-rendered, escaped HTML (format_html, a template), the same the page drew at first.
            const html = {status: row.status_html, actions: row.actions_html}[cell.dataset.bcPart];
            cell.innerHTML = html === undefined ? row.progress_html : html;
            cell.dataset.bcLive = row.live ? "1" : "0";
            cell.dataset.bcSent = String(row.sent);
        });
    }

    document.addEventListener("DOMContentLoaded", () => window.setTimeout(poll, PERIOD_MS));
}());
