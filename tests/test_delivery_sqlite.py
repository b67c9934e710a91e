"""Smoke test of the first-run default: the delivery engine on SQLite (its portable SQL path)."""

from tests.conftest import run_on_sqlite

SCRIPT = r"""
import json
from datetime import timedelta
from django.contrib.auth.models import User
from django.utils import timezone
from accounts.models import Certification, Follower, OfficialAccount, Tag
from broadcasts import services
from broadcasts.models import Delivery, DeliveryBatch, InboxMessage

author = User.objects.create_user("author")
reviewer = User.objects.create_user("reviewer")
service = OfficialAccount.objects.create(name="Acme", kind="service")
folder = OfficialAccount.objects.create(name="Digest", kind="subscription")
for acc, n in ((service, 12), (folder, 5)):
    Follower.objects.bulk_create([Follower(account=acc, openid=f"{acc.pk}-{i}") for i in range(n)])
Follower.objects.filter(account=service, openid=f"{service.pk}-0").update(subscribed=False)
Certification.objects.create(account=service, status="approved", legal_name="Acme Ltd", registration_number="1",
                             valid_from=timezone.now() - timedelta(days=1), valid_until=timezone.now() + timedelta(days=9))
fans = Tag.objects.create(account=service, name="fans")
fans.followers.set(Follower.objects.filter(account=service))
# Targeted API sends: no account quota (R3a), only the follower cap (R5).
targeted = {service: {"channel": "api", "audience": "tag", "tag": fans}, folder: {}}
# Four broadcasts a month reach a service account's follower; a fifth (same month) is filtered.
send_at = timezone.now() + timedelta(minutes=1)
results = []
for acc, count in ((service, 5), (folder, 1)):
    for i in range(count):
        b = services.create_broadcast(acc, by=author, title=f"News {i}", message_type="text", body="Hello",
                                      **targeted[acc])
        b = services.approve_broadcast(services.submit_broadcast(b, by=author), by=reviewer, send_at=send_at)
        services.dispatch_due_broadcasts(now=send_at + timedelta(seconds=1))
        for batch_id in DeliveryBatch.objects.filter(broadcast=b).values_list("id", flat=True):
            services.deliver_batch(batch_id)
            services.deliver_batch(batch_id)  # a duplicate is a no-op
        b.refresh_from_db()
        results.append([b.status, b.total_count, b.sent_count, b.filtered_count, b.batch_count])
print(json.dumps({
    "results": results,
    "deliveries": Delivery.objects.count(),
    "inbox_folded": sorted(set(InboxMessage.objects.filter(follower__account=folder).values_list("folded", flat=True))),
}))
"""


def test_the_engine_runs_on_sqlite(tmp_path):
    out = run_on_sqlite(tmp_path, SCRIPT, BROADCAST_BATCH_SIZE="5",
                        BROADCAST_DELIVERY_BACKEND="broadcasts.backends.inbox.InboxBackend")

    # 11 subscribed followers in batches of 5: 3 batches; the fifth broadcast of the month is all filtered.
    assert out["results"] == [["sent", 11, 11, 0, 3]] * 4 + [["sent", 11, 0, 11, 3], ["sent", 5, 5, 0, 1]]
    assert out["deliveries"] == 5 * 11 + 5
    assert out["inbox_folded"] == [True]
