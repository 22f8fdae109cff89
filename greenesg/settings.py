"""GreenESG settings: one module, every value from the environment (see .env.example).

Embedded default: SQLite and a filesystem Celery broker under ./var, no external server.
`DATABASE_URL=postgres://…` and `CELERY_BROKER_URL=redis://…` switch to PostgreSQL and Redis.
`GREENESG_MODE=production` refuses to start without a secret key or with DEBUG on.
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from greenesg.env import (
    cache_key_prefix,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GREENESG_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_str("GREENESG_MODE", "development")
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured(f"GREENESG_MODE must be development or production, not {MODE!r}")
PRODUCTION = MODE == "production"
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless asked for (DEBUG=1), also for `make run`: a newcomer must see our error pages, not Django's debug
# page with settings and tracebacks.
DEBUG = env_bool("DEBUG", default=False)
_secret = env_secret("SECRET_KEY")
if PRODUCTION:
    if not _secret:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production mode")
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production mode")
# Demo mode (`make run` sets GREENESG_DEMO=1): the login page lists the demo logins and their password.
DEMO_MODE = env_bool("GREENESG_DEMO", default=False)
if PRODUCTION and DEMO_MODE:
    raise ImproperlyConfigured(
        "GREENESG_DEMO prints the demo logins and their password on the login page: not in production mode"
    )
SECRET_KEY = _secret or "dev-only-greenesg-key-not-for-production-0123456789abcdefghijklmnop"
# Tokens are peppered with their own secret so that rotating SECRET_KEY does not revoke every CI token.
TOKEN_PEPPER = env_secret("TOKEN_PEPPER") or SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_prometheus",
    "greenesg.accounts",
    "greenesg.footprint",
    "steering",
    "esg",
    "ingestion",
    "reports",
    "demo",
]

MIDDLEWARE = [
    # First and last: django-prometheus times every request, per view (docs/operations.md §10).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "greenesg.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which serves static files pre-compressed; above everything that writes the body. An
    # overview page at 1,000 projects (60 KB of HTML) is ~8x smaller gzipped (docs/security.md §9 on BREACH).
    "greenesg.middleware.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "greenesg.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "greenesg.urls"
WSGI_APPLICATION = "greenesg.wsgi.application"

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
                "greenesg.accounts.context_processors.org_navigation",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(_database_url) if _database_url else sqlite_database(VAR_DIR / "greenesg.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Argon2 (memory-hard) for new and upgraded hashes; the PBKDF2 ones still verify and are rehashed on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out (username, IP) pairs before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The client address comes from greenesg/accounts/client_ip.py, the same answer the token audit and the
# bad-token limiter use. Behind the TLS proxy it is the proxy's X-Forwarded-For entry, not REMOTE_ADDR
# (the proxy itself): otherwise anyone could lock a named account for every user.
AXES_CLIENT_IP_CALLABLE = "greenesg.accounts.client_ip.client_ip"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
# How many proxies append to X-Forwarded-For in front of the app (the client is that many from the right).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
# Failed token authentications from one client address per fixed window before answering 429.
BAD_TOKEN_LIMIT = env_int("BAD_TOKEN_LIMIT", 20)
BAD_TOKEN_WINDOW_SECONDS = env_int("BAD_TOKEN_WINDOW_SECONDS", 300)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# Serve static files straight from the source folders unless collectstatic ran (production).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# User uploads live outside the static root so the PDF fetcher (which allows static files only)
# can never reach them.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Uploads waiting for a worker (ingestion/storage.py, docs/operations.md §9). Several machines share them
# through one volume (IMPORTS_STORAGE_LOCATION) or any Django storage backend (IMPORTS_STORAGE_BACKEND, for
# example "storages.backends.s3.S3Storage" from django-storages, configured by its own AWS_* settings).
# Without a location the files follow MEDIA_ROOT.
_imports_location = env_str("IMPORTS_STORAGE_LOCATION", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "imports": {
        "BACKEND": env_str("IMPORTS_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {"location": _imports_location} if _imports_location else {},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: Django has no file cap of its own; ours counts bytes while streaming
# (LimitedUploadHandler in ingestion/forms.py and ingestion.storage.store_chunks).
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 1024 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = None
# Days a finished import's uploaded file is kept; then the nightly sweep deletes the file and keeps the job, its
# sha256 and row errors (docs/operations.md §7.1). 0 or empty keeps uploads forever (the default: they are the
# evidence behind reported figures, so deleting them is the operator's choice).
UPLOAD_RETENTION_DAYS = env_int("GREENESG_UPLOAD_RETENTION_DAYS", 0)
if UPLOAD_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("GREENESG_UPLOAD_RETENTION_DAYS must be 0 (keep forever) or a number of days")
# Billing archives are read as streams and refused as soon as they pass one of these (docs/security.md §5):
# decompressed bytes in all, decompressed bytes per byte of the upload (after the first MiB), and the longest row
# (one CSV block: an endless line is refused after one block instead of being held in memory).
BILLING_MAX_DECOMPRESSED_BYTES = env_int("BILLING_MAX_DECOMPRESSED_BYTES", 4 * 2**30)
BILLING_MAX_COMPRESSION_RATIO = env_int("BILLING_MAX_COMPRESSION_RATIO", 200)
BILLING_MAX_ROW_BYTES = env_int("BILLING_MAX_ROW_BYTES", 2**20)

# Import jobs: a claimed job holds a lease that the worker renews per chunk; an expired lease
# means the worker died and the job may be claimed again (docs/operations.md §4.2).
IMPORT_LEASE_SECONDS = env_int("IMPORT_LEASE_SECONDS", 120)
IMPORT_MAX_ATTEMPTS = env_int("IMPORT_MAX_ATTEMPTS", 3)
IMPORT_STALE_PENDING_SECONDS = env_int("IMPORT_STALE_PENDING_SECONDS", 300)
# Test hook for the worker-kill integration test: block after N parsed rows until a marker file goes.
IMPORT_TEST_BARRIER = env_str("IMPORT_TEST_BARRIER", "")

# Celery: embedded filesystem broker by default, Redis when CELERY_BROKER_URL says so.
# "localhost" only keeps kombu from warning: the filesystem transport has no host.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)
if EMBEDDED_BROKER:
    # A folder is the queue, so a laptop needs no Redis (kombu's filesystem transport).
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables; without this kombu writes ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        # kombu's Redis transport with one guard: a Redis outage during a task must not stop the worker
        # (greenesg/broker.py says why).
        CELERY_BROKER_TRANSPORT = "greenesg.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers unacked messages after this timeout; it must exceed the longest import.
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # A Redis that is gone (host down, network cut) shows up as an error within seconds instead of a
        # connection that hangs; keepalive notices a silently dropped TCP connection.
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 25,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep reconnecting for as long as the broker is down (Celery's default gives up after 100 attempts,
# about 45 minutes, and the worker exits); a supervisor restarts a worker that dies for other reasons.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # job state lives in our own rows, not in a result backend
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"ingestion.tasks.*": {"queue": "ingest"}, "reports.tasks.*": {"queue": "reports"}}
CELERY_QUEUE_NAMES = ("ingest", "reports", CELERY_TASK_DEFAULT_QUEUE)  # measured by /metrics
CELERY_TASK_TIME_LIMIT = 4 * 3600
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 3600 - 300
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Resident memory (KiB) after which a worker child is replaced once its task ends (prefork pool): a child that
# leaks or keeps a large import's memory does not hold it for the next task. 0 disables the limit.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 1_000_000) or None
# An acks_late task cannot acknowledge through a lost connection: stop it, and let redelivery or the
# reconciler run it again once its lease has expired (the job claim keeps that to one effect).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Every minute: re-publish import jobs whose message was lost and free expired leases.
    "import-job-reconcile": {
        "task": "ingestion.tasks.import_job_reconcile",
        "schedule": crontab(minute="*"),
        "options": {"expires": 90},
    },
    # Every minute: the same for the ESRS other-activities CSV imports (their own job rows).
    "other-activities-import-reconcile": {
        "task": "reports.tasks.other_activities_import_reconcile",
        "schedule": crontab(minute="*"),
        "options": {"expires": 90},
    },
    # Every minute: re-publish ESRS reports whose generation message was lost (still queued).
    "report-queue-reconcile": {
        "task": "reports.tasks.report_queue_reconcile",
        "schedule": crontab(minute="*"),
        "options": {"expires": 90},
    },
    # 03:40 UTC every day: delete stored uploads of finished imports older than GREENESG_UPLOAD_RETENTION_DAYS.
    "upload-retention-sweep": {
        "task": "ingestion.tasks.upload_retention_sweep",
        "schedule": crontab(minute=40, hour=3),
        "options": {"expires": 3600},
    },
    # 06:15 UTC on days 1–7 of each month: draft each organisation's last closed fiscal quarter if it has
    # no report yet (fiscal quarters may end in any month; a second run finds the draft and does nothing).
    "esrs-quarter-close-drafts": {
        "task": "reports.tasks.report_quarter_close_drafts",
        "schedule": crontab(minute=15, hour=6, day_of_month="1-7"),
        "options": {"expires": 3600},
    },
}

CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            # Django's RedisCache, turned into a cache miss while Redis is down (greenesg/cache.py).
            "BACKEND": "greenesg.cache.DegradingRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": cache_key_prefix(DATABASES["default"]),
        }
    }
else:
    # File cache: shared by the web server and the embedded worker without another service.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": cache_key_prefix(DATABASES["default"]),
        }
    }

# Signing an ESRS report lists, among its open items, a share of billed cloud cost above this that could not be
# estimated (percent).
REPORT_SIGN_UNESTIMATED_COST_LIMIT_PERCENT = env_int("REPORT_SIGN_UNESTIMATED_COST_LIMIT_PERCENT", 5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "greenesg.accounts.authentication.ProjectTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # Project tokens: 404 outside their project, then 403 without the scope (ingest / read / ci-gate).
        "greenesg.accounts.scopes.TokenScopePermission",
    ],
    # DRF's per-address throttles (the live endpoint) read X-Forwarded-For like client_ip() does.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT if BEHIND_TLS_PROXY else 0,
    "DEFAULT_PAGINATION_CLASS": "greenesg.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "greenesg.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"ingest": env_str("INGEST_THROTTLE_RATE", "120/min"), "live": "600/min"},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GreenESG API",
    "DESCRIPTION": "Ingest codecarbon runs and query project footprints. Errors are JSON: "
    '{"error": {"code": "...", "message": "...", "details": ...}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No request leaves the site: Swagger UI would otherwise send the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "greenesg.api.schema_error_responses",
        "greenesg.api.schema_examples",
    ],
}

# Security headers. HSTS starts low (cookiecutter-django's advice) and is raised once proven.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 10 * 3600
# Sessions live in the database and are read through the cache (a copy of at most 5 minutes): no session query
# on most pages (greenesg/accounts/sessions.py says why the copy is short).
SESSION_ENGINE = "greenesg.accounts.sessions"
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes come over plain http from inside the deployment (compose, a load balancer's health check).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Secure-sessionid"
    CSRF_COOKIE_NAME = "__Secure-csrftoken"
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Optional live grid-intensity provider for region advice (Electricity Maps style API); the factor
# registry is used when these are empty or the provider fails.
GRID_INTENSITY_API_URL = env_str("GRID_INTENSITY_API_URL", "")
GRID_INTENSITY_API_TOKEN = env_secret("GRID_INTENSITY_API_TOKEN") or ""
GRID_INTENSITY_TIMEOUT_S = env_int("GRID_INTENSITY_TIMEOUT_S", 3)

# Budget webhooks (steering/webhook.py): plain http only outside production, and an optional
# allow-list of host names (".example.org" = its subdomains) and IP networks (the only way to let a webhook
# reach an internal address).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", default=not PRODUCTION)
if PRODUCTION and WEBHOOK_ALLOW_HTTP:
    raise ImproperlyConfigured("WEBHOOK_ALLOW_HTTP must be off in production mode: webhooks go over https")
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", [])

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "greenesg@localhost")

# One line per record on stdout; LOG_FORMAT=json writes JSON objects (python-json-logger) for log collectors.
# Every record carries request_id, task_id and job_id (greenesg/observability.py).
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # The live codecarbon endpoint carries its token in the URL path (codecarbon sends no header).
        "hide_tokens": {"()": "greenesg.logging.HideTokensFilter"},
        "context": {"()": "greenesg.observability.ContextFilter"},
        "client_errors_one_line": {"()": "greenesg.logging.ClientErrorsWithoutTraceback"},
        "skip_logged_client_errors": {"()": "greenesg.logging.SkipLoggedClientErrors"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s%(context)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id", "task_id", "job_id"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        # Django's own format for the development server's request lines (redefined here to add the filter).
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["hide_tokens", "context"],
            "formatter": LOG_FORMAT,
        },
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["hide_tokens"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint and fontTools narrate every layout step at INFO.
        **{name: {"level": "WARNING"} for name in ("django.db.backends", "weasyprint", "fontTools")},
        # django-axes announces its version and lock-out mode at INFO on every start of every process (banner
        # noise in `make run` and each management command); its lock-out warnings come from other loggers.
        "axes.apps": {"level": "WARNING"},
        # 403/404 are answers, not crashes: one line each, no traceback (greenesg/logging.py).
        "django.request": {"filters": ["client_errors_one_line"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["skip_logged_client_errors"],
        },
    },
}

# Prometheus metrics at /metrics (greenesg/observability.py): loopback by default, or a bearer token.
METRICS_TOKEN = env_secret("METRICS_TOKEN") or ""
METRICS_ALLOWED_IPS = [net.strip() for net in env_str("METRICS_ALLOWED_IPS", "127.0.0.1/32,::1/128").split(",")]
