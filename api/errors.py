"""Refusals on the wire: the one table from the console's error codes (operator_console.errors.ErrorCode)
to the platform's `errcode`, and the exception handler that answers every refusal as the
platform does: HTTP 200 with {"errcode": N, "errmsg": "<console code>: <sentence>"}.

Platform codes where the platform has one; the console's own, documented in the README, in
the 9xxxx range elsewhere. A test fails when a code of the registry is missing here. An
exception that is neither a domain error nor a request problem DRF found is not answered here:
it stays a 500, which the tests (and the property-based run) treat as a bug.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from operator_console.errors import DomainError, ErrorCode

# console code -> (errcode, what the platform's errmsg says for it). Never renumber one.
ERRCODES: dict[ErrorCode, tuple[int, str]] = {
    # the platform's own codes
    ErrorCode.INVALID_CREDENTIAL: (40001, "invalid credential"),
    ErrorCode.INVALID_GRANT_TYPE: (40002, "invalid grant_type"),
    ErrorCode.FOLLOWER_NOT_FOUND: (40003, "invalid openid"),
    ErrorCode.INVALID_MEDIA_ID: (40007, "invalid media_id"),
    ErrorCode.INVALID_MESSAGE_TYPE: (40008, "invalid message type"),
    ErrorCode.INVALID_APP_ID: (40013, "invalid appid"),
    ErrorCode.ACCESS_TOKEN_MISSING: (41001, "access_token missing"),
    ErrorCode.ACCESS_TOKEN_EXPIRED: (42001, "access_token expired"),
    ErrorCode.REQUIRES_GET: (43001, "require GET method"),
    ErrorCode.REQUIRES_POST: (43002, "require POST method"),
    ErrorCode.RATE_LIMITED_DAY: (45009, "reach max api daily quota limit"),
    ErrorCode.RATE_LIMITED_MINUTE: (45011, "api minute-quota reach limit"),
    ErrorCode.QUOTA_EXCEEDED: (45028, "has no masssend quota"),
    ErrorCode.DUPLICATE_CLIENT_MSG_ID: (45065, "clientmsgid exist"),
    ErrorCode.CLIENT_MSG_ID_TOO_LONG: (45067, "clientmsgid size out of limit"),
    ErrorCode.TAG_NOT_FOUND: (45159, "invalid tag id"),
    ErrorCode.INVALID_REQUEST: (47001, "data format error"),
    ErrorCode.CERTIFICATION_REQUIRED: (48001, "api unauthorized"),
    ErrorCode.ACCOUNT_SUSPENDED: (48004, "api forbidden for irregularities"),
    ErrorCode.API_SUSPENDED: (48004, "api forbidden for irregularities"),
    # the console's own codes
    ErrorCode.DOMAIN_ERROR: (90000, "refused"),
    ErrorCode.INVALID_STATE: (90001, "invalid state"),
    ErrorCode.INVALID_INPUT: (90002, "invalid input"),
    ErrorCode.REASON_REQUIRED: (90003, "reason required"),
    ErrorCode.ALREADY_CERTIFIED: (90004, "already certified"),
    ErrorCode.CERTIFICATION_PENDING: (90005, "certification pending"),
    ErrorCode.ACCOUNT_NOT_FOUND: (90006, "account not found"),
    ErrorCode.IMPORT_HEADER_INVALID: (90007, "import header invalid"),
    ErrorCode.IMPORT_ROWS_INVALID: (90008, "import rows invalid"),
    ErrorCode.BROADCAST_ERROR: (90010, "broadcast refused"),
    ErrorCode.NO_QUOTA_POLICY: (90011, "no quota policy in force"),
    ErrorCode.FOUR_EYES: (90012, "four eyes"),
    ErrorCode.CONTENT_BLOCKED: (90013, "content blocked by moderation"),
    ErrorCode.INVALID_AUDIENCE: (90014, "invalid audience"),
    ErrorCode.INVALID_CONTENT: (90015, "invalid content"),
    ErrorCode.BROADCAST_NOT_FOUND: (90016, "invalid msg_id"),
    ErrorCode.PREVIEW_TARGET_UNSUPPORTED: (90017, "preview target unsupported"),
    ErrorCode.INVALID_MENU: (90018, "invalid menu"),
    ErrorCode.UNSAFE_TEXT: (90024, "unsafe text"),
    ErrorCode.TIME_IN_FUTURE: (90019, "time in the future"),
    ErrorCode.SEND_TIME_PAST: (90031, "send time in the past"),
    ErrorCode.NOT_AUTHOR: (90032, "not the author"),
    ErrorCode.EDIT_CONFLICT: (90033, "edit conflict"),
    # The platform events intake's refusals (never answered by this API; listed so the table is whole).
    ErrorCode.SIGNATURE_INVALID: (90020, "signature invalid"),
    ErrorCode.BATCH_TOO_LARGE: (90021, "batch too large"),
    ErrorCode.BODY_TOO_LARGE: (90022, "body too large"),
    ErrorCode.INTAKE_DISABLED: (90023, "intake disabled"),
}
# What an unmapped code answers (a code added without a row here; tests/test_api_errors.py fails first).
FALLBACK = ERRCODES[ErrorCode.DOMAIN_ERROR]
# Context a refusal carries onto the wire beside errcode and errmsg (45065 names the existing msg_id).
WIRE_CONTEXT = ("msg_id",)


class InvalidRequest(DomainError):
    """The request is not what the endpoint takes: not JSON, a wrong type, a missing field, too large."""

    code = ErrorCode.INVALID_REQUEST


class RequiresGet(DomainError):
    code = ErrorCode.REQUIRES_GET


class RequiresPost(DomainError):
    code = ErrorCode.REQUIRES_POST


class RateLimitedMinute(DomainError):
    code = ErrorCode.RATE_LIMITED_MINUTE


class RateLimitedDay(DomainError):
    code = ErrorCode.RATE_LIMITED_DAY


def errcode_of(code: str) -> int:
    return ERRCODES.get(code, FALLBACK)[0]


def refusal(exc: DomainError) -> dict:
    """The platform's refusal body for a domain error."""
    body = {"errcode": errcode_of(exc.code), "errmsg": f"{exc.code}: {exc.message}"}
    body.update({key: exc.context[key] for key in WIRE_CONTEXT if key in exc.context})
    return body


