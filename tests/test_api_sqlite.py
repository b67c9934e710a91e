"""The API's sends on the first-run default, SQLite: the follower list's one-parameter statements
(openids resolved, recipients written, the list checked) have a portable path too."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

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
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'first-run.sqlite3'}", DJANGO_SETTINGS_MODULE="operator_console.settings")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    run = subprocess.run([*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr

    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out == {"status": "approved", "recipients": ["o-1", "o-3"], "refusals": ["invalid_audience", "follower_not_found"]}
