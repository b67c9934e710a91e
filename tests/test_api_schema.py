"""The interface's documentation, and what it lets a fuzzer find: /api/schema/ describes every
endpoint, /api/docs/ serves Swagger UI from the console's own static files (no CDN), and a
property-based run of schemathesis against the schema on a live server finds no 500."""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.api import Platform
from tests.factories import make_api_account, make_followers, make_tag

ENDPOINTS = {
    "/cgi-bin/token": "get",
    "/cgi-bin/message/mass/sendall": "post",
    "/cgi-bin/message/mass/send": "post",
    "/cgi-bin/message/mass/preview": "post",
    "/cgi-bin/message/mass/get": "post",
    "/cgi-bin/message/mass/delete": "post",
    "/cgi-bin/tags/get": "get",
    "/cgi-bin/user/get": "get",
}


@pytest.mark.django_db
def test_the_schema_describes_every_endpoint_with_the_access_token(client):
    schema = client.get("/api/schema/?format=json").json()

    assert {path: next(iter(ops)) for path, ops in schema["paths"].items()} == ENDPOINTS
    assert schema["components"]["securitySchemes"]["access_token"] == {
        "type": "apiKey", "in": "query", "name": "access_token",
        "description": "From GET /cgi-bin/token; valid for expires_in seconds.",
    }
    assert "security" not in schema["paths"]["/cgi-bin/token"]["get"]
    sendall = schema["paths"]["/cgi-bin/message/mass/sendall"]["post"]
    assert sendall["security"] == [{"access_token": []}]
    assert "group_id" in schema["components"]["schemas"]["MassFilter"]["properties"]


@pytest.mark.django_db
def test_swagger_ui_is_served_from_the_consoles_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    script = client.get("/api/docs/?script=")

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    # No inline script (a strict Content-Security-Policy allows none): the start-up script is a file.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert script["Content-Type"].startswith("application/javascript") and "/api/schema/" in script.content.decode()


# --- property-based: schemathesis against the live schema ----------------------------------------------
# (Its pytest plugin's lazy schema does not run under pytest 9, so the run is Hypothesis's own
# @given over schemathesis' strategy for every operation, valid and invalid data alike.)

FUZZ_EXAMPLES = 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_nothing_a_caller_sends_produces_a_500(live_server, settings):
    settings.API_RATE_PER_MINUTE = settings.API_RATE_PER_DAY = 1_000_000
    account, secret = make_api_account(name="Fuzz Coffee")
    make_tag(account, "vip", make_followers(account, 20))
    session = requests.Session()
    token = Platform(session, live_server.url).token(account.app_id, secret)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    cases = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    seen = set()

    @given(case=cases)
    @settings_(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def call(case):
        seen.add(case.operation.label)
        case.call_and_validate(session=session, checks=[not_a_server_error], params={"access_token": token})

    call()
    assert len(seen) == len(ENDPOINTS), seen
