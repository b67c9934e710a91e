"""Settings for Broadcast Console, read from the environment (django-environ).

Safe by default: DEBUG is off unless the environment turns it on (`make run` and the tests
do), and with DEBUG off the console refuses to start without a real SECRET_KEY. With DEBUG
on, every value has a development default, so a first run needs no `.env`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Public (it is in the repository): only ever used with DEBUG on, refused with DEBUG off.
DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-not-for-production-0123456789abcdefghij"
SECRET_KEY_MIN_LENGTH = 50  # what Django's deploy check asks for (security.W009)


def secret_key_problem(key: str) -> str:
    """Why `key` must not sign a production console's sessions, or "" when it may."""
    if not key:
        return "SECRET_KEY is not set"
    if key == DEVELOPMENT_SECRET_KEY:
        return "SECRET_KEY is the public development key"
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < 5 or key.startswith("django-insecure"):
        return f"SECRET_KEY is too weak (under {SECRET_KEY_MIN_LENGTH} characters, or nearly all one character)"
    return ""


SECRET_KEY = env.str("SECRET_KEY", default="")
if not DEBUG and secret_key_problem(SECRET_KEY):
    # SystemExit with a string prints one line and exits 1: no traceback.
    raise SystemExit(
        f"{secret_key_problem(SECRET_KEY)}: with DEBUG off the console refuses to start; set SECRET_KEY to "
        f"{SECRET_KEY_MIN_LENGTH} or more random characters (or DEBUG=True on a development machine)."
    )
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

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
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "broadcasts",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "operator_console.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the request (Accept-Language, else LANGUAGE_CODE), as Django documents.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "operator_console.middleware.PlatformTimeZoneMiddleware",
    "operator_console.middleware.AttemptTimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Paths whose views refuse a NUL byte in their own error format (the API answers errcode 47001,
