"""Production cookies are all Secure; every response carries the Content-Security-Policy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.factories import UserFactory

REPO_ROOT = Path(__file__).resolve().parents[2]
COOKIE_FLAGS = (
    "import json, config.settings.production as s; print(json.dumps({name: getattr(s, name) for"
    " name in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'LANGUAGE_COOKIE_SECURE',"
    " 'LANGUAGE_COOKIE_HTTPONLY')}))"
)
PRODUCTION_COOKIES = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "LANGUAGE_COOKIE_SECURE": True,
    "LANGUAGE_COOKIE_HTTPONLY": True,
}


def test_production_settings_make_every_cookie_secure() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PATHWISE_"))}
    env.update(
        DJANGO_SECRET_KEY="x" * 40,
        DJANGO_ALLOWED_HOSTS="pathwise.example.org",
        DJANGO_SETTINGS_MODULE="config.settings.production",
    )
    result = subprocess.run(
        [sys.executable, "-c", COOKIE_FLAGS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    flags = json.loads(result.stdout)
    assert all(flags.values()), flags


@pytest.mark.django_db
@override_settings(**PRODUCTION_COOKIES)
def test_every_cookie_the_site_sets_is_secure() -> None:
    user = UserFactory(username="zoe", preferred_language="zh-hans")
    user.set_password("a-long-pass-phrase")
    user.save()
    client = Client()

    responses = [
        client.get("/accounts/login/"),  # the CSRF cookie
        client.post("/accounts/login/", {"username": "zoe", "password": "a-long-pass-phrase"}),
        client.post("/i18n/setlang/", {"language": "en", "next": "/"}),
    ]

    cookies = [morsel for response in responses for morsel in response.cookies.values()]
    names = {morsel.key for morsel in cookies}
    assert {"csrftoken", "sessionid", "django_language"} <= names
    assert [morsel.key for morsel in cookies if not morsel["secure"]] == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/courses/", "/accounts/login/", "/api/v1/courses"])
def test_every_response_has_a_strict_content_security_policy(path: str) -> None:
    policy = Client().get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))

    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
