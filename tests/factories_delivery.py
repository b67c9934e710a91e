"""Helpers for delivery-engine tests: accounts with followers, approved broadcasts, test backends."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

from django.contrib.auth.models import User
from django.utils import timezone

from accounts.models import Certification, Follower, OfficialAccount, Tag
from broadcasts import services
from broadcasts.backends.inbox import InboxBackend
from broadcasts.models import Broadcast, Delivery, DeliveryBatch, InboxMessage

_seq = count(1)


def account(kind: str = OfficialAccount.Kind.SERVICE, *, certified: bool = False, **overrides) -> OfficialAccount:
    fields = {"name": f"Acme {next(_seq)}", "kind": kind, "owner_name": "Acme Ltd"}
    fields.update(overrides)
    acc = OfficialAccount.objects.create(**fields)
    if certified:
        Certification.objects.create(
            account=acc, status=Certification.Status.APPROVED, legal_name=f"{acc.name} Ltd",
            registration_number="91310000X", valid_from=timezone.now() - timedelta(days=30),
            valid_until=timezone.now() + timedelta(days=335),
        )
    return acc


def followers(acc: OfficialAccount, n: int, *, prefix: str | None = None, subscribed: bool = True) -> list[Follower]:
    prefix = prefix or f"o{acc.pk}-"
    Follower.objects.bulk_create(
        [Follower(account=acc, openid=f"{prefix}{i:06d}", nickname=f"fan {i}", subscribed=subscribed) for i in range(n)]
    )
    return list(Follower.objects.filter(account=acc, openid__startswith=prefix).order_by("id"))


def tag(acc: OfficialAccount, name: str, members) -> Tag:
    t = Tag.objects.create(account=acc, name=name)
    t.followers.add(*members)
    return t


def people() -> tuple[User, User]:
    n = next(_seq)
    author = User.objects.create_user(f"author{n}", password="pw-Secret-123", is_staff=True)
    reviewer = User.objects.create_user(f"reviewer{n}", password="pw-Secret-123", is_staff=True)
    return author, reviewer


def approved(acc: OfficialAccount, *, send_at: datetime | None = None, **overrides) -> Broadcast:
    """A broadcast taken through create, submit and approve (the lifecycle services)."""
    author, reviewer = people()
    fields = {"title": f"News {next(_seq)}", "message_type": "text", "body": "Our autumn menu is here."}
    fields.update(overrides)
    b = services.create_broadcast(acc, by=author, **fields)
    b = services.submit_broadcast(b, by=author)
    return services.approve_broadcast(b, by=reviewer, send_at=send_at)


def dispatched(acc: OfficialAccount, **overrides) -> Broadcast:
    """An approved broadcast, dispatched now (batches created, no task sent outside a committed transaction)."""
    b = approved(acc, **overrides)
    assert services.dispatch_due_broadcasts(now=timezone.now() + timedelta(seconds=1)) >= 1
    b.refresh_from_db()
    return b


def batch_ids(b: Broadcast, **filters) -> list[int]:
    return list(DeliveryBatch.objects.filter(broadcast=b, **filters).order_by("number").values_list("id", flat=True))


def deliver_all(b: Broadcast) -> list[str]:
    """Run every batch of the broadcast in this process, in order; returns each outcome."""
    outcomes = [services.deliver_batch(batch_id) for batch_id in batch_ids(b)]
    b.refresh_from_db()
    return outcomes


def statuses(b: Broadcast) -> dict[int, str]:
    return dict(Delivery.objects.filter(broadcast=b).values_list("follower_id", "status"))


def inbox_of(b: Broadcast) -> dict[int, bool]:
    return dict(InboxMessage.objects.filter(broadcast=b).values_list("follower_id", "folded"))


class SlowInboxBackend(InboxBackend):
    """The inbox backend, slowed down inside the batch's transaction, holding its lock (crash and pause tests).

    BROADCAST_TEST_BATCH_DELAY: seconds each batch takes.
    """

    def sent_rows_sql(self, batch):
        time.sleep(float(os.environ.get("BROADCAST_TEST_BATCH_DELAY", "0.3")))
        return super().sent_rows_sql(batch)


class HalfFailingBackend(InboxBackend):
    """Delivers followers with an even id, fails the others for good (a gateway refusing some)."""

    def sent_rows_sql(self, batch):
        return None  # go through send(), which reports failures

    def send(self, batch):
        delivered = [i for i in batch.follower_ids if i % 2 == 0]
        super().send(batch.__class__(**{**batch.__dict__, "follower_ids": delivered}))
        return {i: "Recipient blocked the account." for i in batch.follower_ids if i % 2}


class Gateway:
    """A real local HTTP push gateway (http.server in a thread) with scripted answers.

    `answers`: (status, body) per request in order, the last one repeating; or a function of
    the request dict returning (status, body). Every request is kept in `requests` as
    {"headers", "body", "json"}.
    """

    def __init__(self, answers=((200, "ok"),)):
        self.answers = answers if callable(answers) else list(answers)
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                gateway.requests.append(request)
                if callable(gateway.answers):
                    status, text = gateway.answers(request)
                else:
                    status, text = gateway.answers[min(len(gateway.requests), len(gateway.answers)) - 1]
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
