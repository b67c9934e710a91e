"""Cells of an admin page that redraw themselves (static/console/live_progress.js): the page marks
each with `live_cell`; the script polls the cell's endpoint with the ids it shows and replaces the
cells with what it answers: {"rows": {"<id>": {"progress_html", "status_html", "live", ...}}}."""

from __future__ import annotations

from django.utils.html import format_html


def live_cell(pk: int, part: str, inner, *, url: str, mode: str = "list"):
    """`inner` wrapped for the script: `part` is "progress" or "status"; `mode` tells the endpoint
    which drawing the page uses ("list": compact, "page": a change page's full one)."""
    return format_html(
        '<div data-bc-live="1" data-bc-id="{}" data-bc-part="{}" data-bc-mode="{}" data-bc-url="{}">{}</div>',
        pk, part, mode, url, inner,
    )
