"""Official accounts, their tags, followers and follow history, and certifications (R1, R4)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

CERTIFICATION_VALIDITY = timedelta(days=365)


# The platform's server configuration (job-finished events): a token of 3 to 32 letters or digits,
# and an EncodingAESKey of 43 (base64 without its "=", 32 bytes of AES key).
SERVER_TOKEN_PATTERN = r"^[A-Za-z0-9]{3,32}\Z"
ENCODING_AES_KEY_PATTERN = r"^[A-Za-z0-9]{43}\Z"


def generate_app_id() -> str:
    return "wx" + secrets.token_hex(8)


def one_year_later():
    return timezone.now() + CERTIFICATION_VALIDITY


class OfficialAccountQuerySet(models.QuerySet):
    def with_custom_menu(self):
        """R6: the accounts that have a custom menu (service accounts)."""
        return self.filter(kind__in=OfficialAccount.MENU_KINDS)


class OfficialAccount(models.Model):
    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", gettext_lazy("Subscription account")
        SERVICE = "service", gettext_lazy("Service account")

    # R6: only service accounts have a custom menu.
    MENU_KINDS = frozenset({Kind.SERVICE})

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Active")
        SUSPENDED = "suspended", gettext_lazy("Suspended")

    name = models.CharField(verbose_name=gettext_lazy("name"), max_length=100)
    app_id = models.CharField(
        verbose_name=gettext_lazy("AppID"), max_length=18, unique=True, default=generate_app_id, editable=True
    )
    kind = models.CharField(verbose_name=gettext_lazy("kind"), max_length=12, choices=Kind.choices, db_index=True)
    owner_name = models.CharField(verbose_name=gettext_lazy("owner"), max_length=200, blank=True)
    contact_email = models.EmailField(verbose_name=gettext_lazy("contact email"), blank=True)
    status = models.CharField(
        verbose_name=gettext_lazy("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    suspended_until = models.DateTimeField(verbose_name=gettext_lazy("suspended until"), null=True, blank=True)
    suspension_reason = models.TextField(verbose_name=gettext_lazy("suspension reason"), blank=True)
    created_at = models.DateTimeField(verbose_name=gettext_lazy("created"), auto_now_add=True)
    # The developer's server, told when an API broadcast finishes (MASSSENDJOBFINISH); the token
    # signs each push, the EncodingAESKey (optional) switches on the platform's safe mode (AES).
    server_url = models.URLField(
        verbose_name=gettext_lazy("server URL"),
        max_length=1024, blank=True, validators=[URLValidator(schemes=["http", "https"])],
        help_text=gettext_lazy("The account's server: it receives the job-finished event of API broadcasts."),
    )
    server_token = models.CharField(
        verbose_name=gettext_lazy("server token"),
        max_length=32, blank=True,
        validators=[RegexValidator(SERVER_TOKEN_PATTERN, gettext_lazy("A token is 3 to 32 letters or digits."))],
        help_text=gettext_lazy("Signs each push (signature, timestamp, nonce); 3 to 32 letters or digits."),
    )
    encoding_aes_key = models.CharField(
        verbose_name=gettext_lazy("EncodingAESKey"),
        max_length=43, blank=True,
        validators=[RegexValidator(ENCODING_AES_KEY_PATTERN, gettext_lazy("An EncodingAESKey is 43 letters or digits."))],
        help_text=gettext_lazy("Optional: 43 letters or digits. When set, pushes are encrypted (safe mode)."),
    )
    # The advanced mass interface's credential (accounts.credentials): only a hash of the app
    # secret is kept; `app_secret_set_at` is the secret's generation, which every access token
    # carries, so a reset refuses the older tokens at once.
    app_secret_hash = models.CharField(
        verbose_name=gettext_lazy("app secret (hash)"), max_length=80, blank=True, editable=False
    )
    app_secret_set_at = models.DateTimeField(
        verbose_name=gettext_lazy("app secret generated"), null=True, blank=True, editable=False
    )

    objects = OfficialAccountQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("official account")
        verbose_name_plural = gettext_lazy("official accounts")
        ordering = ["name"]
        permissions = [
            ("suspend_account", "Can suspend and reinstate accounts"),
            # The kind decides the quota (R2/R3), so changing it is a decision of its own (change_account_kind).
            ("change_account_kind", "Can switch accounts between subscription and service"),
            ("reset_app_secret", "Can reset the app secret of the advanced mass interface"),
        ]
        indexes = [models.Index(fields=["name"], name="account_name_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(server_url="") | ~Q(server_token=""),
                name="account_server_url_needs_token",
                violation_error_message=gettext_lazy("A server URL needs the token that signs the pushes to it."),
            ),
            models.CheckConstraint(
                condition=Q(encoding_aes_key="") | Q(encoding_aes_key__regex=r"^[A-Za-z0-9]{43}$"),
                name="account_encoding_aes_key_43",
                violation_error_message=gettext_lazy("An EncodingAESKey is 43 letters or digits."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_service(self) -> bool:
        return self.kind == self.Kind.SERVICE

    @property
    def folds_messages(self) -> bool:
        """R6: a subscription account's broadcasts are folded into the follower's subscriptions
        folder; a service account's show in the chat list."""
        return self.kind == self.Kind.SUBSCRIPTION

    @property
    def has_custom_menu(self) -> bool:
        """R6: only service accounts have a custom menu."""
        return self.kind in self.MENU_KINDS

    def is_certified(self, at=None) -> bool:
        """True when an approved, unrevoked certification's validity covers `at` (default now)."""
        return self.current_certification(at) is not None

    def current_certification(self, at=None):
        """The certification valid at `at` (default now), or None (R4)."""
        return self.certifications.valid_at(at).order_by("-valid_until").first()

    def is_suspended(self, at=None) -> bool:
        """Suspended and the suspension has not run out at `at` (no end date = until reinstated)."""
        if self.status != self.Status.SUSPENDED:
            return False
        at = at or timezone.now()
        return self.suspended_until is None or self.suspended_until > at


