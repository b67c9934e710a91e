"""`GET /cgi-bin/token`: an access token for an account's appid and app secret."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts import services

from ..serializers import TokenAnswer, TokenQuery
from .base import PlatformView, answers


class TokenView(PlatformView):
    authentication_classes = []

    @extend_schema(
        operation_id="token", parameters=[TokenQuery], auth=[],
        responses=answers(TokenAnswer, "A token for the other calls' access_token parameter."),
    )
    def get(self, request):
        query = self.parsed(TokenQuery, request.query_params).validated_data
        token, ttl = services.issue_access_token(
            grant_type=query["grant_type"], app_id=query["appid"], secret=query["secret"]
        )
        return Response({"access_token": token, "expires_in": ttl})
