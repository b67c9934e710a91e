"""Beat: measure unfollows after broadcasts, recount follower days and review flags (R8) every 10 minutes,
on the control queue (the default queue; CELERY_TASK_ROUTES sends only delivery to bulk)."""

from django.db import migrations

NAME = "Measure unfollows and review over-marketing flags"
TASK = "broadcasts.tasks.measure_unfollows_task"  # broadcasts.task_names.MEASURE_UNFOLLOWS; never renamed
EVERY_SECONDS = 600


def seed(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=EVERY_SECONDS, period="seconds")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": interval, "queue": "control"})


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("broadcasts", "0013_unfollow_insight"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
