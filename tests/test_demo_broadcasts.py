from django.core.management import call_command

from broadcasts.models import Broadcast


def test_seed_demo_adds_demo_broadcasts_in_each_state_once(db):
    call_command("seed_demo", "--followers", "300")
    call_command("seed_demo", "--followers", "300")

    states = dict(Broadcast.objects.values_list("title", "status"))
    assert states == {
        "Autumn oolong tasting": "approved",
        "New beans this week": "pending_review",
        "Weekend offer for VIPs": "approved",
        "Typhoon season checklist": "pending_review",
        "Spring routes": "draft",
    }
    flagged = Broadcast.objects.get(title="New beans this week")
    assert flagged.findings, "the reviewer sees the flagged phrase"
