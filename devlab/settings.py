"""DevLab settings: one module, every value from the environment.

Variables are read with django-environ; a ``.env`` file beside ``manage.py`` is
read when present. The README's configuration table lists every variable.
"""

import sys
import tomllib
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import environ

from devlab import keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# ---------------------------------------------------------------- core
DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        # Exit with one clear line instead of a traceback from deep inside Django.
        sys.exit(
            "DevLab configuration error: SECRET_KEY is not set. Set the SECRET_KEY "
            "environment variable (or DEBUG=True for local development only)."
        )
    # Local development only: a fixed, visibly insecure key so that sessions,
    # tokens and the audit chain survive a restart of `make run`.
    SECRET_KEY = "django-insecure-devlab-local-development-only"  # noqa: S105 - DEBUG only

# Keys of their own for the JWTs and the audit chain; each is derived from
# SECRET_KEY with its own label when unset (devlab/keys.py, audit/chain.py), so
# that no value of one signs for another.
_jwt_key = env.str("JWT_SIGNING_KEY", default="")
JWT_SIGNING_KEY = _jwt_key or keys.derive(SECRET_KEY, keys.JWT_KEY_LABEL)
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")

if not DEBUG:
    # A guessable key lets anyone forge sessions, admin JWTs and audit rows:
    # refuse it with one clear line, as a missing one.
    for _name, _value in (
        ("SECRET_KEY", SECRET_KEY),
        ("JWT_SIGNING_KEY", _jwt_key),
        ("AUDIT_SIGNING_KEY", AUDIT_SIGNING_KEY),
    ):
        _reason = keys.weakness(_value) if _value else None
        if _value and _name != "SECRET_KEY" and _value == SECRET_KEY:
            _reason = "it is SECRET_KEY itself; leave it empty to derive one"
        if _reason:
            sys.exit(
                f"DevLab configuration error: {_name} cannot be used because {_reason}. "
                "Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed (devlab.http).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    "accounts.admin_apps.DevLabAdminConfig",  # django.contrib.admin with the two-factor admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "notes",
    "audit",
    "devlab.apps.DevlabConfig",
]
# Demo data (demo/: seed_demo, seed_audit) appends validly chained, back-dated
# audit rows and accounts with a known password: development and benchmarks
# only. On by default with DEBUG (where the app is present: the production
# image leaves demo/ out, .dockerignore); DEVLAB_DEMO=True turns it on with
# DEBUG off, for the benchmarks' and screenshots' seeding commands.
DEVLAB_DEMO = env.bool("DEVLAB_DEMO", default=DEBUG and find_spec("demo") is not None)
if DEVLAB_DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "devlab.metrics.MetricsMiddleware",
    "devlab.http.RequestContextMiddleware",
    "devlab.http.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "devlab.csp.ContentSecurityPolicyMiddleware",  # above WhiteNoise: static files get it too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "devlab.errors.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified() for session logins
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "devlab.urls"
WSGI_APPLICATION = "devlab.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # drf_spectacular/redoc.html without Google Fonts or inline script (devlab/csp.py).
        "DIRS": [BASE_DIR / "devlab" / "templates"],
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

# ---------------------------------------------------------------- database
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# On by default: the pool saves the per-request health check's round trip. (It
# was opt-in for a while, suspected of slow password-hashing requests under
# schemathesis; those were as slow without it.)
DATABASE_POOL = env.bool("DATABASE_POOL", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with time columns parsed in C (devlab/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "devlab.postgresql"
    # Fail fast when PostgreSQL is unreachable: /readyz and 503s answer in
    # seconds instead of hanging a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    if DATABASE_POOL:
        # Django's native psycopg pool (needs psycopg 3) instead of a persistent
        # connection that is health-checked with a `SELECT 1` on every request:
        # one round trip less per request. A connection that breaks (PostgreSQL
        # restarted) fails its request with a 503 (devlab/errors.py) and the pool
        # discards it when it comes back; `timeout` bounds the wait for a
        # connection while PostgreSQL is down, so those requests are 503s too.
        # `reconnect_timeout`: psycopg_pool retries a failed connection with a
        # doubling delay (1, 2, 4, 8 s...) for up to five minutes by default, so
        # after a restart the pool stayed unusable for as long as that delay
        # (make reliability, "database down"). Giving up after 2 s lets the next
        # request start a fresh attempt, which succeeds as soon as PostgreSQL is up.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5),
            "reconnect_timeout": env.float("DATABASE_POOL_RECONNECT_TIMEOUT", default=2),
        }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent
    # writers wait (busy timeout) instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;",
    )

