// The broadcast form's audience picker. A file, not inline script: CSP.
// * The tag field shows only for a tag audience, the openids (pasted and file) only for a
//   follower-list audience (a hidden field keeps its value; the form drops what the chosen
//   audience does not use).
// * On the add page the tag select offers the chosen account's tags (fetched when the account
//   changes; the server's queryset is the account's tags too).
// * "Audience: N followers" is redrawn as account, audience, tag or openids change (debounced),
//   from the endpoint named on #bc-audience-size (broadcasts/admin/picker.py).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
    const audience = document.getElementById("id_audience");
    if (!audience) {
        return;
    }
    const rows = {
        tag: [".form-row.field-tag"],
        followers: [".form-row.field-recipients", ".form-row.field-recipients_file"],
    };
    function show() {
        for (const [value, selectors] of Object.entries(rows)) {
            for (const selector of selectors) {
                const row = document.querySelector(selector);
                if (row) {
                    row.style.display = audience.value === value ? "" : "none";
                }
            }
        }
    }

    const size = document.getElementById("bc-audience-size");
    const account = document.getElementById("id_account");
    const tag = document.getElementById("id_tag");
    const openids = document.getElementById("id_recipients");
    const channel = document.getElementById("id_channel");
    const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

    // The account select is a select2 autocomplete: it announces a choice through jQuery, which
    // a jQuery handler hears (and native events too); without jQuery, a native listener.
    function watch(element, events, handler) {
        if (!element) {
            return;
        }
        if (window.django && window.django.jQuery) {
            window.django.jQuery(element).on(events, handler);
        } else {
            for (const name of events.split(" ")) {
                element.addEventListener(name, handler);
            }
        }
    }

    function accountId() {
        return account ? account.value : (size ? size.dataset.account : "");
    }

    let timer = null;
    let asked = 0;
    function refreshSize() {
        if (!size) {
            return;
        }
        clearTimeout(timer);
        timer = setTimeout(function () {
            const id = accountId();
            if (!id) {
                size.textContent = size.dataset.empty;
                return;
            }
            const body = new URLSearchParams({
                account: id,
                audience: audience.value,
                tag: tag ? tag.value : "",
                recipients: openids ? openids.value : "",
                channel: channel ? channel.value : "",
            });
            const mine = ++asked;
            fetch(size.dataset.url, {
                method: "POST",
                body: body,
                credentials: "same-origin",
                headers: {"X-CSRFToken": csrf ? csrf.value : ""},
            })
                .then(function (response) { return response.json(); })
                .then(function (answer) {
                    if (mine === asked) {
                        size.textContent = answer.text;
                    }
                })
                .catch(function () {});
        }, 350);
    }

    function fillTags(tags) {
        const chosen = tag.value;
        const blank = tag.querySelector("option[value='']");
        tag.replaceChildren(blank || new Option("---------", ""));
        for (const t of tags) {
            const value = String(t.id);
            tag.add(new Option(t.name, value, false, value === chosen));
        }
    }

    function refreshTags() {
        if (!account || !tag || !size) {
            return;
        }
        if (!account.value) {
            fillTags([]);
            return;
        }
        fetch(size.dataset.tagsUrl + "?account=" + encodeURIComponent(account.value), {credentials: "same-origin"})
            .then(function (response) { return response.json(); })
            .then(function (answer) {
                fillTags(answer.tags || []);
                refreshSize();
            })
            .catch(function () {});
    }

    watch(audience, "change", function () {
        show();
        refreshSize();
    });
    watch(account, "change", function () {
        refreshTags();
        refreshSize();
    });
    watch(tag, "change", refreshSize);
    watch(channel, "change", refreshSize);
    watch(openids, "input change", refreshSize);
    show();
    if (size && !size.textContent.trim()) {
        refreshSize();
    }
});
