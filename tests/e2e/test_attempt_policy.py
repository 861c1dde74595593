"""The attempt policy in the browser: when the solution appears, remembered work, math, focus."""

import pytest

from courses.models import Exercise
from learners.models import Attempt
from learners.services import enrollment_create, user_create
from tests.e2e.conftest import screenshot
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

EXPLANATION = "An even power of a negative number is positive."


def _lesson():
    course = CourseFactory(slug="powers", title="Powers", owner=TeacherFactory(username="ada"))
    skill = SkillFactory(course=course, name="Powers")
    module = ModuleFactory(course=course, title="Exponents", position=1)
    lesson = LessonFactory(module=module, title="Negative bases", slug="negative", position=1)
    exercise = ExerciseFactory(
        course=course,
        title="A negative base",
        kind=Exercise.Kind.SINGLE,
        numeric_answer=None,
        prompt_md="What is $(-2)^4$?",
        explanation_md=EXPLANATION + " $(-2)^4 = 16$.",
    )
    exercise.skills.set([skill])
    ChoiceFactory(exercise=exercise, text="$16$", is_correct=True, position=1)
    ChoiceFactory(
        exercise=exercise,
        text="$-16$",
        is_correct=False,
        position=2,
        feedback="The sign is inside the power: $(-2)(-2)(-2)(-2)$.",
    )
    ChoiceFactory(exercise=exercise, text="$(-2)^4$ is undefined", is_correct=False, position=3)
    HintFactory(exercise=exercise, position=1, text="Multiply $-2$ by itself.")
    HintFactory(exercise=exercise, position=2, text="Count the minus signs.")
    LessonBlockFactory(lesson=lesson, position=1, body_md="Powers of $-2$.")
    LessonBlockFactory(lesson=lesson, position=2, kind="exercise", body_md="", exercise=exercise)
    student = user_create(username="emmy", password="a-long-pass-phrase")
    enrollment_create(user=student, course=course)
    return course, lesson, exercise, student


def _open(page, course, lesson):
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill("emmy")
    page.get_by_label("Password").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    page.goto(page.base_url + f"/courses/{course.slug}/lessons/{lesson.pk}/")
    page.wait_for_selector("span.math[data-rendered]")


RIGHT, MINUS_SIXTEEN, UNDEFINED = 0, 1, 2  # choice positions (KaTeX draws "-" as a minus sign)


def _answer(page, exercise, index):
    box = page.locator(f"#exercise-{exercise.pk}")
    box.locator("label.choice").nth(index).locator("input").check()
    with page.expect_response(lambda response: "/attempt/" in response.url):
        box.get_by_role("button", name="Check my answer").click()
    return box


def test_no_solution_after_a_first_wrong_answer_and_the_solution_after_the_third(page):
    course, lesson, exercise, _student = _lesson()
    _open(page, course, lesson)
    box = _answer(page, exercise, MINUS_SIXTEEN)

    box.get_by_text("Not quite. Try again.").wait_for()
    assert box.get_by_text("1 of 3 attempts used, 2 left.").is_visible()
    assert box.locator(".solution").count() == 0
    assert EXPLANATION not in box.inner_text()
    # the feedback on the chosen choice is shown, with its math drawn
    assert box.locator(".feedback span.math[data-rendered] .katex").count() == 1
    _answer(page, exercise, MINUS_SIXTEEN)
    box.get_by_text("2 of 3 attempts used, 1 left.").wait_for()
    assert box.locator(".solution").count() == 0
    _answer(page, exercise, UNDEFINED)
    box.get_by_text("Not quite. That was your last attempt.").wait_for()
    assert box.locator(".solution").is_visible()
    assert EXPLANATION in box.locator(".solution").inner_text()
    assert box.get_by_role("button", name="Check my answer").is_disabled()
    assert box.get_by_role("button", name="Show solution").count() == 0
    screenshot(page, "30-solution-after-the-last-attempt")
    assert list(Attempt.objects.values_list("is_correct", flat=True)) == [False, False, False]
    assert page.js_errors == []


def test_show_solution_shows_it_records_it_and_ends_the_exercise(page):
    course, lesson, exercise, student = _lesson()
    _open(page, course, lesson)
    box = page.locator(f"#exercise-{exercise.pk}")
    page.once("dialog", lambda dialog: dialog.accept())

    with page.expect_response(lambda response: "/solution/" in response.url):
        box.get_by_role("button", name="Show solution").click()

    box.get_by_text("Here is the solution.").wait_for()
    assert EXPLANATION in box.locator(".solution").inner_text()
    assert box.get_by_role("button", name="Check my answer").is_disabled()
    revealed = Attempt.objects.get(user=student)
    assert (revealed.is_correct, revealed.is_revealed) == (False, True)
    page.reload()
    assert box.get_by_text("You asked to see the solution.").is_visible()
    assert box.get_by_role("button", name="Check my answer").is_disabled()


def test_a_solved_exercise_shows_as_solved_with_the_answer_on_revisit(page):
    course, lesson, exercise, _student = _lesson()
    _open(page, course, lesson)
    box = _answer(page, exercise, MINUS_SIXTEEN)
    box.get_by_text("Not quite. Try again.").wait_for()
    box = _answer(page, exercise, RIGHT)
    box.get_by_text("Correct!").wait_for()

    page.reload()
    page.wait_for_selector("span.math[data-rendered]")

    box = page.locator(f"#exercise-{exercise.pk}")
    assert box.get_attribute("data-solved") == "true"
    assert box.get_by_text("You solved this exercise.").is_visible()
    assert box.get_by_text("Solved on attempt 2 of 3.").is_visible()
    checked = box.locator("input[name=answer]:checked")
    assert checked.get_attribute("value") == str(exercise.choices.get(is_correct=True).pk)
    assert EXPLANATION in box.locator(".solution").inner_text()
    screenshot(page, "31-solved-on-revisit")


def test_math_in_choices_is_drawn_by_katex(page):
    course, lesson, exercise, _student = _lesson()

    _open(page, course, lesson)

    choices = page.locator(f"#exercise-{exercise.pk} label.choice")
    assert choices.count() == 3
    assert choices.locator("span.math[data-rendered] .katex").count() == 3
    assert "$" not in choices.first.inner_text()
    assert page.js_errors == []


def test_a_revealed_hint_takes_the_keyboard_focus_and_is_remembered(page):
    course, lesson, exercise, _student = _lesson()
    _open(page, course, lesson)
    box = page.locator(f"#exercise-{exercise.pk}")

    box.get_by_role("button", name="Show a hint").focus()
    page.keyboard.press("Enter")

    box.locator(".hint-item").first.wait_for()
    page.wait_for_function("() => document.activeElement.classList.contains('hint-item')")
    assert box.locator(".hint-item .katex").count() == 1
    page.reload()
    assert box.locator(".hint-item").count() == 1
