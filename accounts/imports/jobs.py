"""Follower imports started in the admin: the file is stored with a FollowerImport row and a worker
runs it through `import_followers`, the command's service, so the rules, the counts and the
line-numbered problems are the same. The page reads the progress the worker reports
(`import_progress`): the import is one transaction, so it is kept outside the database, in the
Redis cache `progress`, until the row says how the import ended.
"""

from __future__ import annotations

import io

from celery import current_app
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import DomainError, ImportRowsInvalid
from ..models import FollowerImport, OfficialAccount
from ..task_names import IMPORT_FOLLOWERS
from .service import import_followers

Status = FollowerImport.Status
# How long a progress report is kept: longer than any import, shorter than forever.
PROGRESS_TTL = 24 * 3600


def _progress_key(import_id: int) -> str:
    return f"follower-import:{import_id}"


def import_progress(job: FollowerImport) -> dict:
    """{"done": bytes read, "phase": the writing step under way} of a running import; {} otherwise."""
    if job.status != Status.RUNNING:
        return {}
    return caches["progress"].get(_progress_key(job.pk)) or {}


def start_follower_import(account: OfficialAccount, *, by, name: str, data: bytes,
                          skip_invalid: bool = False) -> FollowerImport:
    """Store an uploaded CSV and queue its import (task IMPORT_FOLLOWERS, once this commits)."""
    job = FollowerImport.objects.create(account=account, by=by, name=name, data=data, size=len(data),
                                        skip_invalid=skip_invalid)
    transaction.on_commit(lambda: current_app.send_task(IMPORT_FOLLOWERS, (job.pk,)))
    return job


def run_follower_import(import_id: int) -> FollowerImport | None:
    """Run a queued import once (a second delivery of the task finds it taken and does nothing);
    its counts, or its refusal with the line-numbered problems, are stored on the row."""
    now = timezone.now()
    if not FollowerImport.objects.filter(pk=import_id, status=Status.QUEUED).update(status=Status.RUNNING,
                                                                                    started_at=now):
        return None
    job = FollowerImport.objects.select_related("account", "by").get(pk=import_id)
    cache, key = caches["progress"], _progress_key(import_id)
    state = {"done": 0, "phase": ""}

    def progress(done: int) -> None:
        if done - state["done"] >= max(job.size // 100, 1) or done == job.size:  # about a hundred reports
            state["done"] = done
            cache.set(key, dict(state), PROGRESS_TTL)

    def on_phase(text: str) -> None:
        state["phase"] = text
        cache.set(key, dict(state), PROGRESS_TTL)

    try:
        result = import_followers(job.account, io.BytesIO(bytes(job.data)), skip_invalid=job.skip_invalid,
                                  by=job.by, name=job.name, progress=progress, on_phase=on_phase)
    except ImportRowsInvalid as exc:
        job.status, job.error = Status.FAILED, exc.message
        job.problems = [str(p) for p in exc.context["problems"]]
        job.problem_count = exc.context["problem_count"]
    except DomainError as exc:
        job.status, job.error = Status.FAILED, exc.message
    except Exception:
        job.status, job.error = Status.FAILED, _("The import stopped on an error; nothing was imported.")
        _finish(job)
        raise
    else:
        job.status, job.summary = Status.DONE, result.summary
        job.problems, job.problem_count = [str(p) for p in result.problems], result.skipped
    _finish(job)
    cache.delete(key)
    return job


def _finish(job: FollowerImport) -> None:
    job.data, job.finished_at = b"", timezone.now()
    job.save(update_fields=["status", "error", "summary", "problems", "problem_count", "data", "finished_at"])
