"""A teacher builds a course in the studio and publishes it; a student finds it in the catalogue."""

import pytest

from courses.models import Course, Exercise, LessonBlock, SkillPrerequisite
from tests.e2e.conftest import media_fixture, screenshot
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.e2e


def _log_in(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")


def test_teacher_journey(page):
    TeacherFactory(username="ada")
    UserFactory(username="learner")
    base = page.base_url
    _log_in(page, "ada")
    # a draft course
    page.get_by_role("link", name="Studio").click()
    page.get_by_role("link", name="New course").click()
    page.get_by_label("Title").fill("Programming with loops")
    page.get_by_label("Summary").fill("Repeat yourself, efficiently.")
    page.get_by_label("Description (Markdown)").fill("Loops **repeat** work.")
    page.get_by_role("button", name="Create the course").click()
    page.get_by_text("Course created as a draft.").wait_for()
    course = Course.objects.get(title="Programming with loops")
    assert course.status == Course.Status.DRAFT
    # skills and a prerequisite; the opposite edge would close a cycle and is refused
    page.get_by_role("navigation", name="Course studio").get_by_role("link", name="Skills").click()
    for name in ("Variables", "Loops"):
        page.get_by_label("Skill name").fill(name)
        page.get_by_role("button", name="Add the skill").click()
        page.get_by_text("Skill added.").wait_for()
    page.locator("#id_skill").select_option(label="Loops")
    page.locator("#id_requires").select_option(label="Variables")
    page.get_by_role("button", name="Add the prerequisite").click()
    page.get_by_text("Skill graph saved.").wait_for()
    page.locator("#id_skill").select_option(label="Variables")
    page.locator("#id_requires").select_option(label="Loops")
    page.get_by_role("button", name="Add the prerequisite").click()
    page.get_by_text("would close a cycle").wait_for()
    assert SkillPrerequisite.objects.count() == 1
    assert page.locator("svg.skill-graph g.node").count() == 2
    assert page.locator("svg.skill-graph line").count() == 1
    screenshot(page, "10-studio-skill-graph")
    # a module and a lesson tagged with a skill
    page.get_by_role("navigation", name="Course studio").get_by_role("link", name="Outline").click()
    page.get_by_label("Module title").fill("Repetition")
    page.get_by_role("button", name="Add the module").click()
    page.get_by_text("Add a lesson").click()
    page.get_by_label("Lesson title").fill("The for loop")
    page.get_by_role("group", name="Skills taught").get_by_label("Loops").check()
    page.get_by_role("button", name="Add the lesson").click()
    page.get_by_text("Lesson added.").wait_for()
    # a video block with captions
    page.get_by_role("link", name="Add a block").click()
    page.get_by_label("Kind").select_option("video")
    page.get_by_label("Media file (video, audio or image)").set_input_files(
        str(media_fixture("intro.webm"))
    )
    page.get_by_label("Captions (WebVTT .vtt)").set_input_files(str(media_fixture("intro.vtt")))
    page.get_by_label("Duration in seconds").fill("8")
    page.get_by_label("Transcript").fill("Welcome to the course.")
    page.get_by_role("button", name="Save the block").click()
    page.get_by_text("Block added.").wait_for()
    # an exercise tagged with both skills, with a hint
    page.get_by_role("navigation", name="Course studio").get_by_role(
        "link", name="Exercises"
    ).click()
    page.get_by_role("link", name="New exercise").click()
    page.get_by_label("Title", exact=True).fill("Count the turns")
    page.get_by_label("Kind").select_option("numeric")
    assert page.locator("fieldset.choice-set").is_hidden()
    page.get_by_label("Question (Markdown)").fill("How many times does `range(3)` repeat?")
    page.get_by_label("Numeric answer").fill("3")
    page.get_by_label("Hints (one per line, in order)").fill("Count from 0.")
    page.get_by_role("group", name="Skills practised").get_by_label("Loops").check()
    page.get_by_role("group", name="Skills practised").get_by_label("Variables").check()
    screenshot(page, "16-studio-exercise-editor")
    page.get_by_role("button", name="Save the exercise").click()
    page.get_by_text("Exercise saved.").wait_for()
    exercise = Exercise.objects.get(title="Count the turns")
    assert sorted(exercise.skills.values_list("name", flat=True)) == ["Loops", "Variables"]
    # the exercise goes into the lesson as a second block
    page.get_by_role("navigation", name="Course studio").get_by_role("link", name="Outline").click()
    page.get_by_role("link", name="The for loop").click()
    page.get_by_role("link", name="Add a block").click()
    page.get_by_label("Kind").select_option("exercise")
    page.get_by_label("Exercise", exact=True).select_option(label="Count the turns")
    page.get_by_role("button", name="Save the block").click()
    page.get_by_text("Block added.").wait_for()
    # drag the exercise above the video, then put it back with the keyboard buttons
    blocks = page.locator("ol.blocks > li")
    blocks.nth(1).drag_to(blocks.nth(0))
    page.get_by_text("New order saved.").wait_for()
    kinds = list(LessonBlock.objects.order_by("position").values_list("kind", flat=True))
    assert kinds == ["exercise", "video"]
    screenshot(page, "11-studio-lesson")
    page.get_by_role("button", name="Move Exercise block 1 down").focus()
    page.keyboard.press("Enter")
    page.get_by_text("New order saved.").wait_for()
    kinds = list(LessonBlock.objects.order_by("position").values_list("kind", flat=True))
    assert kinds == ["video", "exercise"]
    # preview as a student, then publish
    page.get_by_role("link", name="Preview as a student").click()
    page.get_by_text("Preview as a student: answers are graded").wait_for()
    page.get_by_label("Your answer (a number)").fill("3")
    page.get_by_role("button", name="Check my answer").click()
    page.get_by_text("Correct!").wait_for()
    assert not exercise.attempts.exists()
    page.goto(base + f"/studio/courses/{course.slug}/")
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("The course is published.").wait_for()
    screenshot(page, "12-studio-course")
    page.get_by_role("navigation", name="Course studio").get_by_role(
        "link", name="Class dashboard"
    ).click()
    screenshot(page, "13-class-dashboard")
    page.get_by_role("button", name="Log out (ada)").click()
    # a student finds it in the catalogue
    _log_in(page, "learner")
    page.get_by_role("link", name="Catalogue", exact=True).click()
    page.get_by_label("Search courses and skills").fill("loops")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Programming with loops").click()
    page.get_by_role("button", name="Enrol in this course").click()
    page.get_by_role("link", name="Continue learning").click()
    assert page.locator("video track[kind='captions']").count() == 1
    screenshot(page, "14-published-lesson")
    # narrow screens: the lesson player fits without sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "15-published-lesson-mobile")
    assert page.js_errors == []
