"""Settings for Verzuim, read from the environment.

VERZUIM_ENV chooses the profile: "development" (default: a fresh checkout works with no
environment at all), "test" (pytest), or "production" (refuses to start without its secrets).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    """A string setting; an empty value counts as unset (docker-compose passes unset as empty)."""
    value = os.environ.get(name) or default
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required in this environment.")
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VERZUIM_ENV = env_str("VERZUIM_ENV", "development")
if VERZUIM_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("VERZUIM_ENV must be development, test or production.")
PRODUCTION = VERZUIM_ENV == "production"
TESTING = VERZUIM_ENV == "test"

DEBUG = env_bool("DEBUG", VERZUIM_ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG may not be on in production.")

# Secrets: production has no defaults, so a missing secret stops the start-up.
_INSECURE_DEV_SECRET = "insecure-development-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 50
SECRET_KEY = env_str("SECRET_KEY", None if PRODUCTION else _INSECURE_DEV_SECRET)
if PRODUCTION and (len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or SECRET_KEY == _INSECURE_DEV_SECRET):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")

# Master keys that wrap each tenant's data key (see domains/encryption.py), as
# "ID:BASE64KEY,ID:BASE64KEY"; the highest ID encrypts, all of them decrypt (rotation).
VERZUIM_MASTER_KEYS = env_str("VERZUIM_MASTER_KEYS", None if PRODUCTION else "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Proxies whose X-Forwarded-For we believe (CIDR ranges); none by default.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "guardian",
    "core",
    "verzuim",
    "domains",
    "employees",
    "cases",
    "imports",
    "retention",
    "reports",
    "auth2fa",
    "audit",
    "auditlog",  # its change capture (diff) and, for the benchmark, its access logging
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    # The request's own transaction; its audit events are INSERTed into the outbox at its end
    # and commit with it, the session save included (README "What the audit trail guarantees").
    "audit.middleware.AuditedTransactionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.PrivateCacheMiddleware",  # no-store for every signed-in response
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.TenantScopeMiddleware",
    "audit.middleware.AuditMiddleware",
    "audit.middleware.AccessDeniedMiddleware",  # every 403/404 to a signed-in user is audited
    # Login, second factor, password expiry, IP range, unplaced roles: one list of checks.
    "verzuim.gate.GateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if PRODUCTION:
    # gunicorn serves the collected static files itself; runserver and the test server do in dev.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "verzuim.urls"
WSGI_APPLICATION = "verzuim.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "domains.access.access",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL is the one database. dev.py passes an embedded server's URL when none is given.
DATABASE_URL = env_str(
    "DATABASE_URL", None if PRODUCTION else "postgres://postgres@127.0.0.1:5432/test"
)
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL.")
_CONN_MAX_AGE = 0 if TESTING else 60  # tests: the live server's threads must let the test DB go
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=_CONN_MAX_AGE, conn_health_checks=True
    ),
}
# The audit trail lives in a database of its own (NEN 7513): append-only, read for exports only.
# In production a separate server; by default a second database on the same server.
# AUDIT_DATABASE_URL is the application's role there: in production INSERT and SELECT on the
# records only (see deploy/audit-db-init.sh and audit migration 0003).
AUDIT_DATABASE_URL = env_str("AUDIT_DATABASE_URL", None if PRODUCTION else "")
if AUDIT_DATABASE_URL:
    DATABASES["audit"] = dj_database_url.parse(
        AUDIT_DATABASE_URL, conn_max_age=_CONN_MAX_AGE, conn_health_checks=True
    )
else:
    DATABASES["audit"] = {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_audit"}
# The owner of the audit tables, for `migrate --database audit_owner` only: give it to the
# process that runs migrations, never to the web application or the workers. Without it (outside
# production) the "audit" alias migrates the audit store itself (audit/router.py).
AUDIT_MIGRATE_DATABASE_URL = env_str("AUDIT_MIGRATE_DATABASE_URL", "")
if AUDIT_MIGRATE_DATABASE_URL:
    DATABASES["audit_owner"] = dj_database_url.parse(AUDIT_MIGRATE_DATABASE_URL, conn_max_age=0)
# The role migrations grant INSERT and SELECT on the audit records to (and revoke everything
# else from): by default the user of AUDIT_DATABASE_URL when the owner is another role.
_audit_user = DATABASES["audit"].get("USER") or ""
_owner_user = DATABASES.get("audit_owner", {}).get("USER") or _audit_user
AUDIT_APP_ROLE = env_str("AUDIT_APP_ROLE", _audit_user if _audit_user != _owner_user else "")
# Signs each tenant's audit chain checkpoint (its last sequence and hash, kept in the default
# database) so that truncating the store or cutting off a chain's tail is detected by
# audit_verify. It must not be readable by the audit database's roles.
MIN_AUDIT_CHECKPOINT_KEY_LENGTH = 32
AUDIT_CHECKPOINT_KEY = env_str("AUDIT_CHECKPOINT_KEY", None if PRODUCTION else "")
if PRODUCTION and (
    len(AUDIT_CHECKPOINT_KEY) < MIN_AUDIT_CHECKPOINT_KEY_LENGTH
    or AUDIT_CHECKPOINT_KEY == SECRET_KEY
):
    raise ImproperlyConfigured(
        "AUDIT_CHECKPOINT_KEY must be a random string of at least 32 characters, not SECRET_KEY."
    )
DATABASE_ROUTERS = ["audit.router.AuditRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", None if PRODUCTION else "")
if TESTING and REDIS_URL and (_worker := os.environ.get("PYTEST_XDIST_WORKER", "")):
    # The suite runs in parallel processes (pytest-xdist, "gw0", "gw1", ...) and clears its cache
    # database between tests: each process gets a Redis database of its own, counted up from the
    # one REDIS_URL names, as each gets a test database of its own from pytest-django.
    _redis = urlsplit(REDIS_URL)
    _first = int(_redis.path.strip("/") or 0)
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_first + int(_worker.removeprefix('gw'))}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "verzuim",
        }
    }
else:
    # Without Redis (the demo default) each process keeps its own throttling counters.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # in-process; a host keeps kombu quiet
CELERY_RESULT_BACKEND = None
# No broker: tasks run in-process. Tests run them in-process too (the fault tests start a real
# worker against Redis themselves), so every test sees the audit store it writes.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or env_bool("CELERY_TASK_ALWAYS_EAGER", TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when Redis is down, so a page can fall back to the outbox at once.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that dies unacknowledged comes back after this many seconds.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
    # Workers look for such messages every this many seconds (kombu's default is 10 x 10 s).
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# How often beat drains the audit outbox, in seconds: the longest an event waits when its
# wake-up was lost (Redis down or emptied, a worker killed mid-batch).
AUDIT_DRAIN_SECONDS = env_int("AUDIT_DRAIN_SECONDS", 2)
CELERY_TIMEZONE = "Europe/Amsterdam"
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {"task": "auth2fa.tasks.clear_expired_sessions", "schedule": 3600},
    "end-access-of-leavers": {"task": "auth2fa.tasks.end_access_of_leavers", "schedule": 900},
    "retry-big-register-checks": {
        "task": "domains.tasks.check_pending_big_registrations",
        "schedule": 900,
    },
    # The outbox holds every audit event until the audit store has it; wake-ups through Redis
    # may be lost, this drain is not (a message that is not taken in time is dropped).
    "drain-audit-outbox": {
        "task": "audit.tasks.drain_outbox",
        "schedule": AUDIT_DRAIN_SECONDS,
        "options": {"expires": AUDIT_DRAIN_SECONDS * 5},
    },
    "refresh-part-time-factors": {
        "task": "employees.tasks.refresh_part_time_factors",
        "schedule": 3600,
    },
    "remove-expired-audit-exports": {
        "task": "audit.tasks.remove_expired_exports",
        "schedule": 3600,
    },
    # Marks data past its retention term for the overview; it never deletes (seed 002).
    "scan-retention-terms": {
        "task": "retention.tasks.scan_all_tenants",
        "schedule": crontab(hour=2, minute=30),
    },
}

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "auth2fa.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
if TESTING:
    # Fast hashing keeps the suite quick; tests/test_settings.py checks the real list.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # The tenant's policy: its minimum length (never below 12) and no recent passwords again.
    {"NAME": "auth2fa.password_policy.TenantPasswordPolicyValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "auth2fa:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "auth2fa:login"
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour

# Login throttling (auth2fa/throttle.py): failures per account and per client address.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)

OTP_TOTP_ISSUER = "Verzuim"
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp doubles the wait after each wrong code

# Idle sessions end: every request renews the cookie, so the age is the idle limit.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Security headers -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # the container health check speaks plain HTTP

# --- E-mail -----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Verzuim <no-reply@verzuim.test>")
if PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = True
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Where the application is reached: links in e-mails sent without a request (the first admin's
# password-set link from `manage.py create_environment`). Production defaults to https on the
# first allowed host.
SITE_URL = env_str(
    "SITE_URL",
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION and ALLOWED_HOSTS else "http://localhost:8000",
).rstrip("/")
if urlsplit(SITE_URL).scheme not in {"http", "https"} or not urlsplit(SITE_URL).netloc:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) address, not {SITE_URL!r}.")

# --- Language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Amsterdam"
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Logging: no personal data; request data is never logged by our code. --------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        # Outside production, in-process tasks would print a line per task (the demo's start).
        **({} if PRODUCTION else {"celery.app.trace": {"level": "WARNING"}}),
    },
}

# The public BIG register (CIBG), checked before a company doctor gets medical access.
BIG_REGISTER_URL = env_str("BIG_REGISTER_URL", "https://api.bigregister.nl/zksrv/soap/4")
if not BIG_REGISTER_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("BIG_REGISTER_URL must be an http(s) URL.")
if PRODUCTION and not BIG_REGISTER_URL.startswith("https://"):
    # BIG numbers and the register's answer decide medical access: never over plain HTTP.
    raise ImproperlyConfigured("BIG_REGISTER_URL must be an https URL in production.")
BIG_REGISTER_TIMEOUT = env_int("BIG_REGISTER_TIMEOUT", 10)

# SMS as a second factor. Production sends through an HTTP gateway; development and the demo write
# each message to a file (and the console) so the code can be read there. Tests use memory.
SMS_BACKEND = env_str(
    "SMS_BACKEND",
    "auth2fa.sms.HttpGatewayBackend"
    if PRODUCTION
    else "auth2fa.sms.MemoryBackend"
    if TESTING
    else "auth2fa.sms.FileBackend",
)
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms-outbox.txt"))
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
if PRODUCTION and SMS_GATEWAY_URL and not SMS_GATEWAY_URL.startswith("https://"):
    # The gateway gets phone numbers, login codes and its bearer token.
    raise ImproperlyConfigured("SMS_GATEWAY_URL must be an https URL in production.")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_ORIGINATOR = env_str("SMS_GATEWAY_ORIGINATOR", "Verzuim")
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 5)  # seconds per attempt
SMS_GATEWAY_RETRIES = env_int("SMS_GATEWAY_RETRIES", 2)  # extra attempts on network/5xx/429
SMS_CODE_VALID_SECONDS = env_int("SMS_CODE_VALID_SECONDS", 300)
SMS_RESEND_SECONDS = env_int("SMS_RESEND_SECONDS", 30)  # minimum wait between two messages
SMS_PER_USER_PER_HOUR = env_int("SMS_PER_USER_PER_HOUR", 5)
SMS_PER_NUMBER_PER_HOUR = env_int("SMS_PER_NUMBER_PER_HOUR", 5)
SMS_DEFAULT_REGION = "NL"  # numbers typed without a country code are Dutch
SMS_PRICE_CENTS = env_int("SMS_PRICE_CENTS", 8)  # seed 002: 8 cents per SMS, charged per customer

# Security keys (WebAuthn / FIDO U2F). The relying party is fixed here, never read from the Host
# header: a key registered for one RP id works nowhere else.
WEBAUTHN_RP_ID = env_str("WEBAUTHN_RP_ID", None if PRODUCTION else "localhost")
WEBAUTHN_RP_NAME = env_str("WEBAUTHN_RP_NAME", "Verzuim")
WEBAUTHN_ORIGINS = env_list(
    "WEBAUTHN_ORIGINS",
    f"https://{WEBAUTHN_RP_ID}" if PRODUCTION else "http://localhost:8000,https://localhost:8000",
)
# Keys registered with the old U2F API are scoped to an AppID URL instead of the RP id; the
# browser's `appid` extension lets them sign in still (an https URL on the same site).
WEBAUTHN_U2F_APPID = env_str("WEBAUTHN_U2F_APPID", "")

# django-auditlog captures changes; our ChangeCapture turns them into audit events (audit/).
AUDITLOG_LOGENTRY_MODEL = env_str("AUDITLOG_LOGENTRY_MODEL", "audit.ChangeCapture")  # bench: peer
# auditlog's own LogEntry table is not used (ChangeCapture stores nothing): no migrations for it.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_USE_BASE_MANAGER = True  # its look-ups of the old row must not need a tenant scope
AUDITLOG_DISABLE_REMOTE_ADDR = True
# Compare raw values (sealed columns are bytes, not text); they never leave ChangeCapture anyway.
AUDITLOG_STORE_JSON_CHANGES = True

# Audit exports for auditors: where the files are built, and how long they can be downloaded.
AUDIT_EXPORT_DIR = env_str("AUDIT_EXPORT_DIR", str(BASE_DIR / "var" / "audit-exports"))
AUDIT_EXPORT_HOURS = env_int("AUDIT_EXPORT_HOURS", 48)

# Employee imports: larger files are refused before parsing (100,000 rows of the template take
# some 15 MB as CSV, less as XLSX).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 25 * 1024 * 1024)

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
