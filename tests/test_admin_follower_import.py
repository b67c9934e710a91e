"""Follower import in the admin: an operator uploads a CSV for an account; a worker imports it with
the command's service (the same counts and line-numbered problems); the page shows progress, live;
end to end with a real Celery worker and in headless Chromium."""

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from playwright.sync_api import expect

from accounts import imports
from accounts.models import Follower, FollowerImport
from tests.browser import chromium_page
from tests.conftest import wait_for
from tests.factories import make_account, make_user
from tests.test_import_followers import BAD_ROWS

UPLOAD = "admin:accounts_followerimport_upload"
PASSWORD = "pw-Secret-123"
GOOD = "openid,nickname,tags,subscribed_at\no1,Alice,vip,2024-03-01\no2,Bob,,\n"


def upload(client, account, body: str, **extra):
    data = {"app_id": account.app_id, "file": SimpleUploadedFile("fans.csv", body.encode(), "text/csv"), **extra}
    return client.post(reverse(UPLOAD), data)


def page_of(client, job) -> str:
    return client.get(reverse("admin:accounts_followerimport_change", args=[job.pk])).content.decode()


@pytest.mark.django_db
def test_an_upload_is_queued_then_imported_by_the_commands_service(client, django_capture_on_commit_callbacks):
    operator = make_user("olga", role="operator")
    client.force_login(operator)
    acc = make_account(name="Acme")
    form = client.get(reverse(UPLOAD), {"account": acc.pk}).content.decode()
    assert f'value="{acc.app_id}"' in form
    with django_capture_on_commit_callbacks() as queued:
        response = upload(client, acc, GOOD)
    job = FollowerImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    assert len(queued) == 1  # the task, sent by name once the upload commits
    assert (job.status, job.by, job.size) == ("queued", operator, len(GOOD))
    assert "Queued: waiting for a worker." in page_of(client, job) and 'data-bc-live="1"' in page_of(client, job)

    imports.run_follower_import(job.pk)  # what the task does
    assert imports.run_follower_import(job.pk) is None  # a redelivered task does nothing
    job.refresh_from_db()
    assert job.status == "done" and job.data == b""
    assert job.summary == "2 lines read: 2 created, 0 updated, 0 unchanged, 0 skipped, 1 tags created"
    assert sorted(Follower.objects.filter(account=acc).values_list("openid", flat=True)) == ["o1", "o2"]
    page = page_of(client, job)
    assert job.summary in page and 'data-bc-live="1"' not in page


@pytest.mark.django_db
def test_bad_rows_are_listed_by_line_as_the_command_lists_them(client, tmp_path):
    client.force_login(make_user("olga", role="operator"))
    acc = make_account()
    upload(client, acc, BAD_ROWS)
    job = FollowerImport.objects.get()
    imports.run_follower_import(job.pk)
    job.refresh_from_db()
    path = tmp_path / "fans.csv"
    path.write_text(BAD_ROWS)
    with pytest.raises(CommandError) as exc:
        call_command("import_followers", acc.app_id, str(path))
    assert job.status == "failed" and job.problem_count == 5
    assert [job.error, *job.problems] == str(exc.value).splitlines()
    page = page_of(client, job)
    assert "<li>line 3: openid is missing</li>" in page and "Nothing imported" in page
    assert not Follower.objects.filter(account=acc).exists()

    upload(client, acc, BAD_ROWS, skip_invalid="on")
    skipping = FollowerImport.objects.latest("id")
    imports.run_follower_import(skipping.pk)
    skipping.refresh_from_db()
    assert skipping.status == "done" and skipping.problem_count == 5 and "2 created" in skipping.summary
    assert "5 rows skipped:" in page_of(client, skipping)


@pytest.mark.django_db
def test_the_progress_endpoint_reports_a_running_import(client):
    client.force_login(make_user("aldo", role="auditor"))
    acc = make_account()
    job = imports.start_follower_import(acc, by=None, name="big.csv", data=b"x" * 1000)
    FollowerImport.objects.filter(pk=job.pk).update(status="running")
    caches["progress"].set(f"follower-import:{job.pk}", {"done": 250, "phase": "Writing followers"})
    row = client.get(reverse("admin:accounts_followerimport_progress"), {"id": job.pk}).json()["rows"][str(job.pk)]
    assert row["live"] is True and row["status"] == "running"
    assert '<progress max="1000" value="250">' in row["progress_html"] and "25% of the file read" in row["progress_html"]
    assert "Writing followers" in row["progress_html"]


@pytest.mark.django_db
def test_who_may_upload(client):
    acc = make_account()
    client.force_login(make_user("aldo", role="auditor"))
    assert client.get(reverse(UPLOAD)).status_code == 403
    assert upload(client, acc, GOOD).status_code == 403
    assert "Upload a CSV" not in client.get(reverse("admin:accounts_followerimport_changelist")).content.decode()
    client.force_login(make_user("olga", role="operator"))
    page = client.get(reverse("admin:accounts_officialaccount_change", args=[acc.pk])).content.decode()
    assert f'{reverse(UPLOAD)}?account={acc.pk}' in page
    refused = upload(client, acc, GOOD, app_id="wx-nobody")
    assert refused.status_code == 200 and "No official account with app_id wx-nobody." in refused.content.decode()
    assert not FollowerImport.objects.exists()


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upload_in_a_browser_and_watch_the_worker_finish_it(live_server, celery_worker_process, tmp_path):
    make_user("olga", role="operator", password=PASSWORD)
    acc = make_account(name="Acme Coffee")
    csv = tmp_path / "fans.csv"
    csv.write_text("openid,nickname,tags,subscribed_at\n" + "".join(f"o{i},Fan {i},,\n" for i in range(500)))
    with chromium_page() as page:
        page.goto(f"{live_server.url}/admin/login/?next={reverse(UPLOAD)}?account={acc.pk}",
                  wait_until="domcontentloaded")
        page.fill("#id_username", "olga")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#id_app_id")).to_have_value(acc.app_id)
        page.set_input_files("#id_file", str(csv))
        page.click("#bc-import-form input[type=submit]")
        expect(page.locator(".messagelist")).to_contain_text("is queued for Acme Coffee")
        url = page.url
        # Queued or importing, then done: the page redraws itself without a reload.
        expect(page.locator(".bc-import-outcome")).to_contain_text("500 created", timeout=30_000)
        assert page.url == url
        page.screenshot(path="/tmp/follower-import-done.png", full_page=True)
    wait_for(lambda: FollowerImport.objects.get().status == "done", what="the import to finish")
    assert Follower.objects.filter(account=acc).count() == 500
