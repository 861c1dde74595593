"""Teacher onboarding: requests to teach, staff decisions, e-mail invitations.

The teacher role is `User.role == "teacher"` (what courses.selectors.user_can_author checks), so
approving a request or accepting an invitation sets exactly that.
"""

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from learners.exceptions import TeachingError
from learners.models import TeacherInvitation, TeacherRequest, User

INVITATION_DAYS = 14
MOTIVATION_MAX = 2000


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mail(user_or_email: User | str, subject: str, body: str) -> None:
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    if email:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)


@transaction.atomic
def teacher_request_create(*, user: User, motivation: str) -> TeacherRequest:
    """A student asks to teach; one pending request per person."""
    motivation = motivation.strip()
    if user.role == User.Role.TEACHER or user.is_staff:
        raise TeachingError(_("You can already teach: open the studio."))
    if not motivation:
        raise TeachingError(_("Tell us in a few words what you would like to teach."))
    if len(motivation) > MOTIVATION_MAX:
        raise TeachingError(
            _("Keep it under %(limit)d characters, please.") % {"limit": MOTIVATION_MAX}
        )
    User.objects.select_for_update().filter(pk=user.pk).first()
    if TeacherRequest.objects.filter(user=user, status=TeacherRequest.Status.PENDING).exists():
        raise TeachingError(_("Your request is already waiting for a decision."))
    try:
        with transaction.atomic():
            created = TeacherRequest.objects.create(user=user, motivation=motivation)
    except IntegrityError as error:  # a concurrent click created it first
        raise TeachingError(_("Your request is already waiting for a decision.")) from error
    transaction.on_commit(lambda: _tell_staff(created))
    return created


def _tell_staff(request: TeacherRequest) -> None:
    """Mail every active staff member, each in their language, that a request waits."""
    for member in User.objects.filter(is_staff=True, is_active=True).exclude(email=""):
        with override(member.preferred_language):
            subject = _("A request to teach from %(name)s") % {"name": request.user.username}
            body = _(
                "%(name)s asks to teach on Pathwise:\n\n%(motivation)s\n\n"
                "Approve or decline on the staff page (Teacher requests)."
            ) % {"name": request.user.username, "motivation": request.motivation}
        _mail(member, subject, body)


def _decide(request: TeacherRequest, by: User, status: str) -> TeacherRequest:
    request = TeacherRequest.objects.select_for_update().select_related("user").get(pk=request.pk)
    if request.status != TeacherRequest.Status.PENDING:
        raise TeachingError(_("This request has already been decided."))
    request.status = status
    request.decided_at = timezone.now()
    request.decided_by = by
    request.save(update_fields=["status", "decided_at", "decided_by"])
    return request


@transaction.atomic
def teacher_request_approve(*, request: TeacherRequest, by: User) -> TeacherRequest:
    """Approve a pending request: the account becomes a teacher and is told by e-mail."""
    request = _decide(request, by, TeacherRequest.Status.APPROVED)
    user = request.user
    if user.role != User.Role.TEACHER:
        user.role = User.Role.TEACHER
        user.save(update_fields=["role"])
    with override(user.preferred_language):
        subject = _("You can now teach on Pathwise")
        body = _(
            "Your request to teach was approved. Log in and open the studio to create "
            "your first course."
        )
    transaction.on_commit(lambda: _mail(user, subject, body))
    return request


@transaction.atomic
def teacher_request_decline(*, request: TeacherRequest, by: User) -> TeacherRequest:
    """Decline a pending request; the person may ask again later."""
    request = _decide(request, by, TeacherRequest.Status.DECLINED)
    user = request.user
    with override(user.preferred_language):
        subject = _("Your request to teach on Pathwise")
        body = _(
            "Your request to teach was not approved this time. You may send a new request "
            "with more detail about what you would like to teach."
        )
    transaction.on_commit(lambda: _mail(user, subject, body))
    return request


@transaction.atomic
def teacher_invitation_send(
    *, email: str, invited_by: User, accept_url: Callable[[str], str]
) -> TeacherInvitation:
    """Invite `email` to teach: a single-use link valid for INVITATION_DAYS days.

    `accept_url(token)` builds the absolute link; only the token's SHA-256 is stored, so a
    database reader cannot use an invitation.
    """
    email = User.objects.normalize_email(email.strip())
    if not email:
        raise TeachingError(_("Enter the e-mail address to invite."))
    token = secrets.token_urlsafe(32)
    invitation = TeacherInvitation.objects.create(
        email=email,
        token_hash=_token_hash(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    link = accept_url(token)
    subject = _("An invitation to teach on Pathwise")
    body = _(
        "%(name)s invites you to teach on Pathwise. Open this link within %(days)d days to "
        "accept (it works once):\n\n%(link)s\n"
    ) % {
        "name": invited_by.get_full_name() or invited_by.username,
        "days": INVITATION_DAYS,
        "link": link,
    }
    transaction.on_commit(lambda: _mail(email, subject, body))
    return invitation


@transaction.atomic
def teacher_invitation_revoke(*, invitation: TeacherInvitation) -> TeacherInvitation:
    """Close an unused invitation now: its link stops working."""
    invitation = TeacherInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise TeachingError(_("This invitation has already been used."))
    now = timezone.now()
    if invitation.expires_at > now:
        invitation.expires_at = now
        invitation.save(update_fields=["expires_at"])
    return invitation


def teacher_invitation_for_token(*, token: str) -> TeacherInvitation | None:
    """The invitation a link's token opens, if it exists (used or expired ones too)."""
    if not token or len(token) > 100:
        return None
    return TeacherInvitation.objects.filter(token_hash=_token_hash(token)).first()


@transaction.atomic
def teacher_invitation_accept(*, invitation: TeacherInvitation, user: User) -> User:
    """Use an invitation: `user` (new or existing) becomes a teacher; the link is spent."""
    invitation = TeacherInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise TeachingError(_("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        raise TeachingError(_("This invitation has expired: ask for a new one."))
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    fields = []
    if user.role != User.Role.TEACHER:
        user.role = User.Role.TEACHER
        fields.append("role")
    if not user.email:
        user.email = invitation.email
        fields.append("email")
    if fields:
        user.save(update_fields=fields)
    # A pending request to teach is answered by the invitation.
    TeacherRequest.objects.filter(user=user, status=TeacherRequest.Status.PENDING).update(
        status=TeacherRequest.Status.APPROVED,
        decided_at=timezone.now(),
        decided_by=invitation.invited_by,
    )
    return user
