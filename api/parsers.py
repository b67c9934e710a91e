"""Request bodies as the platform's SDKs send them: JSON whatever the Content-Type says (wechatpy
posts UTF-8 bytes with none), at most settings.API_MAX_BODY_BYTES, refused before parsing
beyond that."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

from .errors import InvalidRequest


def _refuse_constant(name: str):
    raise ValueError(_("%(name)s is not a JSON number") % {"name": name})


class AnyContentTypeJSONParser(JSONParser):
    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise InvalidRequest(_("The body is larger than %(limit)d bytes.") % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(
                raw.decode(encoding), parse_constant=_refuse_constant if api_settings.STRICT_JSON else None
            )
        except (ValueError, LookupError, RecursionError) as exc:  # bad UTF-8 is a ValueError; deep nesting recurses
            raise InvalidRequest(_("The body is not valid JSON: %(detail)s") % {"detail": exc}) from None


class JSONAlways(BaseContentNegotiation):
    """The platform answers JSON whatever Accept says (an Accept it cannot meet is no reason for a 406)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
