"""The one table from console codes to the platform's errcodes: complete, stable, documented."""

from __future__ import annotations

import re

from api.errors import ERRCODES
from operator_console.errors import ErrorCode
from tests.conftest import ROOT

# Shipped errcodes: integrations match on them, so none may change.
SHIPPED = {
    "invalid_credential": 40001, "invalid_grant_type": 40002, "follower_not_found": 40003,
    "invalid_media_id": 40007, "invalid_message_type": 40008, "invalid_app_id": 40013,
    "access_token_missing": 41001, "access_token_expired": 42001, "rate_limited_day": 45009,
    "rate_limited_minute": 45011, "quota_exceeded": 45028, "duplicate_client_msg_id": 45065,
    "client_msg_id_too_long": 45067, "invalid_request": 47001, "certification_required": 48001,
}


def test_every_console_code_has_an_errcode():
    assert set(ErrorCode) - set(ERRCODES) == set()


def test_the_platforms_codes_stay_as_shipped():
    assert {code: ERRCODES[ErrorCode(code)][0] for code in SHIPPED} == SHIPPED


def test_the_console_never_answers_a_platform_code_for_a_code_of_its_own():
    own = {n for code, (n, _) in ERRCODES.items() if n >= 90000}
    platform = {n for code, (n, _) in ERRCODES.items() if n < 90000}
    assert own.isdisjoint(platform) and len(own) == len([c for c, (n, _) in ERRCODES.items() if n >= 90000])


def test_the_readmes_table_is_the_table():
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \| `([a-z_]+)` \| ([^|]+) \|", readme, re.MULTILINE)
    assert {(int(n), code, msg.strip()) for n, code, msg in rows} == {
        (n, code.value, msg) for code, (n, msg) in ERRCODES.items()
    }
