"""Seed the platform's quota history, a few content rules and the delivery schedule.

Quota history (DESIGN.md R2/R3/R5): subscription accounts 1 broadcast a day;
service accounts 1 a week until 2014-04-15, then 4 per calendar month; from
2014-04-15 each follower receives at most 4 a month from one service account.
Times are midnight in Asia/Shanghai. Ops correct history in the admin.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import migrations

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCOUNT_SPLIT = datetime(2013, 8, 5, tzinfo=SHANGHAI)  # subscription/service split (WeChat 5.0)
RULE_CHANGE = datetime(2014, 4, 15, tzinfo=SHANGHAI)

POLICIES = [
    ("subscription", "account", 1, "day", ACCOUNT_SPLIT, None, "R2: one broadcast a day"),
    ("service", "account", 1, "week", ACCOUNT_SPLIT, RULE_CHANGE, "R3: one broadcast a week until 2014-04-15"),
    ("service", "account", 4, "month", RULE_CHANGE, None, "R3: four broadcasts a calendar month"),
    ("service", "follower", 4, "month", RULE_CHANGE, None, "R5: a follower receives at most 4 a month"),
]

RULES = [
    # (pattern, match, action, points, note)
    ("lottery winner", "keyword", "block", 10, "Junk: fake prize notices"),
    ("free money", "keyword", "block", 10, "Junk: financial bait"),
    (r"\b(?:click|share) (?:now|to win)\b", "regex", "flag", 0, "Marketing pressure: reviewer decides"),
    ("bit.ly", "domain", "flag", 0, "Shortened links hide the destination"),
    ("malware.example", "domain", "block", 20, "Known bad domain"),
]

SCHEDULE = [
    # (name, task, every seconds)
    ("Dispatch due broadcasts", "broadcasts.tasks.dispatch_due_broadcasts_task", 60),
    ("Re-queue stale delivery batches", "broadcasts.tasks.requeue_stale_batches_task", 30),
]


def seed(apps, schema_editor):
    QuotaPolicy = apps.get_model("broadcasts", "QuotaPolicy")
    ContentRule = apps.get_model("broadcasts", "ContentRule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for kind, scope, limit, period, start, end, note in POLICIES:
        QuotaPolicy.objects.get_or_create(
            kind=kind, scope=scope, effective_from=start,
            defaults={"limit": limit, "period": period, "effective_until": end, "note": note},
        )
    for pattern, match, action, points, note in RULES:
        ContentRule.objects.get_or_create(
            pattern=pattern, match=match, defaults={"action": action, "points": points, "note": note}
        )
    for name, task, seconds in SCHEDULE:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def unseed(apps, schema_editor):
    apps.get_model("broadcasts", "QuotaPolicy").objects.all().delete()
    apps.get_model("broadcasts", "ContentRule").objects.filter(pattern__in=[r[0] for r in RULES]).delete()
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("broadcasts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
