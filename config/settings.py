"""Ensemble settings: every value comes from the environment.

Without any environment the project runs on its embedded default: SQLite and kombu's filesystem
broker under ``var/``, so ``make run`` needs no external service. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` switch to PostgreSQL and Redis/RabbitMQ. Production hardening lives in
``config/settings_production.py``, which imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path

import django_stubs_ext
import environ

# Lets classes like `admin.ModelAdmin[Team]` be subscripted at run time, as the type stubs want.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
env.read_env(BASE_DIR / ".env")
# Where the embedded default keeps its SQLite file, broker folder, cache and uploads.
VAR_DIR = Path(env.str("ENSEMBLE_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# The fallback key only serves local runs; settings_production refuses to start without SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="ensemble-local-development-key-not-for-production-use-0123456789")
# Old keys still accepted for signatures (sessions, invitation links) while a new key rolls out.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "import_export",
    "axes",
    "csp",
    "apps.core",
    "apps.accounts",
    "apps.workspaces",
    "apps.contacts",
    "apps.segments",
    "apps.personas",
    "apps.approvals",
    "apps.campaigns",
    "apps.delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.RejectNulCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
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
                "apps.workspaces.context_processors.workspace_shell",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ensemble.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server, worker and beat write at once in `make run`: WAL plus a busy timeout and
    # IMMEDIATE transactions keep "database is locked" away.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
else:
    # A new PostgreSQL connection costs ~6.5 ms; persistent connections served ~4.7x more requests.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The embedded default shares a file cache between web, worker and beat; use redis:// in production.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# --- Auth ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock an (username, IP) pair out after repeated failures, for one hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "apps.accounts.security.login_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many reverse proxies append to X-Forwarded-For: the client address is read behind them.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if PROXY_COUNT else ["REMOTE_ADDR"]
)

INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

# Contact list imports: caps with clear messages, never a 500.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=2_000_000)
# PostgreSQL imports merge each batch in a thread of their own while the next is cleaned.
IMPORT_BACKGROUND_WRITER = env.bool("IMPORT_BACKGROUND_WRITER", default=True)
# ... and clean batches in this many helper processes while the importing process reads and stages,
# so the phase uses every core (0: clean in the importing process). Files of one batch start none.
IMPORT_CLEANING_HELPERS = env.int("IMPORT_CLEANING_HELPERS", default=2)
# ... and merge the file's people in this many lanes at once, each a connection and a transaction of
# its own (a crash between their commits keeps the lanes that committed; the job says which).
IMPORT_MERGE_LANES = env.int("IMPORT_MERGE_LANES", default=2)
# Uploaded lists and rejected-rows reports hold personal data: deleted this many days after the import.
IMPORT_RETENTION_DAYS = env.int("IMPORT_RETENTION_DAYS", default=30)

# --- Internationalisation and time ----------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production WhiteNoise serves straight from static/, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# --- Email ----------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# A real email service provider through django-anymail, e.g. EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend
# with ANYMAIL_MAILGUN_API_KEY=...: every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"].
if env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ensemble <no-reply@ensemble.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Campaign channels -----------------------------------------------------------------------------
# Text messages go through a backend like Django's email backends: console (default), file, locmem.
SMS_BACKEND = env.str("SMS_BACKEND", default="apps.core.sms.ConsoleSmsBackend")
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms")))
# Messages per minute a channel item sends when it names no throttle of its own.
CHANNEL_THROTTLE_PER_MINUTE = {
    "email": env.int("EMAIL_THROTTLE_PER_MINUTE", default=6000),
    "sms": env.int("SMS_THROTTLE_PER_MINUTE", default=600),
    "webhook": env.int("WEBHOOK_THROTTLE_PER_MINUTE", default=1200),
}
# Inbound texts (STOP/START) arrive at /d/sms/inbound/<workspace>/ signed with HMAC-SHA256 of the raw
# body under this secret (header X-Ensemble-Signature). Empty: the endpoint answers 503.
SMS_INBOUND_SECRET = env.str("SMS_INBOUND_SECRET", default="")
# The mailbox of each email's List-Unsubscribe mailto: the token goes in as "+<token>" before the @.
# Empty: unsubscribe@<the domain of the item's from address>.
UNSUBSCRIBE_MAILTO = env.str("UNSUBSCRIBE_MAILTO", default="")
# Webhooks never connect to loopback, private, link-local, reserved or multicast addresses (checked
# at connect time) unless this is on: for tests against a local server only.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
# The generic JSON-over-HTTPS SMS provider (SMS_BACKEND=apps.delivery.channels.sms.HttpSmsBackend).
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_FROM = env.str("SMS_HTTP_FROM", default="")
SMS_HTTP_ALLOW_PRIVATE_ADDRESSES = env.bool("SMS_HTTP_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- Celery ----------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: one folder is both inbox and outbox, so web, worker and beat
    # share it without any service running.
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    # One static entry a minute: the worker records that beat and a worker are alive (see /healthz).
    "heartbeat": {"task": "core.record_heartbeat", "schedule": 60.0},
    "refresh-contact-ages": {"task": "contacts.refresh_ages", "schedule": 24 * 60 * 60.0},
    "purge-import-files": {"task": "contacts.purge_import_files", "schedule": 24 * 60 * 60.0},
    # The delivery engine's wake-up call: launch due items, sweep, wake workers.
    "delivery-tick": {"task": "delivery.tick", "schedule": env.float("DELIVERY_TICK_SECONDS", default=60.0)},
}
# Delivery engine: batches, retries, the sweeper's patience, auto-pause.
DELIVERY_BATCH_SIZE = env.int("DELIVERY_BATCH_SIZE", default=500)
DELIVERY_SEND_LANES = env.int("DELIVERY_SEND_LANES", default=3)
DELIVERY_PARALLEL_TASKS = env.int("DELIVERY_PARALLEL_TASKS", default=2)
DELIVERY_TASK_SECONDS = env.float("DELIVERY_TASK_SECONDS", default=55.0)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=60.0)
DELIVERY_RETRY_CAP_SECONDS = env.float("DELIVERY_RETRY_CAP_SECONDS", default=6 * 3600.0)
DELIVERY_CLAIM_TIMEOUT_SECONDS = env.float("DELIVERY_CLAIM_TIMEOUT_SECONDS", default=300.0)
DELIVERY_SENDING_TIMEOUT_SECONDS = env.float("DELIVERY_SENDING_TIMEOUT_SECONDS", default=300.0)
DELIVERY_PAUSE_ERROR_RATE = env.float("DELIVERY_PAUSE_ERROR_RATE", default=0.5)
DELIVERY_PAUSE_MIN_ATTEMPTS = env.int("DELIVERY_PAUSE_MIN_ATTEMPTS", default=20)

# --- REST API ------------------------------------------------------------------------------------
# The largest request body Django reads. Its 2.5 MB default is below a bulk upsert of 10,000 contacts
# with every field (~8.5 MB); 20 MB leaves room for tags and custom fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=20 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.workspaces.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.workspaces.permissions.HasWorkspaceRole"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Without a proxy, X-Forwarded-For is the client's to forge: throttle on REMOTE_ADDR then.
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api_errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ensemble API",
    "DESCRIPTION": (
        "One omnichannel marketing plan for product, sales, support and marketing. "
        "Authenticate with `Authorization: Bearer <key>` (an API token scoped to one workspace) "
        "or a browser session (pick the workspace with the `X-Workspace` header)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # One name for a choice set that several fields share (email_consent, sms_consent).
    "ENUM_NAME_OVERRIDES": {
        "ConsentEnum": "apps.contacts.choices.Consent",
        "ImportStatusEnum": "apps.contacts.choices.ImportStatus",
        # Contacts and personas share these choice sets; the names are the contacts' fields'.
        "GenderEnum": "apps.contacts.choices.Gender",
        "MaritalStatusEnum": "apps.contacts.choices.MaritalStatus",
        "HouseholdIncomeBandEnum": "apps.contacts.choices.IncomeBand",
        "EducationLevelEnum": "apps.contacts.choices.EducationLevel",
        # Campaigns: the channel item's channel and status (other models have a `status` too).
        "ChannelEnum": "apps.campaigns.choices.ChannelKind",
        "ChannelItemStatusEnum": "apps.campaigns.choices.ItemStatus",
    },
    # Interactive docs work offline: Swagger UI is served from drf-spectacular-sidecar, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Admin import/export -------------------------------------------------------------------------
# Importing through the admin needs the explicit "import_<model>" permission, not just "add".
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- Content-Security-Policy: the app's own pages carry no inline script or style. ----------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging ----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
