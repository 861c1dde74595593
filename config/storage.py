"""Where uploaded media live in production: an S3-compatible object store (django-storages).

Django itself serves no media in production (config.urls adds /media/ only with DEBUG), and a
web process should not stream videos anyway. The store answers the browser directly, with HTTP
Range requests, so video seeking works: AWS S3, MinIO (docker-compose.yml), or any S3 API.

Environment (read by config/settings/production.py):
  PATHWISE_S3_BUCKET           the bucket; unset keeps media on the local disk (DJANGO_MEDIA_ROOT),
                               for a deployment that puts a web server in front of it instead
  PATHWISE_S3_ENDPOINT_URL     the S3 API for MinIO or another store (unset: AWS)
  PATHWISE_S3_REGION           the region (AWS), e.g. eu-west-1
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY   credentials (or the instance's IAM role)
  PATHWISE_S3_PUBLIC_URL       a public base URL (a CDN, or a public-read bucket such as the
                               compose MinIO's): media URLs are then plain, not signed
  PATHWISE_S3_URL_EXPIRY       seconds a signed media URL stays valid (default 6 hours: a page
                               opened now can still seek in its video much later)
"""

from typing import Any
from urllib.parse import urlsplit


def s3_media_settings(env: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The `default` entry of STORAGES for S3 media, and the origins media are loaded from.

    (None, []) when no bucket is configured.
    """
    bucket = env("PATHWISE_S3_BUCKET", default="")
    if not bucket:
        return None, []
    endpoint = env("PATHWISE_S3_ENDPOINT_URL", default="") or None
    region = env("PATHWISE_S3_REGION", default="") or None
    public_url = env("PATHWISE_S3_PUBLIC_URL", default="").rstrip("/")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": region,
        # Signature v4 is what MinIO and every current AWS region accept.
        "signature_version": "s3v4",
        # Uploads never overwrite each other: a second "intro.mp4" gets a new name.
        "file_overwrite": False,
        # Objects are private unless a public URL says the bucket (or a CDN) serves them.
        "default_acl": None,
        "querystring_auth": not public_url,
        "querystring_expire": env.int("PATHWISE_S3_URL_EXPIRY", default=6 * 3600),
        # Media are immutable once uploaded (new uploads get new names): let browsers keep them.
        "object_parameters": {"CacheControl": "max-age=86400"},
    }
    if endpoint:
        # MinIO and most S3-compatible stores want path-style addresses (host/bucket/key).
        options["addressing_style"] = "path"
    origins: list[str] = []
    if public_url:
        split = urlsplit(public_url)
        options["custom_domain"] = f"{split.netloc}{split.path}"
        options["url_protocol"] = f"{split.scheme}:"
        origins.append(f"{split.scheme}://{split.netloc}")
    elif endpoint:
        split = urlsplit(endpoint)
        origins.append(f"{split.scheme}://{split.netloc}")
    else:
        origins.append(f"https://{bucket}.s3.{region or 'us-east-1'}.amazonaws.com")
        origins.append("https://*.amazonaws.com")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, origins
