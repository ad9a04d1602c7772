"""Settings for the QI tracker: one module, read from the environment.

Defaults run on a laptop with nothing but Python: a SQLite file, a Celery broker on
the file system and e-mails written to files under ``var/``. Production sets
``DEBUG=false``, ``SECRET_KEY``, ``DATABASE_URL`` and ``CELERY_BROKER_URL``; see the
configuration table in README.md.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("QI_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "development-only-key-never-use-in-production-3f9a7c1e")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "Environment variable SECRET_KEY must be at least 50 characters with at least 5 different ones."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Environment variable ALLOWED_HOSTS must name this site's host(s) when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "qi",
    "api",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "notifications.context_processors.unread",
            ],
        },
    },
]


def _database_from_env() -> dict:
    default_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    url = env_str("DATABASE_URL", default_url)
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(f"Environment variable DATABASE_URL is not a usable database URL: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # Several processes (web, worker, beat) share the file: wait for locks instead of failing, and
        # take the write lock when a transaction starts so it never fails upgrading a read lock.
        config.setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
        config["CONN_MAX_AGE"] = 0
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "qi.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"Environment variable TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))

# --- Security: safe values follow DEBUG, each can be overridden. -------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# --- E-mail: written to files by default so a laptop needs no SMTP server. --------------------
_EMAIL_BACKENDS = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
EMAIL_BACKEND = _EMAIL_BACKENDS[env_choice("EMAIL_BACKEND", "file", set(_EMAIL_BACKENDS))]
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Environment variables EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "QI Tracker <qi-tracker@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in e-mails (unsubscribe, project pages) start with this.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
if not re.match(r"^https?://[^/\s]+", SITE_URL):
    raise ImproperlyConfigured(f"Environment variable SITE_URL={SITE_URL!r} must be an http(s):// address.")
# E-mails per batch (one SMTP connection each), and a pause between e-mails for rate-limited relays.
NOTIFICATIONS_EMAIL_BATCH_SIZE = env_int("NOTIFICATIONS_EMAIL_BATCH_SIZE", 100, minimum=1)
NOTIFICATIONS_EMAIL_INTERVAL_MS = env_int("NOTIFICATIONS_EMAIL_INTERVAL_MS", 0, minimum=0)
# E-mails marked SENT per database write. 1 (the default) marks each the moment the server accepts it,
# so a killed worker resends at most one; 20 sends faster (see docs/BENCHMARKS.md) but may resend up to 20.
NOTIFICATIONS_EMAIL_MARK_EVERY = env_int("NOTIFICATIONS_EMAIL_MARK_EVERY", 1, minimum=1)
# Users per digest task, and the weekday weekly digests go out (0 = Monday); monthly ones go on the 1st.
NOTIFICATIONS_DIGEST_BATCH_SIZE = env_int("NOTIFICATIONS_DIGEST_BATCH_SIZE", 200, minimum=1)
NOTIFICATIONS_DIGEST_WEEKDAY = env_int("NOTIFICATIONS_DIGEST_WEEKDAY", 0, minimum=0, maximum=6)  # 0 = Monday

# --- Celery: Redis in production and CI; a file-system broker needs no server on a laptop. -----
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if not re.match(r"^(redis|rediss|amqp|filesystem|memory)://", CELERY_BROKER_URL):
    raise ImproperlyConfigured(
        "Environment variable CELERY_BROKER_URL must start with redis://, rediss://, amqp://, "
        f"filesystem:// or memory://; got {CELERY_BROKER_URL!r}."
    )
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    for _folder in (_queue_dir, _processed_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged task (its worker was killed) goes back to the queue after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1)}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TIMEZONE = TIME_ZONE
# The periodic schedule, in one place. Run exactly one beat; the tasks are safe to run twice anyway.
CELERY_BEAT_SCHEDULE = {
    "reminder-scan": {
        "task": "notifications.tasks.scan_reminders",
        "schedule": crontab(hour=env_int("NOTIFICATIONS_SCAN_HOUR", 7, minimum=0, maximum=23), minute=0),
    },
    "learning-digest": {
        "task": "notifications.tasks.send_digests",
        "schedule": crontab(hour=env_int("NOTIFICATIONS_DIGEST_HOUR", 7, minimum=0, maximum=23), minute=30),
    },
    "requeue-stalled-emails": {"task": "notifications.tasks.requeue_stalled", "schedule": 300.0},
    "purge-expired-device-tokens": {"task": "api.tasks.purge_expired_tokens", "schedule": crontab(hour=3, minute=15)},
    "purge-old-tombstones": {"task": "api.tasks.purge_old_tombstones", "schedule": crontab(hour=3, minute=30)},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Cache: throttling counters. Several web processes must share one, so production sets Redis. --
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("Environment variable CACHE_URL must be a redis:// or rediss:// URL (or unset).")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- REST API (/api/v1/): device tokens (knox), session for the browsable API, one error shape. --


def _rate_from_env(name: str, default: str) -> str:
    """A throttle rate like 2000/hour, checked now rather than on the first request."""
    rate = env_str(name, default)
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"Environment variable {name} must be a rate like 100/minute or 2000/hour.")
    return rate


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "api.filters.StableOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.SyncCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": _rate_from_env("API_THROTTLE_USER", "2000/hour"),
        "login": _rate_from_env("API_THROTTLE_LOGIN", "10/minute"),
    },
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
}
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 25, minimum=1, maximum=100)
API_MAX_PAGE_SIZE = 100
# How far back the "sync_time" of a list response reaches, so rows committed by transactions that
# were still running when the page was read are fetched again next time (clients upsert by id).
API_SYNC_OVERLAP_SECONDS = env_int("API_SYNC_OVERLAP_SECONDS", 60, minimum=0, maximum=3600)

KNOX_TOKEN_MODEL = "api.DeviceToken"
# knox's own migrations create its default token table even when the model is swapped for ours; an
# unused table that references users breaks flushing the database, so knox gets no migrations here.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    # A device token expires after 12 idle hours (each use slides it on) and 30 days after login.
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_IDLE_HOURS", 12, minimum=1, maximum=24 * 30)),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=env_int("API_TOKEN_MAX_DAYS", 30, minimum=1, maximum=365)),
    "MIN_REFRESH_INTERVAL": 60,
    "TOKEN_LIMIT_PER_USER": env_int("API_TOKENS_PER_USER", 20, minimum=1, maximum=1000),
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "QI Tracker API",
    "DESCRIPTION": (
        "The API of the QI tracker for junior doctors' quality-improvement projects: everything a doctor, "
        "supervisor or QI lead can do on the web pages. Log in at /api/v1/auth/login/ for a device token and "
        "send it as `Authorization: Token <token>`. See docs/API.md for a walk through log in, sync and the "
        "milestone flow."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and ReDoc served from our own static files: hospital networks often block CDNs.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Patient data guard: extra identifier patterns a trust refuses in free text. ---------------
# JSON object of {"description": "regular expression"}, e.g. {"hospital number": "\\bRX\\d{7}\\b"}.


def _identifier_patterns_from_env() -> dict[str, str]:
    raw = env_str("QI_PATIENT_IDENTIFIER_PATTERNS", "{}")
    try:
        patterns = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"Environment variable QI_PATIENT_IDENTIFIER_PATTERNS is not JSON: {exc}") from None
    if not isinstance(patterns, dict) or not all(isinstance(v, str) for v in patterns.values()):
        raise ImproperlyConfigured(
            'Environment variable QI_PATIENT_IDENTIFIER_PATTERNS must be a JSON object of {"name": "regex"}.'
        )
    for name, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ImproperlyConfigured(
                f"Environment variable QI_PATIENT_IDENTIFIER_PATTERNS: pattern {name!r} is not a valid "
                f"regular expression: {exc}"
            ) from None
    return patterns


QI_PATIENT_IDENTIFIER_PATTERNS = _identifier_patterns_from_env()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})},
}
