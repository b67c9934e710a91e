"""Demo broadcasts for a first run, one in each interesting state.

Called by `manage.py seed_demo` after the accounts are seeded. Idempotent: each demo
broadcast carries a client_msg_id, and create_broadcast returns the existing one.
The "sent" demo broadcast is approved to go out at once, so beat dispatches it and the
worker delivers it within a minute of `make run` starting.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import Tag
from operator_console.platform_time import platform_zone

from . import services
from .models import Broadcast

DEMO = (
    # client_msg_id, app_id, title, body, audience tag, state
    ("demo-tea-autumn", "wxde00000000000001", "Autumn oolong tasting",
     "Our autumn oolongs are in: join the tasting on Saturday.", None, "send_now"),
    ("demo-coffee-beans", "wxde00000000000003", "New beans this week",
     "Ethiopian and Yunnan beans just landed. Click now to reserve a bag!", None, "pending_review"),
    ("demo-coffee-vip", "wxde00000000000003", "Weekend offer for VIPs",
     "VIP members: a free pastry with every drink this weekend.", "vip", "approved_tomorrow"),
    ("demo-weather-alert", "wxde00000000000002", "Typhoon season checklist",
     "Five things to prepare before the next typhoon.", None, "pending_review"),
    ("demo-travel-spring", "wxde00000000000005", "Spring routes",
     "New spring routes to Kyoto and Hanoi (draft).", None, "draft"),
)


def seed_demo(demo, *, stdout) -> None:
    operator, reviewer = demo.staff.get("operator"), demo.staff.get("reviewer")
    if operator is None or reviewer is None:
        return
    added = 0
    for client_msg_id, app_id, title, body, tag_name, state in DEMO:
        account = demo.accounts[app_id]
        if Broadcast.objects.filter(account=account, client_msg_id=client_msg_id).exists():
            continue
        tag = Tag.objects.get(account=account, name=tag_name) if tag_name else None
        b = services.create_broadcast(
            account, by=operator, title=title, message_type=Broadcast.MessageType.TEXT, body=body,
            audience=Broadcast.Audience.TAG if tag else Broadcast.Audience.ALL, tag=tag, client_msg_id=client_msg_id,
        )
        added += 1
        if state == "draft":
            continue
        b = services.submit_broadcast(b, by=operator)
        if state == "send_now":
            services.approve_broadcast(b, by=reviewer)
        elif state == "approved_tomorrow":
            tomorrow = timezone.localdate(timezone=platform_zone()) + timedelta(days=1)
            services.approve_broadcast(b, by=reviewer, send_at=datetime.combine(tomorrow, time(10), platform_zone()))
    if added:
        stdout.write(
            ngettext(
                "Added %(count)s demo broadcast.",
                "Added %(count)s demo broadcasts (one goes out within a minute once the worker and beat run).",
                added,
            )
            % {"count": added}
        )
