"""bench/api.py's server: the console's URLs plus the floor views it compares the API with.

The floors are Django REST framework's own minimal views on the same gunicorn, so the figures
beside them show what the API's work adds to what any DRF view pays (HTTP, WSGI, DRF's request
and response, JSON), nothing else. Not part of the console: only bench/api_settings.py uses it.
"""

from django.urls import include, path
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

PAGE = [f"oBenchApi{i:016d}" for i in range(10_000)]


class Floor(APIView):
    """GET: an answer and nothing else. POST: DRF parses the body (a 10,000-openid list) and answers."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    parser_classes = [JSONParser]

    def get(self, request):
        return Response({"errcode": 0, "errmsg": "ok"})

    def post(self, request):
        return Response({"errcode": 0, "errmsg": "ok", "n": len(request.data.get("touser", []))})


class PageFloor(Floor):
    """GET: a user/get page of 10,000 openids rendered from memory (no database)."""

    def get(self, request):
        return Response({"total": 1_000_000, "count": len(PAGE), "data": {"openid": PAGE}, "next_openid": PAGE[-1]})


urlpatterns = [
    path("bench/floor", Floor.as_view()),
    path("bench/page-floor", PageFloor.as_view()),
    path("", include("operator_console.urls")),
]
