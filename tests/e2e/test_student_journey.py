"""A student signs up, enrols, watches part of a video, comes back to it, and answers exercises."""

import pytest
from django.core.files import File

from courses.models import Course, Exercise, LessonBlock
from learners.models import Attempt, LessonEvent, User
from tests.e2e.conftest import media_fixture, screenshot
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    ExerciseFactory,
    HintFactory,
    LessonBlockFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.e2e


def adaptive_loop_wrote(user, course, attempts: int) -> None:
    """The adaptive loop folded every attempt in: state, mastery of every skill and a path."""
    from adaptive.models import LearnerState, LearningPath
    from adaptive.selectors import mastery_raw_for_learner

    state = LearnerState.objects.get(user=user, course=course)
    assert state.attempts_count == attempts
    assert state.last_attempt_id == Attempt.objects.filter(user=user).latest("id").pk
    raw = mastery_raw_for_learner(user_id=user.pk, course_id=course.pk)
    assert set(course.skills.filter(pk__in=list(raw)).values_list("name", flat=True)) == {
        "Variables"
    }
    assert LearningPath.objects.get(user=user, course=course).steps.exists()


def _course():
    course = CourseFactory(
        slug="python",
        title="Python from zero",
        summary="Variables, loops and functions.",
        owner=TeacherFactory(username="guido"),
        description_md="Learn **Python** step by step.\n\n```python\nprint('hi')\n```",
    )
    variables = SkillFactory(course=course, name="Variables")
    module = ModuleFactory(course=course, title="First steps", position=1)
    first = LessonFactory(module=module, title="Names and values", slug="names", position=1)
    LessonFactory(module=module, title="Loops", slug="loops", position=2)
    first.skills.set([variables])
    LessonBlockFactory(
        lesson=first,
        position=1,
        body_md="A *variable* names a value: $x = 2$.\n\n```python\nx = 2\nprint(x)\n```",
    )
    with (
        media_fixture("intro.webm").open("rb") as video,
        media_fixture("intro.vtt").open("rb") as vtt,
    ):
        LessonBlockFactory(
            lesson=first,
            position=2,
            kind=LessonBlock.Kind.VIDEO,
            body_md="Watch this first.",
            media=File(video, name="intro.webm"),
            captions=File(vtt, name="intro.vtt"),
            duration_seconds=8,
            transcript="Welcome to the course. Let us begin.",
        )
    exercise = ExerciseFactory(
        course=course,
        title="After x = 2",
        kind=Exercise.Kind.SINGLE,
        numeric_answer=None,
        prompt_md="After `x = 2`, what does `print(x)` show?",
        explanation_md="`print` shows the value the name refers to: **2**.",
    )
    exercise.skills.set([variables])
    ChoiceFactory(
        exercise=exercise,
        text="x",
        is_correct=False,
        position=1,
        feedback="That is the name, not its value.",
    )
    ChoiceFactory(exercise=exercise, text="2", is_correct=True, position=2)
    HintFactory(exercise=exercise, position=1, text="A name stands for its value.")
    LessonBlockFactory(
        lesson=first, position=3, kind=LessonBlock.Kind.EXERCISE, body_md="", exercise=exercise
    )
    return course


