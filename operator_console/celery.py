"""The Celery app: `celery -A operator_console worker|beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "operator_console.settings")

app = Celery("operator_console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
