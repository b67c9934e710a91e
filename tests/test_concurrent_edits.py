"""Two people on one draft: a save never silently replaces an edit made after the page was opened.

The draft's change form carries the version of the draft it showed; a save (or Submit) after someone
else's edit is refused with who changed it and when, keeping what was typed; a second Save replaces
their edit knowingly. The service checks it again under the draft's lock (`edit_conflict`).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import OfficialAccount
from broadcasts import services
from broadcasts.exceptions import EditConflict
from broadcasts.models import Broadcast
from tests.factories import make_draft
from tests.test_admin_accounts import form_data, messages_of, text

pytestmark = pytest.mark.django_db


def change_url(b: Broadcast) -> str:
    return reverse("admin:broadcasts_broadcast_change", args=[b.pk])


@pytest.fixture
def draft(make_user, make_account, make_followers):
    acc = make_account(name="Acme Service", kind=OfficialAccount.Kind.SERVICE)
    make_followers(acc, 4)
    olga = make_user("olga", role="operator")
    return make_draft(acc, by=olga, title="Spring offer", body="Ten percent off.")


@pytest.fixture
def two_operators(make_user, draft):
    olga, oscar = Client(), Client()
    olga.force_login(draft.created_by)
    oscar.force_login(make_user("oscar", role="operator"))
    return olga, oscar


def test_a_later_save_does_not_undo_an_edit_made_after_the_page_was_opened(draft, two_operators):
    olga, oscar = two_operators
    olga_form = form_data(olga.get(change_url(draft)), "broadcast_form")
    oscar_form = form_data(oscar.get(change_url(draft)), "broadcast_form")
    oscar_form.update(title="Spring offer: 20% off")
    assert oscar.post(change_url(draft), oscar_form).status_code == 302
    # Olga, on the page she opened before, fixes a typo in the body and saves.
    olga_form.update(body="Twenty percent off.")
    response = olga.post(change_url(draft), olga_form)
    draft.refresh_from_db()
    assert draft.title == "Spring offer: 20% off"  # Oscar's edit stands
    assert draft.body == "Ten percent off."  # nothing of Olga's was stored behind her back
    page = text(response)
    assert response.status_code == 200 and "oscar changed this draft" in page
    assert "Twenty percent off." in response.content.decode()  # what she typed is still on the page
    # Saving again is a decision: her page replaces his.
    again = form_data(response, "broadcast_form")
    assert olga.post(change_url(draft), again).status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.body) == ("Spring offer", "Twenty percent off.")


def test_submit_after_another_persons_edit_submits_nothing(draft, two_operators):
    olga, oscar = two_operators
    olga_form = form_data(olga.get(change_url(draft)), "broadcast_form")
    oscar_form = form_data(oscar.get(change_url(draft)), "broadcast_form")
    oscar_form.update(body="Edited by Oscar.")
    oscar.post(change_url(draft), oscar_form)
    olga_form.update(_submit_for_review="1")
    response = olga.post(change_url(draft), olga_form)
    draft.refresh_from_db()
    assert (draft.status, draft.body) == (Broadcast.Status.DRAFT, "Edited by Oscar.")
    assert "oscar changed this draft" in text(response)
    assert not any("submitted for review" in m for m in messages_of(response))


def test_saving_twice_from_the_same_person_is_not_a_conflict(draft, two_operators):
    olga, _ = two_operators
    data = form_data(olga.get(change_url(draft)), "broadcast_form")
    data.update(title="Spring offer (v2)")
    olga.post(change_url(draft), data)
    data = form_data(olga.get(change_url(draft)), "broadcast_form")
    data.update(title="Spring offer (v3)")
    assert olga.post(change_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Spring offer (v3)"


def test_the_service_refuses_an_edit_of_a_version_that_is_gone(draft):
    seen = services.draft_version(draft)
    services.update_broadcast(draft, by=draft.created_by, title="Changed meanwhile")
    with pytest.raises(EditConflict) as refused:
        services.update_broadcast(draft, by=draft.created_by, title="Late edit", expected_version=seen)
    assert refused.value.code == "edit_conflict"
    draft.refresh_from_db()
    assert draft.title == "Changed meanwhile"


def test_approval_from_a_review_page_opened_before_the_content_changed_approves_nothing(draft, make_user):
    olga = draft.created_by
    services.submit_broadcast(draft, by=olga)
    rita = Client()
    rita.force_login(make_user("rita", role="reviewer"))
    review_url = reverse("admin:broadcasts_broadcast_review", args=[draft.pk])
    approve = form_data(rita.get(review_url), "bc-approve-form")
    # Meanwhile the author takes it back, changes the body and submits it again.
    services.withdraw_broadcast(draft, by=olga)
    services.update_broadcast(draft, by=olga, body="Fifty percent off, today only!")
    services.submit_broadcast(draft, by=olga)
    transition = reverse("admin:broadcasts_broadcast_transition", args=[draft.pk, "approve"])
    response = rita.post(transition, approve, follow=True)
    draft.refresh_from_db()
    assert draft.status == Broadcast.Status.PENDING_REVIEW  # not approved unseen
    assert any("olga changed this broadcast" in m and "review it again" in m for m in messages_of(response))
    # The page as it is now approves.
    approve = form_data(rita.get(review_url), "bc-approve-form")
    rita.post(transition, approve)
    draft.refresh_from_db()
    assert draft.status == Broadcast.Status.APPROVED


def test_the_approve_form_carries_no_visible_version_field(draft, make_user):
    services.submit_broadcast(draft, by=draft.created_by)
    rita = Client()
    rita.force_login(make_user("rita", role="reviewer"))
    page = text(rita.get(reverse("admin:broadcasts_broadcast_review", args=[draft.pk])))
    assert "version" not in page.lower()