# the intake a JSON 400); RefuseNulMiddleware answers every other path with its 400 page.
NUL_CHECK_EXEMPT_PATHS = ("/cgi-bin/", "/internal/")

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
                "operator_console.context_processors.platform_clock",  # the header's platform time
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
# Every sentence a person reads is marked for translation (README "Translation"); the
# catalogues live in locale/. English is the default and the only complete language so far.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# One date and time format in every language: "2026-11-30 14:49:05" (operator_console/formats).
FORMAT_MODULE_PATH = ["operator_console.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The console's own scripts (static/console/): the CSP allows no inline script.
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# Content-Security-Policy (django-csp) on every response: scripts only from the console's own
# static files, so an injected <script> or on…= handler does not run. Inline styles stay
# allowed (the admin's badges and progress bars use style attributes; CSS cannot run code).
# Images may come from anywhere over http(s): the review page previews a broadcast's cover.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "https:", "http:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttle (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is locked out for LOGIN_LOCKOUT_MINUTES (each new try restarts the
# wait); other users, and the same user elsewhere, are unaffected. The address is REMOTE_ADDR
# alone: a client-sent X-Forwarded-For would let an attacker pick a new address per try. Behind
# a proxy every login comes from the proxy's address, so the lockout holds per username.
AUTHENTICATION_BACKENDS = [
    "operator_console.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_LOCKOUT_CALLABLE = "operator_console.auth.lockout_response"
AXES_VERBOSE = False  # lockouts are logged by axes' own warning; no banner at every start

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
# Two queues: control work (dispatch, stale-batch recovery, expiry, pushes: small and on time)
# never waits behind bulk delivery (one task per batch of followers). Every task not routed
# below goes to the control queue; the Procfile starts a worker for each queue.
CONTROL_QUEUE, BULK_QUEUE = "control", "bulk"
CELERY_TASK_DEFAULT_QUEUE = CONTROL_QUEUE
CELERY_TASK_ROUTES = {"broadcasts.tasks.deliver_batch_task": {"queue": BULK_QUEUE}}  # broadcasts.task_names
# Workers keep their database connection between tasks: Celery's Django fix-up would close it
# after every task whatever CONN_MAX_AGE says, so it closes only every this many tasks, and
# operator_console.celery closes a connection before a task when it is broken or older than
# CONN_MAX_AGE (Django's own rule for requests).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=10_000)
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
DJANGO_CELERY_BEAT_TZ_AWARE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"refusal_without_traceback": {"()": "operator_console.log_filters.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes: lockouts are warnings; its INFO line at every successful login is noise.
    # django.request: a 403 or 404 is logged as a line, without a traceback (log_filters.py).
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"},
                "django.request": {"filters": ["refusal_without_traceback"]}},
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
# R8 over-marketing flags (README, "Over-marketing insight"): an account is flagged when its 72 h
# unfollow rate over its last N measured broadcasts is above the rate, once they sent at least
# MIN_SENT messages; a newly raised flag costs POINTS violation points (R7; 0: off).
BROADCAST_UNFOLLOW_FLAG_RATE = env.float("BROADCAST_UNFOLLOW_FLAG_RATE", default=0.005)
BROADCAST_UNFOLLOW_FLAG_BROADCASTS = env.int("BROADCAST_UNFOLLOW_FLAG_BROADCASTS", default=5)
BROADCAST_UNFOLLOW_FLAG_MIN_SENT = env.int("BROADCAST_UNFOLLOW_FLAG_MIN_SENT", default=1000)
BROADCAST_UNFOLLOW_FLAG_POINTS = env.int("BROADCAST_UNFOLLOW_FLAG_POINTS", default=0)
# Job-finished events (MASSSENDJOBFINISH) pushed to an account's server when an API broadcast ends:
# seconds per POST (the platform gives a server 5 s) and retries of a transient failure, with backoff.
BROADCAST_PUSH_TIMEOUT = env.float("BROADCAST_PUSH_TIMEOUT", default=5.0)
BROADCAST_PUSH_MAX_RETRIES = env.int("BROADCAST_PUSH_MAX_RETRIES", default=5)

# Platform events intake (POST /internal/v1/follower-events): the shared secret of its HMAC
# signature (empty: the intake refuses every request), and how far a request's timestamp may be
# from the console's clock.
PLATFORM_EVENTS_SECRET = env.str("PLATFORM_EVENTS_SECRET", default="")
PLATFORM_EVENTS_MAX_SKEW_SECONDS = env.int("PLATFORM_EVENTS_MAX_SKEW_SECONDS", default=300)

# The advanced mass interface (api/, issue 11): the platform's wire format over Django REST framework.
# Its access tokens and throttle counters live in Redis through the "api" cache; the default
# cache stays in memory (nothing else shares state through it).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("API_CACHE_URL", default="redis://127.0.0.1:6379/2"),
        "KEY_PREFIX": env.str("API_CACHE_KEY_PREFIX", default="bc-api"),
    },
    # Progress of long jobs that a page shows while a worker runs them in one transaction (the
    # admin's follower imports): the same Redis as the API, keys of its own.
    "progress": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("API_CACHE_URL", default="redis://127.0.0.1:6379/2"),
        "KEY_PREFIX": env.str("API_CACHE_KEY_PREFIX", default="bc-api") + "-progress",
    },
}
API_CACHE = "api"
# Seconds an access token lives (the platform's 7200), and how long after that it is still
# recognised as expired (42001) rather than unknown (40001).
API_TOKEN_TTL = env.int("API_TOKEN_TTL", default=7200)
API_TOKEN_EXPIRED_GRACE = env.int("API_TOKEN_EXPIRED_GRACE", default=86400)
# Calls per account per calendar minute (45011 beyond) and per calendar day in PLATFORM_TIME_ZONE (45009).
API_RATE_PER_MINUTE = env.int("API_RATE_PER_MINUTE", default=600)
API_RATE_PER_DAY = env.int("API_RATE_PER_DAY", default=100_000)
# Seconds user/get's `total` (a count over the account's followers) is reused.
API_FOLLOWER_TOTAL_TTL = env.int("API_FOLLOWER_TOTAL_TTL", default=60)
# A request body larger than this is refused (47001) before it is parsed: 10,000 openids of 64
# characters, quoted and separated, are 670 kB.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_048_576)

REST_FRAMEWORK = {
    # The API's views name their own authentication (the access token) and throttles.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Broadcast Console — advanced mass interface",
    "DESCRIPTION": (
        "The platform's mass-send API, wire-compatible: an integration switches by changing its base URL. "
        "Refusals answer HTTP 200 with {\"errcode\", \"errmsg\"} (see the README's error-code table)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the console's own static files (drf-spectacular-sidecar): no CDN on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
