"""The followers list's nickname-prefix search ("^nickname" is UPPER(nickname::text) LIKE 'AB%'):
an expression index with text_pattern_ops, which serves LIKE 'prefix%' whatever the collation.
PostgreSQL only, built CONCURRENTLY (the followers table has millions of rows and is written to while
the console runs); the SQLite first-run default goes without."""

from django.db import migrations

INDEX = "follower_nickname_prefix_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
            "ON accounts_follower (UPPER(nickname::text) text_pattern_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("accounts", "0011_follower_imports")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