class Tag(models.Model):
    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(verbose_name=gettext_lazy("name"), max_length=30)

    class Meta:
        verbose_name = gettext_lazy("tag")
        verbose_name_plural = gettext_lazy("tags")
        ordering = ["account_id", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="tag_unique_per_account")]

    def __str__(self):
        return self.name


class Follower(models.Model):
    # No index of its own: the unique (account, openid) index serves every lookup by account.
    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), on_delete=models.CASCADE, related_name="followers",
        db_index=False
    )
    openid = models.CharField(verbose_name=gettext_lazy("openid"), max_length=64)
    nickname = models.CharField(verbose_name=gettext_lazy("nickname"), max_length=100, blank=True)
    subscribed = models.BooleanField(verbose_name=gettext_lazy("subscribed"), default=True)
    subscribed_at = models.DateTimeField(verbose_name=gettext_lazy("subscribed at"), default=timezone.now)
    unsubscribed_at = models.DateTimeField(verbose_name=gettext_lazy("unsubscribed at"), null=True, blank=True)
    # The newest follow or unfollow time seen for this follower from any source, whether it changed
    # anything or not: a later-arriving older event is judged against it (R8). Empty: none seen
    # since this was added, and the start of the current state stands in for it.
    last_event_at = models.DateTimeField(verbose_name=gettext_lazy("last event at"), null=True, blank=True)
    # No database FKs on the link table: per-row FK triggers cost more than the inserts when an
    # import links a million followers (the services write only ids they have just read).
    tags = models.ManyToManyField(
        Tag, verbose_name=gettext_lazy("tags"), blank=True, related_name="followers", db_constraint=False
    )

    class Meta:
        verbose_name = gettext_lazy("follower")
        verbose_name_plural = gettext_lazy("followers")
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="follower_openid_unique_per_account")
        ]
        indexes = [
            # The audience of a broadcast: subscribed followers of one account, keyset by id.
            models.Index(fields=["account", "id"], condition=Q(subscribed=True), name="follower_audience_idx"),
            # Admin filter "subscribed" inside an account, and unsubscribe measurement (R8).
            models.Index(fields=["account", "subscribed", "unsubscribed_at"], name="follower_account_sub_idx"),
            # Ops look a person up by openid across all accounts (admin search "=openid").
            models.Index(fields=["openid"], name="follower_openid_idx"),
            # The admin's nickname-prefix search ("^nickname") is served on PostgreSQL by
            # follower_nickname_prefix_idx, made by migration 0012 only there (a pattern-ops index).
        ]

    def __str__(self):
        return self.nickname or self.openid


