"""The broadcast form's audience picker (issue 13): a follower list as openids (pasted or a CSV
file), the chosen account's tags, and the audience size before saving."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent, OfficialAccount
from broadcasts import selectors, services
from broadcasts.exceptions import InvalidAudience
from broadcasts.models import Broadcast
from tests.factories import make_account, make_draft, make_followers, make_tag, make_user

pytestmark = pytest.mark.django_db

ADD = "admin:broadcasts_broadcast_add"


@pytest.fixture
def operator(client):
    client.force_login(make_user("olga", role="operator"))
    return client


@pytest.fixture
def acme():
    account = make_account(name="Acme", certified=True)
    return account, make_followers(account, 6)


def draft_post(account, **overrides) -> dict:
    return {
        "account": account.pk,
        "title": "For a few",
        "message_type": "text",
        "body": "Hi",
        "channel": "api",
        "audience": "followers",
        "recipients": "",
        "_save": "Save",
        **overrides,
    }


def written() -> tuple[int, int]:
    return Broadcast.objects.count(), AuditEvent.objects.filter(object_type="broadcast").count()


def saved_openids(b: Broadcast) -> list[str]:
    return sorted(b.recipients.values_list("openid", flat=True))


def textarea(response) -> str:
    found = re.search(r'<textarea name="recipients"[^>]*>(.*?)</textarea>', response.content.decode(), re.S)
    assert found, "the openids textarea"
    return unescape(found.group(1)).strip()


def errors_of(response) -> str:
    return unescape(
        " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S))
    )


def test_pasted_openids_become_the_recipients(operator, acme):
    account, fans = acme
    pasted = f"  {fans[0].openid}  \r\n\r\n{fans[1].openid}, {fans[2].openid}\r\n{fans[0].openid}\t{fans[3].openid}\r\n"

    response = operator.post(reverse(ADD), draft_post(account, recipients=pasted))

    assert response.status_code == 302, errors_of(response)
    b = Broadcast.objects.get()
    assert (b.audience, saved_openids(b)) == ("followers", sorted(f.openid for f in fans[:4]))


def test_a_csv_file_of_openids_is_added_to_the_pasted_ones(operator, acme):
    account, fans = acme
    csv = f"\ufeffopenid,nickname\r\n{fans[1].openid},fan 1\r\n\r\n{fans[2].openid},fan 2\r\n".encode()

    response = operator.post(
        reverse(ADD),
        draft_post(
            account,
            recipients=fans[0].openid,
            recipients_file=SimpleUploadedFile("vip.csv", csv, "text/csv"),
        ),
    )

    assert response.status_code == 302, errors_of(response)
    assert saved_openids(Broadcast.objects.get()) == sorted(f.openid for f in fans[:3])


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_file_separated_by_semicolons_or_tabs_is_read_by_its_first_column(operator, acme, separator):
    """A European spreadsheet saves "CSV" with semicolons: the first column is still the openid."""
    account, fans = acme
    rows = ["openid", "nickname"], [fans[1].openid, "fan 1"], [fans[2].openid, "fan 2"]
    data = "\r\n".join(separator.join(r) for r in rows).encode()

    response = operator.post(reverse(ADD), draft_post(account, recipients_file=SimpleUploadedFile("vip.csv", data)))

    assert response.status_code == 302, errors_of(response)
    assert saved_openids(Broadcast.objects.get()) == sorted(f.openid for f in fans[1:3])


def test_a_csv_file_without_a_header_is_read_from_its_first_row(operator, acme):
    account, fans = acme
    csv = f"{fans[4].openid}\n{fans[5].openid}\n".encode()

    response = operator.post(reverse(ADD), draft_post(account, recipients_file=SimpleUploadedFile("a.csv", csv)))

    assert response.status_code == 302, errors_of(response)
    assert saved_openids(Broadcast.objects.get()) == [fans[4].openid, fans[5].openid]


def test_an_unknown_openid_is_refused_with_its_line_and_nothing_is_written(operator, acme):
    account, fans = acme
    before = written()

    response = operator.post(
        reverse(ADD),
        draft_post(
            account,
            recipients=f"{fans[0].openid}\n\n{fans[1].openid}\no-nobody\n",
        ),
    )

    assert response.status_code == 200
    assert "1 of the 3 listed openids is not a subscribed follower of Acme: “o-nobody” (line 4)." in errors_of(response)
    assert written() == before


def test_an_unknown_openid_in_the_file_is_refused_with_its_row(operator, acme):
    account, fans = acme
    csv = f"openid\n{fans[0].openid}\n{fans[1].openid}\nghost\n".encode()

    response = operator.post(reverse(ADD), draft_post(account, recipients_file=SimpleUploadedFile("list.csv", csv)))

    assert "“ghost” (row 4 of list.csv)" in errors_of(response)
    assert not Broadcast.objects.exists()


def test_openids_of_another_account_or_of_unfollowers_are_refused_naming_the_first_few(operator, acme):
    account, fans = acme
    theirs = make_followers(make_account(name="Other"), 7)
    gone = make_followers(account, 1, prefix="gone-", subscribed=False)[0]
    pasted = "\n".join([fans[0].openid, gone.openid, *(f.openid for f in theirs)])

    response = operator.post(reverse(ADD), draft_post(account, recipients=pasted))

    errors = errors_of(response)
    assert "8 of the 9 listed openids are not subscribed followers of Acme:" in errors
    assert f"“{gone.openid}” (line 2), “{theirs[0].openid}” (line 3)" in errors
    assert f"“{theirs[3].openid}” (line 6) and 3 more." in errors
    assert not Broadcast.objects.exists()


def test_the_list_limits_are_the_apis(operator, acme):
    account, fans = acme
    many = make_followers(account, 10_001, prefix="m")

    one = operator.post(reverse(ADD), draft_post(account, recipients=fans[0].openid + "\n" + fans[0].openid))
    too_many = operator.post(reverse(ADD), draft_post(account, recipients="\n".join(f.openid for f in many)))

    assert "A follower list holds 2 to 10,000 followers; this one has 1." in errors_of(one)
    assert "A follower list holds 2 to 10,000 followers; this one has 10,001." in errors_of(too_many)
    assert not Broadcast.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"openid\n\xff\xfe\n", "“bad.csv” is not UTF-8 text (byte 8); save it as CSV UTF-8."),
        (b"x" * (1_048_576 + 1), "“bad.csv” is 1,025 KB; a file of openids is at most 1,024 KB"),
        (b"openid\no-1\x00\n", "row 2 of bad.csv: “o-1\\x00” is not an openid: it contains a NUL character"),
        # A Chinese Excel's "CSV" is GBK; the size named is the file's, not the part of it that was read.
        ("openid,昵称\no-1,张三\n".encode("gbk"), "“bad.csv” is not UTF-8 text (byte 8); save it as CSV UTF-8."),
        (b"openid\n" + b"o" * (2 * 1_048_576), "“bad.csv” is 2,049 KB; a file of openids is at most 1,024 KB"),
        (b"", "“bad.csv” is empty: it holds no openid."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_saying_why(operator, acme, content, message):
    account, fans = acme

    response = operator.post(
        reverse(ADD),
        draft_post(
            account,
            title="Spring tea",
            body="Our spring tea is in.",
            recipients=fans[0].openid,
            recipients_file=SimpleUploadedFile("bad.csv", content),
        ),
    )

    assert response.status_code == 200
    assert errors_of(response).count("<li>") == 1  # the file's one sentence, nothing else
    assert message in errors_of(response)
    assert not Broadcast.objects.exists()
    form = response.context["adminform"].form  # what was typed is on the page again
    assert (form["title"].value(), form["body"].value(), textarea(response)) == (
        "Spring tea", "Our spring tea is in.", fans[0].openid,
    )


def test_the_change_page_shows_the_openids_never_database_ids(operator, acme):
    account, fans = acme
    author = make_user("ann", role="operator")
    b = make_draft(account, by=author, channel="api", audience="followers", recipients=fans[:3])
    operator.force_login(author)

    page = operator.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk]))

    assert textarea(page).splitlines() == [f.openid for f in fans[:3]]
    assert 'name="recipients" value=' not in page.content.decode()  # no raw-id input
    assert "vManyToManyRawIdAdminField" not in page.content.decode()


def change_post(client, b) -> dict:
    """The change page's form as a browser would post it (textarea line ends as CR LF)."""
    page = client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk]))
    return {
        "title": b.title,
        "message_type": b.message_type,
        "body": b.body,
        "url": "",
        "cover_url": "",
        "channel": b.channel,
        "audience": b.audience,
        "tag": "",
        "scheduled_at_0": "",
        "scheduled_at_1": "",
        "recipients": textarea(page).replace("\n", "\r\n") + "\r\n",
        "_save": "Save",
    }


