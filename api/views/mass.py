"""`/cgi-bin/message/mass/*`: send to all or a tag, send to a list of openids, preview, get, delete."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from broadcasts import selectors, services

from .. import serializers as s
from .base import OK, SEND_ACCEPTED, PlatformView, answers


class SendAllView(PlatformView):
    @extend_schema(operation_id="mass_sendall", request=s.SendAll,
                   responses=answers(s.SendAnswer, "The job was taken: msg_id is the broadcast's id."))
    def post(self, request):
        body = self.parsed(s.SendAll, request.data)
        b = services.send_through_api(
            self.caller.account, credential=self.caller.label, **body.message(), **body.audience()
        )
        return Response({"errcode": 0, "errmsg": SEND_ACCEPTED, "msg_id": b.pk})


class SendView(PlatformView):
    @extend_schema(operation_id="mass_send", request=s.SendToList,
                   responses=answers(s.SendAnswer, "The job was taken: msg_id is the broadcast's id."))
    def post(self, request):
        body = self.parsed(s.SendToList, request.data)
        b = services.send_through_api(
            self.caller.account, credential=self.caller.label, openids=body.validated_data["touser"], **body.message()
        )
        return Response({"errcode": 0, "errmsg": SEND_ACCEPTED, "msg_id": b.pk})


class PreviewView(PlatformView):
    @extend_schema(operation_id="mass_preview", request=s.Preview,
                   responses=answers(s.SendAnswer, "The preview was sent: msg_id is the preview's id."))
    def post(self, request):
        body = self.parsed(s.Preview, request.data)
        message = body.message()
        message.pop("client_msg_id")
        preview = services.preview_through_api(
            self.caller.account, credential=self.caller.label, openid=body.validated_data["touser"],
            wxname=body.validated_data["towxname"], **message,
        )
        return Response({"errcode": 0, "errmsg": "preview success", "msg_id": preview.pk})


class GetView(PlatformView):
    @extend_schema(operation_id="mass_get", request=s.MsgId, responses=answers(s.StatusAnswer, "The job's status."))
    def post(self, request):
        msg_id = self.parsed(s.MsgId, request.data).validated_data["msg_id"]
        b = selectors.api_broadcast(self.caller.account, msg_id)
        return Response({"msg_id": b.pk, "msg_status": selectors.mass_status(b)})


class DeleteView(PlatformView):
    @extend_schema(operation_id="mass_delete", request=s.MsgId,
                   responses=answers(s.OkAnswer, "The broadcast is cancelled."))
    def post(self, request):
        msg_id = self.parsed(s.MsgId, request.data).validated_data["msg_id"]
        services.cancel_through_api(self.caller.account, credential=self.caller.label, msg_id=msg_id)
        return Response({"errcode": 0, "errmsg": OK})
