"""The pages work under the Content-Security-Policy: Chromium reports no violation anywhere.

Every page listens for `securitypolicyviolation` from its first script on (an init script), and
the console is watched for CSP messages; each main page is visited and used (KaTeX draws, the
video plays, htmx answers and hints, Swagger UI lists the operations, the admin edits a course).
"""

import pytest

from courses.models import Course
from learners.models import Enrollment
from tests.e2e.test_student_journey import _course
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__csp.push(
    `${event.violatedDirective} blocked ${event.blockedURI}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def _watch(page) -> list[str]:
    console: list[str] = []
    page.context.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return console


def _violations(page) -> list[str]:
    return page.evaluate("() => window.__csp || []")


def _login(page, username: str, password: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_no_page_violates_the_content_security_policy(page) -> None:
    console = _watch(page)
    course = _course()
    password = "a-long-pass-phrase"
    student = UserFactory(username="ada")
    student.set_password(password)
    student.save()
    Enrollment.objects.create(user=student, course=course)
    teacher = course.owner
    teacher.set_password(password)
    teacher.is_staff = True
    teacher.is_superuser = True
    teacher.save()
    lesson = course.modules.get().lessons.order_by("position").first()
    base = page.base_url
    seen: dict[str, list[str]] = {}

    def visit(path: str, then=None) -> None:
        response = page.goto(base + path)
        assert response is not None, path
        assert response.status < 400, (path, response.status)
        assert "content-security-policy" in response.headers, path
        if then is not None:
            then()
        page.wait_for_timeout(150)  # let late violations (fonts, media) arrive
        seen[path] = _violations(page)

    for path in ("/", "/courses/", "/accounts/login/", "/accounts/signup/", "/api/docs/"):
        visit(path)

    _login(page, "ada", password)

    def lesson_used() -> None:
        page.wait_for_selector("span.math[data-rendered] .katex")
        page.wait_for_selector("video[data-ready='1']")
        page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; }")
        page.evaluate("() => document.querySelector('video').play()")
        page.wait_for_function("() => document.querySelector('video').currentTime > 0.5")
        page.get_by_role("button", name="Show a hint").click()
        page.get_by_text("A name stands for its value.").wait_for()
        page.get_by_label("2", exact=True).check()
        page.get_by_role("button", name="Check my answer").click()
        page.get_by_text("Correct!").wait_for()

    visit(f"/courses/{course.slug}/")
    visit(f"/courses/{course.slug}/lessons/{lesson.pk}/", lesson_used)
    visit("/dashboard/")
    visit("/accounts/profile/")
    visit("/accounts/password/")
    page.context.clear_cookies()

    _login(page, teacher.username, password)
    visit("/studio/")
    visit(f"/studio/courses/{course.slug}/")
    visit(f"/studio/courses/{course.slug}/exercises/")
    visit(f"/studio/courses/{course.slug}/skills/")
    visit(f"/studio/courses/{course.slug}/class/")
    visit("/admin/")
    visit("/admin/courses/course/")
    visit(f"/admin/courses/course/{course.pk}/change/")

    def swagger_used() -> None:
        page.locator(".opblock").first.wait_for()

    visit("/api/docs/", swagger_used)

    assert {path: found for path, found in seen.items() if found} == {}
    assert console == []
    assert page.js_errors == []
    assert Course.objects.filter(pk=course.pk).exists()
