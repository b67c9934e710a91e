"""CSV exports of the admin's lists: the filtered rows and columns, streamed through a server-side
cursor (a generator of lines, rows read only as they are sent), in bounded memory; permissions."""

import csv
import io
import tracemalloc

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from broadcasts import services
from broadcasts.models import Violation
from tests.factories import deliver_all, make_account, make_approved, make_dispatched, make_followers, make_user

pytestmark = pytest.mark.django_db


def export(client, model: str, **params):
    response = client.get(reverse(f"admin:{model}_export"), params)
    assert response.status_code == 200, response
    assert isinstance(response, StreamingHttpResponse) and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_deliveries_export_the_failed_ones_of_one_broadcast(admin_client, settings):
    settings.BROADCAST_DELIVERY_BACKEND = "tests.backends.HalfFailingBackend"
    acc = make_account()
    fans = make_followers(acc, 6)
    b = make_dispatched(acc, title="Half blocked")
    deliver_all(b)
    other = make_dispatched(make_account(), title="Other")  # no followers: no deliveries, not exported
    rows = rows_of(export(admin_client, "broadcasts_delivery", broadcast_id=b.pk, status="failed"))
    assert rows[0] == ["id", "broadcast id", "broadcast", "openid", "status", "delivered", "error"]
    failed = sorted(f.openid for f in fans if f.pk % 2)
    assert sorted(r[3] for r in rows[1:]) == failed and len(failed) == 3
    assert {(r[1], r[2], r[4], r[6]) for r in rows[1:]} == {
        (str(b.pk), "Half blocked", "failed", "Recipient blocked the account.")
    }
    assert other.pk


def test_broadcasts_export_honours_the_filters_and_the_search(admin_client):
    acc = make_account(name="Acme Coffee")
    make_followers(acc, 2)
    sent = make_dispatched(acc, title="Sent one")
    deliver_all(sent)
    make_approved(make_account(name="Daily News"), title="Waiting one")
    rows = rows_of(export(admin_client, "broadcasts_broadcast", status="sent", q="Sent"))
    assert [r[3] for r in rows[1:]] == ["Sent one"]
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:4] == ["id", "account", "app id", "title"]
    assert (row["account"], row["status"], row["total"], row["sent"]) == ("Acme Coffee", "sent", "2", "2")
    assert row["finished"].endswith("+08:00")  # platform time, with seconds and the offset
    assert len(rows_of(export(admin_client, "broadcasts_broadcast"))) == 3


def test_followers_audit_and_violations_export_by_account(admin_client):
    acc, other = make_account(name="Acme"), make_account(name="Other")
    make_followers(acc, 3)
    make_followers(other, 2)
    fan = make_followers(acc, 1, prefix="evil-")[0]
    fan.nickname = "=HYPERLINK(\"http://x\")"
    fan.save(update_fields=["nickname"])
    Violation.objects.create(account=acc, points=10)
    Violation.objects.create(account=other, points=5)
    services.void_violation(Violation.objects.get(account=acc), by=make_user("rita", role="reviewer"),
                            reason="bad rule")

    followers = rows_of(export(admin_client, "accounts_follower", account=acc.pk))
    assert len(followers) == 1 + 4 and {r[1] for r in followers[1:]} == {acc.app_id}
    assert [r[3] for r in followers[1:] if r[2] == fan.openid] == ["'=HYPERLINK(\"http://x\")"]  # no formula
    assert {r[4] for r in followers[1:]} == {"yes"}

    violations = rows_of(export(admin_client, "broadcasts_violation", account=acc.pk))
    assert [(r[2], r[6], r[8]) for r in violations[1:]] == [("Acme", "10", "bad rule")]

    audit = rows_of(export(admin_client, "accounts_auditevent", account=acc.pk))
    assert audit[0] == ["id", "at", "by", "verb", "object type", "object id", "account", "note"]
    assert audit[1:] and {r[6] for r in audit[1:]} == {"Acme"}
    assert len(audit) - 1 == AuditEvent.objects.filter(account=acc).count()


def test_export_streams_rows_read_only_as_they_are_sent(admin_client):
    acc = make_account()
    make_followers(acc, 5)
    response = export(admin_client, "accounts_follower", account=acc.pk)
    lines = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before:
        assert next(lines).startswith(b"id,app id,openid")
    assert not before.captured_queries  # the header leaves before any row is read
    with CaptureQueriesContext(connection) as during:
        first = next(lines)
    assert first.count(b",") == 6 and len(during.captured_queries) == 1
    sql = during.captured_queries[0]["sql"]
    assert '"accounts_follower"."openid"' in sql and '"accounts_follower"."account_id" =' in sql
    assert len(list(lines)) == 4  # the rest from the same cursor, no further query


def test_export_button_carries_the_filters_and_not_the_page(admin_client):
    acc = make_account()
    page = admin_client.get(reverse("admin:accounts_follower_changelist"), {"account": acc.pk, "p": 2}).content
    url = reverse("admin:accounts_follower_export") + f"?account={acc.pk}"
    assert f'href="{url}" class="bc-export"'.encode() in page


def test_export_needs_the_view_permission(client):
    client.force_login(make_user("nils"))
    assert client.get(reverse("admin:accounts_follower_export")).status_code == 403
    client.force_login(make_user("aldo", role="auditor"))
    assert client.get(reverse("admin:accounts_follower_export")).status_code == 200


def test_a_large_export_runs_in_bounded_memory(admin_client):
    acc = make_account()
    make_followers(acc, 60_000)
    response = export(admin_client, "accounts_follower", account=acc.pk)
    tracemalloc.start()
    try:
        size = sum(len(line) for line in response.streaming_content)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 3_000_000
    # All 60,000 rows at once (tuples of strings and datetimes) would take several times the CSV's
    # own size; one chunk of EXPORT_CHUNK rows at a time stays under half of it (about 1.6 MB here).
    assert peak < size / 2, (peak, size)
