"""The audit log, and the admin's follower imports."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .accounts import OfficialAccount


class AuditEvent(models.Model):
    """Who changed what and when. `by` is null when a system job acted."""

    class Verb(models.TextChoices):
        """What was done: the only verbs the services record (AuditEvent.verb holds the value)."""

        CREATED = "created", gettext_lazy("created")
        EDITED = "edited", gettext_lazy("edited")
        SUBMITTED = "submitted", gettext_lazy("submitted")
        WITHDRAWN = "withdrawn", gettext_lazy("withdrawn to draft")
        APPROVED = "approved", gettext_lazy("approved")
        REJECTED = "rejected", gettext_lazy("rejected")
        RESCHEDULED = "rescheduled", gettext_lazy("rescheduled")
        CANCELLED = "cancelled", gettext_lazy("cancelled")
        DISPATCHED = "dispatched", gettext_lazy("dispatched")
        PAUSED = "paused", gettext_lazy("paused")
        RESUMED = "resumed", gettext_lazy("resumed")
        SENT = "sent", gettext_lazy("sent")
        PARTIALLY_SENT = "partially_sent", gettext_lazy("partially sent")
        FAILED = "failed", gettext_lazy("failed")
        VIOLATION = "violation", gettext_lazy("violation recorded")
        VIOLATION_VOIDED = "violation_voided", gettext_lazy("violation voided")
        REVOKED = "revoked", gettext_lazy("revoked")
        EXPIRED = "expired", gettext_lazy("expired")
        SUSPENDED = "suspended", gettext_lazy("suspended")
        REINSTATED = "reinstated", gettext_lazy("reinstated")
        IMPORTED_FOLLOWERS = "imported_followers", gettext_lazy("imported followers")
        KIND_CHANGED = "kind_changed", gettext_lazy("kind changed")
        DELETED = "deleted", gettext_lazy("deleted")
        SECRET_RESET = "secret_reset", gettext_lazy("app secret reset")
        PREVIEWED = "previewed", gettext_lazy("preview sent")
        FLAGGED = "flagged", gettext_lazy("flagged for over-marketing")
        UNFLAGGED = "unflagged", gettext_lazy("over-marketing flag cleared")

    at = models.DateTimeField(verbose_name=gettext_lazy("time"), default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+"
    )
    verb = models.CharField(verbose_name=gettext_lazy("action"), max_length=40, choices=Verb.choices)
    # SET_NULL: the log outlives what it records (an account's deletion is itself an event).
    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="events"
    )
    object_type = models.CharField(verbose_name=gettext_lazy("object type"), max_length=40)
    object_id = models.BigIntegerField(verbose_name=gettext_lazy("object id"), null=True, blank=True)
    note = models.TextField(verbose_name=gettext_lazy("note"), blank=True)

    class Meta:
        verbose_name = gettext_lazy("audit event")
        verbose_name_plural = gettext_lazy("audit events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The audit list's verb filter, newest first.
            models.Index(fields=["verb", "-id"], name="audit_verb_idx"),
        ]

    def __str__(self):
        who = self.by or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.verb} {self.object_type} #{self.object_id}"


class FollowerImport(models.Model):
    """A CSV of followers uploaded in the admin and imported by a worker through the command's
    service (accounts.imports.run_follower_import). The file is kept here, where every worker can
    read it, until the import ends; its outcome is kept for the page."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Importing")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Nothing imported")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), on_delete=models.CASCADE, related_name="follower_imports"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("uploaded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(verbose_name=gettext_lazy("file name"), max_length=255)
    data = models.BinaryField(verbose_name=gettext_lazy("file contents"), blank=True)  # emptied when the import ends
    size = models.PositiveBigIntegerField(verbose_name=gettext_lazy("size (bytes)"), default=0)
    skip_invalid = models.BooleanField(verbose_name=gettext_lazy("skip invalid lines"), default=False)
    status = models.CharField(
        verbose_name=gettext_lazy("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    summary = models.TextField(verbose_name=gettext_lazy("summary"), blank=True)
    problems = models.JSONField(  # the first line-numbered problems, as the command lists them
        verbose_name=gettext_lazy("problems"), default=list, blank=True
    )
    problem_count = models.PositiveIntegerField(verbose_name=gettext_lazy("number of problems"), default=0)
    error = models.TextField(verbose_name=gettext_lazy("error"), blank=True)
    created_at = models.DateTimeField(verbose_name=gettext_lazy("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(verbose_name=gettext_lazy("started"), null=True, blank=True)
    finished_at = models.DateTimeField(verbose_name=gettext_lazy("finished"), null=True, blank=True)

    class Meta:
        verbose_name = gettext_lazy("follower import")
        verbose_name_plural = gettext_lazy("follower imports")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.name} → {self.account}"
