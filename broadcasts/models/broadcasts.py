"""Broadcasts, their review queue and previews, quota policies and reservations (R2/R3), content
rules and violations (R7)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Follower, OfficialAccount, Tag

from .. import matching

RECIPIENTS_MIN = 2
RECIPIENTS_MAX = 10_000
# A client message id names one broadcast of its account for this long (the platform's rule);
# after it the same id may start a new broadcast (services.create_broadcast, selectors).
CLIENT_MSG_ID_WINDOW = timedelta(hours=24)
CLIENT_MSG_ID_MAX_BYTES = 64


class Broadcast(models.Model):
    class MessageType(models.TextChoices):
        TEXT = "text", _("Text")
        ARTICLE = "article", _("Article")
        IMAGE = "image", _("Image")

    class Channel(models.TextChoices):
        CONSOLE = "console", _("Console")
        API = "api", _("Advanced mass interface (API)")

    class Audience(models.TextChoices):
        ALL = "all", _("All followers")
        TAG = "tag", _("Followers with a tag")
        FOLLOWERS = "followers", _("A list of followers")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_REVIEW = "pending_review", _("Pending review")
        APPROVED = "approved", _("Approved")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        SENT = "sent", _("Sent")
        PARTIALLY_SENT = "partially_sent", _("Partially sent")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="broadcasts"
    )
    title = models.CharField(verbose_name=_("title"), max_length=200)
    message_type = models.CharField(
        verbose_name=_("message type"), max_length=10, choices=MessageType.choices, default=MessageType.TEXT
    )
    body = models.TextField(verbose_name=_("text"), blank=True)
    url = models.URLField(
        verbose_name=_("article URL"), max_length=1024, blank=True, help_text=_("Article link (article messages).")
    )
    cover_url = models.URLField(
        verbose_name=_("cover image URL"), max_length=1024, blank=True,
        help_text=_("Cover or image URL (article and image messages).")
    )
    channel = models.CharField(
        verbose_name=_("channel"), max_length=10, choices=Channel.choices, default=Channel.CONSOLE
    )
    audience = models.CharField(
        verbose_name=_("audience"), max_length=10, choices=Audience.choices, default=Audience.ALL
    )
    tag = models.ForeignKey(
        Tag, verbose_name=_("tag"), null=True, blank=True, on_delete=models.PROTECT, related_name="broadcasts"
    )
    # A follower list (API sends: up to 10,000 a broadcast). No database FKs on the link table, as on
    # the tag links: the deferred per-row checks cost more at commit than the one INSERT … SELECT
    # (sql.insert_recipients) that writes ids validate_draft has just found among the account's followers.
    recipients = models.ManyToManyField(
        Follower, verbose_name=_("recipients"), blank=True, related_name="targeted_broadcasts", db_constraint=False
    )
    # The caller's id of the send (or, from the API, a digest of audience and content): unique per
    # account for CLIENT_MSG_ID_WINDOW, under the account's row lock (services.create_broadcast).
    # NULL, not "", when absent: the index below holds only ids that were given.
    client_msg_id = models.CharField(verbose_name=_("clientmsgid"), max_length=64, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+"
    )
    created_at = models.DateTimeField(verbose_name=_("created"), default=timezone.now)
    submitted_at = models.DateTimeField(verbose_name=_("submitted"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+"
    )
    reviewed_at = models.DateTimeField(verbose_name=_("reviewed"), null=True, blank=True)
    review_note = models.TextField(verbose_name=_("review note"), blank=True)
    scheduled_at = models.DateTimeField(
        verbose_name=_("send time"), null=True, blank=True, help_text=_("Send time; empty means now.")
    )
    # Moderation findings of flag rules: [{"rule": id, "pattern": ..., "match": ..., "excerpt": ...}]
    findings = models.JSONField(verbose_name=_("moderation findings"), default=list, blank=True)
    # Delivery progress (the platform's job-finished totals).
    total_count = models.PositiveIntegerField(verbose_name=_("total"), default=0)
    filtered_count = models.PositiveIntegerField(verbose_name=_("filtered"), default=0)
    sent_count = models.PositiveIntegerField(verbose_name=_("sent"), default=0)
    error_count = models.PositiveIntegerField(verbose_name=_("errors"), default=0)
    batch_count = models.PositiveIntegerField(verbose_name=_("batches"), default=0)
    batches_done = models.PositiveIntegerField(verbose_name=_("batches done"), default=0)
    started_at = models.DateTimeField(verbose_name=_("sending started"), null=True, blank=True)
    finished_at = models.DateTimeField(verbose_name=_("sending finished"), null=True, blank=True)
    failure_reason = models.TextField(verbose_name=_("failure reason"), blank=True)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_broadcast", "Can submit broadcasts for review"),
            ("approve_broadcast", "Can approve, reject and reschedule broadcasts"),
            ("control_delivery", "Can pause, resume and cancel sending broadcasts"),
        ]
        indexes = [
            # The 24-hour client message id rule: this account's broadcasts with this id, newest first.
            models.Index(
                fields=["account", "client_msg_id", "-created_at"],
                condition=Q(client_msg_id__isnull=False),
                name="broadcast_client_msg_id_idx",
            ),
            # The broadcasts list's send-date drill-down (date_hierarchy) and its month/day filters.
            models.Index(fields=["scheduled_at"], name="broadcast_send_time_idx"),
            # Dispatch: approved broadcasts whose send time has come.
            models.Index(fields=["status", "scheduled_at"], name="broadcast_status_sched_idx"),
            models.Index(fields=["account", "status"], name="broadcast_account_status_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def send_time(self):
        return self.scheduled_at or timezone.now()

    @property
    def is_targeted(self) -> bool:
        return self.audience in (self.Audience.TAG, self.Audience.FOLLOWERS)

    @property
    def counts_against_account_quota(self) -> bool:
        """R3a: console broadcasts and API broadcasts to all followers use an account slot."""
        return self.channel == self.Channel.CONSOLE or self.audience == self.Audience.ALL

    @property
    def needs_advanced_interface(self) -> bool:
        """R4: a targeted send (a tag or a follower list) or any API send uses the advanced mass
        interface, open only to certified service accounts."""
        return self.channel == self.Channel.API or self.is_targeted

    # Content and audience are validated in one place, broadcasts.services.validate_draft, which the
    # admin form, the commands and the API all call (one sentence per problem everywhere).


class PendingBroadcast(Broadcast):
    """The review queue: broadcasts waiting for a decision, oldest first.

    A proxy so the queue is its own changelist on the admin index; it has no table and
    no rows of its own. Its permissions are those of Broadcast (see the admin).
    """

    class Meta:
        proxy = True
        verbose_name = _("broadcast awaiting review")
        verbose_name_plural = _("broadcasts awaiting review")
        default_permissions = ()


class PreviewMessage(models.Model):
    """A preview sent through the advanced mass interface (`/cgi-bin/message/mass/preview`): one
    message to one follower, outside the account quota and the follower cap (R3a, R5), and not a
    broadcast, so no quota count sees it. The row is the message as the follower received it."""

    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="previews"
    )
    follower = models.ForeignKey(
        Follower, verbose_name=_("follower"), on_delete=models.CASCADE, related_name="previews"
    )
    message_type = models.CharField(
        verbose_name=_("message type"), max_length=10, choices=Broadcast.MessageType.choices
    )
    body = models.TextField(verbose_name=_("text"))
    # Moderation findings of flag rules (a block rule refuses the preview), as on a broadcast.
    findings = models.JSONField(verbose_name=_("moderation findings"), default=list, blank=True)
    created_at = models.DateTimeField(verbose_name=_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("preview message")
        verbose_name_plural = _("preview messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"], name="preview_account_time_idx")]

    def __str__(self):
        return f"Preview #{self.pk} to {self.follower_id}"


class QuotaPolicy(models.Model):
    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Broadcasts per account")
        FOLLOWER = "follower", _("Broadcasts one follower may receive from one account")

    class Period(models.TextChoices):
        DAY = "day", _("Calendar day")
        WEEK = "week", _("ISO week")
        MONTH = "month", _("Calendar month")

    kind = models.CharField(verbose_name=_("account kind"), max_length=12, choices=OfficialAccount.Kind.choices)
    scope = models.CharField(verbose_name=_("scope"), max_length=10, choices=Scope.choices)
    limit = models.PositiveIntegerField(verbose_name=_("limit"))
    period = models.CharField(verbose_name=_("period"), max_length=5, choices=Period.choices)
    effective_from = models.DateTimeField(verbose_name=_("in force from"))
    effective_until = models.DateTimeField(
        verbose_name=_("in force until"), null=True, blank=True, help_text=_("Empty: in force until changed.")
    )
    note = models.CharField(verbose_name=_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("quota policy")
        ordering = ["kind", "scope", "effective_from"]
        verbose_name_plural = _("quota policies")
        constraints = [
            models.CheckConstraint(condition=Q(limit__gte=1), name="quota_policy_limit_positive"),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True) | Q(effective_until__gt=models.F("effective_from")),
                name="quota_policy_period_positive",
            ),
        ]
        indexes = [models.Index(fields=["kind", "scope", "effective_from"], name="quota_policy_lookup_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.limit} per {self.period} ({self.scope})"

    def clean(self):
        if self.limit is not None and self.limit < 1:
            raise ValidationError({"limit": _("A limit is at least 1; to stop broadcasts, suspend the account.")})
        if self.effective_until and self.effective_from and self.effective_until <= self.effective_from:
            raise ValidationError({"effective_until": _("A policy must end after it starts.")})
        if not (self.kind and self.scope and self.effective_from):
            return
        overlapping = QuotaPolicy.objects.filter(kind=self.kind, scope=self.scope).exclude(pk=self.pk)
        if self.effective_until:
            overlapping = overlapping.filter(effective_from__lt=self.effective_until)
        overlapping = overlapping.filter(Q(effective_until__isnull=True) | Q(effective_until__gt=self.effective_from))
        other = overlapping.first()
        if other is not None:
            start = f"{timezone.localtime(other.effective_from):%Y-%m-%d %H:%M}"
            if other.effective_until:
                until = f"{timezone.localtime(other.effective_until):%Y-%m-%d %H:%M}"
                message = _("This policy overlaps “%(other)s” (from %(start)s until %(until)s); end that one first.")
                raise ValidationError(message % {"other": other, "start": start, "until": until})
            message = _("This policy overlaps “%(other)s” (from %(start)s); end that one first.")
            raise ValidationError(message % {"other": other, "start": start})


class QuotaReservation(models.Model):
    """The account-quota slot a broadcast holds in its window (R2/R3)."""

    broadcast = models.OneToOneField(
        Broadcast, verbose_name=_("broadcast"), on_delete=models.CASCADE, related_name="reservation"
    )
    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="quota_reservations"
    )
    policy = models.ForeignKey(
        QuotaPolicy, verbose_name=_("quota policy"), on_delete=models.PROTECT, related_name="reservations"
    )
    window_start = models.DateTimeField(verbose_name=_("window start"))
    window_end = models.DateTimeField(verbose_name=_("window end"))
    slot = models.PositiveIntegerField(verbose_name=_("slot"))
    created_at = models.DateTimeField(verbose_name=_("reserved"), default=timezone.now)

    class Meta:
        verbose_name = _("quota reservation")
        verbose_name_plural = _("quota reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "policy", "window_start", "slot"], name="quota_slot_taken_once"
            ),
        ]

    def __str__(self):
        return f"{self.account} slot {self.slot} from {self.window_start:%Y-%m-%d}"


class ContentRule(models.Model):
    class Match(models.TextChoices):
        KEYWORD = "keyword", _("Keyword")
        REGEX = "regex", _("Regular expression")
        DOMAIN = "domain", _("Link domain")

    class Action(models.TextChoices):
        BLOCK = "block", _("Block (reject at once)")
        FLAG = "flag", _("Flag for the reviewer")

    pattern = models.CharField(
        verbose_name=_("pattern"),
        max_length=500,
        help_text=_(
            "Keyword: matches whole words, ignoring case, width (full-width letters), invisible characters "
            "(zero-width space, soft hyphen), look-alike Cyrillic and Greek letters, and how words are "
            "spaced or hyphenated: “free money” matches “FREE-money” and “ｆｒｅｅ money” but not "
            "“carefree money-back” (nor “free moneys”: add other word forms as keywords of their own); "
            "Chinese, Japanese, Korean and Thai keywords match anywhere in the text, spaces ignored. "
            "Regular expression: RE2 syntax, case-insensitive, tried on that normalised text and on the "
            "text as written; it must not match empty text. "
            "Link domain: a domain such as bit.ly; matches links a browser would open there or on a "
            "subdomain, in the URL, the cover URL and the text."
        ),
    )
    match = models.CharField(verbose_name=_("match"), max_length=10, choices=Match.choices, default=Match.KEYWORD)
    action = models.CharField(verbose_name=_("action"), max_length=5, choices=Action.choices, default=Action.FLAG)
    points = models.PositiveIntegerField(
        verbose_name=_("points"), default=10, help_text=_("Violation points a blocked broadcast costs.")
    )
    active = models.BooleanField(verbose_name=_("active"), default=True)
    note = models.CharField(verbose_name=_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("content rule")
        verbose_name_plural = _("content rules")
        ordering = ["action", "pattern"]

    def __str__(self):
        return f"{self.get_match_display()} “{self.pattern}” ({self.action})"

    def clean(self):
        # The admin's form shows these on the pattern field; screening skips a rule that fails them.
        if not self.pattern:
            return  # the field's own validation says it is required
        try:
            key = self.matched_as()
        except matching.PatternError as exc:
            raise ValidationError({"pattern": exc.message}) from exc
        if self.match == self.Match.DOMAIN:
            self.pattern = key  # "https://evil.example/path" is stored as the host it matches, evil.example
        if self.active:
            self._refuse_duplicate(key)

    def matched_as(self) -> str:
        """What the rule matches, however it was typed: the keyword's needle, the domain's host, the
        expression itself. Raises matching.PatternError for a pattern that cannot run."""
        if self.match == self.Match.KEYWORD:
            return matching.keyword_needle(self.pattern)
        if self.match == self.Match.REGEX:
            matching.compile_regex(self.pattern)
        elif self.match == self.Match.DOMAIN:
            return matching.rule_domain(self.pattern)
        return self.pattern

    def _refuse_duplicate(self, key: str) -> None:
        """An active rule matching the same thing the same way with the same action is refused, naming it.

        Rules are few (ops type them), so the candidates are compared in Python, as typed patterns
        differ ("Free Money", "free  money") where what they match does not.
        """
        others = ContentRule.objects.filter(match=self.match, action=self.action, active=True).exclude(pk=self.pk)
        for other in others.order_by("pk"):
            try:
                same = other.matched_as() == key
            except matching.PatternError:
                continue  # a stored rule that cannot run matches nothing
            if same:
                raise ValidationError(
                    {
                        "pattern": _(
                            "An active rule already does this: #%(id)s %(rule)s. Edit that rule, or make this one "
                            "inactive."
                        )
                        % {"id": other.pk, "rule": other}
                    },
                    code="duplicate_rule",
                )


class Violation(models.Model):
    account = models.ForeignKey(
        OfficialAccount, verbose_name=_("account"), on_delete=models.CASCADE, related_name="violations"
    )
    broadcast = models.ForeignKey(
        Broadcast, verbose_name=_("broadcast"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="violations"
    )
    rule = models.ForeignKey(
        ContentRule, verbose_name=_("content rule"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="violations"
    )
    points = models.PositiveIntegerField(verbose_name=_("points"))
    created_at = models.DateTimeField(verbose_name=_("recorded"), default=timezone.now)
    # Voided by ops (services.void_violation): kept for the record, its points no longer count (R7).
    voided_at = models.DateTimeField(verbose_name=_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("voided by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+"
    )
    void_reason = models.TextField(verbose_name=_("reason for voiding"), blank=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "created_at"], name="violation_account_time_idx")]

    def __str__(self):
        points = ngettext("%(n)d point", "%(n)d points", self.points) % {"n": self.points}
        if self.voided_at:
            return _("%(account)s: %(points)s (voided)") % {"account": self.account, "points": points}
        return _("%(account)s: %(points)s") % {"account": self.account, "points": points}
