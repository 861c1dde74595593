"""Accounts, catalogue, course page and lesson player, through Django's test client."""

import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from courses.models import Course
from learners.models import Attempt, Enrollment, LessonEvent, User
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_a_student_logs_in_and_sets_the_language(client):
    # when
    response = client.post(
        reverse("learners:signup"),
        {
            "username": "mei",
            "email": "mei@example.org",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
            "preferred_language": "zh-hans",
        },
    )
    # then
    assert response.status_code == 302
    user = User.objects.get(username="mei")
    assert user.role == User.Role.STUDENT
    assert user.preferred_language == "zh-hans"
    assert response.cookies["django_language"].value == "zh-hans"
    assert client.get(reverse("adaptive:dashboard")).status_code == 200


def test_signup_refuses_a_weak_password_and_creates_nothing(client):
    response = client.post(
        reverse("learners:signup"),
        {"username": "bob", "password1": "123", "password2": "123", "preferred_language": "en"},
    )
    assert response.status_code == 200
    assert b"error" in response.content
    assert not User.objects.filter(username="bob").exists()


def test_login_switches_to_the_preferred_language_and_logout_needs_post(client):
    UserFactory(username="li", preferred_language="zh-hans")
    response = client.post(
        reverse("learners:login"), {"username": "li", "password": "pass-word-123"}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"
    assert client.get(reverse("learners:logout")).status_code == 405
    assert client.post(reverse("learners:logout")).status_code == 302


def test_password_reset_mails_a_link_that_opens_the_new_password_form(client):
    UserFactory(username="ann", email="ann@example.org")
    response = client.post(reverse("learners:password_reset"), {"email": "ann@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert b"new_password1" in form_page.content


def test_profile_changes_the_preferred_language(client, classroom):
    client.force_login(classroom.student)
    response = client.post(
        reverse("learners:profile"),
        {
            "first_name": "Stu",
            "last_name": "Dent",
            "email": "s@example.org",
            "preferred_language": "zh-hans",
        },
    )
    assert response.status_code == 302
    classroom.student.refresh_from_db()
    assert classroom.student.preferred_language == "zh-hans"
    assert classroom.student.first_name == "Stu"


def test_catalogue_lists_published_courses_and_filters_by_skill_and_language(client, classroom):
    CourseFactory(title="Secret draft", status=Course.Status.DRAFT, published_at=None)
    CourseFactory(title="Chinese poetry", language="zh-hans")
    page = client.get(reverse("courses:catalogue")).content.decode()
    assert "Algebra basics" in page
    assert "Chinese poetry" in page
    assert "Secret draft" not in page
    by_skill = client.get(reverse("courses:catalogue"), {"q": "fractions"}).content.decode()
    assert "Algebra basics" in by_skill
    assert "Chinese poetry" not in by_skill
    by_language = client.get(reverse("courses:catalogue"), {"language": "zh-hans"}).content
    assert b"Chinese poetry" in by_language
    assert b"Algebra basics" not in by_language


def test_course_page_shows_syllabus_skills_and_an_enrol_button(client, classroom):
    newcomer = UserFactory(username="newcomer")
    client.force_login(newcomer)
    page = client.get(reverse("learners:course_detail", args=["algebra"])).content.decode()
    assert "What is a fraction" in page
    assert "Equations" in page
    assert reverse("learners:enrol", args=["algebra"]) in page
    response = client.post(reverse("learners:enrol", args=["algebra"]))
    assert response.status_code == 302
    assert Enrollment.objects.filter(user=newcomer, course=classroom.course).exists()
    page = client.get(reverse("learners:course_detail", args=["algebra"])).content.decode()
    assert "Lessons complete: 0 of 2. Exercises solved: 0 of 2. 0.0% of the course done." in page


def test_draft_course_page_is_hidden_from_students(client):
    draft = CourseFactory(status=Course.Status.DRAFT, published_at=None)
    assert client.get(reverse("learners:course_detail", args=[draft.slug])).status_code == 404


def test_lesson_player_renders_blocks_in_order_with_captions_and_sanitised_markdown(
    client, classroom
):
    client.force_login(classroom.student)
    url = reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    page = client.get(url).content.decode()
    heading, video, exercise = (
        page.index("<h1>Fractions</h1>"),
        page.index("<video"),
        page.index('id="exercise-'),
    )
    assert heading < video < exercise
    assert "<pre><code>print(1/2)" in page
    assert '<track kind="captions"' in page
    assert "Hello and welcome." in page
    assert "Solving equations" in page  # the next-lesson link
    assert LessonEvent.objects.filter(user=classroom.student, verb="viewed").count() == 1


def test_lesson_player_sends_a_visitor_who_is_not_enrolled_to_the_course_page(client, classroom):
    client.force_login(UserFactory(username="visitor"))
    url = reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == reverse("learners:course_detail", args=["algebra"])


def test_video_events_are_recorded_and_the_player_resumes_there(client, classroom):
    client.force_login(classroom.student)
    lesson = classroom.lessons[0]
    response = client.post(
        reverse("learners:lesson_event", args=[lesson.pk]),
        {"verb": "paused", "position_seconds": 12.5, "block": classroom.video.pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    page = client.get(reverse("learners:lesson", args=["algebra", lesson.pk])).content.decode()
    assert 'data-resume="12.5"' in page


def test_a_bad_video_event_is_refused_with_a_message(client, classroom):
    client.force_login(classroom.student)
    response = client.post(
        reverse("learners:lesson_event", args=[classroom.lessons[0].pk]),
        {"verb": "exploded", "block": classroom.video.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Unknown verb" in response.json()["detail"]
    assert not LessonEvent.objects.filter(block=classroom.video).exists()


def test_answers_are_graded_on_the_server_with_hints_counted(client, classroom):
    client.force_login(classroom.student)
    wrong, right = classroom.single.choices.order_by("position").reverse()
    hint = client.post(
        reverse("learners:hint", args=[classroom.single.pk]),
        {"hints_shown": "5"},  # a learner's count comes from the server, not from this
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Two equal parts." in hint
    assert 'value="1"' in hint
    first = client.post(
        reverse("learners:attempt", args=[classroom.single.pk]),
        {"answer": str(wrong.pk), "hints_used": "0"},
        HTTP_HX_REQUEST="true",
    )
    first_page = first.content.decode()
    assert "Not quite. Try again." in first_page
    assert "Too small." in first_page
    assert "One half is 1/2." not in first_page  # no worked solution after a first wrong answer
    assert 'data-solution-shown="false"' in first_page
    assert "1 of 3 attempts used, 2 left." in first_page
    assert json.loads(first.headers["HX-Trigger"]) == {
        "attempt-recorded": {"exercise": classroom.single.pk}
    }
    second = client.post(
        reverse("learners:attempt", args=[classroom.single.pk]),
        {"answer": str(right.pk), "hints_used": "2", "is_correct": "false"},
    ).content.decode()
    assert "Correct!" in second
    assert "One half is 1/2." in second
    assert "Solved on attempt 2 of 3." in second
    attempts = list(Attempt.objects.filter(user=classroom.student).order_by("id"))
    assert [(a.is_correct, a.hints_used) for a in attempts] == [(False, 1), (True, 1)]


def test_a_malformed_answer_gets_a_message_and_records_nothing(client, classroom):
    client.force_login(classroom.student)
    page = client.post(
        reverse("learners:attempt", args=[classroom.numeric.pk]), {"answer": "forty-two"}
    ).content.decode()
    assert "must be a number" in page
    assert not Attempt.objects.exists()


def test_mark_complete_moves_on_and_counts_in_progress(client, classroom):
    client.force_login(classroom.student)
    first, second = classroom.lessons
    response = client.post(reverse("learners:lesson_complete", args=["algebra", first.pk]))
    assert response.url == reverse("learners:lesson", args=["algebra", second.pk])
    page = client.get(reverse("learners:course_detail", args=["algebra"])).content.decode()
    # one lesson of two and no exercise of two: a quarter of the course's items
    assert "Lessons complete: 1 of 2. Exercises solved: 0 of 2. 25.0% of the course done." in page


def test_authored_markdown_is_sanitised_and_math_kept_as_tex_outside_code():
    from learners.views import rich_text

    html = rich_text(
        "A $x^2$ and $$\\frac{a}{b}$$ <script>alert(1)</script> `$HOME $PATH`\n\n"
        "[x](javascript:alert(1))\n\n```\necho $A $B\n```"
    )
    assert '<span class="math">x^2</span>' in html
    assert '<span class="math display">\\frac{a}{b}</span>' in html
    assert "<code>$HOME $PATH</code>" in html
    assert "echo $A $B" in html
    assert "<script" not in html
    assert "javascript:" not in html


def test_a_malformed_lesson_event_body_is_refused(client, classroom):
    client.force_login(classroom.student)
    response = client.post(
        reverse("learners:lesson_event", args=[classroom.lessons[0].pk]),
        "{not json",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not LessonEvent.objects.exists()


# Exercises on the lesson page: the attempt policy, remembered work, math ----------------------


def _attempt(client, exercise, answer):
    return client.post(
        reverse("learners:attempt", args=[exercise.pk]), {"answer": answer}, HTTP_HX_REQUEST="true"
    )


def test_the_third_wrong_answer_shows_the_solution_and_a_fourth_is_409(client, classroom):
    client.force_login(classroom.student)
    wrong = classroom.single.choices.get(is_correct=False)

    pages = [_attempt(client, classroom.single, str(wrong.pk)) for _ in range(4)]

    assert [page.status_code for page in pages] == [200, 200, 200, 409]
    assert ["One half is 1/2." in page.content.decode() for page in pages[:3]] == [
        False,
        False,
        True,
    ]
    third = pages[2].content.decode()
    assert "Not quite. That was your last attempt." in third
    assert "You used all 3 attempts; the solution is shown." in third
    refused = pages[3].content.decode()
    assert "You have used all 3 attempts at this exercise" in refused
    assert "No attempts left." in refused  # the stored result, in the words of a revisit
    assert "Not quite" not in refused
    assert Attempt.objects.filter(user=classroom.student).count() == 3


def test_show_solution_is_recorded_and_ends_the_exercise(client, classroom):
    client.force_login(classroom.student)

    page = client.post(
        reverse("learners:solution", args=[classroom.single.pk]), HTTP_HX_REQUEST="true"
    )
    after = _attempt(client, classroom.single, str(classroom.single.choices.first().pk))

    assert page.status_code == 200
    assert "Here is the solution." in page.content.decode()
    assert "One half is 1/2." in page.content.decode()
    assert "HX-Trigger" in page.headers
    assert after.status_code == 409
    assert list(Attempt.objects.values_list("is_correct", "is_revealed")) == [(False, True)]


def test_a_solved_exercise_shows_as_solved_with_the_answer_on_revisit(client, classroom):
    client.force_login(classroom.student)
    wrong, right = (
        classroom.single.choices.get(is_correct=False),
        classroom.single.choices.get(is_correct=True),
    )
    _attempt(client, classroom.single, str(wrong.pk))
    _attempt(client, classroom.single, str(right.pk))
    client.post(reverse("learners:hint", args=[classroom.single.pk]))

    page = client.get(
        reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    ).content.decode()

    assert f'id="exercise-{classroom.single.pk}"' in page
    assert 'data-solved="true"' in page
    assert "You solved this exercise." in page
    assert "Solved on attempt 2 of 3." in page
    assert f'value="{right.pk}" checked' in page
    assert "Two equal parts." in page  # the hint revealed before stays shown
    assert "One half is 1/2." in page


def test_an_exercise_not_answered_yet_says_how_many_attempts_and_shows_no_solution(
    client, classroom
):
    client.force_login(classroom.student)

    page = client.get(
        reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    ).content.decode()

    assert "0 of 3 attempts used, 3 left." in page
    assert "One half is 1/2." not in page
    assert "Show solution" in page


def test_a_superscript_digit_is_no_choice_id_and_is_refused_with_a_message(client, classroom):
    # "²".isdigit() is true, but int("²") fails: it must read as an unknown choice
    client.force_login(classroom.student)

    response = _attempt(client, classroom.single, "²")

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Attempt.objects.exists()


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("9" * 5000, id="5000-digits"),
        pytest.param("4\x002", id="nul"),
        pytest.param("x" * 20_000, id="too-long"),
    ],
)
@pytest.mark.parametrize("exercise_name", ["single", "numeric"])
def test_a_malformed_web_answer_is_400_with_a_message(client, classroom, answer, exercise_name):
    client.force_login(classroom.student)
    exercise = getattr(classroom, exercise_name)

    response = _attempt(client, exercise, answer)

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Attempt.objects.exists()


def test_math_in_choices_feedback_and_hints_is_rendered_as_span_math(client, classroom):
    client.force_login(classroom.student)
    choice = classroom.single.choices.get(is_correct=False)
    choice.text, choice.feedback = "$(-2)^4$", "Not $-16$: the sign is squared."
    choice.save()
    hint = classroom.single.hints.get(position=1)
    hint.text = "Try $\\frac{1}{2}$."
    hint.save()

    page = client.get(
        reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    ).content.decode()
    result = _attempt(client, classroom.single, str(choice.pk)).content.decode()
    revealed = client.post(reverse("learners:hint", args=[classroom.single.pk])).content.decode()

    assert '<span class="math">(-2)^4</span>' in page
    assert "$(-2)^4$" not in page
    assert 'Not <span class="math">-16</span>: the sign is squared.' in result
    assert '<span class="math">\\frac{1}{2}</span>' in revealed


def test_the_learner_panel_container_is_there_only_when_the_adaptive_app_serves_it(
    client, classroom
):
    from django.urls import NoReverseMatch

    client.force_login(classroom.student)
    page = client.get(
        reverse("learners:lesson", args=["algebra", classroom.lessons[0].pk])
    ).content.decode()

    try:
        url = reverse("adaptive:learner-panel", args=["algebra"])
    except NoReverseMatch:
        assert 'id="learner-panel"' not in page
    else:
        assert f'hx-get="{url}"' in page
        assert 'hx-trigger="load"' in page


def test_a_numeric_answer_is_remembered_as_written_without_a_trailing_zero(client, classroom):
    client.force_login(classroom.student)
    _attempt(client, classroom.numeric, "41")

    page = client.get(
        reverse("learners:lesson", args=["algebra", classroom.lessons[1].pk])
    ).content.decode()

    assert f'id="answer-{classroom.numeric.pk}" name="answer"' in page
    assert 'value="41"' in page
    assert '<span class="answer-text">41</span>' in page
    assert "1 of 3 attempts used, 2 left." in page
    assert "Your last answer was not right." in page
    assert "6 x 7 = 42." not in page
