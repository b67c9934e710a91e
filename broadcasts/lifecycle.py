"""The broadcast lifecycle (DESIGN.md "The broadcast lifecycle"): which status allows which action.

The one transition table: the services check it before every state change
(`require`), and the admin reads it to offer only the buttons that apply (`allows`).

    draft -> pending_review -> approved -> sending -> sent / partially_sent / failed
      ^           \\-> rejected     \\-> cancelled   \\-> paused -> sending
      \\-- withdraw --/      (any broadcast: duplicate -> a new draft)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from operator_console.errors import InvalidState

from .models import Broadcast

Status = Broadcast.Status

# Statuses after which nothing more happens to a broadcast.
FINISHED_STATUSES = frozenset({Status.SENT, Status.PARTIALLY_SENT, Status.FAILED, Status.CANCELLED})
# Statuses in which delivery counters mean something (a progress bar is shown).
DELIVERY_STATUSES = frozenset({Status.SENDING, Status.PAUSED, Status.SENT, Status.PARTIALLY_SENT, Status.FAILED})
# Before sending a cancelled broadcast gives its quota slot back; while sending it keeps it.
BEFORE_SENDING = frozenset({Status.DRAFT, Status.PENDING_REVIEW, Status.APPROVED})
WHILE_SENDING = frozenset({Status.SENDING, Status.PAUSED})


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    RESCHEDULE = "reschedule"
    DISPATCH = "dispatch"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    WITHDRAW = "withdraw"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Rule:
    """The statuses an action starts from, and the sentence that refuses it from any other."""

    allowed_from: frozenset
    refusal: str  # formatted with title= and status=


TABLE: dict[Action, Rule] = {
    Action.EDIT: Rule(frozenset({Status.DRAFT}), _("Only drafts can be edited; “{title}” is {status}.")),
    Action.SUBMIT: Rule(frozenset({Status.DRAFT}), _("Only drafts can be submitted; “{title}” is {status}.")),
    Action.APPROVE: Rule(
        frozenset({Status.PENDING_REVIEW}),
        _("Only broadcasts pending review can be approved; “{title}” is {status}."),
    ),
    Action.REJECT: Rule(
        frozenset({Status.PENDING_REVIEW, Status.APPROVED}),
        _("Only broadcasts pending review or approved and not yet sending can be rejected; “{title}” is {status}."),
    ),
    Action.RESCHEDULE: Rule(
        frozenset({Status.APPROVED}), _("Only approved broadcasts can be rescheduled; “{title}” is {status}.")
    ),
    Action.DISPATCH: Rule(frozenset({Status.APPROVED}), _("Only approved broadcasts can be sent; “{title}” is {status}.")),
    Action.PAUSE: Rule(frozenset({Status.SENDING}), _("Only a sending broadcast can be paused; “{title}” is {status}.")),
    Action.RESUME: Rule(frozenset({Status.PAUSED}), _("Only a paused broadcast can be resumed; “{title}” is {status}.")),
    Action.CANCEL: Rule(
        BEFORE_SENDING | WHILE_SENDING,
        _("“{title}” is {status}; only broadcasts not yet finished can be cancelled."),
    ),
    Action.WITHDRAW: Rule(
        frozenset({Status.PENDING_REVIEW}),
        _("Only broadcasts pending review can be withdrawn to draft; “{title}” is {status}."),
    ),
    # Any broadcast can be copied into a new draft (a rejected one is fixed that way).
    Action.DUPLICATE: Rule(frozenset(Status.values), _("“{title}” is {status} and cannot be duplicated.")),
}


def allows(action: Action | str, status: str) -> bool:
    """True when a broadcast in `status` may undergo `action`."""
    return status in TABLE[Action(action)].allowed_from


def require(broadcast: Broadcast, action: Action | str) -> None:
    """Raise invalid_state, in the action's own sentence, unless the broadcast's status allows `action`."""
    rule = TABLE[Action(action)]
    if broadcast.status not in rule.allowed_from:
        raise InvalidState(
            str(rule.refusal).format(title=broadcast.title, status=broadcast.get_status_display().lower()),
            status=broadcast.status,
        )
