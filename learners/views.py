"""Learner pages: accounts, the course page, the lesson player and its htmx endpoints."""

import contextlib
import json
import re
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from courses.exceptions import ApplicationError
from courses.grading import answer_grade
from courses.markdown import markdown_render
from courses.models import Course, Exercise, Lesson, LessonBlock
from courses.selectors import course_is_editable_by, course_syllabus, lesson_blocks
from learners import services
from learners.forms import ProfileForm, SignupForm, answer_from_post, int_from_post
from learners.models import LessonEvent, User
from learners.selectors import (
    course_progress,
    enrollment_get_active,
    enrollment_get_dropped,
    lesson_completed_ids,
    lesson_outline_for_course,
    video_resume_positions,
)

# Accounts -----------------------------------------------------------------------------------------


MATH_DISPLAY = re.compile(r"\$\$([^$<>]+)\$\$")
MATH_INLINE = re.compile(r"\$([^$<>\n]+)\$")
CODE = re.compile(r"(<pre>.*?</pre>|<code>.*?</code>)", re.S)


@lru_cache(maxsize=4096)
def rich_text(markdown_text: str) -> str:
    """Sanitised HTML of authored Markdown with $...$ TeX kept as text in span.math.

    A pure function of the text, so each worker caches it: a lesson is rendered many times.
    """
    html = markdown_render(markdown_text)
    # Only outside code; the match excludes < and > so it never wraps markup.
    parts = CODE.split(html)
    return "".join(
        part
        if part.startswith(("<pre>", "<code>"))
        else MATH_INLINE.sub(
            r'<span class="math">\1</span>',
            MATH_DISPLAY.sub(r'<span class="math display">\1</span>', part),
        )
        for part in parts
    )


def _language_cookie(response: HttpResponse, language: str) -> HttpResponse:
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
    return response


def signup(request: HttpRequest) -> HttpResponse:
    """Create a student account and log it in."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None, initial={"preferred_language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
                role=User.Role.STUDENT,
                preferred_language=form.cleaned_data["preferred_language"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field_name, field_errors in error.message_dict.items():
                    target = field_name if field_name in form.fields else "password1"
                    for message in field_errors:
                        form.add_error(target, message)
            else:
                for message in error.messages:
                    form.add_error("password1", message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Pathwise, %(name)s!") % {"name": user.username})
            return _language_cookie(redirect("courses:catalogue"), user.preferred_language)
    return render(request, "registration/signup.html", {"form": form})


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Django's set_language, which also keeps the choice as a signed-in user's preference.

    Without this the profile kept the old preference: saving the profile, or the next log-in,
    switched the interface back.
    """
    response = set_language(request)
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and language != request.user.preferred_language
    ):
        # Should another field of an old account fail today's rules, the switch still works
        # for this browser and the profile page shows what to fix.
        with contextlib.suppress(ValidationError):
            services.user_profile_update(user=request.user, preferred_language=language)
    return response


class LoginView(auth_views.LoginView):
    """Django's login that also switches the interface to the user's preferred language."""

    template_name = "registration/login.html"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        return _language_cookie(response, form.get_user().preferred_language)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Name, e-mail and preferred language of the signed-in user."""
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_profile_update(
                user=request.user,
                **{name: form.cleaned_data[name] for name in ProfileForm.Meta.fields},
            )
        except (ValidationError, ApplicationError) as error:
            form.add_error(None, getattr(error, "message", None) or "; ".join(error.messages))
        else:
            messages.success(request, _("Profile saved."))
            response = redirect("learners:profile")
            return _language_cookie(response, form.cleaned_data["preferred_language"])
    return render(request, "registration/profile.html", {"form": form})


# Course page and enrolment ------------------------------------------------------------------------


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Syllabus, skills, the enrol button, and the learner's progress once enrolled."""
    course = get_object_or_404(Course.objects.select_related("owner"), slug=slug)
    can_edit = course_is_editable_by(course=course, user=request.user)
    if course.status != Course.Status.PUBLISHED and not can_edit:
        raise Http404
    enrollment = dropped = progress = None
    completed: set[int] = set()
    if request.user.is_authenticated:
        enrollment = enrollment_get_active(user=request.user, course=course)
        if enrollment is None:
            dropped = enrollment_get_dropped(user=request.user, course=course)
        # A learner who left sees the history they would return to.
        shown = enrollment or dropped
        if shown is not None:
            progress = course_progress(user=request.user, enrollment=shown)
            completed = lesson_completed_ids(user=request.user, course=course)
    modules = course_syllabus(course=course)
    lessons = [lesson for module in modules for lesson in module.lessons.all()]
    # "Continue learning" opens the first lesson not completed yet.
    first_lesson = next(
        (lesson for lesson in lessons if lesson.pk not in completed),
        lessons[0] if lessons else None,
    )
    return render(
        request,
        "learners/course_detail.html",
        {
            "course": course,
            "description_html": rich_text(course.description_md),
            "modules": modules,
            "skills": course.skills.order_by("name"),
            "enrollment": enrollment,
            "dropped": dropped,
            "progress": progress,
            "completed": completed,
            "can_edit": can_edit,
            "first_lesson": first_lesson,
        },
    )


