"""The lesson page's learner panel (served by the adaptive app) tells a new student the truth.

The panel comes from helper "display"'s `adaptive:learner-panel`; on a branch without it these
tests skip. Its markup: one row per skill with `data-skill`, `data-status`
("not_started" while the learner has no evidence on it) and `data-shown-percent`.
"""

import pytest
from django.urls import NoReverseMatch, reverse

from courses.models import Exercise
from learners.services import enrollment_create, user_create
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    ExerciseFactory,
    LessonBlockFactory,
    LessonFactory,
    ModuleFactory,
    SkillFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.e2e

ROWS = "#learner-panel [data-skill]"


@pytest.fixture(autouse=True)
def _needs_the_learner_panel():
    try:
        reverse("adaptive:learner-panel", args=["any"])
    except NoReverseMatch:
        pytest.skip("the adaptive app on this branch serves no learner panel yet")


def _course():
    course = CourseFactory(slug="signs", title="Signs", owner=TeacherFactory(username="noether"))
    integers = SkillFactory(course=course, name="Integer arithmetic")
    powers = SkillFactory(course=course, name="Powers")
    SkillFactory(course=course, name="Inequalities")
    module = ModuleFactory(course=course, title="Numbers", position=1)
    lesson = LessonFactory(module=module, title="Negative numbers", slug="negative", position=1)
    lesson.skills.set([integers])
    exercise = ExerciseFactory(
        course=course,
        title="Minus times minus",
        kind=Exercise.Kind.SINGLE,
        numeric_answer=None,
        prompt_md="What is $(-3) \\times (-2)$?",
    )
    exercise.skills.set([integers])
    ChoiceFactory(exercise=exercise, text="$6$", is_correct=True, position=1)
    ChoiceFactory(exercise=exercise, text="$-6$", is_correct=False, position=2)
    LessonBlockFactory(lesson=lesson, position=1, kind="exercise", body_md="", exercise=exercise)
    student = user_create(username="sophie", password="a-long-pass-phrase")
    enrollment_create(user=student, course=course)
    return course, lesson, exercise, integers, powers


def _open(page, course, lesson):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill("sophie")
    page.get_by_label("Password").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    page.goto(page.base_url + f"/courses/{course.slug}/lessons/{lesson.pk}/")
    page.wait_for_selector(ROWS)


def _row(page, skill):
    return page.locator(f'#learner-panel [data-skill="{skill.pk}"]')


def _shown_percent(page, skill) -> float:
    value = _row(page, skill).get_attribute("data-shown-percent") or ""
    return float(value) if value.strip() else 0.0


def test_a_new_student_sees_not_started_on_every_untouched_skill(page):
    course, lesson, *_ = _course()

    _open(page, course, lesson)

    statuses = page.locator(ROWS).evaluate_all("rows => rows.map(row => row.dataset.status)")
    assert len(statuses) == 3
    assert statuses == ["not_started"] * 3
    assert page.js_errors == []


def test_a_right_answer_raises_the_practised_skill_on_the_same_page(page):
    course, lesson, exercise, integers, powers = _course()
    _open(page, course, lesson)
    before = _shown_percent(page, integers)
    untouched_before = _row(page, powers).get_attribute("data-status")
    page.evaluate("() => { window.__samePage = true; }")

    page.locator(f"#exercise-{exercise.pk} label.choice").first.locator("input").check()
    page.locator(f"#exercise-{exercise.pk}").get_by_role("button", name="Check my answer").click()
    page.get_by_text("Correct!").wait_for()

    # the panel reloads on "attempt-recorded" and polls while "updating"; no page load
    page.wait_for_function(
        """([id, before]) => {
            const row = document.querySelector(`#learner-panel [data-skill="${id}"]`);
            return row && row.dataset.status !== "not_started"
                && parseFloat(row.dataset.shownPercent || "0") > before;
        }""",
        arg=[integers.pk, before],
        timeout=20_000,
    )
    assert page.evaluate("() => window.__samePage") is True
    assert _shown_percent(page, integers) > before
    assert (untouched_before, _row(page, powers).get_attribute("data-status")) == (
        "not_started",
        "not_started",
    )
