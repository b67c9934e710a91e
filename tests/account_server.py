"""An official account's server as its developer would write it with wechatpy: a real local HTTP
server (tests.gateway.Gateway) that checks every job-finished push with wechatpy itself."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

from tests.gateway import Gateway


class AccountServer:
    """Checks each push as a wechatpy server does: `check_signature` on the query, then in safe mode
    `WeChatCrypto.decrypt_message`, then `parse_message`. A push that passes is kept in `events` and
    answered with the next of `statuses` (the last repeating); one that fails a check is kept in
    `problems` and answered 403."""

    def __init__(self, *, token: str, app_id: str, encoding_aes_key: str = "", statuses=(200,)):
        self.token, self.app_id, self.encoding_aes_key = token, app_id, encoding_aes_key
        self.statuses = list(statuses)
        self.events: list = []
        self.queries: list[dict] = []
        self.problems: list[str] = []
        self.gateway = Gateway(self._answer)
        self.url = self.gateway.url

    def __enter__(self):
        self.gateway.__enter__()
        return self

    def __exit__(self, *exc):
        self.gateway.__exit__(*exc)

    def _answer(self, request):
        query = {key: values[0] for key, values in parse_qs(urlsplit(request["path"]).query).items()}
        self.queries.append(query)
        try:
            check_signature(self.token, query["signature"], query["timestamp"], query["nonce"])
            xml = request["body"]
            if self.encoding_aes_key:
                if query.get("encrypt_type") != "aes":
                    raise ValueError(f"safe mode expected, got {query}")
                crypto = WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)
                xml = crypto.decrypt_message(xml, query["msg_signature"], query["timestamp"], query["nonce"])
            elif "encrypt_type" in query:
                raise ValueError(f"plain mode expected, got {query}")
            event = parse_message(xml)
        except Exception as exc:  # every failed check is a finding of the test
            self.problems.append(repr(exc))
            return 403, "bad push"
        self.events.append(event)
        status = self.statuses[min(len(self.events), len(self.statuses)) - 1]
        return status, "success" if status < 300 else "server trouble"
