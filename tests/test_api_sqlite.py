"""The API's sends on the first-run default, SQLite: the follower list's one-parameter statements
(openids resolved, recipients written, the list checked) have a portable path too."""

from tests.conftest import run_on_sqlite

SCRIPT = r"""
import json
from accounts.models import Certification, Follower, OfficialAccount
from broadcasts import services
from broadcasts.exceptions import InvalidAudience
from accounts.exceptions import FollowerNotFound

acc = OfficialAccount.objects.create(name="Acme", kind="service")
Certification.objects.create(account=acc, status="approved", legal_name="Acme Ltd", registration_number="1")
Follower.objects.bulk_create([Follower(account=acc, openid=f"o-{i}") for i in range(5)])
b = services.send_through_api(acc, credential="test", msgtype="text", content="Hi", openids=["o-3", "o-1", "o-3"])
refusals = []
for openids in (["o-1"], ["o-1", "o-9"]):
    try:
        services.send_through_api(acc, credential="test", msgtype="text", content="Again", openids=openids)
    except (InvalidAudience, FollowerNotFound) as exc:
        refusals.append(exc.code)
print(json.dumps({
    "status": b.status,
    "recipients": sorted(b.recipients.values_list("openid", flat=True)),
    "refusals": refusals,
}))
"""


def test_an_api_send_to_a_list_works_on_sqlite(tmp_path):
    out = run_on_sqlite(tmp_path, SCRIPT)

    assert out == {"status": "approved", "recipients": ["o-1", "o-3"], "refusals": ["invalid_audience", "follower_not_found"]}
