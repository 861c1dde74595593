"""The demo course of `make run` in the browser: every kind of block, both dashboards."""

import pytest

from adaptive.services.learning_paths import path_refresh
from courses.models import Lesson, LessonBlock, Skill
from learners.demo import media
from learners.demo.seeding import DEMO_PASSWORD_STUDENT, DEMO_PASSWORD_TEACHER, demo_seed
from learners.models import Attempt, Enrollment
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def _log_in(page, username, password, landing="**/dashboard/"):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(landing)


def test_demo_course_pages_render_every_block_kind(page):
    result = demo_seed(students=6, seed=7)
    course = result.course
    path_refresh(course_id=course.pk)
    student = next(a for a in result.accounts if a.role == "student")
    media_lessons = {
        kind: Lesson.objects.filter(module__course=course, blocks__kind=kind).first()
        for kind in (LessonBlock.Kind.VIDEO, LessonBlock.Kind.AUDIO, LessonBlock.Kind.IMAGE)
    }
    _log_in(page, student.username, DEMO_PASSWORD_STUDENT)
    screenshot(page, "30-demo-student-dashboard")
    if not Enrollment.objects.filter(user__username=student.username, course=course).exists():
        page.goto(page.base_url + f"/courses/{course.slug}/")
        page.get_by_role("button", name="Enrol in this course").click()
    page.goto(page.base_url + f"/courses/{course.slug}/")
    screenshot(page, "31-demo-course-page")
    for kind, lesson in media_lessons.items():
        assert lesson is not None, kind
        page.goto(page.base_url + f"/courses/{course.slug}/lessons/{lesson.pk}/")
        if kind == LessonBlock.Kind.IMAGE:
            image = page.locator("figure.media img").first
            assert image.get_attribute("alt")
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
            )
        else:
            page.wait_for_selector(f"{kind}[data-ready='1']")
        if kind == LessonBlock.Kind.VIDEO:
            _check_narrated_video(page)
        screenshot(page, f"32-demo-lesson-{kind}")
    statistics = result.courses[1]
    page.goto(page.base_url + f"/courses/{statistics.slug}/")
    assert page.locator("h1").inner_text() == "Introduction to Statistics"
    screenshot(page, "35-demo-statistics-course")
    lesson = Lesson.objects.filter(module__course=statistics, blocks__kind="image").first()
    page.goto(page.base_url + f"/courses/{statistics.slug}/lessons/{lesson.pk}/")
    image = page.locator("figure.media img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    screenshot(page, "36-demo-statistics-lesson-image")
    page.get_by_role("button", name=f"Log out ({student.username})").click()
    _log_in(page, "teacher", DEMO_PASSWORD_TEACHER, "**/studio/")  # teachers land there
    page.goto(page.base_url + f"/studio/courses/{course.slug}/class/")
    # As `make run` does: the demo learners' mastery from their seeded answers. Per skill, the
    # learners shown started must be exactly those with their own answers on it
    # (docs/mastery-display.md), and every learner counts once per skill: an empty one fails.
    learners = Enrollment.objects.filter(course=course).count()
    answered = (
        Attempt.objects.filter(course=course, user__enrollments__course=course)
        .values_list("user_id", "exercise__skills")
        .distinct()
        .count()
    )
    assert answered > learners
    assert page.locator("[data-empty='heatmap']").count() == 0
    rows = page.locator("table.skill-distribution tbody tr")
    skills = Skill.objects.filter(course=course).count()
    assert rows.count() == min(skills, 20)
    started = 0
    for n in range(rows.count()):
        counts = {
            status: int(rows.nth(n).locator(f"td[data-status='{status}']").inner_text())
            for status in ("not_started", "learning", "almost", "mastered")
        }
        assert sum(counts.values()) == learners
        started += counts["learning"] + counts["almost"] + counts["mastered"]
    assert started == answered
    assert page.locator("table.class-learners tbody tr").count() == min(learners, 25)
    screenshot(page, "33-demo-class-dashboard")
    page.locator("table.class-learners tbody th a").first.click()
    page.wait_for_selector("ul.mastery-chart")
    assert page.locator("ul.mastery-chart li").count() == skills
    screenshot(page, "33-demo-class-learner")
    page.goto(page.base_url + f"/studio/courses/{course.slug}/skills/")
    assert page.locator("svg.skill-graph g.node").count() >= 10
    screenshot(page, "34-demo-skill-graph")
    assert page.js_errors == []


def _check_narrated_video(page):
    """The video plays real sound, and its captions are the spoken sentences, in order."""
    video = page.locator("video").first
    cues = video.evaluate(
        """async (v) => {
            const track = v.textTracks[0];
            track.mode = "hidden";
            for (let i = 0; i < 50 && !(track.cues && track.cues.length); i++) {
                await new Promise((r) => setTimeout(r, 100));
            }
            return Array.from(track.cues || [], (cue) => cue.text);
        }"""
    )
    assert cues == list(media.NUMBER_LINE_NARRATION)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.webkitAudioDecodedByteCount > 0", arg=video.element_handle())
    video.evaluate("v => v.pause()")
