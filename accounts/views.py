"""HTTP faces of accounts: the platform events intake, `POST /internal/v1/follower-events`.

The platform tells the console who followed and unfollowed. This view checks the request's
HMAC signature and its JSON (accounts.intake) and hands the events to
accounts.services.apply_follower_events; it holds no rule. Every answer is JSON: 200 with a
result per event, or an error with a stable code (README, "Platform events intake").
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from operator_console.errors import ErrorCode

from . import intake, services
from .exceptions import BodyTooLarge, DomainError, IntakeDisabled, InvalidInput

# A full batch of 1,000 events is about 150 KB; anything much larger is not a batch.
MAX_BODY_BYTES = 1024 * 1024

# The HTTP status of each refusal of a whole request.
STATUS_OF = {
    ErrorCode.SIGNATURE_INVALID: 401,
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.BATCH_TOO_LARGE: 400,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.INTAKE_DISABLED: 503,
}


@csrf_exempt
@require_POST
def follower_events(request):
    """Apply a signed batch of follows and unfollows; answers one result per event, in order."""
    try:
        body = _signed_body(request)
        results = services.apply_follower_events(intake.parse_batch(body))
    except DomainError as exc:
        return refusal(exc)
    counts = {status: 0 for status in (services.APPLIED, services.UNCHANGED, services.REFUSED)}
    answers = []
    for result in results:
        counts[result.status] += 1
        answer = {"status": result.status}
        if result.error is not None:
            answer.update(code=result.error.code.value, message=result.error.message)
        answers.append(answer)
    return JsonResponse({"received": len(results), **counts, "results": answers})


def _signed_body(request) -> bytes:
    """The request's body once its size and signature are checked. Raises intake_disabled, body_too_large,
    invalid_input, signature_invalid."""
    secret = settings.PLATFORM_EVENTS_SECRET
    if not secret:
        raise IntakeDisabled(_("The intake is off: PLATFORM_EVENTS_SECRET is not set, so no request can be verified."))
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not (length.isascii() and length.isdigit()):
        raise InvalidInput(_("Content-Length is not a number of bytes."))
    if int(length) > MAX_BODY_BYTES:
        raise BodyTooLarge(ngettext("A request body is at most %(max)d byte.", "A request body is at most %(max)d bytes.", MAX_BODY_BYTES)
            % {"max": MAX_BODY_BYTES})
    body = request.body
    intake.verify_signature(
        secret=secret, body=body, now=time.time(), max_skew=settings.PLATFORM_EVENTS_MAX_SKEW_SECONDS,
        timestamp=request.headers.get(intake.TIMESTAMP_HEADER), signature=request.headers.get(intake.SIGNATURE_HEADER),
    )
    return body


def refusal(exc: DomainError) -> JsonResponse:
    """A refused request as JSON: {"error": {"code", "message", ...details}} with the code's HTTP status."""
    error = {"code": exc.code.value, "message": exc.message}
    error.update({key: value for key, value in exc.context.items() if key in ("problems", "problem_count")})
    return JsonResponse({"error": error}, status=STATUS_OF.get(exc.code, 400))
