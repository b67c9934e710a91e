"""`GET /cgi-bin/tags/get` and `GET /cgi-bin/user/get`: the account's tags and its followers' openids."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts import selectors

from .. import serializers as s
from .base import PlatformView, answers

# Openids per user/get page, as on the platform.
PAGE_SIZE = 10_000


class TagsView(PlatformView):
    @extend_schema(operation_id="tags_get", responses=answers(s.TagsAnswer, "The account's tags."))
    def get(self, request):
        return Response({"tags": selectors.tags_with_counts(self.caller.account)})


class FollowersView(PlatformView):
    @extend_schema(operation_id="user_get", parameters=[s.FollowersQuery],
                   responses=answers(s.FollowersAnswer, "One page of the subscribed followers' openids."))
    def get(self, request):
        after = self.parsed(s.FollowersQuery, request.query_params).validated_data["next_openid"]
        account = self.caller.account
        openids = selectors.follower_page(account, after_openid=after, size=PAGE_SIZE)
        return Response({
            "total": selectors.subscribed_count(account),
            "count": len(openids),
            "data": {"openid": openids},
            # As on the platform: the page's last openid (the next call's next_openid); "" after the last.
            "next_openid": openids[-1] if openids else "",
        })
