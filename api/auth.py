"""Who is calling: the `access_token` query parameter every call but /cgi-bin/token carries,
verified by accounts.selectors.caller_for_token (issued, unexpired, not revoked by a secret
reset, account not suspended). request.user is then an accounts.selectors.ApiCaller."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

from accounts import selectors


class AccessTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return selectors.caller_for_token(request.query_params.get("access_token", "")), None


class AccessTokenScheme(OpenApiAuthenticationExtension):
    """How the schema (/api/schema/) describes the token: an API key in the query string."""

    target_class = AccessTokenAuthentication
    name = "access_token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "access_token",
            "description": "From GET /cgi-bin/token; valid for expires_in seconds.",
        }
