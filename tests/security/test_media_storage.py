"""Uploads under production-style storage: stored in an S3-compatible server, played back with
HTTP Range requests straight from it (the way the browser seeks in a video).

The server is moto's S3 server (`moto[server]` from PyPI), started here as its own process on a
free port: a real HTTP server speaking the S3 API, as MinIO does in docker-compose.yml.
"""

import html
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import environ
import pytest
from django.core.files.storage import storages
from django.test import Client, override_settings
from rest_framework.test import APIClient

from config.storage import s3_media_settings
from courses.models import LessonBlock
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    ModuleFactory,
    TeacherFactory,
    UserFactory,
)

MEDIA = Path(__file__).resolve().parents[1] / "e2e" / "media"
BUCKET = "pathwise-media"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("moto's S3 server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_storage(s3_endpoint, monkeypatch):
    """STORAGES["default"] exactly as config/settings/production.py builds it from the env."""
    variables = {
        "PATHWISE_S3_BUCKET": BUCKET,
        "PATHWISE_S3_ENDPOINT_URL": s3_endpoint,
        "PATHWISE_S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "pathwise-test",
        "AWS_SECRET_ACCESS_KEY": "pathwise-test-secret",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    storage, origins = s3_media_settings(environ.Env())
    assert storage is not None
    assert origins == [s3_endpoint]
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="pathwise-test",
        aws_secret_access_key="pathwise-test-secret",
    ).create_bucket(Bucket=BUCKET)
    with override_settings(
        STORAGES={
            "default": storage,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        PATHWISE_MEDIA_CROSS_ORIGIN=True,  # as production.py sets it with a bucket
    ):
        storages._storages = {}  # storages are built once per settings: rebuild them
        yield storage
    storages._storages = {}


def _get(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our test server
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310


@pytest.mark.django_db
def test_an_uploaded_video_is_stored_in_s3_and_plays_back_with_range(s3_storage) -> None:
    teacher = TeacherFactory(username="tess")
    course = CourseFactory(owner=teacher, slug="media-course")
    lesson = LessonFactory(module=ModuleFactory(course=course))
    student = UserFactory(username="sam")
    EnrollmentFactory(user=student, course=course)
    video = (MEDIA / "intro.webm").read_bytes()
    api = APIClient()
    api.force_authenticate(teacher)

    with (MEDIA / "intro.webm").open("rb") as upload:
        created = api.post(
            "/api/v1/blocks",
            {"lesson": lesson.pk, "kind": "video", "media": upload, "duration_seconds": 8},
            format="multipart",
        )

    assert created.status_code == 201, created.content
    block = LessonBlock.objects.get(pk=created.json()["id"])
    assert block.media.storage.__class__.__name__ == "S3Storage"
    stored = boto3.client(
        "s3",
        endpoint_url=s3_storage["OPTIONS"]["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="pathwise-test",
        aws_secret_access_key="pathwise-test-secret",
    ).get_object(Bucket=BUCKET, Key=block.media.name)
    assert stored["Body"].read() == video

    # The lesson page points the player at the store, with a signed URL, and asks for the media
    # with CORS (captions from another origin need it).
    client = Client()
    client.force_login(student)
    page = client.get(f"/courses/{course.slug}/lessons/{lesson.pk}/").content.decode()
    # The URL the player gets, read from the page: a signature carries the second it was made, so
    # a URL signed here again would differ whenever the clock ticked in between.
    sources = re.findall(r'<source src="([^"]+)">', page)
    assert len(sources) == 1, sources
    url = html.unescape(sources[0])
    assert url.startswith(f"{s3_storage['OPTIONS']['endpoint_url']}/{BUCKET}/{block.media.name}?")
    assert "X-Amz-Signature=" in url
    assert '<video controls preload="metadata" playsinline crossorigin="anonymous"' in page

    whole = _get(url)
    part = _get(url, Range="bytes=100-199")

    assert whole.status == 200
    assert whole.read() == video
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(video)}"
    assert part.read() == video[100:200]


def test_without_a_bucket_media_stay_on_disk(monkeypatch) -> None:
    monkeypatch.delenv("PATHWISE_S3_BUCKET", raising=False)

    assert s3_media_settings(environ.Env()) == (None, [])


def test_a_public_url_gives_plain_urls_and_its_origin(monkeypatch) -> None:
    monkeypatch.setenv("PATHWISE_S3_BUCKET", BUCKET)
    monkeypatch.setenv("PATHWISE_S3_PUBLIC_URL", "https://media.example.org/pathwise-media/")
    monkeypatch.setenv("PATHWISE_S3_ENDPOINT_URL", "http://minio:9000")

    storage, origins = s3_media_settings(environ.Env())

    assert storage is not None
    assert storage["OPTIONS"]["querystring_auth"] is False
    assert storage["OPTIONS"]["custom_domain"] == "media.example.org/pathwise-media"
    assert origins == ["https://media.example.org"]


def test_production_asks_for_media_with_cors_exactly_when_they_come_from_a_bucket() -> None:
    def production(extra: dict[str, str]) -> str:
        code = (
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.PATHWISE_MEDIA_CROSS_ORIGIN)"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "x" * 60,
            "DJANGO_ALLOWED_HOSTS": "learn.example.org",
            **extra,
        }
        if "PATHWISE_S3_BUCKET" not in extra:
            env.pop("PATHWISE_S3_BUCKET", None)
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    assert production({}) == "False"
    assert production({"PATHWISE_S3_BUCKET": "pathwise-media"}) == "True"
