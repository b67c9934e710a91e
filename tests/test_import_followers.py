"""import_followers: the CSV import an operator runs from the shell (good, bad and re-import cases)."""

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.utils import timezone

from accounts.imports import ImportRowsInvalid, import_followers
from accounts.models import AuditEvent, Follower, Tag
from tests.conftest import ROOT

HEADER = "openid,nickname,tags,subscribed_at\n"


def write_csv(tmp_path, body: str | bytes, name: str = "followers.csv"):
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(account, path, *args) -> str:
    out = io.StringIO()
    call_command("import_followers", account.app_id, str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def state(account) -> dict:
    """Followers as an operator sees them: openid -> (nickname, subscribed, subscribed_at, tags)."""
    return {
        f.openid: (f.nickname, f.subscribed, f.subscribed_at, sorted(t.name for t in f.tags.all()))
        for f in Follower.objects.filter(account=account).prefetch_related("tags")
    }


@pytest.fixture
def account(make_account):
    return make_account(name="Acme Coffee")


def test_good_file_creates_followers_with_tags_and_times_in_the_platform_zone(tmp_path, account):
    zone = ZoneInfo(settings.PLATFORM_TIME_ZONE)
    path = write_csv(
        tmp_path,
        HEADER
        + "oA1,Alice,vip|beijing,2024-03-01\n"  # a date: midnight in the platform zone
        + "oB2,Bob 小明,,2024-03-01T09:30:00+00:00\n"  # an offset wins
        + 'oC3,"Carol, Jr.", vip | new ,2024-03-01 09:30\n'  # naive: wall-clock time in the platform zone
        + "oD4,Dan,,\n",  # empty: now
    )
    before = timezone.now()

    out = run(account, path)

    assert "4 created, 0 updated, 0 unchanged, 0 skipped, 3 tags created" in out
    got = state(account)
    assert got["oA1"] == ("Alice", True, datetime(2024, 3, 1, tzinfo=zone), ["beijing", "vip"])
    assert got["oB2"] == ("Bob 小明", True, datetime(2024, 3, 1, 9, 30, tzinfo=ZoneInfo("UTC")), [])
    assert got["oC3"] == ("Carol, Jr.", True, datetime(2024, 3, 1, 9, 30, tzinfo=zone), ["new", "vip"])
    assert before - timedelta(seconds=5) <= got["oD4"][2] <= timezone.now()
    assert sorted(Tag.objects.filter(account=account).values_list("name", flat=True)) == ["beijing", "new", "vip"]
    assert AuditEvent.objects.filter(account=account, verb="imported_followers").count() == 1


def test_reimport_adds_nothing_twice(tmp_path, account):
    path = write_csv(tmp_path, HEADER + "o1,Alice,vip,2024-03-01\no2,Bob,vip|new,\no3,Carol,,2024-01-02\n")
    run(account, path)
    first = state(account)

    out = run(account, path)

    assert "0 created, 0 updated, 3 unchanged, 0 skipped, 0 tags created" in out
    assert state(account) == first  # an empty subscribed_at keeps the time already known
    assert Follower.objects.filter(account=account).count() == 3
    assert Tag.objects.filter(account=account).count() == 2
    assert Follower.tags.through.objects.filter(follower__account=account).count() == 3


def test_reimport_updates_resubscribes_and_adds_tags(tmp_path, account, make_followers):
    run(account, write_csv(tmp_path, HEADER + "o1,Alice,vip,2024-03-01\no2,Bob,,2024-03-02\n", "first.csv"))
    Follower.objects.filter(account=account, openid="o2").update(subscribed=False, unsubscribed_at=timezone.now())
    zone = ZoneInfo(settings.PLATFORM_TIME_ZONE)

    out = run(account, write_csv(tmp_path, HEADER + "o1,Alice B.,new,2024-04-01\no2,Bob,,\no3,Cy,,\n", "second.csv"))

    assert "1 created, 2 updated, 0 unchanged" in out
    got = state(account)
    # New nickname and time; tags are added, never removed.
    assert got["o1"] == ("Alice B.", True, datetime(2024, 4, 1, tzinfo=zone), ["new", "vip"])
    # Listed again after unsubscribing: subscribed again, from now (the file gave no time); the time of
    # the unfollow stays (the start of the last unfollow, as the platform's events keep it).
    nickname, subscribed, subscribed_at, _ = got["o2"]
    assert subscribed and subscribed_at > timezone.now() - timedelta(minutes=1)
    assert Follower.objects.get(account=account, openid="o2").unsubscribed_at is not None


BAD_ROWS = (
    HEADER
    + "o1,Alice,vip,2024-03-01\n"  # line 2: good
    + ",No openid,,\n"  # line 3
    + "o3,Eve,,2024-13-01\n"  # line 4
    + "o4,Few columns\n"  # line 5
    + f"{'x' * 65},Long,,\n"  # line 6
    + "o6,Fine,newtag,\n"  # line 7: good
    + "o1,Again,,\n"  # line 8: repeats line 2
)


def test_bad_rows_without_skip_invalid_write_nothing_and_name_each_line(tmp_path, account):
    path = write_csv(tmp_path, BAD_ROWS)

    with pytest.raises(CommandError) as exc:
        run(account, path)

    message = str(exc.value)
    assert message.startswith("5 invalid rows in followers.csv; nothing was imported")
    assert "line 3: openid is missing" in message
    assert "line 4: subscribed_at '2024-13-01' is not an ISO-8601 time" in message
    assert "line 5: has 2 columns; expected 4" in message
    assert "line 6: openid is 65 characters long; at most 64 are allowed" in message
    assert "line 8: openid 'o1' repeats line 2" in message
    assert "line 2" not in message.replace("repeats line 2", "") and "line 7" not in message
    assert not Follower.objects.filter(account=account).exists()
    assert not Tag.objects.filter(account=account).exists()
    assert not AuditEvent.objects.filter(account=account).exists()


def test_skip_invalid_writes_the_good_rows_and_lists_the_skipped_lines(tmp_path, account):
    out = run(account, write_csv(tmp_path, BAD_ROWS), "--skip-invalid")

    assert "Skipped 5 invalid rows:" in out
    for line in (3, 4, 5, 6, 8):
        assert f"  line {line}: " in out
    assert "2 created, 0 updated, 0 unchanged, 5 skipped, 2 tags created" in out
    got = state(account)
    assert sorted(got) == ["o1", "o6"]
    assert got["o1"][0] == "Alice"  # the first of a repeated openid is kept
    assert got["o6"][3] == ["newtag"]


@pytest.mark.parametrize("offset", ["+16:00", "-16:00"])
def test_an_offset_postgresql_cannot_store_is_a_bad_row_not_a_traceback(tmp_path, account, offset):
    path = write_csv(tmp_path, HEADER + f"o1,Alice,,2024-03-01T09:30:00{offset}\no2,Bob,,2024-03-01T09:30:00+08:00\n")

    with pytest.raises(CommandError) as exc:
        run(account, path)
    assert f"line 2: subscribed_at '2024-03-01T09:30:00{offset}' has an offset outside -12:00 to +14:00" in str(exc.value)

    out = run(account, path, "--skip-invalid")
    assert "2 lines read: 1 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert sorted(state(account)) == ["o2"]


def test_a_quote_left_open_is_reported_and_the_counts_add_up(tmp_path, account):
    path = write_csv(tmp_path, HEADER + 'o1,Alice,,\no2,"Bob,,\no3,Carol,,\no4,Dan,,\n')

    out = run(account, path, "--skip-invalid")

    assert "line 3: has a quote that is not closed on its line: lines 3 to 5 read as one field" in out
    assert "4 lines read: 1 created, 0 updated, 0 unchanged, 3 skipped" in out


# Files an operator might really have, broken in each way the import meets: (file, its data lines).
BROKEN_FILES = {
    "open quote": ('o1,A,,\n\no2,"B,,\no3,C,,\no4,D,,\n', 4),
    "open quote, last line": ('o1,A,,\no2,B,,\no3,"C,,', 3),
    "quoted line break": ('o1,"A\nB",vip,\no2,C,vip,\n', 3),
    "repeated openids": ("o1,A,,\no2,B,,\no1,A again,,\no2,B,,\n", 4),
    "offsets, text, columns": ("o1,A,,2024-03-01T00:00+16:00\no2,B\x1b[2J,,\no3\n\no4,D,,\no5,E,new,\n", 5),
}


@pytest.mark.parametrize("body, data_lines", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_created_updated_unchanged_and_skipped_add_up_to_the_files_lines(account, body, data_lines):
    data = (HEADER + body).encode()
    for attempt in ("first import", "re-import"):  # the direct path, then the staged upsert
        result = import_followers(account, io.BytesIO(data), skip_invalid=True)
        assert result.created + result.updated + result.unchanged + result.skipped == result.lines == data_lines, attempt


def test_invalid_utf8_is_named_by_its_line(tmp_path, account):
    body = (HEADER + "o1,Alice,,\n").encode() + b"o2,Caf\xe9 Bob,,\n" + "o3,Über,,\n".encode()
    path = write_csv(tmp_path, body)

    with pytest.raises(CommandError) as exc:
        run(account, path)
    assert "line 3: nickname is not valid UTF-8 (byte 0xe9); save the file as UTF-8" in str(exc.value)
    assert "line 4" not in str(exc.value)

    out = run(account, path, "--skip-invalid")
    assert "line 3: nickname is not valid UTF-8" in out
    assert sorted(state(account)) == ["o1", "o3"]
    assert state(account)["o3"][0] == "Über"


def test_the_list_of_bad_lines_is_capped(tmp_path, account):
    path = write_csv(tmp_path, HEADER + "".join(f"o{i},n,,yesterday\n" for i in range(25)))

    with pytest.raises(CommandError) as exc:
        run(account, path)

    message = str(exc.value)
    assert "line 21: subscribed_at 'yesterday'" in message and "line 22:" not in message
    assert message.endswith("… and 5 more")


def test_tags_are_created_when_missing_and_existing_ones_reused(tmp_path, account, make_account):
    vip = Tag.objects.create(account=account, name="vip")
    Tag.objects.create(account=make_account(name="Other"), name="gold")  # another account's tag is not reused

    out = run(account, write_csv(tmp_path, HEADER + "o1,A,vip|gold,\no2,B,gold|gold|,\n"))

    assert "1 tags created" in out
    gold = Tag.objects.get(account=account, name="gold")
    assert sorted(vip.followers.values_list("openid", flat=True)) == ["o1"]
    assert sorted(gold.followers.values_list("openid", flat=True)) == ["o1", "o2"]


def test_unknown_account_is_one_clear_error(tmp_path, db):
    path = write_csv(tmp_path, HEADER)
    with pytest.raises(CommandError, match=r"^No official account with app_id wx0000000000000bad\.$"):
        call_command("import_followers", "wx0000000000000bad", str(path))


def test_missing_file_and_wrong_header_are_one_clear_error(tmp_path, account):
    with pytest.raises(CommandError, match=r"^No such file: .*missing\.csv$"):
        run(account, tmp_path / "missing.csv")
    with pytest.raises(CommandError) as exc:
        run(account, write_csv(tmp_path, "open_id,name\no1,A\n"))
    assert str(exc.value) == (
        "Line 1 of followers.csv must be the header openid,nickname,tags,subscribed_at "
        "(optionally followed by ,subscribed); found 'open_id,name'."
    )
    with pytest.raises(CommandError, match="is empty"):
        run(account, write_csv(tmp_path, ""))


def test_failing_command_exits_non_zero_without_a_traceback(tmp_path, db):
    """From a shell: exit status 1 and one line on stderr."""
    env = dict(os.environ)
    db_settings = connection.settings_dict
    env.update(
        DJANGO_SETTINGS_MODULE="operator_console.test_settings",
        DATABASE_URL=f"postgres://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/{db_settings['NAME']}",
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_followers", "wx0000000000000bad", str(write_csv(tmp_path, HEADER))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == "CommandError: No official account with app_id wx0000000000000bad."


@pytest.mark.parametrize("skip_row_triggers", [True, False], ids=["triggers-skipped", "triggers-on"])
def test_service_gives_the_same_result_with_and_without_row_triggers(account, skip_row_triggers):
    """Both write paths of PostgreSQL (a first import, then an upsert), with and without FK triggers."""
    first = (HEADER + "o1,A,vip,2024-03-01\no2,B,,\n").encode()
    second = (HEADER + "o1,A2,vip|new,\no3,C,new,2024-03-03\n").encode()

    r1 = import_followers(account, io.BytesIO(first), skip_row_triggers=skip_row_triggers)
    r2 = import_followers(account, io.BytesIO(second), skip_row_triggers=skip_row_triggers)

    assert (r1.created, r1.updated, r1.tags_created) == (2, 0, 1)
    assert (r2.created, r2.updated, r2.tags_created) == (1, 1, 1)
    got = state(account)
    assert {k: (v[0], v[3]) for k, v in got.items()} == {"o1": ("A2", ["new", "vip"]), "o2": ("B", []), "o3": ("C", ["new"])}
    with pytest.raises(ImportRowsInvalid) as exc:
        import_followers(account, io.BytesIO((HEADER + "o9,X,,\no9,Y,,\n").encode()), skip_row_triggers=skip_row_triggers)
    assert exc.value.code == "import_rows_invalid"
    assert [str(p) for p in exc.value.context["problems"]] == ["line 3: openid 'o9' repeats line 2"]


SQLITE_SCRIPT = r"""
import io, json
from django.core.management import call_command
from accounts.models import Follower, OfficialAccount
acc = OfficialAccount.objects.create(name="Acme", kind="service", app_id="wx00000000000000a1")
path = {path!r}
outs = []
for args in ([], [], ["--skip-invalid"]):
    out = io.StringIO()
    call_command("import_followers", acc.app_id, path if len(outs) < 2 else path + ".bad", *args, stdout=out)
    outs.append(out.getvalue().strip().splitlines()[-1])
f = Follower.objects.get(account=acc, openid="o1")
print(json.dumps({{"outs": outs, "count": Follower.objects.filter(account=acc).count(),
                  "o1": [f.nickname, f.subscribed_at.isoformat(), sorted(f.tags.values_list("name", flat=True))]}}))
"""


def test_import_runs_on_sqlite(tmp_path):
    """The first-run default: the same command on SQLite (chunked staging, SQLite's upsert)."""
    path = write_csv(tmp_path, HEADER + "o1,Alice,vip|new,2024-03-01 09:30\no2,Bob,,\n")
    (tmp_path / "followers.csv.bad").write_text(HEADER + "o1,Alice B,vip|gold,2024-03-01 09:30\n,x,,\no1,again,,\n")
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'first-run.sqlite3'}", DJANGO_SETTINGS_MODULE="operator_console.settings")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    proc = subprocess.run([*manage, "shell", "-c", SQLITE_SCRIPT.format(path=str(path))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["outs"][0].endswith("2 created, 0 updated, 0 unchanged, 0 skipped, 2 tags created.")
    assert out["outs"][1].endswith("0 created, 0 updated, 2 unchanged, 0 skipped, 0 tags created.")
    assert out["outs"][2].endswith("0 created, 1 updated, 0 unchanged, 2 skipped, 1 tags created.")
    assert out["count"] == 2
    assert out["o1"] == ["Alice B", "2024-03-01T01:30:00+00:00", ["gold", "new", "vip"]]


def test_foreign_keys_are_checked_again_after_an_import(account, make_account):
    """The fast path turns row triggers off for its own statements only: the rest of the
    transaction still refuses a dangling reference."""
    import_followers(account, io.BytesIO((HEADER + "o1,A,vip,\n").encode()), skip_row_triggers=True)

    # A follower of an account that does not exist (the follower table keeps its FK).
    Follower.objects.create(account_id=987654321, openid="dangling")
    with pytest.raises(IntegrityError):
        connection.check_constraints()
