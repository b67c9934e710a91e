// The content rule page's "Test this rule" box (broadcasts/admin/policies.py, test_rule_view):
// sends the pattern and match type as typed (not yet saved) with the sample text, shows what matched.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("bc-rule-tester");
    const button = document.getElementById("bc-rule-try");
    if (!box || !button) {
        return;
    }
    const result = document.getElementById("bc-rule-result");
    button.addEventListener("click", () => {
        const form = new FormData();
        const token = document.querySelector("input[name=csrfmiddlewaretoken]");
        form.append("pattern", (document.getElementById("id_pattern") || {}).value || "");
        form.append("match", (document.getElementById("id_match") || {}).value || "");
        form.append("sample", document.getElementById("bc-rule-sample").value);
        fetch(box.dataset.url, {
            method: "POST", body: form, credentials: "same-origin",
            headers: {"X-CSRFToken": token ? token.value : ""},
        })
            .then((response) => response.json())
            .then((data) => {
                result.textContent = data.error || data.text;
                result.dataset.matches = data.matches ? "1" : "0";
            })
            .catch(() => {
                result.textContent = "";
            });
    });
});
