"""TEMPORARY (not committed): screenshots of every changed page in English and Chinese."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from adaptive.models import ModelVersion, TrainingRun
from courses.models import Course
from learners.models import TeacherRequest
from tests.factories import (
    ExerciseFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e
OUT = Path("/tmp/shots-teacher")


def shot(page, name):
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def login(page, username):
    page.goto(page.base_url + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill("pass-word-123")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_shots(page, browser, live_server, settings, language):
    settings.LOCALE_PATHS = [Path("/tmp/teacher-locale"), *settings.LOCALE_PATHS]
    suffix = "zh" if language == "zh-hans" else "en"
    teacher = TeacherFactory(username="ada", preferred_language=language)
    colleague = TeacherFactory(username="grace")
    student = UserFactory(username="maya", preferred_language=language)
    staff = UserFactory(username="root", is_staff=True, preferred_language=language)
    TeacherRequest.objects.create(user=student, motivation="Statistics for nurses.")
    course = Course.objects.create(owner=teacher, slug="stats", title="Statistics", status="draft")
    course.instructors.add(colleague)
    full = ModuleFactory(course=course, title="Describing data", position=1)
    ModuleFactory(course=course, title="Probability", position=2)
    for i, title in enumerate(["The mean", "The median", "Spread"], start=1):
        LessonFactory(module=full, title=title, slug=f"l{i}", position=i)
    a = SkillFactory(course=course, name="Mean")
    b = SkillFactory(course=course, name="Median")
    from courses.models import SkillPrerequisite

    SkillPrerequisite.objects.create(skill=b, requires=a)
    ExerciseFactory(course=course, title="Average", kind="numeric")
    now = timezone.now()
    for days, auc, status in ((6, 0.68, "retired"), (3, 0.71, "rejected"), (0, 0.74, "active")):
        ModelVersion.objects.create(
            course=course,
            kind="gru" if days != 6 else "bkt",
            status=status,
            metrics={"auc": auc},
            device="cpu",
            created_at=now - timedelta(days=days),
            activated_at=now if status == "active" else None,
        )
    TrainingRun.objects.create(
        course=course,
        trigger="manual",
        status="failed",
        outcome="failed",
        error="TrainingDataError: not enough data: the holdout learners have 0 scored attempts",
    )
    login(page, "ada")
    shot(page, f"50-landing-studio-{suffix}")
    page.goto(page.base_url + "/studio/courses/stats/")
    shot(page, f"51-studio-course-{suffix}")
    page.goto(page.base_url + "/studio/courses/stats/class/")
    shot(page, f"52-class-dashboard-{suffix}")
    lesson = full.lessons.first()
    page.goto(page.base_url + f"/studio/courses/stats/lessons/{lesson.pk}/blocks/new/?kind=video")
    shot(page, f"53-add-block-video-{suffix}")
    page.goto(page.base_url + "/studio/courses/stats/exercises/new/")
    page.locator("button.add-choice").click()
    page.locator("button.add-choice").click()
    shot(page, f"54-exercise-choices-{suffix}")
    page.goto(page.base_url + "/studio/courses/stats/skills/")
    page.locator("#id_skill").select_option(label="Median")
    page.locator("#id_requires").select_option(label="Mean")
    page.locator("input[value=add_prerequisite]").locator("xpath=..").locator(
        "button[type=submit]"
    ).click()
    page.wait_for_load_state()
    shot(page, f"55-duplicate-prerequisite-{suffix}")
    page.context.clear_cookies()
    login(page, "maya")
    page.goto(page.base_url + "/studio/")
    shot(page, f"56-studio-403-{suffix}")
    page.goto(page.base_url + "/accounts/teach/")
    shot(page, f"57-ask-to-teach-pending-{suffix}")
    page.goto(page.base_url + "/no-such-page/")
    shot(page, f"58-404-{suffix}")
    page.context.clear_cookies()
    login(page, "root")
    page.goto(page.base_url + "/staff/teaching/")
    shot(page, f"59-staff-page-{suffix}")
    page.locator("#id_email").fill("new.teacher@example.org")
    page.locator("form[action$='/invite/'] button[type=submit]").click()
    page.wait_for_load_state()
    shot(page, f"61-staff-invited-{suffix}")
    from django.core import mail

    import re as _re

    link = _re.search(r"(/accounts/teach/invitation/[^/\s]+/)", mail.outbox[-1].body).group(1)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.goto(page.base_url + link)
    shot(page, f"62-invitation-signup-{suffix}")
    page.context.clear_cookies()
    login(page, "maya")
    TeacherRequest.objects.all().delete()
    page.goto(page.base_url + "/accounts/teach/")
    shot(page, f"63-ask-to-teach-form-{suffix}")
    with translation.override(language):
        page.set_content(render_to_string("500.html"))
    shot(page, f"60-500-{suffix}")
    assert page.js_errors == []
