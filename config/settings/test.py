"""Test settings: real PostgreSQL and Redis (started by `make test`), fast hashing, eager Celery."""

from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR, env

DEBUG = False
SECRET_KEY = "pathwise-test-key"  # noqa: S105 - tests only
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pathwise"),
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
PATHWISE_MODEL_ROOT = Path(env("PATHWISE_MODEL_ROOT", default=str(VAR_DIR / "test-models")))
# Unit tests run tasks in-process; integration tests start a real worker against Redis.
# (A worker started by an integration test sets CELERY_TASK_ALWAYS_EAGER=false.)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,  # noqa: F405
    "socket_connect_timeout": 0.5,
    "socket_timeout": 5,
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
