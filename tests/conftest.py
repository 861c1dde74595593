"""Fixtures shared by every test package."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """DRF's throttle counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