@login_required
@require_POST
def enrol(request: HttpRequest, slug: str) -> HttpResponse:
    """Enrol the signed-in user in a published course."""
    course = get_object_or_404(Course, slug=slug)
    returning = enrollment_get_dropped(user=request.user, course=course) is not None
    try:
        services.enrollment_create(user=request.user, course=course)
    except ApplicationError:
        # The one refusal of enrollment_create, in the visitor's language.
        messages.error(request, _("This course is not open for enrolment."))
    else:
        if returning:
            messages.success(
                request, _("Welcome back! Your earlier answers and progress are kept.")
            )
        else:
            messages.success(request, _("You are enrolled. Enjoy the course!"))
    return redirect("learners:course_detail", slug=course.slug)


@login_required
@require_POST
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    """Drop the signed-in user's own enrolment; attempts and lesson events stay in the log."""
    course = get_object_or_404(Course, slug=slug)
    enrollment = enrollment_get_active(user=request.user, course=course)
    if enrollment is None:
        messages.error(request, _("You are not enrolled in this course."))
        return redirect("learners:course_detail", slug=course.slug)
    services.enrollment_drop(enrollment=enrollment)
    messages.success(
        request,
        _("You have left “%(title)s”. Your answers are kept: enrol again at any time to continue.")
        % {"title": course.title},
    )
    return redirect("learners:course_detail", slug=course.slug)


# Lesson player ------------------------------------------------------------------------------------


def _lesson_access(request: HttpRequest, lesson: Lesson) -> bool:
    """True for an enrolled learner; False for an editor previewing; else refused."""
    course = lesson.module.course
    if request.user.is_authenticated:
        if enrollment_get_active(user=request.user, course=course) is not None:
            return True
        if course_is_editable_by(course=course, user=request.user):
            return False
    raise PermissionDenied(_("Enrol in the course to open its lessons."))


