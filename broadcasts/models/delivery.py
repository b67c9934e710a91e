"""The fan-out tables of delivery: batches, one Delivery per follower, the R5 counters, the inbox
(R6), and the job-finished pushes of API broadcasts."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import Follower

from .broadcasts import Broadcast


class DeliveryBatch(models.Model):
    """A slice of a broadcast's audience by follower id, delivered by one task."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        # Claimed by an external backend (webhook): delivery rows written, hand-off in flight.
        SENDING = "sending", gettext_lazy("Handed to the backend")
        DONE = "done", gettext_lazy("Done")

    # Indexed by the unique (broadcast, number) constraint.
    broadcast = models.ForeignKey(
        Broadcast, verbose_name=gettext_lazy("broadcast"), on_delete=models.CASCADE, related_name="batches",
        db_index=False
    )
    number = models.PositiveIntegerField(verbose_name=gettext_lazy("batch number"))
    first_follower_id = models.BigIntegerField(verbose_name=gettext_lazy("first follower id"))
    last_follower_id = models.BigIntegerField(verbose_name=gettext_lazy("last follower id"))
    size = models.PositiveIntegerField(verbose_name=gettext_lazy("size"))
    status = models.CharField(
        verbose_name=gettext_lazy("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(verbose_name=gettext_lazy("attempts"), default=0)
    heartbeat = models.DateTimeField(verbose_name=gettext_lazy("last heartbeat"), null=True, blank=True)
    # The attempt handing a `sending` batch to an external backend now ("" when none is): a
    # duplicate task leaves a live claim alone; only a stale one (old heartbeat) is taken over.
    claim = models.CharField(verbose_name=gettext_lazy("claim"), max_length=32, blank=True, default="")
    finished_at = models.DateTimeField(verbose_name=gettext_lazy("finished"), null=True, blank=True)
    sent_count = models.PositiveIntegerField(verbose_name=gettext_lazy("sent"), default=0)
    filtered_count = models.PositiveIntegerField(verbose_name=gettext_lazy("filtered"), default=0)
    error_count = models.PositiveIntegerField(verbose_name=gettext_lazy("errors"), default=0)
    last_error = models.TextField(verbose_name=gettext_lazy("last error"), blank=True)

    class Meta:
        verbose_name = gettext_lazy("delivery batch")
        ordering = ["broadcast_id", "number"]
        verbose_name_plural = gettext_lazy("delivery batches")
        constraints = [models.UniqueConstraint(fields=["broadcast", "number"], name="batch_number_unique")]
        indexes = [
            # requeue_stale_batches: batches not done whose heartbeat is old.
            models.Index(fields=["status", "heartbeat"], condition=~Q(status="done"), name="batch_open_idx")
        ]

    def __str__(self):
        return f"{self.broadcast_id}#{self.number}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", gettext_lazy("Sent")
        FILTERED = "filtered", gettext_lazy("Filtered (follower at monthly cap)")
        FAILED = "failed", gettext_lazy("Failed")

    # The fan-out tables (Delivery, InboxMessage, FollowerQuotaUsage) take one row per
    # follower per broadcast: no database FK constraints (each row would cost a trigger
    # and a row lock on the follower and broadcast; half the write time at 1M rows) and
    # no single-column FK indexes (the composite indexes below lead with those columns).
    # Rows are written only by the delivery engine from ids it has just read; Django's
    # on_delete=CASCADE still removes them with their broadcast or follower.
    broadcast = models.ForeignKey(
        Broadcast, verbose_name=gettext_lazy("broadcast"), on_delete=models.CASCADE, related_name="deliveries",
        db_constraint=False, db_index=False
    )
    follower = models.ForeignKey(
        Follower, verbose_name=gettext_lazy("follower"), on_delete=models.CASCADE, related_name="deliveries",
        db_constraint=False, db_index=False
    )
    status = models.CharField(verbose_name=gettext_lazy("status"), max_length=8, choices=Status.choices)
    error = models.TextField(verbose_name=gettext_lazy("error"), blank=True)
    delivered_at = models.DateTimeField(verbose_name=gettext_lazy("time"), default=timezone.now)

    class Meta:
        verbose_name = gettext_lazy("delivery")
        verbose_name_plural = gettext_lazy("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "follower"], name="delivery_once_per_follower")
        ]
        indexes = [
            models.Index(fields=["follower", "delivered_at"], name="delivery_follower_idx"),
            # The deliveries list by status across broadcasts, newest first: the few failed and
            # filtered rows (sent ones, the bulk, are found by the primary key).
            models.Index(fields=["-id"], condition=Q(status="failed"), name="delivery_failed_idx"),
            models.Index(fields=["-id"], condition=Q(status="filtered"), name="delivery_filtered_idx"),
        ]

    def __str__(self):
        return f"{self.broadcast_id} → {self.follower_id}: {self.status}"


class FollowerQuotaUsage(models.Model):
    """R5 counter: broadcasts sent to one follower in one calendar window of its account's policy."""

    # No FK constraint or separate index: see Delivery; the unique constraint leads with follower.
    follower = models.ForeignKey(
        Follower, verbose_name=gettext_lazy("follower"), on_delete=models.CASCADE, related_name="+",
        db_constraint=False, db_index=False
    )
    window_start = models.DateField(verbose_name=gettext_lazy("window start"))
    count = models.PositiveIntegerField(verbose_name=gettext_lazy("broadcasts received"), default=0)

    class Meta:
        verbose_name = gettext_lazy("follower quota usage")
        verbose_name_plural = gettext_lazy("follower quota usages")
        constraints = [
            models.UniqueConstraint(fields=["follower", "window_start"], name="follower_usage_unique")
        ]

    def __str__(self):
        return f"{self.follower_id} from {self.window_start}: {self.count}"


class InboxMessage(models.Model):
    """The platform's own message store (inbox backend): what a follower sees (R6)."""

    # No FK constraints or single-column indexes: see Delivery.
    follower = models.ForeignKey(
        Follower, verbose_name=gettext_lazy("follower"), on_delete=models.CASCADE, related_name="inbox",
        db_constraint=False, db_index=False
    )
    broadcast = models.ForeignKey(
        Broadcast, verbose_name=gettext_lazy("broadcast"), on_delete=models.CASCADE, related_name="inbox_messages",
        db_constraint=False, db_index=False
    )
    folded = models.BooleanField(
        verbose_name=gettext_lazy("folded"),
        help_text=gettext_lazy("Folded into the subscriptions folder (subscription accounts).")
    )
    created_at = models.DateTimeField(verbose_name=gettext_lazy("delivered"), default=timezone.now)

    class Meta:
        verbose_name = gettext_lazy("inbox message")
        verbose_name_plural = gettext_lazy("inbox messages")
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "follower"], name="inbox_once_per_follower")
        ]
        indexes = [models.Index(fields=["follower", "created_at"], name="inbox_follower_idx")]

    def __str__(self):
        return f"{self.follower_id}: {self.broadcast_id}"


