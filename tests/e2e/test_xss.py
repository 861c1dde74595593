"""Script payloads in every authored field never execute in the browser."""

import pytest
from django.core.files import File

from courses import services
from courses.models import Exercise, LessonBlock
from courses.services import ChoiceData
from learners.services import attempt_submit, enrollment_create, user_create
from tests.e2e.conftest import media_fixture, screenshot

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=1">',
    '\'><iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "[click me](javascript:window.__xss=1)",
    '<a href="javascript:window.__xss=1" id="js-link">link</a>',
    "<style>@import 'javascript:window.__xss=1'</style>",
    "{{ 7|add:1 }}<details open ontoggle=window.__xss=1>",
    r"$\href{javascript:window.__xss=1}{x}$ $\htmlData{x=1}{y}$ $$\url{javascript:alert(1)}$$",
]
EVIL = " ".join(PAYLOADS)


def _evil_course():
    teacher = user_create(
        username="mallory",
        password="a-long-pass-phrase",
        role="teacher",
        first_name=PAYLOADS[1][:150],
    )
    course = services.course_create(
        owner=teacher,
        title="Evil " + PAYLOADS[0],
        slug="evil",
        summary=EVIL[:500],
        description_md=EVIL,
    )
    skill = services.skill_create(course=course, name="S " + PAYLOADS[2], description=EVIL)
    other = services.skill_create(course=course, name="T " + PAYLOADS[1], description=EVIL)
    services.skill_prerequisite_add(skill=other, requires=skill)
    module = services.module_create(course=course, title="M " + PAYLOADS[1], summary=EVIL)
    lesson = services.lesson_create(module=module, title="L " + PAYLOADS[0], skills=[skill])
    services.lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.TEXT, body_md=EVIL)
    with media_fixture("intro.webm").open("rb") as video:
        services.lesson_block_create(
            lesson=lesson,
            kind=LessonBlock.Kind.VIDEO,
            media=File(video, name="intro.webm"),
            body_md=EVIL,
            transcript=EVIL,
            duration_seconds=8,
        )
    exercise = services.exercise_create(
        course=course,
        kind=Exercise.Kind.SINGLE,
        title="E " + PAYLOADS[2][:190],
        prompt_md=EVIL,
        explanation_md=EVIL,
        hints=[EVIL],
        choices=[ChoiceData(PAYLOADS[1], True, EVIL), ChoiceData(PAYLOADS[0], False, EVIL)],
        skills=[skill, other],
    )
    services.lesson_block_create(lesson=lesson, kind=LessonBlock.Kind.EXERCISE, exercise=exercise)
    course = services.course_publish(course=course)
    student = user_create(
        username="victim", password="a-long-pass-phrase", first_name=PAYLOADS[0][:150]
    )
    enrollment_create(user=student, course=course)
    wrong = exercise.choices.get(is_correct=False)
    attempt_submit(user=student, exercise=exercise, answer=wrong.pk)
    return course, lesson, exercise


def _log_in(page, username, landing="**/dashboard/"):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(landing)


def _assert_inert(page, url, dialogs):
    page.goto(page.base_url + url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)
    assert page.evaluate("() => typeof window.__xss") == "undefined", url
    assert page.locator('[href^="javascript:"], [src^="javascript:"]').count() == 0, url
    assert page.locator("script:not([src])").count() == 0, url
    assert dialogs == [], url


def test_payloads_in_every_authored_field_never_execute(page):
    course, lesson, exercise = _evil_course()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _log_in(page, "victim")
    for url in (
        "/",
        "/courses/",
        f"/courses/{course.slug}/",
        f"/courses/{course.slug}/lessons/{lesson.pk}/",
        "/dashboard/",
    ):
        _assert_inert(page, url, dialogs)
    # hints, feedback and the explanation arrive through htmx
    page.goto(page.base_url + f"/courses/{course.slug}/lessons/{lesson.pk}/")
    page.get_by_role("button", name="Show a hint").click()
    page.locator(".hint-item").wait_for()
    page.locator(".choice input").nth(1).check()
    # the page already shows the stored result of the setup's answer: wait for the new one
    with page.expect_response(lambda response: "/attempt/" in response.url):
        page.get_by_role("button", name="Check my answer").click()
    page.locator(".attempt-result .feedback").wait_for()
    page.wait_for_timeout(150)
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator(".attempt-result").inner_text().count("window.__xss") >= 1
    screenshot(page, "20-xss-lesson")
    page.get_by_role("button", name="Log out (victim)").click()
    _log_in(page, "mallory", "**/studio/")  # teachers land in the studio
    for url in (
        "/studio/",
        f"/studio/courses/{course.slug}/",
        f"/studio/courses/{course.slug}/lessons/{lesson.pk}/",
        f"/studio/courses/{course.slug}/exercises/",
        f"/studio/courses/{course.slug}/exercises/{exercise.pk}/",
        f"/studio/courses/{course.slug}/skills/",
        f"/studio/courses/{course.slug}/class/",
        f"/courses/{course.slug}/lessons/{lesson.pk}/",
    ):
        _assert_inert(page, url, dialogs)
    screenshot(page, "21-xss-preview")
    assert page.js_errors == []
