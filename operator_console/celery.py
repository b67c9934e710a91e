"""The Celery app: `celery -A operator_console worker -Q control|bulk` and `… beat`.

Database connections are reused across tasks (CELERY_DB_REUSE_MAX keeps Celery's Django
fix-up from closing them after each task); before each task a connection that is broken or
older than CONN_MAX_AGE is closed, as Django does at the start of a request.
"""

import os

from celery import Celery, signals
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")

app = Celery("operator_console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def close_old_connections(**kwargs) -> None:
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
