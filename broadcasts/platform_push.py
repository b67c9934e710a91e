"""The platform's push wire format, for the job-finished event (MASSSENDJOBFINISH): the event's
XML, the query-string signature, and the safe mode's AES envelope. No database, no network.

A server written for the public-account platform (wechatpy's `check_signature`,
`WeChatCrypto.decrypt_message` and `parse_message`, or any other SDK) accepts these pushes
unchanged. broadcasts.services.job_finished builds and sends them; the README ("Job-finished
event") documents the format.

Plain mode: POST <server URL>?signature=…&timestamp=…&nonce=… with the event XML as the body;
`signature` = hex SHA-1 of the sorted, concatenated [token, timestamp, nonce].

Safe mode (the account has an EncodingAESKey): the same query plus `encrypt_type=aes` and
`msg_signature` = hex SHA-1 of the sorted, concatenated [token, timestamp, nonce, Encrypt];
the body is `<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>`, where Encrypt is
base64 of AES-256-CBC (key = base64 of EncodingAESKey + "=", IV = its first 16 bytes) over
16 random bytes, the XML's length (4 bytes, network order), the XML, and the app id, padded
PKCS#7-style to 32-byte blocks.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import struct
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

EVENT = "MASSSENDJOBFINISH"
# FromUserName of the event: on the platform a system account sends it; here, the console.
SENDER = "broadcast-console"
# The platform pads to 32-byte blocks (not AES's 16): its servers' decoders expect that.
PAD_BLOCK = 32
NONCE_ALPHABET = string.ascii_letters + string.digits


class JobFinished(NamedTuple):
    """The counts of a finished job, as the platform words them: `filter_count` is the number
    left *after* filtering (sent + errors), not the number filtered out."""

    to_user: str
    msg_id: int
    create_time: int
    status: str  # "send success" | "send fail" | "err(<num>)"
    total_count: int
    filter_count: int
    sent_count: int
    error_count: int


class Push(NamedTuple):
    """One push as it goes on the wire: query parameters and the XML body."""

    params: dict[str, str]
    body: str


def _cdata(value: str) -> str:
    # "]]>" cannot sit inside a CDATA section: close it and open another around the ">".
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def event_xml(event: JobFinished) -> str:
    """The MASSSENDJOBFINISH event, field by field as the platform sends it."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(event.to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(SENDER)}</FromUserName>"
        f"<CreateTime>{event.create_time}</CreateTime>"
        f"<MsgType>{_cdata('event')}</MsgType>"
        f"<Event>{_cdata(EVENT)}</Event>"
        f"<MsgID>{event.msg_id}</MsgID>"
        f"<Status>{_cdata(event.status)}</Status>"
        f"<TotalCount>{event.total_count}</TotalCount>"
        f"<FilterCount>{event.filter_count}</FilterCount>"
        f"<SentCount>{event.sent_count}</SentCount>"
        f"<ErrorCount>{event.error_count}</ErrorCount>"
        "</xml>"
    )


def signature(*parts: str) -> str:
    """Hex SHA-1 of the parts sorted and joined: the platform's `signature` and `msg_signature`."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def new_nonce() -> str:
    return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(16))


def encrypt(xml: str, *, encoding_aes_key: str, app_id: str, prefix: bytes | None = None) -> str:
    """The safe mode's Encrypt value of `xml` for the account `app_id` (`prefix`: 16 random bytes unless given)."""
    key = base64.b64decode(encoding_aes_key + "=")
    text = xml.encode()
    plain = (prefix or secrets.token_bytes(16)) + struct.pack("!I", len(text)) + text + app_id.encode()
    pad = PAD_BLOCK - len(plain) % PAD_BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def signed_push(event: JobFinished, *, token: str, app_id: str, encoding_aes_key: str = "",
                timestamp: str, nonce: str) -> Push:
    """The push of `event`: plain when `encoding_aes_key` is empty, else in the platform's safe mode."""
    xml = event_xml(event)
    params = {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if not encoding_aes_key:
        return Push(params, xml)
    encrypted = encrypt(xml, encoding_aes_key=encoding_aes_key, app_id=app_id)
    params.update(encrypt_type="aes", msg_signature=signature(token, timestamp, nonce, encrypted))
    body = f"<xml><ToUserName>{_cdata(event.to_user)}</ToUserName><Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
    return Push(params, body)
