"""Learner pages: accounts, the course page, the lesson player and its htmx endpoints."""

import contextlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_htmx.http import trigger_client_event

from config.parsers import JSONTooDeep, json_loads_bounded
from courses.exceptions import ApplicationError
from courses.markdown import markdown_inline_render, markdown_render
from courses.models import Course, Exercise, Lesson, LessonBlock
from courses.permissions import LearningAccess, learning_access
from courses.selectors import course_is_editable_by, course_syllabus, lesson_blocks
from learners import services
from learners.exceptions import AttemptLimitError
from learners.forms import ProfileForm, SignupForm, answer_from_post, int_from_post
from learners.models import LessonEvent, User
from learners.selectors import (
    ExerciseState,
    course_progress,
    enrollment_get_active,
    enrollment_get_dropped,
    exercise_state_for_user,
    exercise_states_for_user,
    lesson_completed_ids,
    lesson_outline_for_course,
    video_resume_positions,
)
from learners.services import AttemptResult

# Accounts -----------------------------------------------------------------------------------------


def rich_text(markdown_text: str) -> str:
    """Sanitised HTML of authored Markdown, with $...$ TeX as span.math for KaTeX."""
    return markdown_render(markdown_text)


def _language_cookie(response: HttpResponse, language: str) -> HttpResponse:
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            # As Django's set_language does: Secure and HttpOnly in production.
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
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

    def get_default_redirect_url(self) -> str:
        # Without a ?next=, teachers start where they work: the studio.
        if getattr(self.request.user, "role", None) == User.Role.TEACHER:
            return reverse("courses:studio_home")
        return super().get_default_redirect_url()


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


def _learning_access(request: HttpRequest, course: Course) -> LearningAccess:
    """courses.permissions' publication rule for the signed-in user."""
    if not request.user.is_authenticated:
        return LearningAccess.NONE
    is_enrolled = enrollment_get_active(user=request.user, course=course) is not None
    return learning_access(course=course, user=request.user, is_enrolled=is_enrolled)


def _closed_message(course: Course) -> str:
    if course.status != Course.Status.PUBLISHED:
        return _("This course is not open at the moment.")
    return _("Enrol in the course to open its lessons.")


def _lesson_access(request: HttpRequest, lesson: Lesson) -> bool:
    """True for an enrolled learner of a published course; False for an editor previewing;
    else refused (PermissionDenied)."""
    course = lesson.module.course
    access = _learning_access(request, course)
    if access is LearningAccess.NONE:
        raise PermissionDenied(_closed_message(course))
    return access is LearningAccess.LEARN


