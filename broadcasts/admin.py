"""The broadcasts admin: drafts, the review queue, delivery control and the big delivery tables."""

from django.contrib import admin  # noqa: F401

from .models import Broadcast


class PendingBroadcast(Broadcast):
    """The review queue: broadcasts waiting for a decision, oldest first.

    A proxy so the queue is its own changelist on the admin index; it has no
    table and no rows of its own. It lives here because it exists only for the UI.
    """

    class Meta:
        proxy = True
        app_label = "broadcasts"
        verbose_name = "broadcast awaiting review"
        verbose_name_plural = "review queue"
        default_permissions = ()
