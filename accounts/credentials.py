"""The advanced mass interface's credentials, as the platform has them: an app secret per
account and short-lived access tokens. Pure helpers; the services issue and reset, the
selectors verify.

* The app secret is 32 random hex characters (128 bits, like the platform's AppSecret). Only
  its SHA-256 is stored: a slow password hash protects guessable passwords, and buys nothing
  for a random 128-bit value while it would cost every `/cgi-bin/token` call a quarter of a
  second of CPU.
* An access token is 64 random url-safe characters kept in the `api` cache (Redis, through
  Django's cache framework) under the SHA-256 of the token, so a dump of Redis holds no usable
  token. The entry names the account, the secret's generation (`app_secret_set_at`) and the
  expiry; it outlives the token by API_TOKEN_EXPIRED_GRACE so that an expired token is told
  apart (42001) from one that was never issued (40001).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.conf import settings
from django.core.cache import caches

HASH_PREFIX = "sha256$"
TOKEN_BYTES = 48  # 64 url-safe characters


def new_secret() -> str:
    return secrets.token_hex(16)


def hash_secret(secret: str) -> str:
    return HASH_PREFIX + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """True when `secret` is the one whose hash is stored (constant-time comparison)."""
    if not stored_hash or not secret:
        return False
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def generation(set_at: datetime | None) -> str:
    """The secret's generation as tokens carry it."""
    return set_at.isoformat() if set_at else ""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_key(token: str) -> str:
    return "token:" + token_digest(token)


def token_label(token: str) -> str:
    """How the audit trail names a token without revealing it: the start of its digest."""
    return token_digest(token)[:12]


def api_cache():
    """The cache (Redis) of the advanced mass interface: tokens, throttle counters, follower totals (settings.API_CACHE)."""
    return caches[settings.API_CACHE]
