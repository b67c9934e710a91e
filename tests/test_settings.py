"""Deployment settings: safe by default. DEBUG is off unless set, production values pass `check --deploy`,
and a missing, public or weak SECRET_KEY stops every command."""

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


@pytest.mark.parametrize("debug", [{"DEBUG": "False"}, {}], ids=["debug-false", "debug-unset"])
def test_production_settings_pass_the_deploy_check(tmp_path, debug):
    result = manage(
        "check", "--deploy", tmp_path=tmp_path, SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="example.com", **debug,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output


def test_debug_is_off_unless_the_environment_turns_it_on(tmp_path):
    show = ["shell", "-c", "from django.conf import settings; print('DEBUG', settings.DEBUG)"]
    production = manage(*show, tmp_path=tmp_path, SECRET_KEY=secrets.token_urlsafe(64))
    development = manage(*show, tmp_path=tmp_path, DEBUG="True")  # what `make run` sets

    assert "DEBUG False" in production.stdout.splitlines(), production.stdout + production.stderr
    assert "DEBUG True" in development.stdout.splitlines(), development.stdout + development.stderr


def test_make_run_turns_debug_on_for_the_commands_it_starts():
    """`make run`'s first command, with the Python replaced by one that shows its environment and stops."""
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "run", "PY=/bin/sh -c 'echo DEBUG=$$DEBUG; exit 3' sh"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert result.stdout.splitlines() == ["DEBUG=True"], result.stdout + result.stderr


@pytest.mark.parametrize(
    ("secret", "debug"),
    [("", "False"), (None, "False"), (None, None), ("dev-only-secret-key-not-for-production-0123456789abcdefghij", None),
     ("short-key", "False"), ("x" * 60, None)],
    ids=["empty", "missing", "missing-debug-unset", "development-key", "short", "one-character"],
)
def test_without_a_real_secret_key_commands_refuse_with_one_line(tmp_path, secret, debug):
    extra = {"ALLOWED_HOSTS": "example.com"}
    if debug is not None:
        extra["DEBUG"] = debug
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