def test_an_edit_keeps_or_changes_the_list(acme, client):
    account, fans = acme
    author = make_user("ann", role="operator")
    client.force_login(author)
    b = make_draft(account, by=author, channel="api", audience="followers", recipients=fans[:3])
    url = reverse("admin:broadcasts_broadcast_change", args=[b.pk])

    kept = client.post(url, {**change_post(client, b), "title": "Renamed"})
    assert kept.status_code == 302, errors_of(kept)
    b.refresh_from_db()
    assert (b.title, saved_openids(b)) == ("Renamed", sorted(f.openid for f in fans[:3]))
    assert AuditEvent.objects.filter(object_id=b.pk, verb="edited").values_list("note", flat=True).get() == "title"

    changed = client.post(url, {**change_post(client, b), "recipients": f"{fans[4].openid}\r\n{fans[5].openid}"})
    assert changed.status_code == 302, errors_of(changed)
    assert saved_openids(b) == [fans[4].openid, fans[5].openid]

    refused = client.post(url, {**change_post(client, b), "recipients": f"{fans[4].openid}\r\nnobody"})
    assert "“nobody” (line 2)" in errors_of(refused)
    assert saved_openids(b) == [fans[4].openid, fans[5].openid]


def test_a_file_on_the_change_page_adds_to_the_list(acme, client):
    account, fans = acme
    author = make_user("ann", role="operator")
    client.force_login(author)
    b = make_draft(account, by=author, channel="api", audience="followers", recipients=fans[:2])

    response = client.post(
        reverse("admin:broadcasts_broadcast_change", args=[b.pk]),
        {
            **change_post(client, b),
            "recipients_file": SimpleUploadedFile("more.csv", fans[2].openid.encode()),
        },
    )

    assert response.status_code == 302, errors_of(response)
    assert saved_openids(b) == sorted(f.openid for f in fans[:3])


