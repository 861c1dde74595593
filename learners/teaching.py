"""Teacher onboarding pages: ask to teach, the staff page that decides, invitation links."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courses.exceptions import ApplicationError
from learners import services, teaching_services
from learners.forms import SignupForm
from learners.models import TeacherInvitation, TeacherRequest, User
from learners.teaching_forms import TeacherInvitationForm, TeacherRequestForm

RECENT_INVITATIONS = 20


@login_required
def teach_request(request: HttpRequest) -> HttpResponse:
    """A student asks to teach, and sees where their request stands."""
    user = request.user
    if user.role == User.Role.TEACHER or user.is_staff:
        return redirect("courses:studio_home")
    form = TeacherRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            teaching_services.teacher_request_create(
                user=user, motivation=form.cleaned_data["motivation"]
            )
        except ApplicationError as error:
            # Shown as a message: a pending request replaces the form on the page.
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Request sent. Staff will decide soon; you will get an e-mail.")
            )
        return redirect("learners:teach_request")
    latest = TeacherRequest.objects.filter(user=user).first()
    return render(
        request, "learners/teaching/request.html", {"form": form, "latest_request": latest}
    )


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied(_("Only staff decide who teaches."))


@login_required
def staff_teaching(request: HttpRequest) -> HttpResponse:
    """Staff: pending requests to teach, recent decisions, invitations by e-mail."""
    _staff_required(request)
    requests = TeacherRequest.objects.select_related("user", "decided_by")
    return render(
        request,
        "learners/teaching/staff.html",
        {
            "pending": requests.filter(status=TeacherRequest.Status.PENDING).order_by(
                "created_at", "id"
            ),
            "decided": requests.exclude(status=TeacherRequest.Status.PENDING)[:20],
            "invitations": TeacherInvitation.objects.select_related("invited_by", "accepted_by")[
                :RECENT_INVITATIONS
            ],
            "invite_form": TeacherInvitationForm(),
        },
    )


@login_required
@require_POST
def staff_teaching_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    """Staff: approve or decline one request."""
    _staff_required(request)
    teacher_request = get_object_or_404(
        TeacherRequest.objects.select_related("user"), pk=request_id
    )
    action = request.POST.get("action")
    try:
        if action == "approve":
            teaching_services.teacher_request_approve(request=teacher_request, by=request.user)
            messages.success(
                request,
                _("%(name)s can now teach.") % {"name": teacher_request.user.username},
            )
        elif action == "decline":
            teaching_services.teacher_request_decline(request=teacher_request, by=request.user)
            messages.success(
                request,
                _("The request of %(name)s is declined.") % {"name": teacher_request.user.username},
            )
        else:
            messages.error(request, _("Choose approve or decline."))
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("learners:staff_teaching")


@login_required
@require_POST
def staff_teaching_invite(request: HttpRequest) -> HttpResponse:
    """Staff: send an invitation to teach to an e-mail address."""
    _staff_required(request)
    form = TeacherInvitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a valid e-mail address."))
        return redirect("learners:staff_teaching")
    invitation = teaching_services.teacher_invitation_send(
        email=form.cleaned_data["email"],
        invited_by=request.user,
        accept_url=lambda token: request.build_absolute_uri(
            reverse("learners:teach_invitation", args=[token])
        ),
    )
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
    return redirect("learners:staff_teaching")


@login_required
@require_POST
def staff_teaching_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Staff: close an invitation that was not used yet."""
    _staff_required(request)
    invitation = get_object_or_404(TeacherInvitation, pk=invitation_id)
    try:
        teaching_services.teacher_invitation_revoke(invitation=invitation)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The invitation to %(email)s is revoked.") % {"email": invitation.email}
        )
    return redirect("learners:staff_teaching")


def teach_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: a signed-in user is upgraded, anyone else creates an account."""
    invitation = teaching_services.teacher_invitation_for_token(token=token)
    if invitation is None or not invitation.is_usable:
        reason = (
            _("This invitation link is not valid.")
            if invitation is None
            else _("This invitation has already been used.")
            if invitation.accepted_at
            else _("This invitation has expired: ask for a new one.")
        )
        return render(request, "learners/teaching/invitation.html", {"reason": reason}, status=404)
    user = request.user if request.user.is_authenticated else None
    form = None
    if user is None:
        form = SignupForm(
            request.POST or None,
            initial={"email": invitation.email, "preferred_language": request.LANGUAGE_CODE},
        )
    if request.method == "POST":
        try:
            # One transaction: a refused invitation leaves no half-made account behind.
            with transaction.atomic():
                new_account = user is None
                if user is None:
                    if form is None or not form.is_valid():
                        raise ValidationError("")
                    user = services.user_create(
                        username=form.cleaned_data["username"],
                        password=form.cleaned_data["password1"],
                        email=form.cleaned_data["email"] or invitation.email,
                        preferred_language=form.cleaned_data["preferred_language"],
                    )
                teaching_services.teacher_invitation_accept(invitation=invitation, user=user)
            if new_account:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except ValidationError as error:
            if form is not None and getattr(error, "error_dict", None):
                for name, errors in error.message_dict.items():
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
            elif form is not None and any(error.messages) and error.messages != [""]:
                for message in error.messages:
                    form.add_error("password1", message)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Welcome, teacher! Create your first course here."))
            return redirect("courses:studio_home")
    return render(
        request,
        "learners/teaching/invitation.html",
        {"invitation": invitation, "form": form, "login_url": settings.LOGIN_URL},
    )