class PushAttempt(models.Model):
    """One POST of an API broadcast's job-finished event (MASSSENDJOBFINISH) to its account's server,
    with the answer. Written only by broadcasts.services.job_finished; read-only in the admin."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", gettext_lazy("Delivered")
        RETRYING = "retrying", gettext_lazy("Failed, will retry")
        GAVE_UP = "gave_up", gettext_lazy("Failed, gave up")
        REFUSED = "refused", gettext_lazy("Refused by the server")

    broadcast = models.ForeignKey(
        Broadcast, verbose_name=gettext_lazy("broadcast"), on_delete=models.CASCADE, related_name="push_attempts"
    )
    number = models.PositiveIntegerField(verbose_name=gettext_lazy("attempt"))
    at = models.DateTimeField(verbose_name=gettext_lazy("time"), default=timezone.now)
    url = models.URLField(verbose_name=gettext_lazy("server URL"), max_length=1024)
    encrypted = models.BooleanField(
        verbose_name=gettext_lazy("encrypted"), help_text=gettext_lazy("Sent in the platform's safe mode (AES).")
    )
    event_xml = models.TextField(
        verbose_name=gettext_lazy("event XML"), help_text=gettext_lazy("The event before encryption.")
    )
    outcome = models.CharField(verbose_name=gettext_lazy("outcome"), max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(verbose_name=gettext_lazy("HTTP status"), null=True, blank=True)
    response = models.TextField(
        verbose_name=gettext_lazy("response"), blank=True, help_text=gettext_lazy("The start of the server's answer.")
    )
    error = models.TextField(verbose_name=gettext_lazy("error"), blank=True)
    duration_ms = models.PositiveIntegerField(verbose_name=gettext_lazy("duration (ms)"), default=0)

    class Meta:
        ordering = ["broadcast_id", "number"]
        verbose_name = gettext_lazy("job-finished push attempt")
        verbose_name_plural = gettext_lazy("job-finished push attempts")

    def __str__(self):
        return f"{self.broadcast_id} push #{self.number}: {self.outcome}"
