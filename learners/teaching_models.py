"""Becoming a teacher: a student's request to teach, and staff invitations by e-mail.

Imported by learners.models so that Django registers them with the learners app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TeacherRequest(models.Model):
    """A student asks to teach; staff approve (the account becomes a teacher) or decline."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teacher_requests"
    )
    motivation = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teacher_requests_decided",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("teacher request")
        verbose_name_plural = _("teacher requests")
        constraints = [
            # One open request per person: a second click must not queue a duplicate.
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="teacher_request_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="teacher_request_decided_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.status})"


class TeacherInvitation(models.Model):
    """Staff invite someone to teach by e-mail; the link carries a random token (only its hash
    is stored) and works once, until it expires."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teacher_invitations_sent",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teacher_invitations_accepted",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("teacher invitation")
        verbose_name_plural = _("teacher invitations")

    def __str__(self) -> str:
        return self.email

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
