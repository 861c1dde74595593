"""Becoming a teacher: requests to teach, the staff page, invitations, the login landing."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from learners.models import TeacherInvitation, TeacherRequest, User
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db) -> User:
    return UserFactory(username="root", is_staff=True)


def test_a_student_asks_to_teach_once_and_staff_approve_on_the_staff_page(
    client, staff, django_capture_on_commit_callbacks
):
    student = UserFactory(username="maya")
    client.force_login(student)
    url = reverse("learners:teach_request")
    client.post(url, {"motivation": "   "})  # empty: refused
    assert not TeacherRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"motivation": "I teach algebra at a high school."})
    # staff hear of it by e-mail
    assert mail.outbox[-1].to == [staff.email]
    assert "I teach algebra at a high school." in mail.outbox[-1].body
    page = client.get(url).content.decode()
    assert 'data-request-status="pending"' in page
    # a second request while one is pending is refused with a message
    again = client.post(url, {"motivation": "Again"}, follow=True).content.decode()
    assert "already waiting for a decision" in again
    assert TeacherRequest.objects.count() == 1
    # only staff see and decide
    staff_url = reverse("learners:staff_teaching")
    assert client.get(staff_url).status_code == 403
    request = TeacherRequest.objects.get()
    decide = reverse("learners:staff_teaching_decide", args=[request.pk])
    assert client.post(decide, {"action": "approve"}).status_code == 403
    client.force_login(staff)
    page = client.get(staff_url).content.decode()
    assert "I teach algebra at a high school." in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide, {"action": "approve"})
    student.refresh_from_db()
    assert student.role == User.Role.TEACHER
    request.refresh_from_db()
    assert (request.status, request.decided_by) == (TeacherRequest.Status.APPROVED, staff)
    assert mail.outbox[-1].to == [student.email]
    assert "studio" in mail.outbox[-1].body
    # a decided request cannot be decided again
    follow = client.post(decide, {"action": "decline"}, follow=True).content.decode()
    assert "already been decided" in follow
    # the new teacher opens the studio
    client.force_login(student)
    assert client.get(reverse("courses:studio_home")).status_code == 200


def test_a_declined_student_stays_a_student_and_may_ask_again(client, staff):
    student = UserFactory(username="leo")
    request = TeacherRequest.objects.create(user=student, motivation="Maths.")
    client.force_login(staff)
    client.post(reverse("learners:staff_teaching_decide", args=[request.pk]), {"action": "decline"})
    student.refresh_from_db()
    assert student.role == User.Role.STUDENT
    client.force_login(student)
    page = client.get(reverse("learners:teach_request")).content.decode()
    assert 'data-request-status="declined"' in page
    client.post(reverse("learners:teach_request"), {"motivation": "Statistics, with examples."})
    assert TeacherRequest.objects.filter(user=student, status="pending").count() == 1


def test_staff_approve_in_the_django_admin_too(client, staff):
    staff.is_superuser = True
    staff.save()
    student = UserFactory(username="sam")
    request = TeacherRequest.objects.create(user=student, motivation="Physics.")
    client.force_login(staff)
    response = client.post(
        reverse("admin:learners_teacherrequest_changelist"),
        {"action": "approve", "_selected_action": [request.pk]},
        follow=True,
    )
    assert response.status_code == 200
    student.refresh_from_db()
    assert student.role == User.Role.TEACHER


def _invite(client, staff, email: str, callbacks) -> str:
    client.force_login(staff)
    with callbacks(execute=True):
        client.post(reverse("learners:staff_teaching_invite"), {"email": email})
    match = re.search(
        r"http://testserver(/accounts/teach/invitation/[^/\s]+/)", mail.outbox[-1].body
    )
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_an_invitation_creates_a_teacher_account_once(
    client, staff, django_capture_on_commit_callbacks
):
    link = _invite(client, staff, "new.teacher@example.org", django_capture_on_commit_callbacks)
    invitation = TeacherInvitation.objects.get()
    # only a hash of the token is stored
    assert link.rstrip("/").rsplit("/", 1)[-1] not in invitation.token_hash
    client.logout()
    page = client.get(link).content.decode()
    assert "new.teacher@example.org" in page
    # a taken username: the form says so, the invitation stays unused, no account is made
    UserFactory(username="taken")
    refused = client.post(
        link,
        {
            "username": "taken",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
            "preferred_language": "en",
        },
    )
    assert refused.status_code == 200
    assert "already exists" in refused.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    response = client.post(
        link,
        {
            "username": "newt",
            "email": "new.teacher@example.org",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
            "preferred_language": "en",
        },
    )
    assert response.url == reverse("courses:studio_home")
    user = User.objects.get(username="newt")
    assert user.role == User.Role.TEACHER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    # the link works once
    client.logout()
    assert client.get(link).status_code == 404
    assert "already been used" in client.get(link).content.decode()


def test_an_invitation_upgrades_a_signed_in_student_and_expires(
    client, staff, django_capture_on_commit_callbacks
):
    link = _invite(client, staff, "maya@example.org", django_capture_on_commit_callbacks)
    student = UserFactory(username="maya")
    TeacherRequest.objects.create(user=student, motivation="Please.")
    client.force_login(student)
    client.post(link)
    student.refresh_from_db()
    assert student.role == User.Role.TEACHER
    assert TeacherRequest.objects.get(user=student).status == TeacherRequest.Status.APPROVED
    expired_link = _invite(client, staff, "late@example.org", django_capture_on_commit_callbacks)
    TeacherInvitation.objects.filter(email="late@example.org").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    late = UserFactory(username="late")
    client.force_login(late)
    response = client.post(expired_link)
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    late.refresh_from_db()
    assert late.role == User.Role.STUDENT
    assert client.get("/accounts/teach/invitation/not-a-token/").status_code == 404


@pytest.mark.parametrize(
    ("factory", "landing"),
    [(TeacherFactory, "courses:studio_home"), (UserFactory, "adaptive:dashboard")],
)
def test_teachers_land_in_the_studio_after_login(client, factory, landing):
    factory(username="someone")
    response = client.post(
        reverse("learners:login"), {"username": "someone", "password": "pass-word-123"}
    )
    assert response.url == reverse(landing)


def test_a_teacher_who_followed_a_link_goes_back_to_it(client):
    TeacherFactory(username="someone")
    response = client.post(
        reverse("learners:login") + "?next=/courses/",
        {"username": "someone", "password": "pass-word-123"},
    )
    assert response.url == "/courses/"


def test_the_staff_page_forms_carry_csrf_tokens_and_labels(client, staff):
    TeacherRequest.objects.create(user=UserFactory(username="ivy"), motivation="Chemistry.")
    client.force_login(staff)
    page = client.get(reverse("learners:staff_teaching")).content.decode()
    forms = re.findall(r"<form\b[^>]*>.*?</form>", page, flags=re.S)
    assert len(forms) >= 3  # decide, invite, log out
    assert all("csrfmiddlewaretoken" in form for form in forms if 'method="post"' in form)
    assert '<label for="id_email">' in page
    assert 'aria-label="Approve ivy"' in page


def test_staff_revoke_an_unused_invitation_and_its_link_stops_working(
    client, staff, django_capture_on_commit_callbacks
):
    link = _invite(client, staff, "maybe@example.org", django_capture_on_commit_callbacks)
    invitation = TeacherInvitation.objects.get()
    page = client.get(reverse("learners:staff_teaching")).content.decode()
    assert 'aria-label="Revoke the invitation to maybe@example.org"' in page
    client.post(reverse("learners:staff_teaching_revoke", args=[invitation.pk]))
    client.logout()
    response = client.get(link)
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    # students cannot revoke
    client.force_login(UserFactory(username="pupil"))
    assert (
        client.post(reverse("learners:staff_teaching_revoke", args=[invitation.pk])).status_code
        == 403
    )