# --- the tag picker ------------------------------------------------------------------------------


def tag_choices(response) -> list[str]:
    select = re.search(r'<select name="tag"[^>]*>(.*?)</select>', response.content.decode(), re.S).group(1)
    return [unescape(t) for t in re.findall(r"<option value=\"\d+\"[^>]*>(.*?)</option>", select)]


def test_the_tag_select_offers_only_the_drafts_accounts_tags(acme, client):
    account, fans = acme
    other = make_account(name="Other")
    make_tag(account, "vip", fans[:2])
    make_tag(other, "theirs")
    author = make_user("ann", role="operator")
    client.force_login(author)
    b = make_draft(account, by=author)

    change = client.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk]))
    posted = client.post(reverse(ADD), draft_post(account, audience="tag", channel="console", title=""))

    assert tag_choices(change) == ["vip"]
    assert tag_choices(posted) == ["vip"]  # the add page, shown again with its account chosen
    assert tag_choices(client.get(reverse(ADD))) == []  # no account yet: the script fills it


def test_a_tag_chosen_before_switching_to_another_audience_is_dropped(operator, acme):
    account, fans = acme
    vip = make_tag(account, "vip", fans[:2])
    listed = f"{fans[3].openid}\n{fans[4].openid}"

    response = operator.post(reverse(ADD), draft_post(account, tag=vip.pk, recipients=listed))

    assert response.status_code == 302, errors_of(response)
    b = Broadcast.objects.get()
    assert (b.audience, b.tag, saved_openids(b)) == ("followers", None, [fans[3].openid, fans[4].openid])