@login_required
def lesson_player(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """A lesson's blocks in order, with previous/next links and the mark-complete button."""
    lesson = get_object_or_404(
        Lesson.objects.select_related("module__course"), pk=lesson_id, module__course__slug=slug
    )
    course = lesson.module.course
    try:
        is_enrolled = _lesson_access(request, lesson)
    except PermissionDenied:
        messages.info(request, _("Enrol in the course to open its lessons."))
        return redirect("learners:course_detail", slug=course.slug)
    is_preview = not is_enrolled
    blocks = lesson_blocks(lesson=lesson)
    for block in blocks:
        block.html = rich_text(block.body_md) if block.body_md else ""
        if block.exercise is not None:
            block.exercise.prompt_html = rich_text(block.exercise.prompt_md)
    outline = lesson_outline_for_course(course=course)
    ids = [lesson_pk for lesson_pk, _title in outline]
    index = ids.index(lesson.pk)
    previous_lesson = outline[index - 1] if index > 0 else None
    next_lesson = outline[index + 1] if index + 1 < len(outline) else None
    resume: dict[int, float] = {}
    is_completed = False
    if is_enrolled:
        resume = video_resume_positions(user=request.user, lesson=lesson)
        is_completed = lesson.pk in lesson_completed_ids(user=request.user, course=course)
        services.lesson_event_record(user=request.user, lesson=lesson, verb=LessonEvent.Verb.VIEWED)
    for block in blocks:
        block.resume_seconds = resume.get(block.pk, 0.0)
    return render(
        request,
        "learners/lesson_player.html",
        {
            "course": course,
            "lesson": lesson,
            "blocks": blocks,
            "previous_lesson": previous_lesson,
            "next_lesson": next_lesson,
            "is_preview": is_preview,
            "is_completed": is_completed,
            "position": index + 1,
            "lesson_count": len(outline),
        },
    )


@login_required
@require_POST
def lesson_complete(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """Mark a lesson complete and go on to the next one (or back to the course)."""
    lesson = get_object_or_404(
        Lesson.objects.select_related("module__course"), pk=lesson_id, module__course__slug=slug
    )
    try:
        services.lesson_event_record(
            user=request.user, lesson=lesson, verb=LessonEvent.Verb.COMPLETED
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("learners:course_detail", slug=slug)
    messages.success(request, _("Lesson marked complete."))
    outline = [pk for pk, _title in lesson_outline_for_course(course=lesson.module.course)]
    index = outline.index(lesson.pk)
    if index + 1 < len(outline):
        return redirect("learners:lesson", slug=slug, lesson_id=outline[index + 1])
    return redirect("learners:course_detail", slug=slug)


@login_required
@require_POST
def lesson_event(request: HttpRequest, lesson_id: int) -> JsonResponse:
    """Record a media event (played, paused, seeked, progressed) posted by the player script."""
    lesson = get_object_or_404(Lesson.objects.select_related("module__course"), pk=lesson_id)
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": _("The body must be JSON.")}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"detail": _("The body must be a JSON object.")}, status=400)
    block = None
    block_id = payload.get("block")
    if block_id is not None:
        if not isinstance(block_id, int) or isinstance(block_id, bool):
            return JsonResponse({"detail": _("Unknown block.")}, status=400)
        block = LessonBlock.objects.filter(pk=block_id, lesson=lesson).first()
        if block is None:
            return JsonResponse({"detail": _("Unknown block.")}, status=400)
    try:
        event = services.lesson_event_record(
            user=request.user,
            lesson=lesson,
            verb=str(payload.get("verb", "")),
            position_seconds=payload.get("position_seconds"),
            block=block,
        )
    except ApplicationError as error:
        return JsonResponse({"detail": error.message}, status=400)
    return JsonResponse({"id": event.pk, "verb": event.verb}, status=201)


def _exercise_for_learner(request: HttpRequest, exercise_id: int) -> tuple[Exercise, bool]:
    exercise = get_object_or_404(
        Exercise.objects.select_related("course").prefetch_related("choices", "hints"),
        pk=exercise_id,
    )
    if enrollment_get_active(user=request.user, course=exercise.course) is not None:
        return exercise, True
    if course_is_editable_by(course=exercise.course, user=request.user):
        return exercise, False
    raise PermissionDenied(_("Enrol in the course to answer its exercises."))


@login_required
@require_POST
def attempt_submit(request: HttpRequest, exercise_id: int) -> HttpResponse:
    """Grade an answer on the server and return the feedback fragment (htmx)."""
    exercise, is_enrolled = _exercise_for_learner(request, exercise_id)
    answer = answer_from_post(exercise=exercise, data=request.POST)
    hints_used = min(int_from_post(request.POST, "hints_used"), len(exercise.hints.all()))
    context: dict[str, Any] = {"exercise": exercise, "is_preview": not is_enrolled}
    try:
        if is_enrolled:
            result = services.attempt_submit(
                user=request.user, exercise=exercise, answer=answer, hints_used=hints_used
            )
            context.update(
                is_correct=result.attempt.is_correct,
                feedback=result.feedback,
                explanation_html=rich_text(exercise.explanation_md),
                hints_used=result.attempt.hints_used,
            )
        else:
            grade = answer_grade(
                exercise=exercise, answer=answer, choices=list(exercise.choices.all())
            )
            context.update(
                is_correct=grade.is_correct,
                feedback=grade.feedback,
                explanation_html=rich_text(exercise.explanation_md),
                hints_used=hints_used,
            )
    except ApplicationError as error:
        context["error"] = error.message
    return render(request, "learners/partials/attempt_result.html", context)


@login_required
@require_POST
def hint_reveal(request: HttpRequest, exercise_id: int) -> HttpResponse:
    """Reveal the next hint of an exercise (htmx); the count goes with the next answer."""
    exercise, _is_enrolled = _exercise_for_learner(request, exercise_id)
    hints = list(exercise.hints.all())
    shown = min(int_from_post(request.POST, "hints_used"), len(hints))
    if shown >= len(hints):
        return render(
            request,
            "learners/partials/hint.html",
            {"exercise": exercise, "hint": None, "hints_used": shown, "hint_total": len(hints)},
        )
    return render(
        request,
        "learners/partials/hint.html",
        {
            "exercise": exercise,
            "hint": hints[shown],
            "hints_used": shown + 1,
            "hint_total": len(hints),
        },
    )
