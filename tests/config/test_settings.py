"""Production settings: no default secret, DEBUG off (each load runs in a fresh interpreter)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LOAD_PRODUCTION = (
    "import json, config.settings.production as s;"
    " print(json.dumps({'debug': s.DEBUG, 'secret': s.SECRET_KEY, 'hosts': s.ALLOWED_HOSTS}))"
)


def _load_production(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "PATHWISE_")) and name != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-c", LOAD_PRODUCTION],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_load_without_a_secret_key():
    result = _load_production(DJANGO_ALLOWED_HOSTS="pathwise.example.org")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_has_debug_off_by_default():
    result = _load_production(
        DJANGO_SECRET_KEY="a-production-secret-for-the-test",
        DJANGO_ALLOWED_HOSTS="pathwise.example.org",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "debug": False,
        "secret": "a-production-secret-for-the-test",
        "hosts": ["pathwise.example.org"],
    }


def test_production_refuses_to_load_without_allowed_hosts():
    result = _load_production(DJANGO_SECRET_KEY="a-production-secret-for-the-test")

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_test_settings_use_postgresql_and_a_fast_hasher(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.AUTH_USER_MODEL == "learners.User"


@pytest.mark.parametrize("secret", ["", "pathwise-local-development-key-not-for-production"])
def test_production_refuses_an_empty_or_development_secret_key(secret):
    result = _load_production(DJANGO_SECRET_KEY=secret, DJANGO_ALLOWED_HOSTS="pathwise.example.org")

    assert result.returncode != 0
