"""Settings for Broadcast Console, read from the environment (django-environ).

Every value has a development default, so a first run needs no `.env`.
With DEBUG=False the deployment settings tighten and SECRET_KEY is required.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        # SystemExit with a string prints one line and exits 1: no traceback.
        raise SystemExit(
            "SECRET_KEY is not set: with DEBUG=False the console refuses to start "
            "without a secret key (set SECRET_KEY to 50 or more random characters)."
        )
    SECRET_KEY = "dev-only-secret-key-not-for-production-0123456789abcdefghij"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "operator_console.apps.ConsoleAdminConfig",  # django.contrib.admin, hardened (operator_console/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "accounts",
    "broadcasts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "operator_console.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "operator_console.middleware.PlatformTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "operator_console.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "operator_console.wsgi.application"

# Database: SQLite file in the repo for a first run, PostgreSQL in production and CI.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock at BEGIN (no upgrade deadlock),
    # and the busy timeout waits for the lock instead of "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# Parallel test runs (several developers on one server) pick their own test database.
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time: stored in UTC; calendar windows (day, ISO week, month) are counted in
# the platform's zone, which is also the zone the admin shows times in.
PLATFORM_TIME_ZONE = env.str("PLATFORM_TIME_ZONE", default="Asia/Shanghai")
TIME_ZONE = env.str("TIME_ZONE", default=PLATFORM_TIME_ZONE)
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Deployment hardening: on by default whenever DEBUG is off, each overridable.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
X_FRAME_OPTIONS = "DENY"

# Celery: Redis broker; beat reads its schedule from the database (admin-editable).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task unacknowledged this long is handed to another worker. Stale delivery
    # batches are re-queued sooner by a beat job; this is the backstop.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
DJANGO_CELERY_BEAT_TZ_AWARE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Broadcasts (DESIGN.md): delivery backend, batch size, webhook gateway, penalties (R7).
BROADCAST_DELIVERY_BACKEND = env.str("BROADCAST_DELIVERY_BACKEND", default="broadcasts.backends.inbox.InboxBackend")
# Followers per delivery batch (one Celery task, one transaction).
BROADCAST_BATCH_SIZE = env.int("BROADCAST_BATCH_SIZE", default=5000)
# A pending batch whose heartbeat is older than this is re-queued by beat (a worker died).
BROADCAST_BATCH_STALE_SECONDS = env.int("BROADCAST_BATCH_STALE_SECONDS", default=60)
BROADCAST_WEBHOOK_URL = env.str("BROADCAST_WEBHOOK_URL", default="")
BROADCAST_WEBHOOK_SECRET = env.str("BROADCAST_WEBHOOK_SECRET", default="")
BROADCAST_WEBHOOK_TIMEOUT = env.float("BROADCAST_WEBHOOK_TIMEOUT", default=10.0)
BROADCAST_WEBHOOK_MAX_RETRIES = env.int("BROADCAST_WEBHOOK_MAX_RETRIES", default=5)
# R7: violation points within the window that suspend an account, and for how long.
BROADCAST_PENALTY_POINTS = env.int("BROADCAST_PENALTY_POINTS", default=30)
BROADCAST_PENALTY_WINDOW_DAYS = env.int("BROADCAST_PENALTY_WINDOW_DAYS", default=90)
BROADCAST_PENALTY_DAYS = env.int("BROADCAST_PENALTY_DAYS", default=7)
