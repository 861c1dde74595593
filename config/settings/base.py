"""Settings shared by every environment; values come from the environment (.env.example)."""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env

VAR_DIR = Path(env("PATHWISE_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "axes",
    "courses",
    "learners",
    "adaptive",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the outcome of every login (web and API token) it must answer.
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# Embedded default: SQLite under var/, so `make run` needs no server; PostgreSQL with DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pathwise.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# A kept connection is checked before reuse: after a database restart the first request of each
# process reconnects instead of failing on the dead connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "learners.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id (argon2-cffi) at OWASP's parameters (config/hashers.py): about 0.02 s of one core per
# login, where PBKDF2's 1,000,000 iterations cost 0.21 s and made a burst of 50 logins queue
# behind each other on two cores (bench/web_load.py --logins). It is memory-hard, so it is also
# the stronger choice; PBKDF2 stays listed so that older hashes still verify and are upgraded at
# the next login. PATHWISE_PASSWORD_HASHER=pbkdf2_sha256 puts PBKDF2 first (the benchmark's
# baseline, or a host without argon2-cffi).
_PASSWORD_HASHERS = {
    "argon2": "config.hashers.Argon2idPasswordHasher",
    "pbkdf2_sha256": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "scrypt": "django.contrib.auth.hashers.ScryptPasswordHasher",
}
_PASSWORD_HASHER_FIRST = env("PATHWISE_PASSWORD_HASHER", default="argon2")
if _PASSWORD_HASHER_FIRST not in _PASSWORD_HASHERS:
    raise ImproperlyConfigured(
        f"PATHWISE_PASSWORD_HASHER must be one of {', '.join(_PASSWORD_HASHERS)}, "
        f"not {_PASSWORD_HASHER_FIRST!r}"
    )
PASSWORD_HASHERS = [
    _PASSWORD_HASHERS[_PASSWORD_HASHER_FIRST],
    *(path for name, path in _PASSWORD_HASHERS.items() if name != _PASSWORD_HASHER_FIRST),
]
# Login throttling (django-axes): the lockout check first, then the ordinary password check.
AUTHENTICATION_BACKENDS = [
    "config.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Proxies in front of the web process that append to X-Forwarded-For (a load balancer: 1).
# With 0, the client address is REMOTE_ADDR and X-Forwarded-For is ignored.
PATHWISE_TRUSTED_PROXIES = env.int("PATHWISE_TRUSTED_PROXIES", default=0)
# Failures count per account *and* client address: an attacker elsewhere cannot lock a real
# user out, and a lockout ends by itself after the cool-off (or on a password reset).
AXES_FAILURE_LIMIT = env.int("PATHWISE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("PATHWISE_LOGIN_COOLOFF_MINUTES", default=10))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
AXES_USERNAME_CALLABLE = "config.security.login_username"
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "learners:login"
LOGIN_REDIRECT_URL = "adaptive:dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("PATHWISE_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Oversized request bodies are refused by Django before any parsing (answered as HTTP 400).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("PATHWISE_MAX_BODY_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Uploaded media: extension, content type and size are checked by courses.validators.
PATHWISE_MAX_UPLOAD_BYTES = env.int("PATHWISE_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
PATHWISE_MAX_IMAGE_BYTES = env.int("PATHWISE_MAX_IMAGE_BYTES", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A 503 during a database outage tells clients to retry after this many seconds.
PATHWISE_RETRY_AFTER_SECONDS = env.int("PATHWISE_RETRY_AFTER_SECONDS", default=10)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous refusal a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "config.api.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.schema.PathwiseAutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "config.parsers.BoundedFormParser",
        "config.parsers.BoundedMultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("PATHWISE_THROTTLE_ANON", default="600/min"),
        "user": env("PATHWISE_THROTTLE_USER", default="3000/min"),
        # Token requests per client address, on top of axes' per-account lockout.
        "login": env("PATHWISE_THROTTLE_LOGIN", default="30/min"),
    },
    # The client address behind our proxies (config.security.client_ip counts the same way):
    # DRF's default, None, would key throttles on whatever X-Forwarded-For the client sends.
    "NUM_PROXIES": PATHWISE_TRUSTED_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Pathwise API",
    "DESCRIPTION": "Courses, learners and adaptive learning paths.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations are tagged by resource (courses, attempts...) rather than all under "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI is served from vendored files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.email_may_be_blank",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ExerciseKindEnum": "courses.models.Exercise.Kind",
        "LessonBlockKindEnum": "courses.models.LessonBlock.Kind",
        "ModelVersionKindEnum": "adaptive.models.ModelVersion.Kind",
        "PathStepKindEnum": "adaptive.models.PathStep.Kind",
        "LanguageEnum": LANGUAGES,
    },
}

# Celery: Redis when REDIS_URL is set, else the filesystem broker under var/ (embedded default).
# Delivery is sized per queue (docs/adaptive-loop.md, "Delivery and outages"):
# - `default` (online updates, beat tasks): seconds-long tasks, acknowledged after they ran, and
#   a visibility timeout of a minute, so a killed worker's update is redelivered within about a
#   minute; a lost one is caught up by `learners_reconcile_task` anyway.
# - `ml` (training, refreshes): hours-long tasks, acknowledged on receipt so that the short
#   visibility timeout never hands a live training to a second worker; a run whose worker dies
#   is found by its stale heartbeat (`training_runs_reap_task`) and retried a bounded number of
#   times.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=60)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # A web request publishing to a Redis that is away gives up within about a second.
        "socket_connect_timeout": 0.5,
        "socket_timeout": 5,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Kombu's filesystem transport needs both folders; one shared folder is both in and out.
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "control_folder": str(VAR_DIR / "celery-control"),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "store_processed": False,
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    }
# No result backend: nothing reads task results, and a backend on the request path is what made
# requests hang for the whole of a Redis outage (its reconnect loop runs inside `delay`).
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Publishing (from web requests too) tries twice, briefly, then raises: the attempt is stored and
# the reconciliation task folds it in once the broker is back.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Training and batch inference go to the GPU worker; everything else stays on `default`.
CELERY_TASK_ROUTES = {"adaptive.ml_tasks.*": {"queue": "ml"}}
# autodiscover finds each app's tasks.py; the ml queue's module is named here.
CELERY_IMPORTS = ("adaptive.ml_tasks",)
# Each task states its own acknowledgement and limits (adaptive/tasks.py, adaptive/ml_tasks.py);
# these defaults fit the short `default` tasks and stay below the visibility timeout.
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 40
CELERY_TASK_TIME_LIMIT = 50
# Training only: hours, with the soft limit first so the run is marked failed with a reason.
PATHWISE_TRAINING_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT_SECONDS", default=3 * 3600)
PATHWISE_TRAINING_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT_SECONDS", default=3 * 3600 + 600)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Training runs: a heartbeat every few seconds; a run silent for longer than the stale limit
# lost its worker and is failed, then retried until it has had PATHWISE_RUN_MAX_ATTEMPTS tries.
PATHWISE_RUN_HEARTBEAT_SECONDS = env.float("PATHWISE_RUN_HEARTBEAT_SECONDS", default=10)
PATHWISE_RUN_STALE_SECONDS = env.float("PATHWISE_RUN_STALE_SECONDS", default=120)
PATHWISE_RUN_MAX_ATTEMPTS = env.int("PATHWISE_RUN_MAX_ATTEMPTS", default=3)
# Path refresh fanned out over the `default` workers (adaptive.services.path_refresh_fanout):
# a chunk holds at most this many learners, and at most CELLS learner x skill estimates, so a
# chunk task stays a few seconds, far below its 40 s soft limit on a course of many skills. A
# running refresh with no chunk done for STALE seconds gets its missing chunks sent again, at
# most MAX_DISPATCHES sends in all; then it is failed.
PATHWISE_REFRESH_CHUNK_LEARNERS = env.int("PATHWISE_REFRESH_CHUNK_LEARNERS", default=1000)
PATHWISE_REFRESH_CHUNK_CELLS = env.int("PATHWISE_REFRESH_CHUNK_CELLS", default=55_000)
PATHWISE_REFRESH_STALE_SECONDS = env.float("PATHWISE_REFRESH_STALE_SECONDS", default=120)
PATHWISE_REFRESH_MAX_DISPATCHES = env.int("PATHWISE_REFRESH_MAX_DISPATCHES", default=3)
# Retrain requests per course: one open run per scope, and at most this many in the window.
PATHWISE_RETRAIN_MAX_REQUESTS = env.int("PATHWISE_RETRAIN_MAX_REQUESTS", default=5)
PATHWISE_RETRAIN_WINDOW_SECONDS = env.int("PATHWISE_RETRAIN_WINDOW_SECONDS", default=3600)
# Reconciliation: learners whose newest attempt (older than the grace period, so the online
# update had its chance) is not in their state, looked for among this many hours of attempts.
PATHWISE_RECONCILE_GRACE_SECONDS = env.float("PATHWISE_RECONCILE_GRACE_SECONDS", default=3)
PATHWISE_RECONCILE_LOOKBACK_HOURS = env.float("PATHWISE_RECONCILE_LOOKBACK_HOURS", default=24)
PATHWISE_RECONCILE_BATCH = env.int("PATHWISE_RECONCILE_BATCH", default=500)

PATHWISE_MODEL_ROOT = Path(env("PATHWISE_MODEL_ROOT", default=str(VAR_DIR / "models")))
# Planner: a skill counts as mastered at this probability. BKT estimates P(known); a GRU
# estimates P(correct on the next attempt), which slips keep below 1, hence its own threshold.
PATHWISE_MASTERY_THRESHOLD = env.float("PATHWISE_MASTERY_THRESHOLD", default=0.95)
# Class dashboards of up to this many learners are recomputed in the page view when behind;
# larger ones by a debounced task (adaptive/services/class_summary.py).
PATHWISE_CLASS_SUMMARY_INLINE_LEARNERS = env.int(
    "PATHWISE_CLASS_SUMMARY_INLINE_LEARNERS", default=300
)
PATHWISE_GRU_MASTERY_THRESHOLD = env.float("PATHWISE_GRU_MASTERY_THRESHOLD", default=0.85)
PATHWISE_PATH_MAX_STEPS = env.int("PATHWISE_PATH_MAX_STEPS", default=5)

# Content-Security-Policy (django-csp): scripts and styles only from our origin, or inline with
# the per-response nonce (Swagger UI's start-up script). Our pages have no inline script; htmx runs
# with allowEval off and its indicator styles off (templates/base.html, meta htmx-config).
# style-src-attr allows style="" attributes only (the mastery bars' widths, KaTeX's and the
# admin's layout); attribute styles cannot run script. PATHWISE_MEDIA_ORIGINS adds the origin of
# an S3-compatible media store (config/settings/production.py) to images and media.
PATHWISE_MEDIA_ORIGINS = env.list("PATHWISE_MEDIA_ORIGINS", default=[])
# True when media are served from another origin (production with an S3 bucket): the players
# then load them with CORS, which captions need.
PATHWISE_MEDIA_CROSS_ORIGIN = False
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        # data: for the inline SVG icons of Swagger UI's and the admin's style sheets.
        "img-src": [SELF, "data:", *PATHWISE_MEDIA_ORIGINS],
        "media-src": [SELF, *PATHWISE_MEDIA_ORIGINS],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("PATHWISE_LOG_LEVEL", default="INFO")},
}
