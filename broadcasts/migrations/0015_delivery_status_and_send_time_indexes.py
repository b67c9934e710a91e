"""Indexes of the admin lists: the broadcasts list's send-date drill-down, and the deliveries list
by status across broadcasts (partial indexes of the few failed and filtered rows).

The delivery table has tens of millions of rows and is written to while the console runs, so on
PostgreSQL the indexes are built CONCURRENTLY (outside a transaction); elsewhere as usual."""

from django.db import migrations, models

INDEXES = [
    ("broadcast", models.Index(fields=["scheduled_at"], name="broadcast_send_time_idx")),
    ("delivery", models.Index(condition=models.Q(("status", "failed")), fields=["-id"], name="delivery_failed_idx")),
    ("delivery", models.Index(condition=models.Q(("status", "filtered")), fields=["-id"],
                              name="delivery_filtered_idx")),
]


def create(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model("broadcasts", model_name), index, **concurrently)


def drop(apps, schema_editor):
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    for model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model("broadcasts", model_name), index, **concurrently)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("broadcasts", "0014_unfollow_beat_schedule")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name=m, index=i) for m, i in INDEXES],
            database_operations=[migrations.RunPython(create, drop)],
        )
    ]