@login_required
def lesson_player(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """A lesson's blocks in order, with previous/next links and the mark-complete button."""
    lesson = get_object_or_404(
        Lesson.objects.select_related("module__course"), pk=lesson_id, module__course__slug=slug
    )
    course = lesson.module.course
    try:
        is_enrolled = _lesson_access(request, lesson)
    except PermissionDenied as refusal:
        if course.status != Course.Status.PUBLISHED:
            raise Http404 from refusal  # as the course page of a closed course is not found
        messages.info(request, str(refusal))
        return redirect("learners:course_detail", slug=course.slug)
    is_preview = not is_enrolled
    blocks = lesson_blocks(lesson=lesson)
    for block in blocks:
        block.html = rich_text(block.body_md) if block.body_md else ""
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
    _exercises_prepare(request, [block.exercise for block in blocks if block.exercise], is_enrolled)
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
            "media_cross_origin": settings.PATHWISE_MEDIA_CROSS_ORIGIN,
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
        if not _lesson_access(request, lesson):
            raise ApplicationError(_("This is a preview: nothing is recorded."))
        services.lesson_event_record(
            user=request.user, lesson=lesson, verb=LessonEvent.Verb.COMPLETED
        )
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
        return redirect("learners:course_detail", slug=slug)
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
        is_enrolled = _lesson_access(request, lesson)
    except PermissionDenied as refusal:
        return JsonResponse({"detail": str(refusal)}, status=403)
    try:
        payload = json_loads_bounded(request.body or b"{}")
    except JSONTooDeep:
        return JsonResponse({"detail": _("The JSON body is nested too deeply.")}, status=400)
    except ValueError:
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
    if not is_enrolled:
        # An editor's preview plays the media too; it is not learner activity.
        return JsonResponse({"detail": _("This is a preview: nothing is recorded.")}, status=200)
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
    """The exercise and whether answers are recorded (an enrolled learner of a published course)
    or only graded (an editor's preview); anyone else is refused."""
    exercise = get_object_or_404(
        Exercise.objects.select_related("course").prefetch_related("choices", "hints"),
        pk=exercise_id,
    )
    access = _learning_access(request, exercise.course)
    if access is LearningAccess.NONE:
        if exercise.course.status != Course.Status.PUBLISHED:
            raise PermissionDenied(_("This course is not open at the moment."))
        raise PermissionDenied(_("Enrol in the course to answer its exercises."))
    return exercise, access is LearningAccess.LEARN


# Exercises: what a learner sees follows ExerciseState, through learners.services -----------------


def _exercise_prepare(
    exercise: Exercise,
    state: ExerciseState | None,
    result: AttemptResult | None = None,
    action: str = "",
) -> Exercise:
    """Rendered prompt, choices, revealed hints and the learner's standing, for the partials.

    Without a fresh `result`, the one a revisiting learner may see is rebuilt from `state`.
    """
    if result is None and state is not None and (state.attempts_used or state.is_revealed):
        result = services.attempt_result_build(exercise=exercise, state=state)
    exercise.prompt_html = rich_text(exercise.prompt_md)
    exercise.state = state
    exercise.result = result
    exercise.verdict = _verdict(result, action) if result is not None else ""
    correct = result.correct_answer if result is not None else None
    correct_ids = set(correct) if isinstance(correct, list) else {correct}
    chosen = state.answer if state is not None else None
    chosen_ids = set(chosen) if isinstance(chosen, list) else {chosen}
    for choice in exercise.choices.all():
        choice.text_html = markdown_inline_render(choice.text)
        choice.was_chosen = choice.pk in chosen_ids
        choice.is_shown_correct = correct is not None and choice.pk in correct_ids
    exercise.correct_choices = [c for c in exercise.choices.all() if c.is_shown_correct]
    exercise.chosen_choices = [c for c in exercise.choices.all() if c.was_chosen]
    exercise.answer_text = _answer_text(chosen)
    exercise.correct_answer_text = _answer_text(correct)
    exercise.shown_hints = [
        _hint_prepare(hint)
        for hint in exercise.hints.all()
        if state is not None and hint.position in state.hint_positions
    ]
    return exercise


def _verdict(result: AttemptResult, action: str) -> str:
    """The sentence above a result: `action` is "answer", "solution" or "" (a revisit)."""
    state = result.state
    if action == "solution":
        return _("Here is the solution.")
    if action == "answer":
        # A preview records no attempt; its state says whether the answer was right.
        if result.is_correct if result.attempt is not None else state.is_solved:
            return _("Correct!")
        if state.shows_solution:
            return _("Not quite. That was your last attempt.")
        return _("Not quite. Try again.")
    if state.is_solved:
        return _("You solved this exercise.")
    if state.is_revealed:
        return _("You asked to see the solution.")
    if state.is_exhausted:
        return _("No attempts left.")
    return _("Your last answer was not right.")


def _answer_text(value: Any) -> str:
    # Numeric answers are stored as floats: show 42, not 42.0.
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return "" if value is None else str(value)


def _hint_prepare(hint: Any) -> Any:
    hint.text_html = markdown_inline_render(hint.text)
    return hint


def _exercises_prepare(request: HttpRequest, exercises: list[Exercise], is_enrolled: bool) -> None:
    states = exercise_states_for_user(user=request.user, exercises=exercises) if is_enrolled else {}
    for exercise in exercises:
        _exercise_prepare(exercise, states.get(exercise.pk))


def _result_page(
    request: HttpRequest,
    exercise: Exercise,
    result: AttemptResult | None,
    *,
    action: str,
    is_preview: bool,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The result fragment, with the exercise's status line and buttons swapped out of band."""
    state = result.state if result is not None else None
    if state is None and not is_preview:
        state = exercise_state_for_user(user=request.user, exercise=exercise)
    # On a refusal the stored result is shown again, with the words of a revisit.
    _exercise_prepare(exercise, state, result, action if result is not None else "")
    response = render(
        request,
        "learners/partials/attempt_result.html",
        {
            "exercise": exercise,
            "result": exercise.result,
            "state": state,
            "is_preview": is_preview,
            "error": error,
            "swap_oob": True,
        },
        status=status,
    )
    if result is not None and result.attempt is not None:
        # The lesson page's learner panel reloads on this event (htmx "from:body").
        trigger_client_event(response, "attempt-recorded", {"exercise": exercise.pk})
    return response


@login_required
@require_POST
def attempt_submit(request: HttpRequest, exercise_id: int) -> HttpResponse:
    """Grade an answer on the server and return the feedback fragment (htmx).

    Hints are counted from the learner's recorded reveals; a posted `hints_used` is ignored.
    """
    exercise, is_enrolled = _exercise_for_learner(request, exercise_id)
    try:
        answer = answer_from_post(exercise=exercise, data=request.POST)
        if is_enrolled:
            result = services.attempt_submit(user=request.user, exercise=exercise, answer=answer)
        else:
            result = services.attempt_preview(exercise=exercise, answer=answer)
    except AttemptLimitError as error:
        return _result_page(
            request,
            exercise,
            None,
            action="answer",
            is_preview=not is_enrolled,
            error=error.message,
            status=409,
        )
    except (ApplicationError, ValidationError) as error:
        message = getattr(error, "message", None) or "; ".join(error.messages)
        return _result_page(
            request,
            exercise,
            None,
            action="answer",
            is_preview=not is_enrolled,
            error=message,
            status=400,
        )
    return _result_page(request, exercise, result, action="answer", is_preview=not is_enrolled)


@login_required
@require_POST
def solution_reveal(request: HttpRequest, exercise_id: int) -> HttpResponse:
    """Show the solution on request; for a learner it counts as a wrong, final answer."""
    exercise, is_enrolled = _exercise_for_learner(request, exercise_id)
    try:
        if is_enrolled:
            result = services.solution_reveal(user=request.user, exercise=exercise)
        else:
            result = services.solution_preview(exercise=exercise)
    except ApplicationError as error:
        return _result_page(
            request,
            exercise,
            None,
            action="solution",
            is_preview=not is_enrolled,
            error=error.message,
            status=400,
        )
    return _result_page(request, exercise, result, action="solution", is_preview=not is_enrolled)


@login_required
@require_POST
def hint_reveal(request: HttpRequest, exercise_id: int) -> HttpResponse:
    """Reveal the next hint of an exercise (htmx); a learner's reveal is recorded."""
    exercise, is_enrolled = _exercise_for_learner(request, exercise_id)
    try:
        if is_enrolled:
            result = services.hint_reveal_next(user=request.user, exercise=exercise)
        else:
            result = services.hint_preview(
                exercise=exercise, shown=int_from_post(request.POST, "hints_shown")
            )
    except ApplicationError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
    return render(
        request,
        "learners/partials/hint.html",
        {
            "exercise": exercise,
            "hint": _hint_prepare(result.hint) if result.hint is not None else None,
            "hints_used": result.hints_used,
            "hint_total": result.hint_total,
        },
    )
