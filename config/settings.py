"""Settings for the model governance ledger, read only from environment variables.

Every variable, its default and its meaning is listed in README.md and `.env.example`. The
defaults run the service on a laptop with nothing installed: SQLite, Celery tasks in-process,
local files and a development signing key (only when DJANGO_DEBUG is on).
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_map, env_path, env_str
from config.logs import logging_config
from config.storage import storages

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set when DJANGO_DEBUG is off; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "development-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "ledger",
    "governance",
    "api",
    "console",
    "witness",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RejectNulMiddleware",
    "config.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Identity changes made during a request are logged as the request's user (governance.actors).
    "governance.actors.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for too many failures into the lockout page or JSON error.
    "axes.middleware.AxesMiddleware",
]

# The largest request body: a full batch of 1,000 decisions with 3 KB input snapshots is about
# 3.5 MB of JSON, so the default leaves room for larger snapshots. Over it: 413, payload_too_large.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 10 * 2**20, minimum=1024)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def _database(url: str) -> dict:
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_URL={url!r} is not a database URL ({exc}); "
            "use e.g. postgres://user@host:5432/name or sqlite:///path/to/file.sqlite3"
        ) from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take the write lock up front, so two writers queue instead of
        # deadlocking on a lock upgrade; WAL lets readers proceed while the sequencer writes.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
        # A file, not memory, so tests with several threads share one test database; named by
        # process so that two test runs on one machine do not share it.
        config["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"model-ledger-test-{os.getpid()}.sqlite3")}
    return config


DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    # The embedded default: a SQLite file under VAR_DIR, which a fresh clone does not have yet.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out username or address (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ANONYMOUS_USER_NAME = None
# Sign-in throttling (django-axes): SIGNIN_FAILURE_LIMIT failures for one username, or from one
# address, within SIGNIN_LOCKOUT_MINUTES lock that username (or address) out for as long after the
# last counted failure. The e-signature's password re-entry counts too.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The lockout message names the time it ends, so attempts during a lockout do not move it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# The client's address: the peer's, or behind SIGNIN_PROXY_COUNT proxies the one the first of
# them appended to X-Forwarded-For (a client can write anything before it, so nothing earlier counts).
SIGNIN_PROXY_COUNT = env_int("SIGNIN_PROXY_COUNT", 0, minimum=0)
AXES_IPWARE_PROXY_COUNT = SIGNIN_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if SIGNIN_PROXY_COUNT else ["REMOTE_ADDR"]
# The web console signs people in at its home page and lands them there (console/urls.py).
LOGIN_URL = "console:home"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")

# --- Security: strict unless DEBUG -------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Container health checks call /health over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts, styles and images only from
# this origin, no inline script or style anywhere (the console's JavaScript is a static file),
# forms post only here, and no page may be framed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The console's empty favicon is a data: URL; Swagger UI draws its icons as SVG data.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Django REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer tokens first: their WWW-Authenticate header makes "no credentials" a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.LedgerAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    # DRF's JSON renderer with orjson writing the compact form (api/renderers.py).
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.StrictJSONParser",
        "api.parsers.StrictFormParser",
        "api.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        "write": env_str("API_WRITE_RATE", "1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Model governance ledger API",
    "DESCRIPTION": (
        "Records every machine-learning model version, approval, access grant, deployment and "
        "regulated decision as an entry in an append-only RFC 6962 Merkle log with signed "
        "checkpoints. The ledger endpoints let anyone holding the verifier key check the log."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a `kind`; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "AlertKindEnum": "governance.models.alerts.AlertKind",
        "ObservationKindEnum": "governance.models.monitoring.ObservationKind",
        "ReportKindEnum": "governance.models.reports.ReportKind",
        "LevelEnum": "governance.models.assurance.Level",
        "FindingStateEnum": "governance.models.assurance.FindingState",
        "AiActRoleEnum": [("provider", "Provider"), ("deployer", "Deployer")],
    },
}

# API tokens for pipelines: hashed at rest, expiring, revocable (django-rest-knox).
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)),
    "AUTO_REFRESH": False,
}

# --- Celery ------------------------------------------------------------------------------------
# With no broker, tasks run in-process when they are enqueued (tests, one-off commands). `make run`
# uses a broker that needs no server: kombu's SQLAlchemy transport on a SQLite file under VAR_DIR
# (`sqla+sqlite:///…`), served by a worker with embedded beat, so the laptop runs the same tasks on
# the same schedule as production. (Celery reads CELERY_BROKER_URL from the environment itself.)
_BROKER = env_str("CELERY_BROKER_URL")
CELERY_EMBEDDED_BROKER = (_BROKER or "").startswith("sqla+sqlite:")
CELERY_TASK_ALWAYS_EAGER = not _BROKER
CELERY_BROKER_URL = _BROKER or "memory://localhost/"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

# --- The ledger ----------------------------------------------------------------------------------
LEDGER_ORIGIN = env_str("LEDGER_ORIGIN", "localhost/model-ledger")
LEDGER_SIGNING_KEY_FILE = env_path("LEDGER_SIGNING_KEY_FILE")
# Earlier public keys (verifier key strings, one per line) kept so old checkpoints still verify.
LEDGER_DEV_KEY_DIR = VAR_DIR / "dev-keys"
# Witnesses asked to cosign our checkpoints, as "<URL> <witness verifier key>" items separated
# by commas, and how many of them must cosign before a checkpoint is published as witnessed.
LEDGER_WITNESSES = env_list("LEDGER_WITNESSES", [])
LEDGER_WITNESS_POLICY = env_int("LEDGER_WITNESS_POLICY", 0, minimum=0)
# A witness that has not cosigned a checkpoint signed this many seconds ago raises an alert.
LEDGER_WITNESS_MAX_LAG = env_int("LEDGER_WITNESS_MAX_LAG", 600, minimum=1)
# Our own witness for other logs (manage.py run_witness, /witness/): its cosigning key and the
# logs it follows, as origin=verifier key pairs (several keys for one origin separated by spaces).
WITNESS_SIGNING_KEY_FILE = env_path("WITNESS_SIGNING_KEY_FILE")
WITNESS_LOGS = env_map("WITNESS_LOGS", {})
# Entry bundles under /tlog/ hold the leaves: public only when this is on (hash tiles always are).
LEDGER_PUBLIC_ENTRIES = env_bool("LEDGER_PUBLIC_ENTRIES", False)
LEDGER_CHECKPOINT_INTERVAL = env_int("LEDGER_CHECKPOINT_INTERVAL", 5, minimum=1)
LEDGER_INTEGRATE_INTERVAL = env_int("LEDGER_INTEGRATE_INTERVAL", 5, minimum=1)
# Seconds between vacuums of the submission queue: its dead rows slow every scan until reclaimed.
LEDGER_QUEUE_VACUUM_INTERVAL = env_int("LEDGER_QUEUE_VACUUM_INTERVAL", 30, minimum=1)
# verify_ledger warns about events queued but not sequenced for longer than this.
LEDGER_QUEUE_WARNING_SECONDS = env_int("LEDGER_QUEUE_WARNING_SECONDS", 300, minimum=0)

# --- Reports -----------------------------------------------------------------------------------
REPORT_SIGNING_P12_FILE = env_path("REPORT_SIGNING_P12_FILE")
REPORT_SIGNING_P12_PASSPHRASE_FILE = env_path("REPORT_SIGNING_P12_PASSPHRASE_FILE")
REPORT_TSA_URL = env_str("REPORT_TSA_URL") or None
# PEM file of the root(s) the TSA's certificate chains to, when it is not the seal's own root.
REPORT_TSA_ROOTS_FILE = env_path("REPORT_TSA_ROOTS_FILE")
# Sealed reports and published tiles: directories under VAR_DIR, or S3-compatible buckets that the
# web service and every worker share (REPORT_S3_* and TILE_S3_*; config/storage.py).
STORAGES = storages(VAR_DIR)
CELERY_IMPORTS = ["governance.reports.tasks", "governance.mlflow_import.tasks"]

# --- Gates, monitoring and notifications ------------------------------------------------------
# Deployments to these environments must clear every production gate; others only record them.
PRODUCTION_ENVIRONMENTS = env_list("PRODUCTION_ENVIRONMENTS", ["production", "prod"])
# The gates each risk tier must pass: "all", or gate names (governance.selectors.gates.GATES).
PRODUCTION_GATES = {
    "high": env_list("PRODUCTION_GATES_HIGH", ["all"]),
    "medium": env_list("PRODUCTION_GATES_MEDIUM", ["all"]),
    "low": env_list("PRODUCTION_GATES_LOW", ["all"]),
}
# The embedded mode judges observations every 30 seconds, so a breach opens its alert within a minute.
MONITORING_EVALUATE_INTERVAL = env_int(
    "MONITORING_EVALUATE_INTERVAL", 30 if CELERY_EMBEDDED_BROKER else 300, minimum=1
)
RETRAINING_EVALUATE_INTERVAL = env_int("RETRAINING_EVALUATE_INTERVAL", 3600, minimum=1)
OWNERSHIP_CHECK_INTERVAL = env_int("OWNERSHIP_CHECK_INTERVAL", 3600, minimum=1)
WEBHOOK_SWEEP_INTERVAL = env_int("WEBHOOK_SWEEP_INTERVAL", 30, minimum=1)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30, minimum=1)
# Encrypts webhook secrets at rest; unset, a key derived from SECRET_KEY is used.
WEBHOOK_SECRET_KEY = env_str("WEBHOOK_SECRET_KEY") or None
# Alert email goes through Django's email backend: SMTP, or the console in development.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ledger@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The operators: they are emailed every ERROR of the loggers named in LOGGING below (a witness
# that fails, refuses or falls behind; a server error). Comma-separated addresses.
ADMINS = [(address, address) for address in env_list("ADMINS", [])]

# --- MLflow import ----------------------------------------------------------------------------
# The tracking server and model registry to import from; unset, the periodic import is off.
MLFLOW_TRACKING_URI = env_str("MLFLOW_TRACKING_URI") or None
# The account the import acts as (a pipeline granted `register` on the imported models), and the
# model owner named for models the import creates (only when that account may register models).
MLFLOW_IMPORT_USER = env_str("MLFLOW_IMPORT_USER", "")
MLFLOW_IMPORT_OWNER = env_str("MLFLOW_IMPORT_OWNER", "")
MLFLOW_IMPORT_INTERVAL = env_int("MLFLOW_IMPORT_INTERVAL", 900, minimum=1)
# Verifies the HMAC signature of MLflow registry webhooks; unset, the webhook refuses everything.
MLFLOW_WEBHOOK_SECRET = env_str("MLFLOW_WEBHOOK_SECRET") or None
# MLflow alias -> ledger environment: setting an alias records a deployment (approvals and gates apply).
MLFLOW_ALIAS_ENVIRONMENTS = env_map(
    "MLFLOW_ALIAS_ENVIRONMENTS",
    {"champion": "production", "production": "production", "staging": "staging", "challenger": "staging"},
)

LOGGING = logging_config(env_str("LOG_LEVEL", "INFO"), env_str("CELERY_TRACE_LOG_LEVEL", "WARNING"))
