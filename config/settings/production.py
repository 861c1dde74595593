"""Production settings: no default secret, DEBUG off, HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import CONTENT_SECURITY_POLICY, STORAGES, env
from config.storage import s3_media_settings

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
# The development key is public (it is in local.py); an empty or short key is no secret.
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("pathwise-local-development-key"):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a private value of at least 32 characters in production."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Every cookie we set travels over HTTPS only (the language cookie too: learners.views and
# Django's set_language read these settings).
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")

# Uploaded media in an S3-compatible store when PATHWISE_S3_BUCKET is set (config/storage.py);
# the browser loads them from there, so the policy names that origin for images and media.
_media_storage, _media_origins = s3_media_settings(env)
# Media from another origin: captions (<track>) load only with CORS, so the players ask for it
# (crossorigin="anonymous"); the store must answer with CORS headers (MinIO does by default; an
# AWS bucket needs a CORS rule: docs/hardening.md).
PATHWISE_MEDIA_CROSS_ORIGIN = _media_storage is not None
if _media_storage is not None:
    STORAGES = {**STORAGES, "default": _media_storage}
    _directives = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    for _directive in ("img-src", "media-src"):
        _directives[_directive] = [*_directives[_directive], *_media_origins]
