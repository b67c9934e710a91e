// django-celery-beat's periodic task form: the crontab's help text says what the chosen
// schedule means in words. django-celery-beat does this with an inline <script>, which the
// console's Content-Security-Policy forbids; this file does the same from the page's data
// (the json_script block "readable-crontabs").
"use strict";
(function ($) {
    $(function () {
        const data = document.getElementById("readable-crontabs");
        if (!data) {
            return;
        }
        const readable = JSON.parse(data.textContent);
        const help = $(".field-crontab .help");
        const original = help.html();
        $(".field-crontab_translation").hide();
        $("#id_crontab").on("change", function () {
            const words = readable[$(this).val()];
            help.html(original);
            if (words) {
                const label = window.gettext ? window.gettext("Translation:") : "Translation:";
                help.append($("<br>"), document.createTextNode(label + " " + words));
            }
        });
    });
})(django.jQuery);
