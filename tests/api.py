"""Calling the advanced mass interface from tests as an integration would: the platform's paths,
JSON bodies, `?access_token=`; answers decoded. Works with Django's test client (in process)
and with a requests.Session against a live server (`base` = its URL)."""

from __future__ import annotations

import json
from urllib.parse import urlencode


def encode(body) -> bytes:
    """As wechatpy sends it: UTF-8, non-ASCII unescaped."""
    return body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")


class Platform:
    def __init__(self, client, base: str = ""):
        self.client = client
        self.base = base

    def _url(self, path: str, params: dict) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base}/cgi-bin/{path}" + (f"?{query}" if query else "")

    def get(self, path: str, token: str | None = None, **params) -> dict:
        response = self.client.get(self._url(path, {"access_token": token, **params}))
        assert response.status_code == 200, response.content[:500]
        return response.json()

    def post(self, path: str, body, token: str | None = None, *, content_type: str = "application/json") -> dict:
        url = self._url(path, {"access_token": token})
        if self.base:
            response = self.client.post(url, data=encode(body), headers={"Content-Type": content_type})
        else:
            response = self.client.generic("POST", url, data=encode(body), content_type=content_type)
        assert response.status_code == 200, response.content[:500]
        return response.json()

    def token(self, app_id: str, secret: str, *, grant_type: str = "client_credential") -> str:
        answer = self.get("token", grant_type=grant_type, appid=app_id, secret=secret)
        assert "access_token" in answer, answer
        return answer["access_token"]


def text(content: str, **extra) -> dict:
    """A text message body, as the platform takes it."""
    return {"msgtype": "text", "text": {"content": content}, **extra}


def refused(answer: dict, errcode: int, code: str) -> bool:
    """The answer is the platform's refusal `errcode`, naming the console's `code` first in errmsg."""
    return answer.get("errcode") == errcode and answer.get("errmsg", "").startswith(f"{code}: ")
