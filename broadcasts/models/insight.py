"""Over-marketing insight (R8): each broadcast's unfollows, the accounts flagged for them, and the
daily follower counts the charts read. Written only by broadcasts.services.insight."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OfficialAccount

from .broadcasts import Broadcast

# The unfollow curve's resolution and length: one bucket per hour of the 72 h after delivery.
CURVE_HOURS = 72


class UnfollowMeasure(models.Model):
    """A broadcast's unfollows after delivery, as last measured (stored beside the broadcast in its own
    row, so that the measuring job never locks the broadcast row the delivery engine updates)."""

    broadcast = models.OneToOneField(
        Broadcast, verbose_name=_("broadcast"), on_delete=models.CASCADE, primary_key=True, related_name="unfollows"
    )
    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    sent = models.PositiveIntegerField(verbose_name=_("sent"), default=0)
    unfollows_24h = models.PositiveIntegerField(verbose_name=_("unfollows within 24 h"), default=0)
    unfollows_72h = models.PositiveIntegerField(verbose_name=_("unfollows within 72 h"), default=0)
    rate_72h = models.DecimalField(
        verbose_name=_("72 h unfollow rate"), max_digits=7, decimal_places=6, default=0,
        help_text=_("Unfollows within 72 h / sent.")
    )
    # Unfollows per hour after delivery (CURVE_HOURS buckets; bucket h holds lags in [h, h+1) hours).
    curve = models.JSONField(verbose_name=_("unfollows per hour"), default=list, blank=True)
    measured_at = models.DateTimeField(verbose_name=_("measured"))
    # Measured after the 72 h of every delivery had passed: the beat job leaves it alone.
    is_final = models.BooleanField(verbose_name=_("final"), default=False)

    class Meta:
        verbose_name_plural = _("unfollow measures")
        verbose_name = _("unfollow measure")
        indexes = [models.Index(fields=["account", "broadcast"], name="unfollow_measure_account_idx")]

    def __str__(self):
        return f"{self.broadcast_id}: {self.unfollows_72h}/{self.sent}"


class UnfollowFlag(models.Model):
    """An account flagged for over-marketing: its 72 h unfollow rate over its last broadcasts rose above
    the threshold (R8). Open while `cleared_at` is empty; cleared by the job when the rate falls."""

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="unfollow_flags"
    )
    raised_at = models.DateTimeField(verbose_name=_("raised"))
    cleared_at = models.DateTimeField(verbose_name=_("cleared"), null=True, blank=True)
    rate_72h = models.DecimalField(verbose_name=_("72 h unfollow rate"), max_digits=7, decimal_places=6)
    threshold = models.DecimalField(verbose_name=_("threshold"), max_digits=7, decimal_places=6)
    broadcasts_counted = models.PositiveIntegerField(verbose_name=_("broadcasts counted"))
    sent = models.PositiveIntegerField(verbose_name=_("sent"))
    unfollows_72h = models.PositiveIntegerField(verbose_name=_("unfollows within 72 h"))
    worst_broadcast = models.ForeignKey(
        Broadcast, verbose_name=_("worst broadcast"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(verbose_name=_("reason"))
    updated_at = models.DateTimeField(verbose_name=_("updated"))

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("over-marketing flag")
        verbose_name_plural = _("over-marketing flags")
        constraints = [
            models.UniqueConstraint(fields=["account"], condition=Q(cleared_at__isnull=True), name="one_open_flag")
        ]
        indexes = [models.Index(fields=["cleared_at", "raised_at"], name="flag_open_idx")]

    def __str__(self):
        return f"{self.account}: {self.rate_72h:.2%}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class FollowerDay(models.Model):
    """Follows and unfollows of an account on one calendar day (PLATFORM_TIME_ZONE), aggregated from
    FollowerEvent by the beat job so that the charts never scan the event history."""

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField(verbose_name=_("day"))
    gained = models.PositiveIntegerField(verbose_name=_("follows"), default=0)
    lost = models.PositiveIntegerField(verbose_name=_("unfollows"), default=0)
    # When the beat job last recounted the day: the latest of them is the job's last run, from which it
    # looks for follows and unfollows recorded late (dated on an older day).
    counted_at = models.DateTimeField(verbose_name=_("counted"), null=True, blank=True)

    class Meta:
        verbose_name = _("follower day")
        verbose_name_plural = _("follower days")
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="follower_day_once")]
        indexes = [models.Index(fields=["counted_at"], name="follower_day_counted_idx")]

    def __str__(self):
        return f"{self.account_id} {self.day}: +{self.gained} -{self.lost}"
