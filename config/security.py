"""Who the client is behind our proxies, and what a locked-out login answers.

Login throttling is django-axes (a failure count per account *and* client address, with a short
cool-off); the API's rate throttles are DRF's. Both must see the same client address, and neither
may trust an X-Forwarded-For the client wrote itself: only the entries added by the
PATHWISE_TRUSTED_PROXIES proxies in front of us count (DRF's NUM_PROXIES is set to the same).
"""

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from config.errors import error_body, is_api


def client_ip(request: HttpRequest) -> str:
    """The client address: REMOTE_ADDR with no trusted proxy, else the address the outermost
    trusted proxy saw (DRF's BaseThrottle.get_ident rule for NUM_PROXIES)."""
    proxies = settings.PATHWISE_TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    # Each trusted proxy appends the address it received from; earlier entries are hearsay.
    return hops[-min(proxies, len(hops))]


def login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a login attempt names, as django-axes records it.

    Bounded like a username (150 characters) and without NUL: axes stores it in a 255-character
    column, and a 5,000-character "username" must be a failed login, not a database error.
    """
    if credentials is not None and "username" in credentials:
        raw = credentials.get("username")
    else:
        raw = request.POST.get("username") if hasattr(request, "POST") else None
    if raw is None:
        return None
    return str(raw).replace("\x00", "")[:150]


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that arrive over HTTP.

    An authenticate() call without a request (a management command, the test client's login)
    comes from no network address, so there is nothing to throttle: the next backend decides.
    """

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def _cool_off_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """429 with Retry-After: the API's JSON error body, or the login page with the reason."""
    minutes = max(1, _cool_off_seconds() // 60)
    message = _(
        "Too many failed logins for this account from your address. "
        "Try again in %(minutes)d minutes."
    ) % {"minutes": minutes}
    if is_api(request):
        response: HttpResponse = JsonResponse(error_body("throttled", message), status=429)
    else:
        # The login page again, with the reason among the page's messages.
        messages.error(request, message)
        form = AuthenticationForm(request, data=None)
        response = render(request, "registration/login.html", {"form": form}, status=429)
    response["Retry-After"] = str(_cool_off_seconds())
    return response
