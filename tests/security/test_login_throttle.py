"""Login throttling (django-axes + DRF), token rotation, the password-change page, unique e-mail."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from learners.models import User
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
LIMIT = 5


@pytest.fixture
def maya(db) -> User:
    user = UserFactory(username="maya", email="maya@example.org")
    user.set_password(PASSWORD)
    user.save()
    return user


def web_login(password: str, address: str = "10.0.0.1", **headers) -> int:
    client = Client(REMOTE_ADDR=address, **headers)
    return client.post("/accounts/login/", {"username": "maya", "password": password}).status_code


def token_login(password: str, address: str = "10.0.0.1", **headers):
    client = APIClient(REMOTE_ADDR=address)
    return client.post(
        "/api/v1/auth/token", {"username": "maya", "password": password}, format="json", **headers
    )


def test_web_login_locks_the_account_from_that_address_only(maya: User) -> None:
    statuses = [web_login("wrong") for _ in range(LIMIT)]

    locked = Client(REMOTE_ADDR="10.0.0.1").post(
        "/accounts/login/", {"username": "maya", "password": PASSWORD}
    )
    elsewhere = web_login(PASSWORD, address="10.0.0.2")

    assert statuses[:-1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert b"Too many failed logins" in locked.content
    assert elsewhere == 302  # the real user, from their own address, logs in


def test_lockout_ends_by_itself_after_the_cool_off(maya: User, settings) -> None:
    for _ in range(LIMIT):
        web_login("wrong")
    assert web_login(PASSWORD) == 429

    # The cool-off passes (the failures are older than AXES_COOLOFF_TIME).
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )

    assert web_login(PASSWORD) == 302


def test_a_forged_forwarded_for_does_not_escape_the_lockout(maya: User) -> None:
    for number in range(LIMIT):
        web_login("wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")

    assert web_login(PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7") == 429


def test_with_one_trusted_proxy_the_proxy_s_entry_is_the_client(maya: User, settings) -> None:
    settings.PATHWISE_TRUSTED_PROXIES = 1
    for _ in range(LIMIT):
        # The client forged the first entry; the proxy appended the real address.
        web_login("wrong", address="10.9.9.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")

    assert web_login(PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.5") == 429
    assert web_login(PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.6") == 302


def test_api_token_login_locks_out_with_the_json_error(maya: User) -> None:
    statuses = [token_login("wrong").status_code for _ in range(LIMIT)]

    locked = token_login(PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert statuses == [400] * (LIMIT - 1) + [429]  # the failure that reaches the limit locks
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "throttled"
    assert int(locked["Retry-After"]) > 0
    assert token_login(PASSWORD, address="10.0.0.3").status_code == 200


def test_api_token_requests_are_throttled_per_address_whatever_forwarded_for_says(db) -> None:
    # Many accounts, one address, a new X-Forwarded-For each time: DRF's NUM_PROXIES=0 ignores it.
    client = APIClient(REMOTE_ADDR="10.0.0.8")
    statuses = [
        client.post(
            "/api/v1/auth/token",
            {"username": f"nobody{number}", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        ).status_code
        for number in range(40)
    ]

    assert statuses[:30] == [400] * 30
    assert set(statuses[30:]) == {429}


# Tokens rotate with the password ---------------------------------------------------------------


def test_password_change_page_changes_it_and_ends_the_api_token(maya: User) -> None:
    old_token = Token.objects.create(user=maya)
    client = Client()
    client.force_login(maya)

    profile = client.get("/accounts/profile/")
    page = client.get("/accounts/password/")
    done = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-longer-secret",
            "new_password2": "a-new-longer-secret",
        },
    )

    assert b'href="/accounts/password/"' in profile.content
    assert page.status_code == 200
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/done/"
    assert client.get("/accounts/password/done/").status_code == 200  # still signed in
    assert not Token.objects.filter(key=old_token.key).exists()
    maya.refresh_from_db()
    assert maya.check_password("a-new-longer-secret")


def test_password_reset_ends_the_api_token(maya: User, mailoutbox) -> None:
    old_token = Token.objects.create(user=maya)
    client = Client()
    client.post("/accounts/password-reset/", {"email": "maya@example.org"})
    link = next(
        line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line
    ).strip()
    path = link[link.index("/accounts/reset/") :]

    form = client.get(path, follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "reset-new-secret-1", "new_password2": "reset-new-secret-1"},
    )

    assert done.status_code == 302
    assert not Token.objects.filter(key=old_token.key).exists()
    assert (
        APIClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {old_token.key}").status_code
        == 401
    )


# One account per e-mail ------------------------------------------------------------------------


def test_signup_refuses_an_e_mail_used_by_another_account(maya: User) -> None:
    response = Client().post(
        "/accounts/signup/",
        {
            "username": "impostor",
            "email": "MAYA@Example.org",
            "password1": "impostor-pass-123",
            "password2": "impostor-pass-123",
            "preferred_language": "en",
        },
    )

    assert response.status_code == 200
    assert b"Another account already uses this e-mail address." in response.content
    assert not User.objects.filter(username="impostor").exists()


def test_the_database_refuses_a_second_account_with_the_same_e_mail(maya: User) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="twin", email="Maya@EXAMPLE.org")
    # Accounts without an address are many.
    User.objects.create(username="no-mail-1", email="")
    User.objects.create(username="no-mail-2", email="")


def test_profile_api_refuses_another_account_s_e_mail(maya: User) -> None:
    other = UserFactory(username="other")
    client = APIClient()
    client.force_authenticate(other)

    response = client.patch("/api/v1/me", {"email": "maya@EXAMPLE.org"}, format="json")

    assert response.status_code == 400
    assert "e-mail" in response.json()["error"]["message"]
