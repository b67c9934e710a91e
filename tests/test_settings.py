"""Deployment settings: production values pass `check --deploy`; a missing SECRET_KEY stops every command."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, tmp_path, **env_overrides) -> subprocess.CompletedProcess:
    """Run manage.py in a clean environment: only what a fresh production host would set."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "operator_console.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = manage(
        "check", "--deploy", tmp_path=tmp_path,
        DEBUG="False", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="example.com",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output


@pytest.mark.parametrize("secret", ["", None], ids=["empty", "missing"])
def test_without_secret_key_commands_refuse_with_one_line(tmp_path, secret):
    extra = {"DEBUG": "False", "ALLOWED_HOSTS": "example.com"}
    if secret is not None:
        extra["SECRET_KEY"] = secret
    for command in (["check"], ["migrate", "--noinput"]):
        result = manage(*command, tmp_path=tmp_path, **extra)
        output = (result.stdout + result.stderr).strip()
        assert result.returncode != 0, output
        lines = output.splitlines()
        assert len(lines) == 1, output
        assert "SECRET_KEY" in lines[0]
        assert "Traceback" not in output
    assert not (tmp_path / "db.sqlite3").exists() or (tmp_path / "db.sqlite3").stat().st_size == 0


def test_debug_mode_runs_without_a_secret_key(tmp_path):
    """A first run on a laptop needs no configuration at all."""
    result = manage("check", tmp_path=tmp_path, DEBUG="True")
    assert result.returncode == 0, result.stdout + result.stderr