# ---------------------------------------------------------------- cache
# Throttle and lockout counters live here; it must be shared by every worker
# and replica, so the default is the database cache (created by a migration).
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://devlab_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # The same cache with one statement per write instead of five
    # (throttles write on every request): devlab/cache.py.
    CACHES["default"]["BACKEND"] = "devlab.cache.DatabaseCache"
    # Django culls a third of the table past MAX_ENTRIES (default 300), which
    # would erase live lockouts under a password-spraying attack; expired
    # entries are culled first, so a high ceiling only bounds the table.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault(
        "MAX_ENTRIES", env.int("CACHE_MAX_ENTRIES", default=1_000_000)
    )
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # One client per connection pool instead of one per call, and a one-round-trip
    # throttle counter: devlab/cache.py.
    CACHES["default"]["BACKEND"] = "devlab.cache.RedisCache"

# ---------------------------------------------------------------- auth
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Longest password accepted; PBKDF2 has no length cap of its own (unlike bcrypt).
PASSWORD_MAX_LENGTH = 4096

# Where a session login lands without ?next= (the browsable API's /api-auth/login/;
# Django's default, /accounts/profile/, does not exist here).
LOGIN_REDIRECT_URL = "/api/"

LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# Every login attempt, a wrong one too, reads one cache key per allowed failure
# (accounts/lockout.py): at 100,000 an attempt took seconds of CPU, which anyone
# could ask for. Refuse such a limit with one clear line.
LOGIN_FAILURE_LIMIT_MAX = 1000
if not 1 <= LOGIN_FAILURE_LIMIT <= LOGIN_FAILURE_LIMIT_MAX:
    sys.exit(
        f"DevLab configuration error: LOGIN_FAILURE_LIMIT must be between 1 and {LOGIN_FAILURE_LIMIT_MAX}, "
        f"not {LOGIN_FAILURE_LIMIT} (every login attempt reads that many cache keys)."
    )
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)

# ---------------------------------------------------------------- two-factor login (accounts/mfa.py)
# Admins without two-factor get 403 code "mfa_required" from admin endpoints.
MFA_REQUIRED_FOR_ADMINS = env.bool("MFA_REQUIRED_FOR_ADMINS", default=False)
# How long the mfa_token of a right password waits for its second factor.
MFA_TOKEN_SECONDS = env.int("MFA_TOKEN_SECONDS", default=300)
# RFC 6238 as authenticator apps do it (django-otp's defaults: SHA-1, 6 digits,
# 30 s, one step either side). No drift learning: the window stays one step.
OTP_TOTP_ISSUER = "DevLab"
OTP_TOTP_SYNC = False
# The secret never shows in the admin (the TOTP device admin is not registered either).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Password reset (accounts.services.password_reset_*): Django's token
# generator, whose tokens die with the password they were issued for.
PASSWORD_RESET_MINUTES = env.int("PASSWORD_RESET_MINUTES", default=60)
PASSWORD_RESET_TIMEOUT = PASSWORD_RESET_MINUTES * 60  # Django's name, in seconds
# The link mailed to the user; {uid} and {token} are filled in, {origin} is
# this server's scheme and host (as ALLOWED_HOSTS validated it). Set an
# absolute URL of your front end in production.
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="{origin}/reset-password?uid={uid}&token={token}")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,  # the login view sends user_logged_in, which updates it
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# ---------------------------------------------------------------- REST API
API_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 100

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",  # one precompiled query for the user
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.JSONRenderer",  # DRF's output, encoded by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",  # refuses duplicate keys and too deep nesting (400)
        "rest_framework.parsers.FormParser",
        "api.parsers.MultiPartParser",  # refuses parts that name no field
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.KeysetPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonRateThrottle",
        "api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="1000/min"),
        "login": env.str("THROTTLE_LOGIN", default="30/min"),
        "password": env.str("THROTTLE_PASSWORD", default="10/min"),
        "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="10/hour"),
        "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
    },
    "EXCEPTION_HANDLER": "api.exception_handlers.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DevLab API",
    "DESCRIPTION": (
        "Per-user notes with JWT authentication and a tamper-evident audit trail. "
        "Log in at POST /api/auth/login/ and press Authorize with the access token "
        "(jwtAuth), or give Authorize your username and password (oauth2, password flow)."
    ),
    "VERSION": "1.0.0",
    # Tags and operation ids from the path after /api/ (auth, notes, audit, admin).
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # persistAuthorization stays off: it would keep the pasted bearer token in
    # localStorage, readable by any script of this origin long after the tab closes.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayRequestDuration": True},
}

