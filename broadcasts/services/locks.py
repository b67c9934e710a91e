"""Every row lock the broadcast services take, and their order.

Lock order everywhere: the OfficialAccount row, then the Broadcast row (then its quota
reservation). Approvals of one account therefore serialize on the account row, so two
reviewers can never both take the last slot of a window, and a reviewer is never refused
while a slot is free. Delivery locks a batch row, then (briefly, to add its totals) its
broadcast row; resume_broadcast, which holds the broadcast, skips locked batches.
"""

from __future__ import annotations

from accounts.models import OfficialAccount

from ..models import Broadcast, DeliveryBatch


def lock_broadcast(broadcast: Broadcast) -> tuple[OfficialAccount, Broadcast]:
    """Lock the broadcast's account, then the broadcast; returns both, fresh from the database."""
    account_id = Broadcast.objects.filter(pk=broadcast.pk).values_list("account_id", flat=True).get()
    account = OfficialAccount.objects.select_for_update().get(pk=account_id)
    b = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    b.account = account
    return account, b


def lock_broadcast_only(broadcast: Broadcast) -> Broadcast:
    """Lock the broadcast row alone (delivery control: pause, resume, dispatch of one broadcast)."""
    return Broadcast.objects.select_for_update(of=("self",)).select_related("account").get(pk=broadcast.pk)


def lock_account(account: OfficialAccount) -> OfficialAccount:
    return OfficialAccount.objects.select_for_update().get(pk=account.pk)


def lock_batch(batch_id: int, *, skip_locked: bool = True) -> DeliveryBatch | None:
    """The batch row, locked (not its broadcast), with its broadcast and account; None when
    another worker holds it (with `skip_locked`)."""
    return (
        DeliveryBatch.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("broadcast__account")
        .filter(pk=batch_id)
        .first()
    )