def test_a_tag_of_another_account_is_refused(operator, acme):
    account, fans = acme
    theirs = make_tag(
        make_account(name="Other"), "theirs", make_followers(OfficialAccount.objects.get(name="Other"), 2)
    )

    response = operator.post(reverse(ADD), draft_post(account, audience="tag", channel="console", tag=theirs.pk))

    assert "That tag is not one of the chosen account's tags." in errors_of(response)
    assert not Broadcast.objects.exists()
    with pytest.raises(InvalidAudience, match="belongs to another account, not Acme"):
        services.validate_draft(
            account, title="x", message_type="text", body="x", channel="console", audience="tag", tag=theirs
        )


def test_the_account_tags_endpoint(operator, acme):
    account, fans = acme
    make_tag(account, "vip")
    make_tag(account, "new")
    make_tag(make_account(name="Other"), "theirs")
    url = reverse("admin:broadcasts_broadcast_account_tags")

    answer = operator.get(url, {"account": account.pk})

    assert [t["name"] for t in answer.json()["tags"]] == ["new", "vip"]
    for bad in ("abc", "²", "-1", "1e3", "99999999999999999999999"):
        refused = operator.get(url, {"account": bad})
        assert refused.status_code == 400 and "whole number" in refused.json()["error"]
    assert operator.get(url, {"account": 987654}).status_code == 404


def test_the_picker_endpoints_are_for_those_who_may_add_broadcasts(client, acme):
    account, fans = acme
    client.force_login(make_user("aldo", role="auditor"))

    assert client.get(reverse("admin:broadcasts_broadcast_account_tags"), {"account": account.pk}).status_code == 403
    assert client.post(reverse("admin:broadcasts_broadcast_audience_size"), {"account": account.pk}).status_code == 403


# --- the audience size before saving ------------------------------------------------------------


def size(client, **data) -> dict:
    response = client.post(reverse("admin:broadcasts_broadcast_audience_size"), data)
    assert response.status_code in (200, 400, 404)
    return response.json()


def test_the_audience_size_follows_the_form(operator, acme):
    account, fans = acme
    make_followers(account, 1, prefix="gone-", subscribed=False)
    vip = make_tag(account, "vip", fans[:2])
    gone = account.followers.get(openid__startswith="gone-")
    theirs = make_followers(make_account(name="Other"), 1)[0]

    assert size(operator, account=account.pk, audience="all", channel="console")["text"] == "Audience: 6 followers"
    assert size(operator, account=account.pk, audience="tag", tag=vip.pk)["text"] == "Audience: 2 followers"
    listed = f"{fans[0].openid}\n{gone.openid}\n{theirs.openid}\nnobody\n{fans[0].openid}"
    assert size(operator, account=account.pk, audience="followers", recipients=listed)["text"] == "Audience: 1 follower"
    assert size(operator, account=account.pk, audience="tag")["text"] == "Choose a tag to see the audience size."
    assert size(operator, account="x", audience="all")["text"] == "Choose an account to see the audience size."
    too_many = "\n".join(f"o-{i}" for i in range(10_001))
    assert size(operator, account=account.pk, audience="followers", recipients=too_many)["text"] == (
        "A follower list holds 2 to 10,000 followers; this one has 10,001."
    )


def test_a_subscription_accounts_targeted_audience_shows_the_refusal(operator):
    daily = make_account(name="Daily", kind=OfficialAccount.Kind.SUBSCRIPTION)
    vip = make_tag(daily, "vip", make_followers(daily, 3))

    answer = size(operator, account=daily.pk, audience="tag", tag=vip.pk, channel="console")
    everyone = size(operator, account=daily.pk, audience="all", channel="console")

    assert answer["refused"] and "subscription account" in answer["text"].lower()
    assert everyone["text"] == "Audience: 3 followers"


def test_the_audience_size_is_the_review_pages_count(operator, acme):
    account, fans = acme
    author = make_user("ann", role="operator")
    b = make_draft(account, by=author, channel="api", audience="followers", recipients=fans[:4])
    fans[1].subscribed = False
    fans[1].save(update_fields=["subscribed"])

    live = size(operator, account=account.pk, audience="followers", recipients="\n".join(f.openid for f in fans[:4]))

    assert live["count"] == selectors.audience_size(b) == 3
    operator.force_login(author)
    change = operator.get(reverse("admin:broadcasts_broadcast_change", args=[b.pk])).content.decode()
    assert '<span id="bc-audience-size"' in change and ">Audience: 3 followers</span>" in change
