"""A teacher builds a course in the studio and publishes it; a student finds it in the catalogue."""

import pytest

from courses.models import Course, Exercise, LessonBlock, SkillPrerequisite
from tests.e2e.conftest import media_fixture, screenshot
from tests.factories import TeacherFactory, UserFactory

pytestmark = pytest.mark.e2e


def _log_in(page, username: str, landing: str = "**/dashboard/") -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(landing)


def _wait_saved(page, list_selector: str, ids: list[int]) -> None:
    """Wait until the studio script reports `ids` as the saved order of the list."""
    order = ",".join(str(pk) for pk in ids)
    page.wait_for_function(
        "([selector, order]) => document.querySelector(selector)"
        ".getAttribute('data-saved-order') === order && "
        "!document.querySelector(selector).hasAttribute('data-saving')",
        arg=[list_selector, order],
    )


def test_teacher_journey(page):
    TeacherFactory(username="ada")
    UserFactory(username="learner")
    base = page.base_url
    _log_in(page, "ada", "**/studio/")
    # a draft course
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
    video_pk, exercise_pk = LessonBlock.objects.order_by("position").values_list("pk", flat=True)
    blocks.nth(1).drag_to(blocks.nth(0))
    _wait_saved(page, "ol.blocks", [exercise_pk, video_pk])
    kinds = list(LessonBlock.objects.order_by("position").values_list("kind", flat=True))
    assert kinds == ["exercise", "video"]
    screenshot(page, "11-studio-lesson")
    page.get_by_role("button", name="Move Exercise: Count the turns down").focus()
    page.keyboard.press("Enter")
    _wait_saved(page, "ol.blocks", [video_pk, exercise_pk])
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


