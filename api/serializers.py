"""The platform's wire format, parsed: what each endpoint takes (types, shapes) and answers.

Parsing only: whether a value is allowed (a tag of the account, 2 to 10,000 followers, a
clientmsgid of at most 64 bytes, a msgtype the console sends) is the services' to say. Keys
the console does not use (`send_ignore_reprint`, `mpnews`, ...) are ignored. DRF's CharField
refuses NUL and lone surrogate characters, so nothing unstorable reaches the database.
"""

from __future__ import annotations

from rest_framework import serializers

BIGINT_MAX = 2**63 - 1  # ids are PostgreSQL bigints; a larger number is a wrong type, not a 500


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, **kwargs)


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(trim_whitespace=False, **kwargs)


# --- requests ------------------------------------------------------------------------------------


class TokenQuery(serializers.Serializer):
    grant_type = _text(required=False, default="")
    appid = _text(required=False, default="")
    secret = _text(required=False, default="")


class TextPart(serializers.Serializer):
    content = _text(allow_blank=True)


class MassMessage(serializers.Serializer):
    """What every send carries: the message type and, for text, its content; the client message id."""

    msgtype = _text(max_length=32)
    text = TextPart(required=False)
    clientmsgid = _text(required=False, allow_blank=True, allow_null=True)

    def message(self) -> dict:
        data = self.validated_data
        return {
            "msgtype": data["msgtype"],
            "content": data.get("text", {}).get("content", ""),
            "client_msg_id": data.get("clientmsgid"),
        }


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only: "yes", 1 or "true" are refused (47001), never read as a send to everyone."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)


class MassFilter(serializers.Serializer):
    is_to_all = StrictBooleanField(required=False, default=False)
    tag_id = _id(required=False, allow_null=True)
    group_id = _id(required=False, allow_null=True, help_text="The platform's older name of tag_id (wechatpy 1.8 sends it).")


class SendAll(MassMessage):
    filter = MassFilter(required=False)

    def audience(self) -> dict:
        f = self.validated_data.get("filter", {})
        tag_id = f.get("tag_id")
        return {"to_all": f.get("is_to_all", False), "tag_id": tag_id if tag_id is not None else f.get("group_id")}


class SendToList(MassMessage):
    touser = serializers.ListField(child=_text(), help_text="2 to 10,000 openids of the account's followers.")


class Preview(MassMessage):
    touser = _text(required=False, allow_blank=True, default="")
    towxname = _text(required=False, allow_blank=True, default="", help_text="Not supported: refused (90017).")


class MsgId(serializers.Serializer):
    msg_id = _id()


class FollowersQuery(serializers.Serializer):
    next_openid = _text(required=False, allow_blank=True, default="")


# --- answers (for the schema) --------------------------------------------------------------------


class TokenAnswer(serializers.Serializer):
    access_token = serializers.CharField()
    expires_in = serializers.IntegerField()


class SendAnswer(serializers.Serializer):
    errcode = serializers.IntegerField()
    errmsg = serializers.CharField()
    msg_id = serializers.IntegerField()


class OkAnswer(serializers.Serializer):
    errcode = serializers.IntegerField()
    errmsg = serializers.CharField()


class StatusAnswer(serializers.Serializer):
    msg_id = serializers.IntegerField()
    msg_status = serializers.ChoiceField(choices=["SEND_SUCCESS", "SENDING", "SEND_FAIL", "DELETE"])


class TagRow(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class TagsAnswer(serializers.Serializer):
    tags = TagRow(many=True)


class OpenIds(serializers.Serializer):
    openid = serializers.ListField(child=serializers.CharField())


class FollowersAnswer(serializers.Serializer):
    total = serializers.IntegerField()
    count = serializers.IntegerField()
    data = OpenIds()
    next_openid = serializers.CharField()


class Refusal(serializers.Serializer):
    errcode = serializers.IntegerField()
    errmsg = serializers.CharField(help_text="The console's stable code, a colon, and its sentence.")
    msg_id = serializers.IntegerField(required=False, help_text="45065: the broadcast the clientmsgid names.")