def _first_problem(detail, path: str = "") -> str:
    """ "filter.tag_id: A valid integer is required." from DRF's nested validation detail."""
    if isinstance(detail, dict):
        key, value = next(iter(detail.items()))
        name = "" if key == "non_field_errors" else str(key)
        return _first_problem(value, f"{path}.{name}" if path and name else path or name)
    if isinstance(detail, list) and detail:
        return _first_problem(detail[0], path)
    return f"{path}: {detail}" if path else str(detail)


def _as_domain_error(exc: Exception, view) -> DomainError | None:
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, drf.MethodNotAllowed):
        if "POST" in getattr(view, "allowed_methods", ()):
            return RequiresPost(_("This endpoint takes POST."))
        return RequiresGet(_("This endpoint takes GET."))
    if isinstance(exc, drf.ValidationError):
        return InvalidRequest(_("The request is not valid: %(problem)s") % {"problem": _first_problem(exc.detail)})
    if isinstance(exc, drf.ParseError):
        return InvalidRequest(_("The body is not valid JSON: %(detail)s") % {"detail": exc.detail})
    if isinstance(exc, drf.APIException):
        return InvalidRequest(str(exc.detail))
    return None


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refusal is HTTP 200 with the platform's errcode."""
    error = _as_domain_error(exc, context.get("view"))
    if error is None:
        return None
    return Response(refusal(error), status=200)
