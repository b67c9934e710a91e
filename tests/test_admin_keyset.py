"""Big filtered lists go on past their counted pages: "Next page" by keyset, and a page number
past the end shows the last page with a message (not Django's "?e=1")."""

import re
from html import unescape

import pytest
from django.urls import reverse

from operator_console.admin_tools import EstimatedCountPaginator
from tests.factories import make_account, make_followers

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 150)  # a filtered list counts at most 150 rows


def openids(page) -> list[str]:
    return re.findall(r">(o\d{7})<", page.content.decode())


def next_link(page) -> str:
    match = re.search(r'href="([^"]+)" class="bc-next-page"', page.content.decode())
    return unescape(match.group(1)) if match else ""


def test_a_filtered_list_past_its_count_cap_goes_on_page_by_page(admin_client, small_cap):
    account = make_account()
    followers = make_followers(account, 420, prefix="o")
    url = reverse("admin:accounts_follower_changelist")
    first = admin_client.get(url, {"account": account.pk})
    assert "more than 150" in first.content.decode()
    seen = openids(first)
    link = next_link(first)
    while link:
        page = admin_client.get(url + link)
        assert page.status_code == 200
        seen += openids(page)
        link = next_link(page)
    # Every follower of the account, newest first, each once: the whole list is reachable.
    assert seen == [f.openid for f in reversed(followers)]


def test_a_page_number_past_the_end_shows_the_last_page_with_a_message(admin_client, small_cap):
    account = make_account()
    make_followers(account, 420, prefix="o")
    page = admin_client.get(reverse("admin:accounts_follower_changelist"), {"account": account.pk, "p": 1000},
                            follow=True)
    text = page.content.decode()
    assert page.status_code == 200 and "?e=1" not in page.request["QUERY_STRING"]
    assert "There is no page 1000 of this list" in unescape(text) and openids(page)
