"""Playwright against Django's live server, driving Debian's Chromium headless.

`platform/ensure_browser.sh` installs Chromium and Playwright when they are missing; Playwright's
own browser download is never used. Screenshots go to artifacts/screenshots/ (ignored by git).
"""

import mimetypes
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import clear_url_caches, re_path
from django.utils._os import safe_join

CHROMIUM = os.environ.get("PATHWISE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
MEDIA_FIXTURES = Path(__file__).resolve().parent / "media"


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded media with HTTP Range support, so that the browser can seek in a video."""
    try:
        full_path = Path(safe_join(settings.MEDIA_ROOT, path))
    except ValueError as error:
        raise Http404 from error
    if not full_path.is_file():
        raise Http404
    size = full_path.stat().st_size
    content_type = mimetypes.guess_type(full_path.name)[0] or "application/octet-stream"
    match = re.match(r"bytes=(\d*)-(\d*)", request.headers.get("Range", ""))
    if not match:
        response = FileResponse(full_path.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    start = int(match.group(1) or 0)
    end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
    with full_path.open("rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    response = HttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped browser test fails: CI must not pass without having run it."""
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"an e2e test was skipped under CI=true, which fails CI: {reason}"


@pytest.fixture(scope="session", autouse=True)
def _media_route() -> Iterator[None]:
    from config import urls

    route = re_path(r"^media/(?P<path>.+)$", media_serve)
    urls.urlpatterns.append(route)
    clear_url_caches()
    yield
    urls.urlpatterns.remove(route)
    clear_url_caches()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: run platform/ensure_browser.sh")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with pytest.MonkeyPatch.context() as patch, playwright_api.sync_playwright() as playwright:
        # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
        # between browser steps are still synchronous and safe. Only while the browser is open.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    yield page
    context.close()


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot of the current page under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def media_fixture(name: str) -> Path:
    """A small media file committed for the browser tests (an 8 s WebM video, its captions)."""
    return MEDIA_FIXTURES / name
