"""What every endpoint of the advanced mass interface shares: the access token, the per-account
throttles, JSON bodies whatever their Content-Type, JSON answers whatever Accept says, and
refusals as the platform words them (api.errors). Views translate the wire format to a
service call and back; they hold no rule."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..auth import AccessTokenAuthentication
from ..parsers import AnyContentTypeJSONParser, JSONAlways
from ..serializers import Refusal
from ..throttles import PerDayThrottle, PerMinuteThrottle

# The platform's words for a job it took.
SEND_ACCEPTED = "send job submission success"
OK = "ok"


class PlatformView(APIView):
    authentication_classes = [AccessTokenAuthentication]
    permission_classes = []
    throttle_classes = [PerMinuteThrottle, PerDayThrottle]
    parser_classes = [AnyContentTypeJSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONAlways

    def check_throttles(self, request):
        # DRF's own loop, answering with the window that ran out (45011 or 45009), not HTTP 429.
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                raise throttle.refusal()

    @property
    def caller(self):
        """The accounts.selectors.ApiCaller of the request's access token."""
        return self.request.user

    def parsed(self, serializer_class, data):
        """The bound serializer, validated (a problem answers 47001)."""
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer


def answers(serializer, description: str) -> dict:
    """The schema of an endpoint's HTTP 200: its answer, or a refusal."""
    name = serializer.__name__ + "OrRefusal"
    either = PolymorphicProxySerializer(component_name=name, serializers=[serializer, Refusal], resource_type_field_name=None)
    return {200: OpenApiResponse(either, description=description + " A refusal is {errcode, errmsg} (HTTP 200).")}
