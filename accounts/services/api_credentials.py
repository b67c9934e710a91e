"""The advanced mass interface's credentials: app secrets (only a hash kept) and access tokens
in the cache (accounts.credentials says how they are kept). R4: the API is for certified service accounts."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import credentials, selectors
from ..exceptions import InvalidAppId, InvalidCredential, InvalidGrantType
from ..models import AuditEvent, OfficialAccount
from .audit import record_event

# The only grant the platform's token endpoint knows.
GRANT_TYPE = "client_credential"


@transaction.atomic
def reset_app_secret(account: OfficialAccount, *, by) -> str:
    """Give the account a new app secret and return it: the only time anyone sees it (only its
    hash is kept). Every access token issued under the previous secret is refused from the
    commit on (tokens carry the secret's generation). Raises nothing."""
    account = OfficialAccount.objects.select_for_update().get(pk=account.pk)
    secret = credentials.new_secret()
    account.app_secret_hash = credentials.hash_secret(secret)
    account.app_secret_set_at = timezone.now()
    account.save(update_fields=["app_secret_hash", "app_secret_set_at"])
    record_event(account, by=by, verb=AuditEvent.Verb.SECRET_RESET, account=account,
                 note=_("earlier access tokens revoked"))
    return secret


def issue_access_token(*, grant_type: str, app_id: str, secret: str) -> tuple[str, int]:
    """A new access token for the account whose app secret this is, and its lifetime in seconds
    (settings.API_TOKEN_TTL). Tokens already issued stay valid until they expire.

    Raises invalid_grant_type, invalid_app_id, invalid_credential, api_suspended.
    """
    if grant_type != GRANT_TYPE:
        raise InvalidGrantType(
            _("grant_type must be “%(expected)s”, not “%(given)s”.") % {"expected": GRANT_TYPE, "given": grant_type}
        )
    account = OfficialAccount.objects.filter(app_id=app_id).first() if app_id else None
    if account is None:
        raise InvalidAppId(_("No official account has the app_id “%(app_id)s”.") % {"app_id": app_id})
    if not account.app_secret_hash:
        raise InvalidCredential(
            _("%(name)s has no app secret yet; a reviewer resets it on the account's page in the console.")
            % {"name": account.name}
        )
    if not credentials.secret_matches(secret, account.app_secret_hash):
        raise InvalidCredential(_("The app secret is not %(name)s's current one.") % {"name": account.name})
    selectors.refuse_if_suspended(account)
    token, ttl = credentials.new_token(), settings.API_TOKEN_TTL
    entry = {
        "account": account.pk,
        "generation": credentials.generation(account.app_secret_set_at),
        "expires_at": (timezone.now() + timedelta(seconds=ttl)).timestamp(),
    }
    credentials.api_cache().set(
        credentials.token_key(token), entry, timeout=ttl + settings.API_TOKEN_EXPIRED_GRACE
    )
    return token, ttl
