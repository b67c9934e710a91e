"""The broadcasts app's data: `broadcasts` (broadcasts, review queue, previews, quota policies and
reservations, content rules, violations) and `delivery` (the fan-out tables)."""

from .broadcasts import (
    CLIENT_MSG_ID_MAX_BYTES,
    CLIENT_MSG_ID_WINDOW,
    RECIPIENTS_MAX,
    RECIPIENTS_MIN,
    Broadcast,
    ContentRule,
    PendingBroadcast,
    PreviewMessage,
    QuotaPolicy,
    QuotaReservation,
    Violation,
)
from .delivery import Delivery, DeliveryBatch, FollowerQuotaUsage, InboxMessage, PushAttempt
from .insight import CURVE_HOURS, FollowerDay, UnfollowFlag, UnfollowMeasure

__all__ = [
    "CLIENT_MSG_ID_MAX_BYTES",
    "CLIENT_MSG_ID_WINDOW",
    "CURVE_HOURS",
    "RECIPIENTS_MAX",
    "RECIPIENTS_MIN",
    "Broadcast",
    "ContentRule",
    "Delivery",
    "DeliveryBatch",
    "FollowerDay",
    "FollowerQuotaUsage",
    "InboxMessage",
    "PendingBroadcast",
    "PreviewMessage",
    "PushAttempt",
    "QuotaPolicy",
    "QuotaReservation",
    "UnfollowFlag",
    "UnfollowMeasure",
    "Violation",
]
