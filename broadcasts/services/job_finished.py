"""The job-finished event (MASSSENDJOBFINISH): when an API broadcast finishes, its account's server is told.

finish_broadcast, and dispatch when it fails a broadcast at send time, call
queue_job_finished_push, which queues the push task by name after commit. The task calls
push_job_finished: one POST with no transaction open (wire format: broadcasts.platform_push),
and one PushAttempt row with the answer. 2xx: delivered. 5xx, a timeout or no connection:
transient, PushUnavailable, the task retries with backoff and records `gave_up` on its last
attempt. Any other answer: refused, for good. Once an attempt has a final outcome, a duplicated
or redelivered task pushes nothing more. Cancelled broadcasts are not pushed.
"""

from __future__ import annotations

import time
from functools import partial

import requests
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import platform_push
from ..exceptions import PushUnavailable
from ..models import Broadcast, PushAttempt
from ..task_names import PUSH_JOB_FINISHED

Status = Broadcast.Status
Outcome = PushAttempt.Outcome
# The statuses a finished job reports; a cancelled broadcast reports nothing.
PUSHED_STATUSES = (Status.SENT, Status.PARTIALLY_SENT, Status.FAILED)
# How much of the server's answer an attempt keeps.
ANSWER_CHARS = 500


class PushResult:
    """What push_job_finished did when it made no new attempt (its return value then)."""

    DUPLICATE = "duplicate"  # an earlier attempt already has a final outcome
    NO_SERVER = "no_server"  # the account's server URL was removed since
    NOT_PUSHED = "not_pushed"  # not an API broadcast, or not finished (or cancelled)
    MISSING = "missing"


def queue_job_finished_push(b: Broadcast) -> bool:
    """After commit, queue the job-finished push of a finished API broadcast whose account has a
    server URL; returns whether one was queued."""
    if b.channel != Broadcast.Channel.API or b.status not in PUSHED_STATUSES or not b.account.server_url:
        return False
    transaction.on_commit(partial(current_app.send_task, PUSH_JOB_FINISHED, (b.pk,)), robust=True)
    return True


def job_finished_event(b: Broadcast) -> platform_push.JobFinished:
    """The broadcast's totals as the platform's event words them (FilterCount: left after filtering)."""
    return platform_push.JobFinished(
        to_user=b.account.app_id,
        msg_id=b.pk,
        create_time=int((b.finished_at or timezone.now()).timestamp()),
        # As on the platform, "send success" also when a few followers could not be reached
        # (ErrorCount says how many); "send fail" when nobody was.
        status="send fail" if b.status == Status.FAILED else "send success",
        total_count=b.total_count,
        filter_count=b.sent_count + b.error_count,
        sent_count=b.sent_count,
        error_count=b.error_count,
    )


def push_job_finished(broadcast_id: int, *, final_attempt: bool = False) -> str:
    """POST the broadcast's job-finished event to its account's server and record the attempt.

    Returns the attempt's outcome ("delivered", "refused", "gave_up") or a PushResult when no
    attempt was made. Raises PushUnavailable on a transient failure (the task retries), except
    on the final attempt, which records "gave_up".
    """
    b = Broadcast.objects.select_related("account").filter(pk=broadcast_id).first()
    if b is None:
        return PushResult.MISSING
    if b.channel != Broadcast.Channel.API or b.status not in PUSHED_STATUSES:
        return PushResult.NOT_PUSHED
    account = b.account
    if not account.server_url:
        return PushResult.NO_SERVER
    if b.push_attempts.exclude(outcome=Outcome.RETRYING).exists():
        return PushResult.DUPLICATE
    event = job_finished_event(b)
    push = platform_push.signed_push(
        event, token=account.server_token, app_id=account.app_id, encoding_aes_key=account.encoding_aes_key,
        timestamp=str(int(time.time())), nonce=platform_push.new_nonce(),
    )
    attempt = PushAttempt(
        broadcast=b, url=account.server_url, encrypted=bool(account.encoding_aes_key),
        event_xml=platform_push.event_xml(event),
    )
    started = time.monotonic()
    try:
        response = requests.post(
            account.server_url, params=push.params, data=push.body.encode(),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=settings.BROADCAST_PUSH_TIMEOUT, allow_redirects=False,
        )
    except requests.RequestException as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
        transient = True
    else:
        attempt.status_code = response.status_code
        attempt.response = (response.text or "")[:ANSWER_CHARS]
        transient = response.status_code >= 500
        attempt.outcome = Outcome.DELIVERED if 200 <= response.status_code < 300 else Outcome.REFUSED
    if transient:
        attempt.outcome = Outcome.GAVE_UP if final_attempt else Outcome.RETRYING
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.number = b.push_attempts.count() + 1
    attempt.save()
    if attempt.outcome == Outcome.RETRYING:
        raise PushUnavailable(attempt.error or f"HTTP {attempt.status_code}: {attempt.response[:100]}")
    return str(attempt.outcome)