def _sign_up(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-9")
    page.get_by_label("Password again").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/courses/")


def test_sign_up_to_published_course_without_the_django_admin(page, browser, live_server):
    from learners.models import User

    UserFactory(username="root", is_staff=True)
    # a student signs up and asks to teach; the studio says where to ask
    _sign_up(page, "grace")
    page.goto(page.base_url + "/studio/")
    page.get_by_text("Only teachers can use the studio.").wait_for()
    screenshot(page, "40-studio-403-for-a-student")
    page.get_by_role("link", name="Ask to teach").click()
    page.get_by_label("What would you like to teach, and why?").fill(
        "Statistics for nurses: I teach it at the hospital."
    )
    screenshot(page, "41-ask-to-teach")
    page.get_by_role("button", name="Ask to teach").click()
    page.get_by_text("Request sent.").wait_for()
    screenshot(page, "42-ask-to-teach-pending")
    # staff approve on the staff page (another browser session)
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    staff_page = staff_context.new_page()
    staff_page.base_url = live_server.url
    _log_in(staff_page, "root")
    staff_page.get_by_role("link", name="Teacher requests").click()
    staff_page.get_by_text("Statistics for nurses").wait_for()
    screenshot(staff_page, "43-staff-teacher-requests")
    staff_page.get_by_role("button", name="Approve grace").click()
    staff_page.get_by_text("grace can now teach.").wait_for()
    staff_context.close()
    assert User.objects.get(username="grace").role == User.Role.TEACHER
    # the new teacher logs in again and lands in the studio
    page.get_by_role("button", name="Log out (grace)").click()
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/studio/")
    # a first course: module, lesson, a text block; the warnings disappear once it is filled
    page.get_by_role("link", name="New course").click()
    page.get_by_label("Title").fill("Statistics for nurses")
    page.get_by_label("Summary").fill("Means, spreads and charts on the ward.")
    page.get_by_role("button", name="Create the course").click()
    page.get_by_text("Course created as a draft.").wait_for()
    page.get_by_label("Module title").fill("Describing data")
    page.get_by_role("button", name="Add the module").click()
    page.get_by_text("The module “Describing data” has no lesson yet.").wait_for()
    screenshot(page, "44-studio-course-warnings")
    page.get_by_text("Add a lesson").click()
    page.get_by_label("Lesson title").fill("The mean")
    page.get_by_role("button", name="Add the lesson").click()
    page.get_by_text("Lesson added.").wait_for()
    page.get_by_role("link", name="Add a block").click()
    assert page.title().startswith("Add block")
    page.get_by_label("Kind").select_option("image")
    assert page.get_by_label("Alternative text (images)").is_visible()
    assert page.get_by_label("Exercise", exact=True).is_hidden()
    screenshot(page, "45-add-block-image")
    page.get_by_label("Kind").select_option("text")
    assert page.get_by_label("Alternative text (images)").is_hidden()
    assert page.get_by_label("Media file (video, audio or image)").is_hidden()
    page.get_by_label("Text (Markdown)").fill("The **mean** adds the values and divides.")
    page.get_by_role("button", name="Save the block").click()
    page.get_by_text("Block added.").wait_for()
    page.get_by_role("link", name="Statistics for nurses").first.click()
    assert page.locator("#publish-warnings").count() == 0
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("The course is published.").wait_for()
    screenshot(page, "46-studio-course-published")
    course = Course.objects.get(title="Statistics for nurses")
    assert course.status == Course.Status.PUBLISHED
    assert course.owner.username == "grace"
    assert page.js_errors == []


def test_an_owner_adds_a_co_instructor_who_can_then_edit(page, browser, live_server):
    owner = TeacherFactory(username="ada")
    TeacherFactory(username="grace")
    course = Course.objects.create(owner=owner, slug="loops", title="Loops")
    _log_in(page, "ada", "**/studio/")
    page.get_by_role("link", name="Loops").click()
    page.get_by_label("Add a co-instructor (username or e-mail)").fill("grace")
    page.get_by_role("button", name="Add the co-instructor").click()
    page.get_by_text("grace now teaches this course.").wait_for()
    screenshot(page, "47-studio-instructors")
    assert list(course.instructors.values_list("username", flat=True)) == ["grace"]
    # the co-instructor sees the course in the studio and edits it
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    co_page = other.new_page()
    co_page.base_url = live_server.url
    _log_in(co_page, "grace", "**/studio/")
    co_page.get_by_role("link", name="Loops").click()
    assert co_page.get_by_label("Add a co-instructor (username or e-mail)").count() == 0
    co_page.get_by_label("Summary", exact=True).fill("Edited by the co-instructor.")
    co_page.get_by_role("button", name="Save", exact=True).click()
    co_page.get_by_text("Course saved.").wait_for()
    other.close()
    course.refresh_from_db()
    assert course.summary == "Edited by the co-instructor."
    # removed, the course is closed to them again
    page.reload()
    page.get_by_role("button", name="Remove grace").click()
    page.get_by_text("grace no longer teaches this course.").wait_for()
    assert not course.instructors.exists()
    assert page.js_errors == []


def test_lessons_reorder_with_a_real_mouse_and_the_keyboard_keeps_focus(page):
    from tests.factories import LessonFactory, ModuleFactory

    owner = TeacherFactory(username="ada")
    course = Course.objects.create(owner=owner, slug="order", title="Order")
    module = ModuleFactory(course=course, title="Only module", position=1)
    lessons = [
        LessonFactory(module=module, title=title, slug=title.lower(), position=index)
        for index, title in enumerate(["Alpha", "Bravo", "Charlie"], start=1)
    ]
    alpha, bravo, charlie = (lesson.pk for lesson in lessons)
    _log_in(page, "ada", "**/studio/")
    page.goto(page.base_url + "/studio/courses/order/")
    selector = "ol.lessons"

    def order() -> list[int]:
        return list(module.lessons.order_by("position").values_list("pk", flat=True))

    # a real mouse: press on Alpha's handle, move below Charlie in small steps, release
    handle = page.locator(f'li[data-id="{alpha}"] > .row .drag-handle').bounding_box()
    target = page.locator(f'li[data-id="{charlie}"] > .row').bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + 40, target["y"] + target["height"] * 0.8, steps=12)
    page.mouse.up()
    _wait_saved(page, selector, [bravo, charlie, alpha])
    assert order() == [bravo, charlie, alpha]
    page.get_by_text("New order saved.").wait_for()
    page.reload()  # the order survives a reload
    rows = page.locator(f"{selector} > li").evaluate_all("els => els.map(e => +e.dataset.id)")
    assert rows == [bravo, charlie, alpha]
    screenshot(page, "48-studio-reordered")
    # the keyboard: Enter on "Move Alpha up" twice; the focus stays on Alpha's button
    page.get_by_role("button", name="Move Alpha up").focus()
    page.keyboard.press("Enter")
    _wait_saved(page, selector, [bravo, alpha, charlie])
    focused = "() => document.activeElement.getAttribute('aria-label')"
    assert page.evaluate(focused) == "Move Alpha up"
    page.keyboard.press("Enter")
    _wait_saved(page, selector, [alpha, bravo, charlie])
    assert order() == [alpha, bravo, charlie]
    # at the top "up" is disabled, so the focus moves to Alpha's "down" button
    assert page.evaluate(focused) == "Move Alpha down"
    # a co-author adds a lesson meanwhile: this page's order is stale, the server refuses it,
    # and the rows go back where they were, with the reason in the status line
    LessonFactory(module=module, title="Delta", slug="delta", position=4)
    handle = page.locator(f'li[data-id="{charlie}"] > .row .drag-handle').bounding_box()
    target = page.locator(f'li[data-id="{alpha}"] > .row').bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + 40, target["y"] + target["height"] * 0.2, steps=12)
    page.mouse.up()
    page.locator("#reorder-status.error").get_by_text("exactly once").wait_for()
    rows = page.locator(f"{selector} > li").evaluate_all("els => els.map(e => +e.dataset.id)")
    assert rows == [alpha, bravo, charlie]
    assert order()[:3] == [alpha, bravo, charlie]
    assert page.js_errors == []