def test_student_journey(page):
    course = _course()
    base = page.base_url
    # sign up
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("E-mail").fill("grace@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    page.get_by_label("Password again").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(base + "/courses/")
    assert User.objects.get(username="grace").role == "student"
    screenshot(page, "01-catalogue")
    # enrol
    page.get_by_role("link", name="Python from zero").click()
    page.get_by_role("button", name="Enrol in this course").click()
    page.get_by_text("You are enrolled.", exact=True).wait_for()
    screenshot(page, "02-course-page")
    page.get_by_role("link", name="Continue learning").click()
    # watch part of the video
    video = page.locator("video[data-block]")
    page.wait_for_selector("video[data-ready='1']")
    assert page.locator("track[kind='captions']").count() == 1
    assert page.locator("span.math[data-rendered] .katex").count() == 1  # $x = 2$ drawn by KaTeX
    page.evaluate(
        "() => { const v = document.querySelector('video'); v.muted = true; v.currentTime = 3; }"
    )
    page.wait_for_function(
        "() => document.querySelector('video').dataset.lastEvent === 'seeked:201'"
    )
    page.evaluate("() => document.querySelector('video').play()")
    page.wait_for_function("() => document.querySelector('video').currentTime > 4")
    page.evaluate("() => document.querySelector('video').pause()")
    page.wait_for_function(
        "() => document.querySelector('video').dataset.lastEvent === 'paused:201'"
    )
    paused_at = LessonEvent.objects.filter(verb="paused").latest("id").position_seconds
    assert 4 <= paused_at < 8
    verbs = list(LessonEvent.objects.filter(block__isnull=False).values_list("verb", flat=True))
    assert verbs[:3] == ["seeked", "played", "paused"]
    screenshot(page, "03-lesson-player")
    # come back: the video resumes where it was paused
    page.reload()
    page.wait_for_selector("video[data-ready='1']")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0")
    resumed_at = video.evaluate("v => v.currentTime")
    assert abs(resumed_at - paused_at) < 0.6
    assert page.get_by_text("Resuming where you left off").is_visible()
    # a hint, a wrong answer, then the right one
    page.get_by_role("button", name="Show a hint").click()
    page.get_by_text("A name stands for its value.").wait_for()
    assert page.get_by_role("button", name="No more hints").is_disabled()
    page.get_by_label("x", exact=True).check()
    page.get_by_role("button", name="Check my answer").click()
    page.get_by_text("Not quite. Try again.").wait_for()
    assert page.get_by_text("That is the name, not its value.").is_visible()
    page.get_by_label("2", exact=True).check()
    page.get_by_role("button", name="Check my answer").click()
    page.get_by_text("Correct!").wait_for()
    assert page.locator(".explanation strong").inner_text() == "2"
    screenshot(page, "04-exercise-answered")
    attempts = list(Attempt.objects.order_by("id").values_list("is_correct", "hints_used"))
    assert attempts == [(False, 1), (True, 1)]
    # mark complete and go on
    page.get_by_role("button", name="Mark complete and continue").click()
    page.get_by_role("heading", name="Loops").wait_for()
    # the dashboard: progress and activity changed; no learning path yet, said plainly
    page.get_by_role("link", name="My dashboard").click()
    assert page.get_by_text(
        "Lessons complete: 1 of 2. Exercises solved: 1 of 1. 66.7% of the course done."
    ).is_visible()
    assert page.get_by_text("Right answers: 1 of 2.").is_visible()
    # The adaptive loop answered both attempts (this fails if it writes nothing): mastery bars
    # and explained steps, never the empty states.
    adaptive_loop_wrote(User.objects.get(username="grace"), Course.objects.get(slug="python"), 2)
    assert page.locator(".mastery-chart li").first.is_visible()
    assert "Variables" in page.locator(".mastery-chart").inner_text()
    assert page.locator(".path-steps li").count() >= 1
    assert page.locator(".path-steps .meta").first.inner_text().strip() != ""
    assert page.locator("[data-empty='learning-path'], [data-empty='mastery']").count() == 0
    # The path respects progress: the completed lesson is not offered again (but as a review).
    completed = LessonEvent.objects.filter(verb="completed", block__isnull=True).latest("id")
    for step in page.locator(".path-steps li").all():
        if f"/lessons/{completed.lesson_id}/" in (
            step.locator("a").first.get_attribute("href") or ""
        ):
            assert "review" in step.inner_text().lower()
    assert page.locator("#activity .badge.wrong").count() == 1
    screenshot(page, "05-student-dashboard")
    # narrow screens: the lesson still fits
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + f"/courses/{course.slug}/")
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 390
    screenshot(page, "06-course-page-mobile")
    assert page.js_errors == []


def test_the_language_switcher_translates_the_interface(page):
    _course()
    page.goto(page.base_url + "/courses/python/")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Change").click()
    page.get_by_role("heading", name="课程大纲").wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "zh-hans"
    assert page.get_by_role("link", name="注册后报名").is_visible()
    screenshot(page, "07-course-page-zh-hans")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    page.get_by_role("heading", name="Syllabus").wait_for()
