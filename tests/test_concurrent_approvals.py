"""Reviewers approving at the same moment never exceed the quota and never refuse while a slot is free."""

import threading

import pytest
from django.db import connection

from broadcasts import services
from broadcasts.exceptions import BroadcastError
from broadcasts.models import Broadcast, QuotaReservation
from tests.factories import local, make_account, make_approved, make_pending, make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SEND_AT = local(2031, 5, 10, 12, 0)  # one calendar month window: 4 slots for a service account
THREADS = 8


def approve_all_at_once(broadcasts, reviewers):
    """One thread per broadcast, each with its own database connection, released together."""
    barrier = threading.Barrier(len(broadcasts))
    outcomes = [None] * len(broadcasts)

    def run(i):
        try:
            barrier.wait(timeout=30)
            services.approve_broadcast(broadcasts[i], by=reviewers[i], send_at=SEND_AT)
            outcomes[i] = "approved"
        except BroadcastError as exc:
            outcomes[i] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(broadcasts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.mark.parametrize(("already_used", "expected_approved"), [(0, 4), (2, 2)])
def test_eight_concurrent_approvals_take_exactly_the_free_slots(already_used, expected_approved):
    author = make_user("olga")
    reviewers = [make_user(f"reviewer{i}") for i in range(THREADS)]
    acc = make_account(name="Acme")
    for _ in range(already_used):
        make_approved(acc, by=author, reviewer=reviewers[0], send_at=SEND_AT)
    broadcasts = [make_pending(acc, by=author) for _ in range(THREADS)]

    outcomes = approve_all_at_once(broadcasts, reviewers)

    assert sorted(outcomes) == sorted(
        ["approved"] * expected_approved + ["quota_exceeded"] * (THREADS - expected_approved)
    ), outcomes
    ids = [b.pk for b in broadcasts]
    assert Broadcast.objects.filter(pk__in=ids, status=Broadcast.Status.APPROVED).count() == expected_approved
    assert Broadcast.objects.filter(pk__in=ids, status=Broadcast.Status.PENDING_REVIEW).count() == (
        THREADS - expected_approved
    )
    assert sorted(QuotaReservation.objects.filter(account=acc).values_list("slot", flat=True)) == [1, 2, 3, 4]