class FollowerEvent(models.Model):
    """A follow or unfollow that changed a follower: follow, unfollow and follow again are all kept (R8).

    Written only by accounts.services (one set-based statement per batch of platform events);
    an event that changes nothing (a repeat, or not newer than Follower.last_event_at) is not kept.
    """

    class Kind(models.TextChoices):
        SUBSCRIBE = "subscribe", gettext_lazy("Follow")
        UNSUBSCRIBE = "unsubscribe", gettext_lazy("Unfollow")

    # No database FK constraints (as on the delivery tables): platform events arrive by the
    # million and each row would cost trigger checks; the service writes ids it has just read.
    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), on_delete=models.CASCADE, related_name="+",
        db_constraint=False, db_index=False
    )
    follower = models.ForeignKey(
        Follower, verbose_name=gettext_lazy("follower"), on_delete=models.CASCADE, related_name="events",
        db_constraint=False, db_index=False
    )
    kind = models.CharField(verbose_name=gettext_lazy("event"), max_length=11, choices=Kind.choices)
    at = models.DateTimeField(verbose_name=gettext_lazy("time"))
    recorded_at = models.DateTimeField(verbose_name=gettext_lazy("recorded"), default=timezone.now)

    class Meta:
        verbose_name = gettext_lazy("follower event")
        verbose_name_plural = gettext_lazy("follower events")
        ordering = ["follower_id", "at"]
        constraints = [
            # Idempotency's safety net: one event of a kind at one moment per follower.
            models.UniqueConstraint(fields=["follower", "at", "kind"], name="follower_event_once"),
        ]
        indexes = [
            # R8: an account's unfollows (or follows) over time.
            models.Index(fields=["account", "kind", "at"], name="follower_event_account_idx"),
            # R8: the follows and unfollows recorded since the measuring job's last run, whatever their time:
            # a late unfollow may change a measure already final, and a late follow or unfollow a follower
            # day already counted. Follows too (a first import's, dated back, are such late follows).
            models.Index(fields=["recorded_at"], name="follower_event_recorded_idx"),
        ]

    def __str__(self):
        return f"{self.follower_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class CertificationQuerySet(models.QuerySet):
    def valid_at(self, at=None):
        """R4's "certified at t": approved, not revoked or expired, and [valid_from, valid_until)
        contains `at` (default now). Served by cert_account_status_idx."""
        at = at or timezone.now()
        return self.filter(status=Certification.Status.APPROVED, valid_from__lte=at, valid_until__gt=at)


class Certification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        APPROVED = "approved", gettext_lazy("Approved")
        REJECTED = "rejected", gettext_lazy("Rejected")
        EXPIRED = "expired", gettext_lazy("Expired")
        REVOKED = "revoked", gettext_lazy("Revoked")

    account = models.ForeignKey(
        OfficialAccount, verbose_name=gettext_lazy("account"), on_delete=models.CASCADE, related_name="certifications"
    )
    status = models.CharField(
        verbose_name=gettext_lazy("status"), max_length=10, choices=Status.choices, default=Status.PENDING,
        db_index=True
    )
    legal_name = models.CharField(verbose_name=gettext_lazy("legal name"), max_length=200)
    registration_number = models.CharField(verbose_name=gettext_lazy("registration number"), max_length=64)
    submitted_at = models.DateTimeField(verbose_name=gettext_lazy("submitted"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("reviewed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(verbose_name=gettext_lazy("reviewed"), null=True, blank=True)
    valid_from = models.DateTimeField(verbose_name=gettext_lazy("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(verbose_name=gettext_lazy("valid until"), default=one_year_later)
    decision_note = models.TextField(verbose_name=gettext_lazy("decision note"), blank=True)

    objects = CertificationQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("certification")
        verbose_name_plural = gettext_lazy("certifications")
        ordering = ["-submitted_at"]
        permissions = [("review_certification", "Can approve, reject and revoke certifications")]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="approved"),
                name="one_approved_certification_per_account",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="certification_validity_positive"
            ),
        ]
        indexes = [models.Index(fields=["account", "status", "valid_until"], name="cert_account_status_idx")]

    def __str__(self):
        return f"Certification #{self.pk} of {self.account}"

    @property
    def has_validity(self) -> bool:
        """A pending or rejected application has no validity period yet: approval sets it."""
        return self.status not in (self.Status.PENDING, self.Status.REJECTED)
