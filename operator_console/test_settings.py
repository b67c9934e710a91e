"""Settings for the test suite: PostgreSQL and a Redis database of their own unless the environment says otherwise.

The environment defaults are set before the real settings are read, so
`DATABASE_URL=... pytest` still wins.
"""

import os
import time

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
# The API's tokens and throttle counters share the broker's Redis database, under a prefix of
# this run's own (account ids restart with each test database; old counters must not apply).
os.environ.setdefault("API_CACHE_URL", os.environ["CELERY_BROKER_URL"])
os.environ.setdefault("API_CACHE_KEY_PREFIX", f"test-api-{os.getpid()}-{time.time_ns()}")
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 50)
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("SESSION_COOKIE_SECURE", "False")
os.environ.setdefault("CSRF_COOKIE_SECURE", "False")

from .settings import *  # noqa: E402,F403

STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
