"""One text hygiene rule on every input path, and nothing echoed raw (issue 9, section 4).

Controls, terminal escape sequences, bidi overrides and text with nothing visible are refused
in openids, nicknames, tag names, titles and bodies, whichever way they come in: the services
(which the API calls), the admin forms, the CSV import. Commands never print them raw.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.db import connection
from django.urls import reverse

from accounts import services as account_services
from accounts.imports import FIELD_LIMITS, parse_rows
from accounts.imports.parsing import Problems
from accounts.models import Follower, OfficialAccount, Tag
from broadcasts import services
from broadcasts.models import Broadcast
from operator_console.command import ConsoleCommand
from operator_console.errors import UnsafeText
from operator_console.text import Kind, clean_text, printable
from tests.conftest import ROOT
from tests.factories import HOSTILE_TEXT, LINE_BREAKS, make_account, make_draft, make_user

pytestmark = pytest.mark.django_db

ONE_LINE = {**HOSTILE_TEXT, **LINE_BREAKS}
# What an HTTP form can carry: a lone surrogate is no UTF-8 (browsers send U+FFFD instead).
OVER_HTTP = {k: v for k, v in ONE_LINE.items() if k != "lone surrogate"}
# A terminal obeys these; nothing a command prints may hold them raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# --- the rule ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ONE_LINE.values(), ids=ONE_LINE.keys())
def test_one_line_text_refuses_every_hostile_sample(text):
    with pytest.raises(UnsafeText) as exc:
        clean_text(text, kind=Kind.LINE, label="The title", field="title")
    assert exc.value.code == "unsafe_text"
    assert exc.value.context == {"field": "title"}
    assert exc.value.message.startswith("The title ")


def test_the_refusal_names_what_is_wrong():
    def message(text, kind=Kind.LINE):
        with pytest.raises(UnsafeText) as exc:
            clean_text(text, kind=kind, label="The title")
        return exc.value.message

    assert message(HOSTILE_TEXT["terminal escape"]) == "The title contains a terminal escape sequence (U+001B)."
    assert message(HOSTILE_TEXT["bidi override"]).startswith("The title contains a bidirectional override (U+202E)")
    assert message(HOSTILE_TEXT["invisible only"]) == "The title is made only of invisible characters."
    assert message("o 1", Kind.IDENTIFIER) == "The title contains a space (U+0020)."


@pytest.mark.parametrize("text", ["Sale 50% ✨", "Café, crème", "小明的店", "👩\u200d👩\u200d👧 family", "שלום\u200f!"])
def test_ordinary_text_passes_unchanged(text):
    assert clean_text(text, kind=Kind.LINE, label="The title") == text


def test_a_body_keeps_line_breaks_and_tabs_and_gets_lf_line_ends():
    assert clean_text("a\r\nb\rc\n\td\u2028e", kind=Kind.MULTILINE, label="The body") == "a\nb\nc\n\td\u2028e"
    for text in HOSTILE_TEXT.values():
        with pytest.raises(UnsafeText):
            clean_text(text, kind=Kind.MULTILINE, label="The body")


def test_printable_shows_what_it_hides():
    assert printable("a\x1b[2Jb\u202ec\nd\ud800") == "a\\x1b[2Jb\\u202ec\\nd\ufffd"
    assert printable("line one\nline\ttwo", keep_newlines=True) == "line one\nline\ttwo"


# --- every input path ---------------------------------------------------------------------------------


@pytest.fixture
def account():
    return make_account(name="Acme Service")


@pytest.fixture
def author():
    return make_user(role="operator")


DRAFT_CASES = [("title", name, text) for name, text in ONE_LINE.items()] + [
    ("body", name, text) for name, text in HOSTILE_TEXT.items()  # a body may hold line breaks and tabs
]


@pytest.mark.parametrize("field, name, text", DRAFT_CASES, ids=[f"{f}-{n}" for f, n, _ in DRAFT_CASES])
def test_the_draft_services_refuse_hostile_titles_and_bodies(account, author, field, name, text):
    fields = {"title": "Autumn menu", "message_type": "text", "body": "Our menu.", field: text}

    with pytest.raises(UnsafeText) as exc:
        services.validate_draft(account, **fields)
    assert exc.value.context["field"] == field
    with pytest.raises(UnsafeText):
        services.create_broadcast(account, by=author, **fields)
    assert not Broadcast.objects.exists()


def test_a_body_with_line_breaks_is_stored_with_lf(account, author):
    b = make_draft(account, by=author, body="Line one\r\n\tLine two")
    assert b.body == "Line one\n\tLine two"


@pytest.mark.parametrize("text", ONE_LINE.values(), ids=ONE_LINE.keys())
def test_the_account_services_refuse_hostile_openids_nicknames_and_tag_names(text):
    for field in ("openid", "nickname"):
        with pytest.raises(UnsafeText) as exc:
            account_services.validate_follower(**{"openid": "o1", field: text})
        assert exc.value.context["field"] == field
    with pytest.raises(UnsafeText):
        account_services.validate_tag_name(text)


def _refused_by_form(response, field) -> bool:
    """400 (a NUL, refused before any form) or the form back with an error on `field`."""
    if response.status_code == 400:
        return True
    return response.status_code == 200 and bool(response.context["adminform"].form.errors.get(field))


@pytest.mark.parametrize("text", OVER_HTTP.values(), ids=OVER_HTTP.keys())
def test_the_admin_forms_refuse_hostile_text(client, account, author, text):
    client.force_login(author)
    draft = {"account": account.pk, "title": "Sale", "message_type": "text", "body": "Half price.",
             "channel": "console", "audience": "all"}
    cases = [
        ("admin:broadcasts_broadcast_add", {**draft, "title": text}, "title"),
        ("admin:accounts_follower_add", {"account": account.pk, "openid": text, "nickname": "Ann"}, "openid"),
        ("admin:accounts_follower_add", {"account": account.pk, "openid": "o1", "nickname": text}, "nickname"),
        ("admin:accounts_tag_add", {"account": account.pk, "name": text}, "name"),
    ]
    if text not in LINE_BREAKS.values():
        cases.append(("admin:broadcasts_broadcast_add", {**draft, "body": text}, "body"))
    for url, data, field in cases:
        assert _refused_by_form(client.post(reverse(url), data), field), (url, field)
    assert not Broadcast.objects.exists()
    assert not Follower.objects.exists() and not Tag.objects.exists()


@pytest.mark.parametrize("text", ONE_LINE.values(), ids=ONE_LINE.keys())
def test_the_csv_import_refuses_hostile_openids_nicknames_and_tags(text):
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    body = (
        "openid,nickname,tags,subscribed_at\n"
        f"{cell(text)},Ann,,\n"
        f"o2,{cell(text)},,\n"
        f"o3,Bob,{cell('vip|' + text)},\n"
        "o4,Fine,,\n"
    ).encode("utf-8", "surrogatepass")
    problems = Problems()
    rows = list(parse_rows(io.BytesIO(body), problems=problems, limits=FIELD_LIMITS))

    assert [row[1] for row in rows] == ["o4"]
    assert len(problems.first) == 3
    assert problems.count + len(rows) == problems.lines


# --- nothing echoed raw ----------------------------------------------------------------------------------


def test_every_command_of_the_console_prints_through_the_clean_output():
    ours = {name: app for name, app in get_commands().items() if app in ("accounts", "broadcasts")}
    assert {"import_followers", "broadcast_status", "quota_report", "send_broadcast"} <= set(ours)
    for name, app in ours.items():
        assert issubclass(import_module(f"{app}.management.commands.{name}").Command, ConsoleCommand), name


def _run(*args) -> str:
    """What the command prints (a CommandError's message is printed by the shell test below)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_commands_print_hostile_titles_names_openids_and_file_names_escaped(tmp_path, account, author):
    hostile = HOSTILE_TEXT["terminal escape"] + HOSTILE_TEXT["bidi override"]
    b = make_draft(account, by=author)
    # Text stored before the rule existed: the commands must not trust the database either.
    Broadcast.objects.filter(pk=b.pk).update(title=hostile)
    OfficialAccount.objects.filter(pk=account.pk).update(name=hostile)
    csv_path = Path(tmp_path) / "fans\x1b[2J.csv"
    csv_path.write_text(f"openid,nickname,tags,subscribed_at\nok1,Ann,,\n{hostile},{hostile},,\n")

    outputs = {
        "broadcast_status": _run("broadcast_status", str(b.pk)),
        "quota_report": _run("quota_report"),
        "import_followers": _run("import_followers", account.app_id, str(csv_path), "--skip-invalid"),
    }

    for name, text in outputs.items():
        assert RAW.search(text) is None, name
        assert "\\x1b[2J" in text, name  # shown, escaped
    assert "\\u202e" in outputs["broadcast_status"]


def test_a_refused_command_shows_no_raw_escape_from_a_shell(tmp_path):
    """From a shell: the CommandError line on stderr is escaped too."""
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "operator_console.test_settings",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_followers", "wx\x1b[2J", str(tmp_path / "x.csv")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "\x1b" not in proc.stderr and "wx\\x1b[2J" in proc.stderr