# ---------------------------------------------------------------- email
# smtp://user:password@host:587 (smtp+tls://, smtp+ssl://), consolemail:// (print
# to stdout), dummymail:// (drop). Sent from a background thread, bounded by
# EMAIL_TIMEOUT, so a slow server never holds a response. The console is the
# default only with DEBUG: it would put reset links in a production log.
vars().update(env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="DevLab <noreply@localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# ---------------------------------------------------------------- HTTP
# Request bodies above this size get 413 (devlab.errors.ApiErrorMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]

# Content-Security-Policy of every response (devlab/csp.py): everything is
# served by DevLab itself, so 'self' only, no inline script and no eval.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Swagger UI's icons are data: SVGs in its CSS
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",  # ReDoc's search index runs in a worker made from a blob
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Pages of third-party UIs that write inline styles (Swagger UI, ReDoc, the
# browsable API and its login): there style-src adds 'unsafe-inline'; see devlab/csp.py.
CSP_INLINE_STYLE_PATHS = ["/docs", "/redoc", "/api/", "/api-auth/"]

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Database sessions whose rows hold a hash of the session key, never the key (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
# The admin's messages live in its session. The default (a signed cookie, falling back
# to the session) builds a cookie signer on every request, API requests included.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# HTTPS_ONLY switches on everything a deployment behind TLS needs at once.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if TRUSTED_PROXIES:
    # Only a proxy we trust may tell us the original scheme.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# ---------------------------------------------------------------- static files
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ---------------------------------------------------------------- audit
# AUDIT_SIGNING_KEY (read above, with the other keys) is the HMAC key of the
# audit chain (audit/chain.py); derived from SECRET_KEY when empty. New rows
# are signed with it. After a rotation, the keys older rows
# were signed with go in AUDIT_PREVIOUS_SIGNING_KEYS (comma-separated, newest
# first) so that verify_audit still checks them (docs/operations.md).
AUDIT_PREVIOUS_SIGNING_KEYS = env.list("AUDIT_PREVIOUS_SIGNING_KEYS", default=[])
AUDIT_LOG_FILE = env.str("AUDIT_LOG_FILE", default="")
# Signed checkpoints of the audit log's Merkle tree (AUDIT.md section 10,
# docs/audit-verification.md). The origin names the log and its key; only the
# checkpointer (manage.py audit_checkpoint) reads the private key file, never
# the web processes. Each checkpoint is also written to AUDIT_CHECKPOINT_DIR,
# to be shipped off the database host.
AUDIT_LOG_ORIGIN = env.str("AUDIT_LOG_ORIGIN", default="devlab.local/audit")
AUDIT_CHECKPOINT_KEY_FILE = env.str("AUDIT_CHECKPOINT_KEY_FILE", default="")
AUDIT_CHECKPOINT_DIR = env.str("AUDIT_CHECKPOINT_DIR", default="")
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=60)
# The verifier keys (public) that verify_audit accepts checkpoints from;
# empty: the first checkpoint's key (list old and new keys after a rotation).
AUDIT_CHECKPOINT_VERIFIER_KEYS = env.list("AUDIT_CHECKPOINT_VERIFIER_KEYS", default=[])

# ---------------------------------------------------------------- observability
# /metrics (devlab/metrics.py) answers these addresses (the client IP that
# devlab.http believes), or any client that sends "Authorization: Bearer <METRICS_TOKEN>".
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Error tracking (devlab/error_tracking.py): off unless SENTRY_DSN is set.
with (BASE_DIR / "pyproject.toml").open("rb") as _pyproject:
    _VERSION = tomllib.load(_pyproject)["project"]["version"]
DEVLAB_RELEASE = env.str("DEVLAB_RELEASE", default=f"devlab@{_VERSION}")
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from devlab import error_tracking

    error_tracking.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=DEVLAB_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# ---------------------------------------------------------------- logging
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "devlab.logging.JsonFormatter"}},
    "handlers": {
        "null": {"class": "logging.NullHandler"},
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        **(
            {
                # Every worker appends whole lines; logrotate renames the file
                # and the workers follow (docs/operations.md).
                "audit_file": {
                    "class": "devlab.logging.AppendFileHandler",
                    "formatter": "json",
                    "filename": AUDIT_LOG_FILE,
                    "encoding": "utf-8",
                }
            }
            if AUDIT_LOG_FILE
            else {}
        ),
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # One line per request comes from devlab.request; runserver's own
        # access line would repeat it.
        "django.server": {"handlers": ["null"], "propagate": False},
        # Unhandled exceptions are logged once, with the request id, by devlab.errors.
        "django.request": {"handlers": ["null"], "propagate": False},
        "audit": {
            "handlers": ["stdout", *(["audit_file"] if AUDIT_LOG_FILE else [])],
            "level": "INFO",
            "propagate": False,
        },
    },
}
